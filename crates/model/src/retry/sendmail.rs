//! Sendmail with a queue runner (`sendmail -bd -q30m`): a deferred message stays in the queue
//! and is tried again by the next queue run, at whole multiples of `queue_interval` from the
//! start of the simulation, strictly after the failure; with `MinQueueAge`, a run skips it
//! until that long has passed since the failure. It bounces when a failure comes
//! `Timeout.queuereturn` after it was queued (the relay's queue lifetime).

use smtpsim_des::SimTime;

use super::{History, NextAttempt};
use crate::scenario::Sendmail;

/// The next attempt after a failure at `now`.
pub(super) fn next(config: &Sendmail, now: SimTime, _history: &History) -> NextAttempt {
    let run = config.queue_interval.micros().max(1);
    let after = (now.as_micros() / run).saturating_add(1);
    let earliest = (now + config.min_queue_age.0).as_micros().div_ceil(run);
    let at = SimTime::from_micros(after.max(earliest).saturating_mul(run));
    NextAttempt {
        at,
        delay: at.saturating_duration_since(now),
        rule: 0,
    }
}
