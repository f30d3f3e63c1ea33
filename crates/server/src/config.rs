//! What `smtpsim serve` is told: where to listen, how to misbehave, where to keep mail, and
//! the limits that protect it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use smtpsim_model::scenario::{Behaviour, Duration as ScenarioDuration, Outage};
use smtpsim_proto::Limits;

use crate::http::HttpSetup;
use crate::rules::RuleSet;
use smtpsim_mail::zone::Zone;
pub use smtpsim_proto::server::Timeouts;

/// The whole configuration of a server. [`ServeConfig::new`] gives a friendly sink.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The main listener (plain SMTP, with STARTTLS when TLS is on).
    pub listen: SocketAddr,
    /// A second listener speaking TLS from the first byte (port 465 style), if any.
    pub tls_listen: Option<SocketAddr>,
    /// The host name in the greeting and the EHLO reply.
    pub hostname: String,
    /// How the server answers: the recipient-MX behaviour of the simulator.
    pub behaviour: Behaviour,
    /// Windows, counted from start-up, during which the server is down.
    pub outages: Vec<Outage>,
    /// Decides which addresses are unknown or full and draws temporary failures and chaos.
    pub seed: u64,
    /// Addresses that do not exist (550 5.1.1), besides the behaviour's fraction.
    pub unknown: Vec<String>,
    /// Users that AUTH PLAIN and LOGIN accept: (name, password).
    pub users: Vec<(String, String)>,
    /// The certificate, if TLS is on.
    pub tls: TlsSetup,
    /// Offer STARTTLS on the main listener (when TLS is on).
    pub starttls: bool,
    /// Offer AUTH on connections without TLS too.
    pub auth_without_tls: bool,
    /// Refuse MAIL until the client has authenticated (530 5.7.0).
    pub require_auth: bool,
    /// Deliver accepted messages into this Maildir (sink mode without it).
    pub maildir: Option<PathBuf>,
    /// Append the JSON Lines session log to this file.
    pub log: Option<PathBuf>,
    /// Line, size, recipient and error limits of each session.
    pub limits: Limits,
    /// The deadlines of a client's command lines and content, and the minimum data rate (the
    /// sessions keep them; the command timeout also bounds a TLS handshake and a write).
    pub timeouts: Timeouts,
    /// Most connections open at once.
    pub max_connections: usize,
    /// Most connections open at once from one client address.
    pub max_connections_per_ip: usize,
    /// After a shutdown signal, how long sessions may go on before they are closed with 421.
    pub shutdown_grace: Duration,
    /// Failures at random, per SMTP stage.
    pub chaos: Chaos,
    /// Apply [`max_connections_per_ip`](ServeConfig::max_connections_per_ip) to loopback
    /// clients too; by default they are exempt (as Postfix exempts `$mynetworks`), so a load
    /// test from 127.0.0.1 is served.
    pub limit_loopback: bool,
    /// Stop the server when the session log cannot be written; by default new transactions
    /// are refused with `451 4.3.0` until it can be written again.
    pub log_required: bool,
    /// Read magic addresses: the local part of a sender or recipient says how to answer
    /// (see [`Magic`](crate::Magic)).
    pub magic: bool,
    /// Print one line for each session on stdout: the client, its EHLO name, TLS and AUTH
    /// user, each message's envelope and final reply, the refusals and how it ended.
    pub console: bool,
    /// The link speed of each connection in each direction, in bytes a second (1 to
    /// [`MAX_BANDWIDTH`](crate::MAX_BANDWIDTH)); unlimited when `None`.
    pub bandwidth: Option<u64>,
    /// The reply rules (part of the behaviour that `PUT /api/behaviour` replaces).
    pub rules: Arc<RuleSet>,
    /// Serve the HTTP control and capture API and its page.
    pub http: Option<HttpSetup>,
    /// Explain the captured sessions on the HTTP page and API: their annotated transcripts,
    /// and each message's SPF, DKIM and DMARC checked for real against this DNS.
    pub explain: Option<Arc<Zone>>,
    /// Threads that accept and serve connections (1 to
    /// [`MAX_THREADS`](crate::MAX_THREADS)). With 1, the runtime that runs the server
    /// accepts and serves every connection. With more, each further thread runs a
    /// single-threaded runtime of its own with its own listener on the same port
    /// (`SO_REUSEPORT`): the kernel spreads new connections over the threads, and each
    /// connection is served by the thread that accepted it, with no wake-ups across threads.
    /// Those threads deliver to the [`maildir`](ServeConfig::maildir) in turn, each waiting
    /// for the disk: with a Maildir, run the server with 1 on a multi-threaded runtime,
    /// whose workers hand their other connections on while one waits for a sync.
    pub threads: usize,
}

