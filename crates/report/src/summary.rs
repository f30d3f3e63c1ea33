//! The summary of a run, as `summary.json` and `summary.csv`.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use serde::{Deserialize, Serialize};

use crate::ReportError;
use crate::domains::DomainFigures;
use crate::provenance::Provenance;
use crate::stats::{Exact, RuleCounts};

/// Header of `summary.csv`.
pub const SUMMARY_HEADER: [&str; 3] = ["section", "key", "value"];

/// Everything a run reports in aggregate. Serializes to the layout of `summary.json`.
///
/// All fields but [`Summary::performance`] depend only on the simulation's inputs; times are
/// seconds of simulated time (whole microseconds), rates are fractions of all recipients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Where the run came from, when the command gave it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
    /// Totals of the run.
    pub run: RunTotals,
    /// Recipients per outcome.
    pub outcomes: Outcomes,
    /// Outcomes as fractions of all recipients.
    pub rates: Rates,
    /// Undelivered recipients (bounced, expired, rejected at submission) by reason.
    pub failures: Failures,
    /// Recipients by number of delivery attempts (keys are attempt counts).
    pub attempts: BTreeMap<u32, u64>,
    /// Submission to mailbox of delivered recipients.
    pub latency: Distribution,
    /// Submission to giving up of bounced and expired recipients.
    pub failure_latency: Distribution,
    /// Time waiting for a free connection, of recipients the relay tried to deliver.
    pub queue_wait: Distribution,
    /// What each automation rule did (`[[relay.automation]]`), by rule name; rules that
    /// never fired are not listed. Absent from the files when empty.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub automation: BTreeMap<String, RuleCounts>,
    /// Per source address of the relay's pool, in the pool's order; empty (and not written)
    /// when the relay has no pool.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<SourceSummary>,
    /// The figures of each recipient domain, by name.
    pub domains: BTreeMap<String, DomainFigures>,
    /// The latency histogram of each recipient domain with a delivered recipient, by name,
    /// encoded as [`Distribution::histogram`] is; the report draws each domain's latency from
    /// it. In `summary.json` only (absent when no recipient was delivered), not in
    /// `summary.csv`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub domain_latency: BTreeMap<String, String>,
    /// When the relay's retry policy retries a message that keeps failing, in seconds after
    /// its first failure (modelled: attempts take no time, random draws at their midpoint);
    /// the latency chart marks them. Empty (and left out of `summary.json`) when not given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retry_times_s: Vec<f64>,
    /// Wall-clock figures: the only values that differ between identical runs. Written to
    /// `summary.json` only, never to `summary.csv`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub performance: Option<Performance>,
}

/// What one source address achieved: attempts made from it, recipients delivered, deferred
/// (per attempt) and bounced, and attempts a rate limit or daily limit refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceSummary {
    /// The address.
    pub ip: String,
    /// Attempts made from it.
    pub attempts: u64,
    /// Recipients delivered.
    pub deliveries: u64,
    /// Recipients deferred, once per attempt.
    pub deferrals: u64,
    /// Recipients refused for good.
    pub bounces: u64,
    /// Attempts refused by a rate limit or a reputation's daily limit.
    pub throttled: u64,
}

impl SourceSummary {
    /// The summary of a source's record.
    pub fn of(r: &smtpsim_model::sim::SourceRecord) -> SourceSummary {
        SourceSummary {
            ip: r.ip.to_string(),
            attempts: r.attempts,
            deliveries: r.deliveries,
            deferrals: r.deferrals,
            bounces: r.bounces,
            throttled: r.throttled,
        }
    }
}

/// Totals of a run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RunTotals {
    /// Messages generated.
    pub messages: u64,
    /// Recipients recorded.
    pub recipients: u64,
    /// Delivery attempts made.
    pub attempts: u64,
    /// Bounce notices the relay sent back to senders.
    pub bounce_notices: u64,
    /// The most deliveries queued at once (active and deferred).
    pub peak_queue_depth: u64,
    /// Events the kernel processed.
    pub events: u64,
    /// Simulated time of the last event, in seconds.
    pub end_s: f64,
}

/// Recipients per outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Outcomes {
    /// Delivered to the inbox.
    pub inbox: u64,
    /// Delivered to the spam folder.
    pub spam: u64,
    /// Refused for good or undeliverable.
    pub bounced: u64,
    /// Still deferred when the queue lifetime ran out.
    pub expired: u64,
    /// Refused by the relay at submission.
    pub rejected_at_submission: u64,
}

