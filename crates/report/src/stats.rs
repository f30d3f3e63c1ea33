//! Aggregates of a run kept in counters and histograms only, so their size does not depend on
//! how many recipients were recorded.

use std::collections::BTreeMap;
use std::fmt;

use hdrhistogram::Histogram;
use smtpsim_model::sim::{
    AutomationRecord, Fate, RecipientRecord, Recorder, RunStats, SourceRecord,
};
use smtpsim_proto::{EnhancedCode, ReplyCode};

use crate::ReportError;
use crate::bucket_counts::BucketCounts;
use crate::domains::ByDomain;
use crate::summary::{Distribution, Failures, Outcomes, Rates, RunTotals, SourceSummary, Summary};

/// Significant decimal digits kept by the latency histograms (relative error under 0.1%).
pub const SIGNIFICANT_DIGITS: u8 = 3;

/// A new empty histogram of microseconds: [`SIGNIFICANT_DIGITS`], growing as needed.
pub fn new_histogram() -> Histogram<u64> {
    // 3 significant digits is always a valid precision, so creation cannot fail; `new` also
    // turns auto-resizing on.
    Histogram::new(SIGNIFICANT_DIGITS).expect("3 significant digits is a valid precision")
}

/// Adds the counts of `from` to `into`, bucket by bucket.
///
/// Unlike `Histogram::add`, which sizes `into` differently from recording the same values,
/// this records each bucket's count, so merging the histograms of parts gives the same
/// histogram (and the same encoding) as recording all the values in one.
pub fn merge_histogram(into: &mut Histogram<u64>, from: &Histogram<u64>) {
    for bucket in from.iter_recorded() {
        let (value, count) = (bucket.value_iterated_to(), bucket.count_at_value());
        if into.record_n(value, count).is_err() {
            into.saturating_record_n(value, count);
        }
    }
}

/// The exact count, smallest, largest and sum of a set of values (microseconds), kept beside
/// their histogram: the histogram's own minimum and maximum are bucket bounds (within 0.1%).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Exact {
    /// Values recorded.
    pub count: u64,
    /// The smallest (0 with no values).
    pub min_us: u64,
    /// The largest (0 with no values).
    pub max_us: u64,
    /// Their sum.
    pub sum_us: u128,
}

impl Exact {
    /// Counts `micros`.
    pub fn record(&mut self, micros: u64) {
        self.min_us = if self.count == 0 {
            micros
        } else {
            self.min_us.min(micros)
        };
        self.max_us = self.max_us.max(micros);
        self.sum_us += u128::from(micros);
        self.count += 1;
    }

    /// Adds everything `other` counted.
    pub fn merge(&mut self, other: &Exact) {
        if other.count == 0 {
            return;
        }
        self.min_us = if self.count == 0 {
            other.min_us
        } else {
            self.min_us.min(other.min_us)
        };
        self.max_us = self.max_us.max(other.max_us);
        self.sum_us += other.sum_us;
        self.count += other.count;
    }

    /// The mean, rounded to the microsecond; none with no values.
    pub fn mean_us(&self) -> Option<u64> {
        let count = u128::from(self.count);
        (count > 0).then(|| ((self.sum_us + count / 2) / count) as u64)
    }
}

/// Why a recipient was not delivered: its fate and the last reply that decided it.
///
/// Orders by fate (bounced, expired, rejected at submission), then reply code, then enhanced
/// code; prints as `bounced 550 5.1.1`, `expired 451` or `bounced` (no reply, for example an
/// undeliverable domain).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FailureReason {
    /// How it ended.
    pub fate: Fate,
    /// The code of the last reply, if a reply decided.
    pub code: Option<ReplyCode>,
    /// The enhanced status code of the last reply, if it had one.
    pub enhanced: Option<EnhancedCode>,
}

impl FailureReason {
    /// The reason of a recipient record.
    pub fn of(record: &RecipientRecord<'_>) -> FailureReason {
        FailureReason {
            fate: record.fate,
            code: record.last_reply.map(|r| r.code),
            enhanced: record.last_reply.and_then(|r| r.enhanced),
        }
    }
}

