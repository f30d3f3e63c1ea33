//! A message signed for real in the session (`message sign`), changed after signing or not,
//! and sent: the server verifies it for real and says which hash broke, in the journeys'
//! words.

use crate::common;

use common::{Session, has, of_kind};
use smtpsim_repl::{Config, Kind, Line};

/// The transactional story: shop.example signs with s1, publishes SPF for the relay and
/// DMARC p=reject; mail.example checks.
fn shop() -> Session {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scenarios/stories/transactional.toml"
    );
    let scenario = smtpsim_model::scenario::Scenario::load(std::path::Path::new(path))
        .expect("the story loads");
    Session::new(Config {
        scenario: Some(scenario),
        ..Config::default()
    })
}

/// Opens a transaction, prepares the message with `steps` (terminal commands), and sends it;
/// returns what `message send` printed.
fn send(steps: &[&str]) -> Vec<Line> {
    let mut s = shop();
    s.say("connect mail.example");
    s.server("EHLO relay.shop.example");
    assert!(
        s.reply("MAIL FROM:<orders@shop.example>")
            .starts_with("250 ")
    );
    assert!(s.reply("RCPT TO:<bob@mail.example>").starts_with("250 "));
    for step in steps {
        let lines = s.say(step);
        assert!(
            !lines.iter().any(|l| l.kind == Kind::Error),
            "{step}: {lines:?}"
        );
    }
    s.say("message send")
}

fn info(lines: &[Line]) -> String {
    of_kind(lines, Kind::Info).join("\n")
}

#[test]
fn a_signed_message_passes_with_both_algorithms() {
    let lines = send(&["message sign"]);
    let text = info(&lines);
    assert!(has(&lines, Kind::Server, "250 "), "{lines:?}");
    assert!(
        text.contains("DKIM pass (d=shop.example s=s1): DKIM signature (rsa-sha256) verified"),
        "{text}"
    );
    assert!(
        text.contains("DKIM pass (d=shop.example s=s1-ed25519): DKIM signature (ed25519-sha256)"),
        "{text}"
    );
    assert!(text.contains("SPF pass for shop.example"), "{text}");
    assert!(text.contains("DMARC pass"), "{text}");
    // What was typed is the signed message, line by line.
    assert!(has(
        &lines,
        Kind::Client,
        "C: DKIM-Signature: v=1; a=rsa-sha256"
    ));
    assert!(has(&lines, Kind::Client, "C: ."));
}

#[test]
fn a_body_changed_after_signing_breaks_the_body_hash() {
    let lines = send(&["message sign", "message body Sent through a mailing list"]);
    let text = info(&lines);
    for selector in ["s1", "s1-ed25519"] {
        assert!(
            text.contains(&format!(
                "DKIM fail (d=shop.example s={selector}): DKIM fails because the body changed \
                 after signing: bh= says "
            )),
            "{text}"
        );
    }
    let sentence = text
        .lines()
        .find(|l| l.contains("bh= says"))
        .expect("the body-hash sentence");
    let (signed, now) = sentence
        .split_once("bh= says ")
        .and_then(|(_, rest)| rest.split_once(", the body now hashes to "))
        .expect("both hashes shown");
    assert_ne!(signed.trim(), now.trim());
    // SPF still passes and aligns: DMARC passes, the message is taken.
    assert!(text.contains("DMARC pass"), "{text}");
    assert!(has(&lines, Kind::Server, "250 "));
}

#[test]
fn a_signed_header_changed_after_signing_breaks_b() {
    let lines = send(&["message sign", "message header Subject: You won a prize"]);
    let text = info(&lines);
    assert!(
        text.contains(
            "DKIM fail (d=shop.example s=s1): DKIM fails because a signed header changed after \
             signing: the body hash matches, but b= does not verify; the signed headers hashed to "
        ),
        "{text}"
    );
    let sentence = text
        .lines()
        .find(|l| l.contains("s=s1-ed25519") && l.contains("b= does not verify"))
        .expect("the Ed25519 signature breaks too");
    let (then, now) = sentence
        .split_once("hashed to ")
        .and_then(|(_, rest)| rest.split_once(", they now hash to "))
        .expect("both hashes shown");
    assert_ne!(then.trim(), now.trim());
    // A header no signature covers changes nothing.
    let lines = send(&["message sign", "message header X-Mailing-List: yes"]);
    assert!(info(&lines).contains("DKIM pass (d=shop.example s=s1)"));
}

#[test]
fn an_unsigned_message_has_no_dkim_result() {
    let lines = send(&["message"]);
    let text = info(&lines);
    assert!(
        text.contains("DKIM none: the message carries no DKIM-Signature"),
        "{text}"
    );
    assert!(text.contains("SPF pass"), "{text}");
}

#[test]
fn typed_content_is_verified_too_and_signing_needs_a_scenario() {
    let mut s = shop();
    s.say("connect mail.example");
    s.server("EHLO relay.shop.example");
    s.reply("MAIL FROM:<orders@shop.example>");
    s.reply("RCPT TO:<bob@mail.example>");
    s.say("DATA");
    for line in ["From: <orders@shop.example>", "Subject: typed", "", "hello"] {
        s.say(line);
    }
    let lines = s.say(".");
    assert!(has(&lines, Kind::Info, "DKIM none"), "{lines:?}");

    let mut plain = common::plain();
    let lines = plain.say("message sign");
    assert!(has(&lines, Kind::Error, "--scenario"), "{lines:?}");
    let lines = plain.say("message frobnicate");
    assert!(has(&lines, Kind::Error, "message send"), "{lines:?}");
}

/// The message is addressed to the recipient accepted in the open transaction, whatever its
/// local part; before any RCPT it goes to the connected domain's bob.
#[test]
fn the_message_is_addressed_to_the_accepted_recipient() {
    let mut s = shop();
    s.say("connect mail.example");
    s.server("EHLO relay.shop.example");
    let before: Vec<String> = s.say("message").into_iter().map(|l| l.text).collect();
    assert!(
        before.iter().any(|l| l.contains("To: <bob@mail.example>")),
        "{before:?}"
    );
    s.say("message new");
    s.reply("MAIL FROM:<orders@shop.example>");
    assert!(
        s.reply("RCPT TO:<Carol.Smith@mail.example>")
            .starts_with("250 ")
    );
    assert!(s.reply("RCPT TO:<dave@mail.example>").starts_with("250 "));
    let lines: Vec<String> = s.say("message new").into_iter().map(|l| l.text).collect();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("To: <Carol.Smith@mail.example>")),
        "{lines:?}"
    );
    let sent = s.say("message send");
    assert!(has(&sent, Kind::Server, "250 "), "{sent:?}");
}
