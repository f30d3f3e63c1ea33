//! The HTTP API of a running server, spoken to with plain HTTP/1.1: status codes, the bounds
//! of what it keeps, bad bodies refused with the field named and nothing changed, a behaviour
//! changed while a connection is open, and the metrics' line format.

use crate::common;

use std::net::SocketAddr;

use common::{PATIENCE, Raw, config, start};
use smtpsim_server::http::HttpSetup;
use smtpsim_server::{CaptureBounds, ServeError, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// An answer: status, headers (lower-case names), body.
struct Answer {
    status: u16,
    headers: String,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!("{e}: {}", String::from_utf8_lossy(&self.body));
        })
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

async fn request(addr: SocketAddr, method: &str, path: &str, body: &str) -> Answer {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(body.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    tokio::time::timeout(PATIENCE, s.read_to_end(&mut got))
        .await
        .expect("the API answers")
        .unwrap();
    let end = got.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let headers = String::from_utf8_lossy(&got[..end]).to_lowercase();
    let status = headers[9..12].parse().unwrap();
    let mut body = got[end + 4..].to_vec();
    if headers.contains("transfer-encoding: chunked") {
        body = unchunk(&body);
    }
    Answer {
        status,
        headers,
        body,
    }
}

fn unchunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line = data.windows(2).position(|w| w == b"\r\n").unwrap();
        let size = usize::from_str_radix(std::str::from_utf8(&data[..line]).unwrap(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[line + 2..line + 2 + size]);
        data = &data[line + 4 + size..];
    }
}

fn with_http(bounds: CaptureBounds) -> smtpsim_server::ServeConfig {
    let mut cfg = config();
    cfg.http = Some(HttpSetup {
        listen: "127.0.0.1:0".parse().unwrap(),
        public: false,
        bounds,
    });
    cfg
}

