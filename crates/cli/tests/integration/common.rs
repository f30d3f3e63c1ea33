//! A `smtpsim serve` process on a free loopback port, for tests that talk to it with real
//! clients.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Output, Stdio};

/// A running `smtpsim serve`, stopped with SIGTERM when dropped.
pub struct Serve {
    child: Option<Child>,
    stdout: BufReader<ChildStdout>,
    /// The main listener's port.
    pub port: u16,
    /// The implicit-TLS listener's port, if asked for.
    pub tls_port: Option<u16>,
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
        Serve {
            child: Some(child),
            stdout,
            port,
            tls_port,
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
        let mut rest = String::new();
        for line in (&mut self.stdout).lines() {
            rest.push_str(&line.unwrap());
            rest.push('\n');
        }
        (status.code(), rest)
    }

    /// Reads the start-up lines up to the one announcing the HTTP API (`--http`); returns
    /// its port.
    pub fn http_port(&mut self) -> u16 {
        loop {
            let mut line = String::new();
            let n = self.stdout.read_line(&mut line).unwrap();
            assert!(n > 0, "no line announces the HTTP API");
            if let Some(at) = line.find("http://") {
                let url = line[at + "http://".len()..].trim().trim_end_matches('/');
                return url.rsplit(':').next().and_then(|p| p.parse().ok()).unwrap();
            }
        }
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

/// The files in a Maildir's `new/`, sorted by name, with their content.
pub fn maildir_new(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(root.join("new"))
        .map(|dir| {
            dir.map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// The session log's records.
pub fn log_records(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}
