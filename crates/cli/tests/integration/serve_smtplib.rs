//! `smtpsim serve` as a real process, driven by Python's smtplib: several recipients, a
//! greylisted recipient deferred then accepted, an unknown user, STARTTLS with the generated
//! certificate, AUTH, implicit TLS, the Maildir and the session log.

use crate::common;

use common::{Serve, log_records, maildir_new, python};

/// The message every test sends: CRLF lines, a dot-stuffed line and 8-bit bytes.
const MESSAGE: &str = "Subject: test\\r\\nFrom: a@example.com\\r\\n\\r\\nline one\\r\\n.leading dot\\r\\n\\xc3\\xa9t\\xc3\\xa9\\r\\n";

#[test]
fn several_recipients_land_in_the_maildir_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("Maildir");
    let log = dir.path().join("session.jsonl");
    let serve = Serve::start(
        &[
            "--maildir",
            maildir.to_str().unwrap(),
            "--log",
            log.to_str().unwrap(),
            "--unknown",
            "nobody@example.net",
        ],
        false,
    );
    let script = format!(
        r#"
import smtplib, sys, json
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30)
refused = s.sendmail("a@example.com", ["b@example.net", "c@example.net", "nobody@example.net", "d@example.org"], b"{MESSAGE}")
s.quit()
print(json.dumps({{k: [v[0], v[1].decode()] for k, v in refused.items()}}))
"#
    );
    let out = python(&script, &[&serve.port.to_string()]);
    let refused: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        refused,
        serde_json::json!({"nobody@example.net": [550, "5.1.1 The email account that you tried to reach does not exist"]})
    );
    let files = maildir_new(&maildir);
    assert_eq!(files.len(), 1, "one message for three accepted recipients");
    assert_eq!(
        files[0].1,
        b"Subject: test\r\nFrom: a@example.com\r\n\r\nline one\r\n.leading dot\r\n\xc3\xa9t\xc3\xa9\r\n"
    );
    assert_eq!(
        std::fs::read_dir(maildir.join("tmp")).unwrap().count(),
        0,
        "nothing left in tmp/"
    );
    let (code, rest) = serve.stop();
    assert_eq!(code, Some(0));
    assert!(rest.contains("1 messages accepted"), "{rest}");

    let records = log_records(&log);
    let event = |name: &'static str| records.iter().filter(move |r| r["event"] == name);
    let message: Vec<_> = event("message").collect();
    assert_eq!(message.len(), 1);
    assert_eq!(message[0]["file"], files[0].0.as_str());
    assert_eq!(
        message[0]["to"],
        serde_json::json!(["b@example.net", "c@example.net", "d@example.org"])
    );
    let unknown = event("decision")
        .find(|r| r["subject"] == "nobody@example.net")
        .expect("a decision about the unknown user");
    assert_eq!(unknown["verdict"], "refuse");
    assert_eq!(unknown["reason"], "unknown user");
    // The command, the decision about it, then the reply.
    let at = records
        .iter()
        .position(|r| r["event"] == "decision" && r["subject"] == "nobody@example.net")
        .unwrap();
    assert_eq!(records[at - 1]["event"], "command");
    assert!(
        records[at - 1]["text"]
            .as_str()
            .unwrap()
            .contains("nobody@example.net")
    );
    assert_eq!(records[at + 1]["event"], "reply");
    assert!(
        records[at + 1]["text"]
            .as_str()
            .unwrap()
            .starts_with("550 5.1.1")
    );
    assert!(event("command").any(|r| r["text"] == "data"));
    assert!(event("reply").any(|r| r["text"].as_str().unwrap().starts_with("354")));
    assert_eq!(event("connect").count(), 1);
    assert_eq!(event("close").count(), 1);
    assert!(
        records
            .iter()
            .all(|r| r["session"] == 1 && r["client"].as_str().unwrap().starts_with("127.0.0.1:"))
    );
}

