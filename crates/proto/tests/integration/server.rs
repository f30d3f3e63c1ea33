//! The server session driven with raw bytes, as a client would send them.

use crate::common;

use common::{TestPolicy, accepted, codes, server, talk};
use smtpsim_proto::server::{Decision, Policy, ServerConfig, ServerEvent, SessionInfo};

fn config() -> ServerConfig {
    ServerConfig::new("mx.example.net")
}

fn ready() -> smtpsim_proto::server::ServerSession<TestPolicy> {
    let mut s = server(config(), TestPolicy::default());
    let greeting = String::from_utf8(s.take_output()).unwrap();
    assert_eq!(greeting, "220 mx.example.net ESMTP smtpsim\r\n");
    s
}

#[test]
fn a_whole_transaction() {
    let mut s = ready();
    let out = talk(&mut s, b"EHLO client.example\r\n");
    assert!(
        out.starts_with("250-mx.example.net greets client.example\r\n"),
        "{out}"
    );
    assert!(out.contains("250-PIPELINING\r\n"));
    assert!(out.contains("250-SIZE 36700160\r\n"));
    assert!(out.ends_with("250 CHUNKING\r\n"));
    assert!(!out.contains("STARTTLS"));
    assert!(!out.contains("AUTH"));
    assert_eq!(
        talk(&mut s, b"MAIL FROM:<a@example.com>\r\n"),
        "250 2.1.0 Sender OK\r\n"
    );
    assert_eq!(
        talk(&mut s, b"RCPT TO:<b@example.net>\r\n"),
        "250 2.1.5 Recipient OK\r\n"
    );
    assert_eq!(
        talk(&mut s, b"DATA\r\n"),
        "354 Start mail input; end with <CRLF>.<CRLF>\r\n"
    );
    assert_eq!(
        talk(&mut s, b"Subject: t\r\n\r\n..hi\r\n.\r\n"),
        "250 2.0.0 Message accepted for delivery\r\n"
    );
    let messages = accepted(&mut s);
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].envelope.from, "a@example.com");
    assert_eq!(messages[0].envelope.recipients, ["b@example.net"]);
    assert_eq!(messages[0].content, b"Subject: t\r\n\r\n.hi\r\n");
    assert_eq!(talk(&mut s, b"QUIT\r\n"), "221 2.0.0 Bye\r\n");
    assert!(s.is_closed());
    assert_eq!(s.poll_event(), Some(ServerEvent::Close));
    assert_eq!(
        talk(&mut s, b"NOOP\r\n"),
        "",
        "nothing is answered after QUIT"
    );
}

#[test]
fn several_messages_on_one_connection_and_rset() {
    let mut s = ready();
    talk(&mut s, b"HELO client.example\r\n");
    for i in 0..3 {
        let out = talk(
            &mut s,
            format!(
                "MAIL FROM:<a{i}@example.com>\r\nRCPT TO:<b@example.net>\r\nDATA\r\nx\r\n.\r\n"
            )
            .as_bytes(),
        );
        assert_eq!(codes(&out), ["250", "250", "354", "250"], "{out}");
    }
    let out = talk(
        &mut s,
        b"MAIL FROM:<a@example.com>\r\nRSET\r\nRCPT TO:<b@example.net>\r\n",
    );
    assert_eq!(
        codes(&out),
        ["250", "250", "503"],
        "RSET ends the transaction: {out}"
    );
    assert_eq!(accepted(&mut s).len(), 3);
    assert_eq!(s.info().messages, 3);
}

