//! The recorder of one session: its transcript, decisions, identity and accepted messages.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use smtpsim_proto::client::{Speaker, TranscriptLine};
use smtpsim_proto::server::{ReceivedMessage, SessionInfo};

use super::{
    Capture, CapturedDecision, CapturedLine, CapturedMessage, CapturedSession,
    MAX_TRANSCRIPT_LINES, lock, unix_now,
};
use crate::policy::DecisionRecord;
use crate::trace::TlsDetails;

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
    /// The recorder of session `id` from `peer`, whose record `capture` keeps as `session`.
    pub(super) fn new(
        capture: Arc<Capture>,
        session: Arc<Mutex<CapturedSession>>,
        peer: SocketAddr,
        id: u64,
    ) -> Recorder {
        Recorder {
            capture,
            session,
            peer,
            id,
            decisions: Vec::new(),
        }
    }

    /// The capture it records into.
    pub(crate) fn capture(&self) -> &Capture {
        &self.capture
    }

    /// Notes the TLS established on the connection.
    pub(crate) fn tls(&self, tls: TlsDetails) {
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
        let mut push = |who: &'static str, text: String, routine: bool| {
            if s.transcript.len() < MAX_TRANSCRIPT_LINES {
                s.transcript.push(CapturedLine {
                    time,
                    who,
                    text,
                    message: None,
                    routine,
                });
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
            push(who, line.text.clone(), false);
        }
        for d in decisions {
            let routine = routine_decision(d.verdict, d.rule.as_deref());
            push("decision", decision_text(d), routine);
        }
        for line in replies {
            push("server", line.text.clone(), false);
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
        let id = self.capture.add_message(CapturedMessage {
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
        let mut s = lock(&self.session);
        if s.transcript.len() < MAX_TRANSCRIPT_LINES {
            s.transcript.push(CapturedLine {
                time: unix_now(),
                who: "message",
                text: format!("message {id} accepted, {} octets", message.size),
                message: Some(id),
                routine: false,
            });
        } else {
            s.lines_dropped += 1;
        }
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
    decision_line(
        d.stage,
        d.verdict,
        d.reason,
        d.rule.as_deref(),
        d.subject.as_deref(),
    )
}

/// Whether a decision only repeats the reply it led to: an accept that no reply rule made.
/// An annotated transcript leaves such decisions out (the 2xx reply already says it).
pub fn routine_decision(verdict: &str, rule: Option<&str>) -> bool {
    verdict == "accept" && rule.is_none()
}

/// A decision as one transcript line: `rcpt refuse: unknown user (b@example.net)`, with the
/// reply rule that decided after the reason.
pub fn decision_line(
    stage: &str,
    verdict: &str,
    reason: &str,
    rule: Option<&str>,
    subject: Option<&str>,
) -> String {
    let mut text = format!("{stage} {verdict}: {reason}");
    if let Some(rule) = rule {
        text.push_str(&format!(" {rule}"));
    }
    if let Some(subject) = subject {
        text.push_str(&format!(" ({subject})"));
    }
    text
}

/// The value of the first header called `name` (case-insensitive) in a message's head,
/// unfolded and trimmed.
fn header(content: &[u8], name: &str) -> Option<String> {
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
}
