//! The result of one delivery attempt, per recipient.

use crate::reply::Reply;

/// Where in the conversation a recipient's verdict was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stage {
    /// The 220 greeting (or its refusal).
    Greeting,
    /// EHLO or HELO.
    Hello,
    /// STARTTLS.
    StartTls,
    /// AUTH.
    Auth,
    /// MAIL FROM.
    Mail,
    /// RCPT TO.
    Rcpt,
    /// The DATA command.
    Data,
    /// The reply after the content (end of data).
    Content,
    /// After the transaction, or outside it.
    Quit,
}

impl Stage {
    /// A short lowercase name (`greeting`, `hello`, `starttls`, `auth`, `mail`, `rcpt`,
    /// `data`, `content`, `quit`).
    pub fn name(self) -> &'static str {
        match self {
            Stage::Greeting => "greeting",
            Stage::Hello => "hello",
            Stage::StartTls => "starttls",
            Stage::Auth => "auth",
            Stage::Mail => "mail",
            Stage::Rcpt => "rcpt",
            Stage::Data => "data",
            Stage::Content => "content",
            Stage::Quit => "quit",
        }
    }
}

/// A recipient's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// The server took responsibility for the message (2xx after the content).
    Accepted,
    /// Failed for now (4xx, or no verdict because the connection broke): try again later.
    Deferred,
    /// Failed for good (5xx): bounce.
    Rejected,
}

/// The verdict for one recipient and the reply that gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientOutcome {
    /// Accepted, deferred or rejected.
    pub status: Status,
    /// Where the verdict was given.
    pub stage: Stage,
    /// The server's reply, when a reply decided it.
    pub reply: Option<Reply>,
    /// Why, when no reply decided it (connection lost, TLS or AUTH not offered, ...).
    pub note: Option<&'static str>,
}

impl RecipientOutcome {
    /// The verdict a reply gives: 2xx accepted, 5xx rejected, anything else deferred.
    pub fn from_reply(stage: Stage, reply: &Reply) -> RecipientOutcome {
        RecipientOutcome::from_owned_reply(stage, reply.clone())
    }

    /// [`RecipientOutcome::from_reply`], keeping `reply` without a copy.
    pub fn from_owned_reply(stage: Stage, reply: Reply) -> RecipientOutcome {
        let status = if reply.code.is_positive() {
            Status::Accepted
        } else if reply.code.is_permanent() {
            Status::Rejected
        } else {
            Status::Deferred
        };
        RecipientOutcome {
            status,
            stage,
            reply: Some(reply),
            note: None,
        }
    }

    pub fn deferred(stage: Stage, note: &'static str) -> RecipientOutcome {
        RecipientOutcome {
            status: Status::Deferred,
            stage,
            reply: None,
            note: Some(note),
        }
    }
}

/// The verdicts of one attempt, in the order of the message's recipients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// One verdict per recipient.
    pub recipients: Vec<RecipientOutcome>,
}

impl Outcome {
    /// How many recipients have `status`.
    pub fn count(&self, status: Status) -> usize {
        self.recipients
            .iter()
            .filter(|r| r.status == status)
            .count()
    }

    /// Whether every recipient was accepted.
    pub fn all_accepted(&self) -> bool {
        self.count(Status::Accepted) == self.recipients.len()
    }
}
