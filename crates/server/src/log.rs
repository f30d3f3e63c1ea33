//! The JSON Lines session log: one object a line, for each connection's start and end, every
//! command and reply, every policy decision with its reason, and every stored message.
//!
//! Lines go through a bounded async channel to a writer thread, so that neither a connection
//! nor a tokio worker thread waits for the disk; the file is flushed whenever the writer has
//! caught up, and synced when the log closes. The channel holds at most [`BACKLOG`] lines:
//! when the disk falls that far behind, [`LogHandle::write`] keeps the line aside (it never
//! blocks) and the connection waits in [`LogHandle::ready`] before it reads more from its
//! client, so a slow disk makes connections wait rather than the server's memory grow.
//!
//! A write that fails (a full disk) is reported on stderr at once and marks the log failing
//! ([`LogHealth`]): the lines of the failed write and those that come while it fails are
//! lost and counted, and the server refuses new transactions (`451 4.3.0`) until a write
//! succeeds again. Each batch of lines that arrives is a new attempt.

use std::collections::VecDeque;
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use smtpsim_proto::client::{Speaker, TranscriptLine};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

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
    /// `connect`, `command`, `reply`, `note`, `decision`, `message` or `close`; `behaviour`
    /// (session 0) when the HTTP API changed the behaviour, with the new one as `text`.
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
    /// For `decision`: the reply rule that decided.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<&'a str>,
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
            rule: None,
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
            rule: decision.rule.as_deref(),
            ..LogRecord::new(session, client, "decision")
        }
    }
}

/// The most lines waiting for the writer.
pub const BACKLOG: usize = 16 * 1024;

/// How many octets the writer gathers into one write at most.
const BATCH: usize = 64 * 1024;

/// Whether the log is being written, shared by the writer thread and the server.
#[derive(Debug, Default)]
pub struct LogHealth {
    failing: AtomicBool,
    lost: AtomicU64,
    /// Cancelled at the first failed write.
    failed: CancellationToken,
    /// The first write error, as text.
    first_error: Mutex<Option<String>>,
}

impl LogHealth {
    /// Whether the last write failed (and no later one succeeded).
    pub fn is_failing(&self) -> bool {
        self.failing.load(Ordering::Relaxed)
    }

    /// Lines lost to failed writes so far.
    pub fn lost(&self) -> u64 {
        self.lost.load(Ordering::Relaxed)
    }

    /// The first write error, if a write failed.
    pub fn first_error(&self) -> Option<String> {
        lock(&self.first_error).clone()
    }

    /// Completes when a write fails for the first time.
    pub async fn failed(&self) {
        self.failed.cancelled().await;
    }

    fn fail(&self, name: &str, error: &io::Error, lines: u64) {
        self.lost.fetch_add(lines, Ordering::Relaxed);
        lock(&self.first_error).get_or_insert_with(|| error.to_string());
        if !self.failing.swap(true, Ordering::Relaxed) {
            eprintln!(
                "session log {name}: cannot write: {error}; new transactions are refused with \
                 451 4.3.0 until it can be written again"
            );
        }
        self.failed.cancel();
    }

