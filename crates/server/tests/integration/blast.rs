//! The load generator against the real server: counts, connection reuse, TLS, AUTH, and
//! refusals counted per reply code.

use crate::common;

use std::time::Duration;

use common::{config, slow_config, start};
use smtpsim_model::scenario::Greylisting;
use smtpsim_proto::client::Credentials;
use smtpsim_server::blast::{self, BlastConfig, BlastTls};

fn blast_config(addr: std::net::SocketAddr, messages: u64, concurrency: usize) -> BlastConfig {
    let mut c = BlastConfig::new(addr);
    c.messages = messages;
    c.concurrency = concurrency;
    c.timeout = Duration::from_secs(60);
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_connection_per_message() {
    let server = start(config()).await;
    let mut c = blast_config(server.addr, 120, 8);
    c.recipients = 3;
    c.size = 5000;
    let report = blast::run(c).await.unwrap();
    assert_eq!(report.messages, 120);
    assert_eq!(report.accepted, 120);
    assert_eq!(report.connections, 120);
    assert_eq!(report.replies.get("250"), Some(&360));
    assert_eq!(report.replies.len(), 1);
    assert_eq!(report.latency.len(), 120);
    let summary = server.stop().await;
    assert_eq!((summary.messages, summary.connections), (120, 120));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_reused() {
    let server = start(config()).await;
    let mut c = blast_config(server.addr, 200, 4);
    c.reuse = true;
    let report = blast::run(c).await.unwrap();
    assert_eq!(report.accepted, 200);
    assert_eq!(report.connections, 4);
    let summary = server.stop().await;
    assert_eq!((summary.messages, summary.connections), (200, 4));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_and_auth_then_implicit_tls() {
    let mut cfg = config();
    cfg.users = vec![("alice".into(), "secret".into())];
    cfg.tls_listen = Some("127.0.0.1:0".parse().unwrap());
    let server = start(cfg).await;
    let tls_addr = server.tls_addr.unwrap();
    let alice = Credentials {
        user: "alice".into(),
        password: "secret".into(),
    };
    let mut c = blast_config(server.addr, 30, 3);
    c.tls = BlastTls::StartTls;
    c.credentials = Some(alice.clone());
    c.reuse = true;
    let report = blast::run(c).await.unwrap();
    assert_eq!(report.accepted, 30, "{:?}", report.replies);
    assert_eq!(report.connections, 3);

    let mut c = blast_config(tls_addr, 20, 2);
    c.tls = BlastTls::Implicit;
    c.credentials = Some(alice.clone());
    let report = blast::run(c).await.unwrap();
    assert_eq!(report.accepted, 20, "{:?}", report.replies);

    // Without TLS the server does not offer AUTH: every message fails, and says why.
    let mut c = blast_config(server.addr, 5, 1);
    c.credentials = Some(alice);
    let report = blast::run(c).await.unwrap();
    assert_eq!(report.accepted, 0);
    assert_eq!(
        report
            .replies
            .get("the server does not offer AUTH PLAIN or LOGIN"),
        Some(&5)
    );
    assert_eq!(server.stop().await.messages, 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_counted_per_reply_code() {
    let mut cfg = config();
    cfg.behaviour.greylisting = Some(Greylisting {
        delay: "1h".parse().unwrap(),
        window: "4h".parse().unwrap(),
        whitelist_after: 0,
    });
    cfg.unknown = vec!["rcpt1@example.net".into()];
    let server = start(cfg).await;
    let mut c = blast_config(server.addr, 10, 2);
    c.recipients = 2;
    c.reuse = true;
    let report = blast::run(c).await.unwrap();
    assert_eq!(report.accepted, 0);
    assert_eq!(report.replies.get("451"), Some(&10), "{:?}", report.replies);
    assert_eq!(report.replies.get("550"), Some(&10), "{:?}", report.replies);
    // Each failed transaction is reset, and the connection carries the next message: at most
    // one connection per task.
    assert!(
        (1..=2).contains(&report.connections),
        "{}",
        report.connections
    );
    let summary = server.stop().await;
    assert_eq!(
        (summary.messages, summary.connections),
        (0, report.connections)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_listening_counts_as_connect_failures() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let report = blast::run(blast_config(addr, 4, 2)).await.unwrap();
    assert_eq!(report.accepted, 0);
    assert_eq!(report.replies.get("connect failed"), Some(&4));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_settings_are_errors() {
    let addr = "127.0.0.1:9".parse().unwrap();
    let mut c = blast_config(addr, 1, 0);
    assert!(blast::run(c.clone()).await.is_err());
    c.concurrency = 1;
    c.from = "not an address".into();
    assert!(blast::run(c).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_load_keeps_its_rate_and_counts_the_wait_in_the_latency() {
    // A server that takes 100 ms over every reply, fed a message every 20 ms by one
    // connection: messages fall behind their due times, and the latency says so.
    let server = start(slow_config("100ms")).await;
    let mut c = blast_config(server.addr, 10, 1);
    c.reuse = true;
    c.rate = Some(50.0);
    let report = blast::run(c).await.unwrap();
    assert_eq!(report.accepted, 10);
    // Each message takes at least two waits of 100 ms (MAIL to DATA, then the content); the
    // tenth was due 180 ms after the start but could not begin before 1.8 s.
    assert!(
        report.latency.max() >= 1_500_000,
        "max latency {} µs",
        report.latency.max()
    );
    server.stop().await;

    // Without a slow server, the run lasts as long as the schedule says, at least.
    let server = start(config()).await;
    let mut c = blast_config(server.addr, 41, 4);
    c.rate = Some(200.0);
    let started = std::time::Instant::now();
    let report = blast::run(c).await.unwrap();
    assert_eq!(report.accepted, 41);
    assert!(started.elapsed() >= Duration::from_millis(200));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_must_be_positive() {
    let addr = "127.0.0.1:9".parse().unwrap();
    for rate in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let mut c = blast_config(addr, 1, 1);
        c.rate = Some(rate);
        assert!(blast::run(c).await.is_err(), "{rate}");
    }
}