impl ServeConfig {
    /// A sink on `listen` that accepts everything, with TLS from a self-signed certificate,
    /// RFC 5321 timeouts and limits, at most 1,000 connections (100 per client address, with
    /// loopback clients exempt).
    pub fn new(listen: SocketAddr) -> ServeConfig {
        ServeConfig {
            listen,
            tls_listen: None,
            hostname: "localhost".to_string(),
            behaviour: Behaviour::default(),
            outages: Vec::new(),
            seed: 1,
            unknown: Vec::new(),
            users: Vec::new(),
            tls: TlsSetup::SelfSigned,
            starttls: true,
            auth_without_tls: false,
            require_auth: false,
            maildir: None,
            log: None,
            limits: Limits::default(),
            timeouts: Timeouts::default(),
            max_connections: 1000,
            max_connections_per_ip: 100,
            shutdown_grace: Duration::from_secs(10),
            chaos: Chaos::default(),
            limit_loopback: false,
            log_required: false,
            magic: false,
            console: false,
            bandwidth: None,
            rules: Arc::default(),
            http: None,
            explain: None,
            threads: 1,
        }
    }
}

/// Where the TLS certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSetup {
    /// No TLS: no STARTTLS, no implicit-TLS listener.
    Off,
    /// A self-signed certificate for the host name, `localhost` and the loopback addresses,
    /// made at start-up.
    SelfSigned,
    /// A certificate chain and its private key, both PEM files.
    Files {
        /// The certificate chain.
        cert: PathBuf,
        /// The private key.
        key: PathBuf,
    },
}

/// Probabilities that the server answers `421 4.3.0` and hangs up at a stage, drawn
/// independently at each stage of each connection; with [`Chaos::drop`], it hangs up without
/// a word.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Chaos {
    /// At the greeting.
    pub connect: f64,
    /// At HELO/EHLO.
    pub helo: f64,
    /// At MAIL.
    pub mail: f64,
    /// At each RCPT.
    pub rcpt: f64,
    /// At DATA.
    pub data: f64,
    /// At the end of data, instead of accepting the message.
    pub message: f64,
    /// Hang up without any reply instead of answering 421: what a client sees when the server
    /// crashes or the connection is lost (after the replies to earlier commands).
    pub drop: bool,
}

impl Chaos {
    /// Sets the probability of the stage called `stage` (`connect`, `helo`, `mail`, `rcpt`,
    /// `data`, `message`).
    pub fn set(&mut self, stage: &str, probability: f64) -> Result<(), String> {
        if !(0.0..=1.0).contains(&probability) {
            return Err(format!(
                "a probability must be between 0 and 1, not {probability}"
            ));
        }
        let slot = match stage {
            "connect" => &mut self.connect,
            "helo" => &mut self.helo,
            "mail" => &mut self.mail,
            "rcpt" => &mut self.rcpt,
            "data" => &mut self.data,
            "message" => &mut self.message,
            _ => {
                return Err(format!(
                    "unknown stage {stage:?}: use connect, helo, mail, rcpt, data or message"
                ));
            }
        };
        *slot = probability;
        Ok(())
    }

    /// Whether any stage can fail.
    pub fn any(&self) -> bool {
        [
            self.connect,
            self.helo,
            self.mail,
            self.rcpt,
            self.data,
            self.message,
        ]
        .iter()
        .any(|p| *p > 0.0)
    }
}