    fn recover(&self, name: &str) {
        if self.failing.swap(false, Ordering::Relaxed) {
            eprintln!(
                "session log {name}: written again; {} lines were lost",
                self.lost()
            );
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// What the handles of one log share: the channel to the writer, and the lines kept aside
/// while it is full.
#[derive(Debug)]
struct Queue {
    sender: mpsc::Sender<String>,
    /// Lines written while the channel was full, oldest first; they go before any newer line.
    aside: Mutex<VecDeque<String>>,
}

/// The log file and the thread that writes it.
#[derive(Debug)]
pub struct SessionLog {
    name: String,
    queue: Option<Arc<Queue>>,
    writer: Option<JoinHandle<io::Result<()>>>,
    health: Arc<LogHealth>,
}

impl SessionLog {
    /// Opens `path` for appending (creating it) and starts the writer.
    pub fn open(path: &Path) -> io::Result<SessionLog> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        SessionLog::start(file, path.display().to_string(), BACKLOG, sync)
    }

    /// Starts a log that writes to `out` (a test's failing disk, a pipe); `name` names it in
    /// messages.
    pub fn from_writer<W: Write + Send + 'static>(
        out: W,
        name: impl Into<String>,
    ) -> io::Result<SessionLog> {
        SessionLog::start(out, name.into(), BACKLOG, |out: &mut W| out.flush())
    }

    /// Starts the writer on `out`, with room for `backlog` lines; `finish` runs on `out` once
    /// every line is written.
    fn start<W, F>(out: W, name: String, backlog: usize, finish: F) -> io::Result<SessionLog>
    where
        W: Write + Send + 'static,
        F: FnOnce(&mut W) -> io::Result<()> + Send + 'static,
    {
        let (sender, receiver) = mpsc::channel::<String>(backlog);
        let health = Arc::new(LogHealth::default());
        let writer = {
            let (health, name) = (health.clone(), name.clone());
            std::thread::Builder::new()
                .name("session-log".to_string())
                .spawn(move || {
                    let mut writer = LineWriter {
                        out,
                        name,
                        health,
                        newline_first: false,
                    };
                    writer.run(receiver)?;
                    finish(&mut writer.out)
                })?
        };
        let queue = Queue {
            sender,
            aside: Mutex::new(VecDeque::new()),
        };
        Ok(SessionLog {
            name,
            queue: Some(Arc::new(queue)),
            writer: Some(writer),
            health,
        })
    }

    /// A handle connections send records through.
    pub fn handle(&self) -> LogHandle {
        LogHandle {
            queue: self.queue.clone(),
        }
    }

    /// The file's path, or the name given to [`from_writer`](SessionLog::from_writer).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the log is being written.
    pub fn health(&self) -> Arc<LogHealth> {
        self.health.clone()
    }

    /// Waits until every handle is dropped and every line is written and synced (off the
    /// async worker threads). Lines lost to failed writes make it an error.
    pub async fn close(mut self) -> io::Result<()> {
        let handle = self.handle();
        handle.ready().await;
        drop(handle);
        self.queue.take();
        let written = match self.writer.take() {
            Some(writer) => tokio::task::spawn_blocking(move || {
                writer
                    .join()
                    .unwrap_or_else(|_| Err(io::Error::other("the log writer panicked")))
            })
            .await
            .unwrap_or_else(|e| Err(io::Error::other(e))),
            None => Ok(()),
        };
        match self.health.lost() {
            0 => written,
            lost => Err(io::Error::other(format!(
                "{lost} lines could not be written ({})",
                self.health.first_error().unwrap_or_default()
            ))),
        }
    }
}

/// Syncs the file; a file that cannot be synced (a pipe, a device) has nothing to sync.
fn sync(file: &mut std::fs::File) -> io::Result<()> {
    match file.sync_all() {
        Err(e) if e.kind() == io::ErrorKind::InvalidInput => Ok(()),
        other => other,
    }
}

/// The writer thread's side: gathers lines into batches and writes them.
struct LineWriter<W> {
    out: W,
    name: String,
    health: Arc<LogHealth>,
    /// A failed write left half a line in the file: the next write ends it first.
    newline_first: bool,
}

impl<W: Write> LineWriter<W> {
    fn run(&mut self, mut receiver: mpsc::Receiver<String>) -> io::Result<()> {
        let mut batch = Vec::with_capacity(BATCH);
        while let Some(line) = receiver.blocking_recv() {
            batch.clear();
            if self.newline_first {
                batch.push(b'\n');
            }
            batch.extend_from_slice(line.as_bytes());
            let mut lines = 1;
            while batch.len() < BATCH
                && let Ok(line) = receiver.try_recv()
            {
                batch.extend_from_slice(line.as_bytes());
                lines += 1;
            }
            self.write(&batch, lines);
        }
        Ok(())
    }

