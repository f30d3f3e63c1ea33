//! A message's trace cut into steps: a new step starts where the conversation moves on to a
//! new purpose (greeting, STARTTLS, AUTH, the envelope, the content), where the relay turns to
//! another place (DNS, another MX host), and where it hears how an attempt ended.

use smtpsim_proto::Command;

use super::notes;
use super::{Line, Place, Speaker, Step, Traced, clock};
use crate::sim::{Hop, Note, TraceLine};

/// What a step is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The application submits the message to the relay.
    Submit(Phase),
    /// The relay looks the recipient domain's MX up.
    Dns,
    /// An MX host does not take the connection.
    ConnectFailed,
    /// The relay delivers to an MX host.
    Deliver(Phase),
    /// The relay takes stock after an attempt: delivered, bounced, deferred or expired.
    Result,
    /// The MX files the message.
    Mailbox,
    /// The relay returns a bounce notice to the sender.
    Notice,
}

/// The part of an SMTP conversation a step covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Connection, greeting, EHLO.
    Hello,
    /// STARTTLS, the handshake, EHLO again.
    Tls,
    /// AUTH.
    Auth,
    /// MAIL, RCPT, DATA.
    Envelope,
    /// The content, the end of data, QUIT.
    Content,
}

impl Kind {
    fn places(self) -> (Place, Place) {
        match self {
            Kind::Submit(_) => (Place::App, Place::Relay),
            Kind::Dns => (Place::Relay, Place::Dns),
            Kind::ConnectFailed | Kind::Deliver(_) => (Place::Relay, Place::Mx),
            Kind::Result => (Place::Relay, Place::Relay),
            Kind::Mailbox => (Place::Mx, Place::Mailbox),
            Kind::Notice => (Place::Relay, Place::App),
        }
    }
}

/// The phase a client line opens, if it opens one: STARTTLS, AUTH, MAIL and the content do;
/// other commands (EHLO, RCPT, DATA, QUIT) go on with the phase they are in.
fn phase_opened(line: &str) -> Option<Phase> {
    match Command::parse(line.as_bytes()) {
        Ok(Command::StartTls) => Some(Phase::Tls),
        Ok(Command::Auth { .. }) => Some(Phase::Auth),
        Ok(Command::Mail { .. }) => Some(Phase::Envelope),
        Ok(_) => None,
        // The transcript shows credentials and content by a description in angle brackets
        // (`AUTH PLAIN <base64 credentials>`, `<160 octets of message content>`), and the end
        // of data as a lone dot.
        Err(_) if line.starts_with("AUTH ") => Some(Phase::Auth),
        Err(_) if line.starts_with('<') => Some(Phase::Content),
        Err(_) => None,
    }
}

/// Whether `lines` send a message's content (the client's content line).
pub(crate) fn sends_content(lines: &[Line]) -> bool {
    lines
        .iter()
        .any(|l| l.speaker == Speaker::Client && phase_opened(&l.text) == Some(Phase::Content))
}

/// Whether a note of the relay-to-MX hop reports the end of an attempt.
fn reports_result(note: &Note) -> bool {
    matches!(
        note,
        Note::Deferred { .. } | Note::Expired(_) | Note::Recipient { .. }
    )
}

