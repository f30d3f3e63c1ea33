//! What the HTTP API shows: the messages the server accepted (their envelope, and their
//! bytes in memory when there is no Maildir), the transcripts of recent sessions, and the
//! counters of `/metrics`. Everything is bounded: the oldest messages go first when the count
//! or the octets pass their bound, the oldest sessions when their count does.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use smtpsim_proto::client::{Speaker, TranscriptLine};
use smtpsim_proto::server::{ReceivedMessage, SessionInfo};

use crate::policy::DecisionRecord;

/// The bounds of what is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CaptureBounds {
    /// Most messages kept.
    pub max_messages: usize,
    /// Most octets of message content kept in memory (without a Maildir).
    pub max_bytes: u64,
    /// Most sessions kept, with their transcripts.
    pub max_sessions: usize,
}

impl Default for CaptureBounds {
    fn default() -> CaptureBounds {
        CaptureBounds {
            max_messages: 1000,
            max_bytes: 100 * 1024 * 1024,
            max_sessions: 200,
        }
    }
}

/// The largest `max_messages` and `max_sessions`.
pub const MAX_CAPTURED: usize = 1_000_000;
/// The largest `max_bytes`: 64 GiB.
pub const MAX_CAPTURED_BYTES: u64 = 64 << 30;
/// The most transcript lines kept per session; later lines are counted, not kept.
pub const MAX_TRANSCRIPT_LINES: usize = 2000;

/// The TLS of a connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TlsInfo {
    /// Such as `TLSv1.3`.
    pub version: String,
    /// Such as `TLS13_AES_256_GCM_SHA384`.
    pub cipher: String,
}

/// One line of a transcript.
#[derive(Debug, Clone, Serialize)]
pub struct CapturedLine {
    /// Seconds since the Unix epoch.
    pub time: f64,
    /// `client`, `server`, `note` or `decision`.
    pub who: &'static str,
    /// The line.
    pub text: String,
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
}

impl From<&DecisionRecord> for CapturedDecision {
    fn from(d: &DecisionRecord) -> CapturedDecision {
        CapturedDecision {
            stage: d.stage,
            verdict: d.verdict,
            subject: d.subject.clone(),
            reply: d.reply.clone(),
            reason: d.reason,
        }
    }
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
    pub tls: Option<TlsInfo>,
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
    pub tls: Option<TlsInfo>,
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

#[derive(Debug, Default)]
struct Messages {
    list: VecDeque<CapturedMessage>,
    bytes: u64,
    next: u64,
    dropped: u64,
}

/// The store of a running server.
#[derive(Debug)]
pub struct Capture {
    bounds: CaptureBounds,
    maildir: Option<PathBuf>,
    messages: Mutex<Messages>,
    sessions: Mutex<VecDeque<Arc<Mutex<CapturedSession>>>>,
    metrics: Mutex<Metrics>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Seconds since the Unix epoch, with microseconds.
pub(crate) fn unix_now() -> f64 {
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    t.as_micros() as f64 / 1e6
}

/// A page of the message list.
#[derive(Debug, Clone, Serialize)]
pub struct MessageList {
    /// The bounds.
    pub bounds: CaptureBounds,
    /// Messages dropped so far to keep within them.
    pub dropped: u64,
    /// Octets of content held in memory.
    pub bytes: u64,
    /// The messages that match, oldest first.
    pub messages: Vec<CapturedMessage>,
}

impl Capture {
    /// An empty store; with a Maildir, messages are read from it rather than kept.
    pub fn new(bounds: CaptureBounds, maildir: Option<&Path>) -> Capture {
        Capture {
            bounds,
            maildir: maildir.map(Path::to_path_buf),
            messages: Mutex::new(Messages {
                next: 1,
                ..Messages::default()
            }),
            sessions: Mutex::new(VecDeque::new()),
            metrics: Mutex::new(Metrics::default()),
        }
    }

    /// Whether message content is kept in memory (there is no Maildir).
    pub fn keeps_content(&self) -> bool {
        self.maildir.is_none()
    }

    /// The bounds.
    pub fn bounds(&self) -> CaptureBounds {
        self.bounds
    }

