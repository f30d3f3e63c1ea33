//! What a run reports: per-recipient rows, trace lines, time-series samples, totals.

use smtpsim_des::{SimDuration, SimTime};
use smtpsim_proto::Reply;

use super::trace::TraceLine;

/// How a recipient's story ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fate {
    /// Delivered to the inbox.
    Inbox,
    /// Delivered to the spam folder.
    Spam,
    /// Refused for good (5xx), or undeliverable (no such domain, null MX).
    Bounced,
    /// Still deferred when the queue lifetime (or the retry policy) ran out.
    Expired,
    /// The application could not submit it (authentication refused).
    RejectedAtSubmission,
}

impl Fate {
    /// All fates, in report order.
    pub const ALL: [Fate; 5] = [
        Fate::Inbox,
        Fate::Spam,
        Fate::Bounced,
        Fate::Expired,
        Fate::RejectedAtSubmission,
    ];

    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Fate::Inbox => "inbox",
            Fate::Spam => "spam",
            Fate::Bounced => "bounced",
            Fate::Expired => "expired",
            Fate::RejectedAtSubmission => "rejected_at_submission",
        }
    }

    /// Whether the message reached a mailbox.
    pub fn delivered(self) -> bool {
        matches!(self, Fate::Inbox | Fate::Spam)
    }
}

/// One recipient of one message, when its fate is settled.
#[derive(Debug, Clone)]
pub struct RecipientRecord<'a> {
    /// The message.
    pub message_id: u64,
    /// The sender's name in the scenario.
    pub sender: &'a str,
    /// The recipient address.
    pub recipient: &'a str,
    /// The recipient's domain.
    pub domain: &'a str,
    /// When the application submitted the message.
    pub submitted: SimTime,
    /// When the relay first tried to deliver it, if it did.
    pub first_attempt: Option<SimTime>,
    /// When its fate was settled.
    pub finished: SimTime,
    /// How it ended.
    pub fate: Fate,
    /// Delivery attempts to this recipient's domain.
    pub attempts: u32,
    /// Time spent waiting for a free connection, over all attempts.
    pub queue_wait: SimDuration,
    /// The last reply that decided for this recipient, if a reply did.
    pub last_reply: Option<&'a Reply>,
    /// Why, in words.
    pub reasons: &'a str,
}

impl RecipientRecord<'_> {
    /// Submission to final fate.
    pub fn latency(&self) -> SimDuration {
        self.finished - self.submitted
    }
}

/// Which leg of the journey a trace line belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hop {
    /// The application submits to the relay.
    AppRelay,
    /// The relay looks the destination up.
    RelayDns,
    /// The relay talks to an MX host.
    RelayMx,
    /// The MX host files the message.
    MxMailbox,
    /// The relay returns a bounce notice to the sender.
    RelaySender,
}

impl Hop {
    /// The name used in traces.
    pub fn name(self) -> &'static str {
        match self {
            Hop::AppRelay => "app-relay",
            Hop::RelayDns => "relay-dns",
            Hop::RelayMx => "relay-mx",
            Hop::MxMailbox => "mx-mailbox",
            Hop::RelaySender => "relay-sender",
        }
    }
}

/// Who speaks in a trace line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceKind {
    /// The client side of an SMTP exchange.
    Client,
    /// The server side.
    Server,
    /// What the simulator did or decided.
    Note,
}

impl TraceKind {
    /// `C`, `S` or `note`.
    pub fn name(self) -> &'static str {
        match self {
            TraceKind::Client => "C",
            TraceKind::Server => "S",
            TraceKind::Note => "note",
        }
    }
}

/// One line of a message's trace.
#[derive(Debug, Clone)]
pub struct TraceRecord<'a> {
    /// When.
    pub time: SimTime,
    /// The message.
    pub message_id: u64,
    /// The delivery attempt (0 for submission).
    pub attempt: u32,
    /// Which leg.
    pub hop: Hop,
    /// Who speaks, and what was said or noted.
    pub line: &'a TraceLine,
}

/// The state of the relay at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sample {
    /// When.
    pub time: SimTime,
    /// Deliveries (message × domain) being resolved, waiting for a connection or in an attempt.
    pub active: u64,
    /// Deliveries waiting for their next retry.
    pub deferred: u64,
    /// Connections open to MX hosts.
    pub connections: u64,
    /// Recipients delivered so far.
    pub delivered: u64,
    /// Recipient deferrals so far.
    pub deferrals: u64,
    /// Recipients bounced or expired so far.
    pub bounced: u64,
}

