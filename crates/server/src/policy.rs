//! The policy each connection asks: the simulator's recipient-MX behaviour told the wall-clock
//! time, plus the server's own users, unknown addresses, chaos, the session log's health and
//! Maildir delivery. Every decision is kept, with the reason, for the session log.
//!
//! Everything an [`MxBehaviour`] remembers (greylist triplets and passes, rate-limit buckets)
//! belongs to one client address, so the server keeps [`SHARDS`] behaviours, each for the
//! client addresses that hash to it, each behind its own lock: connections from different
//! addresses decide in parallel, and a client's decisions are those of a single behaviour.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use rand::Rng;
use smtpsim_des::{RandomStreams, SimRng, SimTime};
use smtpsim_model::behaviour::{MxBehaviour, NoChecks, UNKNOWN_USER};
use smtpsim_model::scenario::{
    Behaviour, CountBy, Dist, Duration as ScenarioDuration, Outage, OutageMode,
};
use smtpsim_proto::command::{ForwardPath, Host, MailParams, RcptParams, ReversePath};
use smtpsim_proto::server::replies::MESSAGE_ACCEPTED;
use smtpsim_proto::server::{Decision, Envelope, Policy, SessionInfo};
use smtpsim_proto::{EnhancedCode, Reply};

use crate::config::{Chaos, ServeConfig};
use crate::log::LogHealth;
use crate::maildir::{Incoming, Maildir};

/// How many behaviours the client addresses are spread over.
pub const SHARDS: usize = 64;

/// The MX behaviour, one per group of client addresses.
#[derive(Debug)]
struct Shards {
    parts: Vec<Mutex<MxBehaviour<NoChecks>>>,
    /// What the behaviour counts by, which decides the group of a client.
    count_by: CountBy,
}

impl Shards {
    /// [`SHARDS`] behaviours alike; shard `i` draws its temporary failures from its own
    /// stream `("temp_failures", i)`.
    fn new(config: &ServeConfig, streams: &RandomStreams) -> Shards {
        let parts = (0..SHARDS)
            .map(|i| {
                Mutex::new(MxBehaviour::new(
                    config.behaviour.clone(),
                    config.seed,
                    streams.stream("temp_failures", i as u64),
                    NoChecks,
                ))
            })
            .collect();
        Shards {
            parts,
            count_by: config.behaviour.count_by,
        }
    }

    /// The group whose memory answers `client` (its address, its network, or one group for
    /// all when the behaviour counts by sending domain).
    fn group_of(&self, client: Option<IpAddr>) -> Option<IpAddr> {
        smtpsim_model::behaviour::group_of(self.count_by, client)
    }

    /// The behaviour that keeps the memory of `client`'s group, locked.
    fn lock(&self, client: Option<IpAddr>) -> MutexGuard<'_, MxBehaviour<NoChecks>> {
        self.parts[shard_of(client)]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }
}

/// The shard of a client address (an IPv4-mapped IPv6 address counts as its IPv4 address).
fn shard_of(client: Option<IpAddr>) -> usize {
    let bits = match client.map(|ip| ip.to_canonical()) {
        None => 0,
        Some(IpAddr::V4(ip)) => u64::from(ip.to_bits()),
        Some(IpAddr::V6(ip)) => {
            let bits = ip.to_bits();
            (bits >> 64) as u64 ^ bits as u64
        }
    };
    (smtpsim_des::rng::splitmix64(bits) % SHARDS as u64) as usize
}

/// `451 4.3.0` to a new transaction while the session log cannot be written.
const LOG_FAILING: Reply = Reply::new_static(
    451,
    Some(EnhancedCode::new(4, 3, 0)),
    "Cannot log transactions now, try again later",
);

