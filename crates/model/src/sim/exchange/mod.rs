//! One SMTP exchange between the relay and an MX host, in either of two ways that give the
//! same answers:
//!
//! - [`sessions`]: the protocol core's client session against its server session, every line
//!   formatted and parsed, with the MX behaviour as the server's policy. Traces come from here.
//! - [`decisions`]: the same conversation without the text: the client's steps in the client's
//!   order, each answered by the protocol core's transaction decisions
//!   (`smtpsim_proto::server::transaction`) and the same policy. Untraced messages take this
//!   path.
//!
//! Both say how many round trips the relay waited for and which one carried the content, so
//! that the engine times an attempt, and each line of its trace, the same way. A test runs
//! whole scenarios both ways ([`compare`]), attempt by attempt.

mod compare;
mod decisions;
mod sessions;

pub(crate) use compare::compare;
pub(crate) use decisions::{Scratch, decisions};
pub(crate) use sessions::{sessions, submission};

use std::net::IpAddr;

use super::content::{FactsRef, Source};
use smtpsim_proto::client::{RecipientOutcome, Speaker, Stage};
use smtpsim_proto::command::{Address, Host};

/// What the relay sends in one attempt.
pub(crate) struct Attempt<'a> {
    pub client_ip: IpAddr,
    pub helo: &'a str,
    pub starttls: bool,
    pub pipelining: bool,
    pub from: &'a str,
    pub recipients: &'a [&'a str],
    /// Builds the content, when a session exchange gets that far.
    pub content: Source<'a>,
    /// What the content shows the end-of-data check (the fast path hands over these instead
    /// of the content; a test checks both ways agree).
    pub facts: FactsRef<'a>,
    pub size: u64,
    /// Leave the connection open at the end (no QUIT), for another message.
    pub keep_open: bool,
    /// Go on with a connection that is open already, rather than opening one.
    pub resumed: Option<Resumed>,
}

/// Where an open connection stands between messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Resumed {
    /// TLS is on.
    pub tls: bool,
    /// Messages the server accepted on it so far.
    pub messages: u32,
}

/// What came of it.
pub(crate) struct Exchanged {
    /// One verdict per recipient, in order.
    pub recipients: Vec<RecipientOutcome>,
    /// The round trips the relay waited for.
    pub trips: Trips,
    /// The C:/S: lines, when run through the sessions with a transcript.
    pub transcript: Vec<Line>,
    /// The connection can carry another message: it got past EHLO and nobody closed it.
    pub reusable: bool,
    /// Where the connection stands after this exchange.
    pub state: Resumed,
}

/// The round trips of an exchange: each batch of commands the relay sent and waited for the
/// replies to (the connection and greeting, EHLO, STARTTLS, the TLS handshake, MAIL with or
/// without pipelined RCPT and DATA, the content, RSET). QUIT is sent at the end without
/// waiting for its reply.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Trips {
    /// How many.
    pub count: u32,
    /// The one that carried the message content, counted from 0, if the content was sent.
    pub content: Option<u32>,
}

impl Trips {
    /// Starts another round trip; returns its number.
    fn next(&mut self) -> u32 {
        self.count += 1;
        self.count - 1
    }
}

/// A line of an exchange and where in its round trips it was said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Line {
    /// The round trip it belongs to ([`Trips::count`] for QUIT and its reply, said at the
    /// end).
    pub trip: u32,
    /// When in that round trip.
    pub at: At,
    pub speaker: Speaker,
    pub text: String,
}

/// When in its round trip a line was said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum At {
    /// At the start: the relay sent it.
    Start,
    /// After the content went out (the lone dot ending it).
    AfterContent,
    /// At the end: the reply reached the relay (and notes on it).
    End,
}

impl Exchanged {
    /// The greeting failed (421 or a refusal): another MX host may do better.
    pub fn refused_at_greeting(&self) -> bool {
        self.recipients.iter().all(|r| r.stage == Stage::Greeting)
    }
}

/// Whether a connection can carry another message after an exchange that ended so: it got past
/// EHLO, and no 421 closed it.
fn reusable(recipients: &[RecipientOutcome]) -> bool {
    recipients.iter().all(|r| {
        r.stage >= Stage::Mail && r.reply.as_ref().is_none_or(|reply| reply.code.get() != 421)
    })
}

/// Splits a simulator-made address (`local@domain`, plain dot-atoms) without parsing, at its
/// last `@`. Inlined: it is called for every address of every attempt, and a call (with the
/// address handed back through memory) costs about as much as the split itself.
#[inline(always)]
fn split(address: &str) -> Address<'_> {
    let (local_part, domain) = match last_at(address.as_bytes()) {
        // `@` is ASCII, so both sides are whole characters.
        Some(at) => (&address[..at], &address[at + 1..]),
        None => (address, ""),
    };
    Address {
        local_part,
        domain: Host::Domain(domain),
    }
}

/// Where the last `@` of `bytes` is. Addresses are short: eight bytes are looked at a time,
/// from the end, as words whose `@` bytes are found with exact bit arithmetic.
#[inline]
fn last_at(bytes: &[u8]) -> Option<usize> {
    const AT: u64 = 0x4040_4040_4040_4040;
    const LOW: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    let n = bytes.len();
    if n < 8 {
        return bytes.iter().rposition(|&b| b == b'@');
    }
    let mut end = n;
    loop {
        // The word ending at `end`, or the first eight bytes (those past `end` hold no `@`).
        let start = end.saturating_sub(8);
        let word = u64::from_le_bytes(bytes[start..start + 8].try_into().unwrap_or([0; 8]));
        let v = word ^ AT;
        // 0x80 in every byte of `v` that is zero (no carry crosses bytes: each sum is below
        // 0x100), nothing elsewhere.
        let zero = !(((v & LOW) + LOW) | v | LOW);
        if zero != 0 {
            return Some(start + (63 - zero.leading_zeros() as usize) / 8);
        }
        if start == 0 {
            return None;
        }
        end = start;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_at_finds_the_last_at_sign_anywhere() {
        for n in 0..40 {
            assert_eq!(last_at(&vec![b'a'; n]), None, "{n}");
            for at in 0..n {
                let mut bytes = vec![b'A'; n];
                bytes[at] = b'@';
                assert_eq!(last_at(&bytes), Some(at), "{n} {at}");
                for earlier in 0..at {
                    let mut two = bytes.clone();
                    two[earlier] = b'@';
                    assert_eq!(last_at(&two), Some(at), "{n} {earlier} {at}");
                }
            }
        }
    }

    #[test]
    fn split_takes_the_domain_after_the_last_at() {
        let address = split("user637143@outlook.com");
        assert_eq!(address.local_part, "user637143");
        assert_eq!(address.domain, Host::Domain("outlook.com"));
        let bare = split("postmaster");
        assert_eq!(
            (bare.local_part, bare.domain),
            ("postmaster", Host::Domain(""))
        );
    }
}
