//! Reply rules through a real socket: the first rule that applies answers and the session log
//! names it. (Rules replaced while the server runs: see the HTTP API's tests.)

use crate::common;

use common::{Raw, config, start};
use smtpsim_server::RuleSet;

/// Two rules: a one-time greylisting of bob, a refusal of spam by its subject.
pub const RULES: &str = r#"
[[rule]]
name = "greylist-bob-once"
stage = "rcpt"
on = "address"
pattern = "^bob@"
count = 1
code = 451
enhanced = "4.7.1"
text = "Try again later"

[[rule]]
name = "no-spam"
stage = "message"
on = "header"
header = "Subject"
pattern = "(?i)spam"
code = 554
enhanced = "5.7.1"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_match_wins_and_the_log_names_the_rule() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("log.jsonl");
    let mut cfg = config();
    cfg.rules = std::sync::Arc::new(RuleSet::parse(RULES, "rules.toml").unwrap());
    cfg.log = Some(log_path.clone());
    let server = start(cfg).await;
    let mut c = Raw::connect(server.addr).await;
    c.send(b"EHLO c\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<bob@y.example>\r\n")
        .await;
    c.until("250 ").await;
    c.until("250 ").await;
    assert!(c.until("451 ").await.contains("451 4.7.1 Try again later"));
    // count = 1: the second time Bob passes.
    c.send(b"RCPT TO:<bob@y.example>\r\nDATA\r\n").await;
    c.until("250 ").await;
    c.until("354 ").await;
    c.send(b"Subject: Cheap SPAM\r\n\r\nbody\r\n.\r\n").await;
    assert!(
        c.until("554 ")
            .await
            .contains("554 5.7.1 Refused by the rule no-spam")
    );
    c.send(b"QUIT\r\n").await;
    c.rest().await;
    server.stop().await;
    let text = std::fs::read_to_string(&log_path).unwrap();
    let rules: Vec<String> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|r| r["event"] == "decision" && r["reason"] == "rule")
        .map(|r| format!("{} {}", r["stage"], r["rule"]))
        .collect();
    assert_eq!(
        rules,
        ["\"rcpt\" \"greylist-bob-once\"", "\"message\" \"no-spam\""]
    );
}
