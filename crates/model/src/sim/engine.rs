//! The event loop: arrivals, submission, DNS, connection slots, attempts, retries, samples.
//!
//! A delivery ("job") is one message to one recipient domain: the relay sends it in one SMTP
//! transaction with all of the message's recipients at that domain, and retries the ones
//! deferred. Its story, event by event:
//!
//! 1. `Arrival`: the application submits the message (or fails to authenticate); one job per
//!    recipient domain is created and resolved after the submission latency.
//! 2. `Resolve` → `Resolved`: the relay looks the domain's MX up (latency, SERVFAIL,
//!    timeout, NXDOMAIN, null MX).
//! 3. The job waits for a connection slot (global and per-domain limits, shaping), then an
//!    attempt runs the SMTP exchange with the MX hosts in preference order.
//! 4. `AttemptDone`: accepted recipients are delivered to inbox or spam, refused ones bounce,
//!    deferred ones wait for the retry policy's next attempt (back to 2) or expire.

use std::rc::Rc;

use rand::Rng;
use smtpsim_des::{EventQueue, SimDuration, SimTime};
use smtpsim_proto::Reply;
use smtpsim_proto::client::{RecipientOutcome, Speaker, Stage, Status};
use smtpsim_proto::reply::{EnhancedCode, ReplyCode};

use super::content;
use super::exchange::{self, Attempt, Resumed};
use super::placement::Verdict;
use super::records::{
    Fate, Hop, RecipientRecord, Recorder, RunStats, Sample, TraceKind, TraceRecord,
};
use super::world::{Route, World};
use super::{ExchangeMode, Options, SimError};
use crate::retry::History;
use crate::scenario::{OutageMode, Scenario};

/// Runs `scenario` to the end, streaming what happens to `recorder`.
pub fn run(
    scenario: &Scenario,
    options: &Options,
    recorder: &mut dyn Recorder,
) -> Result<RunStats, SimError> {
    let world = World::build(scenario, options)?;
    let mut engine = Engine {
        world,
        queue: EventQueue::new(),
        jobs: Vec::new(),
        free_jobs: Vec::new(),
        rotation: std::collections::VecDeque::new(),
        connections: 0,
        options: options.clone(),
        stats: RunStats::default(),
        counters: Sample::default(),
        pending: 0,
        arrivals_scheduled: 0,
        scratch: exchange::Scratch::default(),
        descriptions: Descriptions::default(),
        empty: Rc::from(""),
        recorder,
    };
    engine.start();
    engine.run_loop();
    Ok(engine.stats)
}

#[derive(Debug, Clone, Copy)]
enum Event {
    Arrival { sender: u32 },
    Resolve { job: u32 },
    Resolved { job: u32, answer: DnsAnswer },
    AttemptDone { job: u32 },
    ShapingWakeup { domain: u32 },
    Sample,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DnsAnswer {
    Found,
    NxDomain,
    NullMx,
    ServFail,
    Timeout,
}

struct Recipient {
    address: String,
    done: bool,
    last_reply: Option<Reply>,
    reasons: Rc<str>,
}

struct Job {
    message: u64,
    sender: u32,
    domain: u32,
    recipients: Vec<Recipient>,
    submitted: SimTime,
    size: u64,
    traced: bool,
    altered: bool,
    first_attempt: Option<SimTime>,
    first_failure: Option<SimTime>,
    failures: u32,
    attempts: u32,
    previous: Option<(SimDuration, usize)>,
    /// Deferred, waiting for its next attempt.
    waiting_retry: bool,
    ready_since: SimTime,
    queue_wait: SimDuration,
    /// The outcome of the attempt in progress, applied when it ends.
    result: Option<AttemptOutcome>,
}

struct AttemptOutcome {
    /// The connection left open for another message, with connection reuse.
    open: Option<OpenConnection>,
    recipients: Vec<RecipientOutcome>,
    verdict: Option<Verdict>,
    /// The reply or note that decided when no MX host could be reached.
    unreachable: Option<&'static str>,
}

/// A connection to an MX host kept open between messages.
#[derive(Debug, Clone, Copy)]
struct OpenConnection {
    /// The host, by its place in the domain's preference order.
    host: usize,
    /// The connection's round-trip time.
    rtt: SimDuration,
    /// Transactions sent over it so far.
    sent: u32,
    state: Resumed,
}

struct Engine<'r> {
    world: World,
    queue: EventQueue<Event>,
    jobs: Vec<Option<Job>>,
    free_jobs: Vec<u32>,
    /// Domains with deliveries waiting for a connection, served in turn.
    rotation: std::collections::VecDeque<u32>,
    connections: u32,
    options: Options,
    stats: RunStats,
    counters: Sample,
    /// Scheduled events other than samples: the run ends when none are left.
    pending: u64,
    arrivals_scheduled: u64,
    scratch: exchange::Scratch,
    descriptions: Descriptions,
    /// The empty reason, shared.
    empty: Rc<str>,
    recorder: &'r mut dyn Recorder,
}

