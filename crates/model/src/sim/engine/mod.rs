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

use std::collections::VecDeque;
use std::rc::Rc;

use rand::Rng;
use smtpsim_des::{EventQueue, SimDuration, SimTime};
use smtpsim_proto::Reply;
use smtpsim_proto::client::{RecipientOutcome, Speaker, Stage, Status};
use smtpsim_proto::reply::{EnhancedCode, ReplyCode};

mod arrival;
mod attempt;
mod automation;
mod job;
mod settle;
mod slots;

use job::{Job, Jobs, Recipient};
use settle::Descriptions;

use super::bounce;
use super::content;
use super::exchange::{self, Attempt, Resumed, Trips};
use super::placement::AuthCheck;
use super::placement::Verdict;
use super::records::{
    DeliveryStatus, Fate, Hop, RecipientRecord, Recorder, RunStats, Sample, StatusRecord,
    TraceRecord,
};
use super::trace::{ConnectFailure, Expiry, MxAnswer, Note, RecipientResult, TraceLine};
use super::world::{HostModel, Route, World};
use super::{Cancel, ExchangeMode, Options, SimError};
use crate::behaviour::MxBehaviour;
use crate::limits::{MAX_SAMPLES, STALL_EVENTS, STALL_EVENTS_PER_JOB};
use crate::retry::History;
use crate::scenario::{Dist, Duration};
use crate::scenario::{OutageMode, Scenario};
use smallvec::SmallVec;
use smtpsim_des::SimRng;
use smtpsim_proto::server::ServerConfig;

/// Runs `scenario` to the end, streaming what happens to `recorder`; or until
/// `options.cancel` is set, then the statistics so far come back with `cancelled` set.
pub fn run(
    scenario: &Scenario,
    options: &Options,
    recorder: &mut dyn Recorder,
) -> Result<RunStats, SimError> {
    let world = World::build(scenario, options)?;
    let mut engine = Engine {
        world,
        queue: EventQueue::new(),
        jobs: Jobs::default(),
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
        attempts_wanted: recorder.wants_attempts(),
        disagreement: None,
        matches: automation::Matches::default(),
        idle: Default::default(),
        idle_serial: 0,
        recorder,
        stall: Stall::new(options.stall_limit.unwrap_or(STALL_EVENTS)),
        samples: 0,
    };
    engine.start();
    engine.run_loop()?;
    let sources = engine.world.sources.records();
    if !sources.is_empty() {
        engine.recorder.sources(sources);
    }
    match engine.disagreement {
        Some(what) => Err(SimError(format!(
            "the fast path and the sessions disagree: {what}"
        ))),
        None => Ok(engine.stats),
    }
}

/// Counts the events handled at one instant of simulated time, so that a run in which time
/// stops advancing ends with an error instead of looping.
struct Stall {
    limit: u64,
    since: SimTime,
    events: u64,
    budget: u64,
}

impl Stall {
    fn new(limit: u64) -> Stall {
        Stall {
            limit,
            since: SimTime::ZERO,
            events: 0,
            budget: limit,
        }
    }

    /// Counts an event at `now`, with `live()` deliveries in the queue (asked only when time
    /// has moved on); `false` once the events at this instant pass the budget.
    #[inline(always)]
    fn tick(&mut self, now: SimTime, live: impl FnOnce() -> u64) -> bool {
        if now != self.since {
            self.since = now;
            self.events = 0;
            self.budget = self
                .limit
                .saturating_add(live().saturating_mul(STALL_EVENTS_PER_JOB));
        }
        self.events += 1;
        self.events <= self.budget
    }

    /// A new delivery at this instant may bring its own events.
    fn new_job(&mut self) {
        self.budget = self.budget.saturating_add(STALL_EVENTS_PER_JOB);
    }

    fn error(&self) -> SimError {
        SimError(format!(
            "simulated time stopped advancing at {}: {} events without time passing. Most \
             likely deliveries are retried with no delay while attempts and lookups take no \
             time: give relay.retry delays above 0, or relay.round_trip, behaviour.latency or \
             dns.latency a value above 0",
            self.since, self.events
        ))
    }
}

