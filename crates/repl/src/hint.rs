//! The suggested next command: where the conversation stands, and what a client would say
//! next to get a message delivered.

use smtpsim_des::SimDuration;
use smtpsim_proto::Reply;

/// What the line just sent was, to read its reply in context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sent {
    Helo,
    Mail,
    Rcpt,
    Data,
    /// The lone `.` (or a BDAT chunk) that ends a message.
    EndOfData,
    Rset,
    StartTls,
    Auth,
    /// A response line during an AUTH exchange.
    AuthResponse,
    Quit,
    Other,
}

/// How far the client has got, learnt from its commands and the server's replies.
#[derive(Debug, Clone, Default)]
pub(crate) struct Progress {
    /// A MAIL FROM was accepted and the transaction is open.
    pub mail: bool,
    /// Recipients accepted in the open transaction.
    pub recipients: u32,
    /// Messages accepted on this connection.
    pub messages: u32,
    /// The last reply and the command it answered.
    pub last: Option<(Sent, Reply)>,
    /// The first recipient accepted in the open transaction, as typed.
    pub first_recipient: Option<String>,
}

impl Progress {
    /// Takes in the reply to `sent`.
    pub fn record(&mut self, sent: Sent, reply: &Reply) {
        let ok = reply.code.is_positive();
        match sent {
            Sent::Helo | Sent::Rset if ok => self.reset(),
            Sent::Mail if ok => {
                self.mail = true;
                self.recipients = 0;
                self.first_recipient = None;
            }
            Sent::Rcpt if ok => self.recipients += 1,
            Sent::EndOfData => {
                if ok {
                    self.messages += 1;
                }
                self.reset();
            }
            // A DATA refused when recipients were accepted leaves the transaction open.
            _ => {}
        }
        self.last = Some((sent, reply.clone()));
    }

    /// The transaction is over (RSET, a new EHLO, the end of a message, TLS started).
    pub fn reset(&mut self) {
        self.mail = false;
        self.recipients = 0;
        self.first_recipient = None;
    }

    /// Keeps `address` when it is the transaction's first accepted recipient (call after
    /// [`Progress::record`] took in the reply to its RCPT).
    pub fn accepted(&mut self, address: String) {
        if self.recipients == 1 && self.first_recipient.is_none() {
            self.first_recipient = Some(address);
        }
    }
}

/// Where the conversation stands, for [`next`].
pub(crate) struct Situation<'a> {
    pub connected: bool,
    pub in_data: bool,
    pub in_auth: bool,
    pub greeted: bool,
    pub tls: bool,
    pub starttls_offered: bool,
    pub authenticated: bool,
    pub auth_offered: bool,
    pub progress: &'a Progress,
    pub client_name: &'a str,
    pub sender: &'a str,
    pub recipient: &'a str,
    pub user: &'a str,
    pub password: &'a str,
    pub greylist_delay: Option<SimDuration>,
}

/// The suggested next command, with a few words on why.
pub(crate) fn next(s: &Situation<'_>) -> String {
    if !s.connected {
        return "connect (opens a connection to the MX and waits for its 220 greeting)".into();
    }
    if s.in_data {
        return "type the message: headers such as Subject: Hello, an empty line, the body, \
                then . alone on a line to end it"
            .into();
    }
    if s.in_auth {
        let challenge = s.progress.last.as_ref().map(|(_, r)| r.text.trim());
        return match challenge {
            Some("VXNlcm5hbWU6") => format!("base64 {} (sends the user name in base64)", s.user),
            Some("UGFzc3dvcmQ6") => {
                format!("base64 {} (sends the password in base64)", s.password)
            }
            _ => "* (cancels the exchange), then auth-plain USER PASSWORD".into(),
        };
    }
    if let Some((sent, reply)) = &s.progress.last
        && reply.code.get() == 503
    {
        // A command out of order: the next step is the one that was skipped, which the
        // state below names when `after_bad_sequence` has nothing more specific to say.
        if let Some(hint) = after_bad_sequence(s, *sent) {
            return hint;
        }
    } else if let Some((sent, reply)) = &s.progress.last {
        let code = reply.code.get();
        match (sent, code) {
            (Sent::Rcpt, 450 | 451) if is_greylisting(reply) => {
                let wait = seconds_to_wait(reply)
                    .or(s.greylist_delay)
                    .map_or_else(|| "5m".to_string(), |d| d.to_string());
                return format!(
                    "wait {wait}, then send the same RCPT TO again: greylisting lets a retry \
                     through once the delay has passed"
                );
            }
            (_, 530) if !s.tls && s.starttls_offered => {
                return "STARTTLS (the server wants an encrypted connection first)".into();
            }
            (_, 538) if !s.tls => {
                return "STARTTLS (AUTH is only offered over TLS)".into();
            }
            (Sent::Auth | Sent::AuthResponse, 535) => {
                return format!(
                    "auth-plain {} {} (the account this server knows)",
                    s.user, s.password
                );
            }
            (Sent::EndOfData, 250) => {
                return format!(
                    "QUIT to say goodbye, or MAIL FROM:<{}> for another message",
                    s.sender
                );
            }
            (Sent::Mail | Sent::Rcpt | Sent::Data | Sent::EndOfData, 400..=499) => {
                let wait =
                    seconds_to_wait(reply).map_or_else(|| "5m".to_string(), |d| d.to_string());
                return format!(
                    "a 4xx failure is temporary: a sender keeps the message and tries again \
                     later (wait {wait}, then the same command again)"
                );
            }
            (Sent::Rcpt, 500..=599) if s.progress.recipients > 0 => {
                return "a 5xx refusal is final for this recipient: DATA sends to the others"
                    .into();
            }
            (Sent::Rcpt, 500..=599) => {
                return "a 5xx refusal is final: a sender bounces the message for this \
                        recipient and does not retry; try another RCPT TO or RSET"
                    .into();
            }
            _ => {}
        }
    }
    if !s.greeted {
        return format!(
            "EHLO {} (introduce yourself and learn what the server offers)",
            s.client_name
        );
    }
    if s.progress.mail {
        if s.progress.recipients == 0 {
            return format!("RCPT TO:<{}> (name a recipient)", s.recipient);
        }
        return "DATA (send the message), or RCPT TO:<...> for another recipient".into();
    }
    if s.starttls_offered && !s.tls {
        return "STARTTLS (encrypt the connection before anything else)".into();
    }
    let auth = if s.authenticated || !s.auth_offered {
        String::new()
    } else {
        format!("; or auth-plain {} {} to log in first", s.user, s.password)
    };
    format!("MAIL FROM:<{}> (start a message){auth}", s.sender)
}