impl Engine<'_> {
    fn start(&mut self) {
        for sender in 0..self.world.senders.len() as u32 {
            self.schedule_arrival(sender);
        }
        self.queue.schedule(SimTime::ZERO, Event::Sample);
    }

    fn schedule(&mut self, at: SimTime, event: Event) {
        self.pending += 1;
        self.queue.schedule(at, event);
    }

    fn run_loop(&mut self) {
        while let Some((now, event)) = self.queue.pop() {
            self.stats.events += 1;
            self.stats.end = now;
            if !matches!(event, Event::Sample) {
                self.pending -= 1;
            }
            match event {
                Event::Arrival { sender } => self.arrival(now, sender),
                Event::Resolve { job } => self.resolve(now, job),
                Event::Resolved { job, answer } => self.resolved(now, job, answer),
                Event::AttemptDone { job } => self.attempt_done(now, job),
                Event::ShapingWakeup { domain } => {
                    self.world.domains[domain as usize].shaping_wakeup = false;
                    self.enter_rotation(domain);
                    self.dispatch(now);
                }
                Event::Sample => {
                    self.counters.time = now;
                    self.counters.connections = u64::from(self.connections);
                    self.recorder.sample(&self.counters);
                    if self.pending > 0 {
                        self.queue
                            .schedule(now + self.world.interval, Event::Sample);
                    }
                }
            }
        }
    }

    // --- arrivals and submission -------------------------------------------------------

    fn schedule_arrival(&mut self, sender: u32) {
        if self
            .world
            .max_messages
            .is_some_and(|max| self.arrivals_scheduled >= max)
        {
            return;
        }
        let s = &mut self.world.senders[sender as usize];
        let Some(at) = s.arrivals.next(s.last_arrival, &mut s.arrival_rng) else {
            return;
        };
        s.last_arrival = Some(at);
        if at >= self.world.arrivals_end {
            return;
        }
        self.arrivals_scheduled += 1;
        self.schedule(at, Event::Arrival { sender });
    }

    fn arrival(&mut self, now: SimTime, sender: u32) {
        let id = self.stats.messages;
        self.stats.messages += 1;
        self.schedule_arrival(sender);

        let traced = self.options.trace.traces(id);
        let s = &mut self.world.senders[sender as usize];
        let rng = &mut s.message_rng;
        let count = s.recipients.sample(rng).0.max(1);
        let size = s.size.sample(rng).0;
        let auth_failed = s.auth_failure > 0.0 && rng.random::<f64>() < s.auth_failure;
        let altered = s.dkim.is_some() && s.altered > 0.0 && rng.random::<f64>() < s.altered;
        let latency = s.submission_latency.sample(rng).0;
        // Recipients, grouped by domain in order of first appearance.
        let mut groups: Vec<(u32, Vec<String>)> = Vec::new();
        for _ in 0..count {
            let pick = rng.random::<f64>();
            let domain = s
                .destinations
                .iter()
                .find(|(cumulative, _)| pick < *cumulative)
                .or(s.destinations.last())
                .map(|(_, d)| *d)
                .expect("a sender has destinations");
            let user = rng.random_range(0..1_000_000u32);
            let domain_name = &self.world.domains[domain as usize].name;
            let mut number = itoa::Buffer::new();
            let number = number.format(user);
            let mut address = String::with_capacity(5 + number.len() + domain_name.len());
            address.push_str("user");
            address.push_str(number);
            address.push('@');
            address.push_str(domain_name);
            match groups.iter_mut().find(|(d, _)| *d == domain) {
                Some((_, list)) => list.push(address),
                None => groups.push((domain, vec![address])),
            }
        }
        let submitted_at = now + latency;

        if traced {
            let s = &self.world.senders[sender as usize];
            let mut lines = vec![
                (
                    TraceKind::Note,
                    format!("{} submits message {id} ({size} bytes)", s.name),
                ),
                (TraceKind::Client, "EHLO app.internal".to_string()),
                (TraceKind::Client, "STARTTLS".to_string()),
                (
                    TraceKind::Client,
                    "AUTH PLAIN <base64 credentials>".to_string(),
                ),
            ];
            if auth_failed {
                lines.push((
                    TraceKind::Server,
                    "535 5.7.8 Authentication credentials invalid".to_string(),
                ));
            } else {
                lines.push((
                    TraceKind::Server,
                    "235 2.7.0 Authentication successful".to_string(),
                ));
                lines.push((
                    TraceKind::Client,
                    format!("MAIL FROM:<{}> SIZE={size}", s.envelope_from),
                ));
                for (_, list) in &groups {
                    for address in list {
                        lines.push((TraceKind::Client, format!("RCPT TO:<{address}>")));
                    }
                }
                lines.push((TraceKind::Server, format!("250 2.0.0 Ok: queued as {id:X}")));
            }
            for (kind, text) in &lines {
                self.recorder.trace(&TraceRecord {
                    time: now,
                    message_id: id,
                    attempt: 0,
                    hop: Hop::AppRelay,
                    kind: *kind,
                    text,
                });
            }
        }

        for (domain, addresses) in groups {
            let recipients = addresses
                .into_iter()
                .map(|address| Recipient {
                    address,
                    done: false,
                    last_reply: None,
                    reasons: self.empty.clone(),
                })
                .collect();
            let job = self.new_job(Job {
                message: id,
                sender,
                domain,
                recipients,
                submitted: now,
                size,
                traced,
                altered,
                first_attempt: None,
                first_failure: None,
                failures: 0,
                attempts: 0,
                previous: None,
                waiting_retry: false,
                ready_since: now,
                queue_wait: SimDuration::ZERO,
                result: None,
            });
            if auth_failed {
                let reply = Reply::new(
                    ReplyCode::new(535).expect("valid code"),
                    Some(EnhancedCode::new(5, 7, 8)),
                    "Authentication credentials invalid",
                );
                self.finish_all(
                    submitted_at,
                    job,
                    Fate::RejectedAtSubmission,
                    Some(reply),
                    "the relay refused the application's credentials",
                );
                self.free_job(job);
            } else {
                self.counters.active += 1;
                self.schedule(submitted_at, Event::Resolve { job });
            }
        }
    }

    fn new_job(&mut self, job: Job) -> u32 {
        match self.free_jobs.pop() {
            Some(i) => {
                self.jobs[i as usize] = Some(job);
                i
            }
            None => {
                self.jobs.push(Some(job));
                (self.jobs.len() - 1) as u32
            }
        }
    }

    fn free_job(&mut self, job: u32) {
        self.jobs[job as usize] = None;
        self.free_jobs.push(job);
    }

    fn job(&self, job: u32) -> &Job {
        self.jobs[job as usize].as_ref().expect("live job")
    }

    fn job_mut(&mut self, job: u32) -> &mut Job {
        self.jobs[job as usize].as_mut().expect("live job")
    }

    // --- DNS ---------------------------------------------------------------------------

    fn resolve(&mut self, now: SimTime, job: u32) {
        let j = self.job_mut(job);
        let domain = j.domain;
        if std::mem::take(&mut j.waiting_retry) {
            self.counters.deferred -= 1;
            self.counters.active += 1;
        }
        let d = &mut self.world.domains[domain as usize];
        let latency = d.dns.latency.sample(&mut d.dns_rng).0;
        let (answer, delay) = match d.route {
            Route::NxDomain => (DnsAnswer::NxDomain, latency),
            Route::NullMx => (DnsAnswer::NullMx, latency),
            Route::Mx(_) => {
                let (servfail, timeout) = (d.dns.servfail.0, d.dns.timeout.0);
                let draw = if servfail + timeout > 0.0 {
                    d.dns_rng.random::<f64>()
                } else {
                    1.0
                };
                if draw < servfail {
                    (DnsAnswer::ServFail, latency)
                } else if draw < servfail + timeout {
                    (DnsAnswer::Timeout, d.dns.timeout_after.0)
                } else {
                    (DnsAnswer::Found, latency)
                }
            }
        };
        self.schedule(now + delay, Event::Resolved { job, answer });
    }

    fn resolved(&mut self, now: SimTime, job: u32, answer: DnsAnswer) {
        let j = self.job(job);
        let (domain, traced, message, attempt) = (j.domain, j.traced, j.message, j.attempts + 1);
        if traced {
            let d = &self.world.domains[domain as usize];
            let text = match (&d.route, answer) {
                (Route::Mx(hosts), DnsAnswer::Found) => {
                    let list: Vec<String> = hosts
                        .iter()
                        .map(|h| format!("{} [{}]", h.name, h.ip))
                        .collect();
                    format!("MX {}: {}", d.name, list.join(", "))
                }
                (_, DnsAnswer::NxDomain) => format!("MX {}: NXDOMAIN", d.name),
                (_, DnsAnswer::NullMx) => format!("MX {}: 0 . (null MX)", d.name),
                (_, DnsAnswer::ServFail) => format!("MX {}: SERVFAIL", d.name),
                (_, DnsAnswer::Timeout) => format!("MX {}: timed out", d.name),
                (_, DnsAnswer::Found) => format!("MX {}", d.name),
            };
            self.trace(now, message, attempt, Hop::RelayDns, TraceKind::Note, &text);
        }
        match answer {
            DnsAnswer::Found => {
                let j = self.job_mut(job);
                j.ready_since = now;
                self.world.domains[domain as usize].waiting.push_back(job);
                self.enter_rotation(domain);
                self.dispatch(now);
            }
            DnsAnswer::NxDomain => {
                self.counters.active -= 1;
                let reply = refusal(550, (5, 1, 2), "Host or domain name not found");
                self.finish_all(
                    now,
                    job,
                    Fate::Bounced,
                    Some(reply),
                    "the recipient domain does not exist",
                );
                self.free_job(job);
            }
            DnsAnswer::NullMx => {
                self.counters.active -= 1;
                let reply = refusal(
                    556,
                    (5, 1, 10),
                    "Recipient domain accepts no mail (null MX)",
                );
                self.finish_all(
                    now,
                    job,
                    Fate::Bounced,
                    Some(reply),
                    "the recipient domain publishes a null MX",
                );
                self.free_job(job);
            }
            DnsAnswer::ServFail | DnsAnswer::Timeout => {
                let reply = refusal(451, (4, 4, 3), "Temporary DNS failure looking up the MX");
                let j = self.job_mut(job);
                for r in j.recipients.iter_mut().filter(|r| !r.done) {
                    r.last_reply = Some(reply.clone());
                    r.reasons = Rc::from("MX lookup failed temporarily");
                }
                self.defer(now, job);
            }
        }
    }

    // --- connection slots ----------------------------------------------------------------

    fn enter_rotation(&mut self, domain: u32) {
        let d = &mut self.world.domains[domain as usize];
        if !d.in_rotation && !d.waiting.is_empty() {
            d.in_rotation = true;
            self.rotation.push_back(domain);
        }
    }

    /// Starts as many waiting deliveries as the limits allow, domains in turn.
    fn dispatch(&mut self, now: SimTime) {
        while self.connections < self.world.relay.max_connections {
            let Some(domain) = self.rotation.pop_front() else {
                return;
            };
            let max_per_domain = self.world.relay.max_per_domain;
            let d = &mut self.world.domains[domain as usize];
            d.in_rotation = false;
            if d.waiting.is_empty() || d.active >= max_per_domain {
                // Back in rotation when one of its connections ends.
                continue;
            }
            if let Some(bucket) = d.shaping.as_mut()
                && !bucket.take(now)
            {
                if !d.shaping_wakeup {
                    d.shaping_wakeup = true;
                    let at = bucket.next_token(now);
                    self.schedule(at, Event::ShapingWakeup { domain });
                }
                continue;
            }
            let job = d.waiting.pop_front().expect("not empty");
            d.active += 1;
            self.connections += 1;
            self.enter_rotation(domain);
            self.start_attempt(now, job, None);
        }
    }

    // --- attempts ------------------------------------------------------------------------

    /// Starts an attempt for `job`: on `reuse`, a connection left open by the previous message
    /// to the same domain, or else on a new connection to the first MX host that takes one.
    fn start_attempt(&mut self, now: SimTime, job: u32, reuse: Option<OpenConnection>) {
        self.stats.attempts += 1;
        let j = self.jobs[job as usize].as_mut().expect("live job");
        j.attempts += 1;
        j.first_attempt.get_or_insert(now);
        j.queue_wait += now - j.ready_since;
        let (message, attempt_no, traced) = (j.message, j.attempts, j.traced);
        let domain = j.domain as usize;
        let sender = &self.world.senders[j.sender as usize];
        let relay = &mut self.world.relay;
        let d = &mut self.world.domains[domain];

        let to: Vec<&str> = j
            .recipients
            .iter()
            .filter(|r| !r.done)
            .map(|r| r.address.as_str())
            .collect();
        let (altered, size) = (j.altered, j.size);
        let first = to[0];
        // Built only if an exchange gets as far as the content.
        let body = || {
            content::build(
                message,
                &sender.header_from,
                first,
                &sender.domain,
                sender.dkim.as_ref().map(|(d, s)| (d.as_str(), s.as_str())),
                altered,
                size,
            )
        };
        let mut id_text = itoa::Buffer::new();
        let facts = content::FactsRef {
            from_domain: sender
                .header_from
                .rsplit_once('@')
                .map(|(_, d)| d.as_bytes()),
            dkim: sender
                .dkim
                .as_ref()
                .map(|(d, s)| (d.as_bytes(), s.as_bytes())),
            altered,
            message_id: Some((id_text.format(message).as_bytes(), sender.domain.as_bytes())),
        };
        let attempt = Attempt {
            client_ip: relay.ip,
            helo: &relay.hostname,
            starttls: relay.starttls,
            pipelining: relay.pipelining,
            from: &sender.envelope_from,
            recipients: &to,
            content: &body,
            facts,
            size: j.size,
            keep_open: relay.reuse.is_some(),
            resumed: reuse.map(|open| open.state),
        };
        let sessions = traced || self.options.exchange == ExchangeMode::Sessions;

        let Route::Mx(hosts) = &d.route else {
            unreachable!("only domains with MX hosts get attempts")
        };
        let mut elapsed = SimDuration::ZERO;
        let mut lines: Vec<(SimDuration, TraceKind, String)> = Vec::new();
        let mut result = None;
        // A reused connection stays with its host; a new one tries them in preference order.
        let candidates = match reuse {
            Some(open) => open.host..open.host + 1,
            None => 0..hosts.len(),
        };
        for index in candidates {
            let host = &hosts[index];
            let at = now + elapsed;
            let outage = if reuse.is_some() {
                None
            } else {
                host.outage_at(at)
            };
            match outage {
                Some(OutageMode::Refuse) => {
                    elapsed += relay.round_trip.sample(&mut relay.network_rng).0;
                    if traced {
                        lines.push((
                            elapsed,
                            TraceKind::Note,
                            format!("connect to {} [{}]: connection refused", host.name, host.ip),
                        ));
                    }
                    continue;
                }
                Some(OutageMode::Timeout) => {
                    elapsed += relay.connect_timeout;
                    if traced {
                        lines.push((
                            elapsed,
                            TraceKind::Note,
                            format!("connect to {} [{}]: timed out", host.name, host.ip),
                        ));
                    }
                    continue;
                }
                Some(OutageMode::Reply421) | None => {}
            }
            d.behaviour.begin(at, outage);
            if traced {
                let how = if reuse.is_some() {
                    "reusing the connection to"
                } else {
                    "connected to"
                };
                lines.push((
                    elapsed,
                    TraceKind::Note,
                    format!("{how} {} [{}]", host.name, host.ip),
                ));
            }
            let outcome = if sessions {
                exchange::sessions(&attempt, &host.server_config, &mut d.behaviour, traced)
            } else {
                exchange::decisions(
                    &attempt,
                    host.server_config.starttls,
                    &mut d.behaviour,
                    &mut self.scratch,
                )
            };
            let mut took = SimDuration::ZERO;
            // The network round trip is a property of the connection: one draw per
            // connection. The server's latency is drawn for each command it answers.
            let rtt = match reuse {
                Some(open) => open.rtt,
                None => relay.round_trip.sample(&mut relay.network_rng).0,
            };
            took += rtt * u64::from(outcome.round_trips);
            let latency = &d.behaviour.config().latency;
            if latency.is_constant() {
                took += latency.sample(&mut d.latency_rng).0 * u64::from(outcome.round_trips);
            } else {
                for _ in 0..outcome.round_trips {
                    took += latency.sample(&mut d.latency_rng).0;
                }
            }
            if relay.bandwidth > 0.0 && outcome.recipients.iter().any(|r| r.stage >= Stage::Data) {
                took += SimDuration::from_secs_f64(j.size as f64 / relay.bandwidth);
            }
            for (speaker, text) in &outcome.transcript {
                let kind = match speaker {
                    Speaker::Client => TraceKind::Client,
                    Speaker::Server => TraceKind::Server,
                    Speaker::Note => TraceKind::Note,
                };
                lines.push((elapsed, kind, text.clone()));
            }
            elapsed += took;
            let refused = outcome.refused_at_greeting();
            let verdict = d.behaviour.end_of_data_mut().take_verdict();
            let open = (relay.reuse.is_some() && outcome.reusable).then_some(OpenConnection {
                host: index,
                rtt,
                sent: reuse.map_or(1, |open| open.sent + 1),
                state: outcome.state,
            });
            result = Some(AttemptOutcome {
                open,
                recipients: outcome.recipients,
                verdict,
                unreachable: None,
            });
            if !refused {
                break;
            }
        }
        let result = result.unwrap_or_else(|| AttemptOutcome {
            open: None,
            recipients: Vec::new(),
            verdict: None,
            unreachable: Some("no MX host accepted a connection"),
        });
        let duration = match &relay.attempt_duration {
            Some(dist) => dist.sample(&mut relay.network_rng).0,
            None => elapsed,
        };
        j.result = Some(result);
        for (offset, kind, text) in lines {
            self.recorder.trace(&TraceRecord {
                time: now + offset,
                message_id: message,
                attempt: attempt_no,
                hop: Hop::RelayMx,
                kind,
                text: &text,
            });
        }
        self.schedule(now + duration, Event::AttemptDone { job });
    }

    fn attempt_done(&mut self, now: SimTime, job: u32) {
        let domain = self.job(job).domain;
        let j = self.jobs[job as usize].as_mut().expect("live job");
        let result = j.result.take().expect("an attempt in progress");
        let open = result.open;
        let (message, attempt, traced) = (j.message, j.attempts, j.traced);
        let mut finished: Vec<(usize, Fate)> = Vec::new();
        let mut any_deferred = false;
        let undecided: Vec<usize> = (0..j.recipients.len())
            .filter(|i| !j.recipients[*i].done)
            .collect();
        let mut notes: Vec<(Hop, String)> = Vec::new();
        if let Some(why) = result.unreachable {
            for &i in &undecided {
                let r = &mut j.recipients[i];
                r.last_reply = None;
                r.reasons = Rc::from(why);
            }
            any_deferred = true;
        } else {
            for (&i, outcome) in undecided.iter().zip(&result.recipients) {
                let r = &mut j.recipients[i];
                r.last_reply = outcome.reply.clone();
                match outcome.status {
                    Status::Accepted => {
                        let (fate, reasons) = match &result.verdict {
                            Some(v) => (
                                if v.spam { Fate::Spam } else { Fate::Inbox },
                                v.reasons.clone(),
                            ),
                            None => (Fate::Inbox, self.empty.clone()),
                        };
                        r.reasons = reasons;
                        finished.push((i, fate));
                    }
                    Status::Rejected => {
                        r.reasons = self.descriptions.get(outcome, result.verdict.as_ref());
                        finished.push((i, Fate::Bounced));
                    }
                    Status::Deferred => {
                        r.reasons = self.descriptions.get(outcome, None);
                        any_deferred = true;
                    }
                }
                if traced {
                    let text = match outcome.status {
                        Status::Accepted => format!("{}: delivered", r.address),
                        Status::Rejected => format!("{}: bounced ({})", r.address, r.reasons),
                        Status::Deferred => format!("{}: deferred ({})", r.address, r.reasons),
                    };
                    notes.push((Hop::RelayMx, text));
                }
            }
        }
        if traced {
            // Where the receiving side filed what it accepted.
            if let Some(v) = &result.verdict
                && !finished.iter().all(|(_, fate)| *fate == Fate::Bounced)
            {
                let folder = if v.spam { "spam folder" } else { "inbox" };
                notes.push((Hop::MxMailbox, format!("{folder}: {}", v.reasons)));
            }
            for (hop, text) in &notes {
                self.trace(now, message, attempt, *hop, TraceKind::Note, text);
            }
        }
        for (i, fate) in finished {
            self.finish_one(now, job, i, fate);
        }
        if any_deferred {
            self.defer(now, job);
        } else {
            self.counters.active -= 1;
            self.free_job(job);
        }
        if let Some(open) = open
            && let Some(next) = self.next_on_connection(now, domain, open)
        {
            self.start_attempt(now, next, Some(open));
            return;
        }
        self.connections -= 1;
        self.world.domains[domain as usize].active -= 1;
        self.enter_rotation(domain);
        self.dispatch(now);
    }

    /// The delivery that goes next over a connection kept open to `domain`, if the limits
    /// allow one: the message count per connection and the relay's shaping.
    fn next_on_connection(
        &mut self,
        now: SimTime,
        domain: u32,
        open: OpenConnection,
    ) -> Option<u32> {
        let limit = self.world.relay.reuse?;
        if open.sent >= limit {
            return None;
        }
        let d = &mut self.world.domains[domain as usize];
        if d.waiting.is_empty() {
            return None;
        }
        if let Some(bucket) = d.shaping.as_mut()
            && !bucket.take(now)
        {
            return None;
        }
        d.waiting.pop_front()
    }

    /// Some recipients were deferred: retry later, or expire.
    fn defer(&mut self, now: SimTime, job: u32) {
        let lifetime = self.world.relay.lifetime;
        let max_attempts = self.world.relay.max_attempts;
        let j = self.jobs[job as usize].as_mut().expect("live job");
        j.failures += 1;
        j.first_failure.get_or_insert(now);
        let deferred = j.recipients.iter().filter(|r| !r.done).count() as u64;
        self.counters.deferrals += deferred;
        let history = History {
            arrived: j.submitted,
            first_failure: j.first_failure.unwrap_or(now),
            failures: j.failures,
            previous: j.previous,
        };
        let out_of_attempts = max_attempts.is_some_and(|max| j.attempts >= max);
        let too_old = now >= j.submitted + lifetime;
        let next = if out_of_attempts || too_old {
            None
        } else {
            let relay = &mut self.world.relay;
            relay.retry.next(now, &history, &mut relay.retry_rng)
        };
        self.counters.active -= 1;
        match next {
            Some(next) => {
                let j = self.job_mut(job);
                j.previous = Some((next.delay, next.rule));
                let (message, attempt, traced) = (j.message, j.attempts, j.traced);
                if traced {
                    let text = format!("deferred; next attempt at {}s", next.at.fmt_secs());
                    self.trace(now, message, attempt, Hop::RelayMx, TraceKind::Note, &text);
                }
                self.counters.deferred += 1;
                self.job_mut(job).waiting_retry = true;
                self.schedule(next.at, Event::Resolve { job });
            }
            None => {
                let why = if out_of_attempts {
                    "still deferred after the last allowed attempt"
                } else if too_old {
                    "still deferred when the queue lifetime ran out"
                } else {
                    "the retry schedule ran out"
                };
                let j = self.job_mut(job);
                for r in j.recipients.iter_mut().filter(|r| !r.done) {
                    if r.reasons.is_empty() {
                        r.reasons = Rc::from(why);
                    } else {
                        r.reasons = format!("{why}; last: {}", r.reasons).into();
                    }
                }
                let (message, attempt, traced) = (j.message, j.attempts, j.traced);
                if traced {
                    self.trace(
                        now,
                        message,
                        attempt,
                        Hop::RelayMx,
                        TraceKind::Note,
                        &format!("expired: {why}"),
                    );
                }
                self.finish_remaining(now, job, Fate::Expired);
                self.free_job(job);
            }
        }
    }

    // --- endings -------------------------------------------------------------------------

    fn finish_all(
        &mut self,
        now: SimTime,
        job: u32,
        fate: Fate,
        reply: Option<Reply>,
        reasons: &str,
    ) {
        let j = self.job_mut(job);
        for r in j.recipients.iter_mut().filter(|r| !r.done) {
            r.last_reply = reply.clone();
            r.reasons = Rc::from(reasons);
        }
        self.finish_remaining(now, job, fate);
    }

    fn finish_remaining(&mut self, now: SimTime, job: u32, fate: Fate) {
        let open: Vec<usize> = {
            let j = self.job(job);
            (0..j.recipients.len())
                .filter(|i| !j.recipients[*i].done)
                .collect()
        };
        for i in open {
            self.finish_one(now, job, i, fate);
        }
    }

    fn finish_one(&mut self, now: SimTime, job: u32, i: usize, fate: Fate) {
        let j = self.jobs[job as usize].as_mut().expect("live job");
        j.recipients[i].done = true;
        let j = &*j;
        let r = &j.recipients[i];
        if fate.delivered() {
            self.counters.delivered += 1;
        } else {
            self.counters.bounced += 1;
        }
        self.stats.recipients += 1;
        let record = RecipientRecord {
            message_id: j.message,
            sender: &self.world.senders[j.sender as usize].name,
            recipient: &r.address,
            domain: &self.world.domains[j.domain as usize].name,
            submitted: j.submitted,
            first_attempt: j.first_attempt,
            finished: now,
            fate,
            attempts: j.attempts,
            queue_wait: j.queue_wait,
            last_reply: r.last_reply.as_ref(),
            reasons: &r.reasons,
        };
        self.recorder.recipient(&record);
    }

    fn trace(
        &mut self,
        time: SimTime,
        message_id: u64,
        attempt: u32,
        hop: Hop,
        kind: TraceKind,
        text: &str,
    ) {
        self.recorder.trace(&TraceRecord {
            time,
            message_id,
            attempt,
            hop,
            kind,
            text,
        });
    }
}

