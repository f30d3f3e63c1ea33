//! The DNS questions the evaluators ask, and an in-memory answer book.
//!
//! SPF, DKIM and DMARC read everything they know about a domain through [`Resolver`], so the
//! same evaluators run against [`StaticResolver`] in tests and against the simulator's DNS model
//! (with its failures and timeouts) in a scenario. Nothing here touches the network.
//!
//! Conventions shared by every implementation:
//!
//! - names are compared case-insensitively and a trailing dot is ignored
//!   (`Example.COM.` is `example.com`);
//! - a name that exists but has no record of the asked type answers `Ok` with an empty list
//!   ("no data"); a name that does not exist answers [`LookupError::NxDomain`];
//! - a TXT record made of several character-strings is answered as one string, the pieces
//!   joined without separator (RFC 7208 section 3.3).

use std::borrow::Cow;
use std::net::IpAddr;

use rustc_hash::{FxHashMap, FxHashSet};

/// Why a lookup gave no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum LookupError {
    /// The name does not exist (RCODE 3). Evaluators treat it like an empty answer.
    #[error("no such domain (NXDOMAIN)")]
    NxDomain,
    /// The server failed (RCODE 2, or any other error code).
    #[error("DNS server failure (SERVFAIL)")]
    ServFail,
    /// No answer came in time.
    #[error("DNS lookup timed out")]
    Timeout,
}

impl LookupError {
    /// Whether a later attempt may succeed: true for [`LookupError::ServFail`] and
    /// [`LookupError::Timeout`], which the evaluators report as a temporary error.
    pub const fn is_temporary(self) -> bool {
        !matches!(self, LookupError::NxDomain)
    }
}

/// One MX record: a mail exchanger and its preference (lower is tried first).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Mx {
    /// The preference value.
    pub preference: u16,
    /// The exchange host name; `.` for a null MX (RFC 7505).
    pub exchange: String,
}

/// Answers the three kinds of question sender authentication asks.
///
/// Answers are returned as [`Cow`] slices so that an implementation holding its records in
/// memory can lend them without copying.
pub trait Resolver {
    /// The TXT records at `domain`, each one string.
    fn txt(&self, domain: &str) -> Result<Cow<'_, [String]>, LookupError>;

    /// The A and AAAA records at `domain`, together.
    fn addrs(&self, domain: &str) -> Result<Cow<'_, [IpAddr]>, LookupError>;

    /// The MX records at `domain`, in no particular order.
    fn mx(&self, domain: &str) -> Result<Cow<'_, [Mx]>, LookupError>;
}

impl<R: Resolver + ?Sized> Resolver for &R {
    fn txt(&self, domain: &str) -> Result<Cow<'_, [String]>, LookupError> {
        (**self).txt(domain)
    }

    fn addrs(&self, domain: &str) -> Result<Cow<'_, [IpAddr]>, LookupError> {
        (**self).addrs(domain)
    }

    fn mx(&self, domain: &str) -> Result<Cow<'_, [Mx]>, LookupError> {
        (**self).mx(domain)
    }
}

/// The records held for one name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Node {
    txt: Vec<String>,
    addrs: Vec<IpAddr>,
    mx: Vec<Mx>,
    failure: Option<LookupError>,
}

/// A fixed set of records held in memory: the resolver of tests and of simple scenarios.
///
/// Built with the `with_*` methods; every name given to one of them exists. A name that was
/// never given, but is an ancestor of one that was (such as `_domainkey.example.com` when
/// `sel._domainkey.example.com` has a record), exists with no records, as in real DNS.
///
/// ```
/// use smtpsim_model::auth::dns::{LookupError, Resolver, StaticResolver};
///
/// let dns = StaticResolver::new()
///     .with_txt("example.com", "v=spf1 ip4:192.0.2.0/24 -all")
///     .with_a("mail.example.com", [192, 0, 2, 25])
///     .with_failure("broken.example", LookupError::ServFail);
/// assert_eq!(dns.txt("EXAMPLE.com.").unwrap().len(), 1);
/// assert_eq!(dns.txt("mail.example.com").unwrap().len(), 0);
/// assert_eq!(dns.txt("other.example").unwrap_err(), LookupError::NxDomain);
/// assert_eq!(dns.addrs("broken.example").unwrap_err(), LookupError::ServFail);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StaticResolver {
    /// The names that hold records (or a failure), by hash: every check asks for several.
    names: FxHashMap<String, Node>,
    /// The names above them (`example.com` and `com` for `mail.example.com`): such a name
    /// exists with no records of its own, so a lookup of it is "no data", not NXDOMAIN.
    interior: FxHashSet<String>,
}

impl StaticResolver {
    /// An empty answer book: every name is NXDOMAIN.
    pub fn new() -> StaticResolver {
        StaticResolver::default()
    }

    fn node(&mut self, domain: &str) -> &mut Node {
        let name = normalize(domain).into_owned();
        for (i, _) in name.match_indices('.') {
            // A dot is ASCII: what follows it starts on a character boundary.
            let above = &name[i + 1..];
            if !above.is_empty() && !self.interior.contains(above) {
                self.interior.insert(above.to_owned());
            }
        }
        self.names.entry(name).or_default()
    }

    /// Adds a TXT record (one string) at `domain`.
    pub fn with_txt(mut self, domain: &str, record: impl Into<String>) -> StaticResolver {
        self.node(domain).txt.push(record.into());
        self
    }

    /// Adds an A or AAAA record at `domain` (`[192, 0, 2, 1]`, an `Ipv6Addr`, an `IpAddr`...).
    pub fn with_a(mut self, domain: &str, addr: impl Into<IpAddr>) -> StaticResolver {
        self.node(domain).addrs.push(addr.into());
        self
    }