impl fmt::Display for FailureReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.fate.name())?;
        if let Some(code) = self.code {
            write!(f, " {code}")?;
        }
        if let Some(enhanced) = self.enhanced {
            write!(f, " {enhanced}")?;
        }
        Ok(())
    }
}

/// Running totals of recipient records: counts per outcome, failures by reason and reply
/// code, the distribution of attempts, and histograms (microseconds) of latency and queue wait.
///
/// Usable without files: feed it records with [`Stats::record`] (or hand it to the simulation
/// as its [`Recorder`]), combine runs with
/// [`Stats::merge`], and turn it into a [`Summary`] with [`Stats::summary`].
///
/// - `latency`: submission to mailbox, for delivered recipients (inbox or spam), merged from
///   the per-domain histograms (see [`Stats::latency`]);
/// - `failure_latency`: submission to giving up, for bounced and expired recipients;
/// - `queue_wait`: time waiting for a free connection, for recipients the relay tried to
///   deliver (those with a first attempt).
///
/// Values are counted in HdrHistogram's buckets as they come (see `BucketCounts`); the
/// accessors and the summary make histograms of them.
#[derive(Debug, Clone)]
pub struct Stats {
    outcomes: [u64; Fate::ALL.len()],
    attempts: AttemptCounts,
    by_reason: BTreeMap<FailureReason, u64>,
    by_reply_code: BTreeMap<Option<ReplyCode>, u64>,
    failure_latency: BucketCounts,
    queue_wait: BucketCounts,
    exact: [Exact; 2],
    automation: BTreeMap<String, RuleCounts>,
    /// Per source address of the relay's pool, in the pool's order.
    sources: Vec<SourceRecord>,
    domains: ByDomain,
}

/// The figures kept with a histogram, by place in [`Stats::exact`].
const FAILURE_LATENCY: usize = 0;
const QUEUE_WAIT: usize = 1;

impl Default for Stats {
    fn default() -> Self {
        Stats::new()
    }
}

fn fate_index(fate: Fate) -> usize {
    match fate {
        Fate::Inbox => 0,
        Fate::Spam => 1,
        Fate::Bounced => 2,
        Fate::Expired => 3,
        Fate::RejectedAtSubmission => 4,
    }
}

impl Stats {
    /// Nothing recorded yet.
    pub fn new() -> Stats {
        Stats {
            outcomes: [0; Fate::ALL.len()],
            attempts: AttemptCounts::default(),
            by_reason: BTreeMap::new(),
            by_reply_code: BTreeMap::new(),
            failure_latency: BucketCounts::default(),
            queue_wait: BucketCounts::default(),
            exact: [Exact::default(); 2],
            automation: BTreeMap::new(),
            sources: Vec::new(),
            domains: ByDomain::default(),
        }
    }

    /// Adds what each source address of the pool achieved, to the address's counts.
    pub fn record_sources(&mut self, records: &[SourceRecord]) {
        for record in records {
            match self.sources.iter_mut().find(|s| s.ip == record.ip) {
                Some(mine) => {
                    mine.attempts += record.attempts;
                    mine.deliveries += record.deliveries;
                    mine.deferrals += record.deferrals;
                    mine.bounces += record.bounces;
                    mine.throttled += record.throttled;
                }
                None => self.sources.push(*record),
            }
        }
    }

    /// Counts what an automation rule did.
    pub fn automation(&mut self, record: &AutomationRecord<'_>) {
        let counts = match self.automation.get_mut(record.rule) {
            Some(counts) => counts,
            None => self.automation.entry(record.rule.to_owned()).or_default(),
        };
        // Named where automation.csv is written, so that the two agree.
        let (event, until, deliveries) = crate::writer::automation_event(&record.event);
        if until.is_some() {
            counts.fired += 1;
        }
        match event {
            "suspend" => counts.suspensions += 1,
            "shape" => counts.shapes += 1,
            "ramp_step" => counts.ramp_steps += 1,
            _ => {}
        }
        counts.released += deliveries.unwrap_or(0);
    }

    /// What each automation rule did, by rule name.
    pub fn automation_counts(&self) -> &BTreeMap<String, RuleCounts> {
        &self.automation
    }

