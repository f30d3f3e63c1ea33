//! The session's limits over real connections: deadlines for a whole command line and for
//! content below the minimum data rate, the junk-command limit, and large messages streamed
//! into the Maildir whole or not at all.

use crate::common;

use std::time::Duration;

use common::{Raw, config, maildir_counts, start};
use smtpsim_proto::data::write_dot_stuffed;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ENVELOPE: &[u8] =
    b"EHLO c.example\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n";

/// Sends `bytes` in pieces of `piece` octets, `gap` apart, until all are sent or the server
/// says something; then returns everything the server said until it closed.
async fn dribble(c: &mut Raw, bytes: &[u8], piece: usize, gap: Duration) -> String {
    let mut buf = [0u8; 4096];
    for part in bytes.chunks(piece) {
        tokio::select! {
            read = c.stream.read(&mut buf) => {
                let n = read.unwrap_or(0);
                c.received.extend_from_slice(&buf[..n]);
                break;
            }
            () = tokio::time::sleep(gap) => {}
        }
        if c.stream.write_all(part).await.is_err() {
            break;
        }
    }
    c.rest().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_line_dribbled_byte_by_byte_is_closed_at_its_deadline() {
    let mut cfg = config();
    cfg.timeouts.command = Duration::from_secs(1);
    let server = start(cfg).await;
    let mut c = Raw::connect(server.addr).await;
    // Each byte comes well within the command timeout; the whole line does not.
    let rest = dribble(
        &mut c,
        b"HELO client.example\r\n",
        1,
        Duration::from_millis(250),
    )
    .await;
    assert!(rest.starts_with("421 4.4.2 "), "{rest:?}");
    assert!(!rest.contains("250"), "{rest:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_below_the_minimum_data_rate_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config();
    cfg.maildir = Some(dir.path().to_path_buf());
    cfg.timeouts.data = Duration::from_secs(1);
    cfg.timeouts.min_data_rate = 1000;
    let server = start(cfg).await;
    let mut c = Raw::connect(server.addr).await;
    c.send(ENVELOPE).await;
    c.until("354 ").await;
    // About 50 octets a second: a read every 200 ms, never a second without one.
    let mut content = b"Subject: slow\r\n\r\n".to_vec();
    content.extend_from_slice(&b"0123456789abcdefghijklmnopqrstu\r\n".repeat(8));
    content.extend_from_slice(b".\r\n");
    let rest = dribble(&mut c, &content, 10, Duration::from_millis(200)).await;
    assert!(rest.starts_with("421 4.4.2 "), "{rest:?}");
    assert!(!rest.contains("250"), "{rest:?}");
    assert_eq!(server.stop().await.messages, 0);
    assert_eq!(maildir_counts(dir.path()), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junk_commands_past_the_limit_end_in_421() {
    let server = start(config()).await;
    let mut c = Raw::connect(server.addr).await;
    // Exactly as many as it takes: the server reads all it was sent before it closes.
    c.send(&b"NOOP\r\n".repeat(121)).await;
    let rest = c.rest().await;
    let lines: Vec<&str> = rest.lines().collect();
    // 100 junk commands, then 20 more counted as bad commands, then 421.
    assert_eq!(lines.len(), 121, "{rest:?}");
    assert!(lines[..120].iter().all(|l| l.starts_with("250 ")));
    assert!(lines[120].starts_with("421 4.7.0 "), "{}", lines[120]);
    server.stop().await;
}

/// A message of `size` octets or a little more, with lines that begin with a dot.
fn large_message(size: usize) -> Vec<u8> {
    let mut content = b"From: a@example.com\r\nSubject: large\r\n\r\n".to_vec();
    let mut n = 0u64;
    while content.len() < size {
        n += 1;
        let dot = if n.is_multiple_of(5) { ".." } else { "" };
        content.extend_from_slice(format!("{dot}line {n} \x01\u{fe} of the body\r\n").as_bytes());
    }
    content
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_message_is_stored_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config();
    cfg.maildir = Some(dir.path().to_path_buf());
    let server = start(cfg).await;
    let content = large_message(20 << 20);
    let mut wire = Vec::new();
    write_dot_stuffed(&content, &mut wire);
    let mut c = Raw::connect(server.addr).await;
    c.send(ENVELOPE).await;
    c.until("354 ").await;
    c.send(&wire).await;
    let reply = c.until("250 2.0.0").await;
    let name = reply.trim_end().rsplit(' ').next().unwrap().to_string();
    // A message refused at its end (a bare LF) leaves nothing behind.
    c.send(b"MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n")
        .await;
    c.until("354 ").await;
    let mut bad = content[..(4 << 20)].to_vec();
    bad.extend_from_slice(b"bare\nLF\r\n.\r\nQUIT\r\n");
    c.send(&bad).await;
    assert!(c.until("554 5.6.0").await.contains("bare CR or LF"));
    c.rest().await;
    assert_eq!(server.stop().await.messages, 1);
    assert_eq!(maildir_counts(dir.path()), (1, 0));
    let stored = std::fs::read(dir.path().join("new").join(&name)).unwrap();
    assert!(
        common::without_trace(&stored) == content,
        "the stored message differs from the one sent"
    );
}
