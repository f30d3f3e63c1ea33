//! The server session's transcript (for session logs) and sessions that start with TLS.

use std::sync::Arc;

use smtpsim_proto::client::Speaker;
use smtpsim_proto::server::{
    AcceptAll, Decision, Policy, ServerConfig, ServerSession, SessionInfo,
};

struct Alice;

impl Policy for Alice {
    fn auth(&mut self, _: &SessionInfo, identity: &str, password: &str) -> Decision {
        if identity == "alice" && password == "secret" {
            Decision::Accept
        } else {
            Decision::refuse(535, (5, 7, 8), "Authentication credentials invalid")
        }
    }
}

fn lines(session: &mut ServerSession<impl Policy>) -> Vec<(Speaker, String)> {
    session
        .take_transcript()
        .into_iter()
        .map(|l| (l.speaker, l.text))
        .collect()
}

#[test]
fn transcript_has_commands_replies_and_summarised_content() {
    let mut config = ServerConfig::new("mx.example");
    config.transcript = true;
    let mut server = ServerSession::new(Arc::new(config), AcceptAll, None);
    server.feed(b"HELO c.example\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nDATA\r\n");
    server.feed(b"Subject: s\r\n\r\nbody\r\n.\r\nQUIT\r\n");
    let got = lines(&mut server);
    let c = |t: &str| (Speaker::Client, t.to_string());
    let s = |t: &str| (Speaker::Server, t.to_string());
    assert_eq!(
        got,
        vec![
            s("220 mx.example ESMTP smtpsim"),
            c("HELO c.example"),
            s("250 mx.example"),
            c("MAIL FROM:<a@x.example>"),
            s("250 2.1.0 Sender OK"),
            c("RCPT TO:<b@y.example>"),
            s("250 2.1.5 Recipient OK"),
            c("DATA"),
            s("354 Start mail input; end with <CRLF>.<CRLF>"),
            (Speaker::Note, "<20 octets of message content>".to_string()),
            s("250 2.0.0 Message accepted for delivery"),
            c("QUIT"),
            s("221 2.0.0 Bye"),
        ]
    );
    assert!(lines(&mut server).is_empty(), "taken once");
}

#[test]
fn transcript_masks_credentials() {
    let mut config = ServerConfig::new("mx.example");
    config.transcript = true;
    config.auth = true;
    config.auth_without_tls = true;
    let mut server = ServerSession::new(Arc::new(config), Alice, None);
    // PLAIN with an initial response, then LOGIN step by step.
    server.feed(b"EHLO c\r\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n");
    server.feed(b"RSET\r\n");
    let text = lines(&mut server)
        .into_iter()
        .map(|(_, t)| t)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(text.contains("AUTH PLAIN <initial response>"), "{text}");
    assert!(text.contains("235 2.7.0"), "{text}");
    assert!(!text.contains("AGFsaWNl"), "{text}");

    let mut config = ServerConfig::new("mx.example");
    config.transcript = true;
    config.auth = true;
    config.auth_without_tls = true;
    let mut server = ServerSession::new(Arc::new(config), Alice, None);
    server.feed(b"EHLO c\r\nAUTH LOGIN\r\nYWxpY2U=\r\nc2VjcmV0\r\n");
    let got = lines(&mut server);
    assert!(
        !got.iter()
            .any(|(_, t)| t.contains("YWxpY2U") || t.contains("c2VjcmV0"))
    );
    assert_eq!(
        got.iter()
            .filter(|(s, t)| *s == Speaker::Note && t == "<AUTH response>")
            .count(),
        2
    );
}

#[test]
fn no_transcript_unless_asked() {
    let mut server = ServerSession::new(Arc::new(ServerConfig::new("mx")), AcceptAll, None);
    server.feed(b"HELO c\r\n");
    assert!(server.take_transcript().is_empty());
}

#[test]
fn a_session_can_start_with_tls() {
    let mut config = ServerConfig::new("mx.example");
    config.starttls = true;
    config.auth = true;
    let info = SessionInfo {
        tls: true,
        ..SessionInfo::default()
    };
    let mut server = ServerSession::greet(Arc::new(config), Alice, info);
    server.feed(b"EHLO c\r\n");
    let out = String::from_utf8(server.take_output()).unwrap();
    assert!(out.starts_with("220 mx.example"), "{out}");
    assert!(out.contains("AUTH PLAIN LOGIN"), "{out}");
    assert!(!out.contains("STARTTLS"), "{out}");
    assert!(server.info().tls);
}