fn refusal(code: u16, (class, subject, detail): (u8, u16, u16), text: &'static str) -> Reply {
    Reply::new(
        ReplyCode::new(code).expect("valid code"),
        Some(EnhancedCode::new(class, subject, detail)),
        text,
    )
}

/// Descriptions of replies whose text is static, made once: the same few replies come back
/// again and again.
#[derive(Default)]
struct Descriptions(rustc_hash::FxHashMap<(u16, Stage, usize, usize), Rc<str>>);

impl Descriptions {
    fn get(&mut self, outcome: &RecipientOutcome, verdict: Option<&Verdict>) -> Rc<str> {
        let key = match (&outcome.reply, verdict) {
            (Some(reply), None) => match &reply.text {
                std::borrow::Cow::Borrowed(text) => Some((
                    reply.code.get(),
                    outcome.stage,
                    text.as_ptr() as usize,
                    text.len(),
                )),
                std::borrow::Cow::Owned(_) => None,
            },
            _ => None,
        };
        match key {
            Some(key) => self
                .0
                .entry(key)
                .or_insert_with(|| describe(outcome, None))
                .clone(),
            None => describe(outcome, verdict),
        }
    }
}

/// Why a recipient was refused or deferred, in words.
fn describe(outcome: &RecipientOutcome, verdict: Option<&Verdict>) -> Rc<str> {
    if let Some(v) = verdict
        && outcome.stage == Stage::Content
        && !v.reasons.is_empty()
    {
        return v.reasons.clone();
    }
    let text = match (&outcome.reply, outcome.note) {
        (Some(reply), _) => format!(
            "{} at {}: {}",
            reply.code,
            outcome.stage.name(),
            reply.text.replace('\n', " ")
        ),
        (None, Some(note)) => note.to_string(),
        (None, None) => String::new(),
    };
    text.into()
}
