//! `smtpsim blast` as a process against `smtpsim serve` as a process.

use crate::common;

use std::process::Command;

use common::{Serve, check};

/// `smtpsim blast --to 127.0.0.1:PORT`, to be given the rest of its arguments.
fn blast_to(port: u16) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_smtpsim"));
    command.args(["blast", "--to", &format!("127.0.0.1:{port}")]);
    command
}

#[test]
fn blast_reports_and_writes_csv() {
    let serve = Serve::start(&["--user", "alice:secret"], false);
    let csv = serve.path("blast.csv");
    let out = Command::new(env!("CARGO_BIN_EXE_smtpsim"))
        .args(["blast", "--to", &format!("localhost:{}", serve.port)])
        .args(["--messages", "60", "--concurrency", "4", "--size", "2000"])
        .args([
            "--recipients",
            "2",
            "--reuse",
            "--starttls",
            "--auth",
            "alice:secret",
        ])
        .arg("--csv")
        .arg(&csv)
        .output()
        .unwrap();
    let text = check(out, "smtpsim blast");
    assert!(text.starts_with("smtpsim blast: 60 messages to "), "{text}");
    assert!(text.contains("accepted 60"), "{text}");
    assert!(text.contains("replies per recipient: 250=120"), "{text}");
    assert!(text.contains("latency: p50 "), "{text}");
    let csv = std::fs::read_to_string(csv).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0].starts_with("target,messages,concurrency,size,recipients,reuse,tls,"));
    let row: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(row.len(), lines[0].split(',').count());
    assert_eq!(
        &row[..7],
        &[
            &*format!("localhost:{}", serve.port),
            "60",
            "4",
            "2000",
            "2",
            "true",
            "starttls"
        ]
    );
    assert_eq!(row[9], "60");
    assert_eq!(row[10], "4");
    assert_eq!(row[16], "250=120");
    let (code, rest) = serve.stop();
    assert_eq!(code, Some(0));
    assert!(rest.contains("60 messages accepted"), "{rest}");
}

#[test]
fn blast_exits_1_when_messages_are_refused() {
    let serve = Serve::start(&["--unknown", "rcpt0@example.net", "--no-tls"], false);
    let out = blast_to(serve.port)
        .args(["--messages", "5", "--concurrency", "2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("replies per recipient: 550=5"), "{text}");
}

#[test]
fn bad_arguments_are_clear_errors() {
    let out = Command::new(env!("CARGO_BIN_EXE_smtpsim"))
        .args(["blast", "--to", "nowhere", "--messages", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--to nowhere"));
    let out = Command::new(env!("CARGO_BIN_EXE_smtpsim"))
        .args(["serve", "--chaos", "quit=0.5"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown stage"));
    let out = Command::new(env!("CARGO_BIN_EXE_smtpsim"))
        .args([
            "serve",
            "--cert",
            "/nonexistent.pem",
            "--key",
            "/nonexistent.key",
            "--listen",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent.pem"));
    let serve = Serve::start(&["--no-tls"], false);
    let out = Command::new(env!("CARGO_BIN_EXE_smtpsim"))
        .args([
            "serve",
            "--no-tls",
            "--listen",
            &format!("127.0.0.1:{}", serve.port),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot listen on 127.0.0.1:"));
}

#[test]
fn chaos_drop_makes_connections_vanish_without_a_reply() {
    let serve = Serve::start(&["--no-tls", "--chaos", "rcpt=1", "--chaos-drop"], false);
    let out = blast_to(serve.port)
        .args(["--messages", "4", "--concurrency", "2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    // No reply code at all: every recipient ends with the connection lost.
    assert!(
        text.contains("replies per recipient: connection lost=4\n"),
        "{text}"
    );
    serve.stop();
}

#[test]
fn an_open_load_says_so_and_keeps_its_rate_in_the_csv() {
    let serve = Serve::start(&["--no-tls"], false);
    let csv = serve.path("open.csv");
    let out = blast_to(serve.port)
        .args(["--messages", "20", "--concurrency", "2", "--rate", "400"])
        .arg("--csv")
        .arg(&csv)
        .output()
        .unwrap();
    let text = check(out, "smtpsim blast --rate");
    assert!(
        text.contains("open load: a message due every 2.500 ms"),
        "{text}"
    );
    let csv = std::fs::read_to_string(csv).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].ends_with(",replies,rate_per_s"), "{csv}");
    assert!(lines[1].ends_with(",250=20,400"), "{csv}");

    let out = blast_to(serve.port)
        .args(["--messages", "1", "--rate", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("the rate must be"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serve.stop();
}
