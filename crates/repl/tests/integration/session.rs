//! The session driven line by line, as a user would type: the greeting, a whole transaction,
//! DATA mode, STARTTLS, AUTH with the base64 helpers, the scenario's behaviours, the clock,
//! and the right reply to every mistake.

use crate::common;

use common::{has, of_kind, plain, server_lines, with_scenario};
use smtpsim_repl::{Config, Error, Kind, Repl};

#[test]
fn connect_shows_the_greeting_explained_with_a_next_step() {
    let mut s = plain();
    assert!(!s.repl.connected());
    assert_eq!(s.repl.prompt(), "smtpsim> ");
    let lines = s.say("connect");
    assert_eq!(server_lines(&lines), ["220 mx.example.net ESMTP smtpsim"]);
    assert!(has(&lines, Kind::Explain, "220 Service ready"));
    assert!(has(&lines, Kind::Hint, "next: EHLO client.example.com"));
    assert!(has(&lines, Kind::Info, "Connected to mx.example.net"));
    assert!(s.repl.connected());
    assert_eq!(s.repl.prompt(), "C: ");

    let lines = s.say("connect");
    assert!(has(&lines, Kind::Error, "Already connected"));
}

#[test]
fn a_whole_transaction_with_starttls_and_auth() {
    let mut s = plain();
    s.say("connect");
    let ehlo = s.server("EHLO client.example.com");
    assert_eq!(ehlo[0], "250-mx.example.net greets client.example.com");
    assert!(ehlo.contains(&"250-STARTTLS".to_string()));
    assert!(
        !ehlo.iter().any(|l| l.contains("AUTH")),
        "no AUTH before TLS"
    );

    let lines = s.say("STARTTLS");
    assert_eq!(server_lines(&lines), ["220 2.0.0 Ready to start TLS"]);
    assert!(has(&lines, Kind::Info, "TLS handshake done"));
    assert!(has(&lines, Kind::Hint, "EHLO"));
    let ehlo = s.server("EHLO client.example.com");
    assert!(ehlo.contains(&"250-AUTH PLAIN LOGIN".to_string()));
    assert!(!ehlo.iter().any(|l| l.contains("STARTTLS")));

    let lines = s.say("auth-plain alice secret");
    assert_eq!(
        of_kind(&lines, Kind::Client),
        ["C: AUTH PLAIN AGFsaWNlAHNlY3JldA=="]
    );
    assert_eq!(
        server_lines(&lines),
        ["235 2.7.0 Authentication successful"]
    );

    assert_eq!(
        s.reply("MAIL FROM:<alice@example.com>"),
        "250 2.1.0 Sender OK"
    );
    let lines = s.say("RCPT TO:<bob@example.net>");
    assert_eq!(server_lines(&lines), ["250 2.1.5 Recipient OK"]);
    assert!(has(&lines, Kind::Hint, "DATA"));
    assert!(s.reply("DATA").starts_with("354 "));
    for line in [
        "Subject: Hello",
        "",
        "Hi Bob.",
        "QUIT",
        "..leading dot",
        ".",
    ] {
        let lines = s.say(line);
        if line != "." {
            assert!(
                lines.is_empty(),
                "content gets no reply: {line:?} {lines:?}"
            );
        } else {
            assert_eq!(
                server_lines(&lines),
                ["250 2.0.0 Message accepted for delivery"]
            );
            let content = "Subject: Hello\r\n\r\nHi Bob.\r\nQUIT\r\n.leading dot\r\n";
            assert!(
                has(
                    &lines,
                    Kind::Info,
                    &format!(
                        "{} bytes from <alice@example.com> for <bob@example.net>",
                        content.len()
                    )
                ),
                "{lines:?}"
            );
            assert!(has(&lines, Kind::Hint, "QUIT"));
        }
    }
    let lines = s.say("QUIT");
    assert_eq!(server_lines(&lines), ["221 2.0.0 Bye"]);
    assert!(has(
        &lines,
        Kind::Info,
        "Connection closed by foreign host."
    ));
    assert!(!s.repl.connected());
    assert!(!s.repl.finished());
    s.say("quit");
    assert!(s.repl.finished());
}

