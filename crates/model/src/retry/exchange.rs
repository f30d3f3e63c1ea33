//! Exchange's transport retries (`Set-TransportService`): after each of the first
//! `TransientFailureRetryCount` failures the message waits `TransientFailureRetryInterval`;
//! after later ones, `MessageRetryInterval`. Exchange retries a whole queue after connection
//! failures (with `OutboundConnectionFailureRetryInterval`); here each message is retried on
//! its own, as Exchange retries a message in the Retry state: that much is modelled.

use smtpsim_des::SimTime;

use super::{History, NextAttempt};
use crate::scenario::Exchange;

/// The next attempt after a failure at `now`.
pub(super) fn next(config: &Exchange, now: SimTime, history: &History) -> NextAttempt {
    let n = history.failures.max(1);
    let delay = if n <= config.transient_failure_retry_count {
        config.transient_failure_retry_interval.0
    } else {
        config.message_retry_interval.0
    };
    NextAttempt {
        at: now + delay,
        delay,
        rule: 0,
    }
}
