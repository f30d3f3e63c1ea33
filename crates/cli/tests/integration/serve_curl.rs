//! `smtpsim serve` driven by curl: plain `smtp://`, STARTTLS required with `--ssl-reqd` and
//! AUTH, implicit TLS with `smtps://`, and a refused recipient.

use crate::common;

use std::process::Command;

use common::{Serve, check, maildir_new};

const MESSAGE: &[u8] = b"From: a@example.com\r\nTo: b@example.net\r\nSubject: curl\r\n\r\nHello from curl.\r\n.a line that starts with a dot\r\n";

fn curl(args: &[&str]) -> std::process::Output {
    Command::new("curl")
        .args(["--silent", "--show-error", "--max-time", "60"])
        .args(args)
        .output()
        .expect("curl runs (CI installs it)")
}

#[test]
fn plain_smtp_with_several_recipients() {
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("Maildir");
    let message = dir.path().join("message.eml");
    std::fs::write(&message, MESSAGE).unwrap();
    let serve = Serve::start(&["--maildir", maildir.to_str().unwrap()], false);
    let url = format!("smtp://127.0.0.1:{}", serve.port);
    let out = curl(&[
        &url,
        "--mail-from",
        "a@example.com",
        "--mail-rcpt",
        "b@example.net",
        "--mail-rcpt",
        "c@example.net",
        "--upload-file",
        message.to_str().unwrap(),
    ]);
    check(out, "curl");
    let files = maildir_new(&maildir);
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].1, MESSAGE);
}

#[test]
fn ssl_reqd_with_starttls_and_auth() {
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("Maildir");
    let message = dir.path().join("message.eml");
    std::fs::write(&message, MESSAGE).unwrap();
    let serve = Serve::start(
        &[
            "--maildir",
            maildir.to_str().unwrap(),
            "--user",
            "alice:secret",
            "--require-auth",
        ],
        true,
    );
    let cert = serve.path("cert.pem");
    let common = [
        "--mail-from",
        "alice@example.com",
        "--mail-rcpt",
        "b@example.net",
        "--upload-file",
        message.to_str().unwrap(),
        "--cacert",
        cert.to_str().unwrap(),
        "--user",
        "alice:secret",
    ];
    // STARTTLS on the main port, certificate checked against the generated one.
    let url = format!("smtp://localhost:{}", serve.port);
    let mut args = vec![url.as_str(), "--ssl-reqd"];
    args.extend(common);
    check(curl(&args), "curl --ssl-reqd");
    // TLS from the first byte on the second port.
    let url = format!("smtps://localhost:{}", serve.tls_port.unwrap());
    let mut args = vec![url.as_str()];
    args.extend(common);
    check(curl(&args), "curl smtps://");
    // A wrong password is refused (535).
    let url = format!("smtp://localhost:{}", serve.port);
    let mut args = vec![url.as_str(), "--ssl-reqd"];
    args.extend(&common[..8]);
    args.extend(["--user", "alice:wrong"]);
    let out = curl(&args);
    assert_eq!(out.status.code(), Some(67), "curl: login denied: {out:?}");
    // Without credentials MAIL is refused.
    let mut args = vec![url.as_str(), "--ssl-reqd"];
    args.extend(&common[..8]);
    let out = curl(&args);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("530"),
        "{out:?}"
    );

    let files = maildir_new(&maildir);
    assert_eq!(files.len(), 2);
    assert!(files.iter().all(|(_, content)| content == MESSAGE));
}

#[test]
fn a_refused_recipient_fails_curl() {
    let dir = tempfile::tempdir().unwrap();
    let message = dir.path().join("message.eml");
    std::fs::write(&message, MESSAGE).unwrap();
    let serve = Serve::start(&["--unknown", "nobody@example.net", "--no-tls"], false);
    let url = format!("smtp://127.0.0.1:{}", serve.port);
    let out = curl(&[
        &url,
        "--mail-from",
        "a@example.com",
        "--mail-rcpt",
        "nobody@example.net",
        "--upload-file",
        message.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("550"),
        "{out:?}"
    );
    let (code, rest) = serve.stop();
    assert_eq!(code, Some(0));
    assert!(rest.contains("0 messages accepted"), "{rest}");
}