/// What every connection of a server shares: the behaviour's memory (greylist, rate-limit
/// buckets), the users, the Maildir.
#[derive(Debug)]
pub(crate) struct Shared {
    /// `None` when the behaviour accepts everything and there are no outages (a sink asks
    /// nothing).
    behaviour: Option<Shards>,
    /// The session log's health, when there is a log.
    log: Option<Arc<LogHealth>>,
    outages: Vec<Outage>,
    start: Instant,
    unknown: BTreeSet<String>,
    users: BTreeMap<String, String>,
    pub(crate) maildir: Option<Maildir>,
    chaos: Chaos,
    /// Time the server takes to answer, drawn for each batch of replies.
    latency: Dist<ScenarioDuration>,
    streams: RandomStreams,
}

impl Shared {
    pub(crate) fn new(
        config: &ServeConfig,
        maildir: Option<Maildir>,
        log: Option<Arc<LogHealth>>,
    ) -> Shared {
        let streams = RandomStreams::new(config.seed);
        let needed = !accepts_everything(&config.behaviour) || !config.outages.is_empty();
        let behaviour = needed.then(|| Shards::new(config, &streams));
        Shared {
            behaviour,
            log,
            outages: config.outages.clone(),
            start: Instant::now(),
            unknown: config.unknown.iter().map(|a| a.to_lowercase()).collect(),
            users: config.users.iter().cloned().collect(),
            maildir,
            chaos: config.chaos,
            latency: config.behaviour.latency.clone(),
            streams,
        }
    }

    /// Wall-clock time since start-up, as the model's time.
    pub(crate) fn now(&self) -> SimTime {
        SimTime::from_micros(u64::try_from(self.start.elapsed().as_micros()).unwrap_or(u64::MAX))
    }

    /// The outage in force now, if any.
    pub(crate) fn outage(&self) -> Option<OutageMode> {
        let now = self.now().as_micros();
        self.outages
            .iter()
            .find(|o| o.start.micros() <= now && now < o.end.micros())
            .map(|o| o.mode)
    }
}

/// Whether `behaviour` never refuses anything (its MX behaviour need not be asked).
fn accepts_everything(b: &Behaviour) -> bool {
    !b.require_tls
        && b.size_limit.is_none()
        && b.unknown_users.0 == 0.0
        && b.full_mailboxes.is_none()
        && b.temp_failures.0 == 0.0
        && b.greylisting.is_none()
        && b.rate_limits.connections.is_none()
        && b.rate_limits.messages.is_none()
}

/// One decision and why, for the session log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionRecord {
    /// `connect`, `helo`, `auth`, `mail`, `rcpt`, `data` or `message`.
    pub stage: &'static str,
    /// `accept`, `refuse` or `disconnect`.
    pub verdict: &'static str,
    /// What was decided about (the address, the user), if anything.
    pub subject: Option<String>,
    /// The reply the decision gave, if it was not the session's usual one.
    pub reply: Option<String>,
    /// Why, in a few words: `accepted`, `greylisted`, `unknown user`, `rate limit`, ...
    pub reason: &'static str,
}

/// The policy of one connection. See the [module documentation](self).
#[derive(Debug)]
pub struct ServePolicy {
    shared: Arc<Shared>,
    chaos: SimRng,
    latency: SimRng,
    decisions: Vec<DecisionRecord>,
    stored: Vec<String>,
    /// The message being written into the Maildir as it arrives.
    incoming: Incoming,
    /// Chaos struck in drop mode: the connection is to be cut without the reply.
    dropped: bool,
}

/// The reply of a chaos failure (not sent in drop mode).
pub const CHAOS_REPLY: Reply = Reply::new_static(
    421,
    Some(EnhancedCode::new(4, 3, 0)),
    "Simulated failure, closing connection; try again later",
);

impl ServePolicy {
    pub(crate) fn new(shared: Arc<Shared>, connection: u64) -> ServePolicy {
        let chaos = shared.streams.stream("chaos", connection);
        let latency = shared.streams.stream("latency", connection);
        ServePolicy {
            shared,
            chaos,
            latency,
            decisions: Vec::new(),
            stored: Vec::new(),
            incoming: Incoming::default(),
            dropped: false,
        }
    }