#[test]
fn auth_login_with_the_base64_helper() {
    let mut s = plain();
    s.say("connect");
    s.say("EHLO client.example.com");
    s.say("STARTTLS");
    s.say("EHLO client.example.com");
    let lines = s.say("AUTH LOGIN");
    assert_eq!(server_lines(&lines), ["334 VXNlcm5hbWU6"]);
    assert!(has(&lines, Kind::Explain, "\"Username:\""));
    assert!(has(&lines, Kind::Hint, "base64 alice"));
    let lines = s.say("base64 alice");
    assert_eq!(of_kind(&lines, Kind::Client), ["C: YWxpY2U="]);
    assert_eq!(server_lines(&lines), ["334 UGFzc3dvcmQ6"]);
    assert!(has(&lines, Kind::Hint, "base64 secret"));
    assert_eq!(
        s.reply("base64 secret"),
        "235 2.7.0 Authentication successful"
    );

    // Outside an AUTH exchange, base64 only prints.
    let lines = s.say("base64 \\0alice\\0secret");
    assert!(has(&lines, Kind::Info, "AGFsaWNlAHNlY3JldA=="));
    assert!(server_lines(&lines).is_empty());
}

#[test]
fn wrong_credentials_and_auth_before_tls_get_their_codes() {
    let mut s = plain();
    s.say("connect");
    s.say("EHLO client.example.com");
    let lines = s.say("auth-plain alice secret");
    assert!(
        server_lines(&lines)[0].starts_with("538 5.7.11"),
        "{lines:?}"
    );
    assert!(has(&lines, Kind::Hint, "STARTTLS"));
    s.say("STARTTLS");
    s.say("EHLO client.example.com");
    let lines = s.say("auth-plain alice wrong");
    assert_eq!(
        server_lines(&lines),
        ["535 5.7.8 Authentication credentials invalid"]
    );
    assert!(has(&lines, Kind::Explain, "Retry: never"));
    assert!(has(&lines, Kind::Hint, "auth-plain alice secret"));
    // AUTH PLAIN with an empty challenge, cancelled with *.
    assert_eq!(s.reply("AUTH PLAIN"), "334 ");
    let lines = s.say("*");
    assert!(server_lines(&lines)[0].starts_with("501 "), "{lines:?}");
}

#[test]
fn bad_commands_get_the_right_codes() {
    let mut s = plain();
    s.say("connect");
    let cases = [
        ("FOO", "500 5.5.2"),
        ("MAIL FROM:<a@example.com>", "503 5.5.1"),
        ("EHLO", "501 5.5.4"),
        ("EHLO client.example.com", "250 "),
        ("RCPT TO:<b@example.net>", "503 5.5.1"),
        ("DATA", "503 5.5.1"),
        ("MAIL FROM:alice", "501 5.1.7"),
        ("MAIL FROM:<a@example.com> FOO=BAR", "555 5.5.4"),
        ("MAIL FROM:<a@example.com>", "250 2.1.0"),
        ("MAIL FROM:<a@example.com>", "503 5.5.1"),
        ("RCPT TO:<not an address>", "501 5.1.3"),
        ("RSET", "250 "),
        ("NOOP", "250 "),
        ("VRFY bob", "252 "),
        ("HELP", "214 "),
    ];
    for (line, code) in cases {
        let reply = s.reply(line);
        assert!(reply.starts_with(code), "{line}: {reply}, expected {code}");
    }
    let long = format!("NOOP {}", "x".repeat(600));
    assert!(s.reply(&long).starts_with("500 5.5.6"));
}

/// Types `line`, checks that the reply is a 503 and returns the suggested next step.
fn hint_after_503(s: &mut common::Session, line: &str) -> String {
    let lines = s.say(line);
    let reply = server_lines(&lines);
    assert!(reply[0].starts_with("503 5.5.1"), "{line}: {reply:?}");
    let hints = of_kind(&lines, Kind::Hint);
    assert_eq!(hints.len(), 1, "{line}: {lines:?}");
    hints[0].trim_start().to_string()
}

