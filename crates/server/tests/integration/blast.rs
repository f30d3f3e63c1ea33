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

    // Without TLS the server does not offer AUTH: the run stops with an error, and no
    // message goes unauthenticated, on a reused connection or not.
    for reuse in [false, true] {
        let mut c = blast_config(server.addr, 5, 2);
        c.credentials = Some(alice.clone());
        c.reuse = reuse;
        let error = blast::run(c).await.unwrap_err();
        assert!(
            matches!(error, blast::BlastError::NotOffered { what, .. } if what == "AUTH PLAIN or LOGIN"),
            "{error}"
        );
        assert!(
            error
                .to_string()
                .ends_with("does not offer AUTH PLAIN or LOGIN; nothing was sent")
        );
    }
    assert_eq!(server.stop().await.messages, 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_asked_of_a_server_without_it_is_an_error() {
    let mut cfg = config();
    cfg.tls = smtpsim_server::TlsSetup::Off;
    let server = start(cfg).await;
    let mut c = blast_config(server.addr, 20, 4);
    c.tls = BlastTls::StartTls;
    let error = blast::run(c).await.unwrap_err();
    assert!(
        error
            .to_string()
            .ends_with("does not offer STARTTLS; nothing was sent"),
        "{error}"
    );
    assert_eq!(server.stop().await.messages, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_counted_per_reply_code() {
    let mut cfg = config();
    cfg.behaviour.greylisting = Some(Greylisting {
        delay: "1h".parse().unwrap(),
        window: "4h".parse().unwrap(),
        whitelist_after: 0,
        reply: None,
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
async fn nobody_listening_is_an_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let error = blast::run(blast_config(addr, 1000, 2)).await.unwrap_err();
    assert!(
        matches!(error, blast::BlastError::Connect { .. }),
        "{error}"
    );
    let text = error.to_string();
    assert!(
        text.starts_with(&format!("cannot connect to {addr}: ")),
        "{text}"
    );
    assert!(text.to_lowercase().contains("connection refused"), "{text}");
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

/// Every value out of its range is an error that gives the range, before any connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_out_of_range_are_errors_not_panics() {
    let addr = "127.0.0.1:9".parse().unwrap();
    let base = blast_config(addr, 10, 2);
    let min = base.min_size();
    type Change = Box<dyn Fn(&mut BlastConfig)>;
    let cases: Vec<(Change, String)> = vec![
        (
            Box::new(|c| c.rate = Some(0.0)),
            "the rate must be between 0.001 and 1000000".into(),
        ),
        (Box::new(|c| c.rate = Some(f64::NAN)), "not NaN".into()),
        (Box::new(|c| c.rate = Some(1e300)), "not 1e300".into()),
        (Box::new(|c| c.rate = Some(1e-300)), "not 1e-300".into()),
        (Box::new(|c| c.rate = Some(-1.0)), "not -1.0".into()),
        (
            Box::new(|c| {
                c.rate = Some(0.001);
                c.messages = u64::MAX;
            }),
            "more than a year".into(),
        ),
        (
            Box::new(|c| c.size = 0),
            format!("between {min} (the headers) and 104857600 octets, not 0"),
        ),
        (
            Box::new(|c| c.size = usize::MAX),
            "and 104857600 octets".into(),
        ),
        (
            Box::new(|c| c.recipients = 0),
            "recipients must be between 1 and 1000".into(),
        ),
        (Box::new(|c| c.recipients = 1001), "not 1001".into()),
        (
            Box::new(|c| c.concurrency = 100_001),
            "concurrency must be between 1 and 100000".into(),
        ),
        (
            Box::new(|c| c.messages = 0),
            "messages must be at least 1".into(),
        ),
        (
            Box::new(|c| c.timeout = Duration::ZERO),
            "timeout must be above 0".into(),
        ),
    ];
    for (change, expected) in cases {
        let mut c = base.clone();
        change(&mut c);
        let error = blast::run(c).await.unwrap_err();
        assert!(matches!(error, blast::BlastError::Config(_)), "{error}");
        assert!(
            error.to_string().contains(&expected),
            "{error} / {expected}"
        );
    }
    // The edges are in.
    let mut c = base.clone();
    c.size = min;
    c.rate = Some(1e6);
    assert!(c.check().is_ok());
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