/// The step to take after `503 Bad sequence of commands` answered `sent`: the one that was
/// skipped, or how to leave the state that forbids `sent`. `None` when the general order of
/// steps in [`next`] says it.
fn after_bad_sequence(s: &Situation<'_>, sent: Sent) -> Option<String> {
    let progress = s.progress;
    if !s.greeted {
        return Some(format!(
            "EHLO {} (the server wants EHLO or HELO before anything else)",
            s.client_name
        ));
    }
    let mail = format!("MAIL FROM:<{}>", s.sender);
    let hint = match sent {
        Sent::Rcpt | Sent::Data if !progress.mail => {
            format!("{mail} (a message starts with MAIL FROM, then RCPT TO, then DATA)")
        }
        Sent::Data if progress.recipients == 0 => format!(
            "RCPT TO:<{}> (DATA needs at least one accepted recipient)",
            s.recipient
        ),
        Sent::Mail if progress.recipients == 0 => format!(
            "RCPT TO:<{}> (a sender is already accepted for this message), or RSET to start \
             over",
            s.recipient
        ),
        Sent::Mail => "DATA (a sender and recipients are already accepted for this message), \
                       or RSET to start over"
            .into(),
        Sent::Auth if s.authenticated => {
            format!("{mail} (you are logged in already; AUTH works once per session)")
        }
        Sent::Auth if progress.mail => format!(
            "RSET to end the open message, then auth-plain {} {} (AUTH is not allowed during \
             a mail transaction)",
            s.user, s.password
        ),
        Sent::StartTls if s.tls => format!("{mail} (TLS is active already)"),
        _ => return None,
    };
    Some(hint)
}

/// Whether a deferral is greylisting (`4.7.1` with "greylist" in the text).
fn is_greylisting(reply: &Reply) -> bool {
    reply.text.to_ascii_lowercase().contains("greylist")
}

/// The wait a deferral asks for, read from its text as a person would (`... try again in 120
/// seconds`).
fn seconds_to_wait(reply: &Reply) -> Option<SimDuration> {
    let words: Vec<&str> = reply.text.split_whitespace().collect();
    words.windows(2).find_map(|pair| match pair {
        [n, unit] if unit.starts_with("second") => n.parse().ok().map(SimDuration::from_secs),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use smtpsim_proto::EnhancedCode;

    fn reply(code: u16, text: &'static str) -> Reply {
        Reply::new_static(code, Some(EnhancedCode::new(4, 7, 1)), text)
    }

    #[test]
    fn the_wait_is_read_from_the_reply() {
        let r = reply(451, "Greylisted, please try again in 120 seconds");
        assert_eq!(seconds_to_wait(&r), Some(SimDuration::from_secs(120)));
        assert!(is_greylisting(&r));
        let r = reply(451, "Temporary local problem, try again later");
        assert_eq!(seconds_to_wait(&r), None);
        assert!(!is_greylisting(&r));
    }

    #[test]
    fn progress_follows_the_transaction() {
        let ok = Reply::new_static(250, None, "OK");
        let refused = Reply::new_static(550, None, "no");
        let mut p = Progress::default();
        p.record(Sent::Mail, &ok);
        p.record(Sent::Rcpt, &refused);
        assert!(p.mail);
        assert_eq!(p.recipients, 0);
        p.record(Sent::Rcpt, &ok);
        p.record(Sent::Rcpt, &ok);
        assert_eq!(p.recipients, 2);
        p.record(Sent::EndOfData, &ok);
        assert!(!p.mail);
        assert_eq!((p.recipients, p.messages), (0, 1));
        p.record(Sent::Mail, &ok);
        p.record(Sent::Rset, &ok);
        assert!(!p.mail);
        assert_eq!(p.last.as_ref().map(|(sent, _)| *sent), Some(Sent::Rset));
    }
}
