//! Parsing one SPF record (RFC 7208 sections 4.5 to 6 and 12).
//!
//! The whole record is parsed before anything is evaluated: a syntax error anywhere makes the
//! check a `permerror` (section 4.6), whichever mechanism would have matched first.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::macros;

/// The result a directive gives when its mechanism matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Qualifier {
    /// `+` (the default): pass.
    Pass,
    /// `-`: fail.
    Fail,
    /// `~`: softfail.
    SoftFail,
    /// `?`: neutral.
    Neutral,
}

/// A mechanism with its arguments, borrowed from the record text.
///
/// Domain arguments are macro-strings, expanded at evaluation time; `None` means "the domain
/// being checked".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mechanism<'a> {
    /// `all`: always matches.
    All,
    /// `include:<domain>`: matches when that domain's own check passes.
    Include(&'a str),
    /// `a[:<domain>][/<cidr4>][//<cidr6>]`: the client IP is in a network around one of the
    /// domain's addresses.
    A {
        /// The domain whose addresses are compared.
        domain: Option<&'a str>,
        /// IPv4 prefix length (32 unless given).
        cidr4: u8,
        /// IPv6 prefix length (128 unless given).
        cidr6: u8,
    },
    /// `mx[:<domain>][/<cidr4>][//<cidr6>]`: like `a`, for each of the domain's MX hosts.
    Mx {
        /// The domain whose MX hosts are compared.
        domain: Option<&'a str>,
        /// IPv4 prefix length (32 unless given).
        cidr4: u8,
        /// IPv6 prefix length (128 unless given).
        cidr6: u8,
    },
    /// `ptr[:<domain>]`: deprecated (RFC 7208 section 5.5). It counts as a DNS-querying term
    /// but never matches here, since the model does no reverse DNS.
    Ptr(Option<&'a str>),
    /// `ip4:<network>[/<len>]`.
    Ip4 {
        /// The network address.
        addr: Ipv4Addr,
        /// Prefix length, 0..=32 (32 unless given).
        prefix: u8,
    },
    /// `ip6:<network>[/<len>]`.
    Ip6 {
        /// The network address.
        addr: Ipv6Addr,
        /// Prefix length, 0..=128 (128 unless given).
        prefix: u8,
    },
    /// `exists:<domain>`: matches when the (usually macro-built) name has an A record.
    Exists(&'a str),
}

impl Mechanism<'_> {
    /// Whether evaluating this mechanism queries DNS (and so counts towards the limit of 10).
    pub const fn queries_dns(&self) -> bool {
        !matches!(
            self,
            Mechanism::All | Mechanism::Ip4 { .. } | Mechanism::Ip6 { .. }
        )
    }
}

/// One directive: a qualifier and a mechanism, with the text it was written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Directive<'a> {
    /// What a match means.
    pub qualifier: Qualifier,
    /// What is compared.
    pub mechanism: Mechanism<'a>,
    /// The term as written in the record, such as `-all` or `include:_spf.google.com`.
    pub text: &'a str,
}

/// A parsed SPF record, borrowing from its text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SpfRecord<'a> {
    /// The directives, in record order.
    pub directives: Vec<Directive<'a>>,
    /// The `redirect=` domain-spec, if any.
    pub redirect: Option<&'a str>,
    /// The `exp=` domain-spec, if any (kept, never expanded: the model builds no explanation).
    pub explanation: Option<&'a str>,
}

/// What is wrong with an SPF record; each makes the check a `permerror`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
pub enum SpfParseError {
    /// The text does not start with `v=spf1` followed by a space or its end.
    #[error("not an SPF record (no v=spf1)")]
    NotSpf,
    /// A mechanism name this version of SPF does not define.
    #[error("unknown mechanism '{0}'")]
    UnknownMechanism(String),
    /// A mechanism given an argument it does not take, or missing one it needs.
    #[error("bad argument in '{0}'")]
    BadArgument(String),
    /// A prefix length that is not a number in range (0..=32 for IPv4, 0..=128 for IPv6).
    #[error("bad CIDR length in '{0}'")]
    BadCidr(String),
    /// An `ip4:`/`ip6:` address that does not parse.
    #[error("bad IP address in '{0}'")]
    BadAddress(String),
    /// A domain-spec whose last label is not a valid top label.
    #[error("bad domain in '{0}'")]
    BadDomain(String),
    /// A macro-string with a syntax error.
    #[error("bad macro in '{term}': {detail}")]
    BadMacro {
        /// The term holding the macro.
        term: String,
        /// What is wrong.
        detail: String,
    },
    /// A modifier whose name is not `ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )`.
    #[error("bad modifier name in '{0}'")]
    BadModifier(String),
    /// `redirect=` or `exp=` given more than once.
    #[error("modifier '{0}' given more than once")]
    DuplicateModifier(String),
}