#[test]
fn greylisted_recipient_is_deferred_then_accepted_after_the_delay() {
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("Maildir");
    let serve = Serve::start(
        &["--greylist", "1s", "--maildir", maildir.to_str().unwrap()],
        false,
    );
    let script = format!(
        r#"
import smtplib, sys, time, json
port = int(sys.argv[1])
start = time.monotonic()
attempts = []
for attempt in range(40):
    s = smtplib.SMTP("127.0.0.1", port, timeout=30)
    try:
        s.sendmail("app@example.com", ["user@example.net"], b"{MESSAGE}")
        attempts.append(["accepted", time.monotonic() - start])
        s.quit()
        break
    except smtplib.SMTPRecipientsRefused as e:
        code, text = e.recipients["user@example.net"]
        attempts.append([code, text.decode()])
        s.quit()
        time.sleep(0.25)
print(json.dumps(attempts))
"#
    );
    let out = python(&script, &[&serve.port.to_string()]);
    let attempts: Vec<serde_json::Value> = serde_json::from_str(out.trim()).unwrap();
    assert!(attempts.len() >= 2, "{attempts:?}");
    assert_eq!(attempts[0][0], 451);
    assert!(
        attempts[0][1]
            .as_str()
            .unwrap()
            .starts_with("4.7.1 Greylisted, please try again in 1 seconds"),
        "{attempts:?}"
    );
    for deferred in &attempts[..attempts.len() - 1] {
        assert_eq!(deferred[0], 451, "{attempts:?}");
    }
    let last = attempts.last().unwrap();
    assert_eq!(last[0], "accepted", "{attempts:?}");
    assert!(
        last[1].as_f64().unwrap() >= 1.0,
        "accepted before the greylisting delay: {attempts:?}"
    );
    assert_eq!(maildir_new(&maildir).len(), 1);
}

#[test]
fn starttls_with_the_generated_certificate_then_login() {
    let serve = Serve::start(&["--user", "alice:secret", "--user", "bob:hunter2"], false);
    let cert = serve.path("cert.pem");
    let script = r#"
import smtplib, ssl, sys, json
port, cafile = int(sys.argv[1]), sys.argv[2]
context = ssl.create_default_context(cafile=cafile)
s = smtplib.SMTP("localhost", port, timeout=30)
s.ehlo()
before = {"starttls": s.has_extn("starttls"), "auth": s.has_extn("auth")}
try:
    s.login("alice", "secret")
    before["login"] = "accepted"
except smtplib.SMTPException as e:
    before["login"] = str(e)
s.starttls(context=context)
s.ehlo()
after = {"starttls": s.has_extn("starttls"), "auth": s.ehlo_resp.decode().split("AUTH ")[1].split("\n")[0]}
try:
    s.login("alice", "wrong")
    after["bad_login"] = "accepted"
except smtplib.SMTPAuthenticationError as e:
    after["bad_login"] = e.smtp_code
code, _ = s.login("alice", "secret")
after["login"] = code
refused = s.sendmail("alice@example.com", ["x@example.net", "y@example.net"], b"Subject: tls\r\n\r\nsecret\r\n")
after["refused"] = len(refused)
after["cipher"] = s.sock.version()
s.quit()
s = smtplib.SMTP("localhost", port, timeout=30)
s.starttls(context=context)
s.ehlo()
s.esmtp_features["auth"] = "LOGIN"
code, _ = s.login("bob", "hunter2")
after["login_mechanism_login"] = code
s.quit()
print(json.dumps({"before": before, "after": after}))
"#;
    let out = python(script, &[&serve.port.to_string(), cert.to_str().unwrap()]);
    let got: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(got["before"]["starttls"], true);
    assert_eq!(got["before"]["auth"], false, "no AUTH before TLS");
    assert_ne!(got["before"]["login"], "accepted");
    assert_eq!(got["after"]["starttls"], false);
    assert_eq!(got["after"]["auth"], "PLAIN LOGIN");
    assert_eq!(got["after"]["bad_login"], 535);
    assert_eq!(got["after"]["login"], 235);
    assert_eq!(got["after"]["refused"], 0);
    assert!(
        got["after"]["cipher"]
            .as_str()
            .unwrap()
            .starts_with("TLSv1.")
    );
    assert_eq!(got["after"]["login_mechanism_login"], 235);
}

