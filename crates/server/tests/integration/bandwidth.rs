//! `bandwidth` slows the server's reading and writing to that many bytes a second.

use std::time::{Duration, Instant};

use crate::common;

use common::{Raw, config, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_a_message_takes_at_least_its_size_over_the_rate() {
    let mut cfg = config();
    cfg.bandwidth = Some(20_000);
    let server = start(cfg).await;
    let mut c = Raw::connect(server.addr).await;
    c.send(b"EHLO c\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<b@x.example>\r\nDATA\r\n")
        .await;
    c.until("354 ").await;
    let line = [b'x'; 78];
    let mut content = Vec::new();
    while content.len() < 40_000 {
        content.extend_from_slice(&line);
        content.extend_from_slice(b"\r\n");
    }
    content.extend_from_slice(b".\r\n");
    let started = Instant::now();
    c.send(&content).await;
    c.until("250 ").await;
    // 40,000 bytes at 20,000 a second, a burst of 1,000 free: at least 1.95 s.
    assert!(
        started.elapsed() >= Duration::from_millis(1950),
        "{:?}",
        started.elapsed()
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writing_a_reply_takes_at_least_its_size_over_the_rate() {
    let mut cfg = config();
    cfg.bandwidth = Some(200);
    let server = start(cfg).await;
    let mut c = Raw::connect(server.addr).await;
    let started = Instant::now();
    c.send(b"EHLO c\r\n").await;
    let reply = c.until("250 ").await;
    let free = 10; // the burst: a twentieth of a second's worth
    let least = Duration::from_secs_f64((reply.len() - free) as f64 / 200.0);
    assert!(reply.len() > 100, "{reply}");
    assert!(
        started.elapsed() >= least,
        "{:?} < {least:?}",
        started.elapsed()
    );
    server.stop().await;
}