#[test]
fn command_order_is_enforced() {
    let mut s = ready();
    assert_eq!(
        talk(&mut s, b"MAIL FROM:<a@example.com>\r\n"),
        "503 5.5.1 Send HELO or EHLO first\r\n"
    );
    talk(&mut s, b"EHLO c.example\r\n");
    assert_eq!(
        talk(&mut s, b"RCPT TO:<b@example.net>\r\n"),
        "503 5.5.1 Send MAIL FROM first\r\n"
    );
    assert_eq!(
        talk(&mut s, b"DATA\r\n"),
        "503 5.5.1 Send MAIL FROM first\r\n"
    );
    talk(&mut s, b"MAIL FROM:<a@example.com>\r\n");
    assert_eq!(
        talk(&mut s, b"MAIL FROM:<a@example.com>\r\n"),
        "503 5.5.1 Sender already specified\r\n"
    );
    assert_eq!(
        talk(&mut s, b"DATA\r\n"),
        "503 5.5.1 Send RCPT TO first\r\n"
    );
    assert_eq!(
        talk(&mut s, b"RCPT TO:<unknown@example.net>\r\n"),
        "550 5.1.1 User unknown\r\n"
    );
    assert_eq!(
        talk(&mut s, b"DATA\r\n"),
        "554 5.5.1 No valid recipients\r\n"
    );
}

#[test]
fn help_noop_vrfy_expn() {
    let mut s = ready();
    let out = talk(
        &mut s,
        b"HELP\r\nNOOP\r\nVRFY postmaster\r\nEXPN staff\r\nhelp data\r\n",
    );
    assert_eq!(codes(&out), ["214", "250", "252", "502", "214"], "{out}");
    assert!(out.starts_with("214-2.0.0 Commands:"));
}

#[test]
fn pipelined_commands_are_answered_in_order() {
    let mut s = ready();
    let out = talk(
        &mut s,
        b"EHLO c.example\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.net>\r\nRCPT TO:<unknown@example.net>\r\nRCPT TO:<grey@example.net>\r\nDATA\r\n",
    );
    assert_eq!(
        codes(&out),
        ["250", "250", "250", "550", "451", "354"],
        "{out}"
    );
    let out = talk(&mut s, b"hello\r\n.\r\nQUIT\r\n");
    assert_eq!(codes(&out), ["250", "221"]);
    let messages = accepted(&mut s);
    assert_eq!(messages[0].envelope.recipients, ["b@example.net"]);
}

#[test]
fn a_command_split_anywhere_gives_the_same_replies() {
    let input: &[u8] = b"EHLO c.example\r\nMAIL FROM:<a@example.com> SIZE=10\r\nRCPT TO:<b@example.net>\r\nDATA\r\nSubject: x\r\n\r\n..body\r\n.\r\nQUIT\r\n";
    let mut whole = ready();
    let expected = talk(&mut whole, input);
    let mut bytewise = ready();
    let mut got = String::new();
    for b in input {
        got.push_str(&talk(&mut bytewise, std::slice::from_ref(b)));
    }
    assert_eq!(got, expected);
    assert_eq!(accepted(&mut bytewise), accepted(&mut whole));
}

#[test]
fn parse_errors_get_their_replies() {
    let mut s = ready();
    talk(&mut s, b"EHLO c.example\r\n");
    assert!(talk(&mut s, b"FROB\r\n").starts_with("500 5.5.2 "));
    assert!(talk(&mut s, b"MAIL FROM:<a@@example.com>\r\n").starts_with("501 5.1.7 "));
    assert!(talk(&mut s, b"MAIL FROM:<a@example.com> FOO=1\r\n").starts_with("555 5.5.4 "));
    talk(&mut s, b"MAIL FROM:<a@example.com>\r\n");
    assert!(talk(&mut s, b"RCPT TO:<b@>\r\n").starts_with("501 5.1.3 "));
    assert!(talk(&mut s, b"DATA now\r\n").starts_with("501 5.5.4 "));
}

#[test]
fn command_line_limit_is_512_octets_with_crlf() {
    let mut s = ready();
    let mut line = b"NOOP ".to_vec();
    line.resize(510, b'x');
    line.extend_from_slice(b"\r\n");
    assert_eq!(codes(&talk(&mut s, &line)), ["250"]);
    let mut long = b"NOOP ".to_vec();
    long.resize(511, b'x');
    long.extend_from_slice(b"\r\n");
    assert!(talk(&mut s, &long).starts_with("500 5.5.6 "));
    // A line without end is answered once it passes the limit, and skipped to its end.
    let out = talk(&mut s, &vec![b'y'; 4000]);
    assert!(out.starts_with("500 5.5.6 "), "{out}");
    assert_eq!(talk(&mut s, &vec![b'y'; 4000]), "");
    assert_eq!(codes(&talk(&mut s, b"yyy\r\nNOOP\r\n")), ["250"]);
}

