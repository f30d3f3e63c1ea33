//! One connection: a tokio task that drives a [`ServerSession`] with the bytes the client sends
//! and writes back what the session says, with STARTTLS, the session log and a stop signal. The
//! session keeps its own deadlines: the task tells it the time and sleeps until the next one.
//! Content goes piece by piece to the policy (into the Maildir's `tmp/`, or nowhere in sink
//! mode), so a connection holds a read buffer and a message's head, not the message.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use smtpsim_model::scenario::OutageMode;
use smtpsim_proto::client::Speaker;
use smtpsim_proto::server::{ServerConfig, ServerEvent, ServerSession, SessionInfo};
use smtpsim_proto::{EnhancedCode, Reply};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use crate::capture::{Capture, Recorder};
use crate::config::Timeouts;
use crate::console;
use crate::log::{LogHandle, LogRecord};
use crate::policy::{CHAOS_REPLY, ServePolicy, Shared};
use crate::throttle::Throttle;
use crate::trace::TlsDetails;

/// A byte stream: plain TCP or TLS over it.
pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// How many bytes one read takes at most: with the session's line limits and streamed
/// content, this bounds the memory of a connection.
const READ_BUFFER: usize = 16 * 1024;

/// `421 4.3.2` when the server stops.
pub(crate) const SHUTTING_DOWN: Reply = Reply::new_static(
    421,
    Some(EnhancedCode::new(4, 3, 2)),
    "Service shutting down, closing connection; try again later",
);

/// Counters of a running server.
#[derive(Debug, Default)]
pub struct Counters {
    /// Connections accepted (and served).
    pub connections: AtomicU64,
    /// Connections refused because of the connection limits.
    pub refused: AtomicU64,
    /// Messages accepted.
    pub messages: AtomicU64,
}

/// What all connections of a server share.
pub(crate) struct Context {
    pub(crate) shared: Arc<Shared>,
    pub(crate) session: Arc<ServerConfig>,
    pub(crate) acceptor: Option<TlsAcceptor>,
    pub(crate) timeouts: Timeouts,
    pub(crate) log: LogHandle,
    pub(crate) stop: CancellationToken,
    pub(crate) counters: Arc<Counters>,
    /// Prints a line for each session on stdout, if the server does.
    pub(crate) console: Option<console::Console>,
    /// The link speed of each connection in each direction, in bytes a second, if limited.
    pub(crate) bandwidth: Option<u64>,
    /// What the HTTP API shows, when it is on.
    pub(crate) capture: Option<Arc<Capture>>,
}

/// Serves one client until either side closes; logs how it went.
pub(crate) async fn serve(
    ctx: Arc<Context>,
    stream: TcpStream,
    peer: SocketAddr,
    id: u64,
    implicit_tls: bool,
) {
    if ctx.log.enabled() {
        ctx.log.write(&LogRecord {
            text: Some(if implicit_tls {
                "implicit TLS"
            } else {
                "plain"
            }),
            ..LogRecord::new(id, peer, "connect")
        });
    }
    let mut rec = ctx.capture.as_ref().map(|c| c.begin(id, peer));
    let why = match drive(&ctx, stream, peer, id, implicit_tls, &mut rec).await {
        Ok(why) => why.to_string(),
        Err(e) => format!("connection error: {e}"),
    };
    if let Some(rec) = &rec {
        rec.close(&why);
    }
    if ctx.log.enabled() {
        ctx.log.write(&LogRecord {
            text: Some(&why),
            ..LogRecord::new(id, peer, "close")
        });
        ctx.log.ready().await;
    }
}