/// The kind of step `line` starts, or `None` if it goes on with `current`.
fn starts(line: &Traced, current: Option<(Kind, u32)>) -> Option<Kind> {
    let same_attempt = current.is_some_and(|(_, attempt)| attempt == line.attempt);
    let kind = current.map(|(kind, _)| kind);
    match line.hop {
        Hop::AppRelay => {
            let phase = match &line.line {
                TraceLine::Client(text) => phase_opened(text),
                _ => None,
            };
            match (kind, phase) {
                (Some(Kind::Submit(p)), Some(q)) if p != q => Some(Kind::Submit(q)),
                (Some(Kind::Submit(_)), _) => None,
                (_, phase) => Some(Kind::Submit(phase.unwrap_or(Phase::Hello))),
            }
        }
        Hop::RelayDns => Some(Kind::Dns),
        Hop::RelayMx => match &line.line {
            TraceLine::Note(Note::ConnectFailed { .. }) => Some(Kind::ConnectFailed),
            TraceLine::Note(Note::Connected { .. }) => Some(Kind::Deliver(Phase::Hello)),
            TraceLine::Note(note) if reports_result(note) => match kind {
                Some(Kind::Result) if same_attempt => None,
                _ => Some(Kind::Result),
            },
            TraceLine::Client(text) => match (kind, phase_opened(text)) {
                (Some(Kind::Deliver(p)), Some(q)) if p != q => Some(Kind::Deliver(q)),
                (Some(Kind::Deliver(_)), _) if same_attempt => None,
                (_, phase) => Some(Kind::Deliver(phase.unwrap_or(Phase::Hello))),
            },
            _ => match kind {
                Some(Kind::Deliver(_) | Kind::ConnectFailed | Kind::Result) if same_attempt => None,
                _ => Some(Kind::Deliver(Phase::Hello)),
            },
        },
        Hop::MxMailbox => Some(Kind::Mailbox),
        Hop::RelaySender => match kind {
            Some(Kind::Notice) if matches!(line.note(), Some(Note::BounceNotice { .. })) => {
                Some(Kind::Notice)
            }
            Some(Kind::Notice) => None,
            _ => Some(Kind::Notice),
        },
    }
}

/// A step being gathered.
struct Draft<'a> {
    kind: Kind,
    attempt: u32,
    time_us: u64,
    lines: Vec<&'a Traced>,
}

/// Cuts a message's trace into numbered steps.
pub(crate) fn cut(trace: &[Traced]) -> Vec<Step> {
    let mut drafts: Vec<Draft> = Vec::new();
    for line in trace {
        let current = drafts.last().map(|d| (d.kind, d.attempt));
        if let Some(kind) = starts(line, current) {
            drafts.push(Draft {
                kind,
                attempt: line.attempt,
                time_us: line.time_us,
                lines: Vec::new(),
            });
        }
        let draft = drafts.last_mut().expect("the first line starts a step");
        draft.lines.push(line);
    }
    drafts
        .into_iter()
        .enumerate()
        .map(|(i, d)| {
            let (from, to) = d.kind.places();
            let said: Vec<&TraceLine> = d.lines.iter().map(|t| &t.line).collect();
            Step {
                number: i + 1,
                title: notes::title(d.kind, d.attempt, &said),
                from,
                to,
                attempt: d.attempt,
                time_us: d.time_us,
                clock: clock(d.time_us),
                note: notes::note(d.kind, &said),
                lines: d
                    .lines
                    .iter()
                    .map(|t| Line {
                        speaker: t.speaker(),
                        text: line_text(&t.line),
                        time_us: t.time_us,
                    })
                    .collect(),
                record: None,
                message: None,
            }
        })
        .collect()
}