    /// Starts the record of a session.
    pub(crate) fn begin(self: &Arc<Self>, id: u64, peer: SocketAddr) -> Recorder {
        let session = Arc::new(Mutex::new(CapturedSession {
            id,
            time: unix_now(),
            client: peer.to_string(),
            helo: None,
            tls: None,
            auth: None,
            messages: 0,
            closed: None,
            lines_dropped: 0,
            transcript: Vec::new(),
        }));
        let mut sessions = lock(&self.sessions);
        sessions.push_back(session.clone());
        while sessions.len() > self.bounds.max_sessions {
            sessions.pop_front();
        }
        Recorder {
            capture: self.clone(),
            session,
            peer,
            id,
            decisions: Vec::new(),
        }
    }

    /// Keeps a message, dropping the oldest to stay within the bounds.
    pub(crate) fn add_message(&self, mut message: CapturedMessage) {
        let mut m = lock(&self.messages);
        message.id = m.next;
        m.next += 1;
        m.bytes += message.content.as_ref().map_or(0, |c| c.len() as u64);
        m.list.push_back(message);
        while m.list.len() > self.bounds.max_messages
            || (m.bytes > self.bounds.max_bytes && m.list.len() > 1)
        {
            let Some(old) = m.list.pop_front() else { break };
            m.bytes -= old.content.as_ref().map_or(0, |c| c.len() as u64);
            m.dropped += 1;
        }
        // A single message larger than the bound keeps its envelope, not its content.
        if m.bytes > self.bounds.max_bytes
            && let Some(last) = m.list.back_mut()
            && let Some(content) = last.content.take()
        {
            m.bytes -= content.len() as u64;
        }
    }

    /// The messages that have a recipient containing `to` (case-insensitive) and came at
    /// or after `since` (seconds since the Unix epoch).
    pub fn messages(&self, to: Option<&str>, since: Option<f64>) -> MessageList {
        let to = to.map(str::to_lowercase);
        let m = lock(&self.messages);
        let messages = m
            .list
            .iter()
            .filter(|msg| since.is_none_or(|s| msg.time >= s))
            .filter(|msg| {
                to.as_ref()
                    .is_none_or(|to| msg.to.iter().any(|r| r.to_lowercase().contains(to)))
            })
            .cloned()
            .collect();
        MessageList {
            bounds: self.bounds,
            dropped: m.dropped,
            bytes: m.bytes,
            messages,
        }
    }

    /// How many messages are kept.
    pub fn message_count(&self) -> usize {
        lock(&self.messages).list.len()
    }

    /// A message's stored bytes: from memory, or from its Maildir file.
    pub fn message_bytes(&self, id: u64) -> Option<Vec<u8>> {
        let (content, file) = {
            let m = lock(&self.messages);
            let msg = m.list.iter().find(|msg| msg.id == id)?;
            (msg.content.clone(), msg.file.clone())
        };
        if let Some(content) = content {
            return Some(content.to_vec());
        }
        let (root, file) = (self.maildir.as_ref()?, file?);
        // A reader may have moved it to cur/, with flags after a colon.
        std::fs::read(root.join("new").join(&file))
            .ok()
            .or_else(|| {
                let cur = std::fs::read_dir(root.join("cur")).ok()?;
                cur.flatten()
                    .find(|e| e.file_name().to_string_lossy().starts_with(&file))
                    .and_then(|e| std::fs::read(e.path()).ok())
            })
    }

    /// Forgets every message (the Maildir's files stay).
    pub fn clear_messages(&self) {
        let mut m = lock(&self.messages);
        m.list.clear();
        m.bytes = 0;
    }

    /// The recent sessions, oldest first, without their transcripts.
    pub fn sessions(&self) -> Vec<CapturedSession> {
        let sessions = lock(&self.sessions);
        sessions
            .iter()
            .map(|s| {
                let s = lock(s);
                CapturedSession {
                    helo: s.helo.clone(),
                    tls: s.tls.clone(),
                    auth: s.auth.clone(),
                    client: s.client.clone(),
                    closed: s.closed.clone(),
                    transcript: Vec::new(),
                    ..*s
                }
            })
            .collect()
    }

    /// One recent session with its transcript.
    pub fn session(&self, id: u64) -> Option<CapturedSession> {
        let sessions = lock(&self.sessions);
        let found = sessions.iter().find(|s| lock(s).id == id)?;
        Some(lock(found).clone())
    }

    /// A copy of the counters.
    pub fn metrics(&self) -> Metrics {
        lock(&self.metrics).clone()
    }

