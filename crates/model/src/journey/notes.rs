//! The words of a journey: each step's title, and a short note on why the step happens and
//! what its decisive reply means (from the protocol core's reply-code catalogue).

use smtpsim_proto::codes::{self, Retry};

use super::steps::{Kind, Phase};
use crate::sim::{Note, RecipientResult, TraceLine};

/// A step's title, in a few words.
pub(crate) fn title(kind: Kind, attempt: u32, lines: &[&TraceLine]) -> String {
    let mut notes = lines.iter().filter_map(|l| l.note());
    match kind {
        Kind::Submit(Phase::Hello) => "The app connects to its relay and says EHLO".into(),
        Kind::Submit(Phase::Tls) => "The app turns on encryption (STARTTLS)".into(),
        Kind::Submit(Phase::Auth) => "The app logs in to the relay (AUTH)".into(),
        Kind::Submit(Phase::Envelope) => "The app hands over the envelope".into(),
        Kind::Submit(Phase::Content) => "The app sends the message itself".into(),
        Kind::Dns => {
            let domain = notes.find_map(|n| match n {
                Note::MxLookup { domain, .. } => Some(domain.as_str()),
                _ => None,
            });
            let domain = domain.unwrap_or("the recipient domain");
            format!("The relay looks up the MX hosts of {domain}")
        }
        Kind::ConnectFailed => {
            let host = notes.find_map(|n| match n {
                Note::ConnectFailed { host, .. } => Some(host.name.as_str()),
                _ => None,
            });
            let host = host.unwrap_or("an MX host");
            format!("Attempt {attempt}: {host} does not take the connection")
        }
        Kind::Deliver(Phase::Hello) => {
            let connected = notes.find_map(|n| match n {
                Note::Connected { host, reused } => Some((host.name.as_str(), *reused)),
                _ => None,
            });
            match connected {
                Some((host, true)) => {
                    format!("Attempt {attempt}: the relay reuses its connection to {host}")
                }
                Some((host, false)) => format!("Attempt {attempt}: the relay connects to {host}"),
                None => format!("Attempt {attempt}: the relay connects to the MX"),
            }
        }
        Kind::Deliver(Phase::Tls) => "The relay turns on encryption (STARTTLS)".into(),
        Kind::Deliver(Phase::Auth) => "The relay logs in (AUTH)".into(),
        Kind::Deliver(Phase::Envelope) => "The relay hands over the envelope".into(),
        Kind::Deliver(Phase::Content) => "The relay sends the message; the MX checks it".into(),
        Kind::Result => match result_of(lines) {
            Outcome::Delivered => "Delivered: the MX took responsibility".into(),
            Outcome::Bounced => "Bounced: refused for good".into(),
            Outcome::Expired => "Expired: the relay gives up".into(),
            Outcome::Deferred => "Deferred: the relay will try again".into(),
        },
        Kind::Mailbox => {
            if notes.any(|n| matches!(n, Note::Filed { spam: true, .. })) {
                "The MX files the message in the spam folder".into()
            } else {
                "The MX files the message in the inbox".into()
            }
        }
        Kind::Notice => "The relay sends a bounce notice back to the sender".into(),
    }
}

/// How an attempt ended, from the relay's notes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Delivered,
    Bounced,
    Expired,
    Deferred,
}

fn result_of(lines: &[&TraceLine]) -> Outcome {
    let notes = || lines.iter().filter_map(|l| l.note());
    if notes().any(|n| matches!(n, Note::Expired(_))) {
        Outcome::Expired
    } else if notes().any(|n| matches!(n, Note::Deferred { .. })) {
        Outcome::Deferred
    } else if notes().any(|n| {
        matches!(
            n,
            Note::Recipient {
                result: RecipientResult::Bounced(_),
                ..
            }
        )
    }) {
        Outcome::Bounced
    } else {
        Outcome::Delivered
    }
}

