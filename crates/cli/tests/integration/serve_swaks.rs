//! `smtpsim serve` driven by swaks: STARTTLS with AUTH PLAIN and LOGIN, pipelining, a
//! greylisted recipient, and the session log's account of it.

use crate::common;

use std::process::Command;

use common::{Serve, check, log_records, maildir_new};

fn swaks(port: u16, args: &[&str]) -> std::process::Output {
    Command::new("swaks")
        .args(["--server", "127.0.0.1", "--port", &port.to_string()])
        .args(["--from", "app@example.com", "--timeout", "60"])
        .args(args)
        .output()
        .expect("swaks runs (CI installs it)")
}

#[test]
fn starttls_auth_plain_and_login_and_pipelining() {
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("Maildir");
    let serve = Serve::start(
        &[
            "--user",
            "alice:secret",
            "--maildir",
            maildir.to_str().unwrap(),
        ],
        false,
    );
    for mechanism in ["PLAIN", "LOGIN"] {
        let out = swaks(
            serve.port,
            &[
                "--to",
                "b@example.net,c@example.net",
                "--tls",
                "--auth",
                mechanism,
                "--auth-user",
                "alice",
                "--auth-password",
                "secret",
                "--header",
                &format!("Subject: swaks {mechanism}"),
            ],
        );
        let text = check(out, "swaks");
        assert!(
            text.contains("<~  235 2.7.0 Authentication successful"),
            "{text}"
        );
        assert!(
            text.contains("<~  250 2.0.0 Message accepted for delivery as "),
            "{text}"
        );
    }
    let out = swaks(serve.port, &["--to", "d@example.net", "--pipeline"]);
    let text = check(out, "swaks --pipeline");
    assert!(text.contains("250 2.0.0 Message accepted"), "{text}");
    let files = maildir_new(&maildir);
    assert_eq!(files.len(), 3);
    let subjects: Vec<bool> = ["swaks PLAIN", "swaks LOGIN"]
        .iter()
        .map(|s| {
            files
                .iter()
                .any(|(_, c)| String::from_utf8_lossy(c).contains(s))
        })
        .collect();
    assert_eq!(subjects, [true, true]);
}

#[test]
fn auth_is_not_offered_before_tls() {
    let serve = Serve::start(&["--user", "alice:secret"], false);
    let out = swaks(
        serve.port,
        &[
            "--to",
            "b@example.net",
            "--auth",
            "PLAIN",
            "--auth-user",
            "alice",
            "--auth-password",
            "secret",
        ],
    );
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("AUTH PLAIN LOGIN"), "{text}");
}

#[test]
fn greylisted_then_accepted_with_the_log_saying_why() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.jsonl");
    let serve = Serve::start(
        &[
            "--greylist",
            "1s",
            "--log",
            log.to_str().unwrap(),
            "--no-tls",
        ],
        false,
    );
    let out = swaks(serve.port, &["--to", "user@example.net"]);
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains("<** 451 4.7.1 Greylisted, please try again in 1 seconds"),
        "{text}"
    );
    let mut accepted = false;
    for _ in 0..40 {
        std::thread::sleep(std::time::Duration::from_millis(250));
        let out = swaks(serve.port, &["--to", "user@example.net"]);
        if out.status.success() {
            accepted = true;
            break;
        }
    }
    assert!(accepted, "accepted once the delay has passed");
    let (code, _) = serve.stop();
    assert_eq!(code, Some(0));
    let records = log_records(&log);
    let decisions: Vec<_> = records
        .iter()
        .filter(|r| r["event"] == "decision" && r["stage"] == "rcpt")
        .collect();
    assert_eq!(decisions[0]["verdict"], "refuse");
    assert_eq!(decisions[0]["reason"], "greylisted");
    assert_eq!(decisions[0]["subject"], "user@example.net");
    assert_eq!(decisions.last().unwrap()["verdict"], "accept");
    assert_eq!(
        records.iter().filter(|r| r["event"] == "message").count(),
        1
    );
}
