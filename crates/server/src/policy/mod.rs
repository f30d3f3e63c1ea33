//! The policy each connection asks: the simulator's recipient-MX behaviour told the wall-clock
//! time, plus the server's own users, unknown addresses, chaos, the session log's health and
//! Maildir delivery. Magic addresses ([`magic`]) and then reply rules ([`rules`]) are asked
//! first. Every decision is kept, with the reason, for the session log.
//!
//! Everything an [`MxBehaviour`] remembers (greylist triplets and passes, rate-limit buckets)
//! belongs to one client address, so the server keeps [`SHARDS`] behaviours, each for the
//! client addresses that hash to it, each behind its own lock: connections from different
//! addresses decide in parallel, and a client's decisions are those of a single behaviour.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use rand::Rng;
use smtpsim_des::{RandomStreams, SimRng, SimTime};
use smtpsim_model::behaviour::{Greylist, MxBehaviour, NoChecks, UNKNOWN_USER};
use smtpsim_model::scenario::{Behaviour, CountBy, Outage, OutageMode};
use smtpsim_proto::command::{ForwardPath, Host, MailParams, RcptParams, ReversePath};
use smtpsim_proto::server::replies::MESSAGE_ACCEPTED;
use smtpsim_proto::server::{Decision, Envelope, Policy, SessionInfo};
use smtpsim_proto::{EnhancedCode, Reply};

use crate::config::ServeConfig;
use crate::console::Summary;
use crate::live::{BehaviourSettings, Live, Settings};
use crate::log::LogHealth;
use crate::magic::{Magic, Stage};
use crate::maildir::{Incoming, Maildir};
use crate::rules::RuleStage;
use crate::trace::{Hop, TlsDetails, trace_headers};

mod magic;
mod rules;

use magic::MAGIC;
use rules::{RULE, addresses};

/// How many behaviours the client addresses are spread over.
pub const SHARDS: usize = 64;

/// The MX behaviour, one per group of client addresses.
#[derive(Debug)]
pub(crate) struct Shards {
    parts: Vec<Mutex<MxBehaviour<NoChecks>>>,
    /// What the behaviour counts by, which decides the group of a client.
    count_by: CountBy,
}

