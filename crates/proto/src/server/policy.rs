//! The questions a server session asks its caller, and the answers it takes.

use std::net::IpAddr;

use crate::command::{ForwardPath, Host, MailParams, RcptParams, ReversePath};
use crate::reply::Reply;

/// What the session knows about the connection when it asks the policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionInfo {
    /// The client's address, as the driver reported it.
    pub client_ip: Option<IpAddr>,
    /// The name the client gave in HELO/EHLO (since the last reset).
    pub helo: Option<String>,
    /// Whether the client used EHLO rather than HELO.
    pub esmtp: bool,
    /// Whether TLS is active on the connection.
    pub tls: bool,
    /// The authenticated identity, after a successful AUTH.
    pub authenticated: Option<String>,
    /// Messages accepted on this connection so far.
    pub messages: u32,
}

/// The envelope of the transaction in progress (owned, so it outlives the command lines).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Envelope {
    /// The reverse-path without angle brackets; empty for the null path `<>`.
    pub from: String,
    /// Accepted recipients, without angle brackets (`Postmaster` for `<Postmaster>`).
    pub recipients: Vec<String>,
    /// `SIZE=` declared in MAIL FROM.
    pub declared_size: Option<u64>,
    /// `BODY=8BITMIME` or `BINARYMIME` was given.
    pub eight_bit: bool,
    /// `SMTPUTF8` was given.
    pub smtputf8: bool,
}

/// A policy's answer at a decision point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Go on, with the session's usual positive reply.
    Accept,
    /// Go on, with this positive reply instead (for example `250 2.0.0 Ok: queued as 1A2B`).
    AcceptWith(Reply),
    /// Refuse this step with a 4xx (defer) or 5xx (reject) reply; the session goes on, except
    /// after a 421, which says the server is closing: the session closes as with
    /// [`Decision::Disconnect`].
    Refuse(Reply),
    /// Answer with this reply (usually `421 4.x.x`) and close the connection.
    Disconnect(Reply),
}

impl Decision {
    /// Refuse with `code`, enhanced code `class.subject.detail` and `text`.
    pub fn refuse(code: u16, enhanced: (u8, u16, u16), text: impl Into<String>) -> Decision {
        Decision::Refuse(reply(code, enhanced, text))
    }

    /// Disconnect with `code`, enhanced code `class.subject.detail` and `text`.
    pub fn disconnect(code: u16, enhanced: (u8, u16, u16), text: impl Into<String>) -> Decision {
        Decision::Disconnect(reply(code, enhanced, text))
    }
}

fn reply(code: u16, (class, subject, detail): (u8, u16, u16), text: impl Into<String>) -> Reply {
    let code = crate::reply::ReplyCode::new(code)
        .unwrap_or_else(|| crate::reply::ReplyCode::new(451).expect("451 is a valid reply code"));
    Reply::new(
        code,
        Some(crate::reply::EnhancedCode::new(class, subject, detail)),
        text.into(),
    )
}

/// Decides, at each point of an SMTP session, whether to go on. Every method has a default
/// that accepts, except [`Policy::auth`], which refuses (no users are known by default).
///
/// A behaviour such as greylisting implements this once; the simulator and the real server
/// both drive it. Time is not read here: a policy that needs it is told by its driver.
pub trait Policy {
    /// A client connected; the answer replaces the 220 greeting.
    fn connect(&mut self, session: &SessionInfo) -> Decision {
        let _ = session;
        Decision::Accept
    }

    /// The client said HELO or EHLO.
    fn helo(&mut self, session: &SessionInfo, domain: &Host<'_>) -> Decision {
        let _ = (session, domain);
        Decision::Accept
    }

    /// The client authenticated with `identity` and `password` (authorization identity already
    /// checked to be empty or equal to `identity`). Accept gives 235; refuse with 535 5.7.8.
    fn auth(&mut self, session: &SessionInfo, identity: &str, password: &str) -> Decision {
        let _ = (session, identity, password);
        Decision::refuse(535, (5, 7, 8), "Authentication credentials invalid")
    }

