//! The client side: bytes received from a server, parsed back into [`Reply`] values.
//!
//! A reply is one or more lines `ddd-text` ending with one line `ddd text` (or a bare `ddd`).
//! Lines end in CRLF; a bare LF is accepted too, since some servers send it and a client gains
//! nothing by refusing. If the first line's text starts with an enhanced status code
//! (`X.Y.Z` followed by a space or the end of the line), it becomes [`Reply::enhanced`] and is
//! removed from every line that repeats it (RFC 2034 puts it on each line).

use std::borrow::Cow;

use super::{EnhancedCode, Reply, ReplyCode};

/// The longest reply line accepted, CRLF included. RFC 5321 allows 512; real servers send
/// longer ones (long 250 texts, policy URLs), so the client is generous but still bounded.
pub const MAX_REPLY_LINE: usize = 2048;

/// The most lines one reply may have (an EHLO reply has about a dozen).
pub const MAX_REPLY_LINES: usize = 100;

/// Why received bytes are not a valid reply. Every case is a clear error, never a panic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    /// A line does not start with three digits.
    #[error("line {line} does not start with a three-digit code")]
    InvalidCode {
        /// The 1-based line number within the reply.
        line: usize,
    },
    /// Three digits, but not a code in 200..=599.
    #[error("reply code {code} is outside 200..=599")]
    CodeOutOfRange {
        /// The code as received.
        code: u16,
    },
    /// The code is followed by something other than a space, a hyphen or the end of the line.
    #[error("line {line}: the code is followed by {found:?}, not a space or a hyphen")]
    BadSeparator {
        /// The 1-based line number within the reply.
        line: usize,
        /// The byte found after the code.
        found: char,
    },
    /// A continuation line carries another code than the first line.
    #[error("line {line} has code {found}, the reply started with {expected}")]
    MismatchedCode {
        /// The 1-based line number within the reply.
        line: usize,
        /// The code of the first line.
        expected: u16,
        /// The code of this line.
        found: u16,
    },
    /// A line longer than [`MAX_REPLY_LINE`] octets.
    #[error("reply line longer than {MAX_REPLY_LINE} octets")]
    LineTooLong,
    /// More than [`MAX_REPLY_LINES`] lines.
    #[error("reply longer than {MAX_REPLY_LINES} lines")]
    TooManyLines,
}

/// Parses one reply from the start of `buf`.
///
/// Returns `Ok(None)` while the reply is incomplete (more bytes are needed), or the reply and
/// how many bytes of `buf` it used.
///
/// ```
/// use smtpsim_proto::reply::parse_reply;
///
/// let (reply, used) = parse_reply(b"250-mx.example.net\r\n250 SIZE 1000\r\nextra").unwrap().unwrap();
/// assert_eq!(reply.code.get(), 250);
/// assert_eq!(reply.text, "mx.example.net\nSIZE 1000");
/// assert_eq!(used, 35);
/// assert_eq!(parse_reply(b"250-partial\r\n250 to").unwrap(), None);
/// ```
pub fn parse_reply(buf: &[u8]) -> Result<Option<(Reply, usize)>, ReplyError> {
    Ok(parse_reply_raw(buf)?.map(|(raw, used)| (raw.to_reply(), used)))
}

/// A complete reply as it arrived, checked but not yet copied: the code and the raw lines.
///
/// A client that only looks at the code (most replies in a successful transaction) never
/// pays for the text; [`RawReply::to_reply`] makes the owned [`Reply`] when it is wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawReply<'a> {
    /// The three-digit code, the same on every line.
    pub code: ReplyCode,
    /// The reply's bytes, every line with its line ending.
    bytes: &'a [u8],
    /// How many lines it has.
    lines: usize,
    /// Where the first lines end (the offset of each LF), found while checking them, so the
    /// lines are not searched for again.
    ends: [u32; KNOWN_ENDS],
}

/// How many line ends a [`RawReply`] remembers (an EHLO reply has about ten lines).
const KNOWN_ENDS: usize = 16;

impl<'a> RawReply<'a> {
    /// The enhanced status code at the start of the first line, if any (it becomes
    /// [`Reply::enhanced`]).
    pub fn enhanced(&self) -> Option<EnhancedCode> {
        self.lines()
            .next()
            .and_then(leading_enhanced)
            .map(|(code, _)| code)
    }

    /// The text of each line as [`Reply::text`] holds it, still as bytes: the code, its
    /// separator and the enhanced code (where a line repeats the first line's) removed.
    pub fn text_lines(&self) -> impl Iterator<Item = &'a [u8]> + use<'a> {
        let mut prefix = None;
        self.lines().enumerate().map(move |(i, line)| {
            if i == 0 {
                prefix = leading_enhanced(line).map(|(_, written)| written);
            }
            match prefix {
                Some(prefix) if line.starts_with(prefix) => {
                    let rest = &line[prefix.len()..];
                    rest.strip_prefix(b" ").unwrap_or(rest)
                }
                _ => line,
            }
        })
    }