async fn drive(
    ctx: &Context,
    stream: TcpStream,
    peer: SocketAddr,
    id: u64,
    implicit_tls: bool,
    rec: &mut Option<Recorder>,
) -> io::Result<&'static str> {
    let mut io: Box<dyn Io> = Box::new(stream);
    let mut tls = None;
    if implicit_tls {
        let (secured, details) = handshake(ctx, io, rec).await?;
        io = secured;
        tls = Some(details);
    }
    match ctx.shared.outage() {
        Some(OutageMode::Refuse) => return Ok("outage: connection refused"),
        Some(OutageMode::Timeout) => {
            tokio::select! {
                _ = tokio::time::sleep(ctx.timeouts.command) => {}
                _ = ctx.stop.cancelled() => {}
            }
            return Ok("outage: no greeting");
        }
        Some(OutageMode::Reply421) | None => {}
    }
    let info = SessionInfo {
        client_ip: Some(peer.ip()),
        tls: tls.is_some(),
        ..SessionInfo::default()
    };
    let mut policy = ServePolicy::new(ctx.shared.clone(), id);
    if let Some(details) = tls {
        policy.set_tls(details);
    }
    let mut session = ServerSession::greet(ctx.session.clone(), policy, info);
    let why = converse(ctx, &mut session, io, peer, id, rec).await;
    if let Some(console) = &ctx.console {
        let reason = match &why {
            Ok(why) => why.to_string(),
            Err(e) => format!("connection error: {e}"),
        };
        let policy = session.policy();
        let line = policy
            .summary()
            .line(id, peer, session.info(), policy.tls(), &reason);
        console.print(line);
    }
    why
}

/// Drives a greeted session until either side closes.
async fn converse(
    ctx: &Context,
    session: &mut ServerSession<ServePolicy>,
    mut io: Box<dyn Io>,
    peer: SocketAddr,
    id: u64,
    rec: &mut Option<Recorder>,
) -> io::Result<&'static str> {
    let started = Instant::now();
    let mut timed_out = false;
    let mut link = Link::new(ctx.bandwidth);
    let blocking_deliveries = ctx.shared.maildir.is_some()
        && tokio::runtime::Handle::current().runtime_flavor()
            == tokio::runtime::RuntimeFlavor::MultiThread;
    let mut out = Vec::with_capacity(1024);
    let mut buf = vec![0u8; READ_BUFFER];
    // When the client's last input arrived, for the reply latency of the API's metrics.
    let mut asked = rec.as_ref().map(|_| Instant::now());
    loop {
        session.drain_output_into(&mut out);
        if session.policy().dropped() {
            // Chaos in drop mode: the replies before it go out, the 421 does not.
            let reply = CHAOS_REPLY.to_bytes();
            if out.ends_with(&reply) {
                out.truncate(out.len() - reply.len());
            }
            events(ctx, session, peer, id, rec);
            if !out.is_empty() {
                send(ctx, &mut io, &out, &mut link).await?;
            }
            let _ = timeout(Duration::from_secs(1), io.shutdown()).await;
            return Ok(session
                .policy()
                .drop_reason()
                .unwrap_or("hung up without a reply"));
        }
        let (start_tls, close) = events(ctx, session, peer, id, rec);
        if !out.is_empty() {
            let delay = session.policy_mut().reply_delay();
            if !delay.is_zero() {
                // The server takes its time; a shutdown cuts the wait short, and the replies
                // (a 250 for a stored message among them) still go out.
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = ctx.stop.cancelled() => {}
                }
            }
            send(ctx, &mut io, &out, &mut link).await?;
            out.clear();
            if let (Some(rec), Some(at)) = (rec.as_ref(), asked.take()) {
                rec.capture().observe_latency(at.elapsed());
            }
        }
        if close {
            let _ = timeout(Duration::from_secs(1), io.shutdown()).await;
            return Ok(if timed_out {
                "timeout"
            } else {
                "closed by the server"
            });
        }
        if start_tls {
            let (secured, details) = handshake(ctx, io, rec).await?;
            io = secured;
            session.policy_mut().set_tls(details);
            session.handle_timeout(started.elapsed());
            session.tls_established();
            continue;
        }
        ctx.log.ready().await;
        let wake = session.poll_timeout().and_then(|d| started.checked_add(d));
        let read = tokio::select! {
            read = io.read(&mut buf[..link.read_size(READ_BUFFER)]) => read?,
            () = sleep_until(wake) => {
                // The session answers 421 4.4.2 if its deadline has passed.
                timed_out = session.handle_timeout(started.elapsed());
                continue;
            }
            _ = ctx.stop.cancelled() => {
                goodbye(&mut io, &SHUTTING_DOWN).await;
                return Ok("server shutting down");
            }
        };
        if read == 0 {
            return Ok("closed by the client");
        }
        link.has_read(read).await;
        if rec.is_some() {
            asked = Some(Instant::now());
        }
        if session.handle_timeout(started.elapsed()) {
            // The bytes came after the deadline.
            timed_out = true;
            continue;
        }
        let input = &buf[..read];
        if blocking_deliveries {
            // The policy writes and syncs the message before the 250: off the async workers.
            tokio::task::block_in_place(|| feed(ctx, session, input, peer, id, rec));
        } else {
            feed(ctx, session, input, peer, id, rec);
        }
    }
}

