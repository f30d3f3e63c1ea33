//! ESMTP parameters after the path of MAIL and RCPT (RFC 5321 section 4.1.2 `esmtp-param`).
//!
//! Any problem with a parameter is [`CommandError::UnsupportedParameter`], naming the keyword
//! (never echoing a value); a keyword given twice is [`CommandError::Syntax`].

use super::scan::{ATEXT, XCHAR, is, pack, word};
use crate::command::{BodyType, CommandError, MailParams, Notify, RcptParams, Ret};

const SIZE: u64 = word("size");
const BODY: u64 = word("body");
const SMTPUTF8: u64 = word("smtputf8");
const RET: u64 = word("ret");
const ENVID: u64 = word("envid");
const AUTH: u64 = word("auth");
const NOTIFY: u64 = word("notify");
const ORCPT: u64 = word("orcpt");

/// Longest `ENVID` value (RFC 3461 section 4.4).
const MAX_ENVID: usize = 100;
/// Longest unknown keyword quoted back in an error.
const MAX_QUOTED_KEYWORD: usize = 64;

/// The parameters of `MAIL FROM:` from `tail`, everything after the path's `>`.
pub(super) fn mail(tail: &str) -> Result<MailParams<'_>, CommandError> {
    let mut params = MailParams::default();
    for param in split(tail)? {
        let (keyword, value) = param;
        match pack(keyword.as_bytes()) {
            SIZE => {
                once(params.size.is_some())?;
                let value = required("SIZE", value)?;
                params.size = Some(super::scan::number(value.as_bytes()).map_err(|overflow| {
                    bad(
                        "SIZE",
                        if overflow {
                            "value too large"
                        } else {
                            "not a number"
                        },
                    )
                })?);
            }
            BODY => {
                once(params.body.is_some())?;
                let value = required("BODY", value)?;
                params.body = Some(if value.eq_ignore_ascii_case("8BITMIME") {
                    BodyType::EightBitMime
                } else if value.eq_ignore_ascii_case("7BIT") {
                    BodyType::SevenBit
                } else if value.eq_ignore_ascii_case("BINARYMIME") {
                    BodyType::BinaryMime
                } else {
                    return Err(bad("BODY", "expected 7BIT, 8BITMIME or BINARYMIME"));
                });
            }
            SMTPUTF8 => {
                once(params.smtputf8)?;
                if value.is_some() {
                    return Err(bad("SMTPUTF8", "takes no value"));
                }
                params.smtputf8 = true;
            }
            RET => {
                once(params.ret.is_some())?;
                let value = required("RET", value)?;
                params.ret = Some(if value.eq_ignore_ascii_case("FULL") {
                    Ret::Full
                } else if value.eq_ignore_ascii_case("HDRS") {
                    Ret::Headers
                } else {
                    return Err(bad("RET", "expected FULL or HDRS"));
                });
            }
            ENVID => {
                once(params.envid.is_some())?;
                let value = required("ENVID", value)?;
                if !is_xtext(value) {
                    return Err(bad("ENVID", "not xtext"));
                }
                if value.len() > MAX_ENVID {
                    return Err(bad("ENVID", "longer than 100 characters"));
                }
                params.envid = Some(value);
            }
            AUTH => {
                once(params.auth.is_some())?;
                let value = required("AUTH", value)?;
                if !is_xtext(value) {
                    return Err(bad("AUTH", "not xtext"));
                }
                params.auth = Some(value);
            }
            _ => return Err(unknown(keyword)),
        }
    }
    Ok(params)
}

