//! Accept threads: with `threads` above 1, more threads listen on the same port, each
//! serving the connections it accepted; every connection is served and numbered once, a
//! stop reaches the sessions of every thread, and the count is checked.

use std::collections::BTreeMap;
use std::time::Duration;

use smtpsim_server::blast::{self, BlastConfig};
use smtpsim_server::{MAX_THREADS, ServeError, Server, SessionLog};
use tokio::sync::oneshot;

use crate::common::{Raw, config};

#[tokio::test]
async fn every_connection_is_served_once_and_numbered_once_over_four_threads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sessions.jsonl");
    let mut cfg = config();
    cfg.threads = 4;
    cfg.max_connections_per_ip = 1000;
    let server = Server::bind_with_log(cfg, Some(SessionLog::open(&path).unwrap()))
        .await
        .unwrap();
    let addr = server.local_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(server.run(async {
        let _ = stopped.await;
    }));
    let mut c = BlastConfig::new(addr);
    c.messages = 300;
    c.concurrency = 12;
    c.timeout = Duration::from_secs(60);
    let report = blast::run(c).await.unwrap();
    let _ = stop.send(());
    let summary = task.await.unwrap().unwrap();
    assert_eq!((report.accepted, report.connections), (300, 300));
    assert_eq!((summary.connections, summary.messages), (300, 300));
    // Each session number appears in one connect and one close, and the numbers are 1..=300.
    let log = std::fs::read_to_string(&path).unwrap();
    let mut events: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for line in log.lines() {
        let record: serde_json::Value = serde_json::from_str(line).unwrap();
        let event = record["event"].as_str().unwrap().to_string();
        if event == "connect" || event == "close" || event == "message" {
            let id = record["session"].as_u64().unwrap();
            events.entry(id).or_default().push(event);
        }
    }
    assert_eq!(
        events.keys().copied().collect::<Vec<_>>(),
        (1..=300).collect::<Vec<_>>()
    );
    for (id, seen) in &events {
        assert_eq!(seen, &["connect", "message", "close"], "session {id}");
    }
}

#[tokio::test]
async fn a_stop_closes_the_sessions_of_every_thread_with_421() {
    let mut cfg = config();
    cfg.threads = 3;
    let server = Server::bind(cfg).await.unwrap();
    let addr = server.local_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(server.run(async {
        let _ = stopped.await;
    }));
    let mut open = Vec::new();
    for _ in 0..24 {
        let mut raw = Raw::connect(addr).await;
        raw.send(b"EHLO client.example\r\n").await;
        raw.until("250 ").await;
        open.push(raw);
    }
    let _ = stop.send(());
    for mut raw in open {
        let said = raw.rest().await;
        assert!(said.starts_with("421 4.3.2 "), "{said}");
    }
    let summary = task.await.unwrap().unwrap();
    assert_eq!((summary.connections, summary.messages), (24, 0));
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "no thread listens any more"
    );
}

#[tokio::test]
async fn thread_counts_out_of_range_are_errors() {
    for threads in [0, MAX_THREADS + 1] {
        let mut cfg = config();
        cfg.threads = threads;
        let error = Server::bind(cfg).await.unwrap_err();
        assert!(matches!(error, ServeError::ThreadCount { .. }), "{error}");
        assert_eq!(
            error.to_string(),
            format!("threads must be between 1 and 1024, not {threads}")
        );
    }
}
