//! SPF macro expansion (RFC 7208 section 7).
//!
//! Supported: `%{s}` sender, `%{l}` its local-part, `%{o}` its domain, `%{d}` the domain being
//! checked, `%{i}` the client IP (dotted nibbles for IPv6), `%{v}` (`in-addr` or `ip6`), `%{h}`
//! the HELO name, `%{p}` (always `unknown`: this model does no reverse DNS), with the digit and
//! `r` transformers, custom delimiters, upper-case letters for URL escaping, and the escapes
//! `%%`, `%_` and `%-`. The letters `c`, `r` and `t` are allowed only in `exp=`, whose text this
//! model does not build, so they are a syntax error anywhere else.

use std::fmt::Write as _;
use std::net::IpAddr;

/// The values the macro letters stand for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MacroValues<'a> {
    /// `<sender>`: `local@domain`.
    pub sender: &'a str,
    /// The local-part of the sender (`postmaster` when it has none).
    pub local: &'a str,
    /// The domain of the sender.
    pub sender_domain: &'a str,
    /// The domain being checked (changes through include and redirect).
    pub domain: &'a str,
    /// The client IP.
    pub ip: IpAddr,
    /// The HELO/EHLO name.
    pub helo: &'a str,
}

/// Checks the syntax of a macro-string without expanding it.
pub(crate) fn validate(spec: &str) -> Result<(), String> {
    walk(spec, None, &mut String::new())
}

/// Expands `spec` into `out` (which is cleared first).
pub(crate) fn expand(spec: &str, values: &MacroValues<'_>, out: &mut String) -> Result<(), String> {
    out.clear();
    walk(spec, Some(values), out)
}

/// Whether `spec` ends with a macro-expand (`%{..}`, `%%`, `%_` or `%-`), in which case the
/// toplabel rule of a domain-spec does not apply to it.
pub(crate) fn ends_with_macro(spec: &str) -> bool {
    let bytes = spec.as_bytes();
    let mut i = 0;
    let mut last_was_macro = false;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            last_was_macro = true;
            if bytes.get(i + 1) == Some(&b'{') {
                match spec[i..].find('}') {
                    Some(end) => i += end + 1,
                    None => return false,
                }
            } else {
                i += 2;
            }
        } else {
            last_was_macro = false;
            i += 1;
        }
    }
    last_was_macro
}

fn walk(spec: &str, values: Option<&MacroValues<'_>>, out: &mut String) -> Result<(), String> {
    let bytes = spec.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b != b'%' {
            if !(0x21..=0x7e).contains(&b) {
                return Err(format!("invalid character in '{}'", spec.escape_debug()));
            }
            out.push(char::from(b));
            i += 1;
            continue;
        }
        match bytes.get(i + 1) {
            Some(b'%') => out.push('%'),
            Some(b'_') => out.push(' '),
            Some(b'-') => out.push_str("%20"),
            Some(b'{') => {
                let Some(len) = spec[i + 2..].find('}') else {
                    return Err(format!("unterminated macro in '{spec}'"));
                };
                let body = &spec[i + 2..i + 2 + len];
                one_macro(body, values, out)?;
                i += len + 3;
                continue;
            }
            _ => {
                return Err(format!(
                    "'%' not followed by '{{', '%', '_' or '-' in '{spec}'"
                ));
            }
        }
        i += 2;
    }
    Ok(())
}

fn one_macro(body: &str, values: Option<&MacroValues<'_>>, out: &mut String) -> Result<(), String> {
    if !body.is_ascii() {
        return Err(format!(
            "invalid character in macro '%{{{}}}'",
            body.escape_debug()
        ));
    }
    let Some(&letter) = body.as_bytes().first() else {
        return Err("empty macro '%{}'".to_owned());
    };
    let rest = &body[1..];
    let digits_len = rest.bytes().take_while(u8::is_ascii_digit).count();
    let digits = &rest[..digits_len];
    let mut rest = &rest[digits_len..];
    let reverse = rest.starts_with(['r', 'R']);
    if reverse {
        rest = &rest[1..];
    }
    if let Some(bad) = rest.chars().find(|c| !".-+,/_=".contains(*c)) {
        return Err(format!("invalid delimiter '{bad}' in macro '%{{{body}}}'"));
    }
    let keep = if digits.is_empty() {
        None
    } else {
        // Values beyond any real domain's label count all mean "every part".
        let n: usize = digits[..digits.len().min(4)].parse().unwrap_or(0);
        if n == 0 {
            return Err(format!("zero label count in macro '%{{{body}}}'"));
        }
        Some(n)
    };
    let escape = letter.is_ascii_uppercase();
    let letter = letter.to_ascii_lowercase();
    if matches!(letter, b'c' | b'r' | b't') {
        return Err(format!("macro '%{{{body}}}' is only allowed in exp="));
    }
    if !matches!(
        letter,
        b's' | b'l' | b'o' | b'd' | b'i' | b'p' | b'h' | b'v'
    ) {
        return Err(format!("unknown macro letter in '%{{{body}}}'"));
    }
    let Some(values) = values else {
        return Ok(());
    };
    let mut scratch = String::new();
    let value: &str = match letter {
        b's' => values.sender,
        b'l' => values.local,
        b'o' => values.sender_domain,
        b'd' => values.domain,
        b'h' => values.helo,
        b'p' => "unknown",
        b'v' => match values.ip {
            IpAddr::V4(_) => "in-addr",
            IpAddr::V6(_) => "ip6",
        },
        _ => {
            ip_macro(values.ip, &mut scratch);
            &scratch
        }
    };
    let delimiters = if rest.is_empty() { "." } else { rest };
    let mut parts: Vec<&str> = value.split(|c| delimiters.contains(c)).collect();
    if reverse {
        parts.reverse();
    }
    let skip = keep.map_or(0, |n| parts.len().saturating_sub(n));
    for (index, part) in parts[skip..].iter().enumerate() {
        if index > 0 {
            push(out, ".", escape);
        }
        push(out, part, escape);
    }
    Ok(())
}

