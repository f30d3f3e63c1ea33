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
        // Accepts that only repeat their 250 are left out.
        assert!(!session.contains(" accept: accepted"), "{session}");
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

/// `GET path` on the HTTP API: the status and the body.
fn get(port: u16, path: &str) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-s", "-w", "\n%{http_code}"])
        .arg(format!("http://127.0.0.1:{port}{path}"))
        .output()
        .expect("curl runs (CI installs it)");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').expect("curl prints the status");
    (code.trim().parse().unwrap(), body.to_string())
}

#[test]
fn the_http_page_explains_each_session_as_the_printer_does() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("explain.toml");
    std::fs::write(&scenario, SCENARIO).unwrap();
    let keys = SigningKeys::derive(5, "shop.example", "s1");
    let signed = dir.path().join("signed.eml");
    std::fs::write(&signed, sign(MESSAGE.as_bytes(), &keys)).unwrap();
    let unsigned = dir.path().join("unsigned.eml");
    std::fs::write(&unsigned, MESSAGE).unwrap();
    let serve = Serve::start(
        &[
            "--no-tls",
            "--http",
            "0",
            "--explain",
            "--scenario",
            scenario.to_str().unwrap(),
            "--domain",
            "mail.example",
        ],
        false,
    );
    let http = serve.http_port();
    swaks(serve.port, &signed);
    smtplib(serve.port, &unsigned);

    let (code, list) = get(http, "/api/messages");
    assert_eq!(code, 200, "{list}");
    let list: serde_json::Value = serde_json::from_str(&list).unwrap();
    let sessions: Vec<u64> = list["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["session"].as_u64().unwrap())
        .collect();
    assert_eq!(sessions.len(), 2, "{list}");
    let mut explained = Vec::new();
    for session in &sessions {
        let (code, body) = get(http, &format!("/api/sessions/{session}/explain"));
        assert_eq!(code, 200, "{body}");
        explained.push(serde_json::from_str::<serde_json::Value>(&body).unwrap());
    }
    let checks = |e: &serde_json::Value| e["messages"][0]["checks"].clone();
    let signed = checks(&explained[0]);
    assert_eq!(
        (
            signed["spf"].as_str(),
            signed["dkim"].as_str(),
            signed["dmarc"].as_str()
        ),
        (Some("pass"), Some("pass"), Some("pass")),
        "{signed}"
    );
    assert_eq!(signed["signatures"].as_array().unwrap().len(), 2);
    assert_eq!(signed["placement"], "inbox");
    let unsigned = checks(&explained[1]);
    assert_eq!(unsigned["dkim"], "none", "{unsigned}");
    assert_eq!(unsigned["spf"], "pass", "{unsigned}");

    let (code, body) = get(http, "/api/sessions/x/explain");
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("\"field\":\"id\""), "{body}");
    assert_eq!(get(http, "/api/sessions/999/explain").0, 404);

    // The page shows the verdicts and the annotated transcript.
    let profile = serve.path("chromium-profile");
    let url = format!("http://127.0.0.1:{http}/#session-{}", sessions[0]);
    let (dom, console) = crate::serve_page::dump_dom(&url, &profile);
    assert!(console.is_empty(), "{console:?}");
    let table = &dom[dom.find("id=\"messages\"").unwrap()..];
    assert!(table.contains("DKIM none"), "{dom}");
    assert!(table.contains("DKIM pass"), "{dom}");
    let checks = &dom[dom.find("id=\"checks\"").unwrap()..];
    assert!(
        checks.contains("DKIM pass (d=shop.example s=s1): DKIM signature (rsa-sha256) verified"),
        "{dom}"
    );

    let (code, out) = serve.stop();
    assert_eq!(code, Some(0), "{out}");
    // The printer's transcript and the page's are the same lines.
    let printed: Vec<&str> = out.split("session ").skip(1).collect();
    for (text, page) in printed.iter().zip(&explained) {
        let lines: Vec<&str> = page["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap())
            .collect();
        let body: Vec<&str> = text
            .lines()
            .skip(1)
            .take_while(|l| !l.starts_with("  closed: "))
            .collect();
        assert_eq!(body, lines, "{text}");
    }
}