    /// Counts one reply latency.
    pub(crate) fn observe_latency(&self, latency: Duration) {
        let secs = latency.as_secs_f64();
        let mut m = lock(&self.metrics);
        for (i, bound) in LATENCY_BUCKETS.iter().enumerate() {
            if secs <= *bound {
                m.latency_buckets[i] += 1;
            }
        }
        m.latency_buckets[LATENCY_BUCKETS.len()] += 1;
        m.latency_sum += secs;
    }
}

/// Records one session into a [`Capture`] as it goes.
#[derive(Debug)]
pub(crate) struct Recorder {
    capture: Arc<Capture>,
    session: Arc<Mutex<CapturedSession>>,
    peer: SocketAddr,
    id: u64,
    /// Decisions since the last message.
    decisions: Vec<CapturedDecision>,
}

impl Recorder {
    /// The capture it records into.
    pub(crate) fn capture(&self) -> &Capture {
        &self.capture
    }

    /// Notes the TLS established on the connection.
    pub(crate) fn tls(&self, tls: TlsInfo) {
        lock(&self.session).tls = Some(tls);
    }

    /// Records transcript lines and decisions, in the order given.
    pub(crate) fn lines(&mut self, lines: &[&TranscriptLine], decisions: &[DecisionRecord]) {
        let time = unix_now();
        let mut metrics = lock(&self.capture.metrics);
        for line in lines.iter().filter(|l| l.speaker == Speaker::Server) {
            if let Some(code) = line.text.get(..3).and_then(|c| c.parse::<u16>().ok()) {
                *metrics.replies.entry(code).or_default() += 1;
            }
        }
        for d in decisions.iter().filter(|d| d.verdict != "accept") {
            *metrics.decisions.entry((d.stage, d.reason)).or_default() += 1;
        }
        drop(metrics);
        let mut s = lock(&self.session);
        let mut push = |who: &'static str, text: String| {
            if s.transcript.len() < MAX_TRANSCRIPT_LINES {
                s.transcript.push(CapturedLine { time, who, text });
            } else {
                s.lines_dropped += 1;
            }
        };
        let (replies, said): (Vec<&&TranscriptLine>, Vec<_>) =
            lines.iter().partition(|l| l.speaker == Speaker::Server);
        for line in said {
            let who = if line.speaker == Speaker::Client {
                "client"
            } else {
                "note"
            };
            push(who, line.text.clone());
        }
        for d in decisions {
            push("decision", decision_text(d));
        }
        for line in replies {
            push("server", line.text.clone());
        }
        drop(s);
        self.decisions
            .extend(decisions.iter().map(CapturedDecision::from));
    }

    /// Records an accepted message.
    pub(crate) fn message(
        &mut self,
        info: &SessionInfo,
        message: &ReceivedMessage,
        file: Option<String>,
    ) {
        let (tls, helo, auth) = {
            let mut s = lock(&self.session);
            s.messages += 1;
            s.helo.clone_from(&info.helo);
            s.auth.clone_from(&info.authenticated);
            (s.tls.clone(), info.helo.clone(), info.authenticated.clone())
        };
        let whole = message.content.len() as u64 == message.size;
        let content = (self.capture.keeps_content() && whole).then_some(message.content.as_slice());
        self.capture.add_message(CapturedMessage {
            id: 0,
            time: unix_now(),
            session: self.id,
            client: self.peer.to_string(),
            helo,
            tls,
            auth,
            from: message.envelope.from.clone(),
            to: message.envelope.recipients.clone(),
            size: message.size,
            subject: header(&message.content, "subject"),
            file,
            decisions: std::mem::take(&mut self.decisions),
            content: content.map(Arc::from),
        });
    }

    /// Notes the EHLO name and AUTH user as the session has them now.
    pub(crate) fn identity(&self, info: &SessionInfo) {
        let mut s = lock(&self.session);
        if info.helo.is_some() {
            s.helo.clone_from(&info.helo);
        }
        if info.authenticated.is_some() {
            s.auth.clone_from(&info.authenticated);
        }
    }

