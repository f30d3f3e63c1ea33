//! The client session against the server session, wired together in memory.

use crate::common;

use common::{TestPolicy, converse, server};
use smtpsim_proto::client::{
    ClientConfig, ClientSession, Credentials, OutgoingMessage, Speaker, Stage, Status, TlsMode,
};
use smtpsim_proto::server::ServerConfig;

const BODY: &[u8] =
    b"From: a@example.com\r\nTo: b@example.net\r\nSubject: test\r\n\r\n.leading dot\r\nHello\r\n";

fn message(recipients: &[&str]) -> OutgoingMessage {
    OutgoingMessage::new("a@example.com", recipients.iter().copied(), BODY.to_vec())
}

fn recipients(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("user{i}@example.net")).collect()
}

#[test]
fn one_and_a_hundred_recipients_with_and_without_pipelining() {
    for pipelining in [true, false] {
        for n in [1, 100] {
            let mut config = ClientConfig::new("relay.example.com");
            config.pipelining = pipelining;
            let rcpts = recipients(n);
            let msg = OutgoingMessage::new("a@example.com", rcpts.clone(), BODY.to_vec());
            let mut client = ClientSession::new(config, msg).unwrap();
            let mut srv = server(ServerConfig::new("mx.example.net"), TestPolicy::default());
            let messages = converse(&mut client, &mut srv);
            assert_eq!(messages.len(), 1, "pipelining {pipelining}, {n} recipients");
            assert_eq!(messages[0].envelope.recipients, rcpts);
            assert_eq!(messages[0].content, BODY, "content arrives byte for byte");
            let outcome = client.outcome().unwrap();
            assert!(outcome.all_accepted());
            assert!(
                outcome
                    .recipients
                    .iter()
                    .all(|r| r.stage == Stage::Content
                        && r.reply.as_ref().unwrap().code.get() == 250)
            );
            assert!(srv.is_closed(), "QUIT was sent and answered");
        }
    }
}

#[test]
fn per_recipient_outcomes() {
    for pipelining in [true, false] {
        let mut config = ClientConfig::new("relay.example.com");
        config.pipelining = pipelining;
        let msg = message(&["ok@example.net", "unknown@example.net", "grey@example.net"]);
        let mut client = ClientSession::new(config, msg).unwrap();
        let mut srv = server(ServerConfig::new("mx.example.net"), TestPolicy::default());
        let messages = converse(&mut client, &mut srv);
        assert_eq!(messages[0].envelope.recipients, ["ok@example.net"]);
        let outcome = client.outcome().unwrap();
        let statuses: Vec<_> = outcome.recipients.iter().map(|r| r.status).collect();
        assert_eq!(
            statuses,
            [Status::Accepted, Status::Rejected, Status::Deferred]
        );
        let unknown = outcome.recipients[1].reply.as_ref().unwrap();
        assert_eq!(unknown.code.get(), 550);
        assert_eq!(unknown.enhanced.unwrap().to_string(), "5.1.1");
        assert_eq!(outcome.recipients[2].stage, Stage::Rcpt);
    }
}

#[test]
fn all_recipients_refused_sends_no_content() {
    for pipelining in [true, false] {
        let mut config = ClientConfig::new("relay.example.com");
        config.pipelining = pipelining;
        let msg = message(&["unknown1@example.net", "unknown2@example.net"]);
        let mut client = ClientSession::new(config, msg).unwrap();
        let mut srv = server(ServerConfig::new("mx.example.net"), TestPolicy::default());
        let messages = converse(&mut client, &mut srv);
        assert!(messages.is_empty());
        assert_eq!(client.outcome().unwrap().count(Status::Rejected), 2);
    }
}

#[test]
fn starttls_then_auth() {
    let mut server_config = ServerConfig::new("smtp.example.com");
    server_config.starttls = true;
    server_config.auth = true;
    server_config.require_auth = true;
    for (user, password, status) in [
        ("alice", "secret", Status::Accepted),
        ("alice", "wrong", Status::Rejected),
    ] {
        let mut config = ClientConfig::new("laptop.example.com");
        config.tls = TlsMode::Required;
        config.credentials = Some(Credentials {
            user: user.into(),
            password: password.into(),
        });
        let mut client = ClientSession::new(config, message(&["b@example.net"])).unwrap();
        let mut srv = server(
            server_config.clone(),
            TestPolicy::with_user("alice", "secret"),
        );
        let messages = converse(&mut client, &mut srv);
        assert_eq!(messages.len(), usize::from(status == Status::Accepted));
        let outcome = client.outcome().unwrap();
        assert_eq!(outcome.recipients[0].status, status, "{user}/{password}");
        if status == Status::Rejected {
            assert_eq!(outcome.recipients[0].stage, Stage::Auth);
            assert_eq!(
                outcome.recipients[0].reply.as_ref().unwrap().code.get(),
                535
            );
        }
        assert!(srv.info().tls);
    }
}

