//! SMTP commands (RFC 5321, RFC 3207 STARTTLS, RFC 4954 AUTH, RFC 3030 BDAT) and their
//! parameters: the types, the parser ([`Command::parse`]) and the formatter
//! ([`Command::write_to`], and [`Display`](std::fmt::Display) for the wire form without CRLF).
//! Nothing else in the workspace parses or formats a command line.
//!
//! Parsing borrows from the input line and does not allocate on success. Formatting is
//! canonical: upper-case verbs and keywords, single spaces, parameters in a fixed order, so
//! `Command::parse` of a formatted command gives the same command back.
//!
//! # What the parser accepts
//!
//! The grammar is RFC 5321's, with the ESMTP parameters of RFC 1870 (`SIZE`), RFC 6152
//! (`BODY`), RFC 6531 (`SMTPUTF8`), RFC 3461 (`RET`, `ENVID`, `NOTIFY`, `ORCPT`) and RFC 4954
//! (`AUTH=`). Verbs, parameter keywords and keyword-like values are case-insensitive. A few
//! common deviations are accepted on purpose:
//!
//! - spaces after `FROM:` and `TO:` (`MAIL FROM: <a@example.com>`);
//! - more than one space wherever one is expected, and trailing spaces at the end of the line;
//! - an address literal in `HELO` (RFC 5321 allows it only in `EHLO`);
//! - source routes (`<@a.example,@b.example:user@c.example>`), which are checked and dropped;
//! - non-ASCII UTF-8 in local parts and domain labels whether or not `SMTPUTF8` was given (the
//!   server session decides about that), and lower-case hex digits in xtext;
//! - `AUTH=` in MAIL is kept as written: `<>`, `<mailbox>` or an xtext addr-spec;
//! - the argument of `NOOP`, `VRFY`, `EXPN` and `HELP` is any printable text, spaces included
//!   (`VRFY John Smith`), where RFC 5321 asks for one atom or quoted string;
//! - an AUTH initial response is checked for the base64 alphabet and at most two `=` of
//!   padding, not for a length that is a multiple of four;
//! - the `ORCPT=` value may hold UTF-8 after its `;` (RFC 6533 `utf-8` addresses).
//!
//! Other decisions:
//!
//! - A line longer than 510 octets (512 with its CRLF, [`crate::limits::Limits::command_line`])
//!   is [`CommandError::LineTooLong`] before anything else is looked at.
//! - Arguments must be UTF-8 without ASCII control characters (tabs included), else
//!   [`CommandError::Syntax`].
//! - Any problem with an ESMTP parameter (unknown keyword, missing or bad value, `SIZE` too big
//!   for a `u64`) is [`CommandError::UnsupportedParameter`] (555 5.5.4); a parameter given twice
//!   is [`CommandError::Syntax`] (501 5.5.4), as RFC 1869 allows each keyword at most once.
//! - `MAIL`/`RCPT` without a path are [`CommandError::Syntax`]; a path without angle brackets or
//!   with a bad address is [`CommandError::BadSender`] / [`CommandError::BadRecipient`].
//! - A verb is recognised only when followed by a space or the end of the line (`DATA:` is an
//!   unknown command). `HELO`/`EHLO` take exactly one domain or address literal; domains are
//!   checked for syntax only (letters, digits and hyphens, or non-ASCII for U-labels, with no
//!   IDNA checks), so `EHLO my_host` and `EHLO example.com.` are syntax errors.
//! - A `BDAT` chunk size too big for a `u64` is [`CommandError::Syntax`].
//! - The 256-octet limit on a whole path (RFC 5321 section 4.5.3.1.3) is not enforced; the
//!   limits on a local part (64), a domain label (63) and a domain (255) are.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::reply::{EnhancedCode, Reply};

