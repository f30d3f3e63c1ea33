//! `[relay.pool]`: the source addresses the relay sends from, and how it picks one for each
//! message.

use std::net::IpAddr;

use serde::Deserialize;

pub use crate::limits::{MAX_POOL_ADDRESSES, MAX_POOL_WEIGHT};

/// A pool of source addresses (IPv4 or IPv6). Each message is sent from one of them, on every
/// attempt and to every domain; the MX's rate limits, greylisting, reputation and SPF see
/// that address.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourcePool {
    /// How an address is picked for a message.
    #[serde(default)]
    pub selection: Selection,
    /// The addresses, with their weights.
    pub addresses: Vec<SourceAddress>,
}

/// One address of a pool.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceAddress {
    /// The address.
    pub ip: IpAddr,
    /// Its share of the messages (1 to [`MAX_POOL_WEIGHT`]).
    #[serde(default = "one")]
    pub weight: u32,
}

fn one() -> u32 {
    1
}

/// `selection`: how a message's source address is picked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Selection {
    /// Messages in arrival order take the addresses in turn, each address `weight` times
    /// in a row per cycle.
    #[default]
    RoundRobin,
    /// Each message draws an address with probability proportional to its weight, from the
    /// random stream `source_address` (one draw per message id).
    Weighted,
    /// The `n`th sender of the scenario (counting from 0) sends everything from the address
    /// at place `n` of the round-robin cycle.
    BySender,
}
