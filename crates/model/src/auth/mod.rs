//! Sender authentication (SPF, DKIM, DMARC) and placement.

pub mod dkim;
pub mod dmarc;
pub mod dns;
pub mod spf;
mod tags;
