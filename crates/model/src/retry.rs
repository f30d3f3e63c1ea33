//! Retry policies: when a deferred message is tried again, or whether it is given up.
//!
//! Each policy is a pure function of the message's history; the relay keeps that history
//! ([`History`]) and asks [`RetryPolicy::next`] after every deferral. The policies named after
//! an MTA other than Postfix live in a module each.

mod exchange;
mod exim;
mod haraka;
mod kumomta;
mod sendmail;

use rand::Rng;
use smtpsim_des::{SimDuration, SimTime};

use crate::scenario::{Jitter, RetryConfig};

/// What the relay knows about a deferred message when it asks for the next attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct History {
    /// When the message entered the queue.
    pub arrived: SimTime,
    /// When its first attempt failed.
    pub first_failure: SimTime,
    /// Failed attempts so far, this one included (at least 1).
    pub failures: u32,
    /// The previous deferral, if any.
    pub previous: Option<Previous>,
}

/// What the relay remembers of a message's previous deferral.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Previous {
    /// When that attempt failed (Exim's `last_try`).
    pub failed: SimTime,
    /// The delay the policy chose then (Exim's predicted gap, `next_try - last_try`).
    pub delay: SimDuration,
    /// The Exim rule it came from (0 for other policies).
    pub rule: usize,
}

/// The next attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NextAttempt {
    /// When it happens.
    pub at: SimTime,
    /// The delay the policy chose (before a Postfix or Exim queue run rounds it up; up to the
    /// queue run for sendmail).
    pub delay: SimDuration,
    /// The Exim rule that applied (0 for other policies).
    pub rule: usize,
}

impl NextAttempt {
    /// What the relay remembers of this deferral, which failed at `failed`.
    pub fn remember(&self, failed: SimTime) -> Previous {
        Previous {
            failed,
            delay: self.delay,
            rule: self.rule,
        }
    }
}

/// A retry policy from a scenario's `[relay.retry]`.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    config: RetryConfig,
    lifetime: SimDuration,
}

impl RetryPolicy {
    /// The policy `config` describes, with the policy's default queue lifetime.
    pub fn new(config: RetryConfig) -> RetryPolicy {
        let lifetime = config.default_lifetime().unwrap_or(SimDuration::MAX);
        RetryPolicy { config, lifetime }
    }

    /// The same policy with the relay's queue lifetime, which KumoMTA's policy consults
    /// (`max_age`).
    pub fn with_lifetime(self, lifetime: SimDuration) -> RetryPolicy {
        RetryPolicy { lifetime, ..self }
    }

    /// When to try again after a failure at `now`, or `None` to give up (an Exim rule list, a
    /// fixed schedule or Haraka's intervals have run out, or KumoMTA's next attempt would come
    /// after its `max_age`).
    pub fn next<R: Rng + ?Sized>(
        &self,
        now: SimTime,
        history: &History,
        rng: &mut R,
    ) -> Option<NextAttempt> {
        let n = history.failures.max(1);
        let simple = |delay: SimDuration| NextAttempt {
            at: now + delay,
            delay,
            rule: 0,
        };
        match &self.config {
            RetryConfig::Exponential {
                initial,
                multiplier,
                cap,
                jitter,
            } => {
                let base = initial.micros() as f64 * multiplier.powi(n as i32 - 1);
                let capped = base.min(cap.micros() as f64);
                let delay = match jitter {
                    Jitter::None => capped,
                    Jitter::Full => capped * rng.random::<f64>(),
                    Jitter::Equal => capped / 2.0 + capped / 2.0 * rng.random::<f64>(),
                };
                Some(simple(micros(delay)))
            }
            RetryConfig::Postfix {
                queue_run_delay,
                minimal_backoff,
                maximal_backoff,
            } => Some(postfix_next(
                now,
                history.arrived,
                queue_run_delay.0,
                minimal_backoff.0,
                maximal_backoff.0,
            )),
            RetryConfig::Exim {
                rules,
                queue_run,
                queue_run_spread,
                retry_interval_max,
            } => {
                let runs = queue_run.map(|run| exim::QueueRuns {
                    every: run.0,
                    spread: queue_run_spread.map_or(SimDuration::ZERO, |s| s.0),
                });
                exim::next(rules, runs, *retry_interval_max, now, history, rng)
            }
            RetryConfig::Fixed { schedule } => {
                let delay = schedule.get(n as usize - 1)?;
                Some(simple(delay.0))
            }
            RetryConfig::Kumomta(config) => kumomta::next(config, self.lifetime, now, history, rng),
            RetryConfig::Haraka(config) => haraka::next(config, now, history),
            RetryConfig::Exchange(config) => Some(exchange::next(config, now, history)),
            RetryConfig::Sendmail(config) => Some(sendmail::next(config, now, history)),
        }
    }
}

