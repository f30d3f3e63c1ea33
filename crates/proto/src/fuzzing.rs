//! Entry points for fuzzing the parsers: each takes arbitrary bytes, must not panic, and
//! asserts what holds for every input. The targets in the repository's `fuzz/` folder call
//! them, and a test runs them over the seed corpus, so they are built and checked like any
//! other code.

use crate::command::Command;
use crate::data::DataReader;
use crate::reply::parse_reply;

/// Each line of `data` (split at LF, a CR before it dropped) parsed as a command: a command
/// that parses formats to a line that parses to the same command, and an error has a reply.
pub fn command(data: &[u8]) {
    for line in data.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        match Command::parse(line) {
            Ok(command) => {
                let mut wire = Vec::new();
                command.write_to(&mut wire);
                let formatted = &wire[..wire.len() - 2];
                let again = Command::parse(formatted).expect("a formatted command parses");
                let mut rewire = Vec::new();
                again.write_to(&mut rewire);
                assert_eq!(wire, rewire, "formatting is stable");
            }
            Err(error) => {
                let _ = error.reply();
            }
        }
    }
}

/// Replies read one after another from `data`: each consumes at least one byte and no more
/// than there is, and one written in UTF-8 formats to bytes that parse back to the same
/// reply (other bytes become U+FFFD, which is longer, so its lines may pass the limit).
pub fn reply(data: &[u8]) {
    let mut rest = data;
    while let Ok(Some((reply, used))) = parse_reply(rest) {
        assert!(used > 0 && used <= rest.len(), "a reply uses what it has");
        if std::str::from_utf8(&rest[..used]).is_err() {
            rest = &rest[used..];
            continue;
        }
        let wire = reply.to_bytes();
        let (again, again_used) = parse_reply(&wire)
            .expect("a formatted reply parses")
            .expect("a formatted reply is complete");
        assert_eq!(again, reply);
        assert_eq!(again_used, wire.len());
        rest = &rest[used..];
    }
}

/// The DATA reader fed the same bytes whole and in pieces: the first byte of `data` chooses
/// the lengths of the pieces, the rest is the input. Both find the same end, content, size
/// and fault.
pub fn data_reader(data: &[u8]) {
    let Some((&seed, input)) = data.split_first() else {
        return;
    };
    let reader = || DataReader::new(1000, 4096);
    let mut whole = reader();
    let whole_end = whole.feed(input);

    let mut pieces = reader();
    let mut pieces_end = None;
    let mut at = 0;
    let mut state = u32::from(seed) | 1;
    while at < input.len() {
        // A small generator drawn from the seed: pieces of 1 to 64 bytes.
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let len = 1 + (state >> 16) as usize % 64;
        let end = (at + len).min(input.len());
        if let Some(n) = pieces.feed(&input[at..end]) {
            pieces_end = Some(at + n);
            break;
        }
        at = end;
    }
    assert_eq!(whole_end, pieces_end, "the same end of data");
    assert_eq!(whole.content(), pieces.content());
    assert_eq!(whole.size(), pieces.size());
    assert_eq!(whole.fault(), pieces.fault());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_inputs_pass() {
        command(b"MAIL FROM:<a@example.com> SIZE=100\r\nRCPT TO:<b@example.net>\r\nQUIT\r\nXYZ");
        reply(b"250-mx.example\r\n250 SIZE 1000\r\n550 5.1.1 no\r\n");
        data_reader(b"\x07Hello\r\n..dot\r\n\n.\n\r\n.\r\nMAIL");
        data_reader(b"");
    }
}