/// What one source address of the relay's pool achieved in a run. Counted per attempt:
/// `deliveries`, `deferrals` and `bounces` are recipients, `throttled` the attempts a rate
/// limit or a daily limit refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceRecord {
    /// The address.
    pub ip: std::net::IpAddr,
    /// Attempts made from it.
    pub attempts: u64,
    /// Recipients delivered.
    pub deliveries: u64,
    /// Recipients deferred (one per recipient and attempt).
    pub deferrals: u64,
    /// Recipients refused for good.
    pub bounces: u64,
    /// Attempts refused by the MX's connection or message rate limit or its reputation's
    /// daily limit.
    pub throttled: u64,
}

impl Default for SourceRecord {
    fn default() -> SourceRecord {
        SourceRecord {
            ip: std::net::IpAddr::from([0, 0, 0, 0]),
            attempts: 0,
            deliveries: 0,
            deferrals: 0,
            bounces: 0,
            throttled: 0,
        }
    }
}

/// Totals of a whole run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RunStats {
    /// Messages generated.
    pub messages: u64,
    /// Recipient rows written.
    pub recipients: u64,
    /// Delivery attempts made.
    pub attempts: u64,
    /// Bounce notices the relay sent back to senders.
    pub bounce_notices: u64,
    /// The most deliveries queued at once (active and deferred), counted at every change,
    /// not only at the samples.
    pub peak_queue_depth: u64,
    /// Events the kernel processed.
    pub events: u64,
    /// When the last event happened.
    pub end: SimTime,
    /// The run was stopped early by its [`Cancel`](super::Cancel) flag: the figures cover
    /// only the events up to then.
    pub cancelled: bool,
}

/// How one delivery attempt ended for one recipient, as an MTA's log line says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Accepted by the MX host.
    Sent,
    /// Deferred: tried again later, or expired.
    Deferred,
    /// Refused for good, or undeliverable.
    Bounced,
}

impl DeliveryStatus {
    /// `sent`, `deferred` or `bounced`.
    pub fn name(self) -> &'static str {
        match self {
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Deferred => "deferred",
            DeliveryStatus::Bounced => "bounced",
        }
    }
}

/// The result of one delivery attempt (or DNS lookup) for one recipient: what an MTA writes
/// to its log. A recipient has one per attempt, in time order, the last one before its
/// [`RecipientRecord`] (expired recipients end with a deferral).
#[derive(Debug, Clone)]
pub struct StatusRecord<'a> {
    /// When the attempt ended.
    pub time: SimTime,
    /// The message.
    pub message_id: u64,
    /// The recipient address.
    pub recipient: &'a str,
    /// The recipient's domain.
    pub domain: &'a str,
    /// The attempt (0 when the domain was never tried: DNS failures).
    pub attempt: u32,
    /// When the application submitted the message.
    pub submitted: SimTime,
    /// When this attempt started, if one did.
    pub attempt_started: Option<SimTime>,
    /// Time spent waiting for a free connection, over all attempts so far.
    pub queue_wait: SimDuration,
    /// The MX host that answered (name and address), if one did.
    pub relay: Option<(&'a str, std::net::IpAddr)>,
    /// How it ended.
    pub status: DeliveryStatus,
    /// The reply that decided, if one did.
    pub reply: Option<&'a Reply>,
    /// Why, in words.
    pub reasons: &'a str,
}

/// A message submitted by an application to the relay.
#[derive(Debug, Clone)]
pub struct SubmissionRecord<'a> {
    /// When.
    pub time: SimTime,
    /// The message.
    pub message_id: u64,
    /// The sender's name in the scenario.
    pub sender: &'a str,
    /// The envelope sender.
    pub from: &'a str,
    /// Size in bytes.
    pub size: u64,
    /// Recipients.
    pub recipients: u64,
    /// Whether the relay accepted it (false: it refused the application's credentials).
    pub accepted: bool,
}

