//! SMTP replies: a three-digit code, an optional enhanced status code (RFC 3463) and text.
//!
//! This module is the only place that formats a reply into bytes ([`Reply::write_to`]) and the
//! only place that parses reply bytes back ([`parse_reply`]).

use std::borrow::Cow;
use std::fmt;

/// A three-digit SMTP reply code (RFC 5321 section 4.2), always in `200..=599`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReplyCode(u16);

impl ReplyCode {
    /// Makes a reply code; `None` unless `code` is in `200..=599`.
    pub const fn new(code: u16) -> Option<ReplyCode> {
        if code >= 200 && code <= 599 {
            Some(ReplyCode(code))
        } else {
            None
        }
    }

    /// The numeric value.
    pub const fn get(self) -> u16 {
        self.0
    }

    /// The first digit: 2 (positive completion), 3 (intermediate), 4 (transient), 5 (permanent).
    pub const fn class(self) -> u8 {
        (self.0 / 100) as u8
    }

    /// 2xx: the command was carried out.
    pub const fn is_positive(self) -> bool {
        self.class() == 2
    }

    /// 3xx: the server waits for more (354 after DATA, 334 during AUTH).
    pub const fn is_intermediate(self) -> bool {
        self.class() == 3
    }

    /// 4xx: failed for now; a sender should try again later.
    pub const fn is_transient(self) -> bool {
        self.class() == 4
    }

    /// 5xx: failed for good; a sender must not repeat the same request.
    pub const fn is_permanent(self) -> bool {
        self.class() == 5
    }
}

impl fmt::Display for ReplyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// An enhanced mail system status code `class.subject.detail` (RFC 3463), such as `5.1.1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EnhancedCode {
    /// 2 (success), 4 (persistent transient failure) or 5 (permanent failure).
    pub class: u8,
    /// The subject, 0..=999 (1 addressing, 2 mailbox, 3 mail system, 4 network, 5 protocol,
    /// 6 content, 7 security).
    pub subject: u16,
    /// The detail, 0..=999.
    pub detail: u16,
}

impl EnhancedCode {
    /// Makes an enhanced code without checking it; see [`EnhancedCode::parse`] for checked input.
    pub const fn new(class: u8, subject: u16, detail: u16) -> EnhancedCode {
        EnhancedCode {
            class,
            subject,
            detail,
        }
    }

    /// Parses `X.Y.Z` (class 2, 4 or 5; subject and detail of 1 to 3 digits).
    pub fn parse(s: &str) -> Option<EnhancedCode> {
        EnhancedCode::parse_bytes(s.as_bytes())
    }

    /// [`EnhancedCode::parse`] on bytes, as they come off the wire.
    pub fn parse_bytes(s: &[u8]) -> Option<EnhancedCode> {
        let (&class, rest) = s.split_first()?;
        if !matches!(class, b'2' | b'4' | b'5') {
            return None;
        }
        let rest = rest.strip_prefix(b".")?;
        let (subject, rest) = number_of_up_to_3_digits(rest)?;
        let rest = rest.strip_prefix(b".")?;
        let (detail, rest) = number_of_up_to_3_digits(rest)?;
        rest.is_empty().then_some(EnhancedCode {
            class: class - b'0',
            subject,
            detail,
        })
    }
}

impl EnhancedCode {
    /// Appends the code as `X.Y.Z`, as [`Display`](fmt::Display) writes it, without going
    /// through `fmt`.
    pub fn write_to(self, out: &mut Vec<u8>) {
        let mut buf = [0; 11];
        let len = self.write_into(&mut buf);
        out.extend_from_slice(&buf[..len]);
    }
}

impl EnhancedCode {
    /// Writes the code as `X.Y.Z` at the start of `buf` (11 bytes are always enough); returns
    /// the length written.
    fn write_into(self, buf: &mut [u8]) -> usize {
        let mut len = 0;
        let mut put = |b: u8| {
            buf[len] = b;
            len += 1;
        };
        put(b'0'.wrapping_add(self.class));
        put(b'.');
        for (i, n) in [self.subject, self.detail].into_iter().enumerate() {
            if i > 0 {
                put(b'.');
            }
            let n = n % 1000;
            if n >= 100 {
                put(b'0' + (n / 100) as u8);
            }
            if n >= 10 {
                put(b'0' + (n / 10 % 10) as u8);
            }
            put(b'0' + (n % 10) as u8);
        }
        len
    }
}