impl Outcomes {
    /// All recipients.
    pub fn total(&self) -> u64 {
        self.inbox + self.spam + self.bounced + self.expired + self.rejected_at_submission
    }
}

/// Outcomes as fractions of all recipients (0 when there are none). `inbox + spam +
/// bounced + expired + rejected_at_submission` is 1; `delivered` is `inbox + spam`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Rates {
    /// Reached a mailbox (inbox or spam).
    pub delivered: f64,
    /// Reached the inbox.
    pub inbox: f64,
    /// Reached the spam folder.
    pub spam: f64,
    /// Bounced.
    pub bounced: f64,
    /// Expired.
    pub expired: f64,
    /// Rejected at submission.
    pub rejected_at_submission: f64,
}

impl Rates {
    /// The rates of `outcomes`.
    pub fn of(outcomes: &Outcomes) -> Rates {
        let total = outcomes.total();
        let rate = |n: u64| {
            if total == 0 {
                0.0
            } else {
                n as f64 / total as f64
            }
        };
        Rates {
            delivered: rate(outcomes.inbox + outcomes.spam),
            inbox: rate(outcomes.inbox),
            spam: rate(outcomes.spam),
            bounced: rate(outcomes.bounced),
            expired: rate(outcomes.expired),
            rejected_at_submission: rate(outcomes.rejected_at_submission),
        }
    }
}

/// Undelivered recipients grouped two ways.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Failures {
    /// By fate and last reply: `bounced 550 5.1.1`, `expired 451 4.7.1`, `bounced` (no reply).
    /// Ordered by fate, then code (see [`FailureReason`](crate::FailureReason)).
    #[serde(serialize_with = "ordered_pairs", deserialize_with = "pairs_in_order")]
    pub by_reason: Vec<(String, u64)>,
    /// By the code of the last reply; `none` when no reply decided. Ordered by code.
    #[serde(serialize_with = "ordered_pairs", deserialize_with = "pairs_in_order")]
    pub by_reply_code: Vec<(String, u64)>,
}

/// Serializes pairs as a map, in their order.
fn ordered_pairs<S: serde::Serializer>(pairs: &[(String, u64)], s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(pairs.iter().map(|(k, v)| (k, v)))
}

/// Reads a map written by [`ordered_pairs`] back into pairs, in the file's order.
fn pairs_in_order<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<(String, u64)>, D::Error> {
    struct Pairs;
    impl<'de> serde::de::Visitor<'de> for Pairs {
        type Value = Vec<(String, u64)>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a map of counts")
        }

        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut pairs = Vec::new();
            while let Some(pair) = map.next_entry()? {
                pairs.push(pair);
            }
            Ok(pairs)
        }
    }
    d.deserialize_map(Pairs)
}

/// A set of times: the exact count, minimum, mean and maximum, HdrHistogram's percentiles,
/// in seconds, and the histogram itself.
///
/// With no values every figure but the count is empty (`null` in JSON, an empty value in CSV).
/// Percentiles are HdrHistogram's (the highest value equivalent to the one at that quantile,
/// within 0.1% of the exact value), kept within the exact minimum and maximum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Distribution {
    /// Values recorded.
    pub count: u64,
    /// Smallest, exact.
    pub min_s: Option<f64>,
    /// Mean, exact to the microsecond.
    pub mean_s: Option<f64>,
    /// Median.
    pub p50_s: Option<f64>,
    /// 90th percentile.
    pub p90_s: Option<f64>,
    /// 99th percentile.
    pub p99_s: Option<f64>,
    /// 99.9th percentile.
    pub p99_9_s: Option<f64>,
    /// Largest, exact.
    pub max_s: Option<f64>,
    /// The exact figures in microseconds (count, smallest, largest, sum), so that
    /// distributions can be merged exactly.
    pub exact: Exact,
    /// The histogram (microseconds) in HdrHistogram's V2 serialization, base64 (standard
    /// alphabet, padded); [`decode_histogram`] reads it back.
    pub histogram: String,
}

fn micros_to_secs(micros: u64) -> f64 {
    micros as f64 / 1e6
}

impl Distribution {
    /// The figures of values in microseconds: the percentiles of `histogram`, the count,
    /// extremes and mean of `exact`, and the encoding of `histogram`.
    pub fn of(histogram: &Histogram<u64>, exact: &Exact) -> Result<Distribution, ReportError> {
        let some = exact.count > 0;
        let q = |quantile: f64| {
            let value = histogram.value_at_quantile(quantile);
            some.then(|| micros_to_secs(value.clamp(exact.min_us, exact.max_us)))
        };
        Ok(Distribution {
            count: exact.count,
            min_s: some.then(|| micros_to_secs(exact.min_us)),
            mean_s: exact.mean_us().map(micros_to_secs),
            p50_s: q(0.5),
            p90_s: q(0.9),
            p99_s: q(0.99),
            p99_9_s: q(0.999),
            max_s: some.then(|| micros_to_secs(exact.max_us)),
            exact: *exact,
            histogram: encode_histogram(histogram)?,
        })
    }

