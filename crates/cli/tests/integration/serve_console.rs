//! What `smtpsim serve` prints: a start-up line that says what it will do, the magic
//! addresses with `--magic`, and one line per session unless `--quiet`; magic addresses
//! driven by Python's smtplib.

use crate::common;

use common::{Serve, maildir_new, python};

/// Sends one message to a magic and an ordinary recipient, then one whose content is refused.
const SCRIPT: &str = r#"
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30)
s.ehlo("client.test")
refused = s.sendmail("a@example.com", ["b@example.net", "rcpt-550-5.1.1@x.example"], b"Subject: t\r\n\r\nhi\r\n")
assert list(refused) == ["rcpt-550-5.1.1@x.example"], refused
try:
    s.sendmail("a@example.com", ["data-452-4.2.2@x.example"], b"Subject: t\r\n\r\nhi\r\n")
    raise SystemExit("the content was accepted")
except smtplib.SMTPDataError as e:
    assert e.smtp_code == 452, e
try:
    s.sendmail("mail-421@example.com", ["b@example.net"], b"x\r\n")
    raise SystemExit("MAIL was accepted")
except smtplib.SMTPSenderRefused as e:
    assert e.smtp_code == 421, e
"#;

#[test]
fn one_line_per_session_with_messages_and_refusals() {
    let serve = Serve::start(&["--magic", "--no-tls"], false);
    python(SCRIPT, &[&serve.port.to_string()]);
    let (code, out) = serve.stop();
    assert_eq!(code, Some(0));
    assert!(out.contains("magic addresses (local part"), "{out}");
    assert!(out.contains("drop-data "), "{out}");
    let sessions: Vec<&str> = out.lines().filter(|l| l.starts_with("session ")).collect();
    assert_eq!(sessions.len(), 1, "{out}");
    let line = sessions[0];
    for part in [
        "ehlo=client.test tls=no auth=-",
        " | refused rcpt rcpt-550-5.1.1@x.example: 550 5.1.1 (magic address) | ",
        " | message <a@example.com> -> b@example.net: 250 | ",
        " | message <a@example.com> -> data-452-4.2.2@x.example: 452 4.2.2 (magic address) | ",
        " | refused mail <mail-421@example.com>: 421 (magic address) | closed by the server",
    ] {
        assert!(line.contains(part), "{part:?} not in {line}");
    }
}

#[test]
fn quiet_prints_no_session_lines_and_the_start_up_line_says_what_it_does() {
    let serve = Serve::start(&["--quiet", "--no-tls"], false);
    python(
        SCRIPT
            .split("try:")
            .next()
            .unwrap()
            .replace(
                "assert list(refused) == [\"rcpt-550-5.1.1@x.example\"], refused",
                "assert not refused, refused",
            )
            .as_str(),
        &[&serve.port.to_string()],
    );
    let (code, out) = serve.stop();
    assert_eq!(code, Some(0));
    assert!(!out.contains("session "), "{out}");
    assert!(out.contains("1 messages accepted"), "{out}");

    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("M");
    let start = std::process::Command::new(env!("CARGO_BIN_EXE_smtpsim"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--no-tls",
            "--greylist",
            "30s",
            "--maildir",
        ])
        .arg(&maildir)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = start;
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
        &mut first,
    )
    .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        first.starts_with(&format!(
            "smtpsim serve: Maildir {}, no TLS, greylisting 30s; listening on 127.0.0.1:",
            maildir.display()
        )),
        "{first}"
    );
    assert!(maildir_new(&maildir).is_empty());
}