#[test]
fn implicit_tls_listener() {
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("Maildir");
    let serve = Serve::start(
        &[
            "--user",
            "alice:secret",
            "--maildir",
            maildir.to_str().unwrap(),
        ],
        true,
    );
    let script = r#"
import smtplib, ssl, sys
port, cafile = int(sys.argv[1]), sys.argv[2]
context = ssl.create_default_context(cafile=cafile)
s = smtplib.SMTP_SSL("127.0.0.1", port, context=context, timeout=30)
s.ehlo()
assert not s.has_extn("starttls"), s.ehlo_resp
s.login("alice", "secret")
assert s.sendmail("alice@example.com", ["x@example.net"], b"Subject: 465\r\n\r\nhi\r\n") == {}
s.quit()
print("ok")
"#;
    let out = python(
        script,
        &[
            &serve.tls_port.unwrap().to_string(),
            serve.path("cert.pem").to_str().unwrap(),
        ],
    );
    assert_eq!(out.trim(), "ok");
    assert_eq!(
        maildir_new(&maildir)[0].1,
        b"Subject: 465\r\n\r\nhi\r\n".to_vec()
    );
}

#[test]
fn a_scenario_domain_behaves_as_in_the_simulator() {
    use smtpsim_model::behaviour::{MxBehaviour, NoChecks};
    use smtpsim_model::scenario::Scenario;

    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scenarios/quickstart.toml"
    );
    let scenario = Scenario::load(std::path::Path::new(path)).unwrap();
    let domain = scenario.domain("smallco.example").unwrap();
    let behaviour = MxBehaviour::new(
        domain.behaviour.clone(),
        scenario.simulation.seed,
        smtpsim_des::RandomStreams::new(1).stream("unused", 0),
        NoChecks,
    );
    let recipients: Vec<String> = (0..40)
        .map(|i| format!("user{i}@smallco.example"))
        .collect();
    let unknown: Vec<&String> = recipients
        .iter()
        .filter(|r| !behaviour.user_exists(r))
        .collect();
    assert!(!unknown.is_empty() && unknown.len() < recipients.len());

    let serve = Serve::start(&["--scenario", path, "--domain", "smallco.example"], false);
    let script = r#"
import smtplib, sys, json
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30)
try:
    s.sendmail("app@shop.example", sys.argv[2:], b"Subject: s\r\n\r\nx\r\n")
    print("{}")
except smtplib.SMTPRecipientsRefused as e:
    print(json.dumps({k: [v[0], v[1].decode()] for k, v in e.recipients.items()}))
"#;
    let mut args = vec![serve.port.to_string()];
    args.extend(recipients.iter().cloned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = python(script, &args);
    let refused: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        refused.len(),
        recipients.len(),
        "greylisted or unknown, all"
    );
    for r in &recipients {
        let (code, text) = (&refused[r][0], refused[r][1].as_str().unwrap());
        if unknown.contains(&r) {
            assert_eq!(code, 550, "{r}");
            assert_eq!(
                text,
                "5.1.1 The email account that you tried to reach does not exist"
            );
        } else {
            assert_eq!(code, 451, "{r}");
            assert_eq!(text, "4.7.1 Greylisted, please try again in 300 seconds");
        }
    }
}

#[test]
fn a_message_answered_250_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("Maildir");
    // One worker thread: the delivery's sync moves off it and the server still answers.
    let serve = Serve::start(
        &["--maildir", maildir.to_str().unwrap(), "--threads", "1"],
        false,
    );
    let script = r#"
import smtplib, sys, os, signal
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30)
s.ehlo()
s.mail("a@example.com")
s.rcpt("b@example.net")
code, text = s.data(b"Subject: kept\r\n\r\nsafe\r\n")
# The moment the 250 is read, the server is killed without a chance to clean up.
os.kill(int(sys.argv[2]), signal.SIGKILL)
print(code, text.decode())
"#;
    let out = python(script, &[&serve.port.to_string(), &serve.pid().to_string()]);
    assert!(
        out.starts_with("250 2.0.0 Message accepted for delivery as "),
        "{out}"
    );
    let name = out.trim().rsplit(' ').next().unwrap().to_string();
    let files = maildir_new(&maildir);
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].0, name, "the reply names the file");
    assert_eq!(files[0].1, b"Subject: kept\r\n\r\nsafe\r\n");
}
