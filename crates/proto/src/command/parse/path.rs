//! Paths, mailboxes, domains and address literals (RFC 5321 section 4.1.2, RFC 6531).
//!
//! The functions here work on byte indices into a `&str` and return the index just past what
//! they recognised, so callers decide what may follow. Errors are a short reason; the caller
//! wraps it in the [`CommandError`](crate::command::CommandError) variant its context calls for.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::scan::{ATEXT, DCONTENT, LDH, QTEXT, is, skip};
use crate::command::{Address, Host};

/// Longest local part, in octets (RFC 5321 section 4.5.3.1.1).
const MAX_LOCAL_PART: usize = 64;
/// Longest domain label, in octets (RFC 1035).
const MAX_LABEL: usize = 63;
/// Longest domain, in octets (RFC 5321 section 4.5.3.1.2).
const MAX_DOMAIN: usize = 255;

/// What was between the angle brackets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Path<'a> {
    /// `<>`
    Null,
    /// `<Postmaster>`, in any case, without a domain.
    Postmaster,
    /// `<[source-route:]mailbox>`
    Mailbox(Address<'a>),
}

/// Parses a path that starts at `s[0]`; returns it and the index just past its `>`.
pub(super) fn path(s: &str) -> Result<(Path<'_>, usize), &'static str> {
    let b = s.as_bytes();
    if b.first() != Some(&b'<') {
        return Err("missing angle brackets");
    }
    let mut i = 1;
    match b.get(i) {
        Some(b'>') => return Ok((Path::Null, 2)),
        Some(b'@') => i = source_route(b, i)?,
        _ => {}
    }
    let routed = i > 1;
    let (local_end, local_part) = local_part(s, i)?;
    let (path, end) = match b.get(local_end) {
        Some(b'@') => {
            let (domain, end) = host(s, local_end + 1)?;
            (Path::Mailbox(Address { local_part, domain }), end)
        }
        Some(b'>') if !routed && local_part.eq_ignore_ascii_case("postmaster") => {
            (Path::Postmaster, local_end)
        }
        Some(b'>') | None => return Err("missing @domain"),
        Some(_) => return Err("invalid character in local part"),
    };
    match b.get(end) {
        Some(b'>') => Ok((path, end + 1)),
        None => Err("missing closing angle bracket"),
        Some(_) => Err("invalid character in domain"),
    }
}

/// Checks `@domain *("," @domain) ":"` starting at the first `@`; returns the index past `:`.
fn source_route(b: &[u8], mut i: usize) -> Result<usize, &'static str> {
    loop {
        // b[i] is '@'.
        i = domain(b, i + 1).map_err(|_| "invalid source route")?;
        match b.get(i) {
            Some(b',') if b.get(i + 1) == Some(&b'@') => i += 1,
            Some(b':') => return Ok(i + 1),
            _ => return Err("invalid source route"),
        }
    }
}

/// Parses a whole `local-part@domain` with nothing around it.
pub(super) fn mailbox(s: &str) -> Result<Address<'_>, &'static str> {
    let (local_end, local_part) = local_part(s, 0)?;
    if s.as_bytes().get(local_end) != Some(&b'@') {
        return Err(if local_end == s.len() {
            "missing @domain"
        } else {
            "invalid character in local part"
        });
    }
    let (domain, end) = host(s, local_end + 1)?;
    if end != s.len() {
        return Err("invalid character in domain");
    }
    Ok(Address { local_part, domain })
}

/// Parses a dot-string or quoted-string local part at `i`; returns its end and its text.
#[inline]
fn local_part(s: &str, start: usize) -> Result<(usize, &str), &'static str> {
    let b = s.as_bytes();
    let end = if b.get(start) == Some(&b'"') {
        quoted_string(b, start)?
    } else {
        dot_string(b, start)?
    };
    if end - start > MAX_LOCAL_PART {
        return Err("local part longer than 64 octets");
    }
    Ok((end, &s[start..end]))
}

/// `Atom *("." Atom)`; returns the index past it.
#[inline]
fn dot_string(b: &[u8], start: usize) -> Result<usize, &'static str> {
    let mut i = start;
    loop {
        let atom = i;
        i = skip(b, i, ATEXT);
        if i == atom {
            return Err(if i == start {
                "empty local part"
            } else {
                "misplaced dot in local part"
            });
        }
        if b.get(i) != Some(&b'.') {
            return Ok(i);
        }
        i += 1;
    }
}