/// The socket I/O of a connection, throttled to `--bandwidth` if it is set.
struct Link {
    read: Option<Throttle>,
    write: Option<Throttle>,
}

impl Link {
    fn new(bandwidth: Option<u64>) -> Link {
        Link {
            read: bandwidth.map(Throttle::new),
            write: bandwidth.map(Throttle::new),
        }
    }

    /// How much of a read buffer of `len` bytes one read may fill.
    fn read_size(&self, len: usize) -> usize {
        self.read.as_ref().map_or(len, |t| t.chunk().min(len))
    }

    /// Waits for the throttle after `n` bytes were read.
    async fn has_read(&mut self, n: usize) {
        if let Some(throttle) = &mut self.read {
            throttle.spend(n).await;
        }
    }

    /// Writes `bytes` a throttle's chunk at a time.
    async fn write_all(&mut self, io: &mut Box<dyn Io>, bytes: &[u8]) -> io::Result<()> {
        let Some(throttle) = &mut self.write else {
            return io.write_all(bytes).await;
        };
        for piece in bytes.chunks(throttle.chunk()) {
            throttle.spend(piece.len()).await;
            io.write_all(piece).await?;
        }
        Ok(())
    }
}

/// Sleeps until `at`, or forever.
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Feeds the session. With a log, the input goes in a line at a time so that each command,
/// the policy's decision about it and the reply are logged in that order.
fn feed(
    ctx: &Context,
    session: &mut ServerSession<ServePolicy>,
    input: &[u8],
    peer: SocketAddr,
    id: u64,
    rec: &mut Option<Recorder>,
) {
    if !ctx.log.enabled() && rec.is_none() {
        return session.feed(input);
    }
    for piece in input.split_inclusive(|&b| b == b'\n') {
        session.feed(piece);
        log_step(ctx, session, peer, id, rec);
    }
}

/// Logs (and records for the API) what the client said, the decisions, then what the
/// server answered.
fn log_step(
    ctx: &Context,
    session: &mut ServerSession<ServePolicy>,
    peer: SocketAddr,
    id: u64,
    rec: &mut Option<Recorder>,
) {
    let log = &ctx.log;
    let lines = session.take_transcript();
    let decisions = session.policy_mut().take_decisions();
    // In chaos's drop mode the session's 421 is never sent: it is not logged either.
    let unsent = session.policy().dropped().then(|| CHAOS_REPLY.to_string());
    let lines: Vec<_> = lines
        .iter()
        .filter(|l| l.speaker != Speaker::Server || unsent.as_deref() != Some(l.text.as_str()))
        .collect();
    if let Some(rec) = rec {
        rec.lines(&lines, &decisions);
    }
    if !log.enabled() {
        return;
    }
    let (replies, said): (Vec<_>, Vec<_>) =
        lines.iter().partition(|l| l.speaker == Speaker::Server);
    for line in said {
        log.write(&LogRecord::line(id, peer, line));
    }
    for decision in &decisions {
        log.write(&LogRecord::decision(id, peer, decision));
    }
    for line in replies {
        log.write(&LogRecord::line(id, peer, line));
    }
}

