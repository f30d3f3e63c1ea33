//! Unit tests of the command parser and formatter.

use std::net::Ipv4Addr;

use super::*;

mod params;
mod paths;

fn ok(line: &str) -> Command<'_> {
    Command::parse(line.as_bytes()).unwrap_or_else(|e| panic!("{line:?}: {e}"))
}

fn err(line: &str) -> CommandError {
    match Command::parse(line.as_bytes()) {
        Ok(command) => panic!("{line:?} parsed as {command:?}"),
        Err(e) => e,
    }
}

/// The line as `write_to` writes the parsed command, without CRLF.
fn canonical(line: &str) -> String {
    let mut out = Vec::new();
    ok(line).write_to(&mut out);
    let out = String::from_utf8(out).expect("UTF-8");
    out.strip_suffix("\r\n").expect("CRLF").to_string()
}

fn domain(d: &str) -> Host<'_> {
    Host::Domain(d)
}

fn address<'a>(local_part: &'a str, d: &'a str) -> Address<'a> {
    Address {
        local_part,
        domain: Host::Domain(d),
    }
}

fn mail_from(line: &str) -> (ReversePath<'_>, MailParams<'_>) {
    match ok(line) {
        Command::Mail { from, params } => (from, params),
        other => panic!("{line:?} parsed as {other:?}"),
    }
}

fn rcpt_to(line: &str) -> (ForwardPath<'_>, RcptParams<'_>) {
    match ok(line) {
        Command::Rcpt { to, params } => (to, params),
        other => panic!("{line:?} parsed as {other:?}"),
    }
}

fn sender(line: &str) -> Address<'_> {
    match mail_from(line).0 {
        ReversePath::Mailbox(a) => a,
        ReversePath::Null => panic!("{line:?}: null path"),
    }
}

// ---- verbs ----

