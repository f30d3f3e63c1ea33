//! Bounce notices: when the relay gives up on recipients of a message it had accepted from the
//! application (refused for good, undeliverable, or still deferred when the queue lifetime ran
//! out), it tells the envelope sender with a delivery status notification (RFC 3464), sent with
//! a null reverse path (`MAIL FROM:<>`) so that a notice can never cause another notice.

use std::sync::Arc;

use smtpsim_proto::Reply;
use smtpsim_proto::client::{ClientConfig, ClientSession, OutgoingMessage, Speaker, TlsMode};
use smtpsim_proto::loopback::converse;
use smtpsim_proto::reply::EnhancedCode;
use smtpsim_proto::server::{AcceptAll, ServerConfig, ServerSession};

/// One recipient the notice reports.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Failed<'a> {
    /// The recipient address.
    pub recipient: &'a str,
    /// The reply that decided, if a server gave one.
    pub reply: Option<&'a Reply>,
    /// It was still deferred when the relay gave up (rather than refused for good).
    pub expired: bool,
}

impl Failed<'_> {
    /// The RFC 3464 `Status:` of the recipient: the enhanced code of the reply that decided,
    /// or `4.4.7` (delivery time expired) / `5.0.0` when there is none.
    pub fn status(&self) -> EnhancedCode {
        match self.reply.and_then(|r| r.enhanced) {
            Some(code) => code,
            None if self.expired => EnhancedCode::new(4, 4, 7),
            None => EnhancedCode::new(5, 0, 0),
        }
    }
}

/// The subject of every notice.
pub(crate) const SUBJECT: &str = "Undelivered Mail Returned to Sender";

/// The notice for message `message_id` (its Message-ID domain `id_domain`), sent by
/// `relay_hostname` to `to`, as message content (CRLF line ends).
pub(crate) fn notice(
    relay_hostname: &str,
    to: &str,
    message_id: u64,
    id_domain: &str,
    failed: &[Failed<'_>],
) -> Vec<u8> {
    let boundary = format!("notice-{message_id}/{relay_hostname}");
    let mut text = String::with_capacity(1024);
    let mut line = |s: &str| {
        text.push_str(s);
        text.push_str("\r\n");
    };
    line(&format!(
        "From: Mail Delivery System <MAILER-DAEMON@{relay_hostname}>"
    ));
    line(&format!("To: <{to}>"));
    line(&format!("Subject: {SUBJECT}"));
    line("Auto-Submitted: auto-replied");
    line("MIME-Version: 1.0");
    line(&format!(
        "Content-Type: multipart/report; report-type=delivery-status; boundary=\"{boundary}\""
    ));
    line("");
    line(&format!("--{boundary}"));
    line("Content-Type: text/plain; charset=us-ascii");
    line("");
    line(&format!(
        "This is the mail system at host {relay_hostname}."
    ));
    line(&format!(
        "Your message <{message_id}@{id_domain}> could not be delivered to one or more recipients."
    ));
    for f in failed {
        match f.reply {
            Some(reply) => line(&format!(
                "<{}>: {}",
                f.recipient,
                reply.to_string().replace('\n', " ")
            )),
            None => line(&format!(
                "<{}>: no mail server took the message in time",
                f.recipient
            )),
        }
    }
    line("");
    line(&format!("--{boundary}"));
    line("Content-Type: message/delivery-status");
    line("");
    line(&format!("Reporting-MTA: dns; {relay_hostname}"));
    for f in failed {
        line("");
        line(&format!("Final-Recipient: rfc822; {}", f.recipient));
        line("Action: failed");
        line(&format!("Status: {}", f.status()));
        if let Some(reply) = f.reply {
            line(&format!(
                "Diagnostic-Code: smtp; {}",
                reply.to_string().replace('\n', " ")
            ));
        }
    }
    line("");
    line(&format!("--{boundary}--"));
    text.into_bytes()
}

/// Sends a notice to `to` through the client and server sessions: the relay
/// (`relay_hostname`, STARTTLS if `starttls`) against `server` (the sender domain's MX host,
/// which takes every notice). Returns the conversation.
pub(crate) fn send(
    relay_hostname: &str,
    starttls: bool,
    server: &Arc<ServerConfig>,
    to: &str,
    content: Vec<u8>,
) -> Vec<(Speaker, String)> {
    let mut config = ClientConfig::new(relay_hostname);
    config.tls = if starttls {
        TlsMode::Opportunistic
    } else {
        TlsMode::Never
    };
    config.transcript = true;
    let size = content.len() as u64;
    let mut message = OutgoingMessage::new("", [to], content);
    message.declared_size = Some(size);
    let mut client =
        ClientSession::new(config, message).expect("the simulator's addresses are valid");
    let mut session = ServerSession::new(server.clone(), AcceptAll, None);
    converse(&mut client, &mut session);
    client
        .transcript()
        .iter()
        .map(|line| (line.speaker, line.text.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use smtpsim_proto::reply::ReplyCode;

    fn unknown_user() -> Reply {
        Reply::new(
            ReplyCode::new(550).unwrap(),
            Some(EnhancedCode::new(5, 1, 1)),
            "User unknown",
        )
    }

    #[test]
    fn a_notice_is_a_delivery_status_report_per_recipient() {
        let reply = unknown_user();
        let failed = [
            Failed {
                recipient: "bob@example.net",
                reply: Some(&reply),
                expired: false,
            },
            Failed {
                recipient: "carol@example.net",
                reply: None,
                expired: true,
            },
        ];
        let text = String::from_utf8(notice(
            "relay.example",
            "app@example.com",
            7,
            "example.com",
            &failed,
        ))
        .unwrap();
        assert!(text.contains("report-type=delivery-status"));
        assert!(text.contains("Your message <7@example.com> could not be delivered"));
        assert!(text.contains(
            "Final-Recipient: rfc822; bob@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n\
             Diagnostic-Code: smtp; 550 5.1.1 User unknown\r\n"
        ));
        assert!(text.contains(
            "Final-Recipient: rfc822; carol@example.net\r\nAction: failed\r\nStatus: 4.4.7\r\n"
        ));
        assert!(text.ends_with("--notice-7/relay.example--\r\n"));
        assert!(text.lines().all(|l| l.len() <= 998));
    }

    #[test]
    fn a_notice_goes_out_with_a_null_sender_and_is_accepted() {
        let reply = unknown_user();
        let failed = [Failed {
            recipient: "bob@example.net",
            reply: Some(&reply),
            expired: false,
        }];
        let content = notice(
            "relay.example",
            "app@example.com",
            1,
            "example.com",
            &failed,
        );
        let server = Arc::new(ServerConfig::new("mx.example.com"));
        let lines = send("relay.example", true, &server, "app@example.com", content);
        let client: Vec<&str> = lines
            .iter()
            .filter(|(s, _)| *s == Speaker::Client)
            .map(|(_, t)| t.as_str())
            .collect();
        assert!(
            client.iter().any(|l| l.starts_with("MAIL FROM:<>")),
            "{client:?}"
        );
        assert!(client.contains(&"RCPT TO:<app@example.com>"), "{client:?}");
        assert!(
            lines
                .iter()
                .any(|(s, t)| *s == Speaker::Server && t.starts_with("250 2.0.0")),
            "{lines:?}"
        );
    }
}
