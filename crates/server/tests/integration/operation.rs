//! Operation: the connection limits for loopback clients, the limits' ranges, and a session
//! log that cannot be written.

use std::io::{self, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use smtpsim_server::{ServeConfig, ServeError, ServeSummary, Server, SessionLog};
use tokio::io::AsyncReadExt;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::common::{self, Raw, config, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_clients_are_exempt_from_the_per_address_limit_unless_asked() {
    let mut cfg = config();
    cfg.max_connections_per_ip = 2;
    let server = start(cfg.clone()).await;
    let mut open = Vec::new();
    for _ in 0..6 {
        open.push(Raw::connect(server.addr).await);
    }
    assert_eq!(server.stop().await.refused, 0);

    cfg.limit_loopback = true;
    let server = start(cfg).await;
    let _a = Raw::connect(server.addr).await;
    let _b = Raw::connect(server.addr).await;
    let mut third = Raw {
        stream: tokio::net::TcpStream::connect(server.addr).await.unwrap(),
        received: Vec::new(),
    };
    let said = third.rest().await;
    assert!(
        said.starts_with("421 4.7.0 Too many connections from your address"),
        "{said}"
    );
    assert_eq!(server.stop().await.refused, 1);
}

#[tokio::test]
async fn connection_limits_of_zero_are_errors() {
    for (total, per_ip, name) in [
        (0, 10, "max_connections"),
        (10, 0, "max_connections_per_ip"),
        (10, 2_000_000, "max_connections_per_ip"),
    ] {
        let mut cfg = config();
        cfg.max_connections = total;
        cfg.max_connections_per_ip = per_ip;
        let error = Server::bind(cfg).await.unwrap_err();
        assert!(matches!(error, ServeError::Limit { .. }), "{error}");
        let text = error.to_string();
        assert!(
            text.starts_with(&format!("{name} must be between 1 and 1000000, not ")),
            "{text}"
        );
    }
}

/// A disk that refuses every write while it is full.
struct Disk {
    full: Arc<AtomicBool>,
}

impl Write for Disk {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.full.load(Ordering::SeqCst) {
            Err(io::ErrorKind::StorageFull.into())
        } else {
            Ok(buf.len())
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A server running with a log on `disk`, and its stop signal.
struct Logged {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<ServeSummary, ServeError>>,
}

async fn start_logged(cfg: ServeConfig, log: SessionLog) -> Logged {
    let server = Server::bind_with_log(cfg, Some(log)).await.unwrap();
    let addr = server.local_addr();
    let (stop, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(server.run(async {
        let _ = rx.await;
    }));
    Logged { addr, stop, task }
}

/// Waits (generously) until `done` holds.
async fn eventually(what: &str, done: impl Fn() -> bool) {
    for _ in 0..10_000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    panic!("never: {what}");
}

const MAIL: &[u8] = b"EHLO client.example\r\nMAIL FROM:<a@example.com>\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transactions_get_451_while_the_log_cannot_be_written() {
    let full = Arc::new(AtomicBool::new(true));
    let log = SessionLog::from_writer(Disk { full: full.clone() }, "full disk").unwrap();
    let health = log.health();
    let server = start_logged(config(), log).await;

    let mut client = Raw::connect(server.addr).await;
    eventually("the log fails", || health.is_failing()).await;
    client.send(MAIL).await;
    let said = client.until("451 ").await;
    assert!(
        said.ends_with("451 4.3.0 Cannot log transactions now, try again later\r\n"),
        "{said}"
    );

    full.store(false, Ordering::SeqCst);
    let mut later = Raw::connect(server.addr).await;
    eventually("the log is written again", || !health.is_failing()).await;
    later.send(MAIL).await;
    let said = later.until("250 2.1.0").await;
    assert!(!said.contains("451"), "{said}");

    let _ = server.stop.send(());
    let error = server.task.await.unwrap().unwrap_err();
    assert!(matches!(error, ServeError::Log { .. }), "{error}");
    assert!(
        error.to_string().contains("lines could not be written"),
        "{error}"
    );
    assert!(health.lost() > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_required_log_that_cannot_be_written_stops_the_server() {
    let full = Arc::new(AtomicBool::new(true));
    let log = SessionLog::from_writer(Disk { full }, "full disk").unwrap();
    let mut cfg = config();
    cfg.log_required = true;
    let server = start_logged(cfg, log).await;
    // The first record that cannot be written stops the server: a client greeted before that
    // is told so with 421 4.3.2; one still in the listen queue then is closed unanswered.
    let mut client = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let mut said = Vec::new();
    tokio::time::timeout(common::PATIENCE, client.read_to_end(&mut said))
        .await
        .expect("the server closes the connection")
        .ok();
    let said = String::from_utf8_lossy(&said);
    assert!(said.is_empty() || said.contains("421 4.3.2"), "{said:?}");
    let error = tokio::time::timeout(common::PATIENCE, server.task)
        .await
        .expect("the server stops by itself")
        .unwrap()
        .unwrap_err();
    assert!(matches!(error, ServeError::LogRequired { .. }), "{error}");
    assert!(
        error
            .to_string()
            .starts_with("session log full disk: cannot write"),
        "{error}"
    );
    drop(server.stop);
}