impl Shards {
    /// [`SHARDS`] behaviours alike; shard `i` draws its temporary failures from its own
    /// stream `("temp_failures", i)`.
    pub(crate) fn new(behaviour: &Behaviour, seed: u64, streams: &RandomStreams) -> Shards {
        let parts = (0..SHARDS)
            .map(|i| {
                Mutex::new(MxBehaviour::new(
                    behaviour.clone(),
                    seed,
                    streams.stream("temp_failures", i as u64),
                    NoChecks,
                ))
            })
            .collect();
        Shards {
            parts,
            count_by: behaviour.count_by,
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

/// What every connection of a server shares: the behaviour and its memory (greylist,
/// rate-limit buckets), the users, the Maildir.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The behaviour, which can change while the server runs.
    live: Live,
    seed: u64,
    /// The session log's health, when there is a log.
    log: Option<Arc<LogHealth>>,
    outages: Vec<Outage>,
    start: Instant,
    users: BTreeMap<String, String>,
    pub(crate) maildir: Option<Maildir>,
    streams: RandomStreams,
    /// Whether magic addresses are read.
    magic: bool,
    /// The server's host name, for the `Received:` line.
    hostname: String,
    /// Whether sessions gather a [`Summary`] for the console.
    console: bool,
    /// The greylists of magic addresses, one per delay in seconds.
    magic_greylists: Mutex<BTreeMap<u64, Greylist>>,
}

impl Shared {
    pub(crate) fn new(
        config: &ServeConfig,
        maildir: Option<Maildir>,
        log: Option<Arc<LogHealth>>,
    ) -> Shared {
        let streams = RandomStreams::new(config.seed);
        let given = BehaviourSettings {
            behaviour: config.behaviour.clone(),
            unknown: config.unknown.clone(),
            chaos: config.chaos,
            rules: config.rules.clone(),
        };
        let settings = Settings::new(&given, !config.outages.is_empty(), config.seed, &streams);
        Shared {
            live: Live::new(settings),
            seed: config.seed,
            log,
            outages: config.outages.clone(),
            start: Instant::now(),
            users: config.users.iter().cloned().collect(),
            maildir,
            streams,
            magic: config.magic,
            hostname: config.hostname.clone(),
            console: config.console,
            magic_greylists: Mutex::new(BTreeMap::new()),
        }
    }

    /// The behaviour in force.
    pub(crate) fn behaviour(&self) -> BehaviourSettings {
        self.live.current().0.given()
    }

    /// Puts `given` in force for the decisions that follow, with fresh memory (greylist
    /// entries and rate-limit buckets start afresh).
    pub(crate) fn change_behaviour(&self, given: &BehaviourSettings) {
        let settings = Settings::new(given, !self.outages.is_empty(), self.seed, &self.streams);
        self.live.replace(settings);
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
    /// Why, in a few words: `accepted`, `greylisted`, `unknown user`, `rate limit`,
    /// `magic address`, `rule`, ...
    pub reason: &'static str,
    /// The reply rule that decided, if one did.
    pub rule: Option<String>,
}

/// The policy of one connection. See the [module documentation](self).
#[derive(Debug)]
pub struct ServePolicy {
    shared: Arc<Shared>,
    /// The connection's number.
    connection: u64,
    /// The TLS in force, once a handshake is done.
    tls: Option<TlsDetails>,
    /// The behaviour this policy decides with, and its generation.
    settings: Arc<Settings>,
    generation: u64,
    chaos: SimRng,
    latency: SimRng,
    decisions: Vec<DecisionRecord>,
    stored: Vec<String>,
    /// The message being written into the Maildir as it arrives.
    incoming: Incoming,
    /// Why the connection is to be cut without the reply (chaos in drop mode, a magic
    /// address), if it is.
    dropped: Option<&'static str>,
    /// The magic addresses of the transaction in progress (the sender, the accepted
    /// recipients), with their addresses.
    magic: Vec<(Magic, String)>,
    /// The sender's magic address, which acts at MAIL and at each RCPT.
    sender_magic: Option<(Magic, String)>,
    /// A wait a magic address asked for, before the next replies.
    magic_delay: std::time::Duration,
    /// What the session did, for the console.
    summary: Summary,
    /// The probability streams of the reply rules, by rule name: stream `("rule NAME", n)`
    /// on connection `n`.
    rule_rngs: BTreeMap<String, SimRng>,
    /// The rule that took the decision being recorded.
    rule_name: Option<String>,
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
        let (settings, generation) = shared.live.current();
        ServePolicy {
            shared,
            connection,
            tls: None,
            settings,
            generation,
            chaos,
            latency,
            decisions: Vec::new(),
            stored: Vec::new(),
            incoming: Incoming::default(),
            dropped: None,
            magic: Vec::new(),
            sender_magic: None,
            magic_delay: std::time::Duration::ZERO,
            summary: Summary::default(),
            rule_rngs: BTreeMap::new(),
            rule_name: None,
        }
    }

    /// Takes the behaviour in force if it changed since the last decision.
    fn refresh(&mut self) {
        if self.shared.live.generation() != self.generation {
            (self.settings, self.generation) = self.shared.live.current();
        }
    }

    /// Whether chaos struck in drop mode: the connection must be cut without sending the
    /// session's last reply ([`CHAOS_REPLY`]).
    pub fn dropped(&self) -> bool {
        self.dropped.is_some()
    }

    /// What the session did so far, for its console line (empty unless the server prints
    /// one).
    pub(crate) fn summary(&self) -> &Summary {
        &self.summary
    }

    /// Records the TLS the connection negotiated (for the `Received:` line).
    pub fn set_tls(&mut self, tls: TlsDetails) {
        self.tls = Some(tls);
    }

    /// The TLS the connection negotiated, if any.
    pub fn tls(&self) -> Option<&TlsDetails> {
        self.tls.as_ref()
    }

    /// Why the connection is cut without a reply, once [`ServePolicy::dropped`].
    pub fn drop_reason(&self) -> Option<&'static str> {
        self.dropped
    }

    /// How long to wait before sending the replies to what the client just sent: a draw of
    /// the behaviour's `latency` (the time the server takes to answer, as the simulator adds it
    /// to each round trip); zero without one.
    /// A magic address's `delay-STAGE-DURATION` adds its duration to the replies of its stage.
    pub fn reply_delay(&mut self) -> std::time::Duration {
        self.refresh();
        let magic = std::mem::take(&mut self.magic_delay);
        let latency = &self.settings.latency;
        if latency.is_constant() && latency.mean() == 0.0 {
            return magic;
        }
        magic + std::time::Duration::from(latency.sample(&mut self.latency).0)
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
        if strikes && self.settings.chaos.drop {
            self.dropped = Some("chaos: hung up without a reply");
        }
        strikes.then_some(Decision::Disconnect(CHAOS_REPLY))
    }

    /// Asks the MX behaviour of the client's address, told the time, if there is one.
    fn behaviour(
        &self,
        session: &SessionInfo,
        ask: impl FnOnce(&mut MxBehaviour<NoChecks>) -> Decision,
    ) -> Decision {
        let Some(shards) = &self.settings.shards else {
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
        let reason = match self.dropped {
            _ if verdict == "accept" => "accepted",
            Some(why) => why,
            None => reason(&decision),
        };
        let reply = reply.filter(|_| self.dropped.is_none());
        let rule = self.rule_name.take();
        if self.shared.console && verdict != "accept" && stage != "message" {
            let said = reply.map_or("no reply".to_string(), short);
            let about = subject
                .as_deref()
                .map_or(String::new(), |s| format!(" {s}"));
            let why = rule
                .as_ref()
                .map_or(reason.to_string(), |r| format!("rule {r}"));
            self.summary
                .push(format!("refused {stage}{about}: {said} ({why})"));
        }
        self.decisions.push(DecisionRecord {
            stage,
            verdict,
            subject,
            reply: reply.map(|r| r.to_string().replace('\n', " / ")),
            reason,
            rule,
        });
        decision
    }
}

/// The header lines before a message of `envelope` stored now on connection `id`.
fn trace(
    shared: &Shared,
    id: u64,
    tls: Option<&TlsDetails>,
    session: &SessionInfo,
    envelope: &Envelope,
) -> Vec<u8> {
    let hop = Hop {
        by: &shared.hostname,
        id,
        tls,
        at: time::OffsetDateTime::now_utc(),
    };
    trace_headers(session, envelope, hop)
}

/// A reply's code and enhanced code, such as `550 5.1.1`.
fn short(reply: &Reply) -> String {
    match reply.enhanced {
        Some(e) => format!("{} {e}", reply.code.get()),
        None => reply.code.get().to_string(),
    }
}

/// An address without its angle brackets.
fn unbracket(address: &str) -> String {
    address
        .strip_prefix('<')
        .and_then(|a| a.strip_suffix('>'))
        .unwrap_or(address)
        .to_string()
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
        self.refresh();
        if let Some(refusal) = self.rule(session, RuleStage::Connect, None, &[], None) {
            return self.record("connect", None, refusal, |_| RULE);
        }
        if let Some(failure) = self.chaos(self.settings.chaos.connect) {
            return self.record("connect", None, failure, |_| "chaos");
        }
        let decision = self.behaviour(session, |b| b.connect(session));
        self.record("connect", None, decision, |d| match enhanced(d) {
            Some((4, 3, 2)) => "outage",
            _ => "connection rate limit",
        })
    }

    fn helo(&mut self, session: &SessionInfo, domain: &Host<'_>) -> Decision {
        self.refresh();
        let name = domain.to_string();
        if let Some(refusal) = self.rule(session, RuleStage::Helo, Some(&name), &[], None) {
            return self.record("helo", Some(name), refusal, |_| RULE);
        }
        let decision = self
            .chaos(self.settings.chaos.helo)
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
        self.refresh();
        if self.shared.log.as_ref().is_some_and(|l| l.is_failing()) {
            let refusal = Decision::Refuse(LOG_FAILING);
            return self.record("mail", subject, refusal, |_| "session log failing");
        }
        let address = unbracket(&from.to_string());
        if let Some(decision) = self.magic_mail(&address) {
            return self.record("mail", subject, decision, |_| MAGIC);
        }
        if let Some(refusal) = self.rule(session, RuleStage::Mail, None, &[&address], None) {
            return self.record("mail", subject, refusal, |_| RULE);
        }
        if let Some(failure) = self.chaos(self.settings.chaos.mail) {
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
        self.refresh();
        let address = unbracket(&to.to_string());
        let own = if self.shared.magic {
            let (decision, own) = self.magic_rcpt(session, &envelope.from, &address);
            if let Some(decision) = decision {
                return self.record("rcpt", Some(address), decision, |_| MAGIC);
            }
            own
        } else {
            None
        };
        if let Some(refusal) = self.rule(session, RuleStage::Rcpt, None, &[&address], None) {
            return self.record("rcpt", Some(address), refusal, |_| RULE);
        }
        if let Some(failure) = self.chaos(self.settings.chaos.rcpt) {
            return self.record("rcpt", Some(address), failure, |_| "chaos");
        }
        if self.settings.unknown.contains(&address.to_lowercase()) {
            return self.record(
                "rcpt",
                Some(address),
                Decision::Refuse(UNKNOWN_USER),
                |_| "unknown user",
            );
        }
        let decision = self.behaviour(session, |b| b.rcpt(session, envelope, to, params));
        if decision == Decision::Accept {
            self.magic_accepted(own);
        }
        self.record("rcpt", Some(address), decision, |d| match enhanced(d) {
            Some((5, 1, 1)) => "unknown user",
            Some((4 | 5, 2, 2)) => "mailbox full",
            Some((4, 7, 1)) => "greylisted",
            Some((4, 3, 2)) => "outage",
            _ => "temporary failure",
        })
    }

    fn data(&mut self, session: &SessionInfo, envelope: &Envelope) -> Decision {
        self.refresh();
        let addresses = addresses(envelope);
        if let Some(refusal) = self.rule(session, RuleStage::Data, None, &addresses, None) {
            return self.record("data", None, refusal, |_| RULE);
        }
        let decision = self
            .chaos(self.settings.chaos.data)
            .unwrap_or(Decision::Accept);
        self.record("data", None, decision, |_| "chaos")
    }

    fn content(&mut self, session: &SessionInfo, envelope: &Envelope, piece: &[u8]) {
        if let Some(maildir) = &self.shared.maildir {
            let (id, tls) = (self.connection, self.tls.as_ref());
            let head = || trace(&self.shared, id, tls, session, envelope);
            self.incoming.write(maildir, piece, head);
        }
    }

    fn discard(&mut self, _: &SessionInfo) {
        self.incoming.discard();
    }

    fn message(&mut self, session: &SessionInfo, envelope: &Envelope, content: &[u8]) -> Decision {
        self.refresh();
        let decision = self.end_of_data(session, envelope, content);
        if self.shared.console {
            let said = match (&decision, self.dropped) {
                (_, Some(why)) => why.to_string(),
                (Decision::Accept, _) => "250".to_string(),
                (Decision::AcceptWith(r) | Decision::Refuse(r) | Decision::Disconnect(r), _) => {
                    let last = self.decisions.last();
                    let reason = last.map_or("", |d| d.reason);
                    match (reason, last.and_then(|d| d.rule.as_deref())) {
                        ("accepted", _) => short(r),
                        (_, Some(rule)) => format!("{} (rule {rule})", short(r)),
                        _ => format!("{} ({reason})", short(r)),
                    }
                }
            };
            self.summary.push(format!(
                "message <{}> -> {}: {said}",
                envelope.from,
                envelope.recipients.join(",")
            ));
        }
        decision
    }
}

impl ServePolicy {
    /// The decision at the end of the content: magic, chaos, then storing it.
    fn end_of_data(
        &mut self,
        session: &SessionInfo,
        envelope: &Envelope,
        content: &[u8],
    ) -> Decision {
        // What arrived so far is committed below, or dropped with its tmp/ file.
        let incoming = std::mem::take(&mut self.incoming);
        let asking = std::mem::take(&mut self.magic);
        if let Some(decision) = self.magic_at(Stage::Data, &asking, None) {
            return self.record("message", None, decision, |_| MAGIC);
        }
        let addresses = addresses(envelope);
        let head = Some(content);
        if let Some(refusal) = self.rule(session, RuleStage::Message, None, &addresses, head) {
            return self.record("message", None, refusal, |_| RULE);
        }
        if let Some(failure) = self.chaos(self.settings.chaos.message) {
            return self.record("message", None, failure, |_| "chaos");
        }
        let (id, tls) = (self.connection, self.tls.as_ref());
        let head = || trace(&self.shared, id, tls, session, envelope);
        let stored =
            (self.shared.maildir.as_ref()).map(|maildir| incoming.commit(maildir, content, head));
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
    use std::collections::BTreeSet;
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
        let settings = shared.live.current().0;
        let held = settings.shards.as_ref().unwrap().lock(Some(a));
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