    /// MAIL FROM.
    fn mail(
        &mut self,
        session: &SessionInfo,
        from: &ReversePath<'_>,
        params: &MailParams<'_>,
    ) -> Decision {
        let _ = (session, from, params);
        Decision::Accept
    }

    /// RCPT TO, for each recipient. `envelope` holds the recipients accepted so far.
    fn rcpt(
        &mut self,
        session: &SessionInfo,
        envelope: &Envelope,
        to: &ForwardPath<'_>,
        params: &RcptParams<'_>,
    ) -> Decision {
        let _ = (session, envelope, to, params);
        Decision::Accept
    }

    /// DATA (or the first BDAT), before any content is read.
    fn data(&mut self, session: &SessionInfo, envelope: &Envelope) -> Decision {
        let _ = (session, envelope);
        Decision::Accept
    }

    /// The whole message has arrived (dot-unstuffed content, CRLF line endings). Accepting it
    /// means taking responsibility for it: a driver that stores mail stores it here, before the
    /// 250 reply is sent.
    fn message(&mut self, session: &SessionInfo, envelope: &Envelope, content: &[u8]) -> Decision {
        let _ = (session, envelope, content);
        Decision::Accept
    }

    /// With [`ServerConfig::stream_content`](super::ServerConfig::stream_content): the next
    /// piece of the content of the message in progress, as it arrives (dot-unstuffed, CRLF
    /// line endings, in order). The pieces of a message end with [`Policy::message`], then
    /// given only the head of the content, or with [`Policy::discard`]. By default the pieces
    /// are dropped (a sink).
    fn content(&mut self, session: &SessionInfo, envelope: &Envelope, piece: &[u8]) {
        let _ = (session, envelope, piece);
    }

    /// The pieces handed to [`Policy::content`] since the last message are not a message (it
    /// was refused, too big or malformed, the transaction was reset, or the session closed
    /// before its end): forget them.
    fn discard(&mut self, session: &SessionInfo) {
        let _ = session;
    }
}

/// A policy that accepts everything and knows no users: a mail sink.
#[derive(Debug, Clone, Copy, Default)]
pub struct AcceptAll;

impl Policy for AcceptAll {}

/// A borrowed policy answers like the policy itself, so state that outlives one session (a
/// greylist, rate-limit buckets) can serve session after session.
impl<P: Policy + ?Sized> Policy for &mut P {
    fn connect(&mut self, session: &SessionInfo) -> Decision {
        (**self).connect(session)
    }

    fn helo(&mut self, session: &SessionInfo, domain: &Host<'_>) -> Decision {
        (**self).helo(session, domain)
    }

    fn auth(&mut self, session: &SessionInfo, identity: &str, password: &str) -> Decision {
        (**self).auth(session, identity, password)
    }

    fn mail(
        &mut self,
        session: &SessionInfo,
        from: &ReversePath<'_>,
        params: &MailParams<'_>,
    ) -> Decision {
        (**self).mail(session, from, params)
    }

    fn rcpt(
        &mut self,
        session: &SessionInfo,
        envelope: &Envelope,
        to: &ForwardPath<'_>,
        params: &RcptParams<'_>,
    ) -> Decision {
        (**self).rcpt(session, envelope, to, params)
    }

    fn data(&mut self, session: &SessionInfo, envelope: &Envelope) -> Decision {
        (**self).data(session, envelope)
    }

    fn message(&mut self, session: &SessionInfo, envelope: &Envelope, content: &[u8]) -> Decision {
        (**self).message(session, envelope, content)
    }

    fn content(&mut self, session: &SessionInfo, envelope: &Envelope, piece: &[u8]) {
        (**self).content(session, envelope, piece)
    }

    fn discard(&mut self, session: &SessionInfo) {
        (**self).discard(session)
    }
}