    /// Counts one recipient. The latency of a delivered one goes to its domain's figures
    /// only: [`Stats::latency`] adds those up.
    pub fn record(&mut self, record: &RecipientRecord<'_>) {
        self.outcomes[fate_index(record.fate)] += 1;
        self.domains.record(record);
        self.attempts.add(record.attempts, 1);
        if !record.fate.delivered() {
            let reason = FailureReason::of(record);
            *self.by_reason.entry(reason).or_insert(0) += 1;
            *self.by_reply_code.entry(reason.code).or_insert(0) += 1;
            if matches!(record.fate, Fate::Bounced | Fate::Expired) {
                let latency = record.latency().as_micros();
                self.failure_latency.record(latency);
                self.exact[FAILURE_LATENCY].record(latency);
            }
        }
        if record.first_attempt.is_some() {
            let wait = record.queue_wait.as_micros();
            self.queue_wait.record(wait);
            self.exact[QUEUE_WAIT].record(wait);
        }
    }

    /// Adds everything `other` recorded, exactly (see [`merge_histogram`]).
    pub fn merge(&mut self, other: &Stats) {
        self.record_sources(&other.sources);
        for (mine, theirs) in self.outcomes.iter_mut().zip(other.outcomes) {
            *mine += theirs;
        }
        self.attempts.merge(&other.attempts);
        for (&k, &v) in &other.by_reason {
            *self.by_reason.entry(k).or_insert(0) += v;
        }
        for (&k, &v) in &other.by_reply_code {
            *self.by_reply_code.entry(k).or_insert(0) += v;
        }
        self.failure_latency.merge(&other.failure_latency);
        self.queue_wait.merge(&other.queue_wait);
        for (mine, theirs) in self.exact.iter_mut().zip(&other.exact) {
            mine.merge(theirs);
        }
        for (rule, theirs) in &other.automation {
            let mine = self.automation.entry(rule.clone()).or_default();
            mine.fired += theirs.fired;
            mine.suspensions += theirs.suspensions;
            mine.released += theirs.released;
            mine.shapes += theirs.shapes;
            mine.ramp_steps += theirs.ramp_steps;
        }
        self.domains.merge(&other.domains);
    }

    /// The totals of each recipient domain.
    pub fn domains(&self) -> &ByDomain {
        &self.domains
    }

    /// Recipients recorded.
    pub fn recipients(&self) -> u64 {
        self.outcomes.iter().sum()
    }

    /// Recipients that ended with `fate`.
    pub fn count(&self, fate: Fate) -> u64 {
        self.outcomes[fate_index(fate)]
    }

    /// Recipients by number of delivery attempts.
    pub fn attempts(&self) -> BTreeMap<u32, u64> {
        self.attempts.to_map()
    }

    /// Undelivered recipients by reason.
    pub fn failures_by_reason(&self) -> &BTreeMap<FailureReason, u64> {
        &self.by_reason
    }

    /// Undelivered recipients by the code of their last reply (`None`: no reply decided).
    pub fn failures_by_reply_code(&self) -> &BTreeMap<Option<ReplyCode>, u64> {
        &self.by_reply_code
    }

    /// Submission to mailbox of delivered recipients, in microseconds: the per-domain
    /// histograms added up (see [`merge_histogram`]), the same histogram as recording every
    /// latency in one, without recording each twice.
    pub fn latency(&self) -> Histogram<u64> {
        self.domains.latency()
    }

    /// Submission to giving up of bounced and expired recipients, in microseconds.
    pub fn failure_latency(&self) -> Histogram<u64> {
        self.failure_latency.to_histogram()
    }

    /// Waiting for a connection, of recipients the relay tried to deliver, in microseconds.
    pub fn queue_wait(&self) -> Histogram<u64> {
        self.queue_wait.to_histogram()
    }

    /// The exact figures of [`Stats::latency`], added up from the domains' as well.
    pub fn latency_exact(&self) -> Exact {
        self.domains.latency_exact()
    }

    /// The exact figures of [`Stats::failure_latency`].
    pub fn failure_latency_exact(&self) -> &Exact {
        &self.exact[FAILURE_LATENCY]
    }

    /// The exact figures of [`Stats::queue_wait`].
    pub fn queue_wait_exact(&self) -> &Exact {
        &self.exact[QUEUE_WAIT]
    }