#[test]
fn after_a_503_the_hint_names_the_step_that_was_skipped() {
    let mut s = plain();
    s.say("connect");
    let hint = hint_after_503(&mut s, "MAIL FROM:<a@example.com>");
    assert!(hint.starts_with("next: EHLO client.example.com"), "{hint}");
    s.say("EHLO client.example.com");
    s.say("STARTTLS");
    s.say("EHLO client.example.com");
    for line in ["RCPT TO:<b@example.net>", "DATA"] {
        let hint = hint_after_503(&mut s, line);
        assert!(hint.starts_with("next: MAIL FROM:<"), "{line}: {hint}");
    }
    assert!(s.reply("MAIL FROM:<a@example.com>").starts_with("250 "));
    for line in ["DATA", "MAIL FROM:<a@example.com>"] {
        let hint = hint_after_503(&mut s, line);
        assert!(hint.starts_with("next: RCPT TO:<"), "{line}: {hint}");
    }
    let lines = s.say("auth-plain alice secret");
    assert!(
        server_lines(&lines)[0].starts_with("503 5.5.1 AUTH not allowed"),
        "{lines:?}"
    );
    assert!(has(&lines, Kind::Hint, "next: RSET"), "{lines:?}");
    assert!(s.reply("RCPT TO:<b@example.net>").starts_with("250 "));
    let hint = hint_after_503(&mut s, "MAIL FROM:<a@example.com>");
    assert!(hint.starts_with("next: DATA"), "{hint}");

    s.say("RSET");
    assert!(s.reply("auth-plain alice secret").starts_with("235 "));
    for line in ["auth-plain alice secret", "STARTTLS"] {
        let hint = hint_after_503(&mut s, line);
        assert!(hint.starts_with("next: MAIL FROM:<"), "{line}: {hint}");
    }
}

#[test]
fn not_connected_commands_are_explained_not_sent() {
    let mut s = plain();
    let lines = s.say("EHLO client.example.com");
    assert!(has(&lines, Kind::Error, "Not connected"));
    assert!(s.say("").is_empty());
    assert!(has(&s.say("disconnect"), Kind::Error, "Not connected"));
    assert!(has(&s.say("auth-plain a b"), Kind::Error, "Not connected"));
    assert!(has(&s.say("wait soon"), Kind::Error, "wait 5m"));
    assert!(has(
        &s.say("connect nowhere.example"),
        Kind::Error,
        "No receiving domain"
    ));
    assert!(has(&s.say("?"), Kind::Info, "connect [DOMAIN]"));
    assert!(has(&s.say("help"), Kind::Info, "auth-plain USER PASS"));
    assert!(has(&s.say("hint"), Kind::Hint, "connect"));
}

#[test]
fn explanations_can_be_turned_off_and_codes_explained_on_demand() {
    let mut s = plain();
    s.say("explain off");
    assert!(!s.repl.explaining());
    let lines = s.say("connect");
    assert!(of_kind(&lines, Kind::Explain).is_empty());
    assert!(of_kind(&lines, Kind::Hint).is_empty());
    assert_eq!(server_lines(&lines).len(), 1);
    assert!(has(&s.say("hint"), Kind::Hint, "EHLO"));
    let lines = s.say("explain 550 5.1.1");
    assert!(has(&lines, Kind::Explain, "Typical causes:"));
    assert!(has(&lines, Kind::Explain, "What to do:"));
    assert!(has(
        &s.say("explain nonsense"),
        Kind::Error,
        "not a reply code"
    ));
    s.say("explain on");
    assert!(!of_kind(&s.say("NOOP"), Kind::Explain).is_empty());

    let quiet = Repl::new(Config {
        explain: false,
        ..Config::default()
    })
    .unwrap();
    assert!(!quiet.explaining());
}