    /// Writes a batch of `lines` lines and flushes; a failure loses them and is reported.
    fn write(&mut self, batch: &[u8], lines: u64) {
        let mut written = 0;
        let result = loop {
            if written == batch.len() {
                break self.out.flush();
            }
            match self.out.write(&batch[written..]) {
                Ok(0) => break Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => written += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        match result {
            Ok(()) => {
                self.newline_first = false;
                self.health.recover(&self.name);
            }
            Err(e) => {
                if written > 0 {
                    self.newline_first = batch[written - 1] != b'\n';
                }
                self.health.fail(&self.name, &e, lines);
            }
        }
    }
}

/// Sends records to the log; a handle of a server without a log does nothing.
#[derive(Debug, Clone, Default)]
pub struct LogHandle {
    queue: Option<Arc<Queue>>,
}

impl LogHandle {
    /// Whether records are written anywhere (build them only if so).
    pub fn enabled(&self) -> bool {
        self.queue.is_some()
    }

    /// Writes one record as a line. Never blocks: when [`BACKLOG`] lines are waiting already,
    /// the line is kept aside until [`ready`](LogHandle::ready) finds room for it.
    pub fn write(&self, record: &LogRecord<'_>) {
        if let Some(queue) = &self.queue
            && let Ok(mut line) = serde_json::to_string(record)
        {
            line.push('\n');
            let mut aside = lock(&queue.aside);
            if !aside.is_empty() {
                aside.push_back(line);
            } else if let Err(mpsc::error::TrySendError::Full(line)) = queue.sender.try_send(line) {
                aside.push_back(line);
            }
        }
    }

    /// Waits until the lines kept aside are in the channel: a connection calls it before it
    /// reads more from its client, so that a slow disk holds connections back.
    pub async fn ready(&self) {
        let Some(queue) = &self.queue else {
            return;
        };
        loop {
            if lock(&queue.aside).is_empty() {
                return;
            }
            let Ok(permit) = queue.sender.reserve().await else {
                return;
            };
            // The oldest line goes first, under the lock `write` takes, so no newer line
            // overtakes it.
            match lock(&queue.aside).pop_front() {
                Some(line) => permit.send(line),
                None => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
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

    fn note(i: usize) -> String {
        let text = format!("line {i}");
        serde_json::to_string(&LogRecord {
            text: Some(&text),
            ..LogRecord::new(1, ([192, 0, 2, 1], 25).into(), "note")
        })
        .unwrap()
    }

    fn write_note(handle: &LogHandle, i: usize) {
        let text = format!("line {i}");
        handle.write(&LogRecord {
            text: Some(&text),
            ..LogRecord::new(1, ([192, 0, 2, 1], 25).into(), "note")
        });
    }

    /// The numbers of the `line N` notes in a log's text.
    fn numbers(text: &str) -> Vec<usize> {
        text.lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .map(|value| value["text"].as_str().unwrap()[5..].parse().unwrap())
            .collect()
    }

    /// A slow disk holds the senders back (in `ready`, not in `write`) once the backlog is
    /// full; nothing is lost, and the lines come out in order.
    #[test]
    fn a_slow_disk_holds_connections_back_and_loses_nothing() {
        let open = Arc::new(AtomicBool::new(false));
        let kept = Arc::new(Mutex::new(Vec::new()));
        let disk = StuckDisk {
            open: open.clone(),
            kept: kept.clone(),
        };
        let backlog = 8;
        let log = SessionLog::start(disk, "disk".into(), backlog, |_| Ok(())).unwrap();
        let handle = log.handle();
        let sent = Arc::new(AtomicUsize::new(0));
        let lines = 1000;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let sender = {
            let sent = sent.clone();
            std::thread::spawn(move || {
                runtime.block_on(async {
                    for i in 0..lines {
                        write_note(&handle, i);
                        handle.ready().await;
                        sent.fetch_add(1, Ordering::SeqCst);
                    }
                });
                runtime
            })
        };
        std::thread::sleep(Duration::from_millis(200));
        // The writer took a few lines (and is stuck writing them); the channel holds
        // `backlog`; the sender waits for room.
        let waiting = sent.load(Ordering::SeqCst);
        assert!(waiting < 100, "{waiting} lines sent past a stuck disk");
        open.store(true, Ordering::SeqCst);
        let runtime = sender.join().unwrap();
        runtime.block_on(log.close()).unwrap();
        let text = String::from_utf8(kept.lock().unwrap().clone()).unwrap();
        assert_eq!(numbers(&text), (0..lines).collect::<Vec<_>>());
    }

    /// A connection waiting for a stuck disk waits as a task: the runtime's only thread goes
    /// on running other tasks.
    #[test]
    fn a_stuck_disk_does_not_block_the_runtime() {
        let open = Arc::new(AtomicBool::new(false));
        let disk = StuckDisk {
            open: open.clone(),
            kept: Arc::new(Mutex::new(Vec::new())),
        };
        let log = SessionLog::start(disk, "disk".into(), 8, |_| Ok(())).unwrap();
        let handle = log.handle();
        let (tx, rx) = std::sync::mpsc::channel();
        let runtime = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let writer = tokio::spawn(async move {
                    for i in 0..1000 {
                        write_note(&handle, i);
                        handle.ready().await;
                    }
                });
                let other = tokio::spawn(async move {
                    for _ in 0..10 {
                        tokio::task::yield_now().await;
                    }
                    let _ = tx.send(());
                });
                other.await.unwrap();
                writer.await.unwrap();
            });
            runtime.block_on(log.close()).unwrap();
        });
        rx.recv_timeout(Duration::from_secs(60))
            .expect("another task runs while the disk is stuck");
        open.store(true, Ordering::SeqCst);
        runtime.join().unwrap();
    }

    /// A disk that fails while `full` is set, after taking `partial` octets of the first
    /// failed write.
    struct FullDisk {
        full: Arc<AtomicBool>,
        partial: usize,
        kept: Arc<Mutex<Vec<u8>>>,
    }

    impl Write for FullDisk {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.full.load(Ordering::SeqCst) {
                if self.partial == 0 {
                    return Err(io::ErrorKind::StorageFull.into());
                }
                let n = std::mem::take(&mut self.partial).min(buf.len());
                self.kept.lock().unwrap().extend_from_slice(&buf[..n]);
                return Ok(n);
            }
            self.kept.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// Waits (generously) until `done` holds.
    fn eventually(what: &str, done: impl Fn() -> bool) {
        for _ in 0..10_000 {
            if done() {
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        panic!("never: {what}");
    }

    /// A full disk marks the log failing at once and counts the lost lines; the next write
    /// that succeeds marks it healthy again, after ending the half-written line.
    #[tokio::test]
    async fn a_full_disk_fails_the_log_until_a_write_succeeds() {
        let full = Arc::new(AtomicBool::new(true));
        let kept = Arc::new(Mutex::new(Vec::new()));
        let disk = FullDisk {
            full: full.clone(),
            partial: 5,
            kept: kept.clone(),
        };
        let log = SessionLog::from_writer(disk, "disk").unwrap();
        let (handle, health) = (log.handle(), log.health());
        assert!(!health.is_failing());
        write_note(&handle, 0);
        eventually("the log fails", || health.is_failing());
        assert_eq!(health.lost(), 1);
        assert!(health.first_error().is_some());
        write_note(&handle, 1);
        eventually("the second line is lost", || health.lost() == 2);
        assert!(health.is_failing());
        full.store(false, Ordering::SeqCst);
        write_note(&handle, 2);
        eventually("the log recovers", || !health.is_failing());
        drop(handle);
        let error = log.close().await.unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("2 lines could not be written")
        );
        let text = String::from_utf8(kept.lock().unwrap().clone()).unwrap();
        // Half of line 0, ended by the writer when it could write again, then line 2.
        let (half, rest) = text.split_once('\n').unwrap();
        assert_eq!(half, &note(0)[..5]);
        assert_eq!(numbers(rest), [2]);
        assert_eq!(text.lines().count(), 2);
    }
}
