//! ESMTP parameters after the path of MAIL and RCPT (RFC 5321 section 4.1.2 `esmtp-param`).
//!
//! Any problem with a parameter is [`CommandError::UnsupportedParameter`], naming the keyword
//! (never echoing a value); a keyword given twice is [`CommandError::Syntax`].

use super::scan::{ATEXT, KEYWORD, XCHAR, is, number, pack, skip, skip_spaces, word};
use crate::command::{BodyType, CommandError, MailParams, Notify, RcptParams, Ret};

const SIZE: u64 = word("size");
const BODY: u64 = word("body");
const SMTPUTF8: u64 = word("smtputf8");
const RET: u64 = word("ret");
const ENVID: u64 = word("envid");
const AUTH: u64 = word("auth");
const NOTIFY: u64 = word("notify");
const ORCPT: u64 = word("orcpt");
const SEVENBIT: u64 = word("7bit");
const EIGHTBITMIME: u64 = word("8bitmime");
const FULL: u64 = word("full");
const HDRS: u64 = word("hdrs");
const SUCCESS: u64 = word("success");
const FAILURE: u64 = word("failure");
const DELAY: u64 = word("delay");
const NEVER: u64 = word("never");

/// Longest `ENVID` value (RFC 3461 section 4.4).
const MAX_ENVID: usize = 100;
/// Longest unknown keyword quoted back in an error.
const MAX_QUOTED_KEYWORD: usize = 64;

/// The parameters of `MAIL FROM:` from `tail`, everything after the path's `>`.
pub(super) fn mail(tail: &str) -> Result<MailParams<'_>, CommandError> {
    let mut params = MailParams::default();
    if tail.is_empty() {
        return Ok(params);
    }
    for (keyword, value) in split(tail)? {
        match pack(keyword.as_bytes()) {
            SIZE => {
                once(params.size.is_some())?;
                let value = required("SIZE", value)?;
                params.size = Some(number(value.as_bytes()).map_err(|overflow| {
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
                params.body = Some(match pack(value.as_bytes()) {
                    EIGHTBITMIME => BodyType::EightBitMime,
                    SEVENBIT => BodyType::SevenBit,
                    _ if value.eq_ignore_ascii_case("BINARYMIME") => BodyType::BinaryMime,
                    _ => return Err(bad("BODY", "expected 7BIT, 8BITMIME or BINARYMIME")),
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
                params.ret = Some(match pack(value.as_bytes()) {
                    FULL => Ret::Full,
                    HDRS => Ret::Headers,
                    _ => return Err(bad("RET", "expected FULL or HDRS")),
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
    if tail.is_empty() {
        return Ok(params);
    }
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
        match pack(item.as_bytes()) {
            SUCCESS => notify.success = true,
            FAILURE => notify.failure = true,
            DELAY => notify.delay = true,
            NEVER => notify.never = true,
            _ => return Err(bad("NOTIFY", "expected NEVER or SUCCESS, FAILURE, DELAY")),
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
fn split(tail: &str) -> Result<Split<'_>, CommandError> {
    if !tail.is_empty() && !tail.starts_with(' ') {
        return Err(CommandError::Syntax("expected a space after the path"));
    }
    Ok(Split { rest: tail })
}

/// The iterator returned by [`split`].
struct Split<'a> {
    rest: &'a str,
}

impl<'a> Iterator for Split<'a> {
    type Item = (&'a str, Option<&'a str>);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let b = self.rest.as_bytes();
        let start = skip_spaces(b, 0);
        if start == b.len() {
            return None;
        }
        let keyword_end = skip(b, start, KEYWORD);
        let end = keyword_end
            + b[keyword_end..]
                .iter()
                .position(|&c| c == b' ')
                .unwrap_or(b.len() - keyword_end);
        let rest = self.rest;
        self.rest = &rest[end..];
        Some(match b.get(keyword_end) {
            Some(b'=') => (&rest[start..keyword_end], Some(&rest[keyword_end + 1..end])),
            _ if keyword_end == end => (&rest[start..end], None),
            // A malformed keyword: split at '=' all the same, for the error message.
            _ => {
                let param = &rest[start..end];
                match param.find('=') {
                    Some(eq) => (&param[..eq], Some(&param[eq + 1..])),
                    None => (param, None),
                }
            }
        })
    }
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
