//! The relay's source addresses: which one sends a message, and what each one achieved.
//!
//! The choice is a function of the message id and the sender, so every attempt of a message,
//! to every domain, comes from the same address, and a run gives the same choices whatever
//! the order of events.

use std::net::IpAddr;

use rand::Rng;
use smtpsim_des::SimRng;
use smtpsim_proto::client::{RecipientOutcome, Status};

use super::records::SourceRecord;
use crate::scenario::{Relay, Selection};

/// The pool of source addresses and each address's counts.
pub(crate) struct Sources {
    addresses: Vec<IpAddr>,
    /// Running sums of the weights: address `i` holds the slots `cumulative[i-1]..cumulative[i]`
    /// of the cycle.
    cumulative: Vec<u64>,
    selection: Selection,
    /// The first draw of the random stream `source_address`: message `m`'s weighted draw
    /// is `splitmix64(seed ^ m)`.
    seed: u64,
    counts: Vec<SourceRecord>,
    /// Whether the scenario gave a pool (its addresses are reported).
    pooled: bool,
}

impl Sources {
    /// The relay's pool (or its one address); `stream` is the random stream
    /// `source_address`.
    pub fn new(relay: &Relay, mut stream: SimRng) -> Sources {
        let sources = relay.sources();
        let addresses: Vec<IpAddr> = sources.iter().map(|(ip, _)| *ip).collect();
        let cumulative = sources
            .iter()
            .scan(0u64, |sum, (_, weight)| {
                *sum += u64::from(*weight);
                Some(*sum)
            })
            .collect();
        let counts = addresses
            .iter()
            .map(|ip| SourceRecord {
                ip: *ip,
                ..SourceRecord::default()
            })
            .collect();
        Sources {
            addresses,
            cumulative,
            selection: relay.pool.as_ref().map(|p| p.selection).unwrap_or_default(),
            seed: stream.random(),
            counts,
            pooled: relay.pool.is_some(),
        }
    }

    /// The address that sends message `message` of sender number `sender`, by its place.
    pub fn choose(&self, message: u64, sender: u32) -> usize {
        if self.addresses.len() == 1 {
            return 0;
        }
        let total = *self.cumulative.last().expect("a pool has an address");
        let slot = match self.selection {
            Selection::RoundRobin => message % total,
            Selection::BySender => u64::from(sender) % total,
            Selection::Weighted => {
                let draw = smtpsim_des::rng::splitmix64(self.seed ^ message);
                ((u128::from(draw) * u128::from(total)) >> 64) as u64
            }
        };
        self.cumulative.partition_point(|end| *end <= slot)
    }

    /// The address at place `i`.
    pub fn ip(&self, i: usize) -> IpAddr {
        self.addresses[i]
    }

    /// Counts an attempt from address `i`: its recipients' statuses (all deferred when no
    /// host answered, `unanswered` of them), and whether a limit throttled it.
    pub fn record(
        &mut self,
        i: usize,
        recipients: &[RecipientOutcome],
        unanswered: Option<usize>,
        throttled: bool,
    ) {
        // Only a pool's addresses are reported.
        if !self.pooled {
            return;
        }
        let counts = &mut self.counts[i];
        counts.attempts += 1;
        counts.throttled += u64::from(throttled);
        if let Some(n) = unanswered {
            counts.deferrals += n as u64;
            return;
        }
        for outcome in recipients {
            match outcome.status {
                Status::Accepted => counts.deliveries += 1,
                Status::Deferred => counts.deferrals += 1,
                Status::Rejected => counts.bounces += 1,
            }
        }
    }

    /// What each address of the pool achieved; nothing when the relay has no pool.
    pub fn records(&self) -> &[SourceRecord] {
        if self.pooled { &self.counts } else { &[] }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;
    use rand::SeedableRng;

    fn relay(pool: &str) -> Relay {
        let text = format!(
            "[simulation]\nname = \"x\"\nduration = \"1m\"\n\
             [[senders]]\nname = \"a\"\ndomain = \"a.example\"\n\
             arrivals = {{ process = \"constant\", rate = \"1/s\" }}\n\
             to = [{{ domain = \"b.example\" }}]\n\
             [relay]\nretry = {{ policy = \"fixed\", schedule = [\"5m\"] }}\n{pool}\n\
             [[domains]]\nname = \"b.example\"\nmx = [{{ host = \"mx.b.example\" }}]\n"
        );
        Scenario::parse(&text, "x.toml")
            .unwrap_or_else(|e| panic!("{e}"))
            .relay
    }

    const POOL: &str = "addresses = [{ ip = \"198.51.100.1\" }, \
        { ip = \"198.51.100.2\", weight = 3 }, { ip = \"2001:db8::1\" }]";

    fn shares(sources: &Sources, messages: u64, sender: u32) -> [u64; 3] {
        let mut n = [0; 3];
        for m in 0..messages {
            n[sources.choose(m, sender)] += 1;
        }
        n
    }

    #[test]
    fn round_robin_takes_each_address_weight_times_a_cycle() {
        let r = relay(&format!("pool = {{ {POOL} }}"));
        let s = Sources::new(&r, SimRng::seed_from_u64(1));
        let order: Vec<usize> = (0..10).map(|m| s.choose(m, 0)).collect();
        assert_eq!(order, [0, 1, 1, 1, 2, 0, 1, 1, 1, 2]);
    }

    #[test]
    fn weighted_draws_follow_the_weights() {
        let r = relay(&format!("pool = {{ selection = \"weighted\", {POOL} }}"));
        for seed in 1..=4 {
            let s = Sources::new(&r, SimRng::seed_from_u64(seed));
            let n = shares(&s, 100_000, 0);
            // Expected 20,000 / 60,000 / 20,000; 5 standard deviations is about 650.
            assert!((n[0] as i64 - 20_000).abs() < 650, "{seed}: {n:?}");
            assert!((n[1] as i64 - 60_000).abs() < 800, "{seed}: {n:?}");
            assert!((n[2] as i64 - 20_000).abs() < 650, "{seed}: {n:?}");
            // The same draws again, message by message.
            let again = Sources::new(&r, SimRng::seed_from_u64(seed));
            assert!((0..1000).all(|m| s.choose(m, 0) == again.choose(m, 0)));
        }
    }

    #[test]
    fn by_sender_keeps_one_address_per_sender() {
        let r = relay(&format!("pool = {{ selection = \"by_sender\", {POOL} }}"));
        let s = Sources::new(&r, SimRng::seed_from_u64(1));
        assert_eq!(shares(&s, 100, 0), [100, 0, 0]);
        assert_eq!(shares(&s, 100, 1), [0, 100, 0]);
        assert_eq!(shares(&s, 100, 4), [0, 0, 100]);
    }

    #[test]
    fn a_relay_without_pool_sends_from_its_ip_and_reports_nothing() {
        let r = relay("ip = \"192.0.2.9\"");
        let s = Sources::new(&r, SimRng::seed_from_u64(1));
        assert_eq!(s.ip(s.choose(7, 3)), "192.0.2.9".parse::<IpAddr>().unwrap());
        assert!(s.records().is_empty());
    }
}
