//! The listeners: accept connections (plain with STARTTLS, and implicit TLS), enforce the
//! connection limits, spawn one task per connection, and shut down cleanly.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use smtpsim_proto::server::ServerConfig;
use smtpsim_proto::{EnhancedCode, Reply};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::capture::{Capture, MAX_CAPTURED, MAX_CAPTURED_BYTES};
use crate::config::{ServeConfig, TlsSetup};
use crate::connection::{self, Context, Counters};
use crate::http::{self, Api};
use crate::log::SessionLog;
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
        let listener = listen(config.listen)?;
        let tls_listener = match config.tls_listen {
            Some(addr) => Some(listen(addr)?),
            None => None,
        };
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
            ..
        } = self;
        let http_stop = CancellationToken::new();
        let api = http.map(|listener| tokio::spawn(start_api(&ctx, &log, listener, &http_stop)));
        let tracker = TaskTracker::new();
        let slots = Arc::new(Semaphore::new(limits.total));
        let per_ip = Arc::new(Mutex::new(HashMap::<IpAddr, usize>::new()));
        let mut next_id = 0u64;
        let health = log.as_ref().filter(|_| log_required).map(|l| l.health());
        let log_failed = async {
            match &health {
                Some(health) => health.failed().await,
                None => std::future::pending().await,
            }
        };
        tokio::pin!(shutdown, log_failed);
        loop {
            let (accepted, implicit_tls) = tokio::select! {
                _ = &mut shutdown => break,
                _ = &mut log_failed => {
                    grace = Duration::ZERO;
                    break;
                }
                a = listener.accept() => (a, false),
                a = accept(tls_listener.as_ref()) => (a, true),
            };
            let (stream, peer) = match accepted {
                Ok(pair) => pair,
                Err(_) => {
                    // Out of file descriptors or a connection reset before it was taken:
                    // wait a moment instead of spinning.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            next_id += 1;
            let admission = admit(&slots, &per_ip, peer.ip(), limits);
            let ctx = ctx.clone();
            match admission {
                Ok(guard) => {
                    ctx.counters.connections.fetch_add(1, Ordering::Relaxed);
                    let id = next_id;
                    tracker.spawn(async move {
                        connection::serve(ctx, stream, peer, id, implicit_tls).await;
                        drop(guard);
                    });
                }
                Err(reply) => {
                    ctx.counters.refused.fetch_add(1, Ordering::Relaxed);
                    tracker.spawn(refuse(stream, reply));
                }
            }
        }
        drop(listener);
        drop(tls_listener);
        tracker.close();
        if tokio::time::timeout(grace, tracker.wait()).await.is_err() {
            ctx.stop.cancel();
            tracker.wait().await;
        }
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
        if let Some(mut api) = api {
            // Requests in progress may finish; a client that holds one open does not hold
            // the server.
            if tokio::time::timeout(Duration::from_secs(1), &mut api)
                .await
                .is_err()
            {
                api.abort();
            }
        }
        drop(ctx);
        if let Some(log) = log {
            let path = PathBuf::from(log.name());
            if let Some(health) = health.as_ref().filter(|h| h.lost() > 0) {
                let reason = health.first_error().unwrap_or_default();
                let _ = log.close().await;
                return Err(ServeError::LogRequired { path, reason });
            }
            log.close()
                .await
                .map_err(|source| ServeError::Log { path, source })?;
        }
        Ok(summary)
    }
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
    Ok((Some(Arc::new(capture)), Some(listen(setup.listen)?)))
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

fn listen(addr: SocketAddr) -> Result<TcpListener, ServeError> {
    let bind = || {
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        socket.bind(addr)?;
        socket.listen(BACKLOG)
    };
    bind().map_err(|source| ServeError::Bind { addr, source })
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
