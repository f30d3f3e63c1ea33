//! The records of the API: sessions, messages, decisions and counters as they are served.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use crate::policy::DecisionRecord;
use crate::trace::TlsDetails;

/// One line of a transcript.
#[derive(Debug, Clone, Serialize)]
pub struct CapturedLine {
    /// Seconds since the Unix epoch.
    pub time: f64,
    /// `client`, `server`, `note` or `decision`.
    pub who: &'static str,
    /// The line.
    pub text: String,
    /// On a `message` line: the message accepted there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<u64>,
    /// On a `decision` line: the decision only repeats its reply ([`routine_decision`]), so
    /// the annotated transcript leaves it out.
    ///
    /// [`routine_decision`]: super::recorder::routine_decision
    #[serde(skip)]
    pub routine: bool,
}

/// A decision about a message, as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct CapturedDecision {
    /// The SMTP stage.
    pub stage: &'static str,
    /// `accept`, `refuse` or `disconnect`.
    pub verdict: &'static str,
    /// The address or user decided about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The reply given, when not the session's usual one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply: Option<String>,
    /// Why.
    pub reason: &'static str,
    /// The reply rule that decided, if one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

impl From<&DecisionRecord> for CapturedDecision {
    fn from(d: &DecisionRecord) -> CapturedDecision {
        CapturedDecision {
            stage: d.stage,
            verdict: d.verdict,
            subject: d.subject.clone(),
            reply: d.reply.clone(),
            reason: d.reason,
            rule: d.rule.clone(),
        }
    }
}

/// A session explained, as `GET /api/sessions/{id}/explain` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ExplainedSession {
    /// The session's number.
    pub id: u64,
    /// The annotated transcript, as `serve --explain` prints it.
    pub lines: Vec<String>,
    /// Each message accepted in the session, with its checks.
    pub messages: Vec<ExplainedMessage>,
}

/// A message's checks, as the API shows them.
#[derive(Debug, Clone, Serialize)]
pub struct ExplainedMessage {
    /// The message's number.
    pub id: u64,
    /// SPF, DKIM and DMARC, checked for real; `None` when its content is no longer kept.
    pub checks: Option<smtpsim_mail::received::Summary>,
}

/// A session as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct CapturedSession {
    /// The connection's number.
    pub id: u64,
    /// When it started, seconds since the Unix epoch.
    pub time: f64,
    /// The client's address and port.
    pub client: String,
    /// The name given in EHLO or HELO.
    pub helo: Option<String>,
    /// The TLS, once established.
    pub tls: Option<TlsDetails>,
    /// The authenticated user.
    pub auth: Option<String>,
    /// Messages accepted.
    pub messages: u64,
    /// Why it closed; `None` while it is open.
    pub closed: Option<String>,
    /// Lines beyond [`MAX_TRANSCRIPT_LINES`], not kept.
    pub lines_dropped: u64,
    /// What was said, and the decisions, in order.
    pub transcript: Vec<CapturedLine>,
}

/// An accepted message as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct CapturedMessage {
    /// Its number (from 1, in order of acceptance).
    pub id: u64,
    /// When it was accepted, seconds since the Unix epoch.
    pub time: f64,
    /// The session it came in.
    pub session: u64,
    /// The client's address and port.
    pub client: String,
    /// The name given in EHLO or HELO.
    pub helo: Option<String>,
    /// The TLS of the connection.
    pub tls: Option<TlsDetails>,
    /// The authenticated user.
    pub auth: Option<String>,
    /// The envelope sender (empty for `<>`).
    pub from: String,
    /// The accepted recipients.
    pub to: Vec<String>,
    /// Octets of content.
    pub size: u64,
    /// The `Subject:` header, unfolded.
    pub subject: Option<String>,
    /// The file in the Maildir's `new/`.
    pub file: Option<String>,
    /// The decisions taken in the session since the previous message.
    pub decisions: Vec<CapturedDecision>,
    /// The content, when kept in memory.
    #[serde(skip)]
    pub content: Option<Arc<[u8]>>,
}

/// Counters of `/metrics`.
#[derive(Debug, Default, Clone)]
pub struct Metrics {
    /// Replies sent, by code.
    pub replies: BTreeMap<u16, u64>,
    /// Decisions that refused or disconnected, by (stage, reason).
    pub decisions: BTreeMap<(&'static str, &'static str), u64>,
    /// Counts of reply latencies at or under each of [`LATENCY_BUCKETS`], then all of them.
    pub latency_buckets: [u64; LATENCY_BUCKETS.len() + 1],
    /// Sum of the reply latencies, seconds.
    pub latency_sum: f64,
}

/// Upper bounds (seconds) of the reply latency histogram.
pub const LATENCY_BUCKETS: [f64; 10] = [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0];