/// Whether a TXT record is an SPF version 1 record: `v=spf1` (any case) followed by a space or
/// by the end of the text.
pub fn is_spf_record(txt: &str) -> bool {
    let bytes = txt.as_bytes();
    bytes.len() >= 6
        && bytes[..6].eq_ignore_ascii_case(b"v=spf1")
        && (bytes.len() == 6 || bytes[6] == b' ')
}

impl<'a> SpfRecord<'a> {
    /// Parses a whole record, `v=spf1` included.
    ///
    /// ```
    /// use smtpsim_model::auth::spf::{Mechanism, Qualifier, SpfRecord};
    ///
    /// let record = SpfRecord::parse("v=spf1 ip4:192.0.2.0/24 include:_spf.example.net -all").unwrap();
    /// assert_eq!(record.directives.len(), 3);
    /// assert_eq!(record.directives[2].qualifier, Qualifier::Fail);
    /// assert_eq!(record.directives[2].mechanism, Mechanism::All);
    /// assert!(SpfRecord::parse("v=spf1 ip4:192.0.2.0/33").is_err());
    /// ```
    pub fn parse(text: &'a str) -> Result<SpfRecord<'a>, SpfParseError> {
        if !is_spf_record(text) {
            return Err(SpfParseError::NotSpf);
        }
        let mut record = SpfRecord {
            directives: Vec::new(),
            redirect: None,
            explanation: None,
        };
        for term in text[6..].split(' ').filter(|t| !t.is_empty()) {
            record.term(term)?;
        }
        Ok(record)
    }

    fn term(&mut self, term: &'a str) -> Result<(), SpfParseError> {
        // A modifier is `name=value`; a mechanism name ends at ':' or '/', never at '='.
        let name_end = term.find([':', '/', '=']).unwrap_or(term.len());
        if term[name_end..].starts_with('=') {
            return self.modifier(term, &term[..name_end], &term[name_end + 1..]);
        }
        let (qualifier, body) = match term.as_bytes()[0] {
            b'+' => (Qualifier::Pass, &term[1..]),
            b'-' => (Qualifier::Fail, &term[1..]),
            b'~' => (Qualifier::SoftFail, &term[1..]),
            b'?' => (Qualifier::Neutral, &term[1..]),
            _ => (Qualifier::Pass, term),
        };
        let name_end = body.find([':', '/']).unwrap_or(body.len());
        let (name, args) = body.split_at(name_end);
        let mechanism = mechanism(term, name, args)?;
        self.directives.push(Directive {
            qualifier,
            mechanism,
            text: term,
        });
        Ok(())
    }

    fn modifier(&mut self, term: &str, name: &str, value: &'a str) -> Result<(), SpfParseError> {
        let mut chars = name.bytes();
        let name_ok = chars.next().is_some_and(|b| b.is_ascii_alphabetic())
            && chars.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !name_ok {
            return Err(SpfParseError::BadModifier(term.to_owned()));
        }
        let slot = if name.eq_ignore_ascii_case("redirect") {
            domain_spec(term, value)?;
            &mut self.redirect
        } else if name.eq_ignore_ascii_case("exp") {
            domain_spec(term, value)?;
            &mut self.explanation
        } else {
            // Unknown modifiers are ignored (section 6).
            return Ok(());
        };
        if slot.is_some() {
            return Err(SpfParseError::DuplicateModifier(name.to_ascii_lowercase()));
        }
        *slot = Some(value);
        Ok(())
    }
}

fn mechanism<'a>(term: &str, name: &str, args: &'a str) -> Result<Mechanism<'a>, SpfParseError> {
    let is = |n: &str| name.eq_ignore_ascii_case(n);
    let bad_argument = || SpfParseError::BadArgument(term.to_owned());
    if is("all") {
        return if args.is_empty() {
            Ok(Mechanism::All)
        } else {
            Err(bad_argument())
        };
    }
    if is("include") || is("exists") {
        let spec = args.strip_prefix(':').ok_or_else(bad_argument)?;
        domain_spec(term, spec)?;
        return Ok(if is("include") {
            Mechanism::Include(spec)
        } else {
            Mechanism::Exists(spec)
        });
    }
    if is("ptr") {
        return match args {
            "" => Ok(Mechanism::Ptr(None)),
            _ => {
                let spec = args.strip_prefix(':').ok_or_else(bad_argument)?;
                domain_spec(term, spec)?;
                Ok(Mechanism::Ptr(Some(spec)))
            }
        };
    }
    if is("a") || is("mx") {
        let (rest, cidr4, cidr6) = dual_cidr(term, args)?;
        let domain = match rest {
            "" => None,
            _ => {
                let spec = rest.strip_prefix(':').ok_or_else(bad_argument)?;
                domain_spec(term, spec)?;
                Some(spec)
            }
        };
        let (cidr4, cidr6) = (cidr4.unwrap_or(32), cidr6.unwrap_or(128));
        return Ok(if is("a") {
            Mechanism::A {
                domain,
                cidr4,
                cidr6,
            }
        } else {
            Mechanism::Mx {
                domain,
                cidr4,
                cidr6,
            }
        });
    }
    if is("ip4") || is("ip6") {
        let value = args.strip_prefix(':').ok_or_else(bad_argument)?;
        let (addr, prefix) = match value.split_once('/') {
            Some((addr, len)) => (addr, Some(len)),
            None => (value, None),
        };
        let bad_address = || SpfParseError::BadAddress(term.to_owned());
        let max = if is("ip4") { 32 } else { 128 };
        let prefix = match prefix {
            Some(len) => {
                cidr_length(len, max).ok_or_else(|| SpfParseError::BadCidr(term.to_owned()))?
            }
            None => max,
        };
        return if is("ip4") {
            let addr = addr.parse().map_err(|_| bad_address())?;
            Ok(Mechanism::Ip4 { addr, prefix })
        } else {
            let addr = addr.parse().map_err(|_| bad_address())?;
            Ok(Mechanism::Ip6 { addr, prefix })
        };
    }
    Err(SpfParseError::UnknownMechanism(name.to_owned()))
}