    /// The text of each line, code and separator removed.
    fn lines(&self) -> impl Iterator<Item = &'a [u8]> + use<'a> {
        let RawReply {
            bytes, lines, ends, ..
        } = *self;
        let mut start = 0;
        (0..lines).map(move |i| {
            let end = match ends.get(i) {
                Some(&end) => end as usize,
                None => start + memchr::memchr(b'\n', &bytes[start..]).unwrap_or(0),
            };
            let line = strip_cr(&bytes[start..end]);
            start = end + 1;
            line.get(4..).unwrap_or_default()
        })
    }

    /// The reply's bytes as received, line endings included.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The owned reply, as [`parse_reply`] gives it: one allocation, for the text, validated
    /// as UTF-8 once (invalid sequences become U+FFFD, as `String::from_utf8_lossy` makes
    /// them).
    pub fn to_reply(&self) -> Reply {
        let mut text = Vec::with_capacity(self.bytes.len());
        for (i, line) in self.text_lines().enumerate() {
            if i > 0 {
                text.push(b'\n');
            }
            text.extend_from_slice(line);
        }
        let text = match String::from_utf8(text) {
            Ok(text) => text,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        };
        Reply::new(self.code, self.enhanced(), Cow::Owned(text))
    }
}

/// Like [`parse_reply`], without copying the text: returns the checked reply in place and
/// how many bytes of `buf` it used, or `Ok(None)` while it is incomplete.
///
/// ```
/// use smtpsim_proto::reply::parse_reply_raw;
///
/// let (raw, used) = parse_reply_raw(b"250-mx.example.net\r\n250 SIZE 1000\r\n").unwrap().unwrap();
/// assert_eq!(raw.code.get(), 250);
/// let lines: Vec<&[u8]> = raw.text_lines().collect();
/// assert_eq!(lines, [&b"mx.example.net"[..], b"SIZE 1000"]);
/// assert_eq!(raw.to_reply().text, "mx.example.net\nSIZE 1000");
/// assert_eq!(used, 35);
/// ```
pub fn parse_reply_raw(buf: &[u8]) -> Result<Option<(RawReply<'_>, usize)>, ReplyError> {
    // Find where the reply ends and check every line, without allocating.
    let mut code = None;
    let mut pos = 0;
    let mut lines = 0;
    let mut ends = [0; KNOWN_ENDS];
    let end = loop {
        let rest = &buf[pos..];
        let Some(end) = memchr::memchr(b'\n', rest) else {
            if rest.len() >= MAX_REPLY_LINE {
                return Err(ReplyError::LineTooLong);
            }
            // Check what has arrived so far, so garbage is reported without waiting for LF.
            if rest.len() >= 4 {
                check_line(rest, lines + 1, code)?;
            }
            return Ok(None);
        };
        if end + 1 > MAX_REPLY_LINE {
            return Err(ReplyError::LineTooLong);
        }
        let line = strip_cr(&rest[..end]);
        if let Some(known) = ends.get_mut(lines) {
            // Lines are at most MAX_REPLY_LINE long, so the first ones end well within u32.
            *known = (pos + end) as u32;
        }
        pos += end + 1;
        lines += 1;
        let (this, last) = check_line(line, lines, code)?;
        code = Some(this);
        if last {
            break pos;
        }
        if lines >= MAX_REPLY_LINES {
            return Err(ReplyError::TooManyLines);
        }
    };
    let code = code.expect("a reply has a line");
    let code = ReplyCode::new(code).ok_or(ReplyError::CodeOutOfRange { code })?;
    let raw = RawReply {
        code,
        bytes: &buf[..end],
        lines,
        ends,
    };
    Ok(Some((raw, end)))
}

fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Checks a line's code and separator; returns the code and whether this is the last line.
fn check_line(
    line: &[u8],
    number: usize,
    expected: Option<u16>,
) -> Result<(u16, bool), ReplyError> {
    let digits = match line {
        [a, b, c, ..] if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() => {
            [*a, *b, *c]
        }
        _ => return Err(ReplyError::InvalidCode { line: number }),
    };
    let code = digits
        .iter()
        .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'));
    if ReplyCode::new(code).is_none() {
        return Err(ReplyError::CodeOutOfRange { code });
    }
    if let Some(expected) = expected
        && expected != code
    {
        return Err(ReplyError::MismatchedCode {
            line: number,
            expected,
            found: code,
        });
    }
    match line.get(3) {
        None | Some(b' ') => Ok((code, true)),
        Some(b'-') => Ok((code, false)),
        Some(&other) => Err(ReplyError::BadSeparator {
            line: number,
            found: char::from(other),
        }),
    }
}

