//! The formatter: [`Command::write_to`] and the [`Display`] impls, all canonical: upper-case
//! verbs, keywords and keyword-like values, single spaces, `MAIL` parameters in the order
//! `SIZE BODY SMTPUTF8 RET ENVID AUTH` and `RCPT` parameters as `NOTIFY ORCPT`. Text the
//! parser keeps as written (local parts, domains, mechanism names, xtext values, free-form
//! arguments) is written back as it is.
//!
//! For every command [`Command::parse`] can produce, parsing the formatted line gives the same
//! command back. Values the parser never produces are written as faithfully as the syntax
//! allows: a [`Notify`] with no flag set is written as `NEVER`, and strings are not escaped.

use std::fmt::{self, Display, Write};

use crate::command::{
    Address, AuthMechanism, BodyType, Command, ForwardPath, Host, MailParams, Notify, RcptParams,
    Ret, ReversePath,
};

impl Command<'_> {
    /// Appends the command in wire format, ending in CRLF.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        // Writing to a Vec cannot fail.
        let _ = write_command(self, &mut Bytes(out));
        out.extend_from_slice(b"\r\n");
    }
}

impl MailParams<'_> {
    /// Appends the parameters as `MAIL FROM:` carries them, each after a space (nothing when
    /// none is set).
    pub fn write_to(&self, out: &mut Vec<u8>) {
        // Writing to a Vec cannot fail.
        let _ = write_mail_params(self, &mut Bytes(out));
    }
}

impl Host<'_> {
    /// The host as [`Display`] writes it, built without going through `fmt` for a domain
    /// (the usual case, on every HELO).
    pub fn render(&self) -> String {
        match self {
            Host::Domain(domain) => (*domain).to_owned(),
            other => other.to_string(),
        }
    }
}

impl Address<'_> {
    /// The address as [`Display`] writes it (`local-part@domain`), built without going
    /// through `fmt` when the domain is a name.
    pub fn render(&self) -> String {
        match self.domain {
            Host::Domain(domain) => {
                let mut text = String::with_capacity(self.local_part.len() + 1 + domain.len());
                text.push_str(self.local_part);
                text.push('@');
                text.push_str(domain);
                text
            }
            _ => self.to_string(),
        }
    }
}

/// A `fmt::Write` that appends to a byte vector.
struct Bytes<'v>(&'v mut Vec<u8>);

impl Write for Bytes<'_> {
    #[inline]
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

fn write_command<W: Write>(command: &Command<'_>, w: &mut W) -> fmt::Result {
    match command {
        Command::Helo { domain } => {
            w.write_str("HELO ")?;
            write_host(domain, w)
        }
        Command::Ehlo { domain } => {
            w.write_str("EHLO ")?;
            write_host(domain, w)
        }
        Command::Mail { from, params } => {
            w.write_str("MAIL FROM:")?;
            write_reverse_path(from, w)?;
            write_mail_params(params, w)
        }
        Command::Rcpt { to, params } => {
            w.write_str("RCPT TO:")?;
            write_forward_path(to, w)?;
            write_rcpt_params(params, w)
        }
        Command::Data => w.write_str("DATA"),
        Command::Bdat { size, last } => {
            w.write_str("BDAT ")?;
            write_number(*size, w)?;
            if *last {
                w.write_str(" LAST")?;
            }
            Ok(())
        }
        Command::Rset => w.write_str("RSET"),
        Command::Noop { arg } => write_optional("NOOP", *arg, w),
        Command::Quit => w.write_str("QUIT"),
        Command::Vrfy { arg } => write_optional("VRFY", Some(arg), w),
        Command::Expn { arg } => write_optional("EXPN", Some(arg), w),
        Command::Help { topic } => write_optional("HELP", *topic, w),
        Command::StartTls => w.write_str("STARTTLS"),
        Command::Auth {
            mechanism,
            initial_response,
        } => {
            w.write_str("AUTH ")?;
            w.write_str(mechanism.as_str())?;
            if let Some(response) = initial_response {
                w.write_str(" ")?;
                w.write_str(response)?;
            }
            Ok(())
        }
    }
}

fn write_optional<W: Write>(verb: &str, arg: Option<&str>, w: &mut W) -> fmt::Result {
    w.write_str(verb)?;
    if let Some(arg) = arg {
        w.write_str(" ")?;
        w.write_str(arg)?;
    }
    Ok(())
}

fn write_mail_params<W: Write>(params: &MailParams<'_>, w: &mut W) -> fmt::Result {
    if let Some(size) = params.size {
        w.write_str(" SIZE=")?;
        write_number(size, w)?;
    }
    if let Some(body) = params.body {
        w.write_str(" BODY=")?;
        w.write_str(body.as_str())?;
    }
    if params.smtputf8 {
        w.write_str(" SMTPUTF8")?;
    }
    if let Some(ret) = params.ret {
        w.write_str(" RET=")?;
        w.write_str(ret.as_str())?;
    }
    if let Some(envid) = params.envid {
        w.write_str(" ENVID=")?;
        w.write_str(envid)?;
    }
    if let Some(auth) = params.auth {
        w.write_str(" AUTH=")?;
        w.write_str(auth)?;
    }
    Ok(())
}