async fn send_message(addr: SocketAddr, to: &str, subject: &str) {
    let mut c = Raw::connect(addr).await;
    c.send(
        format!("EHLO client.example\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<{to}>\r\nDATA\r\n")
            .as_bytes(),
    )
    .await;
    c.until("354 ").await;
    c.send(format!("Subject: {subject}\r\n\r\nbody\r\n.\r\nQUIT\r\n").as_bytes())
        .await;
    c.until("221 ").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_sessions_and_status_codes() {
    let bounds = CaptureBounds {
        max_messages: 2,
        ..CaptureBounds::default()
    };
    let server = start(with_http(bounds)).await;
    let api = server.http_addr.unwrap();
    for (to, subject) in [
        ("b@example.net", "one"),
        ("c@example.net", "two"),
        ("b@example.org", "three"),
    ] {
        send_message(server.addr, to, subject).await;
    }
    let list = request(api, "GET", "/api/messages", "").await;
    assert_eq!(list.status, 200);
    let list = list.json();
    assert_eq!(list["bounds"]["max_messages"], 2);
    assert_eq!(list["dropped"], 1, "the oldest went first");
    let ids: Vec<_> = list["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [2, 3]);
    let last = &list["messages"][1];
    assert_eq!(last["subject"], "three");
    assert_eq!(last["helo"], "client.example");
    assert_eq!(last["to"], serde_json::json!(["b@example.org"]));
    let filtered = request(api, "GET", "/api/messages?to=example.org", "")
        .await
        .json();
    assert_eq!(filtered["messages"].as_array().unwrap().len(), 1);

    let raw = request(api, "GET", "/api/messages/3", "").await;
    assert_eq!(raw.status, 200);
    assert!(
        raw.headers.contains("content-type: message/rfc822"),
        "{}",
        raw.headers
    );
    assert_eq!(raw.body, b"Subject: three\r\n\r\nbody\r\n");
    assert_eq!(request(api, "GET", "/api/messages/1", "").await.status, 404);
    let bad = request(api, "GET", "/api/messages/first", "").await;
    assert_eq!(
        (bad.status, bad.json()["field"].as_str()),
        (400, Some("id"))
    );
    let bad = request(api, "GET", "/api/messages?subject=x", "").await;
    assert_eq!(
        (bad.status, bad.json()["field"].as_str()),
        (400, Some("subject"))
    );

    let sessions = request(api, "GET", "/api/sessions", "").await;
    assert_eq!(sessions.status, 200);
    assert_eq!(sessions.json()["sessions"].as_array().unwrap().len(), 3);
    let one = request(api, "GET", "/api/sessions/2", "").await.json();
    let said: Vec<&str> = one["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["text"].as_str().unwrap())
        .collect();
    assert!(said.contains(&"RCPT TO:<c@example.net>"), "{said:?}");
    assert!(said.iter().any(|l| l.starts_with("221 ")), "{said:?}");
    assert_eq!(
        request(api, "GET", "/api/sessions/99", "").await.status,
        404
    );

    assert_eq!(
        request(api, "DELETE", "/api/messages", "").await.status,
        204
    );
    let list = request(api, "GET", "/api/messages", "").await.json();
    assert!(list["messages"].as_array().unwrap().is_empty());
    assert_eq!(request(api, "GET", "/nowhere", "").await.status, 404);
    let page = request(api, "GET", "/", "").await;
    assert!(page.headers.contains("text/html") && page.text().contains("/api/messages"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_body_changes_nothing_and_a_good_one_applies_to_the_next_command() {
    let server = start(with_http(CaptureBounds::default())).await;
    let api = server.http_addr.unwrap();
    let mut c = Raw::connect(server.addr).await;
    c.send(b"EHLO c\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<x@example.net>\r\n")
        .await;
    c.until("250 2.1.5").await;

    // The greylisting is right, the chaos is not: nothing changes.
    let bad = request(
        api,
        "PUT",
        "/api/behaviour",
        r#"{"greylisting": {"delay": "30s"}, "unknown": ["x@example.net"], "chaos": {"rcpt": 2}}"#,
    )
    .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["field"], "chaos.rcpt");
    assert!(
        bad.json()["error"]
            .as_str()
            .unwrap()
            .contains("between 0 and 1")
    );
    let typo = request(api, "PUT", "/api/behaviour", r#"{"unknwon": []}"#).await;
    assert_eq!(
        (typo.status, typo.json()["field"].as_str()),
        (400, Some("unknwon"))
    );
    let now = request(api, "GET", "/api/behaviour", "").await.json();
    assert_eq!(now["greylisting"], serde_json::Value::Null);
    c.send(b"RCPT TO:<x@example.net>\r\n").await;
    c.until("250 2.1.5").await;

    let good = request(
        api,
        "PUT",
        "/api/behaviour",
        r#"{"unknown": ["x@example.net"]}"#,
    )
    .await;
    assert_eq!(good.status, 200, "{}", good.text());
    assert_eq!(good.json()["unknown"], serde_json::json!(["x@example.net"]));
    // The open connection's next command sees the change.
    c.send(b"RCPT TO:<x@example.net>\r\n").await;
    let reply = c.until("\r\n").await;
    assert!(reply.starts_with("550 5.1.1"), "{reply}");
    let metrics = request(api, "GET", "/metrics", "").await;
    assert!(
        metrics
            .text()
            .contains("smtpsim_decisions_total{stage=\"rcpt\",reason=\"unknown user\"} 1\n"),
        "{}",
        metrics.text()
    );
    assert!(
        metrics
            .text()
            .contains("smtpsim_replies_total{code=\"550\"} 1\n")
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_put_while_running_apply_to_new_commands_and_bad_ones_change_nothing() {
    let server = start(with_http(CaptureBounds::default())).await;
    let api = server.http_addr.unwrap();
    let mut c = Raw::connect(server.addr).await;
    c.send(b"EHLO c\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<bob@y.example>\r\n")
        .await;
    c.until("250 2.1.5").await;

    let broken = crate::rules::RULES.replace("code = 554", "code = 250");
    let body = serde_json::json!({ "unknown": ["x@example.net"], "rules": broken }).to_string();
    let bad = request(api, "PUT", "/api/behaviour", &body).await;
    assert_eq!(bad.status, 400, "{}", bad.text());
    assert_eq!(bad.json()["field"], "rules.rule[1].code");
    assert!(
        bad.json()["error"].as_str().unwrap().contains("line 18"),
        "{}",
        bad.text()
    );
    let now = request(api, "GET", "/api/behaviour", "").await.json();
    assert_eq!(
        (
            now["rules"].as_str(),
            now["unknown"].as_array().map(Vec::len)
        ),
        (Some(""), Some(0))
    );
    c.send(b"RCPT TO:<bob@y.example>\r\n").await;
    c.until("250 2.1.5").await;

    let body = serde_json::json!({ "rules": crate::rules::RULES }).to_string();
    let good = request(api, "PUT", "/api/behaviour", &body).await;
    assert_eq!(good.status, 200, "{}", good.text());
    assert_eq!(good.json()["rules"], crate::rules::RULES);
    // The open connection's next command meets the rule, once (its count is 1).
    c.send(b"RCPT TO:<bob@y.example>\r\n").await;
    c.until("451 4.7.1").await;
    c.send(b"RCPT TO:<bob@y.example>\r\n").await;
    c.until("250 2.1.5").await;
    let session = request(api, "GET", "/api/sessions/1", "").await.json();
    let lines: Vec<&str> = session["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["text"].as_str())
        .collect();
    assert!(
        lines.contains(&"rcpt refuse: rule greylist-bob-once (bob@y.example)"),
        "{lines:?}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_listens_beyond_loopback_only_when_allowed() {
    let mut cfg = with_http(CaptureBounds::default());
    let setup = cfg.http.as_mut().unwrap();
    setup.listen = "0.0.0.0:0".parse().unwrap();
    let refused = Server::bind(cfg.clone()).await.unwrap_err();
    assert!(
        matches!(refused, ServeError::HttpNotLoopback { .. }),
        "{refused}"
    );
    assert!(refused.to_string().contains("--http-public"));
    cfg.http.as_mut().unwrap().public = true;
    let server = Server::bind(cfg).await.unwrap();
    assert!(server.http_local_addr().is_some());

    let mut cfg = with_http(CaptureBounds::default());
    cfg.http.as_mut().unwrap().bounds.max_messages = 0;
    let refused = Server::bind(cfg).await.unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("max_messages must be between 1"),
        "{refused}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_maildir_the_bytes_come_from_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = with_http(CaptureBounds::default());
    cfg.maildir = Some(dir.path().to_path_buf());
    let server = start(cfg).await;
    let api = server.http_addr.unwrap();
    send_message(server.addr, "b@example.net", "kept on disk").await;
    let list = request(api, "GET", "/api/messages", "").await.json();
    let file = list["messages"][0]["file"]
        .as_str()
        .expect("a Maildir file");
    assert_eq!(list["messages"][0]["subject"], "kept on disk");
    assert_eq!(list["bytes"], 0, "nothing held in memory");
    let stored = std::fs::read(dir.path().join("new").join(file)).unwrap();
    let raw = request(api, "GET", "/api/messages/1", "").await;
    assert_eq!(raw.status, 200);
    assert_eq!(raw.body, stored);
    let metrics = request(api, "GET", "/metrics", "").await.text();
    assert_eq!(
        sample(&metrics, "smtpsim_maildir_syncs_total{of=\"file\"}"),
        1.0
    );
    assert_eq!(
        sample(&metrics, "smtpsim_maildir_syncs_total{of=\"directory\"}"),
        1.0
    );
    server.stop().await;
}

/// The value of the sample `series` in a metrics text.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {series} in {text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_reply_lands_in_a_higher_latency_bucket() {
    let server = start(with_http(CaptureBounds::default())).await;
    let api = server.http_addr.unwrap();
    let mut c = Raw::connect(server.addr).await;
    let put = request(api, "PUT", "/api/behaviour", r#"{"latency": "50ms"}"#).await;
    assert_eq!(put.status, 200);
    let before = request(api, "GET", "/metrics", "").await.text();
    c.send(b"NOOP\r\n").await;
    c.until("250 ").await;
    let after = request(api, "GET", "/metrics", "").await.text();
    let bucket = |text: &str, le: &str| {
        sample(
            text,
            &format!("smtpsim_reply_latency_seconds_bucket{{le=\"{le}\"}}"),
        )
    };
    // The reply waited at least 50 ms: counted in all, not at or under 10 ms.
    assert_eq!(bucket(&after, "+Inf"), bucket(&before, "+Inf") + 1.0);
    assert_eq!(bucket(&after, "0.01"), bucket(&before, "0.01"));
    let sum = |text: &str| sample(text, "smtpsim_reply_latency_seconds_sum");
    assert!(sum(&after) - sum(&before) >= 0.05);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_sees_one_behaviour_or_the_other_never_a_mix() {
    let server = start(with_http(CaptureBounds::default())).await;
    let api = server.http_addr.unwrap();
    let a = r#"{"greylisting": {"delay": "10s"}, "unknown": ["a@example.net"], "chaos": {"mail": 0.25}}"#;
    let b = r#"{"message_rate": {"rate": "5/s"}, "latency": "1ms", "temp_failures": 0.5}"#;
    let docs: Vec<serde_json::Value> = [a, b]
        .iter()
        .map(|d| as_read_back(&serde_json::from_str(d).unwrap()))
        .collect();
    let writer = tokio::spawn(async move {
        for i in 0..40 {
            let body = if i % 2 == 0 { a } else { b };
            assert_eq!(
                request(api, "PUT", "/api/behaviour", body).await.status,
                200
            );
        }
    });
    let mut seen = 0;
    while !writer.is_finished() || seen == 0 {
        let now = request(api, "GET", "/api/behaviour", "").await.json();
        if now != default_doc() {
            assert!(docs.contains(&now), "a mix: {now}");
            seen += 1;
        }
    }
    writer.await.unwrap();
    server.stop().await;
}

/// The document with every field, as `GET` shows it, for a body that gives some.
fn as_read_back(given: &serde_json::Value) -> serde_json::Value {
    let mut all = default_doc();
    for (k, v) in given.as_object().unwrap() {
        let slot = &mut all[k];
        match (slot.as_object_mut(), v.as_object()) {
            (Some(fields), Some(vs)) => fields.extend(vs.clone()),
            _ => *slot = v.clone(),
        }
    }
    if let Some(g) = all["greylisting"].as_object_mut() {
        g.entry("window").or_insert("4h".into());
        g.entry("whitelist_after").or_insert(0.into());
    }
    if let Some(r) = all["message_rate"].as_object_mut() {
        r.insert("rate".into(), "5/s".into());
        r.entry("burst").or_insert(1.into());
    }
    all
}

fn default_doc() -> serde_json::Value {
    serde_json::json!({
        "greylisting": null, "message_rate": null, "connection_rate": null,
        "unknown_users": 0.0, "unknown": [], "full_mailboxes": null, "temp_failures": 0.0,
        "require_tls": false, "latency": "0s",
        "chaos": {"connect": 0.0, "helo": 0.0, "mail": 0.0, "rcpt": 0.0, "data": 0.0,
                  "message": 0.0, "drop": false},
        "rules": ""
    })
}
