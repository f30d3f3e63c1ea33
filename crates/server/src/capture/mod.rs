//! What the HTTP API shows: the messages the server accepted (their envelope, and their
//! bytes in memory when there is no Maildir), the transcripts of recent sessions, and the
//! counters of `/metrics`. Everything is bounded: the oldest messages go first when the count
//! or the octets pass their bound, the oldest sessions when their count does.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use smtpsim_mail::explain::{Annotated, Said};
use smtpsim_mail::zone::Zone;

mod recorder;
mod records;

pub(crate) use recorder::Recorder;
pub use recorder::{decision_line, routine_decision};
pub use records::{
    CapturedDecision, CapturedLine, CapturedMessage, CapturedSession, ExplainedMessage,
    ExplainedSession, LATENCY_BUCKETS, Metrics,
};

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
    /// The DNS messages are checked against, when sessions are explained.
    explain: Option<Arc<Zone>>,
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
            explain: None,
        }
    }

    /// Explains sessions, checking their messages against `dns`.
    pub fn with_explain(mut self, dns: Option<Arc<Zone>>) -> Capture {
        self.explain = dns;
        self
    }

    /// Whether sessions are explained.
    pub fn explains(&self) -> bool {
        self.explain.is_some()
    }

    /// Session `id` explained: its transcript annotated as `serve --explain` prints it, and
    /// each of its messages checked. `None` when sessions are not explained or the session is
    /// not kept. Verifying runs its own small runtime: call it off the async threads.
    pub fn explain_session(&self, id: u64) -> Option<ExplainedSession> {
        let dns = self.explain.as_ref()?;
        let session = self.session(id)?;
        let client = session
            .client
            .parse::<SocketAddr>()
            .map_or(std::net::IpAddr::from([127, 0, 0, 1]), |a| a.ip());
        let mut annotated = Annotated::new(dns.as_ref(), client);
        let mut messages = Vec::new();
        for line in &session.transcript {
            let said = match line.who {
                "client" => Said::Command(&line.text),
                "server" => Said::Reply(&line.text),
                "decision" if line.routine => continue,
                "decision" => Said::Decision(&line.text),
                "message" => {
                    let Some(message) = line.message else {
                        continue;
                    };
                    let octets = self.message_size(message).unwrap_or(0);
                    let bytes = self.message_bytes(message);
                    let before = annotated.checks.len();
                    annotated.push(Said::Message {
                        octets,
                        content: bytes.as_deref().ok_or("its content is no longer kept"),
                    });
                    messages.push(ExplainedMessage {
                        id: message,
                        checks: annotated.checks.get(before).map(|c| c.summary()),
                    });
                    continue;
                }
                _ => Said::Note(&line.text),
            };
            annotated.push(said);
        }
        Some(ExplainedSession {
            id,
            lines: annotated.lines,
            messages,
        })
    }

    /// The size of message `id`, if it is kept.
    fn message_size(&self, id: u64) -> Option<u64> {
        let m = lock(&self.messages);
        m.list.iter().find(|msg| msg.id == id).map(|msg| msg.size)
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
        Recorder::new(self.clone(), session, peer, id)
    }

    /// Keeps a message, dropping the oldest to stay within the bounds; returns its number.
    pub(crate) fn add_message(&self, mut message: CapturedMessage) -> u64 {
        let mut m = lock(&self.messages);
        let id = m.next;
        message.id = id;
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
        id
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