#[test]
fn auth_login_when_plain_is_not_offered() {
    let mut config = ClientConfig::new("laptop.example.com");
    config.transcript = true;
    config.credentials = Some(Credentials {
        user: "alice".into(),
        password: "secret".into(),
    });
    let mut client = ClientSession::new(config, message(&["b@example.net"])).unwrap();
    client.feed(b"220 smtp.example.com\r\n250-smtp.example.com\r\n250 AUTH LOGIN\r\n");
    assert!(client.take_output().ends_with(b"AUTH LOGIN\r\n"));
    client.feed(b"334 VXNlcm5hbWU6\r\n");
    assert_eq!(client.take_output(), b"YWxpY2U=\r\n");
    client.feed(b"334 UGFzc3dvcmQ6\r\n");
    assert_eq!(client.take_output(), b"c2VjcmV0\r\n");
    client.feed(b"235 2.7.0 ok\r\n");
    assert_eq!(client.take_output(), b"MAIL FROM:<a@example.com>\r\n");
    assert!(
        client
            .transcript()
            .iter()
            .all(|l| !l.text.contains("c2VjcmV0")),
        "the password is not kept in the transcript"
    );
}

#[test]
fn tls_required_but_not_offered_fails_the_attempt() {
    let mut config = ClientConfig::new("relay.example.com");
    config.tls = TlsMode::Required;
    let mut client = ClientSession::new(config, message(&["b@example.net"])).unwrap();
    let mut srv = server(ServerConfig::new("mx.example.net"), TestPolicy::default());
    let messages = converse(&mut client, &mut srv);
    assert!(messages.is_empty());
    let r = &client.outcome().unwrap().recipients[0];
    assert_eq!((r.status, r.stage), (Status::Deferred, Stage::StartTls));
    assert!(r.note.unwrap().contains("STARTTLS"));
}

#[test]
fn server_closing_with_421_defers_the_rest() {
    let msg = message(&["b@example.net", "closing@example.net", "c@example.net"]);
    let mut config = ClientConfig::new("relay.example.com");
    config.pipelining = false;
    let mut client = ClientSession::new(config, msg).unwrap();
    let mut srv = server(ServerConfig::new("mx.example.net"), TestPolicy::default());
    let messages = converse(&mut client, &mut srv);
    assert!(messages.is_empty());
    let outcome = client.outcome().unwrap();
    assert!(
        outcome
            .recipients
            .iter()
            .all(|r| r.status == Status::Deferred)
    );
    assert_eq!(
        outcome.recipients[1].reply.as_ref().unwrap().code.get(),
        421
    );
}

fn scripted(config: ClientConfig, replies: &[&str]) -> ClientSession {
    let mut client = ClientSession::new(config, message(&["b@example.net"])).unwrap();
    for reply in replies {
        client.feed(reply.as_bytes());
    }
    client
}

#[test]
fn helo_fallback_when_ehlo_is_refused() {
    let mut config = ClientConfig::new("relay.example.com");
    config.transcript = true;
    let client = scripted(
        config,
        &[
            "220 old.example.net SMTP\r\n",
            "502 Command not implemented\r\n",
            "250 old.example.net\r\n",
            "250 OK\r\n",
            "250 OK\r\n",
            "354 go ahead\r\n",
            "250 queued\r\n",
            "221 bye\r\n",
        ],
    );
    let said = client_lines(&client);
    assert_eq!(
        said[..5],
        [
            "EHLO relay.example.com",
            "HELO relay.example.com",
            "MAIL FROM:<a@example.com>",
            "RCPT TO:<b@example.net>",
            "DATA"
        ]
    );
    assert!(client.is_finished());
    assert!(client.outcome().unwrap().all_accepted());
}

#[test]
fn malformed_replies_end_the_attempt_without_panic() {
    for garbage in [
        "hello\r\n",
        "2500 x\r\n",
        "999 x\r\n",
        "25\r\n",
        "250-a\r\n251 b\r\n",
    ] {
        let client = scripted(ClientConfig::new("r.example"), &[garbage]);
        assert!(client.is_finished(), "{garbage:?}");
        let r = &client.outcome().unwrap().recipients[0];
        assert_eq!(r.status, Status::Deferred, "{garbage:?}");
    }
}

