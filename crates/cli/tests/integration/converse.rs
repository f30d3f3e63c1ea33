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
    assert_eq!(code, 1, "not every recipient was accepted: {err}");
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
