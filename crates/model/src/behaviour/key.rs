//! What the MX's rate limits and greylisting count by: the client address, its network (a
//! /24 for IPv4, a /64 for IPv6, as postgrey groups clients by default), or the sending domain.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::scenario::CountBy;
use crate::stable_hash::StableHasher;

/// One counted party: the memory of rate limits and greylisting is kept per key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CountKey {
    /// A client address, or the first address of its network.
    Ip(IpAddr),
    /// The stable hash of a sending domain, without case (the null sender's is that of "").
    Domain(u64),
}

impl CountKey {
    /// Adds the key to a hash (for greylisting triplets).
    pub fn hash_into(self, hasher: &mut StableHasher) {
        match self {
            CountKey::Ip(IpAddr::V4(ip)) => hasher.write(&ip.octets()),
            CountKey::Ip(IpAddr::V6(ip)) => hasher.write(&ip.octets()),
            CountKey::Domain(hash) => {
                hasher.write(b"@");
                hasher.write_u64(hash);
            }
        }
    }
}

/// The first address of the network `client` belongs to: its /24 (IPv4) or /64 (IPv6). An
/// IPv4-mapped IPv6 address counts as its IPv4 address.
pub fn network_of(client: IpAddr) -> IpAddr {
    match client.to_canonical() {
        IpAddr::V4(ip) => {
            let [a, b, c, _] = ip.octets();
            IpAddr::V4(Ipv4Addr::new(a, b, c, 0))
        }
        IpAddr::V6(ip) => {
            let bits = u128::from(ip) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
    }
}

/// The domain of a reverse-path written `local@domain`, empty for the null sender.
pub fn domain_of(sender: &str) -> &str {
    // A plain loop from the end: the domain is short.
    sender
        .bytes()
        .rposition(|b| b == b'@')
        .map_or("", |at| &sender[at + 1..])
}

/// The key that counts a connection from `client`: the sender is not known at the greeting,
/// so connections are counted by address under [`CountBy::SenderDomain`].
pub fn connection_key(by: CountBy, client: IpAddr) -> CountKey {
    match by {
        CountBy::Network => CountKey::Ip(network_of(client)),
        CountBy::Address | CountBy::SenderDomain => CountKey::Ip(client.to_canonical()),
    }
}

/// The key that counts a message from `client` whose reverse-path has the domain
/// `sender_domain` (empty for the null sender).
pub fn message_key(by: CountBy, client: IpAddr, sender_domain: &str) -> CountKey {
    match by {
        CountBy::SenderDomain => {
            let mut hasher = StableHasher::new();
            hasher.write_lowercase(sender_domain.as_bytes());
            CountKey::Domain(hasher.finish())
        }
        by => connection_key(by, client),
    }
}

/// The address whose memory a driver that keeps one behaviour per group of clients must
/// consult: the network under [`CountBy::Network`], the address under [`CountBy::Address`],
/// and `None` (one group for all clients) under [`CountBy::SenderDomain`], where messages
/// from any address may count together.
pub fn group_of(by: CountBy, client: Option<IpAddr>) -> Option<IpAddr> {
    match by {
        CountBy::Address => client,
        CountBy::Network => client.map(network_of),
        CountBy::SenderDomain => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_are_slash_24_and_slash_64() {
        let v4: IpAddr = "198.51.100.77".parse().unwrap();
        assert_eq!(network_of(v4), "198.51.100.0".parse::<IpAddr>().unwrap());
        let v6: IpAddr = "2001:db8:1:2:3:4:5:6".parse().unwrap();
        assert_eq!(network_of(v6), "2001:db8:1:2::".parse::<IpAddr>().unwrap());
        let mapped: IpAddr = "::ffff:198.51.100.9".parse().unwrap();
        assert_eq!(network_of(mapped), network_of(v4));
    }

    #[test]
    fn keys_follow_the_choice() {
        let a: IpAddr = "198.51.100.1".parse().unwrap();
        let b: IpAddr = "198.51.100.2".parse().unwrap();
        let other: IpAddr = "198.51.101.1".parse().unwrap();
        let by = CountBy::Address;
        assert_ne!(
            message_key(by, a, "s.example"),
            message_key(by, b, "s.example")
        );
        let by = CountBy::Network;
        assert_eq!(
            message_key(by, a, "s.example"),
            message_key(by, b, "t.example")
        );
        assert_ne!(
            message_key(by, a, "s.example"),
            message_key(by, other, "s.example")
        );
        let by = CountBy::SenderDomain;
        assert_eq!(
            message_key(by, a, "S.example"),
            message_key(by, other, "s.example")
        );
        assert_ne!(
            message_key(by, a, "s.example"),
            message_key(by, a, "t.example")
        );
        assert_eq!(connection_key(by, a), CountKey::Ip(a));
        assert_eq!(domain_of("x@s.example"), "s.example");
        assert_eq!(domain_of(""), "");
        assert_eq!(group_of(by, Some(a)), None);
        assert_eq!(group_of(CountBy::Network, Some(b)), Some(network_of(a)));
    }
}
