//! The console line of a session: who the client was (address, EHLO name, TLS, AUTH user),
//! each message's envelope and final reply, the decisions that refused something, and how the
//! session ended, on one line.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::SyncSender;
use std::time::Duration;

use smtpsim_proto::server::SessionInfo;

use crate::trace::TlsDetails;

/// What a session did, gathered as it goes, for its console line.
#[derive(Debug, Default)]
pub(crate) struct Summary {
    items: Vec<String>,
}

/// A session does not say more than this many things on its line (the rest are counted).
const MOST_ITEMS: usize = 32;

impl Summary {
    /// Adds a message or a refusal.
    pub(crate) fn push(&mut self, item: String) {
        self.items.push(item);
    }

    /// The line of session `id` from `peer`, which ended because of `why`.
    pub(crate) fn line(
        &self,
        id: u64,
        peer: SocketAddr,
        info: &SessionInfo,
        tls: Option<&TlsDetails>,
        why: &str,
    ) -> String {
        let mut line = format!(
            "session {id} from {peer} ehlo={}",
            info.helo.as_deref().unwrap_or("-")
        );
        match tls {
            Some(t) => line.push_str(&format!(" tls={}/{}", t.version, t.cipher)),
            None => line.push_str(" tls=no"),
        }
        line.push_str(&format!(
            " auth={}",
            info.authenticated.as_deref().unwrap_or("-")
        ));
        for item in self.items.iter().take(MOST_ITEMS) {
            line.push_str(" | ");
            line.push_str(item);
        }
        if self.items.len() > MOST_ITEMS {
            line.push_str(&format!(" | {} more", self.items.len() - MOST_ITEMS));
        }
        line.push_str(" | ");
        line.push_str(why);
        line.replace(['\r', '\n'], " ")
    }
}

/// The most session lines waiting to be printed; past that, lines are dropped and counted.
const BACKLOG: usize = 4096;

/// Prints the session lines on stdout from a thread of its own, so that a stdout nobody reads
/// (a test fixture's pipe) never holds a connection up: at most [`BACKLOG`] lines wait, and
/// the ones past that are dropped and counted.
#[derive(Debug)]
pub(crate) struct Console {
    tx: Mutex<Option<SyncSender<String>>>,
    done: Mutex<Option<tokio::sync::oneshot::Receiver<()>>>,
    dropped: AtomicU64,
}

impl Console {
    /// Starts the printing thread.
    pub(crate) fn start() -> Console {
        let (tx, rx) = std::sync::mpsc::sync_channel::<String>(BACKLOG);
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            let mut out = std::io::stdout();
            for line in rx {
                // A closed stdout is ignored: the server goes on.
                let _ = writeln!(out, "{line}");
                let _ = out.flush();
            }
            let _ = done_tx.send(());
        });
        Console {
            tx: Mutex::new(Some(tx)),
            done: Mutex::new(Some(done_rx)),
            dropped: AtomicU64::new(0),
        }
    }

    /// Queues a line (or counts it as dropped if too many are waiting).
    pub(crate) fn print(&self, line: String) {
        let tx = self.tx.lock().unwrap_or_else(|e| e.into_inner());
        let sent = tx.as_ref().is_some_and(|tx| tx.try_send(line).is_ok());
        if !sent {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Stops taking lines and waits up to `patience` for the waiting ones to be printed;
    /// says on stderr how many were dropped, if any.
    pub(crate) async fn finish(&self, patience: Duration) {
        drop(self.tx.lock().unwrap_or_else(|e| e.into_inner()).take());
        let done = self.done.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(done) = done {
            let _ = tokio::time::timeout(patience, done).await;
        }
        let dropped = self.dropped.load(Ordering::Relaxed);
        if dropped > 0 {
            eprintln!("smtpsim serve: {dropped} session lines not printed (stdout was not read)");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_with_everything() {
        let mut summary = Summary::default();
        summary.push("message <a@x> -> b@y,c@y: 250 2.0.0".to_string());
        summary.push("refused rcpt bad@y: 550 5.1.1 (unknown user)\r\n".to_string());
        let info = SessionInfo {
            helo: Some("client.test".to_string()),
            authenticated: Some("alice".to_string()),
            ..SessionInfo::default()
        };
        let tls = TlsDetails {
            version: "TLSv1.3".to_string(),
            cipher: "TLS13_AES_128_GCM_SHA256".to_string(),
        };
        let line = summary.line(
            4,
            "127.0.0.1:4000".parse().unwrap(),
            &info,
            Some(&tls),
            "closed by the client",
        );
        assert_eq!(
            line,
            "session 4 from 127.0.0.1:4000 ehlo=client.test tls=TLSv1.3/TLS13_AES_128_GCM_SHA256 \
             auth=alice | message <a@x> -> b@y,c@y: 250 2.0.0 | refused rcpt bad@y: 550 5.1.1 \
             (unknown user)   | closed by the client"
        );
        let mut many = Summary::default();
        for i in 0..40 {
            many.push(format!("m{i}"));
        }
        let line = many.line(
            1,
            "[::1]:1".parse().unwrap(),
            &SessionInfo::default(),
            None,
            "x",
        );
        assert!(line.contains("ehlo=- tls=no auth=- | m0 |"), "{line}");
        assert!(line.ends_with("| m31 | 8 more | x"), "{line}");
    }
}