/// Why the step happens and what its decisive reply means.
pub(crate) fn note(kind: Kind, lines: &[&TraceLine]) -> String {
    let why = match kind {
        Kind::Submit(Phase::Hello) => {
            "The application does not deliver mail itself: it submits it to a relay (the \
             submission port, 587). The relay greets with 220; EHLO names the client and asks \
             which extensions the server offers, one per 250 line."
        }
        Kind::Submit(Phase::Tls) | Kind::Deliver(Phase::Tls) => {
            "STARTTLS turns the same connection into an encrypted one before anything private \
             is sent. After the handshake the client says EHLO again: what was said in clear \
             text is forgotten (RFC 3207). Here the handshake is modelled, not performed."
        }
        Kind::Submit(Phase::Auth) | Kind::Deliver(Phase::Auth) => {
            "AUTH proves who the application is, so that the relay sends mail for it and \
             nobody else. The credentials are only base64-encoded: that is why AUTH comes \
             after STARTTLS. 235 means logged in."
        }
        Kind::Submit(Phase::Envelope) | Kind::Deliver(Phase::Envelope) => {
            "The envelope is what servers act on, not the headers: MAIL FROM gives the return \
             path (where bounces go), each RCPT TO one recipient, DATA asks to send the \
             message. With PIPELINING the client sends them together and reads the replies in \
             order."
        }
        Kind::Submit(Phase::Content) => {
            "The message (headers and body) follows the 354 and ends with a line holding a \
             single dot. The 250 after the dot means the relay has queued it: from now on the \
             relay is responsible for delivering it or telling the sender why not."
        }
        Kind::Deliver(Phase::Content) => {
            "The message follows the 354 and ends with a lone dot. Before answering, the \
             receiving side checks who sent it (SPF, DKIM, DMARC): a 250 hands responsibility \
             over to it; a refusal here leaves it with the relay."
        }
        Kind::Dns => {
            "To find where mail for a domain goes, the relay asks DNS for its MX records: the \
             hosts that take its mail, lowest preference first. A domain that does not exist \
             (NXDOMAIN) or accepts no mail (null MX) bounces at once; a failed lookup is \
             retried."
        }
        Kind::ConnectFailed => {
            "The host is down. The relay tries the next MX host in preference order: this is \
             what a secondary MX is for. If none takes the connection, the delivery is \
             deferred and tried again later."
        }
        Kind::Deliver(Phase::Hello) => {
            "The relay opens an SMTP connection to the recipient's MX on port 25. The 220 \
             greeting says the server is ready; EHLO names the relay and lists the server's \
             extensions."
        }
        Kind::Result => match result_of(lines) {
            Outcome::Delivered => {
                "The MX accepted the message: the relay's job is done and it deletes its copy."
            }
            Outcome::Bounced => {
                "A 5xx reply is permanent: sending the same thing again would fail again, so \
                 the relay gives up on the recipient at once and tells the sender."
            }
            Outcome::Deferred => {
                "A 4xx reply (or no answer at all) is temporary: the relay keeps the message \
                 in its queue and tries again later, waiting longer after each failure."
            }
            Outcome::Expired => {
                "The message stayed deferred longer than the relay's queue lifetime (or retry \
                 limit). The relay stops trying; the temporary failure has become a \
                 permanent one, and the sender is told."
            }
        },
        Kind::Mailbox => mailbox(false),
        Kind::Notice => {
            "The relay owes the sender an answer: it sends a delivery status notification \
             (RFC 3464) to the return path, the MAIL FROM address. It goes out with an empty \
             return path, MAIL FROM:<>, so that a bounce can never cause another bounce."
        }
    };
    match decisive_reply(lines) {
        Some(meaning) => format!("{why} {meaning}"),
        None => why.to_string(),
    }
}