/// Postfix's queue manager (qmgr, Postfix 3.7 … 3.12) after a failure at `now` of a message
/// that arrived at `arrived`, the deferred queue being scanned every `run` from time 0.
///
/// - `qmgr_active.c`, `qmgr_active_done_3_generic`: `delay = event_time() -
///   message->create_time`, clamped to `maximal_backoff_time` then `minimal_backoff_time`;
///   both times are whole seconds (`time_t`), so the age is the difference of the two
///   truncated times, not of the exact ones.
/// - `qmgr_active_defer`: the queue file's mtime becomes `event_time() + delay` (whole seconds,
///   truncated `now` plus the delay) and the file moves to the deferred queue.
/// - `qmgr.c`, `qmgr_deferred_run_event`: a deferred queue scan every `queue_run_delay`, on a
///   timer that starts with qmgr, not with the message.
/// - `qmgr_active_feed`: a scan skips a file only while `st_mtime > time(0) + 1`, so a file is
///   taken by the first scan at or after its mtime minus one second.
///
/// Rounding the exact age up or down, or forgetting the second of grace, moves the next
/// attempt by a whole queue run for the messages whose due time falls within a second of a
/// scan: with 10 s runs and greylisting that is about a third of them.
fn postfix_next(
    now: SimTime,
    arrived: SimTime,
    run: SimDuration,
    minimal: SimDuration,
    maximal: SimDuration,
) -> NextAttempt {
    const SECOND: u64 = 1_000_000;
    let now_secs = now.as_micros() / SECOND * SECOND;
    let arrived_secs = arrived.as_micros() / SECOND * SECOND;
    let age = now_secs.saturating_sub(arrived_secs);
    let delay = age.min(maximal.as_micros()).max(minimal.as_micros());
    let mtime = now_secs.saturating_add(delay);
    let eligible = mtime.saturating_sub(SECOND).max(now.as_micros() + 1);
    NextAttempt {
        at: next_run_at_or_after(SimTime::from_micros(eligible), run),
        delay: SimDuration::from_micros(delay),
        rule: 0,
    }
}

/// The first queue run at or after `due`, runs happening every `run` from time 0.
fn next_run_at_or_after(due: SimTime, run: SimDuration) -> SimTime {
    let run = run.as_micros().max(1);
    SimTime::from_micros(due.as_micros().div_ceil(run).saturating_mul(run))
}

/// The retries a policy makes within a queue lifetime ([`RetryPolicy::retries_within`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retries {
    /// How many.
    pub count: u32,
    /// When the last one happens, after the first failure.
    pub last: SimDuration,
}

impl RetryPolicy {
    /// The retries the policy makes within `lifetime` of the first failure when attempts take
    /// no time, with every random draw at its midpoint; `None` if more than `limit` (a delay
    /// of 0 that never lets time pass among them).
    pub fn retries_within(&self, lifetime: SimDuration, limit: u32) -> Option<Retries> {
        let times = self.retry_times(lifetime, limit)?;
        Some(Retries {
            count: times.len() as u32,
            last: times.last().copied().unwrap_or(SimDuration::ZERO),
        })
    }

    /// When each of those retries happens, after the first failure (the policy's schedule as
    /// a message that always fails would see it); `None` if more than `limit`.
    pub fn retry_times(&self, lifetime: SimDuration, limit: u32) -> Option<Vec<SimDuration>> {
        self.walk(lifetime, limit).ok()
    }

    /// The first `n` (at most) of those retries.
    pub fn first_retry_times(&self, lifetime: SimDuration, n: u32) -> Vec<SimDuration> {
        self.walk(lifetime, n).unwrap_or_else(|first| first)
    }

