//! `smtpsim repl` run as a real process: in a real pseudo-terminal (tmux), where line
//! editing, history and colour are on, and with its input piped, against a golden transcript.
//!
//! The terminal test waits for expected text with a generous deadline and never measures time:
//! a slow machine only makes it slower.

use crate::support;

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};
use support::{golden, piped};

const SMTPSIM: &str = env!("CARGO_BIN_EXE_smtpsim");

/// How long to wait for text to appear before failing.
const PATIENCE: Duration = Duration::from_secs(120);

/// A tmux server of its own (its own socket) running one session with one command.
struct Tmux {
    socket: String,
    /// The socket file, removed at the end.
    socket_path: String,
}

impl Tmux {
    fn start(command: &str) -> Tmux {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let socket = format!(
            "smtpsim-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut tmux = Tmux {
            socket,
            socket_path: String::new(),
        };
        tmux.run(&[
            "new-session",
            "-d",
            "-s",
            "repl",
            "-x",
            "220",
            "-y",
            "60",
            command,
        ]);
        // Keep the pane after the program exits, so its last words can be read.
        tmux.run(&["set-option", "-t", "repl", "remain-on-exit", "on"]);
        tmux.socket_path = tmux
            .run(&["display-message", "-p", "#{socket_path}"])
            .trim()
            .to_string();
        tmux
    }

    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs (CI installs it)");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Types `text` literally, then Enter, then waits for the next prompt, as a person
    /// would: keys typed while the program is busy may be lost when the line editor takes the
    /// terminal back.
    fn type_line(&self, text: &str) {
        let before = prompts(&self.screen(false));
        self.run(&["send-keys", "-t", "repl", "-l", text]);
        self.keys(&["Enter"]);
        self.wait_for_prompt(before);
    }

    /// Waits until a prompt newer than the `before`th one is waiting for input.
    fn wait_for_prompt(&self, before: usize) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let screen = self.screen(false);
            let last = screen.lines().rev().find(|l| !l.trim().is_empty());
            let waiting = last.is_some_and(|l| matches!(l.trim_end(), "C:" | "smtpsim>"));
            if waiting && prompts(&screen) > before {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "no new prompt after {before}; the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Presses keys by their tmux names (`Enter`, `Up`, `C-a`).
    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "repl"];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    /// The whole pane with its scrollback; with `escapes`, colour codes included.
    fn screen(&self, escapes: bool) -> String {
        let mut args = vec!["capture-pane", "-p", "-J", "-t", "repl", "-S", "-"];
        if escapes {
            args.push("-e");
        }
        self.run(&args)
    }

