//! Exim's retry rules, as `retry_update` in Exim's `src/src/retry.c` applies them.
//!
//! - The rule in force is the first whose cutoff is not below the failing interval
//!   (`failing_interval <= rule->timeout`). For an address (a recipient deferred by the MX)
//!   Exim counts the failing interval from the first failure or, when longer, the message's
//!   age; so does this model. After the last cutoff the address times out and bounces.
//! - `F`: the next try is `now + interval`.
//! - `G` and `H`: `lastgap` is the smaller of the last predicted gap (`next_try - last_try`)
//!   and the actual one (`now - last_try`), from whichever rule set them; `next_gap =
//!   lastgap × multiplier`. `G` waits `interval` while `lastgap < interval`, else `next_gap`.
//!   `H` waits `interval` plus, when `next_gap > interval`, half the excess plus a uniform draw
//!   in `[0, excess)` halved.
//! - Every delay is at most `retry_interval_max`.
//!
//! Exim's queue runner (`exim -q<interval>`) then picks the message up at its first run at or
//! after the retry time (a run skips a message `now < next_try`); with `queue_run` the attempt
//! is rounded up to that run, counted from the start of the simulation. Exim's retry times
//! are whole seconds (`time_t`): the retry time is the failure's second plus the delay.
//!
//! A run goes through the queue one message at a time, in no set order, so it reaches a
//! message some time after it starts; with `queue_run_spread` that time is modelled as a
//! uniform draw below the spread for each run and message. A run that reaches the message
//! before its retry time skips it (Exim logs `retry time not reached`), and the next run
//! tries it.

use rand::Rng;
use smtpsim_des::{SimDuration, SimTime};

use super::{History, NextAttempt};
use crate::scenario::{Duration, EximKind, EximRule};

/// Exim's queue runner: a run every `every`, reaching each message within `spread` of its
/// start.
#[derive(Debug, Clone, Copy)]
pub(super) struct QueueRuns {
    pub every: SimDuration,
    pub spread: SimDuration,
}

/// The next attempt after a failure at `now`, or `None` once the last rule has timed out.
pub(super) fn next<R: Rng + ?Sized>(
    rules: &[EximRule],
    queue_runs: Option<QueueRuns>,
    retry_interval_max: Duration,
    now: SimTime,
    history: &History,
    rng: &mut R,
) -> Option<NextAttempt> {
    let since_failure = now.saturating_duration_since(history.first_failure);
    let age = now.saturating_duration_since(history.arrived);
    let failing = since_failure.max(age);
    let index = rules.iter().position(|r| failing <= r.until.0)?;
    let rule = &rules[index];
    let p1 = rule.interval.micros();
    let delay = match rule.kind {
        EximKind::F => p1,
        EximKind::G | EximKind::H => {
            let lastgap = match history.previous {
                Some(p) => p
                    .delay
                    .min(now.saturating_duration_since(p.failed))
                    .as_micros(),
                // A new retry record: last_try = next_try = now.
                None => 0,
            };
            // Exim keeps the multiplier as thousandths (`p2`) and computes
            // `(lastgap * p2) / 1000`.
            let p2 = (rule.multiplier * 1000.0).round() as u128;
            let next_gap =
                u64::try_from(u128::from(lastgap).saturating_mul(p2) / 1000).unwrap_or(u64::MAX);
            if rule.kind == EximKind::G {
                if lastgap < p1 { p1 } else { next_gap }
            } else if next_gap > p1 {
                let excess = next_gap - p1;
                p1 + rng.random_range(0..excess) / 2 + excess / 2
            } else {
                p1
            }
        }
    };
    let delay = SimDuration::from_micros(delay.min(retry_interval_max.micros()));
    let at = match queue_runs {
        Some(runs) => {
            let due = SimTime::from_secs(now.as_micros() / 1_000_000) + delay;
            reached(due, runs, rng)
        }
        None => now + delay,
    };
    Some(NextAttempt {
        at,
        delay,
        rule: index,
    })
}

/// When a queue run first reaches the message at or after `due`.
fn reached<R: Rng + ?Sized>(due: SimTime, runs: QueueRuns, rng: &mut R) -> SimTime {
    let spread = runs.spread.as_micros();
    // The first run that can reach it in time starts within the spread before `due`.
    let mut run = super::next_run_at_or_after(due.saturating_sub(runs.spread), runs.every);
    loop {
        let offset = if spread == 0 {
            0
        } else {
            rng.random_range(0..spread)
        };
        let reach = run + SimDuration::from_micros(offset);
        if reach >= due {
            return reach;
        }
        run += runs.every;
    }
}
