//! `smtpsim serve --explain`: swaks and Python's smtplib send mail signed for real with the
//! scenario's derived keys, unsigned, and altered after signing; the server prints each
//! session's transcript and the real SPF, DKIM and DMARC results with the journeys' words.

use crate::common;

use std::process::Command;

use common::{Serve, check};
use smtpsim_mail::keys::SigningKeys;
use smtpsim_mail::sign::sign;

const SCENARIO: &str = r#"
[simulation]
name = "explain"
duration = "1m"
messages = 1
seed = 5

[[senders]]
name = "shop"
domain = "shop.example"
local_part = "orders"
arrivals = { process = "constant", rate = "1/s" }
to = [{ domain = "mail.example" }]
dkim = { sign = true, selector = "s1" }

[relay]
retry = { policy = "fixed", schedule = ["5m"] }

[[domains]]
name = "shop.example"
spf = "v=spf1 ip4:127.0.0.0/8 -all"
dmarc = "v=DMARC1; p=reject"
dkim_keys = { s1 = true }

[[domains]]
name = "mail.example"
mx = [{ host = "mx1.mail.example" }]
"#;

const MESSAGE: &str = "From: <orders@shop.example>\r\nTo: <ann@mail.example>\r\n\
Subject: Your order 1042\r\nMessage-ID: <1042@shop.example>\r\n\r\nThank you for your order.\r\n";

fn smtplib(port: u16, path: &std::path::Path) {
    let script = format!(
        "import smtplib\n\
         s = smtplib.SMTP('127.0.0.1', {port}, timeout=60)\n\
         s.sendmail('orders@shop.example', ['ann@mail.example'], open({:?}, 'rb').read())\n\
         s.quit()\n",
        path.display().to_string()
    );
    check(
        Command::new("python3")
            .args(["-c", &script])
            .output()
            .unwrap(),
        "smtplib",
    );
}

fn swaks(port: u16, path: &std::path::Path) {
    let out = Command::new("swaks")
        .args(["--server", "127.0.0.1", "--port", &port.to_string()])
        .args(["--from", "orders@shop.example", "--to", "ann@mail.example"])
        .args(["--timeout", "60", "--data"])
        .arg(path)
        .output()
        .expect("swaks runs (CI installs it)");
    let text = check(out, "swaks");
    assert!(text.contains("250 2.0.0 Message accepted"), "{text}");
}

#[test]
fn signed_unsigned_and_altered_mail_is_checked_for_real() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("explain.toml");
    std::fs::write(&scenario, SCENARIO).unwrap();
    let keys = SigningKeys::derive(5, "shop.example", "s1");
    let signed = sign(MESSAGE.as_bytes(), &keys);
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let signed_file = write("signed.eml", &signed);
    let unsigned_file = write("unsigned.eml", MESSAGE.as_bytes());
    let body_changed = String::from_utf8(signed.clone())
        .unwrap()
        .replace("Thank you", "Thanks");
    let body_file = write("body.eml", body_changed.as_bytes());
    let header_changed = String::from_utf8(signed)
        .unwrap()
        .replace("Your order 1042", "Your order 1043");
    let header_file = write("header.eml", header_changed.as_bytes());

    let serve = Serve::start(
        &[
            "--no-tls",
            "--explain",
            "--scenario",
            scenario.to_str().unwrap(),
            "--domain",
            "mail.example",
        ],
        false,
    );
    swaks(serve.port, &signed_file);
    smtplib(serve.port, &unsigned_file);
    smtplib(serve.port, &body_file);
    swaks(serve.port, &header_file);
    let (code, out) = serve.stop();
    assert_eq!(code, Some(0), "{out}");

    let sessions: Vec<&str> = out.split("session ").skip(1).collect();
    assert_eq!(sessions.len(), 4, "{out}");
    for session in &sessions {
        let lower = session.to_ascii_lowercase();
        assert!(
            lower.contains("  c: mail from:<orders@shop.example>"),
            "{session}"
        );
        assert!(session.contains("  S: 354 "), "{session}");
        assert!(session.contains("SPF pass for shop.example"), "{session}");
        assert!(session.contains("  closed: "), "{session}");
    }
    let signed = sessions[0];
    assert!(
        signed.contains("DKIM pass (d=shop.example s=s1)"),
        "{signed}"
    );
    assert!(
        signed.contains("DKIM pass (d=shop.example s=s1-ed25519)"),
        "{signed}"
    );
    assert!(signed.contains("DMARC pass"), "{signed}");
    assert!(
        signed.contains("Verdict (inbox): sender IP allowed by domain policy; DKIM signature"),
        "{signed}"
    );
    let unsigned = sessions[1];
    assert!(
        unsigned.contains("DKIM none: the message carries no DKIM-Signature"),
        "{unsigned}"
    );
    assert!(unsigned.contains("DMARC pass"), "{unsigned}");
    let body = sessions[2];
    assert!(
        body.contains("DKIM fail (d=shop.example s=s1): DKIM fails because the body changed after signing: bh= says "),
        "{body}"
    );
    let header = sessions[3];
    assert!(
        header.contains("DKIM fail (d=shop.example s=s1): DKIM fails because b= does not verify"),
        "{header}"
    );
    // SPF still passes for the body and header changes, so DMARC does too.
    assert!(
        body.contains("DMARC pass") && header.contains("DMARC pass"),
        "{out}"
    );
}
