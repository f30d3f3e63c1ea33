//! Greylisting (RFC 6647): the first attempt of a (client address, sender, recipient) triplet
//! is deferred; a retry after the delay and within the window passes.

use std::collections::HashMap;
use std::net::IpAddr;

use smtpsim_des::{SimDuration, SimTime};

use crate::stable_hash::StableHasher;

/// The greylist's verdict for one recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GreyVerdict {
    /// Seen long enough ago (or the client is whitelisted).
    Pass,
    /// New, or retried too early: answer 451 4.7.1.
    Defer {
        /// How much longer the triplet must wait.
        remaining: SimDuration,
    },
}

/// The greylist of one receiving domain.
#[derive(Debug, Clone)]
pub struct Greylist {
    delay: SimDuration,
    window: SimDuration,
    whitelist_after: u32,
    /// Triplet hash → first seen.
    triplets: HashMap<u64, SimTime>,
    /// Client address → messages passed.
    passed: HashMap<IpAddr, u32>,
}

impl Greylist {
    /// A greylist that defers new triplets for `delay`, forgets triplets not retried within
    /// `window`, and stops greylisting a client after `whitelist_after` passes (0: never).
    pub fn new(delay: SimDuration, window: SimDuration, whitelist_after: u32) -> Greylist {
        Greylist {
            delay,
            window,
            whitelist_after,
            triplets: HashMap::new(),
            passed: HashMap::new(),
        }
    }

    /// Checks a triplet at `now`.
    pub fn check(
        &mut self,
        now: SimTime,
        client: IpAddr,
        sender: &str,
        recipient: &str,
    ) -> GreyVerdict {
        if self.whitelist_after > 0
            && self
                .passed
                .get(&client)
                .is_some_and(|n| *n >= self.whitelist_after)
        {
            return GreyVerdict::Pass;
        }
        let mut hasher = StableHasher::new();
        hasher.write(client.to_string().as_bytes());
        hasher.write(sender.to_ascii_lowercase().as_bytes());
        hasher.write(recipient.to_ascii_lowercase().as_bytes());
        let key = hasher.finish();
        let first = *self.triplets.entry(key).or_insert(now);
        let waited = SimDuration::from_micros(now.as_micros().saturating_sub(first.as_micros()));
        if waited > self.delay + self.window {
            // Forgotten: start again.
            self.triplets.insert(key, now);
            GreyVerdict::Defer {
                remaining: self.delay,
            }
        } else if waited >= self.delay {
            *self.passed.entry(client).or_insert(0) += 1;
            GreyVerdict::Pass
        } else {
            GreyVerdict::Defer {
                remaining: SimDuration::from_micros(self.delay.as_micros() - waited.as_micros()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defers_then_passes_then_forgets() {
        let t = SimTime::from_secs;
        let ip = IpAddr::from([192, 0, 2, 1]);
        let mut g = Greylist::new(SimDuration::from_secs(300), SimDuration::from_secs(3600), 0);
        assert_eq!(
            g.check(t(0), ip, "a@x", "b@y"),
            GreyVerdict::Defer {
                remaining: SimDuration::from_secs(300)
            }
        );
        assert_eq!(
            g.check(t(100), ip, "a@x", "b@y"),
            GreyVerdict::Defer {
                remaining: SimDuration::from_secs(200)
            }
        );
        assert_eq!(g.check(t(300), ip, "a@x", "b@y"), GreyVerdict::Pass);
        // Another recipient is a new triplet.
        assert!(matches!(
            g.check(t(300), ip, "a@x", "c@y"),
            GreyVerdict::Defer { .. }
        ));
        // Not retried within the window: forgotten.
        assert!(matches!(
            g.check(t(10_000), ip, "a@x", "c@y"),
            GreyVerdict::Defer { .. }
        ));
    }

    #[test]
    fn whitelists_after_passes() {
        let t = SimTime::from_secs;
        let ip = IpAddr::from([192, 0, 2, 1]);
        let mut g = Greylist::new(SimDuration::from_secs(60), SimDuration::from_secs(3600), 2);
        for rcpt in ["1@y", "2@y"] {
            g.check(t(0), ip, "a@x", rcpt);
            assert_eq!(g.check(t(60), ip, "a@x", rcpt), GreyVerdict::Pass);
        }
        assert_eq!(g.check(t(61), ip, "a@x", "new@y"), GreyVerdict::Pass);
    }
}
