//! `smtpsim converse` run as a real process, its output checked against golden files.

use crate::support;

use support::{golden, smtpsim};

#[test]
fn default_conversation() {
    let (code, out, err) = smtpsim(&["converse"]);
    assert_eq!(code, 0, "{err}");
    golden("converse-default.txt", &out);
}

#[test]
fn starttls_auth_and_refused_recipients() {
    let (code, out, err) = smtpsim(&[
        "converse",
        "--auth",
        "alice:secret",
        "--unknown",
        "nobody@example.net",
        "--greylist",
        "new@example.net",
    ]);
    assert_eq!(code, 0, "the refusals are the ones asked for: {err}");
    golden("converse-auth-refusals.txt", &out);
    assert!(out.contains("nobody@example.net: rejected (bounce): 550 5.1.1"));
    assert!(out.contains("new@example.net: deferred (retry later): 451 4.7.1"));
}

#[test]
fn bad_arguments_are_explained() {
    let (code, _, err) = smtpsim(&["converse", "--auth", "no-colon"]);
    assert_eq!(code, 2);
    assert!(err.contains("--auth takes USER:PASSWORD"), "{err}");
    let (code, _, err) = smtpsim(&["converse", "--to", "not an address"]);
    assert_eq!(code, 2);
    assert!(err.contains("bad recipient address"), "{err}");
}

#[test]
fn the_exit_status_says_whether_the_server_answered_as_asked() {
    // Greylisting asked for, and given: as asked.
    let (code, out, err) = smtpsim(&["converse", "--greylist", "bob@example.net"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("bob@example.net: deferred (retry later): 451 4.7.1"));
    // A line over 1000 octets: refused, though acceptance was asked for.
    let content = format!("Subject: long\n\n{}\n", "x".repeat(1200));
    let (code, out, err) = smtpsim(&["converse", "--content", &content]);
    assert_eq!(code, 1, "{err}");
    assert!(
        out.contains("bob@example.net: rejected (bounce): 500 5.5.6"),
        "{out}"
    );
    // Listed both ways: the unknown user's refusal is what is asked.
    let (code, out, _) = smtpsim(&[
        "converse",
        "--unknown",
        "bob@example.net",
        "--greylist",
        "bob@example.net",
    ]);
    assert_eq!(code, 0, "{out}");
    let (code, help, _) = smtpsim(&["converse", "--help"]);
    assert_eq!(code, 0);
    assert!(help.contains("Exit status:\n  0  the server answered every recipient as asked"));
    assert!(help.contains("\n  1  the server answered some recipient otherwise than asked"));
    assert!(help.contains("\n  2  bad usage"));
}

#[test]
fn signed_messages_are_verified_for_real_and_say_which_hash_broke() {
    let signed = ["converse", "--sign", "--from", "news@club.example"];
    let (code, out, err) = smtpsim(&signed);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("DKIM pass (d=club.example s=s1): DKIM signature (rsa-sha256) verified"),
        "{out}"
    );
    assert!(
        out.contains("DKIM pass (d=club.example s=s1-ed25519)"),
        "{out}"
    );

    let mut body = signed.to_vec();
    body.extend(["--alter-body", "Sent through a list"]);
    let (code, out, err) = smtpsim(&body);
    assert_eq!(
        code, 0,
        "a broken signature is a finding, not a failure: {err}"
    );
    assert!(
        out.contains("DKIM fail (d=club.example s=s1): DKIM fails because the body changed after signing: bh= says "),
        "{out}"
    );

    let mut header = signed.to_vec();
    header.extend(["--alter-header", "Subject: Changed"]);
    let (code, out, _) = smtpsim(&header);
    assert_eq!(code, 0);
    assert!(
        out.contains("DKIM fails because a signed header changed after signing: the body hash matches, but b= does not verify; the signed headers hashed to "),
        "{out}"
    );

    let (code, out, _) = smtpsim(&["converse"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("DKIM none: the message carries no DKIM-Signature"),
        "{out}"
    );
    let (code, _, err) = smtpsim(&["converse", "--alter-body", "x"]);
    assert_eq!(code, 2, "--alter-body needs --sign");
    assert!(err.contains("--sign"), "{err}");
}