    /// Waits until `text` shows `times` times on the screen; returns the screen.
    fn wait_for(&self, text: &str, times: usize) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let screen = self.screen(false);
            if screen.matches(text).count() >= times {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "{text:?} did not show {times} times; the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the program in the pane has exited.
    fn wait_for_exit(&self) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let dead = self.run(&["display-message", "-p", "-t", "repl", "#{pane_dead}"]);
            if dead.trim() == "1" {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "smtpsim repl did not exit; the screen:\n{}",
                self.screen(false)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// How many lines of the screen start with a prompt.
fn prompts(screen: &str) -> usize {
    screen
        .lines()
        .filter(|l| l.starts_with("C:") || l.starts_with("smtpsim>"))
        .count()
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
        if !self.socket_path.is_empty() {
            let _ = std::fs::remove_file(&self.socket_path);
        }
    }
}

#[test]
fn a_session_in_a_real_terminal() {
    let tmux = Tmux::start(&format!("{SMTPSIM} repl --virtual-clock"));
    tmux.wait_for("next: connect", 1);
    tmux.wait_for_prompt(0);
    tmux.type_line("connect");
    tmux.wait_for("S: 220 mx.example.net ESMTP smtpsim", 1);
    // The prompt shows the client's turn.
    tmux.wait_for("C: ", 1);

    // Line editing: type the command without its first letter, go home, add it.
    let before = prompts(&tmux.screen(false));
    tmux.run(&["send-keys", "-t", "repl", "-l", "HLO client.example.com"]);
    tmux.keys(&["C-a"]);
    tmux.run(&["send-keys", "-t", "repl", "-l", "E"]);
    tmux.keys(&["Enter"]);
    tmux.wait_for_prompt(before);
    tmux.wait_for("S: 250-mx.example.net greets client.example.com", 1);

    // History: the arrow up brings the EHLO back.
    tmux.type_line("NOOP");
    tmux.wait_for("S: 250 2.0.0", 1);
    let before = prompts(&tmux.screen(false));
    tmux.keys(&["Up", "Up", "Enter"]);
    tmux.wait_for_prompt(before);
    tmux.wait_for("S: 250-mx.example.net greets client.example.com", 2);

    tmux.type_line("STARTTLS");
    tmux.wait_for("TLS handshake done", 1);
    tmux.type_line("EHLO client.example.com");
    tmux.wait_for("S: 250-AUTH PLAIN LOGIN", 1);
    tmux.type_line("auth-plain alice secret");
    tmux.wait_for("S: 235 2.7.0 Authentication successful", 1);
    tmux.type_line("MAIL FROM:<alice@example.com>");
    tmux.wait_for("S: 250 2.1.0 Sender OK", 1);
    tmux.type_line("RCPT TO:<bob@example.net>");
    tmux.wait_for("S: 250 2.1.5 Recipient OK", 1);
    tmux.type_line("DATA");
    tmux.wait_for("S: 354 ", 1);
    tmux.type_line("Subject: Hello");
    tmux.type_line("");
    tmux.type_line("Hi Bob.");
    tmux.type_line(".");
    tmux.wait_for("S: 250 2.0.0 Message accepted for delivery", 1);
    let screen = tmux.wait_for(
        "(The server took the message: 27 bytes from <alice@example.com> for <bob@example.net>.)",
        1,
    );
    assert!(screen.contains("next: QUIT"), "{screen}");

    // Colour on a terminal.
    let coloured = tmux.screen(true);
    assert!(coloured.contains("\u{1b}["), "no colour codes:\n{coloured}");

    tmux.type_line("QUIT");
    tmux.wait_for("Connection closed by foreign host.", 1);
    tmux.run(&["send-keys", "-t", "repl", "-l", "exit"]);
    tmux.keys(&["Enter"]);
    tmux.wait_for_exit();
}

#[test]
fn greylisting_in_a_real_terminal_with_the_clock_moved() {
    let scenario = format!(
        "{}/../../scenarios/greylisting.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let tmux = Tmux::start(&format!(
        "{SMTPSIM} repl --scenario {scenario} --domain grey5m.example --no-explain"
    ));
    tmux.wait_for("explain on explains each reply", 1);
    tmux.wait_for_prompt(0);
    for line in [
        "connect",
        "EHLO mta.app.example",
        "MAIL FROM:<notify@app.example>",
        "RCPT TO:<bob@grey5m.example>",
    ] {
        tmux.type_line(line);
    }
    let screen = tmux.wait_for("S: 451 4.7.1 Greylisted", 1);
    assert!(!screen.contains("next:"), "--no-explain: {screen}");
    tmux.type_line("wait 10m");
    tmux.wait_for("The clock moves 10m forward", 1);
    tmux.type_line("RCPT TO:<bob@grey5m.example>");
    tmux.wait_for("S: 250 2.1.5 Recipient OK", 1);
    // Ctrl-D leaves.
    tmux.keys(&["C-d"]);
    tmux.wait_for_exit();
}

#[test]
fn a_piped_session_matches_its_golden_transcript_without_colour() {
    let input = "connect\nEHLO client.example.com\nSTARTTLS\nEHLO client.example.com\n\
                 AUTH LOGIN\nbase64 alice\nbase64 secret\nMAIL FROM:<alice@example.com>\n\
                 RCPT TO:<bob@example.net>\nDATA\nSubject: Hello\n\nHi Bob.\n.\nQUIT\nexit\n";
    let (code, out, err) = piped(&["repl", "--virtual-clock"], input);
    assert_eq!(code, 0, "{err}");
    assert!(
        !out.contains('\u{1b}'),
        "no colour when stdout is not a terminal"
    );
    golden("repl-transaction.txt", &out);
}

#[test]
fn bad_options_are_explained() {
    let (code, _, err) = piped(&["repl", "--user", "nocolon"], "");
    assert_eq!(code, 2);
    assert!(err.contains("--user takes USER:PASSWORD"), "{err}");
    let (code, _, err) = piped(&["repl", "--scenario", "/nonexistent.toml"], "");
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent.toml: cannot read"), "{err}");
    let scenario = format!(
        "{}/../../scenarios/greylisting.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let (code, _, err) = piped(
        &["repl", "--scenario", &scenario, "--domain", "x.example"],
        "",
    );
    assert_eq!(code, 2);
    assert!(err.contains("no receiving domain \"x.example\""), "{err}");
}