#[test]
fn every_verb() {
    let cases: &[(&str, Command<'_>)] = &[
        (
            "HELO mail.example.com",
            Command::Helo {
                domain: domain("mail.example.com"),
            },
        ),
        (
            "EHLO mail.example.com",
            Command::Ehlo {
                domain: domain("mail.example.com"),
            },
        ),
        (
            "MAIL FROM:<a@example.com>",
            Command::Mail {
                from: ReversePath::Mailbox(address("a", "example.com")),
                params: MailParams::default(),
            },
        ),
        (
            "RCPT TO:<b@example.net>",
            Command::Rcpt {
                to: ForwardPath::Mailbox(address("b", "example.net")),
                params: RcptParams::default(),
            },
        ),
        ("DATA", Command::Data),
        (
            "BDAT 1000",
            Command::Bdat {
                size: 1000,
                last: false,
            },
        ),
        (
            "BDAT 0 LAST",
            Command::Bdat {
                size: 0,
                last: true,
            },
        ),
        ("RSET", Command::Rset),
        ("NOOP", Command::Noop { arg: None }),
        (
            "NOOP hello there",
            Command::Noop {
                arg: Some("hello there"),
            },
        ),
        ("QUIT", Command::Quit),
        ("VRFY john", Command::Vrfy { arg: "john" }),
        ("VRFY John Smith", Command::Vrfy { arg: "John Smith" }),
        ("EXPN staff", Command::Expn { arg: "staff" }),
        ("HELP", Command::Help { topic: None }),
        (
            "HELP MAIL",
            Command::Help {
                topic: Some("MAIL"),
            },
        ),
        ("STARTTLS", Command::StartTls),
        (
            "AUTH PLAIN",
            Command::Auth {
                mechanism: AuthMechanism::Plain,
                initial_response: None,
            },
        ),
        (
            "AUTH PLAIN AGFsaWNlAHNlY3JldA==",
            Command::Auth {
                mechanism: AuthMechanism::Plain,
                initial_response: Some("AGFsaWNlAHNlY3JldA=="),
            },
        ),
        (
            "AUTH LOGIN",
            Command::Auth {
                mechanism: AuthMechanism::Login,
                initial_response: None,
            },
        ),
        (
            "AUTH CRAM-MD5",
            Command::Auth {
                mechanism: AuthMechanism::Other("CRAM-MD5"),
                initial_response: None,
            },
        ),
        (
            "AUTH EXTERNAL =",
            Command::Auth {
                mechanism: AuthMechanism::Other("EXTERNAL"),
                initial_response: Some("="),
            },
        ),
    ];
    for (line, expected) in cases {
        assert_eq!(&ok(line), expected, "{line:?}");
        assert_eq!(canonical(line), *line, "{line:?} formats back");
    }
}

#[test]
fn verbs_and_keywords_are_case_insensitive() {
    assert_eq!(ok("helo x.example"), ok("HELO x.example"));
    assert_eq!(ok("eHlO x.example"), ok("EHLO x.example"));
    assert_eq!(ok("mail from:<a@b.example>"), ok("MAIL FROM:<a@b.example>"));
    assert_eq!(ok("Rcpt To:<a@b.example>"), ok("RCPT TO:<a@b.example>"));
    for (lower, upper) in [
        ("data", "DATA"),
        ("rset", "RSET"),
        ("noop", "NOOP"),
        ("quit", "QUIT"),
        ("help", "HELP"),
        ("starttls", "STARTTLS"),
        ("StartTLS", "STARTTLS"),
        ("vrfy x", "VRFY x"),
        ("expn x", "EXPN x"),
        ("bdat 5 last", "BDAT 5 LAST"),
        ("auth plain", "AUTH PLAIN"),
        ("auth Login", "AUTH LOGIN"),
    ] {
        assert_eq!(ok(lower), ok(upper), "{lower:?}");
        assert_eq!(canonical(lower), upper);
    }
    // Mechanism names other than PLAIN and LOGIN are kept as written.
    assert_eq!(canonical("auth cram-md5"), "AUTH cram-md5");
}

#[test]
fn unknown_verbs() {
    for line in [
        "",
        "X",
        "HEL",
        "HELOO x",
        "MAILX FROM:<a@b>",
        "DATA:",
        "STARTTL",
        "STARTTLSX",
        " DATA",
        "\tQUIT",
        "GET / HTTP/1.1",
        "ETRN example.com",
        "LHLO x",
        "\u{e9}t\u{e9}",
    ] {
        assert_eq!(err(line), CommandError::UnknownCommand, "{line:?}");
    }
    // Bytes that are not letters never match a verb after lower-casing.
    assert_eq!(
        Command::parse(b"\x08\x01\x0c\x0f").unwrap_err(),
        CommandError::UnknownCommand
    );
}

#[test]
fn spaces_are_lenient() {
    assert_eq!(ok("DATA   "), Command::Data);
    assert_eq!(ok("QUIT "), Command::Quit);
    assert_eq!(ok("NOOP  x  "), Command::Noop { arg: Some("x") });
    assert_eq!(ok("NOOP   "), Command::Noop { arg: None });
    assert_eq!(
        ok("EHLO   x.example "),
        Command::Ehlo {
            domain: domain("x.example")
        }
    );
    assert_eq!(
        canonical("MAIL   FROM:   <a@b.example>   SIZE=10    BODY=8bitmime  "),
        "MAIL FROM:<a@b.example> SIZE=10 BODY=8BITMIME"
    );
    assert_eq!(canonical("RCPT TO: <a@b.example>"), "RCPT TO:<a@b.example>");
    assert_eq!(canonical("BDAT   7    last "), "BDAT 7 LAST");
    assert_eq!(canonical("AUTH  PLAIN   dGVzdA== "), "AUTH PLAIN dGVzdA==");
}

#[test]
fn commands_without_arguments_reject_one() {
    for line in ["DATA x", "RSET now", "QUIT please", "STARTTLS tls"] {
        assert_eq!(
            err(line),
            CommandError::Syntax("no argument expected"),
            "{line:?}"
        );
    }
}

#[test]
fn missing_arguments() {
    for line in [
        "HELO", "EHLO ", "MAIL", "RCPT", "VRFY", "EXPN  ", "BDAT", "AUTH",
    ] {
        assert!(matches!(err(line), CommandError::Syntax(_)), "{line:?}");
    }
    assert!(matches!(err("MAIL FROM:"), CommandError::Syntax(_)));
    assert!(matches!(err("RCPT TO:  "), CommandError::Syntax(_)));
    assert!(matches!(err("MAIL <a@b.example>"), CommandError::Syntax(_)));
    assert!(matches!(
        err("MAIL TO:<a@b.example>"),
        CommandError::Syntax(_)
    ));
    assert!(matches!(
        err("RCPT FROM:<a@b.example>"),
        CommandError::Syntax(_)
    ));
    assert!(matches!(
        err("MAIL FROM <a@b.example>"),
        CommandError::Syntax(_)
    ));
}

// ---- line-level checks ----

#[test]
fn line_length() {
    let mut line = b"NOOP ".to_vec();
    line.resize(510, b'x');
    assert!(Command::parse(&line).is_ok());
    line.push(b'x');
    assert_eq!(Command::parse(&line), Err(CommandError::LineTooLong));
    // Length is checked before anything else.
    assert_eq!(Command::parse(&[0xff; 600]), Err(CommandError::LineTooLong));
}

#[test]
fn utf8_and_control_characters() {
    assert_eq!(
        Command::parse(b"NOOP \xff\xfe"),
        Err(CommandError::Syntax("not UTF-8"))
    );
    assert_eq!(
        Command::parse(b"MAIL FROM:<\xc3@example.com>"),
        Err(CommandError::Syntax("not UTF-8"))
    );
    for line in [
        "NOOP a\tb",
        "VRFY a\rb",
        "HELP \u{7f}",
        "NOOP 0123456789\n0123456789",
    ] {
        assert!(matches!(err(line), CommandError::Syntax(_)), "{line:?}");
    }
    // UTF-8 in free text and in addresses.
    assert_eq!(
        ok("NOOP h\u{e9}"),
        Command::Noop {
            arg: Some("h\u{e9}")
        }
    );
    assert_eq!(
        sender("MAIL FROM:<j\u{f6}rg@m\u{fc}ller.example> SMTPUTF8"),
        address("j\u{f6}rg", "m\u{fc}ller.example")
    );
    assert_eq!(
        ok("EHLO b\u{fc}cher.example"),
        Command::Ehlo {
            domain: domain("b\u{fc}cher.example")
        }
    );
}

// ---- errors and their replies ----

#[test]
fn error_replies() {
    let cases = [
        (err("FOO"), 500, (5, 5, 2)),
        (Command::parse(&[b'x'; 511]).unwrap_err(), 500, (5, 5, 6)),
        (err("DATA now"), 501, (5, 5, 4)),
        (err("MAIL FROM:<a>"), 501, (5, 1, 7)),
        (err("RCPT TO:<a>"), 501, (5, 1, 3)),
        (err("MAIL FROM:<> FOO"), 555, (5, 5, 4)),
    ];
    for (error, code, (class, subject, detail)) in cases {
        let reply = error.reply();
        assert_eq!(reply.code.get(), code, "{error:?}");
        assert_eq!(
            reply.enhanced,
            Some(EnhancedCode::new(class, subject, detail)),
            "{error:?}"
        );
        assert!(
            reply.text.starts_with(char::is_uppercase),
            "{:?}",
            reply.text
        );
    }
    assert_eq!(err("FOO").reply().text, "Unknown command");
    assert_eq!(
        err("MAIL FROM:<a>").reply().text,
        "Bad sender address: missing @domain"
    );
}

// ---- formatting ----

#[test]
fn display_forms() {
    assert_eq!(Host::Domain("example.com").to_string(), "example.com");
    assert_eq!(
        Host::Ipv4(Ipv4Addr::new(192, 0, 2, 1)).to_string(),
        "[192.0.2.1]"
    );
    assert_eq!(
        Host::Ipv6("2001:db8::1".parse().unwrap()).to_string(),
        "[IPv6:2001:db8::1]"
    );
    assert_eq!(
        Host::General {
            tag: "tag",
            content: "content"
        }
        .to_string(),
        "[tag:content]"
    );
    assert_eq!(address("a", "b.example").to_string(), "a@b.example");
    assert_eq!(ReversePath::Null.to_string(), "<>");
    assert_eq!(
        ReversePath::Mailbox(address("a", "b.example")).to_string(),
        "<a@b.example>"
    );
    assert_eq!(ForwardPath::Postmaster.to_string(), "<Postmaster>");
    assert_eq!(
        ForwardPath::Mailbox(address("a", "b.example")).to_string(),
        "<a@b.example>"
    );
    assert_eq!(Notify::default().to_string(), "NEVER");
    assert_eq!(
        ok("MAIL FROM:<a@b.example> SIZE=5").to_string(),
        "MAIL FROM:<a@b.example> SIZE=5"
    );
}

#[test]
fn write_to_appends_crlf() {
    let mut out = b"previous\r\n".to_vec();
    Command::Bdat {
        size: 100,
        last: true,
    }
    .write_to(&mut out);
    Command::Auth {
        mechanism: AuthMechanism::Plain,
        initial_response: Some("dGVzdA=="),
    }
    .write_to(&mut out);
    assert_eq!(out, b"previous\r\nBDAT 100 LAST\r\nAUTH PLAIN dGVzdA==\r\n");
    let mut out = Vec::new();
    Command::Mail {
        from: ReversePath::Null,
        params: MailParams {
            size: Some(123),
            body: Some(BodyType::EightBitMime),
            smtputf8: true,
            ret: Some(Ret::Headers),
            envid: Some("x"),
            auth: Some("<>"),
        },
    }
    .write_to(&mut out);
    assert_eq!(
        out,
        b"MAIL FROM:<> SIZE=123 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=x AUTH=<>\r\n"
    );
}