    /// The histogram, decoded from [`Distribution::histogram`].
    pub fn decode(&self) -> Result<Histogram<u64>, ReportError> {
        decode_histogram(&self.histogram)
    }

    fn rows(&self) -> [(&'static str, Option<f64>); 7] {
        [
            ("min_s", self.min_s),
            ("mean_s", self.mean_s),
            ("p50_s", self.p50_s),
            ("p90_s", self.p90_s),
            ("p99_s", self.p99_s),
            ("p99_9_s", self.p99_9_s),
            ("max_s", self.max_s),
        ]
    }
}

/// A histogram in HdrHistogram's V2 serialization (uncompressed), base64.
pub fn encode_histogram(histogram: &Histogram<u64>) -> Result<String, ReportError> {
    let mut bytes = Vec::new();
    V2Serializer::new()
        .serialize(histogram, &mut bytes)
        .map_err(|e| ReportError::Histogram(format!("cannot serialize: {e}")))?;
    Ok(STANDARD.encode(bytes))
}

/// Reads back a histogram written by [`encode_histogram`] (or any V2 / V2-deflate encoding).
pub fn decode_histogram(text: &str) -> Result<Histogram<u64>, ReportError> {
    let bytes = STANDARD
        .decode(text)
        .map_err(|e| ReportError::Histogram(format!("invalid base64: {e}")))?;
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| ReportError::Histogram(format!("cannot deserialize: {e:?}")))
}

/// Wall-clock figures of a run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Performance {
    /// Wall time of the run, in seconds.
    pub wall_s: f64,
    /// Events processed per wall-clock second (0 if no time passed).
    pub events_per_sec: f64,
}

impl Performance {
    /// The figures of `events` processed in `wall`.
    pub fn new(events: u64, wall: Duration) -> Performance {
        let wall_s = wall.as_secs_f64();
        Performance {
            wall_s,
            events_per_sec: if wall_s > 0.0 {
                events as f64 / wall_s
            } else {
                0.0
            },
        }
    }
}

/// Fixed six decimals, for seconds and rates.
fn fixed(value: f64) -> String {
    format!("{value:.6}")
}

impl Summary {
    /// Reads `summary.json` back (the [`Summary::to_json`] layout); an error names what is
    /// missing or malformed.
    pub fn from_json(text: &str) -> Result<Summary, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// `summary.json`: pretty-printed, ending with a newline.
    pub fn to_json(&self) -> Result<String, ReportError> {
        let mut text = serde_json::to_string_pretty(self).map_err(ReportError::Json)?;
        text.push('\n');
        Ok(text)
    }

