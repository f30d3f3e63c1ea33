//! The DATA reader: dot-unstuffing and the end-of-data rule.
//!
//! # The rule
//!
//! A message ends **only** at `<CR><LF>.<CR><LF>` (the DATA command's own CRLF counts as the
//! first `<CR><LF>`, so an immediate `.<CR><LF>` ends an empty message). Nothing else ends it:
//! `<LF>.<LF>`, `<LF>.<CR><LF>`, `<CR>.<CR>`, `<CR><LF>.<LF>` and the like are message content.
//!
//! Inside the message, every line must end in `<CR><LF>`. A bare `<LF>` or a bare `<CR>`
//! anywhere marks the message as malformed; the reader goes on to the real end of data (so the
//! session stays in step with the client) and the session then rejects the whole message. No
//! byte sequence can therefore split one message into two ("SMTP smuggling"), and nothing is
//! silently rewritten.
//!
//! A line that begins with `.` has that first dot removed (RFC 5321 section 4.5.2). The stored
//! content is the unstuffed message with CRLF line endings, without the terminating `.<CR><LF>`.

/// Why a message read by [`DataReader`] cannot be accepted, decided at the end of data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataFault {
    /// A bare CR or bare LF appeared in the content.
    BareLineEnding,
    /// A line was longer than the text line limit.
    LineTooLong,
    /// The content was larger than the message size limit (the rest was not stored).
    TooBig,
}

