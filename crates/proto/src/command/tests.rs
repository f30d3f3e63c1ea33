//! Unit tests of the command parser and formatter.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::*;

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

// ---- paths ----

#[test]
fn reverse_paths() {
    assert_eq!(mail_from("MAIL FROM:<>").0, ReversePath::Null);
    assert_eq!(
        sender("MAIL FROM:<a.b+tag@x.example>"),
        address("a.b+tag", "x.example")
    );
    assert_eq!(
        sender("MAIL FROM:<!#$%&'*+-/=?^_`{|}~@x.example>"),
        address("!#$%&'*+-/=?^_`{|}~", "x.example")
    );
    // Quoted local parts are kept with their quotes and backslashes.
    assert_eq!(
        sender(r#"MAIL FROM:<"john doe"@x.example>"#),
        address(r#""john doe""#, "x.example")
    );
    assert_eq!(
        sender(r#"MAIL FROM:<"a\"b>c"@x.example>"#),
        address(r#""a\"b>c""#, "x.example")
    );
    assert_eq!(
        sender(r#"MAIL FROM:<""@x.example>"#),
        address(r#""""#, "x.example")
    );
    assert_eq!(
        canonical(r#"MAIL FROM:<"john doe"@x.example>"#),
        r#"MAIL FROM:<"john doe"@x.example>"#
    );
    // Postmaster needs a domain in MAIL.
    assert_eq!(
        err("MAIL FROM:<Postmaster>"),
        CommandError::BadSender("missing @domain")
    );
}

#[test]
fn forward_paths() {
    assert_eq!(rcpt_to("RCPT TO:<Postmaster>").0, ForwardPath::Postmaster);
    assert_eq!(rcpt_to("RCPT TO:<postMASTER>").0, ForwardPath::Postmaster);
    assert_eq!(canonical("rcpt to:<postmaster>"), "RCPT TO:<Postmaster>");
    assert_eq!(
        rcpt_to("RCPT TO:<postmaster@x.example>").0,
        ForwardPath::Mailbox(address("postmaster", "x.example"))
    );
    assert_eq!(
        err("RCPT TO:<>"),
        CommandError::BadRecipient("null forward-path")
    );
    assert_eq!(
        err("RCPT TO:<@a.example:Postmaster>"),
        CommandError::BadRecipient("missing @domain")
    );
}

#[test]
fn source_routes_are_dropped() {
    assert_eq!(
        sender("MAIL FROM:<@a.example,@b.example:user@c.example>"),
        address("user", "c.example")
    );
    assert_eq!(
        rcpt_to("RCPT TO:<@a.example:user@c.example>").0,
        ForwardPath::Mailbox(address("user", "c.example"))
    );
    assert_eq!(
        canonical("MAIL FROM:<@a.example:user@c.example>"),
        "MAIL FROM:<user@c.example>"
    );
    for line in [
        "MAIL FROM:<@:user@c.example>",
        "MAIL FROM:<@a.example,user@c.example>",
        "MAIL FROM:<@a.example,:user@c.example>",
        "MAIL FROM:<@a.example>",
        "MAIL FROM:<@[192.0.2.1]:user@c.example>",
    ] {
        assert!(matches!(err(line), CommandError::BadSender(_)), "{line:?}");
    }
}

#[test]
fn address_literals() {
    let host = |line| sender(line).domain;
    assert_eq!(
        host("MAIL FROM:<a@[192.0.2.1]>"),
        Host::Ipv4(Ipv4Addr::new(192, 0, 2, 1))
    );
    assert_eq!(
        host("MAIL FROM:<a@[IPv6:2001:db8::1]>"),
        Host::Ipv6("2001:db8::1".parse::<Ipv6Addr>().unwrap())
    );
    assert_eq!(
        host("MAIL FROM:<a@[ipv6:::FFFF:192.0.2.1]>"),
        Host::Ipv6("::ffff:192.0.2.1".parse::<Ipv6Addr>().unwrap())
    );
    assert_eq!(
        host("MAIL FROM:<a@[x-tag:some/content]>"),
        Host::General {
            tag: "x-tag",
            content: "some/content"
        }
    );
    assert_eq!(
        canonical("MAIL FROM:<a@[ipv6:2001:DB8:0:0::1]>"),
        "MAIL FROM:<a@[IPv6:2001:db8::1]>"
    );
    assert_eq!(canonical("EHLO [010.0.0.1]"), "EHLO [10.0.0.1]");
    for bad in [
        "[192.0.2]",
        "[192.0.2.256]",
        "[192.0.2.1.5]",
        "[1922.0.2.1]",
        "[IPv6:2001:db8::g]",
        "[IPv6:192.0.2.1]",
        "[tag-:x]",
        "[:x]",
        "[tag:]",
        "[192.0.2.1",
        "[a[b]",
        "[]",
    ] {
        let line = format!("MAIL FROM:<a@{bad}>");
        assert!(matches!(err(&line), CommandError::BadSender(_)), "{line:?}");
        let line = format!("RCPT TO:<a@{bad}>");
        assert!(
            matches!(err(&line), CommandError::BadRecipient(_)),
            "{line:?}"
        );
    }
}

#[test]
fn bad_addresses() {
    let too_long_local = format!("MAIL FROM:<{}@x.example>", "a".repeat(65));
    let longest_local = format!("MAIL FROM:<{}@x.example>", "a".repeat(64));
    let long_label = format!("MAIL FROM:<a@{}.example>", "b".repeat(64));
    let longest_label = format!("MAIL FROM:<a@{}.example>", "b".repeat(63));
    let long_domain = format!("MAIL FROM:<a@{}c>", "b.".repeat(128));
    let longest_domain = format!("MAIL FROM:<a@{}c>", "b.".repeat(127));
    ok(&longest_local);
    ok(&longest_label);
    ok(&longest_domain);
    for line in [
        "MAIL FROM:a@x.example",
        "MAIL FROM:a@x.example>",
        "MAIL FROM:<a@x.example",
        "MAIL FROM:<a>",
        "MAIL FROM:<@x.example>",
        "MAIL FROM:<a@>",
        "MAIL FROM:<a@@x.example>",
        "MAIL FROM:<.a@x.example>",
        "MAIL FROM:<a.@x.example>",
        "MAIL FROM:<a..b@x.example>",
        "MAIL FROM:<a b@x.example>",
        "MAIL FROM:< a@x.example>",
        "MAIL FROM:<a@x.example >",
        "MAIL FROM:<a(b)@x.example>",
        "MAIL FROM:<\"a@x.example>",
        "MAIL FROM:<a@-x.example>",
        "MAIL FROM:<a@x-.example>",
        "MAIL FROM:<a@x..example>",
        "MAIL FROM:<a@x.example.>",
        "MAIL FROM:<a@.x.example>",
        "MAIL FROM:<a@x_y.example>",
        &too_long_local,
        &long_label,
        &long_domain,
    ] {
        let e = err(line);
        assert!(matches!(e, CommandError::BadSender(_)), "{line:?}: {e:?}");
        let rcpt = line.replacen("MAIL FROM:", "RCPT TO:", 1);
        let e = err(&rcpt);
        assert!(
            matches!(e, CommandError::BadRecipient(_)),
            "{rcpt:?}: {e:?}"
        );
    }
    // Something other than a space after the path is a syntax error.
    assert_eq!(
        err("MAIL FROM:<a@x.example>SIZE=1"),
        CommandError::Syntax("expected a space after the path")
    );
}

#[test]
fn hello_arguments() {
    assert_eq!(
        ok("EHLO [192.0.2.1]"),
        Command::Ehlo {
            domain: Host::Ipv4(Ipv4Addr::new(192, 0, 2, 1))
        }
    );
    // Lenient: an address literal in HELO.
    assert_eq!(
        ok("HELO [IPv6:::1]"),
        Command::Helo {
            domain: Host::Ipv6(Ipv6Addr::LOCALHOST)
        }
    );
    assert_eq!(
        ok("EHLO localhost"),
        Command::Ehlo {
            domain: domain("localhost")
        }
    );
    assert_eq!(
        ok("EHLO xn--bcher-kva.example"),
        Command::Ehlo {
            domain: domain("xn--bcher-kva.example")
        }
    );
    for line in [
        "EHLO a b",
        "EHLO my_host",
        "EHLO -x",
        "EHLO x.",
        "EHLO [300.1.1.1]",
        "HELO <x.example>",
        "HELO a@b.example",
    ] {
        assert!(matches!(err(line), CommandError::Syntax(_)), "{line:?}");
    }
}

// ---- parameters ----

#[test]
fn mail_parameters() {
    let (from, params) = mail_from(
        "MAIL FROM:<a@x.example> size=12345 body=8bitmime smtputf8 ret=hdrs envid=QQ+2Bid \
         auth=<>",
    );
    assert_eq!(from, ReversePath::Mailbox(address("a", "x.example")));
    assert_eq!(
        params,
        MailParams {
            size: Some(12345),
            body: Some(BodyType::EightBitMime),
            smtputf8: true,
            ret: Some(Ret::Headers),
            envid: Some("QQ+2Bid"),
            auth: Some("<>"),
        }
    );
    assert_eq!(
        canonical("MAIL FROM:<> AUTH=<a@x.example> ENVID=x RET=FULL SMTPUTF8 BODY=7bit SIZE=0"),
        "MAIL FROM:<> SIZE=0 BODY=7BIT SMTPUTF8 RET=FULL ENVID=x AUTH=<a@x.example>"
    );
    assert_eq!(
        mail_from("MAIL FROM:<> BODY=BINARYMIME").1.body,
        Some(BodyType::BinaryMime)
    );
    assert_eq!(
        mail_from("MAIL FROM:<> SIZE=18446744073709551615").1.size,
        Some(u64::MAX)
    );
    assert_eq!(
        mail_from("MAIL FROM:<> AUTH=a+2Bb@x.example").1.auth,
        Some("a+2Bb@x.example")
    );
}

#[test]
fn rcpt_parameters() {
    let (_, params) =
        rcpt_to("RCPT TO:<a@x.example> notify=failure,success ORCPT=rfc822;a@x.example");
    assert_eq!(
        params,
        RcptParams {
            notify: Some(Notify {
                success: true,
                failure: true,
                ..Notify::default()
            }),
            orcpt: Some("rfc822;a@x.example"),
        }
    );
    assert_eq!(
        canonical("RCPT TO:<a@x.example> ORCPT=rfc822;x NOTIFY=delay,FAILURE,Success"),
        "RCPT TO:<a@x.example> NOTIFY=SUCCESS,FAILURE,DELAY ORCPT=rfc822;x"
    );
    let (_, params) = rcpt_to("RCPT TO:<Postmaster> NOTIFY=never");
    assert_eq!(
        params.notify,
        Some(Notify {
            never: true,
            ..Notify::default()
        })
    );
    assert_eq!(
        canonical("RCPT TO:<Postmaster> NOTIFY=never"),
        "RCPT TO:<Postmaster> NOTIFY=NEVER"
    );
    assert_eq!(
        rcpt_to("RCPT TO:<a@x.example> ORCPT=utf-8;j\u{f6}rg@x.example")
            .1
            .orcpt,
        Some("utf-8;j\u{f6}rg@x.example")
    );
}

#[test]
fn bad_parameters() {
    let unsupported = |line: &str| match err(line) {
        CommandError::UnsupportedParameter(what) => what,
        other => panic!("{line:?}: {other:?}"),
    };
    assert_eq!(unsupported("MAIL FROM:<> FOO=bar"), "FOO");
    assert_eq!(unsupported("MAIL FROM:<> x-unknown"), "x-unknown");
    assert_eq!(unsupported("RCPT TO:<a@x.example> SIZE=10"), "SIZE");
    assert_eq!(unsupported("MAIL FROM:<> NOTIFY=NEVER"), "NOTIFY");
    assert_eq!(
        unsupported("MAIL FROM:<> =x"),
        "parameter without a keyword"
    );
    let long = format!("MAIL FROM:<> {}", "K".repeat(100));
    assert_eq!(unsupported(&long), format!("{}...", "K".repeat(64)));
    for (line, what) in [
        ("MAIL FROM:<> SIZE", "SIZE: missing value"),
        ("MAIL FROM:<> SIZE=", "SIZE: missing value"),
        ("MAIL FROM:<> SIZE=12k", "SIZE: not a number"),
        ("MAIL FROM:<> SIZE=-1", "SIZE: not a number"),
        (
            "MAIL FROM:<> SIZE=18446744073709551616",
            "SIZE: value too large",
        ),
        (
            "MAIL FROM:<> SIZE=999999999999999999999999",
            "SIZE: value too large",
        ),
        (
            "MAIL FROM:<> BODY=8BIT",
            "BODY: expected 7BIT, 8BITMIME or BINARYMIME",
        ),
        ("MAIL FROM:<> SMTPUTF8=yes", "SMTPUTF8: takes no value"),
        ("MAIL FROM:<> RET=ALL", "RET: expected FULL or HDRS"),
        ("MAIL FROM:<> ENVID=a+2", "ENVID: not xtext"),
        ("MAIL FROM:<> ENVID=a+zz", "ENVID: not xtext"),
        ("MAIL FROM:<> ENVID=\u{e9}", "ENVID: not xtext"),
        ("MAIL FROM:<> AUTH=a=b", "AUTH: not xtext"),
        (
            "RCPT TO:<a@x.example> NOTIFY=SUCCESS,NEVER",
            "NOTIFY: NEVER combined with other values",
        ),
        (
            "RCPT TO:<a@x.example> NOTIFY=SUCCESS,",
            "NOTIFY: expected NEVER or SUCCESS, FAILURE, DELAY",
        ),
        (
            "RCPT TO:<a@x.example> NOTIFY=ALWAYS",
            "NOTIFY: expected NEVER or SUCCESS, FAILURE, DELAY",
        ),
        ("RCPT TO:<a@x.example> NOTIFY", "NOTIFY: missing value"),
        (
            "RCPT TO:<a@x.example> ORCPT=rfc822",
            "ORCPT: expected addr-type;xtext",
        ),
        (
            "RCPT TO:<a@x.example> ORCPT=;a@x",
            "ORCPT: expected addr-type;xtext",
        ),
        (
            "RCPT TO:<a@x.example> ORCPT=rfc822;",
            "ORCPT: expected addr-type;xtext",
        ),
    ] {
        assert_eq!(unsupported(line), what, "{line:?}");
    }
    let envid = format!("MAIL FROM:<> ENVID={}", "e".repeat(100));
    ok(&envid);
    let envid = format!("MAIL FROM:<> ENVID={}", "e".repeat(101));
    assert_eq!(unsupported(&envid), "ENVID: longer than 100 characters");
}

#[test]
fn duplicate_parameters() {
    for line in [
        "MAIL FROM:<> SIZE=1 SIZE=1",
        "MAIL FROM:<> SMTPUTF8 smtputf8",
        "MAIL FROM:<> BODY=7BIT BODY=8BITMIME",
        "MAIL FROM:<> RET=FULL RET=FULL",
        "MAIL FROM:<> ENVID=a ENVID=b",
        "MAIL FROM:<> AUTH=<> AUTH=<>",
        "RCPT TO:<a@x.example> NOTIFY=NEVER NOTIFY=NEVER",
        "RCPT TO:<a@x.example> ORCPT=rfc822;a ORCPT=rfc822;b",
    ] {
        assert_eq!(
            err(line),
            CommandError::Syntax("duplicate parameter"),
            "{line:?}"
        );
    }
}

// ---- BDAT and AUTH ----

#[test]
fn bdat_arguments() {
    assert_eq!(
        ok("BDAT 18446744073709551615 LAST"),
        Command::Bdat {
            size: u64::MAX,
            last: true
        }
    );
    assert_eq!(
        ok("BDAT 007"),
        Command::Bdat {
            size: 7,
            last: false
        }
    );
    for line in [
        "BDAT x",
        "BDAT -1",
        "BDAT +1",
        "BDAT 1 FIRST",
        "BDAT 1 LAST more",
        "BDAT LAST",
        "BDAT 18446744073709551616",
    ] {
        assert!(matches!(err(line), CommandError::Syntax(_)), "{line:?}");
    }
}

#[test]
fn auth_arguments() {
    assert_eq!(
        ok("AUTH SCRAM-SHA-256 biwsbj11c2VyLHI9"),
        Command::Auth {
            mechanism: AuthMechanism::Other("SCRAM-SHA-256"),
            initial_response: Some("biwsbj11c2VyLHI9"),
        }
    );
    ok("AUTH X_OAUTH2-12345678901");
    for line in [
        "AUTH PL@IN",
        "AUTH ABCDEFGHIJKLMNOPQRSTU",
        "AUTH PLAIN not*base64",
        "AUTH PLAIN abc===",
        "AUTH PLAIN a=b",
        "AUTH PLAIN ==",
        "AUTH PLAIN abc def",
    ] {
        assert!(matches!(err(line), CommandError::Syntax(_)), "{line:?}");
    }
}

// ---- Address::parse ----

#[test]
fn address_parse() {
    assert_eq!(Address::parse("a@x.example"), Ok(address("a", "x.example")));
    assert_eq!(
        Address::parse("\"a b\"@[192.0.2.1]"),
        Ok(Address {
            local_part: "\"a b\"",
            domain: Host::Ipv4(Ipv4Addr::new(192, 0, 2, 1))
        })
    );
    for bad in [
        "",
        "a",
        "a@",
        "@x.example",
        "<a@x.example>",
        "a@x.example ",
        "a@b@c",
        "a\n@x",
        "\"a\u{7f}\"@x",
        "\"a\\\u{e9}\"@x",
    ] {
        assert!(
            matches!(Address::parse(bad), Err(CommandError::Syntax(_))),
            "{bad:?}"
        );
    }
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