/// An enhanced status code at the start of `text`, followed by a space or the end, with the
/// bytes it was written as.
fn leading_enhanced(text: &[u8]) -> Option<(EnhancedCode, &[u8])> {
    // Most lines (EHLO keywords, greetings) fail at once.
    if !matches!(text, [b'2' | b'4' | b'5', b'.', ..]) {
        return None;
    }
    let len = text.iter().position(|&b| b == b' ').unwrap_or(text.len());
    let word = &text[..len];
    let parsed = EnhancedCode::parse_bytes(word)?;
    Some((parsed, word))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(bytes: &[u8]) -> Reply {
        let (reply, used) = parse_reply(bytes).unwrap().unwrap();
        assert_eq!(used, bytes.len());
        reply
    }

    #[test]
    fn single_line_with_enhanced_code() {
        let reply = one(b"550 5.1.1 No such user\r\n");
        assert_eq!(reply.code.get(), 550);
        assert_eq!(reply.enhanced, Some(EnhancedCode::new(5, 1, 1)));
        assert_eq!(reply.text, "No such user");
    }

    #[test]
    fn multi_line_strips_repeated_enhanced_code() {
        let reply = one(b"421-4.7.28 Our system has detected\r\n421 4.7.28 an unusual rate\r\n");
        assert_eq!(reply.enhanced, Some(EnhancedCode::new(4, 7, 28)));
        assert_eq!(reply.text, "Our system has detected\nan unusual rate");
    }

    #[test]
    fn bare_code_and_bare_lf() {
        let reply = one(b"250\n");
        assert_eq!(reply.text, "");
        assert_eq!(reply.enhanced, None);
        let reply = one(b"220 \r\n");
        assert_eq!(reply.text, "");
    }

    #[test]
    fn ehlo_keywords_are_not_enhanced_codes() {
        let reply = one(b"250-mx.example.net\r\n250-SIZE 1000\r\n250 8BITMIME\r\n");
        assert_eq!(reply.enhanced, None);
        assert_eq!(reply.text, "mx.example.net\nSIZE 1000\n8BITMIME");
    }

    #[test]
    fn incomplete_input_waits() {
        assert_eq!(parse_reply(b"").unwrap(), None);
        assert_eq!(parse_reply(b"25").unwrap(), None);
        assert_eq!(parse_reply(b"250-a\r\n").unwrap(), None);
        assert_eq!(parse_reply(b"250 done").unwrap(), None);
    }

    #[test]
    fn leaves_following_bytes_alone() {
        let (reply, used) = parse_reply(b"354 go ahead\r\n250 next\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(reply.code.get(), 354);
        assert_eq!(used, 14);
    }

    #[test]
    fn malformed_replies_are_errors() {
        assert_eq!(
            parse_reply(b"hello\r\n"),
            Err(ReplyError::InvalidCode { line: 1 })
        );
        assert_eq!(
            parse_reply(b"hell"),
            Err(ReplyError::InvalidCode { line: 1 })
        );
        assert_eq!(
            parse_reply(b"999 x\r\n"),
            Err(ReplyError::CodeOutOfRange { code: 999 })
        );
        assert_eq!(
            parse_reply(b"250_x\r\n"),
            Err(ReplyError::BadSeparator {
                line: 1,
                found: '_'
            })
        );
        assert_eq!(
            parse_reply(b"250-a\r\n251 b\r\n"),
            Err(ReplyError::MismatchedCode {
                line: 2,
                expected: 250,
                found: 251
            })
        );
        assert_eq!(
            parse_reply(&[b'2'; MAX_REPLY_LINE]),
            Err(ReplyError::LineTooLong)
        );
        let mut long = b"250 ".to_vec();
        long.resize(MAX_REPLY_LINE + 10, b'x');
        assert_eq!(parse_reply(&long), Err(ReplyError::LineTooLong));
        let many = b"250-x\r\n".repeat(MAX_REPLY_LINES + 1);
        assert_eq!(parse_reply(&many), Err(ReplyError::TooManyLines));
    }

    #[test]
    fn invalid_utf8_text_is_replaced_not_refused() {
        let reply = one(b"250 caf\xe9\r\n");
        assert_eq!(reply.text, "caf\u{fffd}");
    }

    #[test]
    fn formats_and_parses_back() {
        let original = Reply::new_static(
            452,
            Some(EnhancedCode::new(4, 2, 2)),
            "Mailbox full\ntry again later",
        );
        assert_eq!(one(&original.to_bytes()), original);
    }
}

#[cfg(test)]
mod line_end_tests {
    use super::*;

    /// Past the line ends a raw reply remembers, the lines are found by searching.
    #[test]
    fn replies_longer_than_the_remembered_line_ends_read_whole() {
        for count in [
            1,
            KNOWN_ENDS - 1,
            KNOWN_ENDS,
            KNOWN_ENDS + 1,
            3 * KNOWN_ENDS,
        ] {
            let lines: Vec<String> = (0..count).map(|i| format!("line {i}")).collect();
            let reply = Reply::new_static(250, None, "").with_text(lines.join("\n"));
            let bytes = reply.to_bytes();
            let (raw, used) = parse_reply_raw(&bytes).unwrap().unwrap();
            assert_eq!(used, bytes.len());
            let read: Vec<&[u8]> = raw.text_lines().collect();
            let want: Vec<&[u8]> = lines.iter().map(|l| l.as_bytes()).collect();
            assert_eq!(read, want);
            assert_eq!(raw.to_reply(), reply);
        }
    }
}