#[test]
fn greeting_refusals() {
    let client = scripted(
        ClientConfig::new("r.example"),
        &["554 5.7.1 no service\r\n"],
    );
    let r = &client.outcome().unwrap().recipients[0];
    assert_eq!((r.status, r.stage), (Status::Rejected, Stage::Greeting));
    let client = scripted(ClientConfig::new("r.example"), &["421 4.3.2 busy\r\n"]);
    assert!(client.is_finished());
    let r = &client.outcome().unwrap().recipients[0];
    assert_eq!((r.status, r.stage), (Status::Deferred, Stage::Greeting));
}

#[test]
fn connection_lost_defers() {
    let mut client = scripted(ClientConfig::new("r.example"), &["220 hi\r\n"]);
    client.connection_lost();
    let r = &client.outcome().unwrap().recipients[0];
    assert_eq!(
        (r.status, r.stage, r.note),
        (Status::Deferred, Stage::Hello, Some("connection lost"))
    );
}

#[test]
fn bad_addresses_are_refused_before_the_attempt() {
    let err = ClientSession::new(
        ClientConfig::new("r.example"),
        OutgoingMessage::new("a@example.com", ["not an address"], b"x".to_vec()),
    )
    .unwrap_err();
    assert!(err.to_string().contains("not an address"));
    let null_sender = OutgoingMessage::new("", ["postmaster"], b"x".to_vec());
    let mut client = ClientSession::new(ClientConfig::new("r.example"), null_sender).unwrap();
    let mut srv = server(ServerConfig::new("mx.example.net"), TestPolicy::default());
    let messages = converse(&mut client, &mut srv);
    assert_eq!(messages[0].envelope.from, "");
    assert_eq!(messages[0].envelope.recipients, ["Postmaster"]);
}

/// The whole conversation, line by line, against a golden file.
#[test]
fn golden_transcript() {
    let mut server_config = ServerConfig::new("mx.example.net");
    server_config.starttls = true;
    server_config.auth = true;
    let mut config = ClientConfig::new("relay.example.com");
    config.transcript = true;
    config.credentials = Some(Credentials {
        user: "alice".into(),
        password: "secret".into(),
    });
    let msg = message(&["b@example.net", "unknown@example.net", "grey@example.net"]);
    let mut client = ClientSession::new(config, msg).unwrap();
    let mut srv = server(server_config, TestPolicy::with_user("alice", "secret"));
    converse(&mut client, &mut srv);
    let mut text = String::new();
    for line in client.transcript() {
        let who = match line.speaker {
            Speaker::Client => "C:",
            Speaker::Server => "S:",
            Speaker::Note => "--",
        };
        text.push_str(&format!("{who} {}\n", line.text));
    }
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/transcript.txt");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(path, &text).unwrap();
    }
    let golden = std::fs::read_to_string(path).expect("golden file (UPDATE_GOLDEN=1 writes it)");
    assert_eq!(text, golden);
}

#[test]
fn a_connection_kept_open_carries_the_next_message() {
    use std::sync::Arc;

    use smtpsim_proto::server::ServerSession;

    let mut server_config = ServerConfig::new("mx.example.net");
    server_config.starttls = true;
    let server_config = Arc::new(server_config);
    let mut config = ClientConfig::new("relay.example.com");
    config.keep_open = true;
    config.transcript = true;

    let mut first = ClientSession::new(config.clone(), message(&["b@example.net"])).unwrap();
    let mut srv = ServerSession::new(server_config.clone(), TestPolicy::default(), None);
    assert_eq!(converse(&mut first, &mut srv).len(), 1);
    assert!(first.outcome().unwrap().all_accepted());
    assert!(
        !first.transcript().iter().any(|l| l.text == "QUIT"),
        "no QUIT on a connection kept open"
    );
    assert!(srv.info().tls);
    assert_eq!(srv.info().messages, 1);

    // The same connection, resumed by new session objects: no greeting, no EHLO, no STARTTLS.
    let mut srv = ServerSession::resume(server_config, TestPolicy::default(), srv.info().clone());
    let mut second = ClientSession::resume(
        config,
        message(&["c@example.net", "unknown@example.net"]),
        first.capabilities().clone(),
        true,
    )
    .unwrap();
    let received = converse(&mut second, &mut srv);
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].envelope.recipients, ["c@example.net"]);
    let said = client_lines(&second);
    assert!(said[0].starts_with("MAIL FROM:<a@example.com>"), "{said:?}");
    assert!(
        !said
            .iter()
            .any(|l| l.starts_with("EHLO") || *l == "STARTTLS")
    );
    let outcome = second.outcome().unwrap();
    assert_eq!(outcome.recipients[0].status, Status::Accepted);
    assert_eq!(outcome.recipients[1].status, Status::Rejected);
    assert_eq!(srv.info().messages, 2);
}

