//! The load generator behind `smtpsim blast`: `concurrency` tasks share a count of messages;
//! each task opens a connection (or reuses its own), drives the protocol core's
//! [`ClientSession`] for one message, and records the latency and the replies.
//!
//! A message's latency runs from the start of its attempt (including the connection, TLS and
//! AUTH when it opens a connection) to the reply that ends its transaction. With a `rate`, the
//! load is open: each message is due at its own time, and its latency runs from then, so
//! time spent waiting for a free task counts too (no coordinated omission).

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use smtpsim_proto::Command;
use smtpsim_proto::client::{
    Capabilities, ClientConfig, ClientEvent, ClientSession, Credentials, Outcome, OutgoingMessage,
    Stage, TlsMode,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_rustls::TlsConnector;

use crate::connection::Io;
use crate::tls::{insecure_client_config, server_name};

/// How the load generator uses TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BlastTls {
    /// Plain SMTP.
    #[default]
    Off,
    /// STARTTLS on every connection (a server that does not offer it fails the message).
    StartTls,
    /// TLS from the first byte (port 465 style).
    Implicit,
}

/// What to send, how hard.
#[derive(Debug, Clone)]
pub struct BlastConfig {
    /// The server.
    pub target: SocketAddr,
    /// The name presented in TLS (SNI).
    pub tls_name: String,
    /// Messages in all.
    pub messages: u64,
    /// Connections (and tasks) at once.
    pub concurrency: usize,
    /// Size of each message's content in octets (headers included).
    pub size: usize,
    /// Recipients per message.
    pub recipients: usize,
    /// TLS.
    pub tls: BlastTls,
    /// AUTH with these credentials.
    pub credentials: Option<Credentials>,
    /// Keep each connection open for the next message (otherwise one connection per message).
    pub reuse: bool,
    /// Pipeline MAIL, RCPT and DATA when the server offers PIPELINING.
    pub pipelining: bool,
    /// The sender.
    pub from: String,
    /// Recipients are `rcptN@` this domain.
    pub domain: String,
    /// The EHLO name.
    pub helo: String,
    /// How long to wait for the server at any step before giving up on a connection.
    pub timeout: Duration,
    /// Start messages at this many a second (open load): message `i` is due `i / rate`
    /// seconds after the start, and its latency counts from then. `None`: each task starts
    /// its next message as soon as the last one is done (closed load).
    pub rate: Option<f64>,
}

impl BlastConfig {
    /// 1,000 messages of 1,000 octets to one recipient each, 10 connections at once, one
    /// connection per message, plain SMTP.
    pub fn new(target: SocketAddr) -> BlastConfig {
        BlastConfig {
            target,
            tls_name: "localhost".to_string(),
            messages: 1000,
            concurrency: 10,
            size: 1000,
            recipients: 1,
            tls: BlastTls::Off,
            credentials: None,
            reuse: false,
            pipelining: true,
            from: "blast@example.com".to_string(),
            domain: "example.net".to_string(),
            helo: "blast.example.com".to_string(),
            timeout: Duration::from_secs(60),
            rate: None,
        }
    }
}

/// What a run measured.
#[derive(Debug, Clone)]
pub struct BlastReport {
    /// Wall time of the whole run.
    pub elapsed: Duration,
    /// Messages attempted.
    pub messages: u64,
    /// Messages accepted for every recipient.
    pub accepted: u64,
    /// Connections opened.
    pub connections: u64,
    /// Per-message latency in microseconds.
    pub latency: Histogram<u64>,
    /// How many recipients got each final reply code; what happened instead of a reply
    /// (`connect failed`, `connection lost`, ...) counts under its own name.
    pub replies: BTreeMap<String, u64>,
}