    /// The summary of these records and the run's totals, without performance figures.
    pub fn summary(&self, run: &RunStats) -> Result<Summary, ReportError> {
        let count = |fate| self.count(fate);
        let outcomes = Outcomes {
            inbox: count(Fate::Inbox),
            spam: count(Fate::Spam),
            bounced: count(Fate::Bounced),
            expired: count(Fate::Expired),
            rejected_at_submission: count(Fate::RejectedAtSubmission),
        };
        Ok(Summary {
            provenance: None,
            run: RunTotals {
                messages: run.messages,
                recipients: self.recipients(),
                attempts: run.attempts,
                bounce_notices: run.bounce_notices,
                peak_queue_depth: run.peak_queue_depth,
                events: run.events,
                end_s: run.end.as_secs_f64(),
            },
            rates: Rates::of(&outcomes),
            outcomes,
            failures: Failures {
                by_reason: self
                    .by_reason
                    .iter()
                    .map(|(k, &v)| (k.to_string(), v))
                    .collect(),
                by_reply_code: self
                    .by_reply_code
                    .iter()
                    .map(|(k, &v)| (k.map_or_else(|| "none".to_owned(), |c| c.to_string()), v))
                    .collect(),
            },
            attempts: self.attempts(),
            latency: Distribution::of(&self.latency(), &self.latency_exact())?,
            failure_latency: Distribution::of(
                &self.failure_latency(),
                self.failure_latency_exact(),
            )?,
            queue_wait: Distribution::of(&self.queue_wait(), self.queue_wait_exact())?,
            automation: self.automation.clone(),
            sources: self.sources.iter().map(SourceSummary::of).collect(),
            domains: self.domains.figures()?,
            domain_latency: self.domains.latency_histograms()?,
            retry_times_s: Vec::new(),
            performance: None,
        })
    }
}

/// A run can be aggregated without writing files: pass a `Stats` to the simulation as its
/// recorder (trace lines and samples are ignored).
impl Recorder for Stats {
    fn recipient(&mut self, record: &RecipientRecord<'_>) {
        self.record(record);
    }

    fn sources(&mut self, records: &[SourceRecord]) {
        self.record_sources(records);
    }
    fn automation(&mut self, record: &AutomationRecord<'_>) {
        Stats::automation(self, record);
    }
}

/// Recipients by number of delivery attempts. The usual small numbers are counted in a
/// vector, which costs less per recipient than a map lookup; larger ones in a map, so that
/// memory stays bounded by the distinct numbers seen.
#[derive(Debug, Clone, Default)]
struct AttemptCounts {
    /// `few[n]`: recipients with `n` attempts, for `n` below [`FEW_ATTEMPTS`].
    few: Vec<u64>,
    /// Recipients by number of attempts, from [`FEW_ATTEMPTS`] on.
    more: BTreeMap<u32, u64>,
}

/// Attempt numbers below this are counted in [`AttemptCounts::few`].
const FEW_ATTEMPTS: usize = 64;

impl AttemptCounts {
    /// Counts `recipients` more with `attempts` attempts.
    fn add(&mut self, attempts: u32, recipients: u64) {
        let n = attempts as usize;
        if n < FEW_ATTEMPTS {
            if n >= self.few.len() {
                self.few.resize(n + 1, 0);
            }
            self.few[n] += recipients;
        } else {
            *self.more.entry(attempts).or_insert(0) += recipients;
        }
    }

    fn merge(&mut self, other: &AttemptCounts) {
        for (attempts, recipients) in other.iter() {
            self.add(attempts, recipients);
        }
    }

    /// The numbers of attempts seen, in increasing order, each with its recipients.
    fn iter(&self) -> impl Iterator<Item = (u32, u64)> + '_ {
        let few = (0u32..).zip(self.few.iter().copied());
        let more = self.more.iter().map(|(&attempts, &n)| (attempts, n));
        few.filter(|&(_, n)| n > 0).chain(more)
    }

    fn to_map(&self) -> BTreeMap<u32, u64> {
        self.iter().collect()
    }
}