/// The parameters of `RCPT TO:` from `tail`, everything after the path's `>`.
pub(super) fn rcpt(tail: &str) -> Result<RcptParams<'_>, CommandError> {
    let mut params = RcptParams::default();
    for (keyword, value) in split(tail)? {
        match pack(keyword.as_bytes()) {
            NOTIFY => {
                once(params.notify.is_some())?;
                params.notify = Some(notify(required("NOTIFY", value)?)?);
            }
            ORCPT => {
                once(params.orcpt.is_some())?;
                let value = required("ORCPT", value)?;
                if !is_orcpt(value) {
                    return Err(bad("ORCPT", "expected addr-type;xtext"));
                }
                params.orcpt = Some(value);
            }
            _ => return Err(unknown(keyword)),
        }
    }
    Ok(params)
}

/// `NEVER`, or a comma-separated list of `SUCCESS`, `FAILURE` and `DELAY` (repeats allowed).
fn notify(value: &str) -> Result<Notify, CommandError> {
    let mut notify = Notify::default();
    for item in value.split(',') {
        if item.eq_ignore_ascii_case("SUCCESS") {
            notify.success = true;
        } else if item.eq_ignore_ascii_case("FAILURE") {
            notify.failure = true;
        } else if item.eq_ignore_ascii_case("DELAY") {
            notify.delay = true;
        } else if item.eq_ignore_ascii_case("NEVER") {
            notify.never = true;
        } else {
            return Err(bad("NOTIFY", "expected NEVER or SUCCESS, FAILURE, DELAY"));
        }
    }
    if notify.never && (notify.success || notify.failure || notify.delay) {
        return Err(bad("NOTIFY", "NEVER combined with other values"));
    }
    Ok(notify)
}

/// `addr-type ";" xtext`; past the `;` non-ASCII is allowed too (RFC 6533 `utf-8` addresses).
fn is_orcpt(value: &str) -> bool {
    let b = value.as_bytes();
    let Some(semi) = memchr::memchr(b';', b) else {
        return false;
    };
    semi > 0
        && b[..semi].iter().all(|&c| is(c, ATEXT))
        && semi + 1 < b.len()
        && b[semi + 1..]
            .iter()
            .all(|&c| is(c, XCHAR) || c == b'+' || c >= 0x80)
}

/// RFC 3461 xtext: `xchar` or `+` and two hex digits (either case accepted).
fn is_xtext(value: &str) -> bool {
    let b = value.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'+' {
            if !(b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
            {
                return false;
            }
            i += 3;
        } else if is(b[i], XCHAR) {
            i += 1;
        } else {
            return false;
        }
    }
    true
}

/// Splits what follows a path into `(keyword, value)` pairs. The tail is empty or starts with
/// a space; parameters are separated by one or more spaces.
fn split(tail: &str) -> Result<impl Iterator<Item = (&str, Option<&str>)>, CommandError> {
    if !tail.is_empty() && !tail.starts_with(' ') {
        return Err(CommandError::Syntax("expected a space after the path"));
    }
    Ok(tail.split(' ').filter(|p| !p.is_empty()).map(|p| {
        match memchr::memchr(b'=', p.as_bytes()) {
            Some(eq) => (&p[..eq], Some(&p[eq + 1..])),
            None => (p, None),
        }
    }))
}

fn once(seen: bool) -> Result<(), CommandError> {
    if seen {
        Err(CommandError::Syntax("duplicate parameter"))
    } else {
        Ok(())
    }
}

fn required<'a>(keyword: &'static str, value: Option<&'a str>) -> Result<&'a str, CommandError> {
    match value {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(bad(keyword, "missing value")),
    }
}

#[cold]
fn bad(keyword: &'static str, what: &'static str) -> CommandError {
    CommandError::UnsupportedParameter(format!("{keyword}: {what}"))
}

#[cold]
fn unknown(keyword: &str) -> CommandError {
    if keyword.is_empty() {
        return CommandError::UnsupportedParameter("parameter without a keyword".to_string());
    }
    let mut quoted: String = keyword.chars().take(MAX_QUOTED_KEYWORD).collect();
    if quoted.len() < keyword.len() {
        quoted.push_str("...");
    }
    CommandError::UnsupportedParameter(quoted)
}