/// The number at the start of `s` (1 to 3 ASCII digits, not followed by a fourth) and the
/// bytes after it.
fn number_of_up_to_3_digits(s: &[u8]) -> Option<(u16, &[u8])> {
    let len = s.iter().take(4).take_while(|b| b.is_ascii_digit()).count();
    if len == 0 || len > 3 {
        return None;
    }
    let value = s[..len]
        .iter()
        .fold(0u16, |n, &d| n * 10 + u16::from(d - b'0'));
    Some((value, &s[len..]))
}

impl fmt::Display for EnhancedCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.class, self.subject, self.detail)
    }
}

/// A complete (possibly multi-line) SMTP reply.
///
/// `text` holds the lines separated by `\n`, without the code, the enhanced code or CRLF; a
/// reply with empty text is a single line holding only the code.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reply {
    /// The three-digit code.
    pub code: ReplyCode,
    /// The enhanced status code, written at the start of every line when present.
    pub enhanced: Option<EnhancedCode>,
    /// The text lines, separated by `\n`.
    pub text: Cow<'static, str>,
}

impl Reply {
    /// A reply with static text and no allocation. Panics at compile time (in const context) or
    /// at run time if `code` is outside `200..=599`.
    pub const fn new_static(
        code: u16,
        enhanced: Option<EnhancedCode>,
        text: &'static str,
    ) -> Reply {
        match ReplyCode::new(code) {
            Some(code) => Reply {
                code,
                enhanced,
                text: Cow::Borrowed(text),
            },
            None => panic!("reply code outside 200..=599"),
        }
    }

    /// A reply with owned or borrowed text.
    pub fn new(
        code: ReplyCode,
        enhanced: Option<EnhancedCode>,
        text: impl Into<Cow<'static, str>>,
    ) -> Reply {
        Reply {
            code,
            enhanced,
            text: text.into(),
        }
    }

    /// The same code and enhanced code with other text.
    pub fn with_text(&self, text: impl Into<Cow<'static, str>>) -> Reply {
        Reply {
            code: self.code,
            enhanced: self.enhanced,
            text: text.into(),
        }
    }

    /// The text lines, at least one.
    pub fn lines(&self) -> impl Iterator<Item = &str> {
        Lines {
            rest: Some(&self.text),
        }
    }

    /// Appends the reply in wire format (`250-...` lines, then `250 ...`, each ending in CRLF).
    pub fn write_to(&self, out: &mut Vec<u8>) {
        // Every line starts the same way: `ddd-` (or `ddd ` on the last) and the enhanced
        // code; that prefix is made once.
        let code = self.code.get();
        let mut prefix = [0u8; 4 + 11];
        prefix[..4].copy_from_slice(&[
            b'0' + (code / 100) as u8,
            b'0' + (code / 10 % 10) as u8,
            b'0' + (code % 10) as u8,
            b'-',
        ]);
        let mut len = 4;
        if let Some(enhanced) = self.enhanced {
            len += enhanced.write_into(&mut prefix[4..]);
        }
        let prefix = &mut prefix[..len];
        out.reserve(self.text.len() + 2 + len + 1);
        let mut lines = self.lines().peekable();
        while let Some(line) = lines.next() {
            prefix[3] = if lines.peek().is_some() { b'-' } else { b' ' };
            out.extend_from_slice(prefix);
            if self.enhanced.is_some() && !line.is_empty() {
                out.push(b' ');
            }
            out.extend_from_slice(line.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
    }

    /// The reply in wire format.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.text.len() + 16);
        self.write_to(&mut out);
        out
    }
}

/// The lines of a reply's text, split at `\n` with a vectorised search (texts are short, but
/// replies are many).
struct Lines<'a> {
    rest: Option<&'a str>,
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.rest?;
        match memchr::memchr(b'\n', rest.as_bytes()) {
            Some(i) => {
                self.rest = Some(&rest[i + 1..]);
                Some(&rest[..i])
            }
            None => {
                self.rest = None;
                Some(rest)
            }
        }
    }
}

impl fmt::Display for Reply {
    /// The reply as it appears on the wire, lines joined by `\n` and without the final CRLF.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes = self.to_bytes();
        let text = String::from_utf8_lossy(&bytes);
        f.write_str(text.trim_end_matches("\r\n").replace("\r\n", "\n").as_str())
    }
}

mod parse;

pub use parse::{
    MAX_REPLY_LINE, MAX_REPLY_LINES, RawReply, ReplyError, parse_reply, parse_reply_raw,
};