impl DataFault {
    /// 0 for the gravest.
    fn rank(self) -> u8 {
        match self {
            DataFault::BareLineEnding => 0,
            DataFault::LineTooLong => 1,
            DataFault::TooBig => 2,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the start of a line (after CRLF, or at the start of the data).
    LineStart,
    /// A line start followed by `.`.
    Dot,
    /// A line start followed by `.` and CR.
    DotCr,
    /// Inside a line.
    Mid,
    /// Inside a line, after a CR.
    Cr,
}

/// Reads the content of one DATA transaction from arbitrary chunks of bytes.
#[derive(Debug, Clone)]
pub struct DataReader {
    state: State,
    content: Vec<u8>,
    /// Octets of the current line so far, CRLF excluded.
    line_len: usize,
    max_line: usize,
    max_size: usize,
    /// Octets stored and then cleared ([`DataReader::clear_content`]).
    cleared: usize,
    /// Octets received in total (unstuffed), including any not stored.
    size: u64,
    fault: Option<DataFault>,
}

impl DataReader {
    /// A reader for one message. `max_line` counts the CRLF (RFC 5321: 1000); `max_size`
    /// bounds the stored content (octets beyond it are counted but dropped).
    pub fn new(max_line: usize, max_size: u64) -> DataReader {
        DataReader::with_capacity(max_line, max_size, 0)
    }

    /// A reader that expects about `expected` bytes (the `SIZE=` a client declared): the
    /// buffer is reserved once, up to 1 MiB, instead of growing step by step.
    pub fn with_capacity(max_line: usize, max_size: u64, expected: u64) -> DataReader {
        let reserve = expected.min(max_size).min(1 << 20) as usize;
        DataReader {
            state: State::LineStart,
            content: Vec::with_capacity(reserve),
            line_len: 0,
            max_line: max_line.saturating_sub(2),
            max_size: usize::try_from(max_size).unwrap_or(usize::MAX),
            cleared: 0,
            size: 0,
            fault: None,
        }
    }

    /// Feeds bytes. Returns `Some(n)` when the end of data was found after consuming `n`
    /// bytes of `input` (the bytes after them belong to the next command), `None` when all of
    /// `input` was consumed and the message goes on.
    pub fn feed(&mut self, input: &[u8]) -> Option<usize> {
        let mut i = 0;
        while i < input.len() {
            if matches!(self.state, State::LineStart | State::Mid) {
                i += self.take_plain_lines(&input[i..]);
                if i == input.len() {
                    break;
                }
            }
            let b = input[i];
            i += 1;
            match (self.state, b) {
                (State::LineStart, b'.') => self.state = State::Dot,
                (State::LineStart | State::Mid, b'\r') => self.state = State::Cr,
                (State::LineStart | State::Mid, b'\n') => {
                    self.mark(DataFault::BareLineEnding);
                    self.push_text(b"\n");
                    self.state = State::Mid;
                }
                (State::LineStart | State::Mid, _) => {
                    self.push_text(&[b]);
                    self.state = State::Mid;
                }
                (State::Dot, b'\r') => self.state = State::DotCr,
                (State::Dot, b'\n') => {
                    self.mark(DataFault::BareLineEnding);
                    self.push_text(b"\n");
                    self.state = State::Mid;
                }
                (State::Dot, _) => {
                    self.push_text(&[b]);
                    self.state = State::Mid;
                }
                (State::DotCr, b'\n') => {
                    self.state = State::LineStart;
                    return Some(i);
                }
                (State::Cr, b'\n') => {
                    self.store(b"\r\n");
                    self.line_len = 0;
                    self.state = State::LineStart;
                }
                (State::DotCr | State::Cr, b'\r') => {
                    self.mark(DataFault::BareLineEnding);
                    self.push_text(b"\r");
                    self.state = State::Cr;
                }
                (State::DotCr | State::Cr, _) => {
                    self.mark(DataFault::BareLineEnding);
                    self.push_text(&[b'\r', b]);
                    self.state = State::Mid;
                }
            }
        }
        None
    }

    /// The fast path, from the start of a line or inside one: takes every complete line that
    /// ends in CRLF and does not begin with a dot, then the text of an unfinished line, and
    /// stores them with one copy. Stops before anything the state machine must look at (a
    /// leading dot, a bare CR or LF, a CR at the end of `input`). Returns the bytes taken.
    fn take_plain_lines(&mut self, input: &[u8]) -> usize {
        let mut pos = 0;
        loop {
            if self.state == State::LineStart {
                // A run of plain lines is found in one vectorised pass; the search line by
                // line below takes over where that pass stops, and hands back at the next
                // line start (input read from the network starts anywhere in a line).
                pos += plain_lines_len(&input[pos..], self.max_line);
                if input.get(pos) == Some(&b'.') {
                    break;
                }
            }
            let rest = &input[pos..];
            let Some(end) = memchr::memchr2(b'\r', b'\n', rest) else {
                self.count_line_octets(rest.len());
                if !rest.is_empty() {
                    self.state = State::Mid;
                }
                pos = input.len();
                break;
            };
            self.count_line_octets(end);
            if rest[end] == b'\r' && rest.get(end + 1) == Some(&b'\n') {
                self.line_len = 0;
                self.state = State::LineStart;
                pos += end + 2;
            } else {
                if end > 0 {
                    self.state = State::Mid;
                }
                pos += end;
                break;
            }
        }
        self.store(&input[..pos]);
        pos
    }

    /// The gravest fault seen, if any: a bare line ending, then a line too long, then a
    /// message too big.
    pub fn fault(&self) -> Option<DataFault> {
        self.fault
    }

    /// Octets of unstuffed content received so far (stored or not).
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The stored content.
    pub fn content(&self) -> &[u8] {
        &self.content
    }

    /// Forgets the content stored so far (a caller that took it elsewhere), keeping the
    /// allocation; it still counts towards the size limit.
    pub fn clear_content(&mut self) {
        self.cleared += self.content.len();
        self.content.clear();
    }

    /// Takes the stored content, leaving the reader empty.
    pub fn into_content(self) -> Vec<u8> {
        self.content
    }

    /// Keeps the gravest fault seen: which one is kept does not depend on how the input was
    /// split into pieces (the fast path checks a run of lines before storing it).
    fn mark(&mut self, fault: DataFault) {
        if self.fault.is_none_or(|kept| fault.rank() < kept.rank()) {
            self.fault = Some(fault);
        }
    }

    /// Counts `n` octets of text into the current line and checks the line limit.
    fn count_line_octets(&mut self, n: usize) {
        self.line_len += n;
        if self.line_len > self.max_line {
            self.mark(DataFault::LineTooLong);
        }
    }

    /// Stores octets of line text (never a line's CRLF).
    fn push_text(&mut self, bytes: &[u8]) {
        self.count_line_octets(bytes.len());
        self.store(bytes);
    }

    /// Counts `bytes` into the size and keeps what fits under the size limit.
    fn store(&mut self, bytes: &[u8]) {
        self.size += bytes.len() as u64;
        let stored = self.cleared + self.content.len();
        let room = self.max_size.saturating_sub(stored);
        if bytes.len() <= room {
            self.content.extend_from_slice(bytes);
        } else {
            self.content.extend_from_slice(&bytes[..room]);
            self.mark(DataFault::TooBig);
        }
    }
}

/// The length of the run of plain lines at the start of `input`, which begins at a line
/// start: complete lines, each ending in CRLF, with no other CR or LF, not beginning with a
/// dot, and at most `max_line` octets long without the CRLF. It may stop short of the longest
/// such run (never past it): the reader goes on line by line from there.
///
/// One pass over the pairs of adjacent bytes in fixed-size blocks, which the compiler turns
/// into vector instructions. A line's length is bounded by the distance between blocks that
/// hold an LF; where that bound exceeds `max_line` the pass stops and the exact count takes
/// over.
fn plain_lines_len(input: &[u8], max_line: usize) -> usize {
    const BLOCK: usize = 32;
    if input.len() < BLOCK + 1 || matches!(input[0], b'.' | b'\n') {
        return 0;
    }
    /// Whether the pair is a bare CR, a bare LF, or a dot opening a line.
    #[inline(always)]
    fn special(prev: u8, next: u8) -> bool {
        (prev == b'\r') & (next != b'\n')
            | (next == b'\n') & (prev != b'\r')
            | (prev == b'\n') & (next == b'.')
    }
    let prev = &input[..input.len() - 1];
    let next = &input[1..];
    // `input[..checked]` holds no special pair (each pair inside it was looked at).
    let mut checked = 0;
    // The start of the block that held the last LF: a line that ends later began after it.
    let mut line_from = 0;
    let blocks = prev.chunks_exact(BLOCK).zip(next.chunks_exact(BLOCK));
    for (k, (p, n)) in blocks.enumerate() {
        let mut any_special = false;
        let mut any_lf = false;
        for i in 0..BLOCK {
            any_special |= special(p[i], n[i]);
            any_lf |= n[i] == b'\n';
        }
        if any_special {
            break;
        }
        let start = k * BLOCK;
        let end = start + BLOCK + 1;
        if any_lf {
            // The first line ending here began after `line_from`: shorter than this bound.
            if end - line_from > max_line + 2 {
                break;
            }
            line_from = start;
        }
        checked = end;
    }
    match memchr::memrchr(b'\n', &input[..checked]) {
        Some(lf) => lf + 1,
        None => 0,
    }
}

/// Appends `content` to `out` dot-stuffed, followed by the end-of-data line `.<CR><LF>`.
///
/// Lines are taken to end at LF; a line that does not end in CRLF (a bare LF, or the last line
/// without any line ending) is written with CRLF, so the output never holds a bare LF and the
/// message always ends cleanly. A line beginning with `.` gets a second dot.
pub fn write_dot_stuffed(content: &[u8], out: &mut Vec<u8>) {
    out.reserve(content.len() + 8);
    if goes_out_as_it_is(content) {
        // The usual message: one copy.
        out.extend_from_slice(content);
        out.extend_from_slice(b".\r\n");
        return;
    }
    stuff_line_by_line(content, out);
}

/// [`write_dot_stuffed`] for content where some line needs a change.
fn stuff_line_by_line(content: &[u8], out: &mut Vec<u8>) {
    // Lines that already end in CRLF and do not begin with a dot go out as they are: they are
    // copied in runs, and only the lines that need a change are written one by one.
    let mut copied_to = 0;
    let mut line_start = 0;
    while line_start < content.len() {
        let (line_end, next) = match memchr::memchr(b'\n', &content[line_start..]) {
            Some(lf) => (line_start + lf, line_start + lf + 1),
            None => (content.len(), content.len()),
        };
        let line = &content[line_start..line_end];
        let ends_in_crlf = next > line_end && line.last() == Some(&b'\r');
        let dotted = line.first() == Some(&b'.');
        if dotted || !ends_in_crlf {
            out.extend_from_slice(&content[copied_to..line_start]);
            if dotted {
                out.push(b'.');
            }
            out.extend_from_slice(line.strip_suffix(b"\r").unwrap_or(line));
            out.extend_from_slice(b"\r\n");
            copied_to = next;
        }
        line_start = next;
    }
    out.extend_from_slice(&content[copied_to..]);
    out.extend_from_slice(b".\r\n");
}

/// Whether no line of `content` needs a change: every line ends in CRLF (no bare LF, and the
/// content ends with CRLF) and none begins with a dot. One pass over the pairs of adjacent
/// bytes, in fixed-size blocks that the compiler turns into vector instructions.
fn goes_out_as_it_is(content: &[u8]) -> bool {
    match content {
        [] => return true,
        [b'.' | b'\n', ..] => return false,
        _ if !content.ends_with(b"\r\n") => return false,
        _ => {}
    }
    /// Whether `next` is a bare LF or a dot opening a line, given the byte before it.
    #[inline(always)]
    fn needs_change(prev: u8, next: u8) -> bool {
        (next == b'\n') & (prev != b'\r') | (prev == b'\n') & (next == b'.')
    }
    const BLOCK: usize = 32;
    let prev = &content[..content.len() - 1];
    let next = &content[1..];
    let mut prev_blocks = prev.chunks_exact(BLOCK);
    let mut next_blocks = next.chunks_exact(BLOCK);
    for (p, n) in (&mut prev_blocks).zip(&mut next_blocks) {
        let mut any = false;
        for i in 0..BLOCK {
            any |= needs_change(p[i], n[i]);
        }
        if any {
            return false;
        }
    }
    let tail = prev_blocks.remainder().iter().zip(next_blocks.remainder());
    !tail.fold(false, |any, (&p, &n)| any | needs_change(p, n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Content that is mostly clean CRLF text, long enough for several blocks, with now and
    /// then a dot, a bare CR or a bare LF.
    fn mostly_clean() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            8 => Just(&b"some text of a line\r\n"[..]),
            4 => Just(&b"x"[..]),
            1 => Just(&b"."[..]),
            1 => Just(&b"\n"[..]),
            1 => Just(&b"\r"[..]),
            2 => Just(&b"\r\n"[..]),
        ];
        prop::collection::vec(piece, 0..80).prop_map(|pieces| pieces.concat())
    }

    /// Lines around the limit, first in the input or after other lines, are judged exactly
    /// wherever their line ending falls among the blocks of the fast path.
    #[test]
    fn lines_at_the_limit_are_judged_exactly() {
        for lead in ["", "ab\r\n", "a line of some thirty-odd octets\r\n"] {
            for n in 960..1040 {
                let mut input = lead.as_bytes().to_vec();
                input.extend(std::iter::repeat_n(b'x', n));
                input.extend_from_slice(b"\r\n");
                for _ in 0..40 {
                    input.extend_from_slice(b"ok\r\n");
                }
                input.extend_from_slice(b".\r\n");
                let (end, reader) = read_all(&input);
                assert_eq!(end, Some(input.len()));
                let too_long = n > 998;
                assert_eq!(
                    reader.fault(),
                    too_long.then_some(DataFault::LineTooLong),
                    "lead {lead:?}, line of {n}"
                );
            }
        }
    }

    proptest! {
        /// The one-copy path is taken exactly when no line needs a change, and gives what the
        /// line-by-line path gives.
        #[test]
        fn whole_copy_agrees_with_line_by_line(content in mostly_clean()) {
            let clean = content.is_empty()
                || (content.ends_with(b"\r\n")
                    && content.split_inclusive(|&b| b == b'\n').all(|line| {
                        line.ends_with(b"\r\n") && !line.starts_with(b".")
                    }));
            prop_assert_eq!(goes_out_as_it_is(&content), clean);
            let mut fast = Vec::new();
            write_dot_stuffed(&content, &mut fast);
            let mut slow = Vec::new();
            stuff_line_by_line(&content, &mut slow);
            prop_assert_eq!(fast, slow);
        }
    }

    fn read_all(input: &[u8]) -> (Option<usize>, DataReader) {
        let mut r = DataReader::new(1000, 1 << 20);
        let end = r.feed(input);
        (end, r)
    }

    #[test]
    fn empty_message_ends_at_first_dot_line() {
        let (end, r) = read_all(b".\r\nQUIT\r\n");
        assert_eq!(end, Some(3));
        assert_eq!(r.content(), b"");
        assert_eq!(r.fault(), None);
    }

    #[test]
    fn unstuffs_leading_dots() {
        let (end, r) = read_all(b"a\r\n..b\r\n.\r\n");
        assert_eq!(end, Some(11));
        assert_eq!(r.content(), b"a\r\n.b\r\n");
    }

    #[test]
    fn byte_by_byte_equals_one_chunk() {
        let input = b"Subject: x\r\n\r\n..dot\r\nbody line\r\n.\r\nNEXT";
        let (end, whole) = read_all(input);
        let mut r = DataReader::new(1000, 1 << 20);
        let mut found = None;
        for (i, b) in input.iter().enumerate() {
            if let Some(n) = r.feed(std::slice::from_ref(b)) {
                assert_eq!(n, 1);
                found = Some(i + 1);
                break;
            }
        }
        assert_eq!(found, end);
        assert_eq!(r.content(), whole.content());
    }

    #[test]
    fn smuggling_sequences_do_not_end_the_message() {
        for bad in [
            &b"a\n.\nMAIL FROM:<x@y>\r\n"[..],
            b"a\n.\r\nMAIL FROM:<x@y>\r\n",
            b"a\r.\rMAIL FROM:<x@y>\r\n",
            b"a\r\n.\nMAIL FROM:<x@y>\r\n",
            b"a\r\n.\rMAIL FROM:<x@y>\r\n",
            b"a\r.\r\nMAIL FROM:<x@y>\r\n",
        ] {
            let mut r = DataReader::new(1000, 1 << 20);
            assert_eq!(r.feed(bad), None, "{bad:?} ended the message");
            assert_eq!(r.fault(), Some(DataFault::BareLineEnding), "{bad:?}");
            assert_eq!(r.feed(b".\r\n"), Some(3), "{bad:?}");
        }
    }

    #[test]
    fn line_limit_counts_octets_without_crlf() {
        let mut ok = vec![b'x'; 998];
        ok.extend_from_slice(b"\r\n.\r\n");
        assert_eq!(read_all(&ok).1.fault(), None);
        let mut long = vec![b'x'; 999];
        long.extend_from_slice(b"\r\n.\r\n");
        assert_eq!(read_all(&long).1.fault(), Some(DataFault::LineTooLong));
    }

    #[test]
    fn size_limit_stops_storing() {
        let mut r = DataReader::new(1000, 4);
        assert_eq!(r.feed(b"abcdef\r\n.\r\n"), Some(11));
        assert_eq!(r.content(), b"abcd");
        assert_eq!(r.size(), 8);
        assert_eq!(r.fault(), Some(DataFault::TooBig));
    }

    #[test]
    fn dot_stuffing_round_trips() {
        let content = b"Subject: t\r\n\r\n.leading\r\n..two\r\n.\r\nend\r\n";
        let mut wire = Vec::new();
        write_dot_stuffed(content, &mut wire);
        let (end, r) = read_all(&wire);
        assert_eq!(end, Some(wire.len()));
        assert_eq!(r.content(), content);
    }

    #[test]
    fn dot_stuffing_repairs_line_endings() {
        let mut wire = Vec::new();
        write_dot_stuffed(b"a\nb", &mut wire);
        assert_eq!(wire, b"a\r\nb\r\n.\r\n");
    }
}
