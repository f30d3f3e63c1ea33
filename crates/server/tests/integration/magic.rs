//! Magic addresses through a real socket: the local part of a sender or recipient picks the
//! reply for that message only.

use std::time::{Duration, Instant};

use crate::common;

use common::{Raw, config, maildir_counts, start};

fn magic_config() -> smtpsim_server::ServeConfig {
    let mut cfg = config();
    cfg.magic = true;
    cfg
}

async fn ehlo(addr: std::net::SocketAddr) -> Raw {
    let mut raw = Raw::connect(addr).await;
    raw.send(b"EHLO c\r\n").await;
    raw.until("250 ").await;
    raw
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_at_rcpt_mail_and_after_the_content() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = magic_config();
    cfg.maildir = Some(dir.path().to_path_buf());
    let server = start(cfg).await;
    let mut c = ehlo(server.addr).await;
    c.send(b"MAIL FROM:<a@example.com>\r\nRCPT TO:<rcpt-550-5.1.1@any.example>\r\n")
        .await;
    c.until("250 ").await;
    let refused = c.until("550 ").await;
    assert!(
        refused.contains("550 5.1.1 Reply chosen by the magic address rcpt-550-5.1.1@any.example"),
        "{refused}"
    );
    // Another recipient of the same message is accepted; then the content is refused.
    c.send(b"RCPT TO:<data-451-4.3.0@any.example>\r\nDATA\r\n")
        .await;
    c.until("250 ").await;
    c.until("354 ").await;
    c.send(b"Subject: x\r\n\r\nbody\r\n.\r\n").await;
    assert!(c.until("451 ").await.contains("451 4.3.0 Reply chosen"));
    assert_eq!(maildir_counts(dir.path()), (0, 0), "nothing stored");
    // The next message of the connection is not touched.
    c.send(b"MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n")
        .await;
    c.until("354 ").await;
    c.send(b"x\r\n.\r\n").await;
    c.until("250 ").await;
    assert_eq!(maildir_counts(dir.path()), (1, 0));
    c.send(b"MAIL FROM:<mail-421@any.example>\r\n").await;
    let rest = c.rest().await;
    assert!(
        rest.starts_with("421 Reply chosen by the magic address mail-421"),
        "{rest}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_magic_sender_acts_on_every_recipient() {
    let server = start(magic_config()).await;
    let mut c = ehlo(server.addr).await;
    c.send(b"MAIL FROM:<rcpt-452-4.2.2@x.example>\r\nRCPT TO:<a@example.com>\r\nRCPT TO:<b@example.com>\r\n")
        .await;
    c.until("250 ").await;
    c.until("452 4.2.2").await;
    c.until("452 4.2.2").await;
    // A 421 at RCPT closes.
    c.send(b"RSET\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<rcpt-421-4.7.0@x.example>\r\n")
        .await;
    let rest = c.rest().await;
    assert!(rest.contains("421 4.7.0 Reply chosen"), "{rest}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_magic_gets_501_saying_what_is_wrong() {
    let server = start(magic_config()).await;
    let mut c = ehlo(server.addr).await;
    c.send(b"MAIL FROM:<rcpt-250@x.example>\r\n").await;
    let reply = c.until("501 ").await;
    assert!(
        reply.contains("the code must be 4xx or 5xx, not 250"),
        "{reply}"
    );
    c.send(b"MAIL FROM:<a@x.example>\r\nRCPT TO:<greylist-2h@x.example>\r\n")
        .await;
    c.until("250 ").await;
    let reply = c.until("501 ").await;
    assert!(reply.contains("not between 1s and 1h"), "{reply}");
    c.send(b"RCPT TO:<mail-421@x.example>\r\n").await;
    let reply = c.until("501 ").await;
    assert!(reply.contains("use it as the sender"), "{reply}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_flag_magic_addresses_are_ordinary() {
    let server = start(config()).await;
    let mut c = ehlo(server.addr).await;
    c.send(b"MAIL FROM:<mail-421@x.example>\r\nRCPT TO:<rcpt-550@x.example>\r\n")
        .await;
    c.until("250 ").await;
    c.until("250 ").await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn greylisting_defers_until_the_retry_is_late_enough() {
    let server = start(magic_config()).await;
    let mut c = ehlo(server.addr).await;
    let rcpt = b"MAIL FROM:<a@x.example>\r\nRCPT TO:<greylist-1s@x.example>\r\n";
    c.send(rcpt).await;
    c.until("250 ").await;
    assert!(c.until("451 ").await.contains("451 4.7.1 Greylisted"));
    // The same triplet again at once: still deferred.
    c.send(b"RSET\r\n").await;
    c.until("250 ").await;
    c.send(rcpt).await;
    c.until("250 ").await;
    c.until("451 4.7.1").await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    c.send(b"RSET\r\n").await;
    c.until("250 ").await;
    c.send(rcpt).await;
    c.until("250 ").await;
    let passed = c.until("250 ").await;
    assert!(passed.starts_with("250"), "{passed}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delays_slow_the_reply_of_their_stage() {
    let server = start(magic_config()).await;
    let mut c = ehlo(server.addr).await;
    c.send(b"MAIL FROM:<a@x.example>\r\n").await;
    c.until("250 ").await;
    let started = Instant::now();
    c.send(b"RCPT TO:<delay-rcpt-1s@x.example>\r\n").await;
    c.until("250 ").await;
    assert!(started.elapsed() >= Duration::from_secs(1));
    c.send(b"RCPT TO:<delay-data-1s@x.example>\r\nDATA\r\n")
        .await;
    c.until("250 ").await;
    c.until("354 ").await;
    let started = Instant::now();
    c.send(b"x\r\n.\r\n").await;
    c.until("250 ").await;
    assert!(started.elapsed() >= Duration::from_secs(1));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drops_hang_up_without_a_reply() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = magic_config();
    cfg.maildir = Some(dir.path().to_path_buf());
    let server = start(cfg).await;
    let mut c = ehlo(server.addr).await;
    c.send(b"MAIL FROM:<a@x.example>\r\nRCPT TO:<drop-data@x.example>\r\nDATA\r\n")
        .await;
    c.until("354 ").await;
    c.send(b"Subject: x\r\n\r\nbody\r\n.\r\n").await;
    assert_eq!(c.rest().await, "", "no reply to the content");
    assert_eq!(maildir_counts(dir.path()), (0, 0));

    let mut c = ehlo(server.addr).await;
    c.send(b"MAIL FROM:<a@x.example>\r\nRCPT TO:<drop-rcpt@x.example>\r\n")
        .await;
    let rest = c.rest().await;
    assert!(
        rest.starts_with("250 ") && !rest.contains("421"),
        "{rest:?}"
    );
    server.stop().await;
}