/// `DQUOTE *(qtextSMTP / quoted-pairSMTP) DQUOTE` at `start`; returns the index past it.
fn quoted_string(b: &[u8], start: usize) -> Result<usize, &'static str> {
    let mut i = start + 1;
    loop {
        match b.get(i) {
            Some(b'"') => return Ok(i + 1),
            Some(b'\\') => match b.get(i + 1) {
                Some(32..=126) => i += 2,
                _ => return Err("invalid quoted pair in local part"),
            },
            Some(&c) if is(c, QTEXT) => i += 1,
            Some(_) => return Err("invalid character in quoted local part"),
            None => return Err("unterminated quoted local part"),
        }
    }
}

/// A domain or an address literal at `i`; returns it and the index past it.
#[inline]
pub(super) fn host(s: &str, i: usize) -> Result<(Host<'_>, usize), &'static str> {
    if s.as_bytes().get(i) == Some(&b'[') {
        address_literal(s, i)
    } else {
        let end = domain(s.as_bytes(), i)?;
        Ok((Host::Domain(&s[i..end]), end))
    }
}

/// Dot-separated labels of letters, digits and hyphens (or non-ASCII, for U-labels), no label
/// starting or ending with a hyphen; returns the index past the domain.
#[inline]
fn domain(b: &[u8], start: usize) -> Result<usize, &'static str> {
    let mut i = start;
    loop {
        let label = i;
        i = skip(b, i, LDH);
        let len = i - label;
        if len == 0 {
            return Err(match b.get(i) {
                None | Some(b'>') if i == start => "missing domain",
                None | Some(b'.' | b'>') => "empty domain label",
                Some(_) => "invalid character in domain",
            });
        }
        if len > MAX_LABEL {
            return Err("domain label longer than 63 octets");
        }
        if b[label] == b'-' || b[i - 1] == b'-' {
            return Err("domain label starts or ends with a hyphen");
        }
        if b.get(i) != Some(&b'.') {
            break;
        }
        i += 1;
    }
    if i - start > MAX_DOMAIN {
        return Err("domain longer than 255 octets");
    }
    Ok(i)
}

/// `[IPv4]`, `[IPv6:addr]` (tag in any case) or `[tag:content]` at `start`.
fn address_literal(s: &str, start: usize) -> Result<(Host<'_>, usize), &'static str> {
    let b = s.as_bytes();
    let close = skip(b, start + 1, DCONTENT);
    if b.get(close) != Some(&b']') {
        return Err("invalid address literal");
    }
    let inner = &s[start + 1..close];
    let host = match memchr::memchr(b':', inner.as_bytes()) {
        Some(colon) => {
            let (tag, content) = (&inner[..colon], &inner[colon + 1..]);
            if tag.eq_ignore_ascii_case("IPv6") {
                Host::Ipv6(
                    content
                        .parse::<Ipv6Addr>()
                        .map_err(|_| "invalid IPv6 address")?,
                )
            } else if is_tag(tag) && !content.is_empty() {
                Host::General { tag, content }
            } else {
                return Err("invalid address literal");
            }
        }
        None => Host::Ipv4(ipv4(inner.as_bytes()).ok_or("invalid IPv4 address")?),
    };
    Ok((host, close + 1))
}

/// `Standardized-tag = Ldh-str`: letters, digits and hyphens, not ending in a hyphen.
fn is_tag(tag: &str) -> bool {
    let b = tag.as_bytes();
    !b.is_empty()
        && b.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'-')
        && b[b.len() - 1] != b'-'
}

/// Four dot-separated decimal numbers of one to three digits, each at most 255.
fn ipv4(b: &[u8]) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut parts = b.split(|&c| c == b'.');
    for octet in &mut octets {
        let part = parts.next()?;
        if part.is_empty() || part.len() > 3 || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let n = part.iter().fold(0u16, |n, &c| n * 10 + u16::from(c - b'0'));
        *octet = u8::try_from(n).ok()?;
    }
    if parts.next().is_some() {
        return None;
    }
    Some(Ipv4Addr::from(octets))
}
