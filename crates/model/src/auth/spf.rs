//! SPF (RFC 7208): is the relay's address allowed to send for the envelope sender's domain?
//!
//! [`check_host`] evaluates the domain's real TXT record, looked up through a [`Resolver`],
//! against the client address: `ip4`, `ip6`, `a`, `mx`, `include`, `exists`, `all` with the
//! qualifiers `+ - ~ ?`, and the `redirect=` modifier.
//!
//! Choices and limits of this model:
//!
//! - At most 10 DNS-querying terms (`include`, `a`, `mx`, `ptr`, `exists`, `redirect`) are
//!   evaluated over the whole check, nested records included; the 11th is a `permerror`. Terms
//!   are counted when evaluated, so a record that matches early may list more.
//! - At most 2 void lookups (a name that does not exist or has no records of the asked type)
//!   for the lookup a term itself makes; the third is a `permerror`. Address lookups of MX
//!   hosts are not counted as void.
//! - An `mx` whose domain has more than 10 MX names is a `permerror`.
//! - `ptr` counts as a DNS-querying term and never matches: the model does no reverse DNS, and
//!   RFC 7208 itself asks senders not to use it.
//! - `exp=` is parsed and checked but no explanation text is built.
//! - Macros `%{s l o d i p h v}` with their transformers and delimiters, and the escapes `%%`,
//!   `%_`, `%-`, are expanded; `%{p}` is always `unknown`; `%{c r t}`, defined only for
//!   `exp=`, are a `permerror` elsewhere.
//! - An IPv4-mapped IPv6 client address is checked as the IPv4 address it carries.
//! - DNS failures (SERVFAIL, timeout) end the check with `temperror`; NXDOMAIN counts as an
//!   empty answer.

mod macros;
mod record;

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;

pub use record::{Directive, Mechanism, Qualifier, SpfParseError, SpfRecord, is_spf_record};

use super::dns::{LookupError, Resolver};
use macros::MacroValues;

/// The limit of DNS-querying terms over a whole check (RFC 7208 section 4.6.4).
pub const MAX_DNS_TERMS: u8 = 10;
/// The limit of void lookups over a whole check (RFC 7208 section 4.6.4).
pub const MAX_VOID_LOOKUPS: u8 = 2;
/// The limit of MX names one `mx` mechanism may look at (RFC 7208 section 4.6.4).
pub const MAX_MX_NAMES: usize = 10;

/// The result of an SPF check (RFC 7208 section 2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpfVerdict {
    /// No SPF record, or no valid domain to check.
    None,
    /// The domain makes no statement about this address (`?` or no match).
    Neutral,
    /// The address is allowed.
    Pass,
    /// The address is not allowed.
    Fail,
    /// The address is probably not allowed (`~`).
    SoftFail,
    /// A DNS failure; a later check may succeed.
    TempError,
    /// The domain's records are broken (syntax, limits, missing included record).
    PermError,
}

impl SpfVerdict {
    /// The lower-case name used in `Received-SPF` and `Authentication-Results` headers.
    pub const fn as_str(self) -> &'static str {
        match self {
            SpfVerdict::None => "none",
            SpfVerdict::Neutral => "neutral",
            SpfVerdict::Pass => "pass",
            SpfVerdict::Fail => "fail",
            SpfVerdict::SoftFail => "softfail",
            SpfVerdict::TempError => "temperror",
            SpfVerdict::PermError => "permerror",
        }
    }
}

impl fmt::Display for SpfVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<Qualifier> for SpfVerdict {
    fn from(qualifier: Qualifier) -> SpfVerdict {
        match qualifier {
            Qualifier::Pass => SpfVerdict::Pass,
            Qualifier::Fail => SpfVerdict::Fail,
            Qualifier::SoftFail => SpfVerdict::SoftFail,
            Qualifier::Neutral => SpfVerdict::Neutral,
        }
    }
}

/// What an SPF check found, and why.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SpfResult {
    /// The result.
    pub verdict: SpfVerdict,
    /// The domain checked (the MAIL FROM domain, or the HELO name for a null sender).
    pub domain: String,
    /// The matching term as written (`ip4:192.0.2.0/24`, `include:_spf.google.com`, `-all`),
    /// from the record that decided; `None` when no term matched.
    pub mechanism: Option<String>,
    /// The term that decided in each record on the way to the result, outermost first, with
    /// the name whose record holds it: `[("gmail.com", "include:_spf.google.com"),
    /// ("_spf.google.com", "ip4:209.85.128.0/17")]` (a `redirect=` counts as its record's
    /// term). Empty when no term matched.
    pub matched: Vec<(String, String)>,
    /// A sentence saying how the result came about, such as
    /// `"matched include:_spf.google.com in gmail.com"` or `"unknown mechanism 'foo'"`.
    pub reason: String,
    /// DNS-querying terms evaluated.
    pub dns_terms: u8,
    /// Void lookups met.
    pub void_lookups: u8,
}