#[test]
fn text_line_limit_is_1000_octets_with_crlf() {
    for (len, code) in [(998, "250"), (999, "500")] {
        let mut s = ready();
        talk(
            &mut s,
            b"EHLO c\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n",
        );
        let mut body = vec![b'x'; len];
        body.extend_from_slice(b"\r\n.\r\n");
        assert_eq!(codes(&talk(&mut s, &body)), [code], "line of {len} octets");
    }
}

#[test]
fn message_size_limit() {
    let mut cfg = config();
    cfg.limits.message_size = Some(100);
    let mut s = server(cfg, TestPolicy::default());
    s.take_output();
    talk(&mut s, b"EHLO c\r\n");
    assert_eq!(
        talk(&mut s, b"MAIL FROM:<a@example.com> SIZE=101\r\n"),
        "552 5.3.4 Message size exceeds fixed maximum message size\r\n"
    );
    talk(
        &mut s,
        b"MAIL FROM:<a@example.com> SIZE=100\r\nRCPT TO:<b@example.net>\r\nDATA\r\n",
    );
    let mut body = vec![b'x'; 60];
    body.extend_from_slice(b"\r\n");
    body.extend_from_slice(&body.clone());
    body.extend_from_slice(b".\r\n");
    assert!(talk(&mut s, &body).starts_with("552 5.3.4 "));
    assert!(accepted(&mut s).is_empty());
    // Exactly at the limit is fine.
    talk(
        &mut s,
        b"MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n",
    );
    let mut body = vec![b'x'; 98];
    body.extend_from_slice(b"\r\n.\r\n");
    assert_eq!(codes(&talk(&mut s, &body)), ["250"]);
}

#[test]
fn recipient_limit() {
    let mut cfg = config();
    cfg.limits.recipients = 3;
    let mut s = server(cfg, TestPolicy::default());
    s.take_output();
    talk(&mut s, b"EHLO c\r\nMAIL FROM:<a@example.com>\r\n");
    let mut input = Vec::new();
    for i in 0..4 {
        input.extend_from_slice(format!("RCPT TO:<r{i}@example.net>\r\n").as_bytes());
    }
    let out = talk(&mut s, &input);
    assert_eq!(codes(&out), ["250", "250", "250", "452"]);
    assert!(out.ends_with("452 4.5.3 Too many recipients\r\n"));
}

#[test]
fn too_many_bad_commands_close_the_session() {
    let mut cfg = config();
    cfg.limits.bad_commands = 3;
    let mut s = server(cfg, TestPolicy::default());
    s.take_output();
    let out = talk(&mut s, b"BAD\r\nBAD\r\nBAD\r\nBAD\r\nNOOP\r\n");
    assert_eq!(codes(&out), ["500", "500", "500", "421"], "{out}");
    assert!(out.ends_with("421 4.7.0 Too many errors, closing connection\r\n"));
    assert!(s.is_closed());
    assert_eq!(s.poll_event(), Some(ServerEvent::Close));
}

const SMUGGLING: [&[u8]; 6] = [
    b"\n.\n", b"\n.\r\n", b"\r.\r", b"\r\n.\n", b"\r\n.\r", b"\r.\r\n",
];

#[test]
fn smuggling_sequences_never_split_a_message() {
    for end in SMUGGLING {
        let mut s = ready();
        talk(
            &mut s,
            b"EHLO c\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n",
        );
        let mut body = b"Subject: first\r\n\r\nhello".to_vec();
        body.extend_from_slice(end);
        body.extend_from_slice(
            b"MAIL FROM:<admin@example.net>\r\nRCPT TO:<victim@example.net>\r\nDATA\r\nSubject: smuggled\r\n\r\nx\r\n.\r\n",
        );
        let out = talk(&mut s, &body);
        assert_eq!(
            out, "554 5.6.0 Message rejected: bare CR or LF found; lines must end with CRLF\r\n",
            "{end:?}"
        );
        assert!(accepted(&mut s).is_empty(), "{end:?}");
        // The session is in step: the next command is a command.
        assert_eq!(codes(&talk(&mut s, b"NOOP\r\n")), ["250"]);
    }
}