/// What an automation rule did, as it happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutomationEvent {
    /// The rule fired: its action holds its target until `until`.
    Fired {
        /// What it does.
        action: crate::scenario::Action,
        /// When the action ends.
        until: SimTime,
    },
    /// A suspension ended: the deliveries it held go at once (`spread` zero) or spread over
    /// `spread`.
    Released {
        /// Deliveries waiting for a connection when it ended.
        deliveries: u64,
        /// The window they are spread over.
        spread: SimDuration,
    },
    /// A bounce, expire or shape action ended (a shape without a ramp: the configured
    /// shaping values are back).
    Ended,
    /// A step of a shape action's ramp: values `step/steps` of the way back to the
    /// configured ones are in force (the last step: the configured values).
    RampStep {
        /// Which step, from 1.
        step: u32,
        /// Of how many.
        steps: u32,
    },
}

/// One row of what the relay's automation did.
#[derive(Debug, Clone, Copy)]
pub struct AutomationRecord<'a> {
    /// When.
    pub time: SimTime,
    /// The rule's name.
    pub rule: &'a str,
    /// `domain` or `provider`.
    pub target_kind: &'static str,
    /// The domain's or provider's name.
    pub target: &'a str,
    /// What happened.
    pub event: AutomationEvent,
}

impl std::fmt::Display for AutomationRecord<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (rule, kind, target) = (self.rule, self.target_kind, self.target);
        match self.event {
            AutomationEvent::Fired { action, until } => {
                let what = match action {
                    crate::scenario::Action::Suspend => "suspends",
                    crate::scenario::Action::Bounce => "bounces the deliveries waiting for",
                    crate::scenario::Action::Expire => "expires the deliveries waiting for",
                    crate::scenario::Action::Shape => "shapes the relay's traffic to",
                };
                write!(
                    f,
                    "rule {rule} fired: {what} {kind} {target} until {}s",
                    until.fmt_secs()
                )
            }
            AutomationEvent::Released { deliveries, spread } if spread.is_zero() => write!(
                f,
                "rule {rule}: suspension of {kind} {target} ended; {deliveries} deliveries \
                 released at once"
            ),
            AutomationEvent::Released { deliveries, spread } => write!(
                f,
                "rule {rule}: suspension of {kind} {target} ended; {deliveries} deliveries \
                 released over {spread}"
            ),
            AutomationEvent::Ended => write!(f, "rule {rule}: action on {kind} {target} ended"),
            AutomationEvent::RampStep { step, steps } if step == steps => write!(
                f,
                "rule {rule}: ramp step {step} of {steps} on {kind} {target}; the configured \
                 shaping is back"
            ),
            AutomationEvent::RampStep { step, steps } => write!(
                f,
                "rule {rule}: ramp step {step} of {steps} on {kind} {target}"
            ),
        }
    }
}

/// Receives what a run produces, as it happens.
pub trait Recorder {
    /// A recipient's fate is settled.
    fn recipient(&mut self, record: &RecipientRecord<'_>);
    /// A trace line of a traced message.
    fn trace(&mut self, record: &TraceRecord<'_>) {
        let _ = record;
    }
    /// The content a traced message's delivery attempt offers MX host `host` (headers and
    /// body, lines ending in CRLF), for each host the attempt connects to.
    fn content(&mut self, message_id: u64, attempt: u32, host: &str, content: &[u8]) {
        let _ = (message_id, attempt, host, content);
    }
    /// The delivery status notification (RFC 3464) the relay sends to MX host `host` about a
    /// traced message that failed.
    fn notice(&mut self, message_id: u64, host: &str, content: &[u8]) {
        let _ = (message_id, host, content);
    }
    /// A periodic sample.
    fn sample(&mut self, sample: &Sample) {
        let _ = sample;
    }
    /// An automation rule fired, or its action ended.
    fn automation(&mut self, record: &AutomationRecord<'_>) {
        let _ = record;
    }
    /// Whether the run should call [`Recorder::submission`] and [`Recorder::status`]. Asked
    /// once, at the start; without them a run saves a little work per recipient.
    fn wants_attempts(&self) -> bool {
        false
    }
    /// A message is submitted (before any of its other records), if
    /// [`Recorder::wants_attempts`].
    fn submission(&mut self, record: &SubmissionRecord<'_>) {
        let _ = record;
    }
    /// An attempt (or DNS lookup) ended for a recipient, if [`Recorder::wants_attempts`].
    fn status(&mut self, record: &StatusRecord<'_>) {
        let _ = record;
    }
    /// At the end of a run whose relay has a pool of source addresses: what each address
    /// achieved, in the pool's order.
    fn sources(&mut self, records: &[SourceRecord]) {
        let _ = records;
    }
}
