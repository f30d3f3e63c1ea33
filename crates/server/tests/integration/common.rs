//! A server on a free loopback port inside the test, and a raw client that sends exactly the
//! bytes it is given.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use smtpsim_server::{Counters, ServeConfig, ServeSummary, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running server.
pub struct Running {
    pub addr: SocketAddr,
    pub tls_addr: Option<SocketAddr>,
    pub http_addr: Option<SocketAddr>,
    pub counters: Arc<Counters>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<ServeSummary>,
}

impl Running {
    /// Sends the shutdown signal and waits for the server to finish.
    pub async fn stop(mut self) -> ServeSummary {
        let _ = self.stop.take().unwrap().send(());
        self.task.await.unwrap()
    }
}

/// A configuration listening on a free loopback port; sessions still open when the server
/// stops are closed at once.
pub fn config() -> ServeConfig {
    let mut config = ServeConfig::new("127.0.0.1:0".parse().unwrap());
    config.shutdown_grace = Duration::ZERO;
    config
}

/// [`config`] for a server that waits `latency` (such as "100ms") before each batch of
/// replies.
pub fn slow_config(latency: &str) -> ServeConfig {
    let latency: smtpsim_model::scenario::Duration = latency.parse().unwrap();
    let mut config = config();
    config.behaviour.latency = smtpsim_model::scenario::Dist::constant(latency);
    config
}

/// Binds and runs `config` in the background.
pub async fn start(config: ServeConfig) -> Running {
    let server = Server::bind(config).await.unwrap();
    let addr = server.local_addr();
    let tls_addr = server.tls_local_addr();
    let http_addr = server.http_local_addr();
    let counters = server.counters();
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        server
            .run(async {
                let _ = rx.await;
            })
            .await
            .unwrap()
    });
    Running {
        addr,
        tls_addr,
        http_addr,
        counters,
        stop: Some(tx),
        task,
    }
}

/// A raw SMTP client.
pub struct Raw {
    pub stream: TcpStream,
    pub received: Vec<u8>,
}

/// How long a test waits for anything before it fails (never reached when things work).
pub const PATIENCE: Duration = Duration::from_secs(60);

impl Raw {
    /// Connects and reads the greeting.
    pub async fn connect(addr: SocketAddr) -> Raw {
        let stream = TcpStream::connect(addr).await.unwrap();
        let mut raw = Raw {
            stream,
            received: Vec::new(),
        };
        raw.until("220 ").await;
        raw
    }

    /// Sends bytes.
    pub async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
    }

    /// Reads until the text received so far contains `needle` after what earlier calls
    /// consumed; returns the text read by this call. Panics if the connection closes first.
    pub async fn until(&mut self, needle: &str) -> String {
        let mut buf = [0u8; 4096];
        loop {
            let text = String::from_utf8_lossy(&self.received).into_owned();
            if let Some(at) = text.find(needle) {
                let end = text[at..].find("\r\n").map_or(text.len(), |i| at + i + 2);
                let taken = text[..end].to_string();
                self.received.drain(..end.min(self.received.len()));
                return taken;
            }
            let n = tokio::time::timeout(PATIENCE, self.stream.read(&mut buf))
                .await
                .expect("the server answers")
                .unwrap_or(0);
            assert!(
                n > 0,
                "connection closed before {needle:?}; got {:?}",
                String::from_utf8_lossy(&self.received)
            );
            self.received.extend_from_slice(&buf[..n]);
        }
    }

    /// Reads everything until the server closes; returns it.
    pub async fn rest(&mut self) -> String {
        let mut buf = Vec::new();
        tokio::time::timeout(PATIENCE, self.stream.read_to_end(&mut buf))
            .await
            .expect("the server closes")
            .unwrap_or(0);
        self.received.extend_from_slice(&buf);
        String::from_utf8_lossy(&std::mem::take(&mut self.received)).into_owned()
    }
}

/// The files in a Maildir's `new/` and `tmp/`.
pub fn maildir_counts(root: &std::path::Path) -> (usize, usize) {
    let count = |sub: &str| std::fs::read_dir(root.join(sub)).unwrap().count();
    (count("new"), count("tmp"))
}

/// A stored message without the trace header lines the server puts first (`Return-Path:`,
/// `X-Original-To:`, `Delivered-To:`, `Received:` and their continuation lines); panics if
/// they are missing.
pub fn without_trace(stored: &[u8]) -> &[u8] {
    let mut rest = stored;
    assert!(rest.starts_with(b"Return-Path: <"), "no Return-Path first");
    let mut received = false;
    let names = [
        &b"Return-Path:"[..],
        b"X-Original-To:",
        b"Delivered-To:",
        b"Received:",
        b"\t",
    ];
    while names.iter().any(|n| rest.starts_with(n)) {
        received |= rest.starts_with(b"Received:");
        let end = rest.windows(2).position(|w| w == b"\r\n").expect("CRLF") + 2;
        rest = &rest[end..];
    }
    assert!(received, "no Received line");
    rest
}