#[test]
fn a_failed_transaction_on_a_connection_kept_open_is_reset() {
    use std::sync::Arc;

    use smtpsim_proto::server::ServerSession;

    for pipelining in [true, false] {
        let server_config = Arc::new(ServerConfig::new("mx.example.net"));
        let mut config = ClientConfig::new("relay.example.com");
        config.keep_open = true;
        config.transcript = true;
        config.pipelining = pipelining;

        // Every recipient refused: MAIL stays open on the server until the client resets it.
        let mut first =
            ClientSession::new(config.clone(), message(&["unknown@example.net"])).unwrap();
        let mut srv = ServerSession::new(server_config, TestPolicy::default(), None);
        assert!(converse(&mut first, &mut srv).is_empty());
        assert_eq!(
            first.outcome().unwrap().recipients[0].status,
            Status::Rejected
        );
        let said = client_lines(&first);
        assert_eq!(said.last(), Some(&"RSET"), "{said:?}");
        assert!(!said.contains(&"QUIT"));
        assert!(first.kept_open());

        // The same server session takes the next message: no 503 for a nested MAIL.
        let mut second = ClientSession::resume(
            config.clone(),
            message(&["b@example.net"]),
            first.capabilities().clone(),
            false,
        )
        .unwrap();
        assert_eq!(
            converse(&mut second, &mut srv).len(),
            1,
            "pipelining {pipelining}"
        );
        assert!(second.outcome().unwrap().all_accepted());
        assert!(second.kept_open());

        // A transaction that went through needs no RSET.
        let said_second = client_lines(&second);
        assert!(!said_second.contains(&"RSET"), "{said_second:?}");
    }
}

#[test]
fn a_policy_refusal_with_421_closes_the_connection() {
    use std::sync::Arc;

    use smtpsim_proto::Reply;
    use smtpsim_proto::command::{MailParams, ReversePath};
    use smtpsim_proto::server::{Decision, Policy, ServerEvent, ServerSession, SessionInfo};

    /// Defers every sender with 421, as a rate limit configured like Gmail's does.
    struct RateLimited;
    impl Policy for RateLimited {
        fn mail(&mut self, _: &SessionInfo, _: &ReversePath<'_>, _: &MailParams<'_>) -> Decision {
            Decision::Refuse(Reply::new_static(
                421,
                None,
                "4.7.28 Our system has detected an unusual rate",
            ))
        }
    }

    let mut srv = ServerSession::new(
        Arc::new(ServerConfig::new("mx.example.net")),
        RateLimited,
        None,
    );
    srv.take_output();
    srv.feed(b"EHLO c.example\r\nMAIL FROM:<a@example.com>\r\nNOOP\r\n");
    let out = String::from_utf8(srv.take_output()).unwrap();
    assert!(
        out.ends_with("421 4.7.28 Our system has detected an unusual rate\r\n"),
        "{out}"
    );
    assert!(srv.is_closed());
    assert_eq!(srv.poll_event(), Some(ServerEvent::Close));

    // A client that meant to keep the connection knows it cannot.
    let mut config = ClientConfig::new("relay.example.com");
    config.keep_open = true;
    let mut client = ClientSession::new(config, message(&["b@example.net"])).unwrap();
    let mut srv = ServerSession::new(
        Arc::new(ServerConfig::new("mx.example.net")),
        RateLimited,
        None,
    );
    converse(&mut client, &mut srv);
    assert_eq!(
        client.outcome().unwrap().recipients[0].status,
        Status::Deferred
    );
    assert!(!client.kept_open());
}

/// What the client said, line by line, as its transcript has it.
fn client_lines(client: &ClientSession) -> Vec<&str> {
    client
        .transcript()
        .iter()
        .filter(|l| l.speaker == Speaker::Client)
        .map(|l| l.text.as_str())
        .collect()
}