/// What the first refusal (4xx or 5xx) among the server's lines means, if there is one.
fn decisive_reply(lines: &[&TraceLine]) -> Option<String> {
    lines
        .iter()
        .filter_map(|l| match l {
            TraceLine::Server(text) => Some(text),
            _ => None,
        })
        .find_map(|text| {
            let explanation = codes::explain(text).ok()?;
            if !matches!(explanation.retry, Retry::Later | Retry::Never) {
                return None;
            }
            let code = explanation.code_value?;
            let (label, name) = match explanation.enhanced {
                Some((enhanced, Some(info))) => (format!("{code} {enhanced}"), info.name),
                Some((enhanced, None)) => (
                    format!("{code} {enhanced}"),
                    explanation.code.map_or("", |c| c.name),
                ),
                None => (code.to_string(), explanation.code.map_or("", |c| c.name)),
            };
            let retry = match explanation.retry {
                Retry::Later => "temporary: the sender keeps the message and retries later",
                _ => "permanent: sending the same thing again would fail again",
            };
            Some(format!("{label} means \"{name}\", {retry}."))
        })
}

/// Why the MX files the message: DKIM modelled (the simulator) or verified for real (a
/// journey whose message was signed and verified for real).
pub fn mailbox(real_dkim: bool) -> &'static str {
    if real_dkim {
        "After accepting, the MX files the message. SPF asked whether the relay's address may \
         send for the envelope domain; DKIM, verified for real, whether the signature's body \
         hash (bh=) and signature (b=) still match the message with the key the signing domain \
         publishes; DMARC whether either passed for the domain in the visible From. Passing \
         DMARC means the inbox; failing it, or SPF failing on its own, the spam folder."
    } else {
        "After accepting, the MX files the message. SPF asked whether the relay's address may \
         send for the envelope domain; DKIM, modelled rather than computed (no signature is \
         made or checked), whether the signing domain publishes a usable key and the signed \
         parts arrived unaltered; DMARC whether either passed for the domain in the visible \
         From. Passing DMARC means the inbox; failing it, or SPF failing on its own, the spam \
         folder."
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Expiry;
    use smtpsim_des::SimTime;

    fn server(text: &str) -> TraceLine {
        TraceLine::Server(text.to_string())
    }

    #[test]
    fn the_first_refusal_is_explained() {
        let lines = [
            server("250 2.1.0 Sender OK"),
            server("451 4.7.1 Greylisted, please try again in 300 seconds"),
            server("554 5.5.1 No valid recipients"),
        ];
        let lines: Vec<&TraceLine> = lines.iter().collect();
        let meaning = decisive_reply(&lines).unwrap();
        assert!(meaning.starts_with("451 4.7.1 means \""), "{meaning}");
        assert!(meaning.contains("temporary"), "{meaning}");
        assert!(decisive_reply(&lines[..1]).is_none());
        let note = note(Kind::Deliver(Phase::Envelope), &lines);
        assert!(note.starts_with("The envelope is what servers act on"));
        assert!(note.ends_with(meaning.as_str()));
    }

    #[test]
    fn results_have_their_own_titles() {
        let recipient = |result| {
            TraceLine::Note(Note::Recipient {
                address: "b@example.net".into(),
                result,
            })
        };
        let title_of = |lines: &[TraceLine]| {
            let lines: Vec<&TraceLine> = lines.iter().collect();
            title(Kind::Result, 1, &lines)
        };
        let deferred = [
            recipient(RecipientResult::Deferred("451 at rcpt: Greylisted".into())),
            TraceLine::Note(Note::Deferred {
                next: SimTime::from_micros(300_000_000),
            }),
        ];
        assert_eq!(title_of(&deferred), "Deferred: the relay will try again");
        let expired = [TraceLine::Note(Note::Expired(Expiry::Lifetime))];
        assert_eq!(title_of(&expired), "Expired: the relay gives up");
        let bounced = [recipient(RecipientResult::Bounced(
            "550 at rcpt: User unknown".into(),
        ))];
        assert_eq!(title_of(&bounced), "Bounced: refused for good");
        let delivered = [recipient(RecipientResult::Delivered)];
        assert!(title_of(&delivered).starts_with("Delivered"));
    }
}