#[test]
fn starttls_discards_pipelined_commands_and_resets() {
    let mut cfg = config();
    cfg.starttls = true;
    cfg.auth = true;
    let mut s = server(cfg, TestPolicy::with_user("u", "p"));
    s.take_output();
    let out = talk(&mut s, b"EHLO c\r\n");
    assert!(out.contains("250-STARTTLS\r\n"));
    assert!(!out.contains("AUTH"), "AUTH only after TLS: {out}");
    assert_eq!(
        talk(&mut s, b"AUTH PLAIN AHUAcA==\r\n"),
        "538 5.7.11 Encryption required for requested authentication mechanism\r\n"
    );
    let out = talk(
        &mut s,
        b"STARTTLS\r\nMAIL FROM:<injected@example.com>\r\nRCPT TO:<b@example.net>\r\n",
    );
    assert_eq!(out, "220 2.0.0 Ready to start TLS\r\n");
    assert_eq!(s.poll_event(), Some(ServerEvent::StartTls));
    talk(&mut s, b"MAIL FROM:<also-injected@example.com>\r\n");
    s.tls_established();
    assert!(s.info().tls);
    assert_eq!(talk(&mut s, b""), "");
    assert_eq!(
        talk(&mut s, b"MAIL FROM:<a@example.com>\r\n"),
        "503 5.5.1 Send HELO or EHLO first\r\n",
        "EHLO is required again and nothing injected survived"
    );
    let out = talk(&mut s, b"EHLO c\r\n");
    assert!(!out.contains("STARTTLS"), "{out}");
    assert!(out.contains("250-AUTH PLAIN LOGIN\r\n"), "{out}");
    assert_eq!(
        talk(&mut s, b"STARTTLS\r\n"),
        "503 5.5.1 TLS already active\r\n"
    );
}

#[test]
fn auth_plain_and_login() {
    let mut cfg = config();
    cfg.auth = true;
    cfg.auth_without_tls = true;
    cfg.require_auth = true;
    let mut s = server(cfg, TestPolicy::with_user("alice", "secret"));
    s.take_output();
    talk(&mut s, b"EHLO c\r\n");
    assert_eq!(
        talk(&mut s, b"MAIL FROM:<a@example.com>\r\n"),
        "530 5.7.0 Authentication required\r\n"
    );
    // "\0alice\0wrong"
    assert_eq!(
        talk(&mut s, b"AUTH PLAIN AGFsaWNlAHdyb25n\r\n"),
        "535 5.7.8 Authentication credentials invalid\r\n"
    );
    assert_eq!(talk(&mut s, b"AUTH PLAIN\r\n"), "334 \r\n");
    assert_eq!(
        talk(&mut s, b"*\r\n"),
        "501 5.7.0 Authentication cancelled\r\n"
    );
    assert_eq!(talk(&mut s, b"AUTH LOGIN\r\n"), "334 VXNlcm5hbWU6\r\n");
    assert_eq!(talk(&mut s, b"YWxpY2U=\r\n"), "334 UGFzc3dvcmQ6\r\n");
    assert_eq!(
        talk(&mut s, b"c2VjcmV0\r\n"),
        "235 2.7.0 Authentication successful\r\n"
    );
    assert_eq!(s.info().authenticated.as_deref(), Some("alice"));
    assert_eq!(
        talk(&mut s, b"AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n"),
        "503 5.5.1 Already authenticated\r\n"
    );
    assert_eq!(
        codes(&talk(&mut s, b"MAIL FROM:<a@example.com>\r\n")),
        ["250"]
    );
}

