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

#[test]
fn transcript_of_odd_lines_is_bounded_and_never_panics() {
    let mut config = ServerConfig::new("mx.example");
    config.transcript = true;
    let mut server = ServerSession::new(Arc::new(config), AcceptAll, None);
    let mut long = b"NOOP ".to_vec();
    long.extend(std::iter::repeat_n(b'x', 5000));
    long.extend_from_slice(b"\r\n");
    server.feed(&long);
    server.feed("A€€ PLAIN x\r\nAUTH\r\n\u{0}\u{ff}\r\n".as_bytes());
    server.feed(b"\xff\xfe AUTH PLAIN\r\n");
    let got = lines(&mut server);
    let noop = &got[1].1;
    assert!(noop.len() < 600, "{}", noop.len());
    assert!(noop.ends_with("<5005 octets in all>"), "{noop}");
    assert!(got.iter().any(|(_, t)| t == "A€€ PLAIN x"));
}

mod props {
    use super::*;
    use proptest::prelude::*;
    use smtpsim_proto::server::ServerEvent;

    fn fragment() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            Just(b"EHLO c.example\r\n".to_vec()),
            Just(b"MAIL FROM:<a@example.com>\r\n".to_vec()),
            Just(b"RCPT TO:<b@example.net>\r\n".to_vec()),
            Just(b"DATA\r\n".to_vec()),
            Just(b"BDAT 5 LAST\r\n".to_vec()),
            Just(b"AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n".to_vec()),
            Just(b"AUTH LOGIN\r\n".to_vec()),
            Just(b"STARTTLS\r\n".to_vec()),
            Just(b"\r\n.\r\n".to_vec()),
            proptest::collection::vec(any::<u8>(), 0..64),
        ]
    }

    fn run(transcript: bool, chunks: &[Vec<u8>]) -> (Vec<u8>, usize, Vec<String>) {
        let mut config = ServerConfig::new("mx.example");
        config.starttls = true;
        config.auth = true;
        config.auth_without_tls = true;
        config.transcript = transcript;
        let mut s = ServerSession::new(Arc::new(config), Alice, None);
        let mut out = Vec::new();
        let mut messages = 0;
        let mut lines = Vec::new();
        for chunk in chunks {
            s.feed(chunk);
            out.extend(s.take_output());
            while let Some(event) = s.poll_event() {
                match event {
                    ServerEvent::StartTls => s.tls_established(),
                    ServerEvent::MessageAccepted(_) => messages += 1,
                    ServerEvent::Close => {}
                }
            }
            lines.extend(s.take_transcript().into_iter().map(|l| l.text));
        }
        (out, messages, lines)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Keeping a transcript changes nothing the client sees, and an AUTH command never
        /// shows its credentials.
        #[test]
        fn transcript_is_only_a_record(chunks in proptest::collection::vec(fragment(), 0..30)) {
            let (plain_out, plain_messages, none) = run(false, &chunks);
            let (out, messages, lines) = run(true, &chunks);
            prop_assert_eq!(plain_out, out);
            prop_assert_eq!(plain_messages, messages);
            prop_assert!(none.is_empty());
            // (Bytes a BDAT chunk swallowed the start of are not an AUTH command, and show.)
            prop_assert!(!lines
                .iter()
                .any(|l| l.starts_with("AUTH") && l.contains("AGFsaWNlAHNlY3JldA")));
        }
    }
}