#[test]
fn disconnect_and_exit() {
    let mut s = plain();
    s.say("connect");
    assert!(has(&s.say("disconnect"), Kind::Info, "without QUIT"));
    assert!(!s.repl.connected());
    s.say("connect");
    s.say("exit");
    assert!(s.repl.finished());
    assert!(!s.repl.connected());
}

#[test]
fn unknown_users_full_mailboxes_and_tls_required_come_from_the_scenario() {
    let mut s = with_scenario();
    let lines = s.say("domains");
    assert!(has(
        &lines,
        Kind::Info,
        "nobody.example (connect opens this one): MX mx.nobody.example; 100% unknown users"
    ));
    assert!(has(
        &lines,
        Kind::Info,
        "grey.example: MX mx.grey.example; greylisting 5m"
    ));

    let greeting = s.server("connect");
    assert_eq!(greeting, ["220 mx.nobody.example ESMTP smtpsim"]);
    let ehlo = s.server("EHLO mta.app.example");
    assert!(ehlo[0].contains("greets mta.app.example"));
    s.say("MAIL FROM:<notify@app.example>");
    let lines = s.say("RCPT TO:<anyone@nobody.example>");
    let reply = &server_lines(&lines)[0];
    assert!(reply.starts_with("550 5.1.1 "), "{reply}");
    assert!(has(
        &lines,
        Kind::Explain,
        "5.1.1 Bad destination mailbox address"
    ));
    s.say("QUIT");

    s.say("connect full.example");
    s.say("EHLO mta.app.example");
    s.say("MAIL FROM:<notify@app.example>");
    assert!(
        s.reply("RCPT TO:<bob@full.example>")
            .starts_with("452 4.2.2")
    );
    s.say("QUIT");

    s.say("connect tls.example");
    s.say("EHLO mta.app.example");
    let lines = s.say("MAIL FROM:<notify@app.example>");
    assert!(server_lines(&lines)[0].starts_with("530 5.7.0"));
    assert!(has(&lines, Kind::Hint, "STARTTLS"));
    s.say("STARTTLS");
    s.say("EHLO mta.app.example");
    assert!(
        s.reply("MAIL FROM:<notify@app.example>")
            .starts_with("250 ")
    );
}

#[test]
fn greylisting_passes_once_the_clock_has_moved_past_the_delay() {
    let mut s = with_scenario();
    s.say("connect grey.example");
    s.say("EHLO mta.app.example");
    s.say("MAIL FROM:<notify@app.example>");
    let lines = s.say("RCPT TO:<bob@grey.example>");
    let reply = &server_lines(&lines)[0];
    assert!(reply.starts_with("451 4.7.1 Greylisted"), "{reply}");
    assert!(has(&lines, Kind::Hint, "wait 5m"), "{lines:?}");
    // Too early, and over a new connection: the greylist remembers the first attempt.
    s.say("QUIT");
    assert!(has(&s.say("wait 3m"), Kind::Info, "it is now 3m"));
    s.say("connect grey.example");
    s.say("EHLO mta.app.example");
    s.say("MAIL FROM:<notify@app.example>");
    let lines = s.say("RCPT TO:<bob@grey.example>");
    assert!(server_lines(&lines)[0].starts_with("451 4.7.1"));
    assert!(has(&lines, Kind::Hint, "wait 2m"), "{lines:?}");
    s.say("wait 2m");
    assert!(has(&s.say("time"), Kind::Info, "It is 5m"));
    assert_eq!(
        s.reply("RCPT TO:<bob@grey.example>"),
        "250 2.1.5 Recipient OK"
    );
}

#[test]
fn a_rate_limit_refuses_the_second_message() {
    let mut s = with_scenario();
    s.say("connect slow.example");
    s.say("EHLO mta.app.example");
    assert!(
        s.reply("MAIL FROM:<notify@app.example>")
            .starts_with("250 ")
    );
    s.say("RSET");
    let lines = s.say("MAIL FROM:<notify@app.example>");
    let reply = &server_lines(&lines)[0];
    assert!(reply.starts_with("451 4.7.28"), "{reply}");
    assert!(
        has(&lines, Kind::Hint, "a 4xx failure is temporary"),
        "{lines:?}"
    );
    s.say("wait 1h");
    assert!(
        s.reply("MAIL FROM:<notify@app.example>")
            .starts_with("250 ")
    );
}

