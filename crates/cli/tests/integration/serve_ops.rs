//! `smtpsim serve` and `smtpsim blast` under real operation: ranges of the numeric flags,
//! loopback clients and the per-address limit, a session log on a full disk, errors printed
//! once, and blast against servers it cannot use.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::common::{Serve, check};
use crate::support;

/// Runs `smtpsim ARGS`, which must exit by itself (a server that starts is killed and the
/// test fails): the exit code and stderr.
fn exits(args: &[&str]) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_smtpsim"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    for _ in 0..6000 {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut stderr)
                .unwrap();
            return (status.code().unwrap_or(-1), stderr);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    panic!("smtpsim {args:?} did not exit");
}

#[test]
fn serve_flags_out_of_range_are_errors() {
    let cases: &[(&[&str], &str)] = &[
        (&["--max-connections", "0"], "0 is not in 1..=1000000"),
        (
            &["--max-connections-per-ip", "0"],
            "0 is not in 1..=1000000",
        ),
        (&["--max-connections", "1000001"], "is not in 1..=1000000"),
        (&["--command-timeout", "0s"], "0s is not between 1s and 1d"),
        (&["--data-timeout", "2d"], "2d is not between 1s and 1d"),
        (&["--shutdown-grace", "25h"], "25h is not between 0s and 1d"),
        (&["--greylist", "0s"], "0s is not between 1s and 1d"),
        (&["--latency", "2h"], "2h is not between 0s and 1h"),
        (
            &["--message-rate", "0/s"],
            "a rate must be between 1e-9/s and 1e6/s",
        ),
        (
            &["--connection-rate", "2000000/s"],
            "a rate must be between 1e-9/s and 1e6/s",
        ),
        (&["--max-size", "0"], "at least 1 octet"),
        (&["--log-required"], "--log <FILE>"),
        (&["--bandwidth", "0"], "0 is not in 1..=1000000000"),
        (&["--bandwidth", "1000000001"], "is not in 1..=1000000000"),
        (&["--threads", "0"], "0 is not in 1..=1024"),
        (&["--threads", "1025"], "is not in 1..=1024"),
    ];
    for (flags, expected) in cases {
        let mut args = vec!["serve", "--no-tls", "--listen", "127.0.0.1:0"];
        args.extend_from_slice(flags);
        let (code, stderr) = exits(&args);
        assert_eq!(code, 2, "{flags:?}: {stderr}");
        assert!(stderr.contains(expected), "{flags:?}: {stderr}");
    }
}

#[test]
fn blast_flags_out_of_range_are_errors() {
    let cases: &[(&[&str], &str)] = &[
        (&["--concurrency", "0"], "0 is not in 1..=100000"),
        (&["--recipients", "1001"], "1001 is not in 1..=1000"),
        (&["--messages", "0"], "0 is not in 1.."),
        (&["--timeout", "0"], "0 is not in 1..=86400"),
        (&["--size", "0"], "the size must be between"),
        (&["--size", "18446744073709551615"], "and 104857600 octets"),
        (
            &["--rate", "1e-300"],
            "the rate must be between 0.001 and 1000000",
        ),
        (&["--rate", "1e300"], "not 1e300"),
        (&["--rate", "NaN"], "not NaN"),
    ];
    for (flags, expected) in cases {
        let mut args = vec!["blast", "--to", "127.0.0.1:9"];
        args.extend_from_slice(flags);
        let (code, stderr) = exits(&args);
        assert_eq!(code, 2, "{flags:?}: {stderr}");
        assert!(stderr.contains(expected), "{flags:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{flags:?}: {stderr}");
    }
}

