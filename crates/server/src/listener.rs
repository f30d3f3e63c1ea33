//! The listeners: accept connections (plain with STARTTLS, and implicit TLS), enforce the
//! connection limits, spawn one task per connection, and shut down cleanly.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use smtpsim_proto::server::ServerConfig;
use smtpsim_proto::{EnhancedCode, Reply};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::capture::{Capture, MAX_CAPTURED, MAX_CAPTURED_BYTES};
use crate::config::{ServeConfig, TlsSetup};
use crate::connection::{self, Context, Counters};
use crate::http::{self, Api};
use crate::log::{LogHealth, SessionLog};
use crate::maildir::Maildir;
use crate::policy::Shared;
use crate::tls::{Certificate, TlsError};

/// `421 4.7.0` when the server has as many connections as it takes.
static TOO_MANY: Reply = Reply::new_static(
    421,
    Some(EnhancedCode::new(4, 7, 0)),
    "Too many connections, try again later",
);
/// `421 4.7.0` when the client's address has as many connections as it may.
static TOO_MANY_FROM_YOU: Reply = Reply::new_static(
    421,
    Some(EnhancedCode::new(4, 7, 0)),
    "Too many connections from your address, try again later",
);

/// Why a server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// An address could not be listened on.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: io::Error,
    },
    /// TLS could not be set up.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// An implicit-TLS listener was asked for without TLS.
    #[error("an implicit-TLS listener needs TLS; it is switched off")]
    TlsListenerWithoutTls,
    /// The Maildir could not be created.
    #[error("cannot use the Maildir {path}: {source}")]
    Maildir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The session log could not be opened or written.
    #[error("session log {path}: {source}")]
    Log {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The session log could not be written and [`ServeConfig::log_required`] is set: the
    /// server stopped.
    #[error(
        "session log {path}: cannot write ({reason}); the server stopped, as the log is required"
    )]
    LogRequired {
        /// The file.
        path: PathBuf,
        /// The write error.
        reason: String,
    },
    /// The HTTP API was asked to listen on an address that is not loopback.
    #[error(
        "the HTTP API would listen on {addr}, which is not a loopback address: anyone who reaches it \
         could read the mail and change the behaviour; allow it explicitly (--http-public)"
    )]
    HttpNotLoopback {
        /// The address.
        addr: SocketAddr,
    },
    /// A bound of what the HTTP API keeps out of its range.
    #[error("{name} must be between 1 and {max}, not {value}")]
    CaptureBound {
        /// The setting.
        name: &'static str,
        /// Its value.
        value: u64,
        /// The largest value accepted.
        max: u64,
    },
    /// The threads that accept connections could not be started.
    #[error("cannot start the threads that accept connections: {source}")]
    Threads {
        /// Why.
        source: io::Error,
    },
    /// [`ServeConfig::threads`] out of its range.
    #[error("threads must be between 1 and {max}, not {value}", max = MAX_THREADS)]
    ThreadCount {
        /// The value given.
        value: usize,
    },
    /// A connection limit out of its range.
    #[error("{name} must be between 1 and {max}, not {value}")]
    Limit {
        /// The setting.
        name: &'static str,
        /// Its value.
        value: usize,
        /// The largest value accepted.
        max: usize,
    },
}

/// The largest [`ServeConfig::threads`] accepted.
pub const MAX_THREADS: usize = 1024;

/// The largest `max_connections` and `max_connections_per_ip` accepted.
pub const MAX_CONNECTIONS: usize = 1_000_000;

fn check_limit(name: &'static str, value: usize) -> Result<usize, ServeError> {
    if (1..=MAX_CONNECTIONS).contains(&value) {
        Ok(value)
    } else {
        Err(ServeError::Limit {
            name,
            value,
            max: MAX_CONNECTIONS,
        })
    }
}

/// What a server did, when it stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeSummary {
    /// Connections served.
    pub connections: u64,
    /// Connections refused at the connection limits.
    pub refused: u64,
    /// Messages accepted.
    pub messages: u64,
}

