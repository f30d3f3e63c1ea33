//! Haraka's outbound retries (haraka/Haraka, `outbound/hmail.js` `temp_fail` and
//! `outbound/config.js` `set_temp_fail_intervals`): at its n-th temporary failure a message
//! waits `temp_fail_intervals[n − 1]`; when `n` passes the list's length it bounces ("Too many
//! failures"). Without `temp_fail_intervals` the list is `2^(i+5)` seconds for
//! i = 1 … `maxTempFailures − 1`: 64 s, 128 s, … 131072 s with the default of 13.

use smtpsim_des::SimTime;

use super::{History, NextAttempt};
use crate::scenario::Haraka;

/// The next attempt after a failure at `now`, or `None` when the list has run out.
pub(super) fn next(config: &Haraka, now: SimTime, history: &History) -> Option<NextAttempt> {
    let n = history.failures.max(1) as usize;
    let delay = *config.intervals().get(n - 1)?;
    Some(NextAttempt {
        at: now + delay,
        delay,
        rule: 0,
    })
}
