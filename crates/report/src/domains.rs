//! Figures per recipient domain: how many recipients were delivered, deferred, bounced and
//! expired, how many attempts they took and how long delivery took, kept in counters and one
//! latency histogram per domain (so their size depends on the number of domains only).

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use smtpsim_model::sim::{Fate, RecipientRecord};

use crate::ReportError;
use crate::bucket_counts::BucketCounts;
use crate::stats::{Exact, new_histogram};
use crate::summary::{Distribution, encode_histogram};

/// The running totals of one domain.
#[derive(Debug, Clone, Default)]
pub struct DomainStats {
    recipients: u64,
    delivered: u64,
    deferred: u64,
    bounced: u64,
    expired: u64,
    tried: u64,
    attempt_sum: u64,
    latency: BucketCounts,
    latency_exact: Exact,
}

impl DomainStats {
    /// Counts one recipient of this domain.
    pub fn record(&mut self, record: &RecipientRecord<'_>) {
        self.recipients += 1;
        match record.fate {
            Fate::Inbox | Fate::Spam => {
                self.delivered += 1;
                let micros = record.latency().as_micros();
                self.latency.record(micros);
                self.latency_exact.record(micros);
            }
            Fate::Bounced => self.bounced += 1,
            Fate::Expired => self.expired += 1,
            Fate::RejectedAtSubmission => {}
        }
        if record.attempts > 1 {
            self.deferred += 1;
        }
        if record.attempts > 0 {
            self.tried += 1;
            self.attempt_sum += u64::from(record.attempts);
        }
    }

    /// Adds everything `other` counted, exactly.
    pub fn merge(&mut self, other: &DomainStats) {
        self.recipients += other.recipients;
        self.delivered += other.delivered;
        self.deferred += other.deferred;
        self.bounced += other.bounced;
        self.expired += other.expired;
        self.tried += other.tried;
        self.attempt_sum += other.attempt_sum;
        self.latency.merge(&other.latency);
        self.latency_exact.merge(&other.latency_exact);
    }

    /// The figures of this domain.
    pub fn figures(&self) -> Result<DomainFigures, ReportError> {
        let latency = Distribution::of(&self.latency.to_histogram(), &self.latency_exact)?;
        Ok(DomainFigures {
            recipients: self.recipients,
            delivered: self.delivered,
            deferred: self.deferred,
            bounced: self.bounced,
            expired: self.expired,
            mean_attempts: if self.tried == 0 {
                0.0
            } else {
                self.attempt_sum as f64 / self.tried as f64
            },
            latency_count: latency.count,
            latency_mean_s: latency.mean_s,
            latency_p50_s: latency.p50_s,
            latency_p90_s: latency.p90_s,
            latency_p99_s: latency.p99_s,
            latency_max_s: latency.max_s,
        })
    }
}

/// One domain's figures in a run.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct DomainFigures {
    /// Recipients of the domain.
    pub recipients: u64,
    /// Delivered (inbox or spam).
    pub delivered: u64,
    /// Deferred at least once: tried more than once, whatever the end.
    pub deferred: u64,
    /// Bounced.
    pub bounced: u64,
    /// Expired.
    pub expired: u64,
    /// Delivery attempts per recipient the relay tried.
    pub mean_attempts: f64,
    /// Delivered recipients with a latency.
    pub latency_count: u64,
    /// Their mean latency, seconds (exact to the microsecond).
    pub latency_mean_s: Option<f64>,
    /// Median latency, seconds.
    pub latency_p50_s: Option<f64>,
    /// 90th percentile, seconds.
    pub latency_p90_s: Option<f64>,
    /// 99th percentile, seconds.
    pub latency_p99_s: Option<f64>,
    /// Largest latency, seconds (exact).
    pub latency_max_s: Option<f64>,
}

impl DomainFigures {
    /// The figure names, as the `metric` of tidy rows.
    pub const NAMES: [&'static str; 12] = [
        "recipients",
        "delivered",
        "deferred",
        "bounced",
        "expired",
        "mean_attempts",
        "latency_count",
        "latency_mean_s",
        "latency_p50_s",
        "latency_p90_s",
        "latency_p99_s",
        "latency_max_s",
    ];

    /// The values in the order of [`DomainFigures::NAMES`] (none: no delivered recipient).
    pub fn values(&self) -> [Option<f64>; 12] {
        [
            Some(self.recipients as f64),
            Some(self.delivered as f64),
            Some(self.deferred as f64),
            Some(self.bounced as f64),
            Some(self.expired as f64),
            Some(self.mean_attempts),
            Some(self.latency_count as f64),
            self.latency_mean_s,
            self.latency_p50_s,
            self.latency_p90_s,
            self.latency_p99_s,
            self.latency_max_s,
        ]
    }
}

/// Per-domain totals of a run, by domain name (found by hash, as a recipient's domain is
/// looked up for every recipient; [`ByDomain::figures`] gives them in name order).
#[derive(Debug, Clone, Default)]
pub struct ByDomain {
    /// Each domain's name and totals, in the order of their first recipients.
    domains: Vec<(String, DomainStats)>,
    /// Where each domain is in `domains`.
    index: FxHashMap<String, usize>,
    /// Where the domain of the last recipient recorded is. Consecutive recipients often share
    /// a domain (a run with one destination, the recipients of one message), and comparing
    /// one name costs less than hashing it.
    last: usize,
}