    /// The retries within `lifetime`, or the first `limit` of them if there are more.
    fn walk(
        &self,
        lifetime: SimDuration,
        limit: u32,
    ) -> Result<Vec<SimDuration>, Vec<SimDuration>> {
        let end = SimTime::ZERO + lifetime;
        let mut rng = Midpoint;
        let mut now = SimTime::ZERO;
        let mut previous = None;
        let mut times = Vec::new();
        for failures in 1..=limit.saturating_add(1) {
            let history = History {
                arrived: SimTime::ZERO,
                first_failure: SimTime::ZERO,
                failures,
                previous,
            };
            let Some(next) = self.next(now, &history, &mut rng) else {
                return Ok(times);
            };
            if next.at >= end {
                return Ok(times);
            }
            // Only a fixed schedule runs out while time stands still.
            let stuck = next.at == now
                && next.delay.is_zero()
                && !matches!(self.config, RetryConfig::Fixed { .. });
            if failures > limit || stuck {
                return Err(times);
            }
            previous = Some(next.remember(now));
            now = next.at;
            times.push(now.saturating_duration_since(SimTime::ZERO));
        }
        Err(times)
    }
}

impl RetryPolicy {
    /// The longest delay the policy can choose, in seconds: a retry scheduled near the end of
    /// the queue lifetime still happens, so a run can last this much past it.
    pub fn longest_delay(&self) -> f64 {
        match &self.config {
            RetryConfig::Exponential { cap, .. } => cap.secs(),
            RetryConfig::Postfix {
                queue_run_delay,
                minimal_backoff,
                maximal_backoff,
            } => minimal_backoff.secs().max(maximal_backoff.secs()) + queue_run_delay.secs(),
            // A growing interval stops growing once its rule's time is over, and no interval
            // exceeds `retry_interval_max`; a queue run can add up to one run.
            RetryConfig::Exim {
                rules,
                queue_run,
                retry_interval_max,
                ..
            } => {
                let longest = rules
                    .iter()
                    .map(|r| r.interval.secs().max(r.until.secs() * r.multiplier))
                    .fold(0.0, f64::max)
                    .min(retry_interval_max.secs());
                // A run whose spread reaches the message before its due time leaves it to the
                // next run, which starts after the due time: at most two runs.
                longest + queue_run.map_or(0.0, |run| 2.0 * run.secs())
            }
            RetryConfig::Fixed { schedule } => {
                schedule.iter().map(|d| d.secs()).fold(0.0, f64::max)
            }
            // KumoMTA never schedules past its `max_age`; its jitter adds at most 30 s.
            RetryConfig::Kumomta(config) => {
                let cap = config.max_retry_interval.map(|d| d.secs());
                cap.unwrap_or_else(|| self.lifetime.as_secs_f64()) + 30.0
            }
            RetryConfig::Haraka(config) => config
                .intervals()
                .iter()
                .map(|d| d.as_secs_f64())
                .fold(0.0, f64::max),
            RetryConfig::Exchange(config) => config
                .transient_failure_retry_interval
                .secs()
                .max(config.message_retry_interval.secs()),
            RetryConfig::Sendmail(config) => {
                config.queue_interval.secs() + config.min_queue_age.secs()
            }
        }
    }
}

/// A generator whose every draw is the middle of the range.
struct Midpoint;

impl rand::RngCore for Midpoint {
    fn next_u32(&mut self) -> u32 {
        1 << 31
    }
    fn next_u64(&mut self) -> u64 {
        1 << 63
    }
    fn fill_bytes(&mut self, dst: &mut [u8]) {
        dst.fill(0x80);
    }
}