/// What is being checked: `check_host(<ip>, <domain>, <sender>)` plus the HELO name for `%{h}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SpfQuery<'a> {
    /// The client (relay) address.
    pub ip: IpAddr,
    /// The domain whose policy is checked.
    pub domain: &'a str,
    /// The sender, `local@domain`; a sender without `@` is taken as a domain whose local-part
    /// is `postmaster`.
    pub sender: &'a str,
    /// The HELO/EHLO name.
    pub helo: &'a str,
}

impl<'a> SpfQuery<'a> {
    /// The check of a transaction's MAIL FROM (RFC 7208 section 2.4): the reverse-path's domain,
    /// or, for the null reverse-path `""`, the HELO name with sender `postmaster@<helo>`.
    pub fn for_mail_from(ip: IpAddr, mail_from: &'a str, helo: &'a str) -> SpfQuery<'a> {
        let domain = match mail_from.rsplit_once('@') {
            Some((_, domain)) => domain,
            None if mail_from.is_empty() => helo,
            None => mail_from,
        };
        SpfQuery {
            ip,
            domain,
            sender: mail_from,
            helo,
        }
    }
}

/// `check_host(ip, domain, sender)` of RFC 7208 section 4, with the HELO name taken to be the
/// domain.
///
/// ```
/// use smtpsim_model::auth::dns::StaticResolver;
/// use smtpsim_model::auth::spf::{check_host, SpfVerdict};
///
/// let dns = StaticResolver::new().with_txt("example.com", "v=spf1 ip4:192.0.2.0/24 -all");
/// let ok = check_host("192.0.2.10".parse().unwrap(), "example.com", "bob@example.com", &dns);
/// assert_eq!(ok.verdict, SpfVerdict::Pass);
/// assert_eq!(ok.mechanism.as_deref(), Some("ip4:192.0.2.0/24"));
/// let bad = check_host("198.51.100.1".parse().unwrap(), "example.com", "bob@example.com", &dns);
/// assert_eq!(bad.verdict, SpfVerdict::Fail);
/// ```
pub fn check_host<R: Resolver + ?Sized>(
    ip: IpAddr,
    domain: &str,
    sender: &str,
    resolver: &R,
) -> SpfResult {
    check(
        &SpfQuery {
            ip,
            domain,
            sender,
            helo: domain,
        },
        resolver,
    )
}

/// Runs the SPF check described by `query`.
pub fn check<R: Resolver + ?Sized>(query: &SpfQuery<'_>, resolver: &R) -> SpfResult {
    let null_sender;
    let sender = if query.sender.is_empty() {
        null_sender = format!("postmaster@{}", query.helo);
        &null_sender
    } else {
        query.sender
    };
    let (local, sender_domain) = match sender.rsplit_once('@') {
        Some(("", domain)) => ("postmaster", domain),
        Some((local, domain)) => (local, domain),
        None => ("postmaster", sender),
    };
    let mut eval = Eval {
        resolver,
        ip: query.ip.to_canonical(),
        sender,
        local,
        sender_domain,
        helo: query.helo,
        dns_terms: 0,
        voids: 0,
        scratch: String::new(),
        included: Vec::new(),
    };
    let outcome = eval.check_host(query.domain);
    SpfResult {
        verdict: outcome.verdict,
        domain: query.domain.to_owned(),
        mechanism: outcome.mechanism,
        matched: outcome.matched,
        reason: outcome.reason,
        dns_terms: eval.dns_terms,
        void_lookups: eval.voids,
    }
}

/// The result of one (possibly nested) check_host.
struct Outcome {
    verdict: SpfVerdict,
    mechanism: Option<String>,
    /// See [`SpfResult::matched`].
    matched: Vec<(String, String)>,
    reason: String,
}

impl Outcome {
    fn new(verdict: SpfVerdict, reason: String) -> Outcome {
        Outcome {
            verdict,
            mechanism: None,
            matched: Vec::new(),
            reason,
        }
    }
}

/// Why evaluation stopped early.
enum Stop {
    Temp(String),
    Perm(String),
}

struct Eval<'a, R: ?Sized> {
    resolver: &'a R,
    ip: IpAddr,
    sender: &'a str,
    local: &'a str,
    sender_domain: &'a str,
    helo: &'a str,
    dns_terms: u8,
    voids: u8,
    scratch: String,
    /// The terms that matched inside the last `include:` that passed.
    included: Vec<(String, String)>,
}