    /// Adds an MX record at `domain`.
    pub fn with_mx(mut self, domain: &str, preference: u16, exchange: &str) -> StaticResolver {
        self.node(domain).mx.push(Mx {
            preference,
            exchange: exchange.to_owned(),
        });
        self
    }

    /// Makes every lookup of `domain` (and only that exact name) fail with `error`, whatever
    /// records it holds.
    pub fn with_failure(mut self, domain: &str, error: LookupError) -> StaticResolver {
        self.node(domain).failure = Some(error);
        self
    }

    /// Makes `domain` exist with no records (every lookup answers "no data").
    pub fn with_name(mut self, domain: &str) -> StaticResolver {
        self.node(domain);
        self
    }

    fn lookup(&self, domain: &str) -> Result<Option<&Node>, LookupError> {
        let key = normalize(domain);
        if let Some(node) = self.names.get(key.as_ref()) {
            return match node.failure {
                Some(error) => Err(error),
                None => Ok(Some(node)),
            };
        }
        if !key.is_empty() && self.interior.contains(key.as_ref()) {
            Ok(None)
        } else {
            Err(LookupError::NxDomain)
        }
    }
}

impl Resolver for StaticResolver {
    fn txt(&self, domain: &str) -> Result<Cow<'_, [String]>, LookupError> {
        Ok(Cow::Borrowed(self.lookup(domain)?.map_or(&[], |n| &n.txt)))
    }

    fn addrs(&self, domain: &str) -> Result<Cow<'_, [IpAddr]>, LookupError> {
        Ok(Cow::Borrowed(
            self.lookup(domain)?.map_or(&[], |n| &n.addrs),
        ))
    }

    fn mx(&self, domain: &str) -> Result<Cow<'_, [Mx]>, LookupError> {
        Ok(Cow::Borrowed(self.lookup(domain)?.map_or(&[], |n| &n.mx)))
    }
}

/// `domain` in lower case without its trailing dot; borrowed when already in that form.
pub(crate) fn normalize(domain: &str) -> Cow<'_, str> {
    let trimmed = domain.strip_suffix('.').unwrap_or(domain);
    if trimmed.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(trimmed.to_ascii_lowercase())
    } else {
        Cow::Borrowed(trimmed)
    }
}

/// Whether two domain names are the same name (case-insensitive, trailing dot ignored).
pub(crate) fn same_name(a: &str, b: &str) -> bool {
    let a = a.strip_suffix('.').unwrap_or(a);
    let b = b.strip_suffix('.').unwrap_or(b);
    a.eq_ignore_ascii_case(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv6Addr;

    #[test]
    fn names_are_case_insensitive_and_ignore_the_trailing_dot() {
        let dns = StaticResolver::new()
            .with_txt("Example.COM.", "hello")
            .with_a("example.com", [192, 0, 2, 1])
            .with_a("example.com", Ipv6Addr::LOCALHOST)
            .with_mx("example.com", 10, "mx.example.com");
        assert_eq!(dns.txt("example.com").unwrap().as_ref(), ["hello"]);
        assert_eq!(dns.txt("EXAMPLE.com.").unwrap().as_ref(), ["hello"]);
        assert_eq!(dns.addrs("example.COM").unwrap().len(), 2);
        let mx = dns.mx("example.com.").unwrap();
        assert_eq!(mx[0].preference, 10);
        assert_eq!(mx[0].exchange, "mx.example.com");
    }

    #[test]
    fn missing_names_are_nxdomain_and_missing_types_are_empty() {
        let dns = StaticResolver::new().with_a("host.example.com", [192, 0, 2, 1]);
        assert_eq!(dns.txt("nope.example").unwrap_err(), LookupError::NxDomain);
        assert!(dns.txt("host.example.com").unwrap().is_empty());
        assert!(dns.mx("host.example.com").unwrap().is_empty());
        // An ancestor of a name that exists exists too, with no records.
        assert!(dns.txt("example.com").unwrap().is_empty());
        assert!(dns.txt("COM.").unwrap().is_empty());
        assert_eq!(
            dns.txt("st.example.com").unwrap_err(),
            LookupError::NxDomain
        );
        assert_eq!(dns.txt("").unwrap_err(), LookupError::NxDomain);
        assert!(dns.txt("empty.example").is_err());
        let dns = dns.with_name("empty.example");
        assert!(dns.txt("empty.example").unwrap().is_empty());
    }

    #[test]
    fn failures_win_over_records() {
        let dns = StaticResolver::new()
            .with_txt("example.com", "v=spf1 -all")
            .with_failure("example.com", LookupError::Timeout);
        assert_eq!(dns.txt("example.com").unwrap_err(), LookupError::Timeout);
        assert_eq!(dns.mx("example.com").unwrap_err(), LookupError::Timeout);
        assert!(LookupError::Timeout.is_temporary());
        assert!(LookupError::ServFail.is_temporary());
        assert!(!LookupError::NxDomain.is_temporary());
    }

    #[test]
    fn references_resolve_too() {
        fn count<R: Resolver>(r: R) -> usize {
            r.txt("example.com").map(|t| t.len()).unwrap_or(0)
        }
        let dns = StaticResolver::new().with_txt("example.com", "x");
        assert_eq!(count(&dns), 1);
        let dynamic: &dyn Resolver = &dns;
        assert_eq!(count(dynamic), 1);
    }

    #[test]
    fn normalize_borrows_when_it_can() {
        assert!(matches!(
            normalize("example.com."),
            Cow::Borrowed("example.com")
        ));
        assert_eq!(normalize("EXAMPLE.com"), "example.com");
        assert!(same_name("Example.com.", "example.COM"));
        assert!(!same_name("example.com", "example.net"));
    }
}