/// What one automation rule did in a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RuleCounts {
    /// Times it fired.
    pub fired: u64,
    /// Of which suspensions.
    pub suspensions: u64,
    /// Deliveries its suspensions held and released when they ended.
    pub released: u64,
    /// Of its firings, shape actions (not written when none).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub shapes: u64,
    /// Steps of its shape actions' ramps (not written when none).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub ramp_steps: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use smtpsim_des::{SimDuration, SimTime};
    use smtpsim_proto::Reply;

    #[test]
    fn automation_counts_shapes_and_ramp_steps_per_rule_and_merges_them() {
        use smtpsim_model::scenario::Action;
        use smtpsim_model::sim::AutomationEvent;
        let row = |rule, event| AutomationRecord {
            time: SimTime::ZERO,
            rule,
            target_kind: "domain",
            target: "a.example",
            event,
        };
        let fired = |action| AutomationEvent::Fired {
            action,
            until: SimTime::from_secs(600),
        };
        let mut stats = Stats::new();
        stats.automation(&row("slow", fired(Action::Shape)));
        for step in 1..=3 {
            stats.automation(&row("slow", AutomationEvent::RampStep { step, steps: 3 }));
        }
        stats.automation(&row("stop", fired(Action::Suspend)));
        let released = AutomationEvent::Released {
            deliveries: 7,
            spread: SimDuration::ZERO,
        };
        stats.automation(&row("stop", released));
        let mut both = stats.clone();
        both.merge(&stats);
        let counts = both.automation_counts();
        assert_eq!(
            counts["slow"],
            RuleCounts {
                fired: 2,
                suspensions: 0,
                released: 0,
                shapes: 2,
                ramp_steps: 6
            }
        );
        assert_eq!(
            (
                counts["stop"].suspensions,
                counts["stop"].released,
                counts["stop"].shapes
            ),
            (2, 14, 0)
        );
        // A rule that never shaped writes no shape counts: summaries of suspensions stay as
        // they were.
        let json = serde_json::to_string(&counts["stop"]).unwrap();
        assert_eq!(json, r#"{"fired":2,"suspensions":2,"released":14}"#);
    }

    fn record<'a>(fate: Fate, secs: u64, reply: Option<&'a Reply>) -> RecipientRecord<'a> {
        RecipientRecord {
            message_id: 1,
            sender: "app",
            recipient: "a@example.com",
            domain: "example.com",
            submitted: SimTime::from_secs(10),
            first_attempt: Some(SimTime::from_secs(11)),
            finished: SimTime::from_secs(10 + secs),
            fate,
            attempts: 1,
            queue_wait: SimDuration::from_millis(250),
            last_reply: reply,
            reasons: "",
        }
    }

    #[test]
    fn reasons_print_and_order() {
        let unknown = Reply::new_static(550, Some(EnhancedCode::new(5, 1, 1)), "no such user");
        let greylist = Reply::new_static(451, None, "try later");
        let a = FailureReason::of(&record(Fate::Bounced, 1, Some(&unknown)));
        let b = FailureReason::of(&record(Fate::Expired, 1, Some(&greylist)));
        let c = FailureReason::of(&record(Fate::Bounced, 1, None));
        assert_eq!(a.to_string(), "bounced 550 5.1.1");
        assert_eq!(b.to_string(), "expired 451");
        assert_eq!(c.to_string(), "bounced");
        let mut all = vec![b, a, c];
        all.sort();
        assert_eq!(all, [c, a, b]);
    }

    #[test]
    fn counts_and_histograms() {
        let unknown = Reply::new_static(550, Some(EnhancedCode::new(5, 1, 1)), "no such user");
        let mut stats = Stats::new();
        stats.record(&record(Fate::Inbox, 5, None));
        stats.record(&record(Fate::Spam, 7, None));
        stats.record(&record(Fate::Bounced, 9, Some(&unknown)));
        let mut rejected = record(Fate::RejectedAtSubmission, 0, None);
        rejected.first_attempt = None;
        rejected.attempts = 0;
        stats.record(&rejected);

        assert_eq!(stats.recipients(), 4);
        assert_eq!(stats.count(Fate::Inbox), 1);
        assert_eq!(stats.latency().len(), 2);
        assert_eq!(stats.failure_latency().len(), 1);
        assert_eq!(stats.queue_wait().len(), 3);
        assert_eq!(stats.attempts(), BTreeMap::from([(0, 1), (1, 3)]));
        let reasons: Vec<String> = stats
            .failures_by_reason()
            .keys()
            .map(|k| k.to_string())
            .collect();
        assert_eq!(reasons, ["bounced 550 5.1.1", "rejected_at_submission"]);
        assert_eq!(stats.failures_by_reply_code().get(&None), Some(&1));
    }

    #[test]
    fn merge_adds_everything() {
        let mut a = Stats::new();
        let mut b = Stats::new();
        for s in 1..=10 {
            a.record(&record(Fate::Inbox, s, None));
            b.record(&record(Fate::Expired, s * 1000, None));
        }
        let mut whole = Stats::new();
        for s in 1..=10 {
            whole.record(&record(Fate::Inbox, s, None));
            whole.record(&record(Fate::Expired, s * 1000, None));
        }
        a.merge(&b);
        let run = RunStats::default();
        assert_eq!(a.summary(&run).unwrap(), whole.summary(&run).unwrap());
        assert_eq!(a.latency_exact(), whole.latency_exact());
    }

    #[test]
    fn latency_added_up_from_domains_is_the_one_recorded_directly() {
        let mut stats = Stats::new();
        let mut direct = new_histogram();
        let mut exact = Exact::default();
        let domains = ["a.example", "b.example", "c.example"];
        // Latencies from a microsecond to days, in an order that grows the histograms at
        // different times in each domain.
        for i in 0..3_000u64 {
            let micros = 1 + (i * 7_919 % 3_000).pow(3) * 13 + i;
            let mut r = record(if i % 5 == 0 { Fate::Spam } else { Fate::Inbox }, 0, None);
            r.domain = domains[(i * i % 3) as usize];
            r.finished = r.submitted + SimDuration::from_micros(micros);
            stats.record(&r);
            direct.record(micros).unwrap();
            exact.record(micros);
        }
        let mut bounced = record(Fate::Bounced, 99_999, None);
        bounced.domain = "a.example";
        stats.record(&bounced);
        let latency = stats.latency();
        assert_eq!(latency, direct);
        assert_eq!(
            crate::summary::encode_histogram(&latency).unwrap(),
            crate::summary::encode_histogram(&direct).unwrap()
        );
        assert_eq!(stats.latency_exact(), exact);
    }

    #[test]
    fn attempts_are_counted_below_and_beyond_the_vector() {
        let mut stats = Stats::new();
        for attempts in [3, 0, 63, 64, 3, 1_000_000, 64] {
            let mut r = record(Fate::Expired, 1, None);
            r.attempts = attempts;
            stats.record(&r);
        }
        let expected = BTreeMap::from([(0, 1), (3, 2), (63, 1), (64, 2), (1_000_000, 1)]);
        assert_eq!(stats.attempts(), expected);
        let mut both = stats.clone();
        both.merge(&stats);
        let doubled: BTreeMap<u32, u64> = expected.iter().map(|(&k, &n)| (k, 2 * n)).collect();
        assert_eq!(both.attempts(), doubled);
    }

    #[test]
    fn minimum_maximum_and_mean_are_exact() {
        let mut stats = Stats::new();
        // 427.5 s: the histogram's bucket for it reaches 427.5569 s.
        for millis in [1_250, 427_500, 3_000] {
            let mut r = record(Fate::Inbox, 0, None);
            r.finished = r.submitted + SimDuration::from_millis(millis);
            stats.record(&r);
        }
        assert_ne!(stats.latency().max(), 427_500_000);
        let d = stats.summary(&RunStats::default()).unwrap().latency;
        assert_eq!(d.count, 3);
        assert_eq!(d.min_s, Some(1.25));
        assert_eq!(d.max_s, Some(427.5));
        assert_eq!(d.mean_s, Some(143.916667));
        // Percentiles stay within the exact extremes.
        assert_eq!(d.p99_9_s, Some(427.5));
        let mut parts = [Exact::default(), Exact::default()];
        parts[0].record(5);
        parts[1].record(3);
        parts[1].record(9);
        let mut merged = Exact::default();
        for part in &parts {
            merged.merge(part);
        }
        merged.merge(&Exact::default());
        assert_eq!((merged.count, merged.min_us, merged.max_us), (3, 3, 9));
        assert_eq!(merged.mean_us(), Some(6));
        assert_eq!(Exact::default().mean_us(), None);
    }
}
