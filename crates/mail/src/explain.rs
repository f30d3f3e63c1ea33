//! The annotated transcript of a session a real client held with `smtpsim serve`: each
//! command and reply, what a reply means (from the reply-code catalogue), the server's notes
//! and decisions, and for each message it accepted the SPF, DKIM and DMARC results checked
//! for real ([`received::check`](crate::received::check)). `serve --explain` prints it and
//! the `--http` page shows it: both feed an [`Annotated`] what the session said.
//!
//! ```
//! use smtpsim_mail::explain::{Annotated, Said};
//! use smtpsim_model::auth::dns::StaticResolver;
//!
//! let dns = StaticResolver::new();
//! let mut session = Annotated::new(&dns, [127, 0, 0, 1].into());
//! session.push(Said::Command("MAIL FROM:<a@example.com>"));
//! session.push(Said::Reply("250 2.1.0 Sender OK"));
//! assert_eq!(session.lines[0], "  C: MAIL FROM:<a@example.com>");
//! assert!(session.lines[2].starts_with("     .. "));
//! ```

use std::net::IpAddr;

use smtpsim_model::auth::dns::Resolver;
use smtpsim_proto::{Command, ReversePath};

use crate::received::{self, Checked};

/// One thing a session said or did, in order.
#[derive(Debug, Clone, Copy)]
pub enum Said<'a> {
    /// A command line from the client.
    Command(&'a str),
    /// A whole reply, its lines separated by `\n`.
    Reply(&'a str),
    /// A note of the server's (TLS established, a line too long...).
    Note(&'a str),
    /// A decision of the server's, as one line (`rcpt refuse: unknown user (b@example.net)`).
    Decision(&'a str),
    /// A message the server accepted: its size and its bytes, or why they could not be read.
    Message {
        /// Octets received.
        octets: u64,
        /// The stored bytes.
        content: Result<&'a [u8], &'a str>,
    },
}

/// A session's annotated transcript, built line by line.
pub struct Annotated<'d> {
    dns: &'d dyn Resolver,
    client: IpAddr,
    helo: String,
    mail_from: String,
    /// The transcript, each line indented as `serve --explain` prints it.
    pub lines: Vec<String>,
    /// The checks of each message accepted, in order.
    pub checks: Vec<Checked>,
}

impl<'d> Annotated<'d> {
    /// An empty transcript of a session from `client`, whose mail is checked against `dns`.
    pub fn new(dns: &'d dyn Resolver, client: IpAddr) -> Annotated<'d> {
        Annotated {
            dns,
            client,
            helo: String::new(),
            mail_from: String::new(),
            lines: Vec::new(),
            checks: Vec::new(),
        }
    }

    /// Adds what the session said or did next.
    pub fn push(&mut self, said: Said<'_>) {
        match said {
            Said::Command(text) => {
                match Command::parse(text.as_bytes()) {
                    Ok(Command::Ehlo { domain } | Command::Helo { domain }) => {
                        self.helo = domain.to_string()
                    }
                    Ok(Command::Mail { from, .. }) => {
                        self.mail_from = match from {
                            ReversePath::Mailbox(address) => address.to_string(),
                            ReversePath::Null => String::new(),
                        }
                    }
                    _ => {}
                }
                self.lines.push(format!("  C: {text}"));
            }
            Said::Reply(text) => {
                for line in text.lines() {
                    self.lines.push(format!("  S: {line}"));
                }
                // A reply's last line (`250 ...`, not `250-...`) says what the reply means.
                let last = text.lines().last().unwrap_or_default();
                if last.as_bytes().get(3) != Some(&b'-')
                    && let Some(meaning) = meaning(last)
                {
                    self.lines.push(format!("     .. {meaning}"));
                }
            }
            Said::Note(text) => self.lines.push(format!("  .. {text}")),
            Said::Decision(text) => self.lines.push(format!("  .. decision: {text}")),
            Said::Message { octets, content } => self.message(octets, content),
        }
    }

    fn message(&mut self, octets: u64, content: Result<&[u8], &str>) {
        self.lines.push(format!(
            "  message from <{}>, {octets} octets:",
            self.mail_from
        ));
        let content = match content {
            Ok(content) => content,
            Err(why) => {
                self.lines.push(format!("    cannot read it: {why}"));
                return;
            }
        };
        let checked = received::check(content, self.client, &self.helo, &self.mail_from, self.dns);
        for sentence in checked.sentences() {
            self.lines.push(format!("    {sentence}"));
        }
        self.checks.push(checked);
    }
}

/// What a reply means: its basic code's catalogue entry, and for a failure with a specific
/// enhanced code (not `X.0.0`) that code's entry too.
pub fn meaning(reply: &str) -> Option<String> {
    let explained = smtpsim_proto::codes::explain(reply).ok()?;
    let basic = explained.code.map(|c| c.meaning);
    let specific = explained.enhanced.as_ref().and_then(|(code, info)| {
        (code.class != 2 && (code.subject, code.detail) != (0, 0))
            .then_some(*info)
            .flatten()
            .map(|i| i.meaning)
    });
    match (basic, specific) {
        (Some(b), Some(e)) => Some(format!("{b} {e}")),
        (b, e) => b.or(e).map(str::to_string),
    }
}
