//! A `smtpsim serve` process on a free loopback port, for tests that talk to it with real
//! clients.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Output, Stdio};

/// A running `smtpsim serve`, stopped with SIGTERM when dropped.
pub struct Serve {
    child: Option<Child>,
    /// Reads the rest of stdout as it comes (so that the session lines never fill the pipe).
    stdout: Option<std::thread::JoinHandle<String>>,
    /// The main listener's port.
    pub port: u16,
    /// The implicit-TLS listener's port, if asked for.
    pub tls_port: Option<u16>,
    /// The HTTP API's port, if asked for.
    http_port: Option<u16>,
    /// A temporary directory for the Maildir, the log and the certificate.
    pub dir: tempfile::TempDir,
}

impl Serve {
    /// Starts `smtpsim serve ARGS --listen 127.0.0.1:0 --write-cert DIR/cert.pem` (plus
    /// `--tls-listen 127.0.0.1:0` if `implicit_tls`).
    pub fn start(args: &[&str], implicit_tls: bool) -> Serve {
        let dir = tempfile::tempdir().unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_smtpsim"));
        command
            .arg("serve")
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if !args.contains(&"--no-tls") {
            command.arg("--write-cert").arg(dir.path().join("cert.pem"));
        }
        if implicit_tls {
            command.args(["--tls-listen", "127.0.0.1:0"]);
        }
        let mut child = command.spawn().expect("smtpsim serve starts");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let port = read_port(&mut stdout, "listening on");
        let tls_port = implicit_tls.then(|| read_port(&mut stdout, "implicit TLS on"));
        let http_port = args
            .contains(&"--http")
            .then(|| read_port(&mut stdout, "HTTP API and page on http://"));
        let stdout = std::thread::spawn(move || {
            let mut rest = String::new();
            for line in stdout.lines() {
                let Ok(line) = line else { break };
                rest.push_str(&line);
                rest.push('\n');
            }
            rest
        });
        Serve {
            child: Some(child),
            stdout: Some(stdout),
            port,
            tls_port,
            http_port,
            dir,
        }
    }

    /// A path in the temporary directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Stops the server with SIGTERM; returns its exit code and the rest of its stdout.
    pub fn stop(mut self) -> (Option<i32>, String) {
        let mut child = self.child.take().unwrap();
        signal(&child, "TERM");
        let status = child.wait().unwrap();
        let rest = self.stdout.take().unwrap().join().unwrap();
        (status.code(), rest)
    }

    /// The HTTP API's port; panics unless the server was started with `--http`.
    pub fn http_port(&self) -> u16 {
        self.http_port.expect("no line announces the HTTP API")
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Sends a signal by name to a child process.
pub fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
}

fn read_port(stdout: &mut BufReader<ChildStdout>, what: &str) -> u16 {
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert!(line.contains(what), "unexpected first output: {line:?}");
    line.trim()
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"))
}

/// Runs a Python 3 script with arguments; panics with its output if it fails.
pub fn python(script: &str, args: &[&str]) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 runs");
    check(out, "python3")
}

/// The stdout of a finished process, or a panic with everything it said.
pub fn check(out: Output, what: &str) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "{what} failed ({:?})\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    stdout
}

/// The files in a Maildir's `new/`, sorted by name, with their content after the trace header
/// lines the server puts first (see [`without_trace`]).
pub fn maildir_new(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(root.join("new"))
        .map(|dir| {
            dir.map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    without_trace(&std::fs::read(e.path()).unwrap()).to_vec(),
                )
            })
            .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
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

/// The session log's records.
pub fn log_records(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}