    /// Records how the session ended.
    pub(crate) fn close(&self, why: &str) {
        lock(&self.session).closed = Some(why.to_string());
    }
}

/// A decision as one transcript line.
fn decision_text(d: &DecisionRecord) -> String {
    let mut text = format!("{} {}: {}", d.stage, d.verdict, d.reason);
    if let Some(subject) = &d.subject {
        text.push_str(&format!(" ({subject})"));
    }
    text
}

/// The value of the first header called `name` (case-insensitive) in a message's head,
/// unfolded and trimmed.
pub(crate) fn header(content: &[u8], name: &str) -> Option<String> {
    let text = String::from_utf8_lossy(content);
    let mut value: Option<String> = None;
    for line in text.split("\r\n").flat_map(|l| l.split('\n')) {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some(v) = value.as_mut() {
                v.push(' ');
                v.push_str(line.trim());
            }
            continue;
        }
        if value.is_some() {
            break;
        }
        if let Some((field, rest)) = line.split_once(':')
            && field.trim().eq_ignore_ascii_case(name)
        {
            value = Some(rest.trim().to_string());
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(bytes: usize) -> CapturedMessage {
        CapturedMessage {
            id: 0,
            time: unix_now(),
            session: 1,
            client: "127.0.0.1:1".into(),
            helo: None,
            tls: None,
            auth: None,
            from: "a@example.com".into(),
            to: vec!["b@example.net".into()],
            size: bytes as u64,
            subject: None,
            file: None,
            decisions: Vec::new(),
            content: Some(Arc::from(vec![b'x'; bytes])),
        }
    }

    #[test]
    fn the_oldest_messages_go_first_by_count() {
        let bounds = CaptureBounds {
            max_messages: 3,
            ..CaptureBounds::default()
        };
        let capture = Capture::new(bounds, None);
        for _ in 0..5 {
            capture.add_message(message(10));
        }
        let list = capture.messages(None, None);
        let ids: Vec<u64> = list.messages.iter().map(|m| m.id).collect();
        assert_eq!(ids, [3, 4, 5]);
        assert_eq!((list.dropped, list.bytes), (2, 30));
    }

    #[test]
    fn the_oldest_messages_go_first_by_octets() {
        let bounds = CaptureBounds {
            max_bytes: 250,
            ..CaptureBounds::default()
        };
        let capture = Capture::new(bounds, None);
        for _ in 0..4 {
            capture.add_message(message(100));
        }
        let list = capture.messages(None, None);
        let ids: Vec<u64> = list.messages.iter().map(|m| m.id).collect();
        assert_eq!(ids, [3, 4]);
        assert_eq!(list.bytes, 200);
        assert!(capture.message_bytes(2).is_none());
        assert_eq!(capture.message_bytes(4).unwrap().len(), 100);
        // One message over the bound on its own keeps its envelope only.
        capture.add_message(message(300));
        let list = capture.messages(None, None);
        assert_eq!(list.messages.last().map(|m| m.id), Some(5));
        assert!(capture.message_bytes(5).is_none());
        assert!(list.bytes <= 250);
    }

    #[test]
    fn filters_by_recipient_and_time() {
        let capture = Capture::new(CaptureBounds::default(), None);
        capture.add_message(message(1));
        let mut other = message(1);
        other.to = vec!["Carol@Example.org".into()];
        other.time += 10.0;
        let later = other.time;
        capture.add_message(other);
        assert_eq!(capture.messages(Some("carol@"), None).messages.len(), 1);
        assert_eq!(capture.messages(None, Some(later)).messages.len(), 1);
        assert_eq!(capture.messages(Some("nobody"), None).messages.len(), 0);
        capture.clear_messages();
        assert!(capture.messages(None, None).messages.is_empty());
    }

    #[test]
    fn headers_are_found_and_unfolded() {
        let head =
            b"From: a@example.com\r\nsubject: Hello\r\n  world\r\nX: y\r\n\r\nSubject: body\r\n";
        assert_eq!(header(head, "Subject").as_deref(), Some("Hello world"));
        assert_eq!(header(head, "x").as_deref(), Some("y"));
        assert_eq!(header(head, "to"), None);
        assert_eq!(header(b"\r\nSubject: late\r\n", "subject"), None);
    }

    proptest::proptest! {
        /// Any head is read without a panic; a header written plainly is found as written.
        #[test]
        fn any_head_is_read(head in proptest::collection::vec(proptest::num::u8::ANY, 0..256),
                            value in "[a-zA-Z0-9 .,!?-]{0,40}") {
            let _ = header(&head, "subject");
            let message = format!("From: a@example.com\r\nSubject: {value}\r\n\r\nbody\r\n");
            proptest::prop_assert_eq!(header(message.as_bytes(), "Subject"), Some(value.trim().to_string()));
        }
    }

    #[test]
    fn latencies_fill_cumulative_buckets() {
        let capture = Capture::new(CaptureBounds::default(), None);
        capture.observe_latency(Duration::from_micros(200));
        capture.observe_latency(Duration::from_millis(20));
        let m = capture.metrics();
        assert_eq!(m.latency_buckets[0], 1);
        assert_eq!(m.latency_buckets[4], 2);
        assert_eq!(m.latency_buckets[LATENCY_BUCKETS.len()], 2);
    }
}