    /// Whether chaos struck in drop mode: the connection must be cut without sending the
    /// session's last reply ([`CHAOS_REPLY`]).
    pub fn dropped(&self) -> bool {
        self.dropped
    }

    /// How long to wait before sending the replies to what the client just sent: a draw of
    /// the behaviour's `latency` (the time the server takes to answer, as the simulator adds it
    /// to each round trip); zero without one.
    pub fn reply_delay(&mut self) -> std::time::Duration {
        let latency = &self.shared.latency;
        if latency.is_constant() && latency.mean() == 0.0 {
            return std::time::Duration::ZERO;
        }
        latency.sample(&mut self.latency).0.into()
    }

    /// Takes the decisions made since the last call.
    pub fn take_decisions(&mut self) -> Vec<DecisionRecord> {
        std::mem::take(&mut self.decisions)
    }

    /// Takes the Maildir names of the messages stored since the last call.
    pub fn take_stored(&mut self) -> Vec<String> {
        std::mem::take(&mut self.stored)
    }

    /// A chaos failure at a stage with probability `p`.
    fn chaos(&mut self, p: f64) -> Option<Decision> {
        let strikes = p > 0.0 && self.chaos.random::<f64>() < p;
        self.dropped |= strikes && self.shared.chaos.drop;
        strikes.then_some(Decision::Disconnect(CHAOS_REPLY))
    }

    /// Asks the MX behaviour of the client's address, told the time, if there is one.
    fn behaviour(
        &self,
        session: &SessionInfo,
        ask: impl FnOnce(&mut MxBehaviour<NoChecks>) -> Decision,
    ) -> Decision {
        let Some(shards) = &self.shared.behaviour else {
            return Decision::Accept;
        };
        let now = self.shared.now();
        let outage = self.shared.outage();
        let mut behaviour = shards.lock(shards.group_of(session.client_ip));
        behaviour.begin(now, outage);
        ask(&mut behaviour)
    }

    fn record(
        &mut self,
        stage: &'static str,
        subject: Option<String>,
        decision: Decision,
        reason: impl FnOnce(&Decision) -> &'static str,
    ) -> Decision {
        let (verdict, reply) = match &decision {
            Decision::Accept => ("accept", None),
            Decision::AcceptWith(r) => ("accept", Some(r)),
            Decision::Refuse(r) => ("refuse", Some(r)),
            Decision::Disconnect(r) => ("disconnect", Some(r)),
        };
        let reason = if verdict == "accept" {
            "accepted"
        } else if self.dropped {
            "chaos: hung up without a reply"
        } else {
            reason(&decision)
        };
        let reply = reply.filter(|_| !self.dropped);
        self.decisions.push(DecisionRecord {
            stage,
            verdict,
            subject,
            reply: reply.map(|r| r.to_string().replace('\n', " / ")),
            reason,
        });
        decision
    }
}

/// The enhanced code of a refusal, as `(class, subject, detail)`.
fn enhanced(decision: &Decision) -> Option<(u8, u16, u16)> {
    match decision {
        Decision::Refuse(r) | Decision::Disconnect(r) => {
            r.enhanced.map(|e| (e.class, e.subject, e.detail))
        }
        _ => None,
    }
}

impl Policy for ServePolicy {
    fn connect(&mut self, session: &SessionInfo) -> Decision {
        if let Some(failure) = self.chaos(self.shared.chaos.connect) {
            return self.record("connect", None, failure, |_| "chaos");
        }
        let decision = self.behaviour(session, |b| b.connect(session));
        self.record("connect", None, decision, |d| match enhanced(d) {
            Some((4, 3, 2)) => "outage",
            _ => "connection rate limit",
        })
    }

    fn helo(&mut self, _: &SessionInfo, domain: &Host<'_>) -> Decision {
        let decision = self
            .chaos(self.shared.chaos.helo)
            .unwrap_or(Decision::Accept);
        self.record("helo", Some(domain.to_string()), decision, |_| "chaos")
    }

