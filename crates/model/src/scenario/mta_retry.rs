//! The `[relay.retry]` tables of the policies named after an MTA (`kumomta`, `haraka`,
//! `exchange`, `sendmail`): each field defaults to what that MTA ships with, and each has a
//! range checked when the scenario is loaded ([`RetryConfig::check_ranges`]).

use serde::Deserialize;
use smtpsim_des::SimDuration;

use super::relay::{EximRule, RetryConfig};
use super::units::Duration;

/// A value outside its range: the field below `relay.retry` and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeError {
    /// The field below `relay.retry`, such as `max_temp_failures` or `rules[1].interval`.
    pub field: String,
    /// What is wrong, with the accepted range.
    pub message: String,
}

/// KumoMTA's queue configuration (`kumo.make_queue_config`): `retry_interval` doubled at each
/// failure up to `max_retry_interval`, with KumoMTA's jitter.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KumoMta {
    /// The delay after the first failure (KumoMTA `retry_interval`, 20 minutes).
    #[serde(default = "kumomta_retry_interval")]
    pub retry_interval: Duration,
    /// The largest delay (KumoMTA `max_retry_interval`, none).
    #[serde(default)]
    pub max_retry_interval: Option<Duration>,
    /// Whether KumoMTA's jitter is added (KumoMTA always adds it; `false` shows the schedule
    /// without it).
    #[serde(default = "yes")]
    pub jitter: bool,
}

impl Default for KumoMta {
    fn default() -> KumoMta {
        KumoMta {
            retry_interval: kumomta_retry_interval(),
            max_retry_interval: None,
            jitter: true,
        }
    }
}

/// Haraka's `outbound.ini`: a list of delays, one per temporary failure; when it runs out
/// the message bounces.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Haraka {
    /// Haraka `maxTempFailures` (13): without `temp_fail_intervals`, the delays are
    /// `2^(n+5)` seconds for n = 1 … `max_temp_failures − 1`.
    #[serde(default = "haraka_max_temp_failures")]
    pub max_temp_failures: u32,
    /// Haraka `temp_fail_intervals`: the delay after each temporary failure, in order; it
    /// takes precedence over `max_temp_failures`. Empty: bounce at the first one.
    #[serde(default)]
    pub temp_fail_intervals: Option<Vec<Duration>>,
}

impl Default for Haraka {
    fn default() -> Haraka {
        Haraka {
            max_temp_failures: haraka_max_temp_failures(),
            temp_fail_intervals: None,
        }
    }
}

impl Haraka {
    /// The delay after each temporary failure, in order, as Haraka computes its list.
    pub fn intervals(&self) -> Vec<SimDuration> {
        match &self.temp_fail_intervals {
            Some(list) => list.iter().map(|d| d.0).collect(),
            None => (1..self.max_temp_failures)
                .map(|i| SimDuration::from_secs(1u64 << (i + 5)))
                .collect(),
        }
    }
}

/// Exchange's transport service (`Set-TransportService`): a few quick retries, then the
/// message retry interval.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exchange {
    /// `TransientFailureRetryCount` (6): retries after `transient_failure_retry_interval`.
    #[serde(default = "exchange_transient_count")]
    pub transient_failure_retry_count: u32,
    /// `TransientFailureRetryInterval` (5 minutes).
    #[serde(default = "exchange_transient_interval")]
    pub transient_failure_retry_interval: Duration,
    /// `MessageRetryInterval` (15 minutes): the delay once the transient retries are spent.
    #[serde(default = "exchange_message_interval")]
    pub message_retry_interval: Duration,
}

impl Default for Exchange {
    fn default() -> Exchange {
        Exchange {
            transient_failure_retry_count: exchange_transient_count(),
            transient_failure_retry_interval: exchange_transient_interval(),
            message_retry_interval: exchange_message_interval(),
        }
    }
}

