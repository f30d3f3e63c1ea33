//! Sender authentication (SPF, DKIM, DMARC) and placement.

pub mod dns;
pub mod spf;