    fn auth(&mut self, _: &SessionInfo, identity: &str, password: &str) -> Decision {
        let known = self
            .shared
            .users
            .get(identity)
            .is_some_and(|p| p == password);
        let decision = if known {
            Decision::Accept
        } else {
            Decision::refuse(535, (5, 7, 8), "Authentication credentials invalid")
        };
        self.record(
            "auth",
            Some(identity.to_string()),
            decision,
            |_| "bad credentials",
        )
    }

    fn mail(
        &mut self,
        session: &SessionInfo,
        from: &ReversePath<'_>,
        params: &MailParams<'_>,
    ) -> Decision {
        let subject = Some(from.to_string());
        if self.shared.log.as_ref().is_some_and(|l| l.is_failing()) {
            let refusal = Decision::Refuse(LOG_FAILING);
            return self.record("mail", subject, refusal, |_| "session log failing");
        }
        if let Some(failure) = self.chaos(self.shared.chaos.mail) {
            return self.record("mail", subject, failure, |_| "chaos");
        }
        let decision = self.behaviour(session, |b| b.mail(session, from, params));
        self.record("mail", subject, decision, |d| match enhanced(d) {
            Some((5, 7, 0)) => "TLS required",
            Some((5, 3, 4)) => "size limit",
            _ => "message rate limit",
        })
    }

    fn rcpt(
        &mut self,
        session: &SessionInfo,
        envelope: &Envelope,
        to: &ForwardPath<'_>,
        params: &RcptParams<'_>,
    ) -> Decision {
        let address = to.to_string();
        let address = address
            .strip_prefix('<')
            .and_then(|a| a.strip_suffix('>'))
            .unwrap_or(&address)
            .to_string();
        if let Some(failure) = self.chaos(self.shared.chaos.rcpt) {
            return self.record("rcpt", Some(address), failure, |_| "chaos");
        }
        if self.shared.unknown.contains(&address.to_lowercase()) {
            return self.record(
                "rcpt",
                Some(address),
                Decision::Refuse(UNKNOWN_USER),
                |_| "unknown user",
            );
        }
        let decision = self.behaviour(session, |b| b.rcpt(session, envelope, to, params));
        self.record("rcpt", Some(address), decision, |d| match enhanced(d) {
            Some((5, 1, 1)) => "unknown user",
            Some((4 | 5, 2, 2)) => "mailbox full",
            Some((4, 7, 1)) => "greylisted",
            Some((4, 3, 2)) => "outage",
            _ => "temporary failure",
        })
    }

    fn data(&mut self, _: &SessionInfo, _: &Envelope) -> Decision {
        let decision = self
            .chaos(self.shared.chaos.data)
            .unwrap_or(Decision::Accept);
        self.record("data", None, decision, |_| "chaos")
    }

    fn content(&mut self, _: &SessionInfo, _: &Envelope, piece: &[u8]) {
        if let Some(maildir) = &self.shared.maildir {
            self.incoming.write(maildir, piece);
        }
    }

    fn discard(&mut self, _: &SessionInfo) {
        self.incoming.discard();
    }

