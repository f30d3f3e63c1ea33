//! Trace lines as the engine records them: SMTP lines verbatim, and what the relay did or
//! decided as a typed [`Note`]. Text is made only where a line is written out
//! ([`TraceLine`]'s `Display`); programs that read a trace (the journey) match on the notes.

use std::fmt;
use std::net::IpAddr;

use smtpsim_des::SimTime;

use super::bounce;
use super::records::TraceKind;

/// One line of a message's trace.
#[derive(Debug, Clone, PartialEq)]
pub enum TraceLine {
    /// A line the SMTP client sent.
    Client(String),
    /// A line the SMTP server sent.
    Server(String),
    /// What the simulator did or decided.
    Note(Note),
}

impl TraceLine {
    /// Who speaks.
    pub fn kind(&self) -> TraceKind {
        match self {
            TraceLine::Client(_) => TraceKind::Client,
            TraceLine::Server(_) => TraceKind::Server,
            TraceLine::Note(_) => TraceKind::Note,
        }
    }

    /// The note, if the line is one.
    pub fn note(&self) -> Option<&Note> {
        match self {
            TraceLine::Note(note) => Some(note),
            _ => None,
        }
    }
}

impl fmt::Display for TraceLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TraceLine::Client(text) | TraceLine::Server(text) => f.write_str(text),
            TraceLine::Note(note) => note.fmt(f),
        }
    }
}

/// An MX host by name and address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostAddr {
    /// Its name.
    pub name: String,
    /// Its address.
    pub ip: IpAddr,
}

impl fmt::Display for HostAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}]", self.name, self.ip)
    }
}

/// What the MX lookup of a domain answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MxAnswer {
    /// The MX hosts, in preference order.
    Hosts(Vec<HostAddr>),
    /// The domain does not exist.
    NxDomain,
    /// The domain publishes a null MX (`0 .`).
    NullMx,
    /// The lookup failed (SERVFAIL).
    ServFail,
    /// The lookup timed out.
    TimedOut,
}

/// Why a connection to an MX host failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectFailure {
    /// The host refused it.
    Refused,
    /// Nothing answered within the connect timeout.
    TimedOut,
}

/// How an attempt ended for one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecipientResult {
    /// The MX host accepted it.
    Delivered,
    /// Refused for good, and why.
    Bounced(String),
    /// Deferred, and why.
    Deferred(String),
}

/// Why the relay gave up on a deferred delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// The retry policy's attempt limit was reached.
    LastAttempt,
    /// The queue lifetime ran out.
    Lifetime,
    /// The retry schedule has no further attempt.
    ScheduleRanOut,
}

impl Expiry {
    /// The reason, in words (also the start of the recipient's `reasons`).
    pub fn text(self) -> &'static str {
        match self {
            Expiry::LastAttempt => "still deferred after the last allowed attempt",
            Expiry::Lifetime => "still deferred when the queue lifetime ran out",
            Expiry::ScheduleRanOut => "the retry schedule ran out",
        }
    }
}

