//! # smtpsim-server: a real SMTP server that misbehaves on purpose, and a load generator
//!
//! [`Server`] puts the simulator's recipient-MX behaviours (greylisting, rate limits, unknown
//! users, full mailboxes, temporary failures, outages) behind a real TCP listener, in
//! wall-clock time, with STARTTLS and implicit TLS (rustls), AUTH PLAIN and LOGIN, Maildir
//! delivery that is on disk before the 250 reply, a JSON Lines session log, the session's
//! command and content deadlines and connection limits. Each connection is a tokio task driving the protocol core's
//! [`ServerSession`](smtpsim_proto::server::ServerSession), on the runtime of the thread that
//! accepted it ([`ServeConfig::threads`]).
//!
//! With [`ServeConfig::http`], the server also serves [`http`]: an API that shows the
//! messages and session transcripts it captured, changes the behaviour while it runs, and
//! exports Prometheus metrics, with a page for people.
//!
//! [`blast`] is the load generator: many tokio tasks, each driving the protocol core's
//! [`ClientSession`](smtpsim_proto::client::ClientSession), with latencies in an HdrHistogram.
//!
//! ```no_run
//! use smtpsim_server::{ServeConfig, Server, shutdown_signal};
//!
//! # async fn example() -> Result<(), smtpsim_server::ServeError> {
//! let config = ServeConfig::new("127.0.0.1:2525".parse().unwrap());
//! let server = Server::bind(config).await?;
//! let summary = server.run(shutdown_signal()).await?;
//! println!("{} messages", summary.messages);
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]

pub mod blast;
mod capture;
mod config;
mod connection;
mod console;
pub mod http;
mod listener;
mod live;
mod log;
pub mod magic;
mod maildir;
mod policy;
mod rules;
mod throttle;
mod tls;
mod trace;

pub use capture::{
    CaptureBounds, ExplainedMessage, ExplainedSession, MAX_CAPTURED, MAX_CAPTURED_BYTES,
    decision_line, routine_decision,
};
pub use config::{Chaos, ServeConfig, Timeouts, TlsSetup};
pub use connection::Counters;
pub use listener::{
    MAX_CONNECTIONS, MAX_THREADS, ServeError, ServeSummary, Server, shutdown_signal,
};
pub use live::BehaviourSettings;
pub use log::{LogHandle, LogHealth, LogRecord, SessionLog};
pub use magic::{Magic, Stage as MagicStage, listing as magic_listing};
pub use maildir::{Delivery, Maildir};
pub use policy::{DecisionRecord, ServePolicy};
pub use rules::{MAX_COUNT as MAX_RULE_COUNT, On as RuleOn, RuleSet, RuleStage};
pub use throttle::MAX_BANDWIDTH;
pub use tls::{Certificate, TlsError, insecure_client_config, server_name};
pub use trace::TlsDetails;