    fn message(&mut self, _: &SessionInfo, _: &Envelope, content: &[u8]) -> Decision {
        // What arrived so far is committed below, or dropped with its tmp/ file.
        let incoming = std::mem::take(&mut self.incoming);
        if let Some(failure) = self.chaos(self.shared.chaos.message) {
            return self.record("message", None, failure, |_| "chaos");
        }
        let stored =
            (self.shared.maildir.as_ref()).map(|maildir| incoming.commit(maildir, content));
        let decision = match stored {
            None => Decision::Accept,
            Some(result) => match result {
                Ok(name) => {
                    let text = format!("Message accepted for delivery as {name}");
                    self.stored.push(name);
                    Decision::AcceptWith(MESSAGE_ACCEPTED.with_text(text))
                }
                Err(_) => Decision::refuse(
                    451,
                    (4, 3, 0),
                    "Cannot store the message now, try again later",
                ),
            },
        };
        self.record("message", None, decision, |_| "cannot store")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smtpsim_model::scenario::{Rate, TokenBucket};
    use std::sync::mpsc;
    use std::time::Duration;

    /// A server that allows one new connection per client address a minute.
    fn one_connection_a_minute() -> Arc<Shared> {
        let mut config = ServeConfig::new("127.0.0.1:0".parse().unwrap());
        config.behaviour.rate_limits.connections = Some(TokenBucket {
            rate: Rate::per_second(1.0 / 60.0).unwrap(),
            burst: 1,
            reply: None,
        });
        Arc::new(Shared::new(&config, None, None))
    }

    fn from(ip: IpAddr) -> SessionInfo {
        SessionInfo {
            client_ip: Some(ip),
            ..SessionInfo::default()
        }
    }

    #[test]
    fn an_address_keeps_its_shard_and_addresses_spread() {
        let v4: IpAddr = "192.0.2.7".parse().unwrap();
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(shard_of(Some(v4)), shard_of(Some(mapped)));
        let used: BTreeSet<usize> = (0..=255u8)
            .map(|i| shard_of(Some(IpAddr::from([10, 0, 0, i]))))
            .collect();
        assert!(used.len() > SHARDS / 2, "{} shards used", used.len());
    }

    /// While one client address's behaviour is held (a decision that takes long), a client
    /// at another address is answered, by its own behaviour's memory.
    #[test]
    fn a_held_decision_does_not_hold_other_addresses_back() {
        let shared = one_connection_a_minute();
        let a = IpAddr::from([192, 0, 2, 1]);
        let b = (2..=255u8)
            .map(|i| IpAddr::from([192, 0, 2, i]))
            .find(|b| shard_of(Some(*b)) != shard_of(Some(a)))
            .unwrap();
        let held = shared.behaviour.as_ref().unwrap().lock(Some(a));
        let (tx, rx) = mpsc::channel();
        let other = shared.clone();
        std::thread::spawn(move || {
            let mut policy = ServePolicy::new(other, 2);
            let first = policy.connect(&from(b));
            let second = policy.connect(&from(b));
            let _ = tx.send((first, second));
        });
        let (first, second) = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("a decision at another address goes on while one is held");
        assert_eq!(first, Decision::Accept);
        assert!(matches!(second, Decision::Disconnect(r) if r.code.get() == 421));
        drop(held);
        // The held address has its own bucket, still full.
        let mut policy = ServePolicy::new(shared, 3);
        assert_eq!(policy.connect(&from(a)), Decision::Accept);
    }

    /// Counted by network, two addresses of one /24 that fall in different shards share one
    /// memory: the second is over the limit the first used up.
    #[test]
    fn a_network_keeps_one_memory_across_shards() {
        let mut config = ServeConfig::new("127.0.0.1:0".parse().unwrap());
        config.behaviour.count_by = CountBy::Network;
        config.behaviour.rate_limits.connections = Some(TokenBucket {
            rate: Rate::per_second(1.0 / 60.0).unwrap(),
            burst: 1,
            reply: None,
        });
        let shared = Arc::new(Shared::new(&config, None, None));
        let a = IpAddr::from([192, 0, 2, 1]);
        let b = (2..=255u8)
            .map(|i| IpAddr::from([192, 0, 2, i]))
            .find(|b| shard_of(Some(*b)) != shard_of(Some(a)))
            .unwrap();
        let mut policy = ServePolicy::new(shared, 4);
        assert_eq!(policy.connect(&from(a)), Decision::Accept);
        assert!(matches!(policy.connect(&from(b)), Decision::Disconnect(r) if r.code.get() == 421));
        assert_eq!(
            policy.connect(&from(IpAddr::from([192, 0, 3, 1]))),
            Decision::Accept
        );
    }
}
