//! ESMTP parameters, BDAT and AUTH arguments.

use super::*;

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