#[derive(Debug, Clone, Copy)]
enum Event {
    Arrival {
        sender: u32,
    },
    Resolve {
        job: u32,
    },
    Resolved {
        job: u32,
        answer: DnsAnswer,
    },
    AttemptDone {
        job: u32,
    },
    ShapingWakeup {
        domain: u32,
    },
    IdleEnds {
        domain: u32,
        serial: u64,
    },
    ProviderWakeup {
        provider: u32,
    },
    HoldEnds {
        holder: automation::Holder,
    },
    RampStep {
        holder: automation::Holder,
        step: u32,
    },
    Requeue {
        job: u32,
    },
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

#[derive(Default)]
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
    jobs: Jobs,
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
    /// The recorder takes submissions and status records.
    attempts_wanted: bool,
    stall: Stall,
    /// Samples taken so far.
    samples: u64,
    /// With [`ExchangeMode::Compare`], the first difference between the two ways.
    disagreement: Option<String>,
    /// Recent matches of the automation rules.
    matches: automation::Matches,
    /// Connections kept open with nothing to send, by domain, with the serial number of
    /// their timeout.
    idle: rustc_hash::FxHashMap<u32, SmallVec<[(u64, OpenConnection); 2]>>,
    /// The last idle connection's serial number.
    idle_serial: u64,
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

