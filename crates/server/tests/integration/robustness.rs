//! The server under abuse: smuggling sequences, over-long lines, NUL bytes, slow and silent
//! clients, clients that vanish mid-DATA, a thousand connections at once, connection limits
//! and shutdown. After each, the server still serves and nothing accepted is lost.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use common::{Raw, config, maildir_counts, start};

const ENVELOPE: &[u8] =
    b"EHLO c.example\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n";

/// One clean delivery on a new connection; returns the final reply line.
async fn deliver(addr: std::net::SocketAddr, body: &[u8]) -> String {
    let mut c = Raw::connect(addr).await;
    c.send(ENVELOPE).await;
    c.until("354 ").await;
    c.send(body).await;
    c.send(b".\r\nQUIT\r\n").await;
    let replies = c.rest().await;
    replies.lines().rev().nth(1).unwrap_or_default().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smuggling_sequences_never_split_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config();
    cfg.maildir = Some(dir.path().to_path_buf());
    let server = start(cfg).await;
    let smuggled = b"MAIL FROM:<evil@example.com>\r\nRCPT TO:<victim@example.net>\r\nDATA\r\nSubject: smuggled\r\n\r\nx\r\n";
    let separators: [&[u8]; 7] = [
        b"\n.\n", b"\n.\r\n", b"\r.\r", b"\r\n.\n", b"\r\n.\r", b"\r.\r\n", b"\n.\r",
    ];
    for separator in separators {
        let mut c = Raw::connect(server.addr).await;
        c.send(ENVELOPE).await;
        c.until("354 ").await;
        let mut content = b"Subject: first\r\n\r\nhello".to_vec();
        content.extend_from_slice(separator);
        content.extend_from_slice(smuggled);
        content.extend_from_slice(b".\r\nQUIT\r\n");
        c.send(&content).await;
        let rest = c.rest().await;
        assert!(
            rest.starts_with("554 5.6.0"),
            "{separator:?}: the whole message is refused, got {rest:?}"
        );
        assert!(rest.ends_with("221 2.0.0 Bye\r\n"), "{rest:?}");
        assert_eq!(rest.lines().count(), 2, "exactly two replies: {rest:?}");
    }
    assert_eq!(maildir_counts(dir.path()), (0, 0), "nothing stored");
    assert!(
        deliver(server.addr, b"Subject: ok\r\n\r\nok\r\n")
            .await
            .starts_with("250 2.0.0")
    );
    assert_eq!(maildir_counts(dir.path()), (1, 0));
    let summary = server.stop().await;
    assert_eq!(summary.messages, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_long_lines_and_nul_bytes() {
    let server = start(config()).await;
    let mut c = Raw::connect(server.addr).await;
    let mut long = b"EHLO ".to_vec();
    long.extend(std::iter::repeat_n(b'a', 100_000));
    long.extend_from_slice(b"\r\n");
    c.send(&long).await;
    assert!(c.until("\r\n").await.starts_with("500 5.5.6"));
    c.send(b"HELO c\0x\r\n").await;
    let reply = c.until("\r\n").await;
    assert!(
        reply.starts_with("501") || reply.starts_with("500"),
        "{reply}"
    );
    c.send(b"\0\0\0\r\nNOOP\r\n").await;
    c.until("\r\n").await;
    assert!(c.until("\r\n").await.starts_with("250"), "still answering");
    // A long text line inside DATA is refused at the end of data, and the session goes on.
    c.send(ENVELOPE).await;
    c.until("354 ").await;
    let mut content = vec![b'x'; 5000];
    content.extend_from_slice(b"\r\n.\r\n");
    c.send(&content).await;
    assert!(c.until("\r\n").await.starts_with("500 5.5.6"));
    // NUL bytes in content are content.
    c.send(b"MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n")
        .await;
    c.until("354 ").await;
    c.send(b"a\0b\r\n.\r\n").await;
    assert!(c.until("\r\n").await.starts_with("250 2.0.0"));
    // A line that never ends is cut off at the limit instead of filling memory.
    let mut c2 = Raw::connect(server.addr).await;
    for _ in 0..64 {
        c2.send(&[b'z'; 16 * 1024]).await;
    }
    c2.send(b"\r\nNOOP\r\n").await;
    assert!(c2.until("\r\n").await.starts_with("500 5.5.6"));
    assert!(c2.until("\r\n").await.starts_with("250"));
    assert_eq!(server.stop().await.messages, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_client_is_served_and_does_not_hold_up_others() {
    let server = start(config()).await;
    let mut slow = Raw::connect(server.addr).await;
    let command = b"EHLO slow.example\r\n";
    for (i, byte) in command.iter().enumerate() {
        slow.send(&[*byte]).await;
        if i == 5 {
            // Meanwhile another client gets through.
            let reply = deliver(server.addr, b"Subject: quick\r\n\r\nx\r\n").await;
            assert!(reply.starts_with("250 2.0.0"), "{reply}");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(slow.until("250 ").await.contains("slow.example"));
    assert_eq!(server.stop().await.messages, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_client_gets_421_after_the_command_timeout() {
    let mut cfg = config();
    cfg.timeouts.command = Duration::from_millis(200);
    cfg.timeouts.data = Duration::from_millis(200);
    let server = start(cfg).await;
    let mut idle = Raw::connect(server.addr).await;
    assert!(idle.rest().await.starts_with("421 4.4.2"));
    let mut in_data = Raw::connect(server.addr).await;
    in_data.send(ENVELOPE).await;
    in_data.until("354 ").await;
    in_data.send(b"Subject: half\r\n").await;
    let rest = in_data.rest().await;
    assert!(rest.starts_with("421 4.4.2"), "{rest:?}");
    assert_eq!(server.stop().await.messages, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_dropping_mid_data_loses_only_its_own_message() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config();
    cfg.maildir = Some(dir.path().to_path_buf());
    let server = start(cfg).await;
    for _ in 0..5 {
        let mut c = Raw::connect(server.addr).await;
        c.send(ENVELOPE).await;
        c.until("354 ").await;
        c.send(b"Subject: cut\r\n\r\nhalf a messa").await;
        drop(c);
    }
    let reply = deliver(server.addr, b"Subject: whole\r\n\r\nall of it\r\n").await;
    assert!(reply.starts_with("250 2.0.0"), "{reply}");
    let summary = server.stop().await;
    assert_eq!((summary.connections, summary.messages), (6, 1));
    // Each cut message's tmp/ file went with its connection.
    assert_eq!(maildir_counts(dir.path()), (1, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_connections_all_deliver() {
    const N: usize = 1000;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config();
    cfg.maildir = Some(dir.path().to_path_buf());
    cfg.max_connections = N;
    cfg.max_connections_per_ip = N;
    let server = start(cfg).await;
    let all_connected = Arc::new(tokio::sync::Barrier::new(N));
    let mut clients = Vec::with_capacity(N);
    for i in 0..N {
        let addr = server.addr;
        let all_connected = all_connected.clone();
        clients.push(tokio::spawn(async move {
            let mut c = Raw::connect(addr).await;
            tokio::time::timeout(common::PATIENCE, all_connected.wait())
                .await
                .expect("every client connects");
            c.send(ENVELOPE).await;
            c.until("354 ").await;
            c.send(format!("Subject: {i}\r\n\r\nmessage {i}\r\n.\r\nQUIT\r\n").as_bytes())
                .await;
            c.rest().await
        }));
    }
    for client in clients {
        let rest = client.await.unwrap();
        assert!(rest.starts_with("250 2.0.0"), "{rest:?}");
    }
    assert_eq!(maildir_counts(dir.path()), (N, 0));
    let mut subjects: Vec<String> = std::fs::read_dir(dir.path().join("new"))
        .unwrap()
        .map(|e| {
            let bytes = std::fs::read(e.unwrap().path()).unwrap();
            let text = String::from_utf8_lossy(common::without_trace(&bytes)).into_owned();
            text.lines().next().unwrap().to_string()
        })
        .collect();
    subjects.sort();
    subjects.dedup();
    assert_eq!(subjects.len(), N, "every message stored once");
    let summary = server.stop().await;
    assert_eq!(
        (summary.connections, summary.messages),
        (N as u64, N as u64)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_limits_answer_421() {
    let mut cfg = config();
    cfg.max_connections = 3;
    cfg.max_connections_per_ip = 2;
    cfg.limit_loopback = true;
    let server = start(cfg).await;
    let a = Raw::connect(server.addr).await;
    let _b = Raw::connect(server.addr).await;
    let mut third = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let mut got = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut third, &mut got)
        .await
        .unwrap();
    assert!(
        got.starts_with("421 4.7.0 Too many connections from your address"),
        "{got}"
    );
    drop(a);
    // The place is given back when a connection ends.
    let mut again = None;
    for _ in 0..200 {
        let mut s = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        let mut first = [0u8; 3];
        tokio::io::AsyncReadExt::read_exact(&mut s, &mut first)
            .await
            .unwrap();
        if &first == b"220" {
            again = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(again.is_some(), "a connection is admitted again");
    let summary = server.stop().await;
    assert!(summary.refused >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_sessions_finish_then_closes_them_with_421() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config();
    cfg.maildir = Some(dir.path().to_path_buf());
    cfg.shutdown_grace = Duration::from_secs(3);
    let server = start(cfg).await;
    let addr = server.addr;
    let mut busy = Raw::connect(addr).await;
    busy.send(ENVELOPE).await;
    busy.until("354 ").await;
    let mut idle = Raw::connect(addr).await;
    let stopping = tokio::spawn(server.stop());
    // The session in progress may still finish its message during the grace period.
    busy.send(b"Subject: last\r\n\r\nin time\r\n.\r\n").await;
    assert!(busy.until("\r\n").await.starts_with("250 2.0.0"));
    let summary = stopping.await.unwrap();
    assert_eq!(summary.messages, 1);
    assert!(idle.rest().await.starts_with("421 4.3.2"));
    assert!(busy.rest().await.starts_with("421 4.3.2"));
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "no longer listening"
    );
    assert_eq!(maildir_counts(dir.path()), (1, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_injected_after_starttls_are_discarded() {
    let server = start(config()).await;
    let tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let mut c = Raw {
        stream: tcp,
        received: Vec::new(),
    };
    c.until("220 ").await;
    c.send(b"EHLO c\r\n").await;
    c.until("250 ").await;
    // The plaintext MAIL after STARTTLS must not survive into the TLS session.
    c.send(b"STARTTLS\r\nMAIL FROM:<evil@example.com>\r\n")
        .await;
    assert!(c.until("\r\n").await.starts_with("220 2.0.0"));
    assert!(c.received.is_empty());
    let connector = tokio_rustls::TlsConnector::from(smtpsim_server::insecure_client_config());
    let mut tls = connector
        .connect(smtpsim_server::server_name("localhost"), c.stream)
        .await
        .unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    tls.write_all(b"EHLO c\r\nRCPT TO:<b@example.net>\r\nQUIT\r\n")
        .await
        .unwrap();
    let mut got = String::new();
    tls.read_to_string(&mut got).await.unwrap();
    assert!(got.contains("503 5.5.1 Send MAIL FROM first"), "{got}");
    assert!(!got.contains("STARTTLS"), "not offered twice: {got}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_over_the_size_limit_is_refused_without_being_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config();
    cfg.limits.message_size = Some(10_000);
    cfg.maildir = Some(dir.path().to_path_buf());
    let server = start(cfg).await;
    let mut c = Raw::connect(server.addr).await;
    c.send(ENVELOPE).await;
    c.until("354 ").await;
    let line = [b'y'; 998];
    for _ in 0..2000 {
        c.send(&line).await;
        c.send(b"\r\n").await;
    }
    c.send(b".\r\nNOOP\r\n").await;
    assert!(c.until("\r\n").await.starts_with("552 5.3.4"));
    assert!(
        c.until("\r\n").await.starts_with("250"),
        "the session goes on"
    );
    assert_eq!(maildir_counts(dir.path()), (0, 0));
    server.stop().await;
}
