//! The JSON Lines session log: one object a line, for each connection's start and end, every
//! command and reply, every policy decision with its reason, and every stored message.
//!
//! Lines go through a channel to a writer thread, so that a connection does not wait for the
//! disk; the file is flushed whenever the writer has caught up, and synced when the log closes.
//! The channel holds at most [`BACKLOG`] lines: when the disk falls that far behind, connections
//! wait for it rather than the server's memory growing without bound.

use std::fs::OpenOptions;
use std::io::{self, BufWriter, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use smtpsim_proto::client::{Speaker, TranscriptLine};

use crate::policy::DecisionRecord;

/// One line of the log.
#[derive(Debug, Serialize)]
pub struct LogRecord<'a> {
    /// Seconds since the Unix epoch, with microseconds.
    pub time: f64,
    /// The connection's number (from 1, in order of arrival).
    pub session: u64,
    /// The client's address and port.
    pub client: String,
    /// `connect`, `command`, `reply`, `note`, `decision`, `message` or `close`.
    pub event: &'static str,
    /// The command or reply line, the note, or why the connection closed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<&'a str>,
    /// For `decision`: the stage (`connect`, `helo`, `auth`, `mail`, `rcpt`, `data`, `message`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<&'static str>,
    /// For `decision`: `accept`, `refuse` or `disconnect`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<&'static str>,
    /// For `decision`: the address or user decided about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<&'a str>,
    /// For `decision`: the reply it gave, when not the session's usual one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply: Option<&'a str>,
    /// For `decision`: why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    /// For `message`: the sender.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<&'a str>,
    /// For `message`: the accepted recipients.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<&'a [String]>,
    /// For `message`: the content's size in octets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub octets: Option<usize>,
    /// For `message`: the file name in the Maildir's `new/`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<&'a str>,
}

impl<'a> LogRecord<'a> {
    /// A record of `event` for a session, with every optional field empty.
    pub fn new(session: u64, client: SocketAddr, event: &'static str) -> LogRecord<'a> {
        let time = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        LogRecord {
            time: (time.as_micros() as f64) / 1e6,
            session,
            client: client.to_string(),
            event,
            text: None,
            stage: None,
            verdict: None,
            subject: None,
            reply: None,
            reason: None,
            from: None,
            to: None,
            octets: None,
            file: None,
        }
    }

    /// A transcript line as a `command`, `reply` or `note` record.
    pub fn line(session: u64, client: SocketAddr, line: &'a TranscriptLine) -> LogRecord<'a> {
        let event = match line.speaker {
            Speaker::Client => "command",
            Speaker::Server => "reply",
            Speaker::Note => "note",
        };
        LogRecord {
            text: Some(&line.text),
            ..LogRecord::new(session, client, event)
        }
    }

    /// A policy decision as a `decision` record.
    pub fn decision(
        session: u64,
        client: SocketAddr,
        decision: &'a DecisionRecord,
    ) -> LogRecord<'a> {
        LogRecord {
            stage: Some(decision.stage),
            verdict: Some(decision.verdict),
            subject: decision.subject.as_deref(),
            reply: decision.reply.as_deref(),
            reason: Some(decision.reason),
            ..LogRecord::new(session, client, "decision")
        }
    }
}

/// The most lines waiting for the writer.
pub const BACKLOG: usize = 16 * 1024;

/// The log file and the thread that writes it.
#[derive(Debug)]
pub struct SessionLog {
    sender: Option<mpsc::SyncSender<String>>,
    writer: Option<JoinHandle<io::Result<()>>>,
}

impl SessionLog {
    /// Opens `path` for appending (creating it) and starts the writer.
    pub fn open(path: &Path) -> io::Result<SessionLog> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        SessionLog::start(file, BACKLOG, |file| file.sync_all())
    }

    /// Starts the writer on `out`, with room for `backlog` lines; `finish` runs on `out` once
    /// every line is written.
    fn start<W, F>(out: W, backlog: usize, finish: F) -> io::Result<SessionLog>
    where
        W: Write + Send + 'static,
        F: FnOnce(&mut W) -> io::Result<()> + Send + 'static,
    {
        let (sender, receiver) = mpsc::sync_channel::<String>(backlog);
        let writer = std::thread::Builder::new()
            .name("session-log".to_string())
            .spawn(move || write_lines(out, receiver, finish))?;
        Ok(SessionLog {
            sender: Some(sender),
            writer: Some(writer),
        })
    }