impl<'a, R: Resolver + ?Sized> Eval<'a, R> {
    fn check_host(&mut self, domain: &str) -> Outcome {
        if !is_checkable_domain(domain) {
            return Outcome::new(
                SpfVerdict::None,
                format!("'{domain}' is not a domain that can be checked"),
            );
        }
        let resolver = self.resolver;
        let records = match resolver.txt(domain) {
            Ok(records) => records,
            Err(LookupError::NxDomain) => {
                return Outcome::new(SpfVerdict::None, format!("{domain} does not exist"));
            }
            Err(error) => {
                return Outcome::new(
                    SpfVerdict::TempError,
                    format!("TXT lookup of {domain}: {error}"),
                );
            }
        };
        let mut spf = records.iter().filter(|r| is_spf_record(r.as_str()));
        let text = match (spf.next(), spf.next()) {
            (None, _) => {
                return Outcome::new(
                    SpfVerdict::None,
                    format!("{domain} publishes no SPF record"),
                );
            }
            (Some(_), Some(_)) => {
                return Outcome::new(
                    SpfVerdict::PermError,
                    format!("{domain} publishes more than one SPF record"),
                );
            }
            (Some(text), None) => text,
        };
        let record = match SpfRecord::parse(text) {
            Ok(record) => record,
            Err(error) => {
                return Outcome::new(
                    SpfVerdict::PermError,
                    format!("SPF record of {domain}: {error}"),
                );
            }
        };
        match self.evaluate(domain, &record) {
            Ok(outcome) => outcome,
            Err(Stop::Temp(reason)) => Outcome::new(SpfVerdict::TempError, reason),
            Err(Stop::Perm(reason)) => Outcome::new(SpfVerdict::PermError, reason),
        }
    }

    fn evaluate(&mut self, domain: &str, record: &SpfRecord<'_>) -> Result<Outcome, Stop> {
        for directive in &record.directives {
            if self.matches(domain, directive)? {
                let mut matched = vec![(domain.to_owned(), directive.text.to_owned())];
                if let Mechanism::Include(_) = directive.mechanism {
                    matched.append(&mut self.included);
                }
                return Ok(Outcome {
                    verdict: directive.qualifier.into(),
                    mechanism: Some(directive.text.to_owned()),
                    matched,
                    reason: format!("matched {} in {domain}", directive.text),
                });
            }
        }
        // A record with `all` never gets here, so redirect applies only without one.
        let Some(spec) = record.redirect else {
            return Ok(Outcome::new(
                SpfVerdict::Neutral,
                format!("no term of {domain} matched (default neutral)"),
            ));
        };
        self.count_dns_term()?;
        let target = self.expand(spec, domain)?;
        let mut outcome = self.check_host(&target);
        match outcome.verdict {
            SpfVerdict::None => Err(Stop::Perm(format!("redirect={target}: {}", outcome.reason))),
            _ => {
                outcome.reason = format!("redirect={target}: {}", outcome.reason);
                if !outcome.matched.is_empty() {
                    outcome
                        .matched
                        .insert(0, (domain.to_owned(), format!("redirect={spec}")));
                }
                Ok(outcome)
            }
        }
    }

