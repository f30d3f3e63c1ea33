//! # smtpsim-model: the world a message travels through
//!
//! - [`auth`]: SPF evaluated from real records, DKIM modelled, DMARC from its real record, and
//!   the inbox-or-spam placement that follows.

pub mod auth;