    /// The rows of `summary.csv` after its header: `(section, key, value)`. Seconds and rates
    /// have six decimals. Histogram encodings and [`Summary::performance`] are not included.
    pub fn csv_rows(&self) -> Vec<(&'static str, String, String)> {
        let mut rows = Vec::new();
        let mut row = |section: &'static str, key: &str, value: String| {
            rows.push((section, key.to_owned(), value));
        };
        if let Some(p) = &self.provenance {
            for (key, value) in p.rows() {
                row("provenance", key, value);
            }
        }
        let run = &self.run;
        row("run", "messages", run.messages.to_string());
        row("run", "recipients", run.recipients.to_string());
        row("run", "attempts", run.attempts.to_string());
        row("run", "bounce_notices", run.bounce_notices.to_string());
        row("run", "peak_queue_depth", run.peak_queue_depth.to_string());
        row("run", "events", run.events.to_string());
        row("run", "end_s", fixed(run.end_s));
        let o = &self.outcomes;
        for (key, n) in [
            ("inbox", o.inbox),
            ("spam", o.spam),
            ("bounced", o.bounced),
            ("expired", o.expired),
            ("rejected_at_submission", o.rejected_at_submission),
        ] {
            row("outcome", key, n.to_string());
        }
        let r = &self.rates;
        for (key, rate) in [
            ("delivered", r.delivered),
            ("inbox", r.inbox),
            ("spam", r.spam),
            ("bounced", r.bounced),
            ("expired", r.expired),
            ("rejected_at_submission", r.rejected_at_submission),
        ] {
            row("rate", key, fixed(rate));
        }
        for (key, n) in &self.failures.by_reason {
            row("failure_reason", key, n.to_string());
        }
        for (key, n) in &self.failures.by_reply_code {
            row("failure_reply_code", key, n.to_string());
        }
        for (attempts, n) in &self.attempts {
            row("attempts", &attempts.to_string(), n.to_string());
        }
        for (rule, counts) in &self.automation {
            row(
                "automation",
                &format!("{rule}.fired"),
                counts.fired.to_string(),
            );
            row(
                "automation",
                &format!("{rule}.suspensions"),
                counts.suspensions.to_string(),
            );
            row(
                "automation",
                &format!("{rule}.released"),
                counts.released.to_string(),
            );
            if counts.shapes > 0 {
                row(
                    "automation",
                    &format!("{rule}.shapes"),
                    counts.shapes.to_string(),
                );
                row(
                    "automation",
                    &format!("{rule}.ramp_steps"),
                    counts.ramp_steps.to_string(),
                );
            }
        }
        for (section, d) in [
            ("latency", &self.latency),
            ("failure_latency", &self.failure_latency),
            ("queue_wait", &self.queue_wait),
        ] {
            row(section, "count", d.count.to_string());
            for (key, secs) in d.rows() {
                row(section, key, secs.map(fixed).unwrap_or_default());
            }
        }
        for s in &self.sources {
            for (name, n) in [
                ("attempts", s.attempts),
                ("deliveries", s.deliveries),
                ("deferrals", s.deferrals),
                ("bounces", s.bounces),
                ("throttled", s.throttled),
            ] {
                row("source", &format!("{} {name}", s.ip), n.to_string());
            }
        }
        // `domain` rows: the key is `<domain>:<figure>`.
        for (name, figures) in &self.domains {
            for (figure, value) in DomainFigures::NAMES.iter().zip(figures.values()) {
                let value = if figure.ends_with("_s") || *figure == "mean_attempts" {
                    value.map(fixed).unwrap_or_default()
                } else {
                    value.map_or_else(String::new, |v| (v as u64).to_string())
                };
                row("domain", &format!("{name}:{figure}"), value);
            }
        }
        rows
    }

    /// Writes `summary.csv` (header and [`Summary::csv_rows`]) to `out`.
    pub fn write_csv<W: Write>(&self, out: W) -> Result<(), csv::Error> {
        let mut csv = csv::Writer::from_writer(out);
        csv.write_record(SUMMARY_HEADER)?;
        for (section, key, value) in self.csv_rows() {
            csv.write_record([section, &key, &value])?;
        }
        csv.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_round_trip() {
        let mut h = crate::new_histogram();
        for v in [0u64, 1, 999, 1_000_000, 86_400_000_000] {
            h.record(v).unwrap();
        }
        let back = decode_histogram(&encode_histogram(&h).unwrap()).unwrap();
        assert_eq!(back, h);
        assert!(decode_histogram("not base64!").is_err());
        assert!(decode_histogram("AAAA").is_err());
    }

    #[test]
    fn empty_distribution_is_empty() {
        let d = Distribution::of(&crate::new_histogram(), &Exact::default()).unwrap();
        assert_eq!(d.count, 0);
        assert_eq!(d.rows().map(|(_, v)| v), [None; 7]);
        assert_eq!(d.decode().unwrap().len(), 0);
        let json = serde_json::to_value(&d).unwrap();
        assert!(json["p50_s"].is_null() && json["max_s"].is_null());
    }

    #[test]
    fn rates_sum_to_one() {
        let o = Outcomes {
            inbox: 6,
            spam: 1,
            bounced: 1,
            expired: 1,
            rejected_at_submission: 1,
        };
        let r = Rates::of(&o);
        assert_eq!(r.delivered, 0.7);
        let sum = r.inbox + r.spam + r.bounced + r.expired + r.rejected_at_submission;
        assert!((sum - 1.0).abs() < 1e-12);
        assert_eq!(Rates::of(&Outcomes::default()), Rates::default());
    }

    #[test]
    fn performance_guards_zero_wall_time() {
        assert_eq!(Performance::new(10, Duration::ZERO).events_per_sec, 0.0);
        assert_eq!(
            Performance::new(10, Duration::from_secs(2)).events_per_sec,
            5.0
        );
    }

    #[test]
    fn fixed_decimals() {
        assert_eq!(fixed(12.345678), "12.345678");
        assert_eq!(fixed(0.5), "0.500000");
        assert_eq!(fixed(1.0 / 3.0), "0.333333");
    }
}
