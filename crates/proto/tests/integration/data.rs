//! The DATA reader against a plain reading of RFC 5321's rule, fed in arbitrary chunks, and
//! dot-stuffing round trips.

use proptest::prelude::*;
use smtpsim_proto::data::{DataFault, DataReader, write_dot_stuffed};

/// What a reader must find in `input`, worked out the slow, obvious way.
#[derive(Debug)]
struct Expected {
    /// Bytes consumed up to and including the end-of-data line, if it is there.
    end: Option<usize>,
    /// The unstuffed content (all of it, before the size limit).
    content: Vec<u8>,
    /// The kinds of fault the content has.
    faults: Vec<DataFault>,
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The message ends at the first CRLF "." CRLF, counting the DATA command's CRLF as the first
/// one; lines are split at CRLF; a leading dot is removed; any other CR or LF is a bare line
/// ending; a line longer than `max_line - 2` octets is too long.
fn expected(input: &[u8], max_line: usize, max_size: usize) -> Expected {
    let mut framed = b"\r\n".to_vec();
    framed.extend_from_slice(input);
    let (stuffed, end) = match find(&framed, b"\r\n.\r\n") {
        Some(p) => (&input[..p], Some(p + 3)),
        None => (input, None),
    };
    let mut content = Vec::new();
    let mut faults = Vec::new();
    let lines: Vec<&[u8]> = split_crlf(stuffed);
    let complete = if stuffed.ends_with(b"\r\n") || stuffed.is_empty() {
        lines.len()
    } else {
        lines.len() - 1
    };
    for (n, line) in lines.iter().enumerate() {
        let line = line.strip_prefix(b".").unwrap_or(line);
        if line.iter().any(|&b| b == b'\r' || b == b'\n') {
            faults.push(DataFault::BareLineEnding);
        }
        if line.len() > max_line - 2 {
            faults.push(DataFault::LineTooLong);
        }
        content.extend_from_slice(line);
        if n < complete {
            content.extend_from_slice(b"\r\n");
        }
    }
    if content.len() > max_size {
        faults.push(DataFault::TooBig);
    }
    Expected {
        end,
        content,
        faults,
    }
}

/// `s` split at each CRLF; the last piece is what follows the last CRLF (left out when empty).
fn split_crlf(s: &[u8]) -> Vec<&[u8]> {
    let mut lines = Vec::new();
    let mut rest = s;
    while let Some(p) = find(rest, b"\r\n") {
        lines.push(&rest[..p]);
        rest = &rest[p + 2..];
    }
    if !rest.is_empty() {
        lines.push(rest);
    }
    lines
}

/// Feeds `input` in pieces cut at `cuts` (positions, any order); stops at the end of data.
fn read_in_chunks(
    input: &[u8],
    cuts: &[usize],
    max_line: usize,
    max_size: u64,
) -> (Option<usize>, DataReader) {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
    cuts.push(input.len());
    cuts.sort_unstable();
    let mut reader = DataReader::new(max_line, max_size);
    let mut from = 0;
    for cut in cuts {
        if let Some(n) = reader.feed(&input[from..cut]) {
            return (Some(from + n), reader);
        }
        from = cut;
    }
    (None, reader)
}

/// Input made mostly of the bytes that matter to the reader.
fn wire() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        4 => Just(b'a'),
        2 => Just(b'.'),
        3 => Just(b'\r'),
        3 => Just(b'\n'),
        1 => Just(b' '),
        1 => any::<u8>(),
    ];
    let piece = prop_oneof![
        3 => prop::collection::vec(byte, 0..12),
        1 => Just(b"\r\n".to_vec()),
        1 => Just(b"\r\n.".to_vec()),
        1 => Just(b"line of text\r\n".to_vec()),
    ];
    prop::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
}

/// Longer input, mostly plain CRLF lines of many lengths (some near or past the line limit),
/// with now and then a dot, a bare CR or LF, and the end-of-data line: the input the reader's
/// block-wise fast path sees in real traffic.
fn long_wire() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        12 => Just(b"a line of ordinary text, as mail has\r\n".to_vec()),
        3 => (0usize..1100).prop_map(|n| {
            let mut line = vec![b'x'; n];
            line.extend_from_slice(b"\r\n");
            line
        }),
        3 => (990usize..1010).prop_map(|n| {
            let mut line = vec![b'z'; n];
            line.extend_from_slice(b"\r\n");
            line
        }),
        2 => (90usize..110).prop_map(|n| vec![b'y'; n]),
        1 => Just(b".".to_vec()),
        1 => Just(b"\r".to_vec()),
        1 => Just(b"\n".to_vec()),
        1 => Just(b"\r\n.\r\n".to_vec()),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn reader_follows_the_rule_on_long_lines(
        input in long_wire(),
        cuts in prop::collection::vec(any::<usize>(), 0..4),
        max_line in prop_oneof![3 => Just(1000usize), 1 => 40usize..200, 1 => 900usize..1100],
    ) {
        let max_size = 1u64 << 20;
        let want = expected(&input, max_line, max_size as usize);
        let (end, reader) = read_in_chunks(&input, &cuts, max_line, max_size);
        prop_assert_eq!(end, want.end);
        if end.is_none() {
            return Ok(());
        }
        prop_assert_eq!(reader.content(), &want.content[..]);
        match reader.fault() {
            None => prop_assert!(want.faults.is_empty(), "missed {:?}", want.faults),
            Some(fault) => prop_assert!(want.faults.contains(&fault), "{:?} not in {:?}", fault, want.faults),
        }
    }

    #[test]
    fn reader_follows_the_rule_in_any_chunks(
        input in wire(),
        cuts in prop::collection::vec(any::<usize>(), 0..6),
        max_line in 3usize..20,
        max_size in 0u64..64,
    ) {
        let want = expected(&input, max_line, max_size as usize);
        let (end, reader) = read_in_chunks(&input, &cuts, max_line, max_size);
        prop_assert_eq!(end, want.end);
        if end.is_none() {
            // The message goes on: only what was seen so far can be compared.
            return Ok(());
        }
        let stored = want.content.len().min(max_size as usize);
        prop_assert_eq!(reader.content(), &want.content[..stored]);
        prop_assert_eq!(reader.size(), want.content.len() as u64);
        match reader.fault() {
            None => prop_assert!(want.faults.is_empty(), "missed {:?}", want.faults),
            Some(fault) => prop_assert!(want.faults.contains(&fault), "{:?} not in {:?}", fault, want.faults),
        }
    }

    #[test]
    fn stuffed_content_reads_back(pieces in prop::collection::vec(
        prop_oneof![Just(&b"."[..]), Just(&b"x"[..]), Just(&b"\n"[..]), Just(&b"\r\n"[..])], 0..64)) {
        let content = pieces.concat();
        let mut wire = Vec::new();
        write_dot_stuffed(&content, &mut wire);
        let mut reader = DataReader::new(1000, 1 << 20);
        prop_assert_eq!(reader.feed(&wire), Some(wire.len()));
        prop_assert_eq!(reader.fault(), None);
        // What comes back is the content with every line ending made CRLF.
        let mut repaired = Vec::new();
        for line in content.split_inclusive(|&b| b == b'\n') {
            let line = line.strip_suffix(b"\n").unwrap_or(line);
            repaired.extend_from_slice(line.strip_suffix(b"\r").unwrap_or(line));
            repaired.extend_from_slice(b"\r\n");
        }
        prop_assert_eq!(reader.content(), &repaired[..]);
    }
}