/// Sendmail with a queue runner: a deferred message is tried again at the next queue run.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sendmail {
    /// The queue-run interval, sendmail's `-q` (30 minutes here: sendmail has no default).
    #[serde(default = "sendmail_queue_interval")]
    pub queue_interval: Duration,
    /// Sendmail `MinQueueAge` (0, off): a queue run skips a message tried less than this long
    /// ago.
    #[serde(default)]
    pub min_queue_age: Duration,
}

impl Default for Sendmail {
    fn default() -> Sendmail {
        Sendmail {
            queue_interval: sendmail_queue_interval(),
            min_queue_age: Duration::default(),
        }
    }
}

fn yes() -> bool {
    true
}

fn kumomta_retry_interval() -> Duration {
    Duration(SimDuration::from_mins(20))
}

fn haraka_max_temp_failures() -> u32 {
    13
}

fn exchange_transient_count() -> u32 {
    6
}

fn exchange_transient_interval() -> Duration {
    Duration(SimDuration::from_mins(5))
}

fn exchange_message_interval() -> Duration {
    Duration(SimDuration::from_mins(15))
}

fn sendmail_queue_interval() -> Duration {
    Duration(SimDuration::from_mins(30))
}

/// Exim's default retry rule, `F,2h,15m; G,16h,1h,1.5; F,4d,6h` (the `*  *` rule of the
/// configuration Exim ships, `src/src/configure.default`).
pub(super) fn exim_default_rules() -> Vec<EximRule> {
    let rule = |kind, until: u64, interval: u64, multiplier| EximRule {
        kind,
        until: Duration(SimDuration::from_secs(until)),
        interval: Duration(SimDuration::from_secs(interval)),
        multiplier,
    };
    use super::relay::EximKind::{F, G};
    vec![
        rule(F, 2 * 3600, 15 * 60, 2.0),
        rule(G, 16 * 3600, 3600, 1.5),
        rule(F, 4 * 86400, 6 * 3600, 2.0),
    ]
}

/// Exim's `retry_interval_max` (24 hours, also its largest value).
pub(super) fn exim_retry_interval_max() -> Duration {
    Duration(SimDuration::from_hours(24))
}

/// A duration range, both ends included.
struct Span(SimDuration, SimDuration);

const SECOND: SimDuration = SimDuration::from_secs(1);

impl Span {
    fn check(&self, field: &str, value: Duration) -> Result<(), RangeError> {
        if (self.0..=self.1).contains(&value.0) {
            return Ok(());
        }
        Err(RangeError {
            field: field.to_string(),
            message: format!("must be from {} to {}, not {}", self.0, self.1, value.0),
        })
    }
}

fn count(field: &str, value: u32, low: u32, high: u32) -> Result<(), RangeError> {
    if (low..=high).contains(&value) {
        return Ok(());
    }
    Err(RangeError {
        field: field.to_string(),
        message: format!("must be from {low} to {high}, not {value}"),
    })
}

/// The most rules, delays or intervals a retry list may hold.
pub const MAX_LIST: usize = 1000;

fn list_length(field: &str, len: usize) -> Result<(), RangeError> {
    if len <= MAX_LIST {
        return Ok(());
    }
    Err(RangeError {
        field: field.to_string(),
        message: format!("holds at most {MAX_LIST} entries, not {len}"),
    })
}