fn ip_macro(ip: IpAddr, out: &mut String) {
    match ip {
        IpAddr::V4(v4) => {
            let _ = write!(out, "{v4}");
        }
        IpAddr::V6(v6) => {
            for (index, byte) in v6.octets().iter().enumerate() {
                if index > 0 {
                    out.push('.');
                }
                let _ = write!(out, "{:x}.{:x}", byte >> 4, byte & 0xf);
            }
        }
    }
}

fn push(out: &mut String, text: &str, escape: bool) {
    if !escape {
        out.push_str(text);
        return;
    }
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The examples of RFC 7208 section 7.4.
    fn values(ip: &str) -> MacroValues<'static> {
        MacroValues {
            sender: "strong-bad@email.example.com",
            local: "strong-bad",
            sender_domain: "email.example.com",
            domain: "email.example.com",
            ip: ip.parse().unwrap(),
            helo: "mx.example.org",
        }
    }

    fn x(spec: &str, ip: &str) -> String {
        let mut out = String::new();
        expand(spec, &values(ip), &mut out).unwrap();
        out
    }

    #[test]
    fn rfc_examples_expand() {
        let v4 = "192.0.2.3";
        assert_eq!(x("%{s}", v4), "strong-bad@email.example.com");
        assert_eq!(x("%{o}", v4), "email.example.com");
        assert_eq!(x("%{d}", v4), "email.example.com");
        assert_eq!(x("%{d4}", v4), "email.example.com");
        assert_eq!(x("%{d3}", v4), "email.example.com");
        assert_eq!(x("%{d2}", v4), "example.com");
        assert_eq!(x("%{d1}", v4), "com");
        assert_eq!(x("%{dr}", v4), "com.example.email");
        assert_eq!(x("%{d2r}", v4), "example.email");
        assert_eq!(x("%{l}", v4), "strong-bad");
        assert_eq!(x("%{l-}", v4), "strong.bad");
        assert_eq!(x("%{lr}", v4), "strong-bad");
        assert_eq!(x("%{lr-}", v4), "bad.strong");
        assert_eq!(x("%{l1r-}", v4), "strong");
        assert_eq!(
            x("%{ir}.%{v}._spf.%{d2}", v4),
            "3.2.0.192.in-addr._spf.example.com"
        );
        assert_eq!(
            x("%{lr-}.lp._spf.%{d2}", v4),
            "bad.strong.lp._spf.example.com"
        );
        assert_eq!(
            x("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", v4),
            "3.2.0.192.in-addr.strong.lp._spf.example.com"
        );
        assert_eq!(
            x("%{ir}.%{v}._spf.%{d2}", "2001:db8::cb01"),
            "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com"
        );
        assert_eq!(x("%{h}", v4), "mx.example.org");
        assert_eq!(x("%{p}", v4), "unknown");
    }

    #[test]
    fn escapes_and_url_encoding() {
        assert_eq!(x("a%%b%_c%-d", "192.0.2.3"), "a%b c%20d");
        assert_eq!(x("%{S}", "192.0.2.3"), "strong-bad%40email.example.com");
    }

    #[test]
    fn syntax_errors_are_reported() {
        for bad in [
            "%", "%x", "%{", "%{}", "%{z}", "%{d0}", "%{d2x}", "%{c}", "%{t}", "a b", "é", "%{é}",
        ] {
            assert!(validate(bad).is_err(), "{bad:?} should be rejected");
        }
        for good in [
            "example.com",
            "%{d}",
            "%{ir}.%{v}._spf.%{d2}",
            "%{l1r-+}",
            "%%",
            "%{d999999}",
        ] {
            assert!(validate(good).is_ok(), "{good:?} should be accepted");
        }
    }

    #[test]
    fn ends_with_macro_looks_at_the_last_token() {
        assert!(ends_with_macro("%{d}"));
        assert!(ends_with_macro("x.%{d2}"));
        assert!(ends_with_macro("x%%"));
        assert!(!ends_with_macro("%{d}.example.com"));
        assert!(!ends_with_macro("example.com"));
        assert!(!ends_with_macro("%{d"));
    }
}
