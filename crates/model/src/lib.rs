//! # smtpsim-model: the world a message travels through
//!
//! - [`scenario`]: the scenario file (TOML), checked field by field.
//! - [`sim`]: the simulation engine that runs a scenario on the discrete-event kernel.
//! - [`journey`]: one message followed step by step, for people learning SMTP.
//! - [`behaviour`]: recipient MX behaviours (greylisting, rate limits, unknown users, ...), as
//!   a protocol-core [`Policy`](smtpsim_proto::server::Policy).
//! - [`retry`]: retry policies (exponential, Postfix, Exim, fixed).
//! - [`limits`]: the bounds a scenario must stay within to be run.
//! - [`auth`]: SPF evaluated from real records, DKIM modelled, DMARC from its real record, and
//!   the inbox-or-spam placement that follows.

#![forbid(unsafe_code)]

pub mod auth;
pub mod behaviour;
#[doc(hidden)]
pub mod fuzzing;
pub mod journey;
pub mod limits;
pub mod retry;
pub mod scenario;
pub mod sim;
pub mod stable_hash;

mod reply_text;