    /// A handle connections send records through.
    pub fn handle(&self) -> LogHandle {
        LogHandle {
            sender: self.sender.clone(),
        }
    }

    /// Waits until every handle is dropped and every line is written and synced.
    pub fn close(mut self) -> io::Result<()> {
        self.sender.take();
        match self.writer.take() {
            Some(writer) => writer
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("the log writer panicked"))),
            None => Ok(()),
        }
    }
}

fn write_lines<W: Write>(
    out: W,
    receiver: mpsc::Receiver<String>,
    finish: impl FnOnce(&mut W) -> io::Result<()>,
) -> io::Result<()> {
    let mut out = BufWriter::with_capacity(64 * 1024, out);
    while let Ok(line) = receiver.recv() {
        out.write_all(line.as_bytes())?;
        while let Ok(line) = receiver.try_recv() {
            out.write_all(line.as_bytes())?;
        }
        out.flush()?;
    }
    out.flush()?;
    finish(&mut out.into_inner().map_err(|e| e.into_error())?)
}

/// Sends records to the log; a handle of a server without a log does nothing.
#[derive(Debug, Clone, Default)]
pub struct LogHandle {
    sender: Option<mpsc::SyncSender<String>>,
}

impl LogHandle {
    /// Whether records are written anywhere (build them only if so).
    pub fn enabled(&self) -> bool {
        self.sender.is_some()
    }

    /// Writes one record as a line; waits if [`BACKLOG`] lines are waiting already.
    pub fn write(&self, record: &LogRecord<'_>) {
        if let Some(sender) = &self.sender
            && let Ok(mut line) = serde_json::to_string(record)
        {
            line.push('\n');
            let _ = sender.send(line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    /// A disk that takes nothing until it is opened, then keeps what it gets.
    struct StuckDisk {
        open: Arc<AtomicBool>,
        kept: Arc<Mutex<Vec<u8>>>,
    }

    impl Write for StuckDisk {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            while !self.open.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(1));
            }
            self.kept.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// A slow disk holds the senders back once the backlog is full; nothing is lost, and the
    /// lines come out in order.
    #[test]
    fn a_slow_disk_holds_connections_back_and_loses_nothing() {
        let open = Arc::new(AtomicBool::new(false));
        let kept = Arc::new(Mutex::new(Vec::new()));
        let disk = StuckDisk {
            open: open.clone(),
            kept: kept.clone(),
        };
        let backlog = 8;
        let log = SessionLog::start(disk, backlog, |_| Ok(())).unwrap();
        let handle = log.handle();
        let sent = Arc::new(AtomicUsize::new(0));
        let lines = 1000;
        let sender = {
            let sent = sent.clone();
            std::thread::spawn(move || {
                for i in 0..lines {
                    let record = LogRecord {
                        text: Some(&format!("line {i}")),
                        ..LogRecord::new(1, ([192, 0, 2, 1], 25).into(), "note")
                    };
                    handle.write(&record);
                    sent.fetch_add(1, Ordering::SeqCst);
                }
            })
        };
        std::thread::sleep(Duration::from_millis(200));
        // The writer took one line (and is stuck writing it, or holds a few in its buffer);
        // the channel holds `backlog`; the sender waits for room.
        let waiting = sent.load(Ordering::SeqCst);
        assert!(waiting < 100, "{waiting} lines sent past a stuck disk");
        open.store(true, Ordering::SeqCst);
        sender.join().unwrap();
        log.close().unwrap();
        let text = String::from_utf8(kept.lock().unwrap().clone()).unwrap();
        let numbers: Vec<usize> = text
            .lines()
            .map(|line| {
                let value: serde_json::Value = serde_json::from_str(line).unwrap();
                value["text"].as_str().unwrap()[5..].parse().unwrap()
            })
            .collect();
        assert_eq!(numbers, (0..lines).collect::<Vec<_>>());
    }
}
