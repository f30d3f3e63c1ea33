//! Greylisting (RFC 6647): the first attempt of a (client address, sender, recipient) triplet
//! is deferred; a retry after the delay and within the window passes. A triplet that passed is
//! remembered for [`PASSED_LIFETIME`] after it was last seen (postgrey's `max-age`), so later
//! messages with the same triplet pass at once.

use rustc_hash::FxHashMap as HashMap;

use smtpsim_des::{SimDuration, SimTime};

use super::{CountKey, Mailbox};
use crate::stable_hash::StableHasher;

/// How long a triplet that passed is remembered after it was last seen: 35 days.
pub const PASSED_LIFETIME: SimDuration = SimDuration::from_days(35);

/// What the greylist remembers of a triplet.
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// First seen (pending) or last seen (passed).
    seen: SimTime,
    passed: bool,
}

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
    /// Triplet hash → what is known of it.
    triplets: HashMap<u64, Entry>,
    /// Counted client (address, network or sending domain) → messages passed.
    passed: HashMap<CountKey, u32>,
}

impl Greylist {
    /// A greylist that defers new triplets for `delay`, forgets triplets not retried within
    /// `window`, and stops greylisting a client after `whitelist_after` passes (0: never).
    pub fn new(delay: SimDuration, window: SimDuration, whitelist_after: u32) -> Greylist {
        Greylist {
            delay,
            window,
            whitelist_after,
            triplets: HashMap::default(),
            passed: HashMap::default(),
        }
    }

    /// Checks a triplet at `now`; `client` is what stands for the client in the triplet and
    /// in the whitelist (its address, its network or its sending domain).
    pub fn check(
        &mut self,
        now: SimTime,
        client: CountKey,
        sender: &str,
        recipient: Mailbox<'_>,
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
        client.hash_into(&mut hasher);
        hasher.write_lowercase(sender.as_bytes());
        recipient.hash_into(&mut hasher);
        let key = hasher.finish();
        let fresh = Entry {
            seen: now,
            passed: false,
        };
        let entry = self.triplets.entry(key).or_insert(fresh);
        let since =
            SimDuration::from_micros(now.as_micros().saturating_sub(entry.seen.as_micros()));
        if entry.passed {
            if since <= PASSED_LIFETIME {
                entry.seen = now;
                return GreyVerdict::Pass;
            }
            *entry = fresh;
            return GreyVerdict::Defer {
                remaining: self.delay,
            };
        }
        if since > self.delay + self.window {
            // Not retried in time: forgotten, and seen anew.
            *entry = fresh;
            GreyVerdict::Defer {
                remaining: self.delay,
            }
        } else if since >= self.delay {
            *entry = Entry {
                seen: now,
                passed: true,
            };
            *self.passed.entry(client).or_insert(0) += 1;
            GreyVerdict::Pass
        } else {
            GreyVerdict::Defer {
                remaining: SimDuration::from_micros(self.delay.as_micros() - since.as_micros()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    fn m(address: &str) -> Mailbox<'_> {
        Mailbox::split(address)
    }

    #[test]
    fn defers_then_passes_then_forgets() {
        let t = SimTime::from_secs;
        let ip = CountKey::Ip(IpAddr::from([192, 0, 2, 1]));
        let mut g = Greylist::new(SimDuration::from_secs(300), SimDuration::from_secs(3600), 0);
        assert_eq!(
            g.check(t(0), ip, "a@x", m("b@y")),
            GreyVerdict::Defer {
                remaining: SimDuration::from_secs(300)
            }
        );
        assert_eq!(
            g.check(t(100), ip, "a@x", m("b@y")),
            GreyVerdict::Defer {
                remaining: SimDuration::from_secs(200)
            }
        );
        assert_eq!(g.check(t(300), ip, "a@x", m("b@y")), GreyVerdict::Pass);
        // Another recipient is a new triplet.
        assert!(matches!(
            g.check(t(300), ip, "a@x", m("c@y")),
            GreyVerdict::Defer { .. }
        ));
        // Not retried within the window: forgotten.
        assert!(matches!(
            g.check(t(10_000), ip, "a@x", m("c@y")),
            GreyVerdict::Defer { .. }
        ));
    }

    #[test]
    fn whitelists_after_passes() {
        let t = SimTime::from_secs;
        let ip = CountKey::Ip(IpAddr::from([192, 0, 2, 1]));
        let mut g = Greylist::new(SimDuration::from_secs(60), SimDuration::from_secs(3600), 2);
        for rcpt in ["1@y", "2@y"] {
            g.check(t(0), ip, "a@x", m(rcpt));
            assert_eq!(g.check(t(60), ip, "a@x", m(rcpt)), GreyVerdict::Pass);
        }
        assert_eq!(g.check(t(61), ip, "a@x", m("new@y")), GreyVerdict::Pass);
    }
}