    fn run_loop(&mut self) -> Result<(), SimError> {
        while let Some((now, event)) = self.queue.pop() {
            if self.stats.events.is_multiple_of(Cancel::CHECK_EVERY)
                && self.options.cancel.is_cancelled()
            {
                self.stats.cancelled = true;
                return Ok(());
            }
            if self.disagreement.is_some() {
                return Ok(());
            }
            self.stats.events += 1;
            self.stats.end = now;
            let live = self.jobs.live();
            if !self.stall.tick(now, || live) {
                return Err(self.stall.error());
            }
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
                    self.queued(now, domain);
                }
                Event::IdleEnds { domain, serial } => self.idle_ends(now, domain, serial),
                Event::ProviderWakeup { provider } => {
                    self.world.providers[provider as usize].wakeup = false;
                    self.release_provider(provider);
                    self.dispatch(now);
                }
                Event::HoldEnds { holder } => self.hold_ends(now, holder),
                Event::RampStep { holder, step } => self.ramp_step(now, holder, step),
                Event::Requeue { job } => self.requeue(now, job),
                Event::Sample => self.sample(now)?,
            }
        }
        Ok(())
    }

    fn sample(&mut self, now: SimTime) -> Result<(), SimError> {
        self.samples += 1;
        let limit = self.options.sample_limit.unwrap_or(MAX_SAMPLES);
        if self.samples > limit {
            return Err(SimError(format!(
                "the run has lasted {limit} samples of {} (simulated time {now}) and is not \
                 over; raise simulation.timeseries_interval",
                self.world.interval
            )));
        }
        self.counters.time = now;
        self.counters.connections = u64::from(self.connections);
        self.recorder.sample(&self.counters);
        if self.pending > 0 {
            self.queue
                .schedule(now + self.world.interval, Event::Sample);
        }
        Ok(())
    }

    /// A new job for `message` to `domain`, with no recipients yet.
    fn new_job(&mut self, message: &job::Submitted, domain: u32) -> u32 {
        self.stall.new_job();
        self.jobs.open(message, domain)
    }

    fn free_job(&mut self, job: u32) {
        self.jobs.free(job);
    }

    fn job(&self, job: u32) -> &Job {
        self.jobs.get(job)
    }

    fn job_mut(&mut self, job: u32) -> &mut Job {
        self.jobs.get_mut(job)
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
        let open: SmallVec<[usize; 4]> = {
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
        let j = self.jobs.get_mut(job);
        j.recipients[i].done = true;
        if matches!(fate, Fate::Bounced | Fate::Expired) {
            j.recipients[i].notify = Some(fate);
        }
        let j = &*j;
        let r = &j.recipients[i];
        if fate.delivered() {
            self.counters.delivered += 1;
        } else {
            self.counters.bounced += 1;
        }
        self.stats.recipients += 1;
        let status = match fate {
            Fate::Inbox | Fate::Spam => Some(DeliveryStatus::Sent),
            Fate::Bounced => Some(DeliveryStatus::Bounced),
            Fate::Expired | Fate::RejectedAtSubmission => None,
        };
        if let Some(status) = status.filter(|_| self.attempts_wanted) {
            report_status(&mut *self.recorder, &self.world, now, j, r, status);
        }
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

    /// Sends the envelope sender a bounce notice for the recipients given up on since the last
    /// one, if there are any.
    // Inlined: usually nobody was given up on, which is quick to see.
    #[inline(always)]
    fn notify_sender(&mut self, now: SimTime, job: u32) {
        let j = self.jobs.get(job);
        if j.recipients.iter().any(|r| r.notify.is_some()) {
            self.send_bounce_notice(now, job);
        }
    }

    /// Counts a bounce notice to the envelope sender of `job` for its recipients given up on
    /// since the last one, and (for a traced message) sends it.
    #[inline(never)]
    fn send_bounce_notice(&mut self, now: SimTime, job: u32) {
        let j = self.jobs.get_mut(job);
        let failed: Vec<(usize, Fate)> = j
            .recipients
            .iter_mut()
            .enumerate()
            .filter_map(|(i, r)| r.notify.take().map(|fate| (i, fate)))
            .collect();
        if failed.is_empty() {
            return;
        }
        self.stats.bounce_notices += 1;
        let j = self.job(job);
        if !j.traced {
            return;
        }
        let sender = &self.world.senders[j.sender as usize];
        let relay = &self.world.relay;
        let report: Vec<bounce::Failed<'_>> = failed
            .iter()
            .map(|&(i, fate)| bounce::Failed {
                recipient: &j.recipients[i].address,
                reply: j.recipients[i].last_reply.as_ref(),
                expired: fate == Fate::Expired,
            })
            .collect();
        let to = sender.envelope_from.as_str();
        let mut lines = vec![TraceLine::Note(Note::BounceNotice {
            to: to.to_string(),
            recipients: report.len(),
        })];
        let host = sender
            .notice_domain
            .and_then(|d| match &self.world.domains[d as usize].route {
                Route::Mx(hosts) => hosts.first(),
                Route::NullMx | Route::NxDomain => None,
            });
        let mut sent = None;
        match host {
            Some(host) => {
                let content =
                    bounce::notice(&relay.hostname, to, j.message, &sender.domain, &report);
                sent = Some((host.name.clone(), content.clone()));
                lines.push(TraceLine::Note(Note::Connected {
                    host: host.addr(),
                    reused: false,
                }));
                let conversation = bounce::send(
                    &relay.hostname,
                    relay.starttls,
                    &host.server_config,
                    to,
                    content,
                );
                lines.extend(
                    conversation
                        .into_iter()
                        .map(|(speaker, text)| trace_line(speaker, text)),
                );
            }
            None => lines.push(TraceLine::Note(Note::NoticeUndeliverable {
                domain: sender.domain.clone(),
            })),
        }
        let (message, attempt) = (j.message, j.attempts);
        if let Some((host, content)) = sent {
            self.recorder.notice(message, &host, &content);
        }
        for line in &lines {
            self.trace(now, message, attempt, Hop::RelaySender, line);
        }
    }

    fn trace(&mut self, time: SimTime, message_id: u64, attempt: u32, hop: Hop, line: &TraceLine) {
        self.recorder.trace(&TraceRecord {
            time,
            message_id,
            attempt,
            hop,
            line,
        });
    }

    /// Records a note of the relay (traced messages only: the caller checks).
    fn note(&mut self, time: SimTime, message_id: u64, attempt: u32, hop: Hop, note: Note) {
        self.trace(time, message_id, attempt, hop, &TraceLine::Note(note));
    }
}

/// A trace line, from a line of a transcript.
fn trace_line(speaker: Speaker, text: String) -> TraceLine {
    match speaker {
        Speaker::Client => TraceLine::Client(text),
        Speaker::Server => TraceLine::Server(text),
        Speaker::Note => TraceLine::Note(Note::Session(text)),
    }
}

/// Reports how an attempt (or a DNS lookup) ended for recipient `r` of job `j`.
fn report_status(
    recorder: &mut dyn Recorder,
    world: &World,
    now: SimTime,
    j: &Job,
    r: &Recipient,
    status: DeliveryStatus,
) {
    let domain = &world.domains[j.domain as usize];
    let relay = match (&domain.route, j.host) {
        (Route::Mx(hosts), Some(host)) => hosts.get(host).map(|h| (h.name.as_str(), h.ip)),
        _ => None,
    };
    recorder.status(&StatusRecord {
        time: now,
        message_id: j.message,
        recipient: &r.address,
        domain: &domain.name,
        attempt: j.attempts,
        submitted: j.submitted,
        attempt_started: j.attempt_started,
        queue_wait: j.queue_wait,
        relay,
        status,
        reply: r.last_reply.as_ref(),
        reasons: &r.reasons,
    });
}

fn refusal(code: u16, (class, subject, detail): (u8, u16, u16), text: &'static str) -> Reply {
    Reply::new(
        ReplyCode::new(code).expect("valid code"),
        Some(EnhancedCode::new(class, subject, detail)),
        text,
    )
}
