//! The recipient-MX behaviours behind a real listener answer with the simulator's replies:
//! outages, rate limits, full mailboxes, temporary failures, TLS required, chaos.

use crate::common;

use common::{Raw, config, slow_config, start};
use smtpsim_model::scenario::{FullMailboxes, Outage, OutageMode, Probability, TokenBucket};
use tokio::io::AsyncReadExt;

fn outage(mode: OutageMode) -> Outage {
    Outage {
        start: "0s".parse().unwrap(),
        end: "1h".parse().unwrap(),
        mode,
    }
}

const MAIL: &[u8] = b"EHLO c\r\nMAIL FROM:<a@example.com>\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outages() {
    let mut cfg = config();
    cfg.outages = vec![outage(OutageMode::Reply421)];
    let server = start(cfg).await;
    let mut s = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let mut got = String::new();
    s.read_to_string(&mut got).await.unwrap();
    assert_eq!(
        got,
        "421 4.3.2 System not accepting network messages, try again later\r\n"
    );
    server.stop().await;

    let mut cfg = config();
    cfg.outages = vec![outage(OutageMode::Refuse)];
    let server = start(cfg).await;
    let mut s = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got).await;
    assert!(got.is_empty(), "closed without a word");
    server.stop().await;

    // An outage that is over does not show.
    let mut cfg = config();
    cfg.outages = vec![Outage {
        start: "0s".parse().unwrap(),
        end: "1us".parse().unwrap(),
        mode: OutageMode::Refuse,
    }];
    let server = start(cfg).await;
    Raw::connect(server.addr).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_rate_limit_per_client_address() {
    let mut cfg = config();
    cfg.behaviour.rate_limits.messages = Some(TokenBucket {
        rate: "1/h".parse().unwrap(),
        burst: 2,
        reply: Some("421 4.7.28 Slow down".into()),
    });
    let server = start(cfg).await;
    let mut c = Raw::connect(server.addr).await;
    c.send(b"EHLO c\r\n").await;
    c.until("250 ").await;
    let mut replies = Vec::new();
    for _ in 0..4 {
        c.send(b"MAIL FROM:<a@example.com>\r\n").await;
        let reply = c.until("\r\n").await;
        if reply.starts_with("421") {
            // 421 says the server is closing: it does, and the client comes back.
            assert_eq!(c.rest().await, "");
            c = Raw::connect(server.addr).await;
            c.send(b"EHLO c\r\n").await;
            c.until("250 ").await;
        } else {
            c.send(b"RSET\r\n").await;
            c.until("\r\n").await;
        }
        replies.push(reply);
    }
    assert_eq!(
        replies,
        [
            "250 2.1.0 Sender OK\r\n",
            "250 2.1.0 Sender OK\r\n",
            "421 4.7.28 Slow down\r\n",
            "421 4.7.28 Slow down\r\n"
        ]
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_mailboxes_temporary_failures_and_tls_required() {
    let mut cfg = config();
    cfg.behaviour.full_mailboxes = Some(FullMailboxes {
        fraction: Probability(1.0),
        permanent: false,
    });
    let server = start(cfg).await;
    let mut c = Raw::connect(server.addr).await;
    c.send(MAIL).await;
    c.send(b"RCPT TO:<b@example.net>\r\n").await;
    assert_eq!(
        c.until("452 ").await.trim_end().lines().last().unwrap(),
        "452 4.2.2 Mailbox full, try again later"
    );
    server.stop().await;

    let mut cfg = config();
    cfg.behaviour.temp_failures = Probability(1.0);
    let server = start(cfg).await;
    let mut c = Raw::connect(server.addr).await;
    c.send(MAIL).await;
    c.send(b"RCPT TO:<b@example.net>\r\n").await;
    assert!(
        c.until("451 ")
            .await
            .ends_with("451 4.3.0 Temporary local problem, try again later\r\n")
    );
    server.stop().await;

    let mut cfg = config();
    cfg.behaviour.require_tls = true;
    let server = start(cfg).await;
    let mut c = Raw::connect(server.addr).await;
    c.send(MAIL).await;
    assert!(
        c.until("530 ")
            .await
            .ends_with("530 5.7.0 Must issue a STARTTLS command first\r\n")
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_hangs_up_at_the_chosen_stage() {
    let mut cfg = config();
    cfg.chaos.set("rcpt", 1.0).unwrap();
    let server = start(cfg).await;
    let mut c = Raw::connect(server.addr).await;
    c.send(MAIL).await;
    c.send(b"RCPT TO:<b@example.net>\r\n").await;
    let rest = c.rest().await;
    assert!(
        rest.ends_with("421 4.3.0 Simulated failure, closing connection; try again later\r\n"),
        "{rest:?}"
    );
    server.stop().await;

    let mut cfg = config();
    cfg.chaos.set("connect", 1.0).unwrap();
    let server = start(cfg).await;
    let mut s = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let mut got = String::new();
    s.read_to_string(&mut got).await.unwrap();
    assert!(got.starts_with("421 4.3.0"), "{got:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_in_drop_mode_hangs_up_without_a_word() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("session.jsonl");
    let mut cfg = config();
    cfg.chaos.set("rcpt", 1.0).unwrap();
    cfg.chaos.drop = true;
    cfg.log = Some(log.clone());
    let server = start(cfg).await;
    let mut c = Raw::connect(server.addr).await;
    c.send(MAIL).await;
    c.send(b"RCPT TO:<b@example.net>\r\n").await;
    let rest = c.rest().await;
    // The replies to the commands before go out; then the connection ends, no 421.
    assert!(rest.ends_with("250 2.1.0 Sender OK\r\n"), "{rest:?}");
    assert!(!rest.lines().any(|l| l.starts_with("421")), "{rest:?}");
    server.stop().await;
    let log = std::fs::read_to_string(&log).unwrap();
    let records: Vec<serde_json::Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let says_421 = |r: &serde_json::Value| {
        ["text", "reply"]
            .iter()
            .any(|field| r[field].as_str().is_some_and(|t| t.starts_with("421")))
    };
    assert!(
        !records.iter().any(says_421),
        "the unsent reply is not logged: {log}"
    );
    assert!(
        records
            .iter()
            .any(|r| r["reason"] == "chaos: hung up without a reply"),
        "{log}"
    );

    let mut cfg = config();
    cfg.chaos.set("connect", 1.0).unwrap();
    cfg.chaos.drop = true;
    let server = start(cfg).await;
    let mut s = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let mut got = String::new();
    s.read_to_string(&mut got).await.unwrap();
    assert_eq!(got, "", "not even a greeting");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_makes_every_reply_wait() {
    let server = start(slow_config("300ms")).await;
    let started = std::time::Instant::now();
    // Connecting reads the greeting.
    let mut c = Raw::connect(server.addr).await;
    let greeted = started.elapsed();
    c.send(b"EHLO c\r\n").await;
    c.until("250 ").await;
    let answered = started.elapsed();
    // Lower bounds only: the wait is on purpose, and a busy machine only adds to it.
    assert!(
        greeted >= std::time::Duration::from_millis(300),
        "{greeted:?}"
    );
    assert!(
        answered - greeted >= std::time::Duration::from_millis(300),
        "{answered:?}"
    );
    server.stop().await;
}