fn write_rcpt_params<W: Write>(params: &RcptParams<'_>, w: &mut W) -> fmt::Result {
    if let Some(notify) = params.notify {
        w.write_str(" NOTIFY=")?;
        write_notify(&notify, w)?;
    }
    if let Some(orcpt) = params.orcpt {
        w.write_str(" ORCPT=")?;
        w.write_str(orcpt)?;
    }
    Ok(())
}

fn write_notify<W: Write>(notify: &Notify, w: &mut W) -> fmt::Result {
    let flags = [
        (notify.success, "SUCCESS"),
        (notify.failure, "FAILURE"),
        (notify.delay, "DELAY"),
    ];
    if notify.never || !flags.iter().any(|(set, _)| *set) {
        return w.write_str("NEVER");
    }
    let mut separator = "";
    for (_, name) in flags.iter().filter(|(set, _)| *set) {
        w.write_str(separator)?;
        w.write_str(name)?;
        separator = ",";
    }
    Ok(())
}

fn write_number<W: Write>(n: u64, w: &mut W) -> fmt::Result {
    w.write_str(decimal(n, &mut [0; 20]))
}

/// `n` in decimal, written at the end of `buf`, without going through `fmt`.
pub(crate) fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &str {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // Only ASCII digits were written.
    std::str::from_utf8(&buf[i..]).unwrap_or_default()
}

fn write_host<W: Write>(host: &Host<'_>, w: &mut W) -> fmt::Result {
    match host {
        Host::Domain(domain) => w.write_str(domain),
        Host::Ipv4(ip) => write!(w, "[{ip}]"),
        Host::Ipv6(ip) => write!(w, "[IPv6:{ip}]"),
        Host::General { tag, content } => {
            w.write_str("[")?;
            w.write_str(tag)?;
            w.write_str(":")?;
            w.write_str(content)?;
            w.write_str("]")
        }
    }
}

fn write_address<W: Write>(address: &Address<'_>, w: &mut W) -> fmt::Result {
    w.write_str(address.local_part)?;
    w.write_str("@")?;
    write_host(&address.domain, w)
}

fn write_reverse_path<W: Write>(path: &ReversePath<'_>, w: &mut W) -> fmt::Result {
    match path {
        ReversePath::Null => w.write_str("<>"),
        ReversePath::Mailbox(address) => {
            w.write_str("<")?;
            write_address(address, w)?;
            w.write_str(">")
        }
    }
}

fn write_forward_path<W: Write>(path: &ForwardPath<'_>, w: &mut W) -> fmt::Result {
    match path {
        ForwardPath::Postmaster => w.write_str("<Postmaster>"),
        ForwardPath::Mailbox(address) => {
            w.write_str("<")?;
            write_address(address, w)?;
            w.write_str(">")
        }
    }
}

impl<'a> AuthMechanism<'a> {
    /// The mechanism name: `PLAIN`, `LOGIN`, or another name as written.
    pub fn as_str(&self) -> &'a str {
        match self {
            AuthMechanism::Plain => "PLAIN",
            AuthMechanism::Login => "LOGIN",
            AuthMechanism::Other(name) => name,
        }
    }
}

impl BodyType {
    /// The `BODY=` value: `7BIT`, `8BITMIME` or `BINARYMIME`.
    pub fn as_str(self) -> &'static str {
        match self {
            BodyType::SevenBit => "7BIT",
            BodyType::EightBitMime => "8BITMIME",
            BodyType::BinaryMime => "BINARYMIME",
        }
    }
}

impl Ret {
    /// The `RET=` value: `FULL` or `HDRS`.
    pub fn as_str(self) -> &'static str {
        match self {
            Ret::Full => "FULL",
            Ret::Headers => "HDRS",
        }
    }
}

/// The wire form without CRLF, as [`Command::write_to`] writes it.
impl Display for Command<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_command(self, f)
    }
}

/// `example.com`, `[192.0.2.1]`, `[IPv6:2001:db8::1]` or `[tag:content]`.
impl Display for Host<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_host(self, f)
    }
}

/// `local-part@domain`
impl Display for Address<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_address(self, f)
    }
}

/// `<>` or `<local-part@domain>`
impl Display for ReversePath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_reverse_path(self, f)
    }
}

/// `<Postmaster>` or `<local-part@domain>`
impl Display for ForwardPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_forward_path(self, f)
    }
}

/// `PLAIN`, `LOGIN` or the name as written.
impl Display for AuthMechanism<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `7BIT`, `8BITMIME` or `BINARYMIME`.
impl Display for BodyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `FULL` or `HDRS`.
impl Display for Ret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `NOTIFY=` value: `NEVER` or a comma-separated list such as `SUCCESS,FAILURE`.
impl Display for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_notify(self, f)
    }
}