/// One SMTP command line, parsed. Borrowed strings point into the input line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command<'a> {
    /// `HELO domain`
    Helo { domain: Host<'a> },
    /// `EHLO domain-or-address-literal`
    Ehlo { domain: Host<'a> },
    /// `MAIL FROM:<reverse-path> [params]`
    Mail {
        from: ReversePath<'a>,
        params: MailParams<'a>,
    },
    /// `RCPT TO:<forward-path> [params]`
    Rcpt {
        to: ForwardPath<'a>,
        params: RcptParams<'a>,
    },
    /// `DATA`
    Data,
    /// `BDAT size [LAST]` (RFC 3030 CHUNKING)
    Bdat { size: u64, last: bool },
    /// `RSET`
    Rset,
    /// `NOOP [string]`
    Noop { arg: Option<&'a str> },
    /// `QUIT`
    Quit,
    /// `VRFY string`
    Vrfy { arg: &'a str },
    /// `EXPN string`
    Expn { arg: &'a str },
    /// `HELP [topic]`
    Help { topic: Option<&'a str> },
    /// `STARTTLS` (RFC 3207)
    StartTls,
    /// `AUTH mechanism [initial-response]` (RFC 4954); an initial response of `=` stands for
    /// an empty one and is kept as `Some("=")`.
    Auth {
        mechanism: AuthMechanism<'a>,
        initial_response: Option<&'a str>,
    },
}

/// A SASL mechanism named in `AUTH`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMechanism<'a> {
    /// `PLAIN` (RFC 4616)
    Plain,
    /// `LOGIN` (draft-murchison-sasl-login)
    Login,
    /// Any other syntactically valid mechanism name, as written.
    Other(&'a str),
}

/// The host named in HELO/EHLO or after the `@` of an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host<'a> {
    /// A domain name such as `mail.example.com` (may be UTF-8 under SMTPUTF8).
    Domain(&'a str),
    /// `[192.0.2.1]`
    Ipv4(Ipv4Addr),
    /// `[IPv6:2001:db8::1]`
    Ipv6(Ipv6Addr),
    /// `[tag:content]`, a general address literal.
    General { tag: &'a str, content: &'a str },
}

/// A mailbox `local-part@domain`. The local part is kept as written, so a quoted local part
/// keeps its quotes and backslashes: `"john doe"@example.com` has `local_part` `"john doe"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Address<'a> {
    /// The local part as written (dot-string or quoted-string).
    pub local_part: &'a str,
    /// The domain or address literal.
    pub domain: Host<'a>,
}

/// The argument of `MAIL FROM:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReversePath<'a> {
    /// `<>`: the null reverse-path used by bounces.
    Null,
    /// `<mailbox>` (a source route, if present, is accepted and dropped).
    Mailbox(Address<'a>),
}

/// The argument of `RCPT TO:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardPath<'a> {
    /// `<Postmaster>` without a domain (RFC 5321 section 4.1.1.3).
    Postmaster,
    /// `<mailbox>` (a source route, if present, is accepted and dropped).
    Mailbox(Address<'a>),
}

/// `BODY=` (RFC 6152, RFC 3030).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyType {
    /// `BODY=7BIT`
    SevenBit,
    /// `BODY=8BITMIME`
    EightBitMime,
    /// `BODY=BINARYMIME`
    BinaryMime,
}

/// `RET=` (RFC 3461): how much of the message a DSN returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ret {
    /// `RET=FULL`
    Full,
    /// `RET=HDRS`
    Headers,
}

/// `NOTIFY=` (RFC 3461): `NEVER`, or any of `SUCCESS`, `FAILURE`, `DELAY`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Notify {
    /// `NOTIFY=NEVER`; the other flags are false when set.
    pub never: bool,
    /// `SUCCESS`
    pub success: bool,
    /// `FAILURE`
    pub failure: bool,
    /// `DELAY`
    pub delay: bool,
}

/// ESMTP parameters of `MAIL FROM:`. Values are borrowed as written (xtext not decoded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MailParams<'a> {
    /// `SIZE=n` (RFC 1870)
    pub size: Option<u64>,
    /// `BODY=` (RFC 6152)
    pub body: Option<BodyType>,
    /// `SMTPUTF8` (RFC 6531)
    pub smtputf8: bool,
    /// `RET=` (RFC 3461)
    pub ret: Option<Ret>,
    /// `ENVID=xtext` (RFC 3461), as written
    pub envid: Option<&'a str>,
    /// `AUTH=<mailbox>` or `AUTH=<>` (RFC 4954), as written
    pub auth: Option<&'a str>,
}

/// ESMTP parameters of `RCPT TO:`. Values are borrowed as written (xtext not decoded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RcptParams<'a> {
    /// `NOTIFY=` (RFC 3461)
    pub notify: Option<Notify>,
    /// `ORCPT=addr-type;xtext` (RFC 3461), as written
    pub orcpt: Option<&'a str>,
}

/// Why a command line could not be parsed. Each variant maps to exactly one reply
/// ([`CommandError::reply`]); the `&'static str` says what was wrong, for the reply text and logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// The verb is not an SMTP command: 500 5.5.2.
    #[error("unknown command")]
    UnknownCommand,
    /// Longer than 512 octets including CRLF: 500 5.5.6.
    #[error("line too long")]
    LineTooLong,
    /// Bad or missing arguments: 501 5.5.4.
    #[error("syntax error in arguments: {0}")]
    Syntax(&'static str),
    /// The MAIL FROM address is malformed: 501 5.1.7.
    #[error("bad sender address: {0}")]
    BadSender(&'static str),
    /// The RCPT TO address is malformed: 501 5.1.3.
    #[error("bad recipient address: {0}")]
    BadRecipient(&'static str),
    /// An ESMTP parameter we do not know, or a known one with a bad value: 555 5.5.4.
    #[error("unsupported parameter: {0}")]
    UnsupportedParameter(String),
}

impl CommandError {
    /// The reply a server sends for this error.
    pub fn reply(&self) -> Reply {
        let (code, enhanced) = match self {
            CommandError::UnknownCommand => (500, EnhancedCode::new(5, 5, 2)),
            CommandError::LineTooLong => (500, EnhancedCode::new(5, 5, 6)),
            CommandError::Syntax(_) => (501, EnhancedCode::new(5, 5, 4)),
            CommandError::BadSender(_) => (501, EnhancedCode::new(5, 1, 7)),
            CommandError::BadRecipient(_) => (501, EnhancedCode::new(5, 1, 3)),
            CommandError::UnsupportedParameter(_) => (555, EnhancedCode::new(5, 5, 4)),
        };
        let code = crate::reply::ReplyCode::new(code).expect("valid code");
        Reply::new(code, Some(enhanced), capitalise(self.to_string()))
    }
}

fn capitalise(mut s: String) -> String {
    if let Some(first) = s.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    s
}

pub(crate) mod format;
mod parse;
#[cfg(test)]
mod tests;