/// A bound server, ready to [`run`](Server::run).
pub struct Server {
    listener: TcpListener,
    tls_listener: Option<TcpListener>,
    ctx: Arc<Context>,
    certificate: Option<Certificate>,
    log: Option<SessionLog>,
    limits: Limits,
    log_required: bool,
    grace: Duration,
    http: Option<TcpListener>,
    /// The listeners of the accept threads besides the one that runs the server.
    threads: Vec<ThreadListeners>,
}

/// The connection limits.
#[derive(Debug, Clone, Copy)]
struct Limits {
    total: usize,
    per_ip: usize,
    /// Whether `per_ip` applies to loopback clients.
    loopback: bool,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("listen", &self.listener.local_addr().ok())
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Makes the certificate, opens the Maildir and the log, and binds the listeners.
    pub async fn bind(config: ServeConfig) -> Result<Server, ServeError> {
        let log = match &config.log {
            Some(path) => Some(SessionLog::open(path).map_err(|source| ServeError::Log {
                path: path.clone(),
                source,
            })?),
            None => None,
        };
        Server::bind_with_log(config, log).await
    }

    /// As [`bind`](Server::bind), with a session log already started (such as one from
    /// [`SessionLog::from_writer`]) in place of [`ServeConfig::log`], which is not opened
    /// (`None`: no log).
    pub async fn bind_with_log(
        config: ServeConfig,
        log: Option<SessionLog>,
    ) -> Result<Server, ServeError> {
        let limits = Limits {
            total: check_limit("max_connections", config.max_connections)?,
            per_ip: check_limit("max_connections_per_ip", config.max_connections_per_ip)?,
            loopback: config.limit_loopback,
        };
        let certificate = match &config.tls {
            TlsSetup::Off => None,
            TlsSetup::SelfSigned => Some(Certificate::self_signed(&config.hostname)?),
            TlsSetup::Files { cert, key } => Some(Certificate::from_files(cert, key)?),
        };
        let acceptor = match &certificate {
            Some(c) => Some(TlsAcceptor::from(c.server_config()?)),
            None => None,
        };
        if config.tls_listen.is_some() && acceptor.is_none() {
            return Err(ServeError::TlsListenerWithoutTls);
        }
        let maildir = match &config.maildir {
            Some(path) => Some(Maildir::open(path).map_err(|source| ServeError::Maildir {
                path: path.clone(),
                source,
            })?),
            None => None,
        };
        if !(1..=MAX_THREADS).contains(&config.threads) {
            return Err(ServeError::ThreadCount {
                value: config.threads,
            });
        }
        let shared_port = config.threads > 1;
        let listener = listen(config.listen, shared_port)?;
        let tls_listener = match config.tls_listen {
            Some(addr) => Some(listen(addr, shared_port)?),
            None => None,
        };
        let threads = thread_listeners(&listener, tls_listener.as_ref(), config.threads - 1)?;
        let (capture, http) = http_setup(&config)?;
        let mut session = ServerConfig::new(config.hostname.clone());
        session.limits = config.limits;
        session.timeouts = config.timeouts;
        // The API keeps whole messages in memory when there is no Maildir.
        session.stream_content = !capture.as_ref().is_some_and(|c| c.keeps_content());
        session.starttls = acceptor.is_some() && config.starttls;
        session.auth = !config.users.is_empty();
        session.auth_without_tls = config.auth_without_tls;
        session.require_auth = config.require_auth;
        session.transcript = log.is_some() || capture.is_some();
        if let Some(limit) = config.behaviour.size_limit {
            session.limits.message_size = Some(limit.0);
        }
        let ctx = Context {
            shared: Arc::new(Shared::new(
                &config,
                maildir,
                log.as_ref().map(|l| l.health()),
            )),
            session: Arc::new(session),
            acceptor,
            timeouts: config.timeouts,
            log: log.as_ref().map(|l| l.handle()).unwrap_or_default(),
            stop: CancellationToken::new(),
            console: config.console.then(crate::console::Console::start),
            bandwidth: config.bandwidth,
            counters: Arc::new(Counters::default()),
            capture,
        };
        Ok(Server {
            listener,
            tls_listener,
            ctx: Arc::new(ctx),
            certificate,
            log,
            limits,
            log_required: config.log_required,
            grace: config.shutdown_grace,
            http,
            threads,
        })
    }

