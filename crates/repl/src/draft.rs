//! The message the user prepares to send: written for them (`message`), signed for real with
//! the scenario's derived DKIM keys (`message sign`), changed after signing (`message header`,
//! `message body`), and typed into DATA line by line (`message send`), so that the server's
//! check shows which hash broke.

use smtpsim_mail::canon;
use smtpsim_mail::keys::SigningKeys;

use crate::hint::Sent;
use crate::meta::DraftCommand;
use crate::output::{Kind, Out};
use crate::{Mode, Repl};

/// A message as the user prepares it, CRLF line endings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Draft {
    bytes: Vec<u8>,
    /// The header hash of each signature when signed, by `a=` (empty when unsigned).
    pub hashes: Vec<(String, String)>,
}

impl Draft {
    /// A short message from `from` to `to`.
    pub fn new(from: &str, to: &str) -> Draft {
        let domain = from.rsplit_once('@').map_or("example.com", |(_, d)| d);
        let text = format!(
            "From: <{from}>\r\nTo: <{to}>\r\nSubject: Hello from the repl\r\n\
             Message-ID: <repl-1@{domain}>\r\n\r\nHello,\r\nthis message was typed into smtpsim repl.\r\n"
        );
        Draft {
            bytes: text.into_bytes(),
            hashes: Vec::new(),
        }
    }

    /// The lines, without their CRLF.
    pub fn lines(&self) -> Vec<String> {
        String::from_utf8_lossy(&self.bytes)
            .split_terminator("\r\n")
            .map(str::to_string)
            .collect()
    }

    /// The domain of the `From:` address, if there is one (read as the checks read it).
    pub fn author_domain(&self) -> Option<String> {
        smtpsim_model::sim::content::facts_ref(&self.bytes)
            .owned()
            .from_domain
            .map(|d| d.to_ascii_lowercase())
    }

    /// Whether it carries a `DKIM-Signature:`.
    pub fn signed(&self) -> bool {
        !self.hashes.is_empty()
    }

    /// Signs it for real with `keys` (one Ed25519 and one RSA signature on top).
    pub fn sign(&mut self, keys: &SigningKeys) {
        self.bytes = smtpsim_mail::sign::sign(&self.bytes, keys);
        self.hashes = canon::signature_hashes(&self.bytes);
    }

    /// Replaces the first header field called like `field`'s name by `field`, or adds it.
    pub fn set_header(&mut self, field: &str) -> Result<(), String> {
        self.bytes = smtpsim_mail::edit::set_header(&self.bytes, field)?;
        Ok(())
    }

    /// Adds `line` at the end of the body.
    pub fn add_body_line(&mut self, line: &str) {
        self.bytes = smtpsim_mail::edit::add_body_line(&self.bytes, line);
    }
}

/// The `message` commands of a [`Repl`].
impl Repl {
    /// Does what `message ...` asks.
    pub(crate) fn draft(&mut self, command: DraftCommand, out: &mut Out) {
        match command {
            DraftCommand::Show => {
                let draft = self.current_draft();
                show(&draft.lines(), out);
            }
            DraftCommand::New => {
                self.message = None;
                let draft = self.current_draft();
                show(&draft.lines(), out);
            }
            DraftCommand::Sign => self.sign_draft(out),
            DraftCommand::Header(field) => {
                let signed = self.current_draft().signed();
                match self.current_draft().set_header(&field) {
                    Ok(()) => out.info(changed("header", signed)),
                    Err(e) => out.error(e),
                }
            }
            DraftCommand::Body(line) => {
                let signed = self.current_draft().signed();
                self.current_draft().add_body_line(&line);
                out.info(changed("body", signed));
            }
            DraftCommand::Send => self.send_draft(out),
        }
    }

