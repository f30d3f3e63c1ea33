//! Byte classes, the argument check and small scanners shared by the command parser.
//!
//! Every class that admits non-ASCII text admits every byte from 0x80 up: the parser only ever
//! looks at text that is already known to be UTF-8, so a multi-byte character is a run of such
//! bytes and is never split.

use crate::command::CommandError;

/// RFC 5322 `atext`, plus non-ASCII (RFC 6531 extends it with UTF-8).
pub(super) const ATEXT: u8 = 1;
/// Letters, digits and `-` of a domain label, plus non-ASCII (U-labels).
pub(super) const LDH: u8 = 2;
/// RFC 5321 `qtextSMTP` (`%d32-33 / %d35-91 / %d93-126`), plus non-ASCII.
pub(super) const QTEXT: u8 = 4;
/// RFC 5321 `dcontent` of a general address literal (`%d33-90 / %d94-126`).
pub(super) const DCONTENT: u8 = 8;
/// RFC 3461 `xchar` (`%d33-42 / %d44-60 / %d62-126`).
pub(super) const XCHAR: u8 = 16;
/// The base64 alphabet without padding: `A-Z a-z 0-9 + /`.
pub(super) const BASE64: u8 = 32;
/// Characters of a SASL mechanism name (RFC 4954: `A-Z 0-9 - _`), either case.
pub(super) const MECH: u8 = 64;
/// Characters of an ESMTP keyword (`ALPHA / DIGIT / "-"`).
pub(super) const KEYWORD: u8 = 128;

static CLASSES: [u8; 256] = build_classes();

const fn build_classes() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        let alnum = c.is_ascii_alphanumeric();
        let mut class = 0;
        if alnum
            || c >= 0x80
            || matches!(c, b'!' | b'#'..=b'\'' | b'*' | b'+' | b'-' | b'/')
            || matches!(c, b'=' | b'?' | b'^'..=b'`' | b'{'..=b'~')
        {
            class |= ATEXT;
        }
        if alnum || c == b'-' || c >= 0x80 {
            class |= LDH;
        }
        if matches!(c, 32..=33 | 35..=91 | 93..=126) || c >= 0x80 {
            class |= QTEXT;
        }
        if matches!(c, 33..=90 | 94..=126) {
            class |= DCONTENT;
        }
        if matches!(c, 33..=42 | 44..=60 | 62..=126) {
            class |= XCHAR;
        }
        if alnum || c == b'+' || c == b'/' {
            class |= BASE64;
        }
        if alnum || c == b'-' || c == b'_' {
            class |= MECH;
        }
        if alnum || c == b'-' {
            class |= KEYWORD;
        }
        table[i] = class;
        i += 1;
    }
    table
}

/// Whether `b` belongs to any of the classes in `class`.
#[inline(always)]
pub(super) fn is(b: u8, class: u8) -> bool {
    CLASSES[b as usize] & class != 0
}

/// The index of the first byte at or after `i` that is not in `class` (or `b.len()`).
#[inline(always)]
pub(super) fn skip(b: &[u8], i: usize, class: u8) -> usize {
    match b.get(i..) {
        Some(rest) => {
            i + rest
                .iter()
                .position(|&c| !is(c, class))
                .unwrap_or(rest.len())
        }
        None => i,
    }
}

/// The index of the first byte at or after `i` that is not a space.
#[inline(always)]
pub(super) fn skip_spaces(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i] == b' ' {
        i += 1;
    }
    i
}

/// `b` without its trailing spaces.
#[inline(always)]
pub(super) fn trim_end_spaces(mut b: &[u8]) -> &[u8] {
    while let [rest @ .., b' '] = b {
        b = rest;
    }
    b
}

const LOW: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// Whether any byte of `word` is a control character (below 0x20 or 0x7f) or not ASCII.
#[inline(always)]
fn unusual(word: u64) -> bool {
    let below_space = word.wrapping_sub(LOW * 0x20) & !word & HIGH;
    let del = word ^ (LOW * 0x7f);
    let is_del = del.wrapping_sub(LOW) & !del & HIGH;
    (below_space | is_del | (word & HIGH)) != 0
}

/// Checks an argument: UTF-8 without ASCII control characters. Printable ASCII, the common
/// case, is checked eight bytes at a time.
#[inline]
pub(super) fn text(b: &[u8]) -> Result<&str, CommandError> {
    let (chunks, tail) = b.as_chunks::<8>();
    let plain = chunks.iter().all(|c| !unusual(u64::from_le_bytes(*c)))
        && tail.iter().all(|&c| (0x20..0x7f).contains(&c));
    if plain {
        // Printable ASCII is UTF-8: this cannot fail.
        return std::str::from_utf8(b).map_err(|_| CommandError::Syntax("not UTF-8"));
    }
    text_slow(b)
}

#[cold]
fn text_slow(b: &[u8]) -> Result<&str, CommandError> {
    let s = std::str::from_utf8(b).map_err(|_| CommandError::Syntax("not UTF-8"))?;
    if s.bytes().any(|c| c < 0x20 || c == 0x7f) {
        return Err(CommandError::Syntax("control character in arguments"));
    }
    Ok(s)
}

/// Parses 1 to 20 ASCII digits as a `u64`; `Err(true)` when the value overflows, `Err(false)`
/// when `b` is not digits.
#[inline]
pub(super) fn number(b: &[u8]) -> Result<u64, bool> {
    if b.is_empty() || b.len() > 20 {
        return Err(b.len() > 20 && b.iter().all(u8::is_ascii_digit));
    }
    let mut n: u64 = 0;
    for &c in b {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return Err(false);
        }
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(d)))
            .ok_or(true)?;
    }
    Ok(n)
}

/// Packs a word of up to eight bytes into a `u64` with every byte OR-ed with 0x20, for
/// matching against [`word`] constants (lower-case letters, digits and `-`) regardless of case;
/// 0 for an empty or longer word. OR-ing 0x20 maps only a letter's two cases onto the letter;
/// a digit or `-` could also be matched by a control character (0x10..=0x19, 0x0d), which
/// checked arguments never contain.
#[inline(always)]
pub(super) fn pack(b: &[u8]) -> u64 {
    if b.is_empty() || b.len() > 8 {
        return 0;
    }
    let mut buf = [0u8; 8];
    buf[..b.len()].copy_from_slice(b);
    let case = u64::MAX >> (64 - 8 * b.len()) & (LOW * 0x20);
    u64::from_le_bytes(buf) | case
}

/// The packed form of a lower-case word of up to eight bytes, for comparing with [`pack`].
pub(super) const fn word(s: &str) -> u64 {
    let b = s.as_bytes();
    let mut buf = [0u8; 8];
    let mut i = 0;
    while i < b.len() {
        buf[i] = b[i];
        i += 1;
    }
    u64::from_le_bytes(buf)
}