#[test]
fn a_host_in_an_outage_is_skipped_for_the_next_mx() {
    let mut s = with_scenario();
    let lines = s.say("connect down.example");
    assert!(has(
        &lines,
        Kind::Info,
        "Trying mx1.down.example... connection refused"
    ));
    assert_eq!(server_lines(&lines), ["220 mx2.down.example ESMTP smtpsim"]);
}

#[test]
fn setup_errors_name_the_problem() {
    let scenario = smtpsim_model::scenario::Scenario::parse(common::SCENARIO, "t.toml").unwrap();
    let error = Repl::new(Config {
        scenario: Some(scenario),
        domain: Some("gmail.com".into()),
        ..Config::default()
    })
    .unwrap_err();
    assert!(matches!(error, Error::UnknownDomain { .. }));
    assert!(
        error.to_string().contains("nobody.example, full.example"),
        "{error}"
    );
    let s = common::Session::new(Config {
        domain: Some("EXAMPLE.NET".into()),
        ..Config::default()
    });
    assert!(has(&s.all, Kind::Info, "mx.example.net"));
}

#[test]
fn connection_rate_limits_and_421_outages_close_the_connection() {
    let mut s = with_scenario();
    assert_eq!(
        s.server("connect busy.example"),
        ["220 mx.busy.example ESMTP smtpsim"]
    );
    s.say("QUIT");
    let lines = s.say("connect busy.example");
    assert!(
        server_lines(&lines)[0].starts_with("421 4.7.0"),
        "{lines:?}"
    );
    assert!(has(
        &lines,
        Kind::Info,
        "Connection closed by foreign host."
    ));
    assert!(has(&lines, Kind::Explain, "Retry: later"));
    assert!(!s.repl.connected());
    s.say("wait 1h");
    let lines = s.say("connect busy.example");
    assert!(
        server_lines(&lines)[0].starts_with("421 4.3.2"),
        "{lines:?}"
    );
    assert!(!s.repl.connected());
    s.say("wait 1h");
    assert!(s.reply("connect busy.example").starts_with("220 "));
}

/// The `dmarc-reject` story: a bank's mail sent through a relay its SPF record does not
/// list, unsigned, under `p=reject`.
fn dmarc_reject_story() -> common::Session {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scenarios/stories/dmarc-reject.toml"
    );
    let scenario = smtpsim_model::scenario::Scenario::load(std::path::Path::new(path))
        .expect("the story loads");
    common::Session::new(Config {
        scenario: Some(scenario),
        ..Config::default()
    })
}

#[test]
fn the_end_of_data_check_is_the_simulators_spf_dkim_and_dmarc() {
    let mut s = dmarc_reject_story();
    s.say("connect mail.example");
    s.server("EHLO relay.cheap-host.example");
    assert_eq!(
        s.reply("MAIL FROM:<alerts@bank.example>"),
        "250 2.1.0 Sender OK"
    );
    assert_eq!(
        s.reply("RCPT TO:<bob@mail.example>"),
        "250 2.1.5 Recipient OK"
    );
    s.say("DATA");
    for line in [
        "From: alerts@bank.example",
        "Subject: statement",
        "",
        "hello",
    ] {
        assert!(server_lines(&s.say(line)).is_empty(), "{line:?} is content");
    }
    let refused = s.reply(".");
    assert!(
        refused.starts_with("550 5.7.1 ")
            && refused.contains("DMARC policy of bank.example is reject"),
        "{refused}"
    );

    // A visible From of another domain has no DMARC record to fail: the message is taken.
    s.reply("MAIL FROM:<alerts@bank.example>");
    s.reply("RCPT TO:<bob@mail.example>");
    s.say("DATA");
    for line in ["From: news@elsewhere.example", "", "hello"] {
        s.say(line);
    }
    assert!(s.reply(".").starts_with("250 "));
}
