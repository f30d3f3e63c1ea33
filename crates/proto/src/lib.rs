//! # smtpsim-proto: a sans-IO SMTP engine
//!
//! Bytes and replies go in; bytes and events come out. Nothing here opens a socket, reads a
//! clock or starts a thread, so the same state machines serve the discrete-event simulator
//! (virtual time), the real tokio server (wall-clock time) and the interactive terminal.
//!
//! - [`command`]: parse and format SMTP command lines.
//! - [`reply`]: replies, enhanced status codes, formatting and client-side parsing.
//! - [`codes`]: a catalogue of reply codes and enhanced codes with meanings and advice.
//! - [`server`]: the server session state machine, asking a [`server::Policy`] at each decision.
//! - [`client`]: the client session state machine that drives one delivery attempt.
//! - [`data`]: the DATA reader (dot-unstuffing and the end-of-data rule).
//! - [`loopback`]: a client session wired to a server session in memory.

#![forbid(unsafe_code)]

pub mod client;
pub mod codes;
pub mod command;
pub mod data;
mod fifo;
#[doc(hidden)]
pub mod fuzzing;
pub mod limits;
pub mod loopback;
pub mod reply;
pub mod server;

pub use command::{Address, Command, CommandError, ForwardPath, Host, ReversePath};
pub use limits::Limits;
pub use reply::{EnhancedCode, Reply, ReplyCode};