#[test]
fn an_unknown_domain_lists_the_scenarios_domains() {
    let scenario = support::scenario("quickstart.toml");
    let (code, stderr) = exits(&["serve", "--scenario", &scenario, "--domain", "nope.example"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("no domain \"nope.example\"; its domains: shop.example, news-bounces.example, gmail.com,"),
        "{stderr}"
    );
}

#[test]
fn an_error_and_its_cause_are_printed_once() {
    let serve = Serve::start(&["--no-tls"], false);
    let port = serve.port.to_string();
    let (code, stderr) = exits(&[
        "serve",
        "--no-tls",
        "--listen",
        &format!("127.0.0.1:{port}"),
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with("smtpsim: cannot listen on 127.0.0.1:"),
        "{stderr}"
    );
    assert_eq!(
        stderr.matches("Address already in use").count(),
        1,
        "{stderr}"
    );
    serve.stop();
}

/// Reads one reply (all its lines) from a raw connection.
fn reply(reader: &mut BufReader<TcpStream>) -> String {
    let mut text = String::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        assert!(!line.is_empty(), "connection closed after {text:?}");
        text.push_str(&line);
        if line.as_bytes().get(3) != Some(&b'-') {
            return text;
        }
    }
}

fn connect(port: u16) -> (TcpStream, BufReader<TcpStream>) {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let reader = BufReader::new(stream.try_clone().unwrap());
    (stream, reader)
}

#[test]
fn three_threads_serve_every_connection_and_stop_together() {
    let serve = Serve::start(
        &[
            "--no-tls",
            "--quiet",
            "--threads",
            "3",
            "--shutdown-grace",
            "0s",
        ],
        false,
    );
    let out = Command::new(env!("CARGO_BIN_EXE_smtpsim"))
        .args(["blast", "--to", &format!("127.0.0.1:{}", serve.port)])
        .args(["--messages", "200", "--concurrency", "20"])
        .output()
        .unwrap();
    let text = check(out, "smtpsim blast --messages 200");
    assert!(text.contains("accepted 200"), "{text}");
    // A session left open on whichever thread accepted it is closed by the stop.
    let (mut stream, mut reader) = connect(serve.port);
    assert!(reply(&mut reader).starts_with("220 "));
    stream.write_all(b"EHLO client.example\r\n").unwrap();
    assert!(reply(&mut reader).starts_with("250-"));
    let (code, rest) = serve.stop();
    assert_eq!(code, Some(0));
    assert!(reply(&mut reader).starts_with("421 4.3.2 "));
    assert!(
        rest.contains(
            "stopped after 201 connections (0 refused at the limits), 200 messages accepted"
        ),
        "{rest}"
    );
}

#[test]
fn loopback_clients_pass_the_per_address_limit_unless_asked() {
    // 300 connections at once from 127.0.0.1 with the default limit of 100 per address.
    let serve = Serve::start(&["--no-tls"], false);
    let out = Command::new(env!("CARGO_BIN_EXE_smtpsim"))
        .args(["blast", "--to", &format!("127.0.0.1:{}", serve.port)])
        .args(["--messages", "300", "--concurrency", "300"])
        .output()
        .unwrap();
    let text = check(out, "smtpsim blast --concurrency 300");
    assert!(text.contains("accepted 300"), "{text}");
    serve.stop();

    let serve = Serve::start(
        &[
            "--no-tls",
            "--max-connections-per-ip",
            "1",
            "--limit-loopback",
        ],
        false,
    );
    let (_first, mut first) = connect(serve.port);
    assert!(reply(&mut first).starts_with("220 "));
    let (_second, mut second) = connect(serve.port);
    let refused = reply(&mut second);
    assert!(
        refused.starts_with("421 4.7.0 Too many connections from your address"),
        "{refused}"
    );
    let (_, rest) = serve.stop();
    assert!(rest.contains("(1 refused at the limits)"), "{rest}");
}

/// `smtpsim serve --no-tls ARGS` on a free port with stderr piped: the child, its port, and
/// its stderr.
fn serve_piped(args: &[&str]) -> (Child, u16, BufReader<std::process::ChildStderr>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_smtpsim"))
        .args(["serve", "--no-tls", "--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let port = line.trim().rsplit(':').next().unwrap().parse().unwrap();
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let stderr = BufReader::new(child.stderr.take().unwrap());
    (child, port, stderr)
}

const EHLO_MAIL: &[u8] = b"EHLO client.example\r\nMAIL FROM:<a@example.com>\r\n";

#[test]
fn a_log_on_a_full_disk_is_reported_at_once_and_refuses_transactions() {
    let (mut child, port, mut stderr) = serve_piped(&["--log", "/dev/full"]);
    let (mut stream, mut reader) = connect(port);
    assert!(reply(&mut reader).starts_with("220 "));
    // The connection's first record fails: stderr says so while the server runs.
    let mut said = String::new();
    stderr.read_line(&mut said).unwrap();
    assert!(
        said.starts_with("session log /dev/full: cannot write: "),
        "{said}"
    );
    assert!(said.contains("refused with 451 4.3.0"), "{said}");
    stream.write_all(EHLO_MAIL).unwrap();
    assert!(reply(&mut reader).starts_with("250"));
    let refused = reply(&mut reader);
    assert!(
        refused.starts_with("451 4.3.0 Cannot log transactions now"),
        "{refused}"
    );
    drop((stream, reader));
    crate::common::signal(&child, "TERM");
    let status = child.wait().unwrap();
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert_eq!(status.code(), Some(2), "{rest}");
    assert!(rest.contains("lines could not be written"), "{rest}");
}

#[test]
fn a_required_log_on_a_full_disk_stops_the_server() {
    let (mut child, port, mut stderr) = serve_piped(&["--log", "/dev/full", "--log-required"]);
    let (_stream, mut reader) = connect(port);
    let mut got = String::new();
    let _ = reader.read_to_string(&mut got);
    assert!(got.contains("421 4.3.2"), "{got:?}");
    let status = child.wait().unwrap();
    let mut said = String::new();
    stderr.read_to_string(&mut said).unwrap();
    assert_eq!(status.code(), Some(2), "{said}");
    assert!(
        said.contains("smtpsim: session log /dev/full: cannot write (")
            && said.contains("the server stopped, as the log is required"),
        "{said}"
    );
}

#[test]
fn blast_stops_when_it_cannot_connect_or_authenticate() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let out = Command::new(env!("CARGO_BIN_EXE_smtpsim"))
        .args([
            "blast",
            "--to",
            &format!("127.0.0.1:{port}"),
            "--messages",
            "1000",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.to_lowercase().contains("connection refused"),
        "{stderr}"
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("messages/s"));

    let serve = Serve::start(&["--no-tls"], false);
    let out = Command::new(env!("CARGO_BIN_EXE_smtpsim"))
        .args(["blast", "--to", &format!("127.0.0.1:{}", serve.port)])
        .args(["--messages", "5", "--reuse", "--auth", "alice:secret"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("does not offer AUTH PLAIN or LOGIN; nothing was sent"),
        "{stderr}"
    );
    let (_, rest) = serve.stop();
    assert!(rest.contains(", 0 messages accepted"), "{rest}");
}

#[test]
fn a_rules_file_with_a_mistake_is_an_error_naming_line_column_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rules.toml");
    std::fs::write(
        &path,
        "[[rule]]\nname = \"r\"\nstage = \"rcpt\"\non = \"address\"\npattern = \"x\"\ncode = 200\n",
    )
    .unwrap();
    let (code, stderr) = exits(&[
        "serve",
        "--no-tls",
        "--listen",
        "127.0.0.1:0",
        "--rules",
        path.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{stderr}");
    let expected = format!(
        "{}:6:8: rule[0].code: a code must be between 400 and 599, not 200",
        path.display()
    );
    assert!(stderr.contains(&expected), "{stderr}");
}

/// A test fixture that starts the server with a pipe for stdout and never reads it: the
/// session lines (about 100 KB here, more than a pipe holds) must not hold the server up.
#[test]
fn an_unread_stdout_does_not_hold_sessions_up() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_smtpsim"))
        .args(["serve", "--no-tls", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let port: u16 = line.trim().rsplit(':').next().unwrap().parse().unwrap();
    for _ in 0..1500 {
        let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut reader = BufReader::new(stream);
        assert!(reply(&mut reader).starts_with("220 "), "greeted");
        reader.get_mut().write_all(b"QUIT\r\n").unwrap();
        assert!(reply(&mut reader).starts_with("221 "));
    }
    let _ = child.kill();
    let _ = child.wait();
}