/// A trace line as a journey prints it: as the trace writes it, with times on the journey's
/// clock (`0:05:00.300`) rather than in seconds.
fn line_text(line: &TraceLine) -> String {
    match line {
        TraceLine::Note(Note::Deferred { next }) => {
            format!("deferred; next attempt at {}", clock(next.as_micros()))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{ConnectFailure, HostAddr, MxAnswer, RecipientResult};

    fn line(hop: Hop, attempt: u32, line: TraceLine) -> Traced {
        Traced {
            time_us: u64::from(attempt) * 1_000_000,
            attempt,
            hop,
            line,
        }
    }

    fn client(text: &str) -> TraceLine {
        TraceLine::Client(text.to_string())
    }

    fn server(text: &str) -> TraceLine {
        TraceLine::Server(text.to_string())
    }

    fn host(name: &str, ip: &str) -> HostAddr {
        HostAddr {
            name: name.to_string(),
            ip: ip.parse().unwrap(),
        }
    }

    #[test]
    fn client_lines_open_phases() {
        assert_eq!(phase_opened("STARTTLS"), Some(Phase::Tls));
        assert_eq!(
            phase_opened("AUTH PLAIN <base64 credentials>"),
            Some(Phase::Auth)
        );
        assert_eq!(
            phase_opened("MAIL FROM:<a@example.com> SIZE=100"),
            Some(Phase::Envelope)
        );
        assert_eq!(
            phase_opened("<160 octets of message content>"),
            Some(Phase::Content)
        );
        assert_eq!(phase_opened("EHLO relay.example"), None);
        assert_eq!(phase_opened("RCPT TO:<b@example.net>"), None);
        assert_eq!(phase_opened("."), None);
        assert_eq!(phase_opened("QUIT"), None);
    }

    #[test]
    fn a_trace_is_cut_where_the_purpose_changes() {
        let note = TraceLine::Note;
        let trace = vec![
            line(
                Hop::AppRelay,
                0,
                note(Note::Submitted {
                    sender: "app".into(),
                    message: 0,
                    size: 100,
                }),
            ),
            line(Hop::AppRelay, 0, server("220 relay.example ESMTP")),
            line(Hop::AppRelay, 0, client("EHLO app.internal")),
            line(Hop::AppRelay, 0, client("STARTTLS")),
            line(Hop::AppRelay, 0, client("EHLO app.internal")),
            line(Hop::AppRelay, 0, client("MAIL FROM:<a@example.com>")),
            line(Hop::AppRelay, 0, client("RCPT TO:<b@example.net>")),
            line(
                Hop::RelayDns,
                1,
                note(Note::MxLookup {
                    domain: "example.net".into(),
                    answer: MxAnswer::Hosts(vec![host("mx.example.net", "192.0.2.1")]),
                }),
            ),
            line(
                Hop::RelayMx,
                1,
                note(Note::ConnectFailed {
                    host: host("mx1", "192.0.2.1"),
                    failure: ConnectFailure::Refused,
                }),
            ),
            line(
                Hop::RelayMx,
                1,
                note(Note::Connected {
                    host: host("mx2", "192.0.2.2"),
                    reused: false,
                }),
            ),
            line(Hop::RelayMx, 1, server("220 mx2 ESMTP")),
            line(Hop::RelayMx, 1, client("EHLO relay.example")),
            line(Hop::RelayMx, 1, client("MAIL FROM:<a@example.com>")),
            line(Hop::RelayMx, 1, client("<100 octets of message content>")),
            line(Hop::RelayMx, 1, client(".")),
            line(
                Hop::RelayMx,
                1,
                note(Note::Recipient {
                    address: "b@example.net".into(),
                    result: RecipientResult::Delivered,
                }),
            ),
            line(
                Hop::MxMailbox,
                1,
                note(Note::Filed {
                    spam: false,
                    reasons: "placed in inbox".into(),
                }),
            ),
        ];
        let steps = cut(&trace);
        let sizes: Vec<usize> = steps.iter().map(|s| s.lines.len()).collect();
        assert_eq!(sizes, [3, 2, 2, 1, 1, 3, 1, 2, 1, 1]);
        let numbers: Vec<usize> = steps.iter().map(|s| s.number).collect();
        assert_eq!(numbers, (1..=10).collect::<Vec<_>>());
        assert_eq!(
            (steps[4].from, steps[4].to),
            (Place::Relay, Place::Mx),
            "the refused connection"
        );
        assert_eq!(steps[8].from, Place::Relay);
        assert_eq!(steps[8].to, Place::Relay);
        assert_eq!(steps[9].to, Place::Mailbox);
        assert_eq!(steps[3].clock, "0:00:01.000");
    }

    #[test]
    fn a_deferral_says_its_next_attempt_on_the_journeys_clock() {
        let next = smtpsim_des::SimTime::from_micros(300_300_000);
        assert_eq!(
            line_text(&TraceLine::Note(Note::Deferred { next })),
            "deferred; next attempt at 0:05:00.300"
        );
    }
}