    /// The message being prepared, written fresh if there is none.
    fn current_draft(&mut self) -> &mut Draft {
        let target = self
            .connection
            .as_ref()
            .map_or(self.default_target, |c| c.target);
        // Addressed to the first recipient accepted in the open transaction, if any.
        let typed = self
            .connection
            .as_ref()
            .and_then(|c| c.progress.first_recipient.clone());
        let to = typed.unwrap_or_else(|| format!("bob@{}", self.world.targets[target].domain));
        let from = self.world.author.clone();
        self.message.get_or_insert_with(|| Draft::new(&from, &to))
    }

    fn sign_draft(&mut self, out: &mut Out) {
        let Some(zone) = self.world.zone.clone() else {
            out.error(
                "Signing needs a scenario, whose DNS publishes the keys: \
                 smtpsim repl --scenario FILE (or --story NAME).",
            );
            return;
        };
        if self.current_draft().signed() {
            out.error("The message is signed already: message new starts a fresh one.");
            return;
        }
        let Some(domain) = self.current_draft().author_domain() else {
            out.error("The message has no From: address to sign for (message header From: ...).");
            return;
        };
        let found = self.world.selectors.iter().find(|(d, _)| *d == domain);
        let Some(selector) = found.map(|(_, s)| s.clone()) else {
            let signers: Vec<&str> = self
                .world
                .selectors
                .iter()
                .map(|(d, _)| d.as_str())
                .collect();
            out.error(format!(
                "No sender of the scenario signs for {domain}; those that do: {}.",
                if signers.is_empty() {
                    "none".to_string()
                } else {
                    signers.join(", ")
                }
            ));
            return;
        };
        let keys = zone.ring().keys(&domain, &selector);
        self.current_draft().sign(&keys);
        let draft = self.current_draft();
        let lines = draft.lines();
        let fields = lines
            .iter()
            .take_while(|l| l.starts_with("DKIM-Signature:") || l.starts_with('\t'))
            .cloned()
            .collect::<Vec<_>>();
        show(&fields, out);
        out.info(format!(
            "Signed for real by {domain} with the keys derived from the scenario's seed: \
             ed25519-sha256 (s={selector}-ed25519) and rsa-sha256 (s={selector}). Change the \
             body or a signed header (message body ..., message header Subject: ...) to see \
             verification fail, or message send."
        ));
    }

    fn send_draft(&mut self, out: &mut Out) {
        if !self.expects(Mode::Command, out) {
            return;
        }
        let lines = self.current_draft().lines();
        let hashes = self.current_draft().hashes.clone();
        out.push(Kind::Client, "C: DATA");
        self.send("DATA", Sent::Data, out);
        if self.connection.as_ref().map(|c| c.mode) != Some(Mode::Data) {
            return;
        }
        self.world.checks.borrow_mut().signed_header_hashes = hashes;
        for line in lines {
            // A line starting with a dot gets another in front (RFC 5321 4.5.2).
            let line = if line.starts_with('.') {
                format!(".{line}")
            } else {
                line
            };
            out.push(Kind::Client, format!("C: {line}"));
            self.send(&line, Sent::Other, out);
        }
        out.push(Kind::Client, "C: .");
        self.send(".", Sent::EndOfData, out);
    }
}

/// The message's lines, framed.
fn show(lines: &[String], out: &mut Out) {
    for line in lines {
        out.info(format!("  | {line}"));
    }
}

fn changed(part: &str, signed: bool) -> String {
    if signed {
        format!(
            "The {part} changed after signing: the signatures no longer match it \
             (message send shows the server finding out)."
        )
    } else {
        format!("The {part} changed (message shows the message).")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_replaced_or_added_and_the_body_grows() {
        let mut d = Draft::new("a@shop.example", "b@mail.example");
        assert_eq!(d.author_domain().as_deref(), Some("shop.example"));
        d.set_header("subject: Changed").unwrap();
        d.set_header("X-Extra: yes").unwrap();
        d.add_body_line("PS");
        let lines = d.lines();
        assert_eq!(lines[2], "subject: Changed");
        assert_eq!(lines[4], "X-Extra: yes");
        assert_eq!(lines[5], "");
        assert_eq!(lines.last().unwrap(), "PS");
        assert!(d.set_header("no colon").is_err());
        assert!(!d.signed());
    }
}