    fn matches(&mut self, domain: &str, directive: &Directive<'_>) -> Result<bool, Stop> {
        if directive.mechanism.queries_dns() {
            self.count_dns_term()?;
        }
        match directive.mechanism {
            Mechanism::All => Ok(true),
            Mechanism::Ip4 { addr, prefix } => Ok(in_network(self.ip, addr.into(), prefix, 0)),
            Mechanism::Ip6 { addr, prefix } => Ok(in_network(self.ip, addr.into(), 0, prefix)),
            Mechanism::Ptr(_) => Ok(false),
            Mechanism::Include(spec) => {
                let target = self.expand(spec, domain)?;
                let inner = self.check_host(&target);
                let context = |reason: &str| format!("{}: {reason}", directive.text);
                match inner.verdict {
                    SpfVerdict::Pass => {
                        self.included = inner.matched;
                        Ok(true)
                    }
                    SpfVerdict::Fail | SpfVerdict::SoftFail | SpfVerdict::Neutral => Ok(false),
                    SpfVerdict::TempError => Err(Stop::Temp(context(&inner.reason))),
                    SpfVerdict::PermError | SpfVerdict::None => {
                        Err(Stop::Perm(context(&inner.reason)))
                    }
                }
            }
            Mechanism::A {
                domain: spec,
                cidr4,
                cidr6,
            } => {
                let target = self.target(spec, domain)?;
                let addrs = self.addrs(&target, true)?;
                Ok(addrs.iter().any(|a| in_network(self.ip, *a, cidr4, cidr6)))
            }
            Mechanism::Mx {
                domain: spec,
                cidr4,
                cidr6,
            } => {
                let target = self.target(spec, domain)?;
                let resolver = self.resolver;
                let hosts = match resolver.mx(&target) {
                    Ok(hosts) => hosts,
                    Err(LookupError::NxDomain) => Default::default(),
                    Err(error) => {
                        return Err(Stop::Temp(format!("MX lookup of {target}: {error}")));
                    }
                };
                if hosts.is_empty() {
                    self.count_void()?;
                }
                if hosts.len() > MAX_MX_NAMES {
                    return Err(Stop::Perm(format!(
                        "{} names more than {MAX_MX_NAMES} MX hosts",
                        directive.text
                    )));
                }
                for host in hosts.iter() {
                    if host.exchange == "." || host.exchange.is_empty() {
                        continue;
                    }
                    let addrs = self.addrs(&host.exchange, false)?;
                    if addrs.iter().any(|a| in_network(self.ip, *a, cidr4, cidr6)) {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Mechanism::Exists(spec) => {
                let target = self.expand(spec, domain)?;
                let addrs = self.addrs(&target, false)?;
                let any_v4 = addrs.iter().any(IpAddr::is_ipv4);
                if !any_v4 {
                    self.count_void()?;
                }
                Ok(any_v4)
            }
        }
    }

    /// The address records at `name`; an empty answer counts as void when `void_counts`.
    fn addrs(&mut self, name: &str, void_counts: bool) -> Result<Cow<'a, [IpAddr]>, Stop> {
        let resolver = self.resolver;
        let addrs = match resolver.addrs(name) {
            Ok(addrs) => addrs,
            Err(LookupError::NxDomain) => Cow::Borrowed(&[][..]),
            Err(error) => return Err(Stop::Temp(format!("address lookup of {name}: {error}"))),
        };
        if addrs.is_empty() && void_counts {
            self.count_void()?;
        }
        Ok(addrs)
    }

    fn count_dns_term(&mut self) -> Result<(), Stop> {
        self.dns_terms = self.dns_terms.saturating_add(1);
        if self.dns_terms > MAX_DNS_TERMS {
            return Err(Stop::Perm(format!(
                "more than {MAX_DNS_TERMS} DNS-querying terms (include, a, mx, ptr, exists, redirect)"
            )));
        }
        Ok(())
    }

    fn count_void(&mut self) -> Result<(), Stop> {
        self.voids = self.voids.saturating_add(1);
        if self.voids > MAX_VOID_LOOKUPS {
            return Err(Stop::Perm(format!(
                "more than {MAX_VOID_LOOKUPS} void DNS lookups"
            )));
        }
        Ok(())
    }

    /// The domain a mechanism looks at: its expanded domain-spec, or the current domain.
    fn target(&mut self, spec: Option<&str>, domain: &str) -> Result<String, Stop> {
        match spec {
            Some(spec) => self.expand(spec, domain),
            None => Ok(domain.to_owned()),
        }
    }

    fn expand(&mut self, spec: &str, domain: &str) -> Result<String, Stop> {
        let values = MacroValues {
            sender: self.sender,
            local: self.local,
            sender_domain: self.sender_domain,
            domain,
            ip: self.ip,
            helo: self.helo,
        };
        macros::expand(spec, &values, &mut self.scratch).map_err(Stop::Perm)?;
        // Over-long names lose labels from the left (RFC 7208 section 7.3).
        let mut name = self.scratch.as_str();
        while name.len() > 253 {
            name = match name.split_once('.') {
                Some((_, rest)) => rest,
                None => break,
            };
        }
        Ok(name.to_owned())
    }
}

/// RFC 7208 section 4.3: a name of at least two labels, none empty or longer than 63 octets,
/// 253 octets at most, without spaces.
fn is_checkable_domain(domain: &str) -> bool {
    let name = domain.strip_suffix('.').unwrap_or(domain);
    name.len() <= 253
        && name.contains('.')
        && !name
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
        && name.split('.').all(|label| (1..=63).contains(&label.len()))
}

/// Whether `ip` is inside `net`/`cidr4` (IPv4) or `net`/`cidr6` (IPv6); never across families.
fn in_network(ip: IpAddr, net: IpAddr, cidr4: u8, cidr6: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => {
            let mask = u32::MAX
                .checked_shl(32 - u32::from(cidr4.min(32)))
                .unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) => {
            let mask = u128::MAX
                .checked_shl(128 - u32::from(cidr6.min(128)))
                .unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod record_tests;