fn micros(x: f64) -> SimDuration {
    SimDuration::from_micros(smtpsim_des::round_to_u64(x))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Duration, EximKind, EximRule};
    use smtpsim_des::RandomStreams;

    fn d(s: &str) -> Duration {
        s.parse().unwrap()
    }

    fn secs(s: u64) -> SimTime {
        SimTime::from_micros(s * 1_000_000)
    }

    fn history(arrived: u64, failures: u32) -> History {
        History {
            arrived: secs(arrived),
            first_failure: secs(arrived),
            failures,
            previous: None,
        }
    }

    #[test]
    fn retries_within_a_lifetime_are_counted() {
        let fixed = |delays: &[&str]| {
            RetryPolicy::new(RetryConfig::Fixed {
                schedule: delays.iter().map(|s| d(s)).collect(),
            })
        };
        let day = d("1d").0;
        let count = |p: RetryPolicy, limit| p.retries_within(day, limit).map(|r| r.count);
        let last = |p: RetryPolicy| p.retries_within(day, 10).map(|r| r.last.as_secs_f64());
        assert_eq!(count(fixed(&["1m", "1m"]), 10), Some(2));
        assert_eq!(last(fixed(&["1m", "1m"])), Some(120.0));
        assert_eq!(count(fixed(&["0s", "0s"]), 10), Some(2));
        let times = fixed(&["1m", "5m", "15m"]).retry_times(day, 10).unwrap();
        let secs: Vec<f64> = times.iter().map(|t| t.as_secs_f64()).collect();
        assert_eq!(
            secs,
            [60.0, 360.0, 1260.0],
            "each retry after the first failure"
        );
        let short = fixed(&["1m", "5m", "15m"])
            .retry_times(d("10m").0, 10)
            .unwrap();
        assert_eq!(short.len(), 2, "a retry past the lifetime is not made");
        let first = fixed(&["1m", "5m", "15m"]).first_retry_times(day, 2);
        assert_eq!(first, times[..2]);
        let exponential = |initial: &str, multiplier: f64| {
            RetryPolicy::new(RetryConfig::Exponential {
                initial: d(initial),
                multiplier,
                cap: d("1h"),
                jitter: Jitter::Full,
            })
        };
        assert_eq!(exponential("0s", 2.0).retries_within(day, 1000), None);
        assert_eq!(exponential("1s", 1.0).retries_within(day, 1000), None);
        // 1s, 2s, ... up to the cap, then every hour (halved by the jitter's midpoint).
        let n = count(exponential("1s", 2.0), 1000).unwrap();
        assert!((40..=60).contains(&n), "{n}");
        let postfix = |min: &str| {
            RetryPolicy::new(RetryConfig::Postfix {
                queue_run_delay: d("0s"),
                minimal_backoff: d(min),
                maximal_backoff: d("1h"),
            })
        };
        assert_eq!(postfix("0s").retries_within(day, 1000), None);
        assert!(postfix("5m").retries_within(day, 1000).is_some());
        // Haraka's default list ends after 12 retries, about three days in.
        let haraka = RetryPolicy::new(RetryConfig::Haraka(Default::default()));
        let retries = haraka.retries_within(SimDuration::MAX, 1000).unwrap();
        assert_eq!(retries.count, 12);
        assert_eq!(retries.last.as_secs_f64(), 262_080.0);
    }

    #[test]
    fn exponential_grows_and_caps() {
        let policy = RetryPolicy::new(RetryConfig::Exponential {
            initial: d("60s"),
            multiplier: 2.0,
            cap: d("300s"),
            jitter: Jitter::None,
        });
        let mut rng = RandomStreams::new(1).stream("t", 0);
        let delays: Vec<u64> = (1..=5)
            .map(|n| {
                let next = policy.next(secs(0), &history(0, n), &mut rng).unwrap();
                next.delay.as_micros() / 1_000_000
            })
            .collect();
        assert_eq!(delays, [60, 120, 240, 300, 300]);
    }

    #[test]
    fn jitter_stays_in_range() {
        let mut rng = RandomStreams::new(1).stream("t", 0);
        for (jitter, low) in [(Jitter::Full, 0.0), (Jitter::Equal, 50.0)] {
            let policy = RetryPolicy::new(RetryConfig::Exponential {
                initial: d("100s"),
                multiplier: 2.0,
                cap: d("1h"),
                jitter,
            });
            let mut sum = 0.0;
            for _ in 0..10_000 {
                let s = policy
                    .next(secs(0), &history(0, 1), &mut rng)
                    .unwrap()
                    .delay;
                let s = s.as_micros() as f64 / 1e6;
                assert!((low..=100.0).contains(&s), "{jitter:?}: {s}");
                sum += s;
            }
            let mean = sum / 10_000.0;
            assert!(
                (mean - (low + 100.0) / 2.0).abs() < 2.0,
                "{jitter:?}: {mean}"
            );
        }
    }

    #[test]
    fn postfix_waits_the_age_and_the_next_queue_run() {
        let policy = RetryPolicy::new(RetryConfig::Postfix {
            queue_run_delay: d("300s"),
            minimal_backoff: d("300s"),
            maximal_backoff: d("4000s"),
        });
        let mut rng = RandomStreams::new(1).stream("t", 0);
        // Failed at once at t=10: waits the minimal backoff, then the queue run at 600.
        let next = policy.next(secs(10), &history(10, 1), &mut rng).unwrap();
        assert_eq!(next.at, secs(600));
        // A message 1000 s old waits 1000 s: due at 3000, which is a queue run.
        let next = policy
            .next(secs(2000), &history(1000, 2), &mut rng)
            .unwrap();
        assert_eq!(next.at, secs(3000));
        // Very old messages wait the maximal backoff: due 4000 + 10000, run at 14100.
        let next = policy.next(secs(10_000), &history(0, 9), &mut rng).unwrap();
        assert_eq!(next.delay.as_micros(), 4_000_000_000);
        assert_eq!(next.at, secs(14_100));
    }

    fn at(micros: u64) -> SimTime {
        SimTime::from_micros(micros)
    }

    fn postfix_short() -> RetryPolicy {
        RetryPolicy::new(RetryConfig::Postfix {
            queue_run_delay: d("10s"),
            minimal_backoff: d("10s"),
            maximal_backoff: d("80s"),
        })
    }

    /// The next attempt after a failure at `now` of a message that arrived at `arrived`.
    fn postfix_after(policy: &RetryPolicy, now: u64, arrived: u64, failures: u32) -> u64 {
        let history = History {
            arrived: at(arrived),
            first_failure: at(arrived),
            failures,
            previous: None,
        };
        let mut rng = RandomStreams::new(1).stream("t", 0);
        policy
            .next(at(now), &history, &mut rng)
            .unwrap()
            .at
            .as_micros()
    }

    #[test]
    fn postfix_ages_in_whole_seconds_and_takes_a_file_one_second_early() {
        let policy = postfix_short();
        let s = |x: f64| (x * 1e6).round() as u64;
        // Arrived and failed at 100.3: age 0 -> 10 s, mtime 100 + 10 = 110, taken from 109:
        // the scan at 110 (the exact due time 110.3 would wait for 120).
        assert_eq!(postfix_after(&policy, s(100.3), s(100.3), 1), s(110.0));
        // Failed again at 110: age 110 - 100 = 10, mtime 120, taken by the scan at 120.
        assert_eq!(postfix_after(&policy, s(110.0), s(100.3), 2), s(120.0));
        // Arrived at 109.5, failed at 120: age 120 - 109 = 11 (not 10.5), mtime 131, taken
        // from 130: the scan at 130 (the exact 130.5 would wait for 140).
        assert_eq!(postfix_after(&policy, s(120.0), s(109.5), 2), s(130.0));
        // Arrived at 105.2, failed at 120: age 15, mtime 135, the scan at 140.
        assert_eq!(postfix_after(&policy, s(120.0), s(105.2), 2), s(140.0));
        // Old: the maximal 80 s from 1000 (not 1000.7), taken from 1079: the scan at 1080.
        assert_eq!(postfix_after(&policy, s(1000.7), s(0.2), 5), s(1080.0));
        // A minimal backoff of 0 still retries strictly later, at the next scan.
        let eager = RetryPolicy::new(RetryConfig::Postfix {
            queue_run_delay: d("10s"),
            minimal_backoff: d("0s"),
            maximal_backoff: d("0s"),
        });
        assert_eq!(postfix_after(&eager, s(110.0), s(110.0), 1), s(120.0));
    }

    #[test]
    fn postfix_greylisting_for_25s_catches_three_tenths_of_third_attempts() {
        // Runs every 10 s, backoff 10 … 80 s, attempts taking no time, a greylist that defers
        // the first 25 s. Write the arrival as 10m + j + u (j whole, 0 <= u < 1). The first
        // failure sets mtime 10m + j + 10, taken from 10m + j + 9: the scan at 10m + 10 for
        // j <= 1, else 10m + 20, with ages 10 - j or 20 - j. The third attempt comes at the
        // next scan, less than 25 s after arrival, when that age is at most 11: j in {0, 1, 9}.
        let policy = postfix_short();
        let arrivals: Vec<u64> = (0..1000).map(|k| 1_000_000_000 + k * 10_000).collect();
        let early = arrivals
            .iter()
            .filter(|&&arrived| {
                let second = postfix_after(&policy, arrived, arrived, 1);
                let third = postfix_after(&policy, second, arrived, 2);
                third < arrived + 25_000_000
            })
            .count();
        assert_eq!(early, 300);
    }

    #[test]
    fn exim_rules_apply_in_turn_and_run_out() {
        let rule = |kind, until: &str, interval: &str, multiplier| EximRule {
            kind,
            until: d(until),
            interval: d(interval),
            multiplier,
        };
        // F,2h,15m; G,16h,1h,1.5
        let policy = RetryPolicy::new(RetryConfig::Exim {
            rules: vec![
                rule(EximKind::F, "2h", "15m", 2.0),
                rule(EximKind::G, "16h", "1h", 1.5),
            ],
            queue_run: None,
            queue_run_spread: None,
            retry_interval_max: d("24h"),
        });
        let mut rng = RandomStreams::new(1).stream("t", 0);
        let mut h = history(0, 1);
        let first = policy.next(secs(0), &h, &mut rng).unwrap();
        assert_eq!((first.delay.as_micros(), first.rule), (900_000_000, 0));
        // At exactly 2h the F rule still holds (`failing_interval <= timeout`).
        let at_cutoff = policy.next(secs(7200), &h, &mut rng).unwrap();
        assert_eq!(
            (at_cutoff.delay.as_micros(), at_cutoff.rule),
            (900_000_000, 0)
        );
        // The G rule starts from the F rule's last gap: 15m < 1h, so 1h.
        h.previous = Some(at_cutoff.remember(secs(7200)));
        let g1 = policy.next(secs(8100), &h, &mut rng).unwrap();
        assert_eq!((g1.delay.as_micros(), g1.rule), (3_600_000_000, 1));
        // Then the smaller of the predicted (1h) and actual (2h, a late queue run) gap × 1.5.
        h.previous = Some(g1.remember(secs(8100)));
        let g2 = policy.next(secs(15_300), &h, &mut rng).unwrap();
        assert_eq!(g2.delay.as_micros(), 5_400_000_000);
        assert_eq!(policy.next(secs(16 * 3600 + 1), &h, &mut rng), None);
    }

    #[test]
    fn exim_g_rule_continues_from_a_longer_previous_gap() {
        // F,1h,30m; G,10h,10m,2: the G rule's first gap is 30m × 2, not its own 10m.
        let rule = |kind, until: &str, interval: &str| EximRule {
            kind,
            until: d(until),
            interval: d(interval),
            multiplier: 2.0,
        };
        let policy = RetryPolicy::new(RetryConfig::Exim {
            rules: vec![
                rule(EximKind::F, "1h", "30m"),
                rule(EximKind::G, "10h", "10m"),
            ],
            queue_run: None,
            queue_run_spread: None,
            retry_interval_max: d("24h"),
        });
        let mut rng = RandomStreams::new(1).stream("t", 0);
        let mut h = history(0, 3);
        h.previous = Some(Previous {
            failed: secs(3600),
            delay: d("30m").0,
            rule: 0,
        });
        let next = policy.next(secs(5400), &h, &mut rng).unwrap();
        assert_eq!(next.delay, d("60m").0);
    }

    #[test]
    fn exim_h_rule_draws_in_the_upper_half_and_the_maximum_caps() {
        let policy = RetryPolicy::new(RetryConfig::Exim {
            rules: vec![EximRule {
                kind: EximKind::H,
                until: d("10d"),
                interval: d("1h"),
                multiplier: 3.0,
            }],
            queue_run: None,
            queue_run_spread: None,
            retry_interval_max: d("24h"),
        });
        let mut rng = RandomStreams::new(1).stream("t", 0);
        let mut h = history(0, 2);
        // lastgap 1h: next_gap 3h, excess 2h: 1h + 1h + [0, 1h).
        h.previous = Some(Previous {
            failed: secs(0),
            delay: d("1h").0,
            rule: 0,
        });
        for _ in 0..1000 {
            let delay = policy.next(secs(3600), &h, &mut rng).unwrap().delay;
            assert!((d("2h").0..d("3h").0).contains(&delay), "{delay}");
        }
        // lastgap 20h: next_gap 60h, cut to retry_interval_max.
        h.previous = Some(Previous {
            failed: secs(0),
            delay: d("20h").0,
            rule: 0,
        });
        let delay = policy.next(secs(72_000), &h, &mut rng).unwrap().delay;
        assert_eq!(delay, d("24h").0);
    }

    #[test]
    fn fixed_schedule_runs_out() {
        let policy = RetryPolicy::new(RetryConfig::Fixed {
            schedule: vec![d("1m"), d("5m")],
        });
        let mut rng = RandomStreams::new(1).stream("t", 0);
        assert_eq!(
            policy.next(secs(0), &history(0, 2), &mut rng).unwrap().at,
            secs(300)
        );
        assert_eq!(policy.next(secs(0), &history(0, 3), &mut rng), None);
    }
}