#[test]
fn auth_plain_with_initial_response_and_bad_base64() {
    let mut cfg = config();
    cfg.auth = true;
    cfg.auth_without_tls = true;
    let mut s = server(cfg, TestPolicy::with_user("alice", "secret"));
    s.take_output();
    talk(&mut s, b"EHLO c\r\n");
    assert_eq!(talk(&mut s, b"AUTH PLAIN !!!!\r\n").get(..3), Some("501"));
    assert_eq!(talk(&mut s, b"AUTH CRAM-MD5\r\n").get(..3), Some("504"));
    assert_eq!(
        talk(&mut s, b"AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n"),
        "235 2.7.0 Authentication successful\r\n"
    );
}

#[test]
fn require_tls_refuses_mail_before_starttls() {
    let mut cfg = config();
    cfg.starttls = true;
    cfg.require_tls = true;
    let mut s = server(cfg, TestPolicy::default());
    s.take_output();
    talk(&mut s, b"EHLO c\r\n");
    assert_eq!(
        talk(&mut s, b"MAIL FROM:<a@example.com>\r\n"),
        "530 5.7.0 Must issue a STARTTLS command first\r\n"
    );
}

#[test]
fn refused_greeting_answers_only_quit() {
    struct NoService;
    impl Policy for NoService {
        fn connect(&mut self, _: &SessionInfo) -> Decision {
            Decision::refuse(554, (5, 7, 1), "No SMTP service here")
        }
    }
    let mut s =
        smtpsim_proto::server::ServerSession::new(std::sync::Arc::new(config()), NoService, None);
    assert_eq!(s.take_output(), b"554 5.7.1 No SMTP service here\r\n");
    let out = talk(&mut s, b"EHLO c\r\nMAIL FROM:<a@example.com>\r\nQUIT\r\n");
    assert_eq!(codes(&out), ["503", "503", "221"]);
}

#[test]
fn disconnecting_policy_closes_the_session() {
    let mut s = ready();
    let out = talk(
        &mut s,
        b"EHLO c\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<closing@example.net>\r\nRCPT TO:<b@example.net>\r\n",
    );
    assert_eq!(codes(&out), ["250", "250", "421"]);
    assert!(s.is_closed());
}

#[test]
fn bdat_chunks() {
    let mut s = ready();
    let out = talk(
        &mut s,
        b"EHLO c\r\nMAIL FROM:<a@example.com> BODY=BINARYMIME\r\nRCPT TO:<b@example.net>\r\nBDAT 5\r\nhel\r\nBDAT 3 LAST\r\n.\r\n",
    );
    assert_eq!(codes(&out), ["250", "250", "250", "250", "250"], "{out}");
    assert!(out.contains("250 2.0.0 5 octets received\r\n"));
    let messages = accepted(&mut s);
    assert_eq!(messages[0].content, b"hel\r\n.\r\n");
}

#[test]
fn a_refused_bdat_chunk_is_read_not_executed() {
    let mut s = ready();
    let out = talk(
        &mut s,
        b"EHLO c\r\nBDAT 19 LAST\r\nMAIL FROM:<x@y.z>\r\nNOOP\r\n",
    );
    assert_eq!(codes(&out), ["250", "503", "250"], "{out}");
}

#[test]
fn enhanced_codes_can_be_turned_off() {
    let mut cfg = config();
    cfg.enhanced_status_codes = false;
    let mut s = server(cfg, TestPolicy::default());
    s.take_output();
    let out = talk(
        &mut s,
        b"EHLO c\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<unknown@x.example>\r\n",
    );
    assert!(!out.contains("ENHANCEDSTATUSCODES"));
    assert!(
        out.ends_with("250 Sender OK\r\n550 User unknown\r\n"),
        "{out}"
    );
}

#[test]
fn non_ascii_addresses_need_smtputf8() {
    let mut s = ready();
    talk(&mut s, b"EHLO c\r\n");
    assert_eq!(
        talk(&mut s, "MAIL FROM:<jos\u{e9}@example.com>\r\n".as_bytes()).get(..9),
        Some("553 5.6.7")
    );
    assert_eq!(
        codes(&talk(
            &mut s,
            "MAIL FROM:<jos\u{e9}@example.com> SMTPUTF8\r\nRCPT TO:<\u{e9}l\u{e8}ve@\u{e9}cole.example>\r\n".as_bytes()
        )),
        ["250", "250"]
    );
}
