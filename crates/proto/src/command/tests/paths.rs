//! Paths, addresses, domains and address literals.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::*;

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