impl ByDomain {
    /// Counts one recipient under its domain.
    pub fn record(&mut self, record: &RecipientRecord<'_>) {
        let at = match self.domains.get(self.last) {
            Some((name, _)) if name == record.domain => self.last,
            _ => self.place_of(record.domain),
        };
        self.last = at;
        self.domains[at].1.record(record);
    }

    /// Where `domain` is in `domains`, added with nothing counted if it is new.
    fn place_of(&mut self, domain: &str) -> usize {
        if let Some(&at) = self.index.get(domain) {
            return at;
        }
        let at = self.domains.len();
        self.domains
            .push((domain.to_owned(), DomainStats::default()));
        self.index.insert(domain.to_owned(), at);
        at
    }

    /// Adds everything `other` counted.
    pub fn merge(&mut self, other: &ByDomain) {
        for (name, d) in &other.domains {
            let at = self.place_of(name);
            self.domains[at].1.merge(d);
        }
    }

    /// The figures of every domain, by name.
    pub fn figures(&self) -> Result<BTreeMap<String, DomainFigures>, ReportError> {
        self.domains
            .iter()
            .map(|(name, d)| Ok((name.clone(), d.figures()?)))
            .collect()
    }

    /// The latency histogram of every domain added up: that of all delivered recipients.
    pub fn latency(&self) -> Histogram<u64> {
        let mut all = new_histogram();
        for (_, d) in &self.domains {
            d.latency.add_to(&mut all);
        }
        all
    }

    /// The exact latency figures of every domain added up: those of all delivered recipients.
    pub fn latency_exact(&self) -> Exact {
        let mut all = Exact::default();
        for (_, d) in &self.domains {
            all.merge(&d.latency_exact);
        }
        all
    }

    /// The latency histogram of every domain with a delivered recipient, encoded (see
    /// [`encode_histogram`]), by name.
    pub fn latency_histograms(&self) -> Result<BTreeMap<String, String>, ReportError> {
        self.domains
            .iter()
            .filter(|(_, d)| d.delivered > 0)
            .map(|(name, d)| Ok((name.clone(), encode_histogram(&d.latency.to_histogram())?)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smtpsim_des::{SimDuration, SimTime};

    fn record(domain: &str, fate: Fate, attempts: u32, secs: u64) -> RecipientRecord<'_> {
        RecipientRecord {
            message_id: 1,
            sender: "app",
            recipient: "a@x",
            domain,
            submitted: SimTime::ZERO,
            first_attempt: (attempts > 0).then_some(SimTime::ZERO),
            finished: SimTime::ZERO + SimDuration::from_secs(secs),
            fate,
            attempts,
            queue_wait: SimDuration::ZERO,
            last_reply: None,
            reasons: "",
        }
    }

    #[test]
    fn alternating_domains_are_each_counted_under_their_own() {
        let mut by = ByDomain::default();
        let names = [
            "a.example",
            "b.example",
            "a.example",
            "a.example",
            "c.example",
            "b.example",
        ];
        for name in names {
            by.record(&record(name, Fate::Inbox, 1, 1));
        }
        let f = by.figures().unwrap();
        let counts: Vec<(&str, u64)> = f.iter().map(|(n, d)| (n.as_str(), d.recipients)).collect();
        assert_eq!(
            counts,
            [("a.example", 3), ("b.example", 2), ("c.example", 1)]
        );
    }

    #[test]
    fn counts_per_domain_add_up_and_merge() {
        let mut a = ByDomain::default();
        a.record(&record("grey.example", Fate::Inbox, 2, 240));
        a.record(&record("grey.example", Fate::Inbox, 1, 0));
        a.record(&record("plain.example", Fate::Bounced, 1, 5));
        let mut b = ByDomain::default();
        b.record(&record("grey.example", Fate::Expired, 4, 900));
        a.merge(&b);
        let f = a.figures().unwrap();
        let grey = &f["grey.example"];
        assert_eq!(
            (grey.recipients, grey.delivered, grey.deferred, grey.expired),
            (3, 2, 2, 1)
        );
        assert!((grey.mean_attempts - 7.0 / 3.0).abs() < 1e-12);
        assert_eq!(grey.latency_count, 2);
        assert_eq!(grey.latency_mean_s, Some(120.0));
        assert_eq!(grey.latency_max_s, Some(240.0));
        let plain = &f["plain.example"];
        assert_eq!((plain.bounced, plain.latency_mean_s), (1, None));
        // A histogram for each domain with a delivery, holding its deliveries.
        let histograms = a.latency_histograms().unwrap();
        assert_eq!(histograms.keys().collect::<Vec<_>>(), ["grey.example"]);
        let grey = crate::decode_histogram(&histograms["grey.example"]).unwrap();
        assert_eq!(grey.len(), 2);
    }
}
