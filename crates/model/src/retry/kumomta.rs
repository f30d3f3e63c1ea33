//! KumoMTA's retry schedule, as its `kumod` computes it (KumoCorp/kumomta,
//! `crates/kumod/src/queue/config.rs` and `queue.rs`):
//!
//! - `QueueConfig::delay_for_attempt(n)`: `retry_interval × 2^n` in whole seconds, at most
//!   `max_retry_interval`, where `n` counts the attempts made before this failure (0 at the
//!   first failure);
//! - `increment_attempts_and_update_delay`: jitter of magnitude
//!   `m = min(retry_interval / 20, 60 s)`, drawn uniform in `[−m/2, m/2)` and truncated to
//!   whole seconds (`jitter as i64`), is added to the delay;
//! - the message expires at this failure when `age + delay > max_age`.

use rand::Rng;
use smtpsim_des::{SimDuration, SimTime};

use super::{History, NextAttempt};
use crate::scenario::KumoMta;

/// The next attempt after a failure at `now`, or `None` when it would come after `max_age`.
pub(super) fn next<R: Rng + ?Sized>(
    config: &KumoMta,
    max_age: SimDuration,
    now: SimTime,
    history: &History,
    rng: &mut R,
) -> Option<NextAttempt> {
    let attempt = history.failures.max(1) - 1;
    let interval = config.retry_interval.0.as_micros() / 1_000_000;
    let mut secs = interval.saturating_mul(2u64.saturating_pow(attempt));
    if let Some(max) = config.max_retry_interval {
        secs = secs.min(max.0.as_micros() / 1_000_000);
    }
    let mut secs = i64::try_from(secs).unwrap_or(i64::MAX);
    if config.jitter {
        let magnitude = (interval as f64 / 20.0).min(60.0);
        let jitter = rng.random::<f64>() * magnitude - magnitude / 2.0;
        secs = secs.saturating_add(jitter.trunc() as i64);
    }
    let delay = SimDuration::from_secs(u64::try_from(secs).unwrap_or(0));
    let age = now.saturating_duration_since(history.arrived);
    if age + delay > max_age {
        return None;
    }
    Some(NextAttempt {
        at: now + delay,
        delay,
        rule: 0,
    })
}