/// Handles the session's events and logs what happened; returns (STARTTLS, close).
fn events(
    ctx: &Context,
    session: &mut ServerSession<ServePolicy>,
    peer: SocketAddr,
    id: u64,
    rec: &mut Option<Recorder>,
) -> (bool, bool) {
    let (mut start_tls, mut close) = (false, false);
    let log = &ctx.log;
    if log.enabled() || rec.is_some() {
        log_step(ctx, session, peer, id, rec);
    }
    if let Some(rec) = rec.as_ref() {
        rec.identity(session.info());
    }
    let mut stored = session.policy_mut().take_stored().into_iter();
    while let Some(event) = session.poll_event() {
        match event {
            ServerEvent::MessageAccepted(message) => {
                ctx.counters.messages.fetch_add(1, Ordering::Relaxed);
                let file = stored.next();
                if log.enabled() {
                    log.write(&LogRecord {
                        from: Some(&message.envelope.from),
                        to: Some(&message.envelope.recipients),
                        octets: Some(usize::try_from(message.size).unwrap_or(usize::MAX)),
                        file: file.as_deref(),
                        ..LogRecord::new(id, peer, "message")
                    });
                }
                if let Some(rec) = rec.as_mut() {
                    rec.message(session.info(), &message, file);
                }
            }
            ServerEvent::StartTls => start_tls = true,
            ServerEvent::Close => close = true,
        }
    }
    (start_tls, close)
}

async fn send(
    ctx: &Context,
    io: &mut Box<dyn Io>,
    bytes: &[u8],
    link: &mut Link,
) -> io::Result<()> {
    let write = async {
        link.write_all(io, bytes).await?;
        io.flush().await
    };
    tokio::select! {
        written = timeout(ctx.timeouts.command, write) => match written {
            Ok(result) => result,
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client does not read",
            )),
        },
        _ = ctx.stop.cancelled() => Err(io::Error::other("server shutting down")),
    }
}

/// Sends a last reply (briefly: the client may not be reading) and closes.
pub(crate) async fn goodbye<S: AsyncWrite + Unpin + ?Sized>(io: &mut S, reply: &Reply) {
    let mut bytes = Vec::with_capacity(80);
    reply.write_to(&mut bytes);
    let _ = timeout(Duration::from_secs(1), async {
        io.write_all(&bytes).await?;
        io.shutdown().await
    })
    .await;
}

/// The TLS handshake; returns the secured stream and what it negotiated, which the API's
/// record of the session notes too.
async fn handshake(
    ctx: &Context,
    io: Box<dyn Io>,
    rec: &Option<Recorder>,
) -> io::Result<(Box<dyn Io>, TlsDetails)> {
    let Some(acceptor) = &ctx.acceptor else {
        return Err(io::Error::other("TLS is not configured"));
    };
    let handshake = tokio::select! {
        handshake = timeout(ctx.timeouts.command, acceptor.accept(io)) => handshake,
        _ = ctx.stop.cancelled() => return Err(io::Error::other("server shutting down")),
    };
    match handshake {
        Ok(Ok(tls)) => {
            let details = TlsDetails::of(tls.get_ref().1);
            if let Some(rec) = rec {
                rec.tls(details.clone());
            }
            Ok((Box::new(tls), details))
        }
        Ok(Err(e)) => Err(io::Error::new(
            e.kind(),
            format!("TLS handshake failed: {e}"),
        )),
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "TLS handshake timed out",
        )),
    }
}