/// What the simulator did or decided, as a trace note.
#[derive(Debug, Clone, PartialEq)]
pub enum Note {
    /// The application submits a message.
    Submitted {
        /// The sender's name in the scenario.
        sender: String,
        /// The message.
        message: u64,
        /// Its size in bytes.
        size: u64,
    },
    /// The relay looked up a domain's MX hosts.
    MxLookup {
        /// The domain.
        domain: String,
        /// What DNS answered.
        answer: MxAnswer,
    },
    /// A connection to an MX host failed.
    ConnectFailed {
        /// The host.
        host: HostAddr,
        /// How.
        failure: ConnectFailure,
    },
    /// The relay is connected to an MX host.
    Connected {
        /// The host.
        host: HostAddr,
        /// Over a connection kept open from an earlier message.
        reused: bool,
    },
    /// What the receiving side's checks found at the end of data: the body of an
    /// `Authentication-Results:` header (RFC 8601).
    AuthenticationResults(String),
    /// How the attempt ended for one recipient.
    Recipient {
        /// The recipient address.
        address: String,
        /// How.
        result: RecipientResult,
    },
    /// Where the MX host filed what it accepted.
    Filed {
        /// In the spam folder rather than the inbox.
        spam: bool,
        /// Why, in words.
        reasons: String,
    },
    /// Recipients over the server's recipient limit go in another transaction.
    OverRecipientLimit {
        /// How many.
        left: usize,
    },
    /// The delivery is deferred until `next`.
    Deferred {
        /// When the next attempt is due.
        next: SimTime,
    },
    /// The relay gave up on the delivery.
    Expired(Expiry),
    /// The relay sends the envelope sender a bounce notice.
    BounceNotice {
        /// The envelope sender.
        to: String,
        /// The recipients it reports.
        recipients: usize,
    },
    /// The sender's domain has no MX host in the scenario: the bounce notice goes nowhere.
    NoticeUndeliverable {
        /// The sender's domain.
        domain: String,
    },
    /// An automation rule fired on a reply of this attempt (the text of its `events.csv`
    /// row).
    Automation(String),
    /// A note of an SMTP session (the TLS handshake, a lost connection, ...), as the
    /// protocol core's client wrote it.
    Session(String),
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::Submitted {
                sender,
                message,
                size,
            } => write!(f, "{sender} submits message {message} ({size} bytes)"),
            Note::MxLookup { domain, answer } => match answer {
                MxAnswer::Hosts(hosts) if hosts.is_empty() => write!(f, "MX {domain}"),
                MxAnswer::Hosts(hosts) => {
                    write!(f, "MX {domain}: ")?;
                    for (i, host) in hosts.iter().enumerate() {
                        if i > 0 {
                            f.write_str(", ")?;
                        }
                        write!(f, "{host}")?;
                    }
                    Ok(())
                }
                MxAnswer::NxDomain => write!(f, "MX {domain}: NXDOMAIN"),
                MxAnswer::NullMx => write!(f, "MX {domain}: 0 . (null MX)"),
                MxAnswer::ServFail => write!(f, "MX {domain}: SERVFAIL"),
                MxAnswer::TimedOut => write!(f, "MX {domain}: timed out"),
            },
            Note::ConnectFailed { host, failure } => {
                let how = match failure {
                    ConnectFailure::Refused => "connection refused",
                    ConnectFailure::TimedOut => "timed out",
                };
                write!(f, "connect to {host}: {how}")
            }
            Note::Connected { host, reused } => {
                let how = if *reused {
                    "reusing the connection to"
                } else {
                    "connected to"
                };
                write!(f, "{how} {host}")
            }
            Note::AuthenticationResults(results) => {
                write!(f, "Authentication-Results: {results}")
            }
            Note::Recipient { address, result } => match result {
                RecipientResult::Delivered => write!(f, "{address}: delivered"),
                RecipientResult::Bounced(why) => write!(f, "{address}: bounced ({why})"),
                RecipientResult::Deferred(why) => write!(f, "{address}: deferred ({why})"),
            },
            Note::Filed { spam, reasons } => {
                let folder = if *spam { "spam folder" } else { "inbox" };
                write!(f, "{folder}: {reasons}")
            }
            Note::OverRecipientLimit { left } => write!(
                f,
                "{left} recipients over the server's recipient limit: sent in another \
                 transaction"
            ),
            Note::Deferred { next } => write!(f, "deferred; next attempt at {}s", next.fmt_secs()),
            Note::Expired(why) => write!(f, "expired: {}", why.text()),
            Note::BounceNotice { to, recipients } => write!(
                f,
                "bounce notice to {to}: {} ({recipients} recipient{})",
                bounce::SUBJECT,
                if *recipients == 1 { "" } else { "s" }
            ),
            Note::NoticeUndeliverable { domain } => write!(
                f,
                "{domain} has no MX host in the scenario: the notice is not delivered"
            ),
            Note::Session(text) | Note::Automation(text) => f.write_str(text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host() -> HostAddr {
        HostAddr {
            name: "mx.example.net".into(),
            ip: "192.0.2.1".parse().unwrap(),
        }
    }

    #[test]
    fn notes_read_as_sentences() {
        let cases = [
            (
                Note::ConnectFailed {
                    host: host(),
                    failure: ConnectFailure::Refused,
                },
                "connect to mx.example.net [192.0.2.1]: connection refused",
            ),
            (
                Note::Connected {
                    host: host(),
                    reused: true,
                },
                "reusing the connection to mx.example.net [192.0.2.1]",
            ),
            (
                Note::MxLookup {
                    domain: "example.net".into(),
                    answer: MxAnswer::Hosts(vec![host(), host()]),
                },
                "MX example.net: mx.example.net [192.0.2.1], mx.example.net [192.0.2.1]",
            ),
            (
                Note::Deferred {
                    next: SimTime::from_micros(300_000_000),
                },
                "deferred; next attempt at 300.000000s",
            ),
            (
                Note::Expired(Expiry::Lifetime),
                "expired: still deferred when the queue lifetime ran out",
            ),
            (
                Note::BounceNotice {
                    to: "a@example.com".into(),
                    recipients: 2,
                },
                "bounce notice to a@example.com: Undelivered Mail Returned to Sender (2 \
                 recipients)",
            ),
        ];
        for (note, text) in cases {
            assert_eq!(note.to_string(), text);
            assert_eq!(TraceLine::Note(note).kind(), TraceKind::Note);
        }
    }
}