/// Splits `[:domain][/cidr4][//cidr6]`, reading the lengths from the end (a domain-spec may
/// itself hold '/').
fn dual_cidr<'a>(
    term: &str,
    args: &'a str,
) -> Result<(&'a str, Option<u8>, Option<u8>), SpfParseError> {
    let bad = || SpfParseError::BadCidr(term.to_owned());
    let mut rest = args;
    let mut cidr6 = None;
    if let Some(pos) = rest.rfind("//") {
        let tail = &rest[pos + 2..];
        if is_number(tail) {
            cidr6 = Some(cidr_length(tail, 128).ok_or_else(bad)?);
            rest = &rest[..pos];
        }
    }
    let mut cidr4 = None;
    if let Some(pos) = rest.rfind('/') {
        let tail = &rest[pos + 1..];
        if is_number(tail) {
            cidr4 = Some(cidr_length(tail, 32).ok_or_else(bad)?);
            rest = &rest[..pos];
        }
    }
    if rest.starts_with('/') || (rest.is_empty() && args.ends_with('/')) {
        return Err(bad());
    }
    Ok((rest, cidr4, cidr6))
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// A prefix length: decimal without leading zeros, at most `max`.
fn cidr_length(s: &str, max: u8) -> Option<u8> {
    if !is_number(s) || s.len() > 3 || (s.len() > 1 && s.starts_with('0')) {
        return None;
    }
    s.parse::<u8>().ok().filter(|n| *n <= max)
}

/// Checks a domain-spec: a valid macro-string, not empty, and unless it ends with a macro, a
/// last label that is a valid top label (RFC 7208 section 7.1, `domain-end`).
fn domain_spec(term: &str, spec: &str) -> Result<(), SpfParseError> {
    macros::validate(spec).map_err(|detail| SpfParseError::BadMacro {
        term: term.to_owned(),
        detail,
    })?;
    if macros::ends_with_macro(spec) {
        return Ok(());
    }
    let trimmed = spec.strip_suffix('.').unwrap_or(spec);
    let (_, top) = trimmed
        .rsplit_once('.')
        .ok_or_else(|| SpfParseError::BadDomain(term.to_owned()))?;
    if is_toplabel(top) {
        Ok(())
    } else {
        Err(SpfParseError::BadDomain(term.to_owned()))
    }
}

/// `toplabel` of RFC 7208: letters, digits and inner hyphens, not all digits.
fn is_toplabel(label: &str) -> bool {
    let bytes = label.as_bytes();
    !bytes.is_empty()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
        && bytes.iter().any(|b| !b.is_ascii_digit())
}