impl RetryConfig {
    /// Checks the fields of the MTA-named policies against their documented ranges.
    pub fn check_ranges(&self) -> Result<(), RangeError> {
        let days = SimDuration::from_days;
        match self {
            RetryConfig::Exim {
                rules,
                queue_run,
                queue_run_spread,
                retry_interval_max,
            } => {
                list_length("rules", rules.len())?;
                for (i, rule) in rules.iter().enumerate() {
                    Span(SECOND, days(365)).check(&format!("rules[{i}].until"), rule.until)?;
                    Span(SECOND, days(365))
                        .check(&format!("rules[{i}].interval"), rule.interval)?;
                }
                if let Some(run) = queue_run {
                    Span(SECOND, days(1)).check("queue_run", *run)?;
                }
                if let Some(spread) = queue_run_spread {
                    let Some(run) = queue_run else {
                        return Err(RangeError {
                            field: "queue_run_spread".into(),
                            message: "needs queue_run (the runs it spreads)".into(),
                        });
                    };
                    Span(SimDuration::ZERO, run.0).check("queue_run_spread", *spread)?;
                }
                Span(SECOND, SimDuration::from_hours(24))
                    .check("retry_interval_max", *retry_interval_max)
            }
            RetryConfig::Kumomta(k) => {
                Span(SECOND, days(7)).check("retry_interval", k.retry_interval)?;
                match k.max_retry_interval {
                    Some(max) => Span(SECOND, days(30)).check("max_retry_interval", max),
                    None => Ok(()),
                }
            }
            RetryConfig::Haraka(h) => {
                count("max_temp_failures", h.max_temp_failures, 1, 30)?;
                let list = h.temp_fail_intervals.as_deref().unwrap_or_default();
                list_length("temp_fail_intervals", list.len())?;
                for (i, delay) in list.iter().enumerate() {
                    let field = format!("temp_fail_intervals[{i}]");
                    Span(SimDuration::from_secs(5), days(30)).check(&field, *delay)?;
                }
                Ok(())
            }
            RetryConfig::Exchange(e) => {
                let count_field = "transient_failure_retry_count";
                count(count_field, e.transient_failure_retry_count, 0, 15)?;
                Span(SECOND, SimDuration::from_hours(12)).check(
                    "transient_failure_retry_interval",
                    e.transient_failure_retry_interval,
                )?;
                Span(SECOND, days(1)).check("message_retry_interval", e.message_retry_interval)
            }
            RetryConfig::Sendmail(s) => {
                Span(SECOND, days(1)).check("queue_interval", s.queue_interval)?;
                Span(SimDuration::ZERO, days(7)).check("min_queue_age", s.min_queue_age)
            }
            RetryConfig::Exponential { .. }
            | RetryConfig::Postfix { .. }
            | RetryConfig::Fixed { .. } => Ok(()),
        }
    }

    /// The queue lifetime the MTA ships with, used when `[relay]` gives none; `None` when the
    /// policy alone decides when a message gives up (Exim's last rule, Haraka's list).
    pub fn default_lifetime(&self) -> Option<SimDuration> {
        let days = SimDuration::from_days;
        match self {
            // Postfix `maximal_queue_lifetime`, KumoMTA `max_age`, Exchange
            // `MessageExpirationTimeout`, sendmail `Timeout.queuereturn`.
            RetryConfig::Postfix { .. } => Some(days(5)),
            RetryConfig::Kumomta(_) => Some(days(7)),
            RetryConfig::Exchange(_) => Some(days(2)),
            RetryConfig::Sendmail(_) => Some(days(5)),
            RetryConfig::Exim { .. } | RetryConfig::Haraka(_) => None,
            // The simulator's own default for the policies not named after an MTA.
            RetryConfig::Exponential { .. } | RetryConfig::Fixed { .. } => Some(days(5)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn haraka_derives_its_list_from_max_temp_failures() {
        let secs: Vec<u64> = Haraka::default()
            .intervals()
            .iter()
            .map(|d| d.as_micros() / 1_000_000)
            .collect();
        assert_eq!(secs.len(), 12);
        assert_eq!(secs[..3], [64, 128, 256]);
        assert_eq!(secs[11], 131_072);
    }

    #[test]
    fn ranges_name_the_field() {
        let config = RetryConfig::Exchange(Exchange {
            transient_failure_retry_count: 16,
            ..Exchange::default()
        });
        let err = config.check_ranges().unwrap_err();
        assert_eq!(err.field, "transient_failure_retry_count");
        assert_eq!(err.message, "must be from 0 to 15, not 16");
    }
}
