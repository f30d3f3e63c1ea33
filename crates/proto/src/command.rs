//! SMTP commands (RFC 5321, RFC 3207 STARTTLS, RFC 4954 AUTH, RFC 3030 BDAT) and their
//! parameters: the types, the parser ([`Command::parse`]) and the formatter
//! ([`Command::write_to`]). Nothing else in the workspace parses or formats a command line.
//!
//! Parsing borrows from the input line and does not allocate on success.

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

impl<'a> Command<'a> {
    /// Parses one command line given without its terminating CRLF.
    pub fn parse(line: &'a [u8]) -> Result<Command<'a>, CommandError> {
        let _ = line;
        todo!("command parser")
    }

    /// Appends the command in wire format, ending in CRLF.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let _ = out;
        todo!("command formatter")
    }
}

impl std::fmt::Display for Host<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Host::Domain(d) => f.write_str(d),
            Host::Ipv4(ip) => write!(f, "[{ip}]"),
            Host::Ipv6(ip) => write!(f, "[IPv6:{ip}]"),
            Host::General { tag, content } => write!(f, "[{tag}:{content}]"),
        }
    }
}

impl std::fmt::Display for Address<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.local_part, self.domain)
    }
}

impl<'a> Address<'a> {
    /// Parses `local-part@domain` without angle brackets.
    pub fn parse(s: &'a str) -> Result<Address<'a>, CommandError> {
        let _ = s;
        todo!("address parser")
    }
}