impl BlastReport {
    /// Messages attempted per second of wall time.
    pub fn messages_per_second(&self) -> f64 {
        self.messages as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Messages accepted per second of wall time.
    pub fn accepted_per_second(&self) -> f64 {
        self.accepted as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Why a run could not start, or stopped before it sent anything.
#[derive(Debug, thiserror::Error)]
pub enum BlastError {
    /// A configuration value that cannot work.
    #[error("{0}")]
    Config(String),
    /// A generated address did not parse (a bad `--from` or domain).
    #[error(transparent)]
    Message(#[from] smtpsim_proto::client::MessageError),
    /// The first connections could not be opened (none ever was).
    #[error("cannot connect to {target}: {source}")]
    Connect {
        /// The server.
        target: SocketAddr,
        /// Why.
        source: io::Error,
    },
    /// The server does not offer what the configuration needs (AUTH, STARTTLS); the run
    /// stopped before any MAIL.
    #[error("{target} does not offer {what}; nothing was sent")]
    NotOffered {
        /// The server.
        target: SocketAddr,
        /// `AUTH PLAIN or LOGIN`, or `STARTTLS`.
        what: &'static str,
    },
}

/// The most connections at once.
pub const MAX_CONCURRENCY: usize = 100_000;
/// The most recipients per message.
pub const MAX_RECIPIENTS: usize = 1000;
/// The largest message: 100 MiB (each connection holds one message's bytes to send).
pub const MAX_SIZE: usize = 100 * 1024 * 1024;
/// The slowest open load: a message every 1,000 seconds.
pub const MIN_RATE: f64 = 0.001;
/// The fastest open load: a message every microsecond.
pub const MAX_RATE: f64 = 1e6;
/// The longest open load: its last message is due at most a year after the start.
pub const MAX_OPEN_LOAD: Duration = Duration::from_secs(365 * 24 * 3600);

impl BlastConfig {
    /// The smallest `size`: the headers of [`content`] with this sender.
    pub fn min_size(&self) -> usize {
        content(0, &self.from).len()
    }

    /// Checks that every value is in its range; the error says which is not, and the range.
    pub fn check(&self) -> Result<(), BlastError> {
        let bad = |text: String| Err(BlastError::Config(text));
        if !(1..=MAX_CONCURRENCY).contains(&self.concurrency) {
            return bad(format!(
                "the concurrency must be between 1 and {MAX_CONCURRENCY}, not {}",
                self.concurrency
            ));
        }
        if !(1..=MAX_RECIPIENTS).contains(&self.recipients) {
            return bad(format!(
                "the recipients must be between 1 and {MAX_RECIPIENTS}, not {}",
                self.recipients
            ));
        }
        let min = self.min_size();
        if !(min..=MAX_SIZE).contains(&self.size) {
            return bad(format!(
                "the size must be between {min} (the headers) and {MAX_SIZE} octets, not {}",
                self.size
            ));
        }
        if self.messages == 0 {
            return bad("the messages must be at least 1".to_string());
        }
        if self.timeout.is_zero() {
            return bad("the timeout must be above 0".to_string());
        }
        if let Some(rate) = self.rate {
            self.check_rate(rate)?;
        }
        Ok(())
    }

    fn check_rate(&self, rate: f64) -> Result<(), BlastError> {
        if !(MIN_RATE..=MAX_RATE).contains(&rate) {
            return Err(BlastError::Config(format!(
                "the rate must be between {MIN_RATE} and {MAX_RATE} messages per second, not {rate:?}"
            )));
        }
        let last = (self.messages - 1) as f64 / rate;
        if last > MAX_OPEN_LOAD.as_secs_f64() {
            return Err(BlastError::Config(format!(
                "{} messages at {rate} a second would take {last:.0} s, more than a year",
                self.messages
            )));
        }
        Ok(())
    }
}

/// One task's tally, merged at the end.
struct Tally {
    latency: Histogram<u64>,
    replies: BTreeMap<String, u64>,
    accepted: u64,
    messages: u64,
    connections: u64,
}

impl Tally {
    fn new() -> Tally {
        Tally {
            latency: Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid bounds"),
            replies: BTreeMap::new(),
            accepted: 0,
            messages: 0,
            connections: 0,
        }
    }

    fn count(&mut self, what: String, n: u64) {
        *self.replies.entry(what).or_insert(0) += n;
    }
}

/// The content every message carries: headers, then lines of text up to `size` octets.
pub fn content(size: usize, from: &str) -> Vec<u8> {
    let mut out = format!(
        "From: <{from}>\r\nSubject: smtpsim blast\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n"
    )
    .into_bytes();
    let line = b"The quick brown fox jumps over the lazy dog; smtpsim blast test message text.";
    let header_end = out.len();
    while out.len() < size {
        let remaining = size - out.len();
        if remaining == 1 {
            // One octet short: lengthen the last body line, if there is one.
            if out.len() > header_end {
                out.insert(out.len() - 2, b'x');
            }
            break;
        }
        let take = (remaining - 2).min(line.len());
        out.extend_from_slice(&line[..take]);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Sends `config.messages` messages and measures. Stops with an error when the first
/// connections cannot be opened, or when the server does not offer AUTH (with credentials)
/// or STARTTLS (with [`BlastTls::StartTls`]).
pub async fn run(config: BlastConfig) -> Result<BlastReport, BlastError> {
    config.check()?;
    let recipients: Vec<String> = (0..config.recipients)
        .map(|i| format!("rcpt{i}@{}", config.domain))
        .collect();
    let body: Arc<[u8]> = content(config.size, &config.from).into();
    // Check the addresses once, before any connection.
    ClientSession::new(
        ClientConfig::new(config.helo.clone()),
        OutgoingMessage::new(config.from.clone(), recipients.clone(), body.clone()),
    )?;
    let connector = TlsConnector::from(insecure_client_config());
    let started = Instant::now();
    let shared = Arc::new(Job {
        config,
        recipients,
        body,
        connector,
        next: AtomicU64::new(0),
        started,
        connected: AtomicBool::new(false),
        stopped: AtomicBool::new(false),
        stop_reason: Mutex::new(None),
    });
    let workers: Vec<_> = (0..shared
        .config
        .concurrency
        .min(shared.config.messages as usize))
        .map(|_| tokio::spawn(worker(shared.clone())))
        .collect();
    let mut total = Tally::new();
    for worker in workers {
        let tally = worker
            .await
            .map_err(|e| BlastError::Config(format!("a worker failed: {e}")))?;
        total.latency.add(&tally.latency).expect("same bounds");
        for (k, v) in tally.replies {
            total.count(k, v);
        }
        total.accepted += tally.accepted;
        total.messages += tally.messages;
        total.connections += tally.connections;
    }
    let stop_reason = shared
        .stop_reason
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    if let Some(reason) = stop_reason {
        return Err(reason);
    }
    Ok(BlastReport {
        elapsed: started.elapsed(),
        messages: total.messages,
        accepted: total.accepted,
        connections: total.connections,
        latency: total.latency,
        replies: total.replies,
    })
}

struct Job {
    config: BlastConfig,
    recipients: Vec<String>,
    body: Arc<[u8]>,
    connector: TlsConnector,
    next: AtomicU64,
    /// When the run started: the messages of an open load are due from then.
    started: Instant,
    /// Whether a connection was ever opened.
    connected: AtomicBool,
    /// Set when the run cannot go on: no task starts another message.
    stopped: AtomicBool,
    /// Why it stopped (the first reason).
    stop_reason: Mutex<Option<BlastError>>,
}

impl Job {
    fn stop(&self, reason: BlastError) {
        self.stop_reason
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert(reason);
        self.stopped.store(true, Ordering::SeqCst);
    }

    /// Stops the run if the first connection fails: the server cannot be reached at all.
    fn connect_failed(&self, source: io::Error) {
        if !self.connected.load(Ordering::SeqCst) {
            self.stop(BlastError::Connect {
                target: self.config.target,
                source,
            });
        }
    }

    /// Stops the run if the attempt ended because the server lacks AUTH or STARTTLS: every
    /// other message would end the same way, or go without them.
    fn check_offered(&self, outcome: &Outcome, capabilities: &Capabilities) {
        let Some(first) = outcome.recipients.first() else {
            return;
        };
        if first.reply.is_some() {
            return;
        }
        let what = match first.stage {
            Stage::Auth if !capabilities.auth_plain && !capabilities.auth_login => {
                "AUTH PLAIN or LOGIN"
            }
            Stage::StartTls if !capabilities.starttls => "STARTTLS",
            _ => return,
        };
        self.stop(BlastError::NotOffered {
            target: self.config.target,
            what,
        });
    }
}

/// A connection kept for the next message.
struct Open {
    io: Box<dyn Io>,
    capabilities: Capabilities,
    tls: bool,
}

async fn worker(job: Arc<Job>) -> Tally {
    let config = &job.config;
    let mut tally = Tally::new();
    let mut open: Option<Open> = None;
    let mut buf = vec![0u8; 16 * 1024];
    let mut out = Vec::with_capacity(config.size + 1024);
    loop {
        if job.stopped.load(Ordering::SeqCst) {
            break;
        }
        let i = job.next.fetch_add(1, Ordering::Relaxed);
        if i >= config.messages {
            break;
        }
        tally.messages += 1;
        let started = match config.rate {
            Some(rate) => {
                // Due at its own time; if the task comes late, the wait is part of the latency.
                let due = job.started + Duration::from_secs_f64(i as f64 / rate);
                tokio::time::sleep_until(due.into()).await;
                due
            }
            None => Instant::now(),
        };
        let message = OutgoingMessage::new(
            config.from.clone(),
            job.recipients.iter().cloned(),
            job.body.clone(),
        );
        let mut client = ClientConfig::new(config.helo.clone());
        client.pipelining = config.pipelining;
        client.keep_open = config.reuse;
        client.credentials = config.credentials.clone();
        client.tls = match config.tls {
            BlastTls::StartTls => TlsMode::Required,
            BlastTls::Off | BlastTls::Implicit => TlsMode::Never,
        };
        let (mut session, io, mut tls) = match open.take() {
            Some(o) => {
                let session = ClientSession::resume(client, message, o.capabilities, o.tls)
                    .expect("addresses checked before the run");
                (session, o.io, o.tls)
            }
            None => match connect(&job).await {
                Ok((io, tls)) => {
                    job.connected.store(true, Ordering::SeqCst);
                    tally.connections += 1;
                    let session =
                        ClientSession::new(client, message).expect("addresses checked before");
                    (session, io, tls)
                }
                Err(e) => {
                    job.connect_failed(e);
                    tally.count("connect failed".to_string(), job.recipients.len() as u64);
                    continue;
                }
            },
        };
        let io = drive(&job, io, &mut session, &mut tls, &mut buf, &mut out).await;
        let Some(outcome) = session.outcome() else {
            continue;
        };
        job.check_offered(&outcome, session.capabilities());
        tally
            .latency
            .saturating_record(u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX));
        if outcome.all_accepted() {
            tally.accepted += 1;
        }
        for r in &outcome.recipients {
            match (&r.reply, r.note) {
                (Some(reply), _) => tally.count(reply.code.get().to_string(), 1),
                (None, Some(note)) => tally.count(note.to_string(), 1),
                (None, None) => tally.count("no verdict".to_string(), 1),
            }
        }
        if let Some(io) = io {
            // A failed transaction was reset by the session: the connection serves the next
            // message unless the server closed it or the session gave it up.
            if config.reuse && session.kept_open() {
                open = Some(Open {
                    io,
                    capabilities: session.capabilities().clone(),
                    tls,
                });
            } else if config.reuse {
                quit(io, config.timeout).await;
            }
        }
    }
    if let Some(o) = open {
        quit(o.io, config.timeout).await;
    }
    tally
}

async fn connect(job: &Job) -> io::Result<(Box<dyn Io>, bool)> {
    let config = &job.config;
    let stream = timeout(config.timeout, TcpStream::connect(config.target))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))??;
    stream.set_nodelay(true)?;
    if config.tls == BlastTls::Implicit {
        let tls = timeout(
            config.timeout,
            job.connector.connect(server_name(&config.tls_name), stream),
        )
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out"))??;
        return Ok((Box::new(tls), true));
    }
    Ok((Box::new(stream), false))
}

/// Runs one client session on `io` until it is finished; returns the connection if it is
/// still open.
async fn drive(
    job: &Job,
    mut io: Box<dyn Io>,
    session: &mut ClientSession,
    tls: &mut bool,
    buf: &mut [u8],
    out: &mut Vec<u8>,
) -> Option<Box<dyn Io>> {
    let wait = job.config.timeout;
    loop {
        session.drain_output_into(out);
        if !out.is_empty() {
            let written = timeout(wait, io.write_all(out)).await;
            out.clear();
            if !matches!(written, Ok(Ok(()))) {
                session.connection_lost();
                return None;
            }
        }
        let mut start_tls = false;
        while let Some(event) = session.poll_event() {
            start_tls |= event == ClientEvent::StartTls;
        }
        if session.is_finished() {
            return Some(io);
        }
        if start_tls {
            let name = server_name(&job.config.tls_name);
            match timeout(wait, job.connector.connect(name, io)).await {
                Ok(Ok(stream)) => {
                    io = Box::new(stream);
                    *tls = true;
                    session.tls_established();
                    continue;
                }
                _ => {
                    session.connection_lost();
                    return None;
                }
            }
        }
        match timeout(wait, io.read(buf)).await {
            Ok(Ok(n)) if n > 0 => session.feed(&buf[..n]),
            _ => {
                session.connection_lost();
                return None;
            }
        }
    }
}

/// Ends a kept connection politely: QUIT, wait for the reply (briefly), close.
async fn quit(mut io: Box<dyn Io>, wait: Duration) {
    let mut line = Vec::with_capacity(8);
    Command::Quit.write_to(&mut line);
    let _ = timeout(wait.min(Duration::from_secs(5)), async {
        io.write_all(&line).await?;
        let mut buf = [0u8; 256];
        while io.read(&mut buf).await? > 0 {}
        io.shutdown().await
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_has_the_asked_size_and_crlf_lines() {
        let header_len = content(0, "a@example.com").len();
        for size in (0..300).chain([1000, 10_000, 100_001]) {
            let c = content(size, "a@example.com");
            let expected = if size == header_len + 1 {
                header_len
            } else {
                size.max(header_len)
            };
            assert_eq!(c.len(), expected, "{size}");
            assert!(c.ends_with(b"\r\n"));
            assert!(!c.windows(2).any(|w| w[1] == b'\n' && w[0] != b'\r'));
        }
    }
}