impl ServeConfig {
    /// What the server will do, in a few words: where mail goes, TLS, and each way it
    /// misbehaves (`accepts everything` when none).
    pub fn describe(&self) -> String {
        let store = match &self.maildir {
            Some(dir) => format!("Maildir {}", dir.display()),
            None => "sink (content dropped)".to_string(),
        };
        let tls = match (&self.tls, self.starttls) {
            (TlsSetup::Off, _) => "no TLS",
            (_, true) => "STARTTLS",
            (_, false) => "TLS without STARTTLS",
        };
        let b = &self.behaviour;
        let mut does = Vec::new();
        if self.magic {
            does.push("magic addresses".to_string());
        }
        if let Some(g) = &b.greylisting {
            does.push(format!("greylisting {}", g.delay));
        }
        if !self.unknown.is_empty() {
            does.push(format!("{} unknown addresses", self.unknown.len()));
        }
        let fractions = [
            ("unknown users", b.unknown_users.0),
            (
                "full mailboxes",
                b.full_mailboxes.as_ref().map_or(0.0, |f| f.fraction.0),
            ),
            ("temporary failures", b.temp_failures.0),
        ];
        for (what, p) in fractions.into_iter().filter(|(_, p)| *p > 0.0) {
            does.push(format!("{what} {p}"));
        }
        if let Some(m) = &b.rate_limits.messages {
            does.push(format!("message rate {}/s", m.rate.per_second));
        }
        if let Some(c) = &b.rate_limits.connections {
            does.push(format!("connection rate {}/s", c.rate.per_second));
        }
        if b.require_tls {
            does.push("TLS required".to_string());
        }
        if self.require_auth {
            does.push("AUTH required".to_string());
        }
        if let Some(size) = b.size_limit {
            does.push(format!("largest message {} octets", size.0));
        }
        if !(b.latency.is_constant() && b.latency.mean() == 0.0) {
            // The distribution's mean is in microseconds.
            let mean = ScenarioDuration::from_micros(b.latency.mean().round() as u64);
            does.push(format!("reply latency mean {mean}"));
        }
        if self.chaos.any() {
            does.push("chaos".to_string());
        }
        if !self.rules.is_empty() {
            let names: Vec<&str> = self.rules.names().collect();
            does.push(format!("rules {}", names.join(" ")));
        }
        if let Some(rate) = self.bandwidth {
            does.push(format!("bandwidth {rate} bytes/s"));
        }
        if !self.outages.is_empty() {
            does.push(format!("{} outages", self.outages.len()));
        }
        if does.is_empty() {
            does.push("accepts everything".to_string());
        }
        format!("{store}, {tls}, {}", does.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_says_what_the_server_does() {
        let mut config = ServeConfig::new("127.0.0.1:0".parse().unwrap());
        assert_eq!(
            config.describe(),
            "sink (content dropped), STARTTLS, accepts everything"
        );
        config.magic = true;
        config.maildir = Some(PathBuf::from("/tmp/M"));
        config.tls = TlsSetup::Off;
        config.behaviour.temp_failures.0 = 0.25;
        assert_eq!(
            config.describe(),
            "Maildir /tmp/M, no TLS, magic addresses, temporary failures 0.25"
        );
        config.behaviour.latency =
            smtpsim_model::scenario::Dist::constant(ScenarioDuration::from_micros(20_000));
        assert!(
            config.describe().ends_with("reply latency mean 20ms"),
            "{}",
            config.describe()
        );
    }

    #[test]
    fn chaos_stages() {
        let mut chaos = Chaos::default();
        assert!(!chaos.any());
        chaos.set("rcpt", 0.25).unwrap();
        assert_eq!(chaos.rcpt, 0.25);
        assert!(chaos.any());
        assert!(
            chaos
                .set("rcpt", 1.5)
                .unwrap_err()
                .contains("between 0 and 1")
        );
        assert!(
            chaos
                .set("quit", 0.1)
                .unwrap_err()
                .contains("unknown stage")
        );
    }
}