    /// The HTTP API's address, if it is on.
    pub fn http_local_addr(&self) -> Option<SocketAddr> {
        self.http.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// The main listener's address (with the port the system chose, if it was 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// The implicit-TLS listener's address, if there is one.
    pub fn tls_local_addr(&self) -> Option<SocketAddr> {
        self.tls_listener.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// The certificate the server presents, if TLS is on.
    pub fn certificate(&self) -> Option<&Certificate> {
        self.certificate.as_ref()
    }

    /// The live counters.
    pub fn counters(&self) -> Arc<Counters> {
        self.ctx.counters.clone()
    }

    /// Serves until `shutdown` completes; then stops accepting, lets sessions go on for the
    /// grace period, closes the rest with `421 4.3.2`, and syncs the log. With
    /// [`ServeConfig::log_required`], a failed log write stops the server the same way, at
    /// once, and makes this an error.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<ServeSummary, ServeError> {
        let Server {
            listener,
            tls_listener,
            ctx,
            log,
            limits,
            log_required,
            mut grace,
            http,
            threads,
            ..
        } = self;
        let http_stop = CancellationToken::new();
        let api = http.map(|listener| tokio::spawn(start_api(&ctx, &log, listener, &http_stop)));
        let gate = Arc::new(Gate {
            ctx: ctx.clone(),
            slots: Arc::new(Semaphore::new(limits.total)),
            per_ip: Arc::new(Mutex::new(HashMap::new())),
            limits,
            next_id: AtomicU64::new(0),
            tracker: TaskTracker::new(),
        });
        let accepting = CancellationToken::new();
        let (started, finished) = start_threads(&gate, threads, &accepting).await;
        let health = log.as_ref().filter(|_| log_required).map(|l| l.health());
        let log_failed = async {
            match &health {
                Some(health) => health.failed().await,
                None => std::future::pending().await,
            }
        };
        let accept_task = gate.clone().accept_task(listener, tls_listener);
        let result = match started {
            Err(source) => Err(ServeError::Threads { source }),
            Ok(()) => {
                tokio::select! {
                    _ = shutdown => {}
                    _ = log_failed => grace = Duration::ZERO,
                }
                Ok(())
            }
        };
        accepting.cancel();
        accept_task.abort();
        let _ = accept_task.await;
        gate.drain(grace, finished).await;
        drop(gate);
        if let Some(console) = &ctx.console {
            console.finish(Duration::from_secs(1)).await;
        }
        let counters = &ctx.counters;
        let summary = ServeSummary {
            connections: counters.connections.load(Ordering::Relaxed),
            refused: counters.refused.load(Ordering::Relaxed),
            messages: counters.messages.load(Ordering::Relaxed),
        };
        http_stop.cancel();
        if let Some(api) = api {
            stop_api(api).await;
        }
        drop(ctx);
        if let Some(log) = log {
            close_log(log, health.as_deref()).await?;
        }
        result.map(|()| summary)
    }
}

/// Lets the API's requests in progress finish; a client that holds one open does not hold the
/// server more than a second.
async fn stop_api(mut api: tokio::task::JoinHandle<()>) {
    if tokio::time::timeout(Duration::from_secs(1), &mut api)
        .await
        .is_err()
    {
        api.abort();
    }
}

/// Syncs and closes the log; an error if it cannot, or if lines were lost from a log that is
/// required (`health`).
async fn close_log(log: SessionLog, health: Option<&LogHealth>) -> Result<(), ServeError> {
    let path = PathBuf::from(log.name());
    if let Some(health) = health.filter(|h| h.lost() > 0) {
        let reason = health.first_error().unwrap_or_default();
        let _ = log.close().await;
        return Err(ServeError::LogRequired { path, reason });
    }
    log.close()
        .await
        .map_err(|source| ServeError::Log { path, source })
}

/// What every accept loop shares: the server's context, the connection limits, the
/// connection numbers and the tasks that serve the connections.
struct Gate {
    ctx: Arc<Context>,
    slots: Arc<Semaphore>,
    per_ip: Arc<Mutex<HashMap<IpAddr, usize>>>,
    limits: Limits,
    next_id: AtomicU64,
    tracker: TaskTracker,
}

impl Gate {
    /// Accepts connections on `listener` (and on `tls_listener`, implicit TLS) and serves
    /// each in a task of the runtime this runs on, until dropped.
    async fn accept_loop(
        &self,
        listener: &TcpListener,
        tls_listener: Option<&TcpListener>,
    ) -> std::convert::Infallible {
        loop {
            let (accepted, implicit_tls) = tokio::select! {
                a = listener.accept() => (a, false),
                a = accept(tls_listener) => (a, true),
            };
            match accepted {
                Ok((stream, peer)) => self.take(stream, peer, implicit_tls),
                Err(_) => {
                    // Out of file descriptors or a connection reset before it was taken:
                    // wait a moment instead of spinning.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
    }

    /// Runs [`accept_loop`](Gate::accept_loop) in a task of its own (until aborted): the
    /// connections' tasks are spawned from a task of the runtime, and a new connection
    /// wakes that task alone.
    fn accept_task(
        self: Arc<Self>,
        listener: TcpListener,
        tls_listener: Option<TcpListener>,
    ) -> tokio::task::JoinHandle<std::convert::Infallible> {
        tokio::spawn(async move { self.accept_loop(&listener, tls_listener.as_ref()).await })
    }

    /// Once no loop accepts any more: lets the sessions go on for `grace`, closes the rest
    /// with `421 4.3.2`, and waits for them and for the accept threads (`finished`) to end.
    async fn drain(&self, grace: Duration, finished: Vec<oneshot::Receiver<()>>) {
        let tracker = &self.tracker;
        tracker.close();
        if tokio::time::timeout(grace, tracker.wait()).await.is_err() {
            self.ctx.stop.cancel();
            tracker.wait().await;
        }
        for thread in finished {
            // It has served its last connection: it ends at once.
            let _ = thread.await;
        }
    }

    /// Serves an accepted connection, or refuses it at the connection limits.
    fn take(&self, stream: TcpStream, peer: SocketAddr, implicit_tls: bool) {
        let _ = stream.set_nodelay(true);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let ctx = self.ctx.clone();
        match admit(&self.slots, &self.per_ip, peer.ip(), self.limits) {
            Ok(guard) => {
                ctx.counters.connections.fetch_add(1, Ordering::Relaxed);
                self.tracker.spawn(async move {
                    connection::serve(ctx, stream, peer, id, implicit_tls).await;
                    drop(guard);
                });
            }
            Err(reply) => {
                ctx.counters.refused.fetch_add(1, Ordering::Relaxed);
                self.tracker.spawn(refuse(stream, reply));
            }
        }
    }
}

/// The listeners of one more accept thread: the main listener's port (and the implicit-TLS
/// one's), bound again with `SO_REUSEPORT`, so that the kernel spreads new connections
/// over the threads.
type ThreadListeners = (std::net::TcpListener, Option<std::net::TcpListener>);

/// Starts a thread for each of `threads`, each with a single-threaded runtime that accepts
/// on its own listeners and serves those connections itself (no wake-ups across threads),
/// until `accepting` is cancelled and then until the gate's tasks are all done. Returns
/// whether they all started, and a signal of the end of each.
async fn start_threads(
    gate: &Arc<Gate>,
    threads: Vec<ThreadListeners>,
    accepting: &CancellationToken,
) -> (io::Result<()>, Vec<oneshot::Receiver<()>>) {
    let mut started = Vec::new();
    let mut finished = Vec::new();
    let mut spawned = Ok(());
    for (i, listeners) in threads.into_iter().enumerate() {
        let (ready, is_ready) = oneshot::channel();
        let (done, is_done) = oneshot::channel();
        let (gate, accepting) = (gate.clone(), accepting.clone());
        let thread = std::thread::Builder::new()
            .name(format!("smtpsim-serve-{}", i + 1))
            .spawn(move || accept_thread(gate, listeners, accepting, ready, done));
        match thread {
            Ok(_) => {
                started.push(is_ready);
                finished.push(is_done);
            }
            Err(e) => {
                spawned = Err(e);
                break;
            }
        }
    }
    for ready in started {
        let outcome = ready
            .await
            .unwrap_or_else(|_| Err(io::Error::other("an accept thread ended at start")));
        if spawned.is_ok() {
            spawned = outcome;
        }
    }
    (spawned, finished)
}

/// The body of an accept thread (see [`start_threads`]).
fn accept_thread(
    gate: Arc<Gate>,
    (listener, tls_listener): ThreadListeners,
    accepting: CancellationToken,
    ready: oneshot::Sender<io::Result<()>>,
    done: oneshot::Sender<()>,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    // The thread's loop counts as a task until it stops accepting, so that the server's
    // wait for its tasks cannot end before this thread has spawned its last one.
    let token = gate.tracker.token();
    runtime.block_on(async move {
        let listeners = TcpListener::from_std(listener).and_then(|l| {
            let tls = tls_listener.map(TcpListener::from_std).transpose()?;
            Ok((l, tls))
        });
        let (listener, tls_listener) = match listeners {
            Ok(pair) => pair,
            Err(e) => {
                let _ = ready.send(Err(e));
                return;
            }
        };
        let _ = ready.send(Ok(()));
        let accept_task = gate.clone().accept_task(listener, tls_listener);
        accepting.cancelled().await;
        accept_task.abort();
        let _ = accept_task.await;
        drop(token);
        gate.tracker.wait().await;
    });
    drop(runtime);
    let _ = done.send(());
}

/// The capture store and the HTTP listener, when the API is on.
fn http_setup(
    config: &ServeConfig,
) -> Result<(Option<Arc<Capture>>, Option<TcpListener>), ServeError> {
    let Some(setup) = config.http else {
        return Ok((None, None));
    };
    if !setup.public && !setup.listen.ip().to_canonical().is_loopback() {
        return Err(ServeError::HttpNotLoopback { addr: setup.listen });
    }
    let b = setup.bounds;
    let max = MAX_CAPTURED as u64;
    for (name, value, max) in [
        ("max_messages", b.max_messages as u64, max),
        ("max_sessions", b.max_sessions as u64, max),
        ("max_bytes", b.max_bytes, MAX_CAPTURED_BYTES),
    ] {
        if !(1..=max).contains(&value) {
            return Err(ServeError::CaptureBound { name, value, max });
        }
    }
    let capture = Capture::new(b, config.maildir.as_deref()).with_explain(config.explain.clone());
    Ok((Some(Arc::new(capture)), Some(listen(setup.listen, false)?)))
}

/// The API's task.
fn start_api(
    ctx: &Arc<Context>,
    log: &Option<SessionLog>,
    listener: TcpListener,
    stop: &CancellationToken,
) -> impl Future<Output = ()> + use<> {
    let api = ctx.capture.clone().map(|capture| {
        Arc::new(Api {
            shared: ctx.shared.clone(),
            capture,
            counters: ctx.counters.clone(),
            log: log.as_ref().map(|l| l.handle()).unwrap_or_default(),
        })
    });
    let stop = stop.clone();
    async move {
        if let Some(api) = api {
            http::serve(listener, api, stop).await;
        }
    }
}

/// How many connections the kernel may hold for the server before it accepts them (capped
/// by `net.core.somaxconn`). A burst of connections larger than this would see some
/// handshakes silently dropped, and those clients would wait for a greeting that never comes.
const BACKLOG: u32 = 4096;

/// Listens on `addr`; with `shared_port`, other sockets of this process may listen on the
/// same port too (`SO_REUSEPORT`), and the kernel spreads new connections over them.
fn listen(addr: SocketAddr, shared_port: bool) -> Result<TcpListener, ServeError> {
    let bind = || {
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        if shared_port {
            reuse_port(&socket)?;
        }
        socket.bind(addr)?;
        socket.listen(BACKLOG)
    };
    bind().map_err(|source| ServeError::Bind { addr, source })
}

#[cfg(all(unix, not(any(target_os = "solaris", target_os = "illumos"))))]
fn reuse_port(socket: &TcpSocket) -> io::Result<()> {
    socket.set_reuseport(true)
}

#[cfg(not(all(unix, not(any(target_os = "solaris", target_os = "illumos")))))]
fn reuse_port(_: &TcpSocket) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "more than one thread needs SO_REUSEPORT, which this system does not have",
    ))
}

/// `extra` more listeners on the ports of `listener` and `tls_listener` (which were bound
/// with `SO_REUSEPORT`), for the accept threads.
fn thread_listeners(
    listener: &TcpListener,
    tls_listener: Option<&TcpListener>,
    extra: usize,
) -> Result<Vec<ThreadListeners>, ServeError> {
    let again = |l: &TcpListener| -> Result<std::net::TcpListener, ServeError> {
        let addr = l
            .local_addr()
            .map_err(|source| ServeError::Threads { source })?;
        let bound = listen(addr, true)?;
        bound
            .into_std()
            .map_err(|source| ServeError::Bind { addr, source })
    };
    (0..extra)
        .map(|_| Ok((again(listener)?, tls_listener.map(again).transpose()?)))
        .collect()
}

async fn accept(listener: Option<&TcpListener>) -> io::Result<(TcpStream, SocketAddr)> {
    match listener {
        Some(l) => l.accept().await,
        None => std::future::pending().await,
    }
}

async fn refuse(mut stream: TcpStream, reply: &'static Reply) {
    connection::goodbye(&mut stream, reply).await;
}

/// A connection's places in the limits, given back when it ends.
struct Admission {
    _slot: OwnedSemaphorePermit,
    /// The count of its address, unless the address is exempt from the limit.
    per_ip: Option<Arc<Mutex<HashMap<IpAddr, usize>>>>,
    ip: IpAddr,
}

impl Drop for Admission {
    fn drop(&mut self) {
        let Some(per_ip) = &self.per_ip else {
            return;
        };
        let mut map = per_ip.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

/// Takes a place for a connection from `ip`, or says why there is none. Loopback clients
/// count only towards the total, unless `limits.loopback`.
fn admit(
    slots: &Arc<Semaphore>,
    per_ip: &Arc<Mutex<HashMap<IpAddr, usize>>>,
    ip: IpAddr,
    limits: Limits,
) -> Result<Admission, &'static Reply> {
    let slot = slots.clone().try_acquire_owned().map_err(|_| &TOO_MANY)?;
    let ip = ip.to_canonical();
    if ip.is_loopback() && !limits.loopback {
        return Ok(Admission {
            _slot: slot,
            per_ip: None,
            ip,
        });
    }
    let mut map = per_ip.lock().unwrap_or_else(|e| e.into_inner());
    let n = map.get(&ip).copied().unwrap_or(0);
    if n >= limits.per_ip {
        return Err(&TOO_MANY_FROM_YOU);
    }
    map.insert(ip, n + 1);
    Ok(Admission {
        _slot: slot,
        per_ip: Some(per_ip.clone()),
        ip,
    })
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
