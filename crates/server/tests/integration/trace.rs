//! A stored message starts with the trace header lines of an MTA: `Return-Path:`, one
//! `X-Original-To:` and `Delivered-To:` per recipient, and `Received:` with the client's
//! name and address, the TLS version and cipher, the AUTH user and the date.

use crate::common;

use common::{Raw, config, start, without_trace};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_received_line_says_tls_auth_and_when() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config();
    cfg.maildir = Some(dir.path().to_path_buf());
    cfg.hostname = "mx.test".to_string();
    cfg.users = vec![("alice".to_string(), "secret".to_string())];
    let server = start(cfg).await;
    let mut c = Raw::connect(server.addr).await;
    c.send(b"EHLO plain\r\n").await;
    c.until("250 ").await;
    c.send(b"STARTTLS\r\n").await;
    c.until("220 ").await;
    let connector = tokio_rustls::TlsConnector::from(smtpsim_server::insecure_client_config());
    let mut tls = connector
        .connect(smtpsim_server::server_name("localhost"), c.stream)
        .await
        .unwrap();
    // AUTH PLAIN \0alice\0secret
    tls.write_all(
        b"EHLO client.test\r\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\r\nMAIL FROM:<a@example.com>\r\n\
          RCPT TO:<b@example.net>\r\nRCPT TO:<c@example.net>\r\nDATA\r\n",
    )
    .await
    .unwrap();
    let content = b"Subject: hi\r\n\r\nbody\r\n";
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&got).contains("354 ") {
        let n = tls.read(&mut buf).await.unwrap();
        assert!(n > 0, "{}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    tls.write_all(content).await.unwrap();
    tls.write_all(b".\r\nQUIT\r\n").await.unwrap();
    let mut rest = String::new();
    tls.read_to_string(&mut rest).await.unwrap();
    assert!(rest.contains("250 2.0.0"), "{rest}");
    server.stop().await;

    let file = std::fs::read_dir(dir.path().join("new"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    let stored = std::fs::read(file.path()).unwrap();
    assert_eq!(without_trace(&stored), content, "the content as received");
    let text = String::from_utf8_lossy(&stored);
    let head = text.split("Subject:").next().unwrap();
    let expected_start = "Return-Path: <a@example.com>\r\n\
        X-Original-To: b@example.net\r\nDelivered-To: b@example.net\r\n\
        X-Original-To: c@example.net\r\nDelivered-To: c@example.net\r\n\
        Received: from client.test ([127.0.0.1])\r\n\
        \t(using TLSv1.3 with cipher TLS13_";
    assert!(head.starts_with(expected_start), "{head}");
    assert!(
        head.contains(
            ")\r\n\t(authenticated user alice)\r\n\tby mx.test (smtpsim) with ESMTPSA id "
        ),
        "{head}"
    );
    // `; Sat, 05 Dec 2026 04:06:07 +0000` as RFC 5322 writes dates.
    let date = head.rsplit(";\r\n\t").next().unwrap().trim_end();
    let parsed = time::OffsetDateTime::parse(date, &time::format_description::well_known::Rfc2822);
    assert!(parsed.is_ok(), "{date:?}");
}
