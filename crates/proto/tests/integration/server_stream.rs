//! Content handed out as it arrives (`ServerConfig::stream_content`): the session's memory
//! stays bounded however large the message, the pieces add up to the message, and a message
//! that is not accepted is discarded.

use std::sync::Arc;

use proptest::prelude::*;
use smtpsim_proto::data::write_dot_stuffed;
use smtpsim_proto::server::{
    Decision, Envelope, HEAD_LIMIT, Policy, ServerConfig, ServerSession, SessionInfo,
};

use crate::common::{accepted, codes};

/// Records what the session hands it.
#[derive(Debug, Default)]
struct Recorder {
    /// The pieces of the message in progress, joined.
    pieces: Vec<u8>,
    /// Messages completed: (the pieces joined, the content `message` was given).
    messages: Vec<(Vec<u8>, Vec<u8>)>,
    discarded: usize,
}

impl Policy for Recorder {
    fn content(&mut self, _: &SessionInfo, _: &Envelope, piece: &[u8]) {
        self.pieces.extend_from_slice(piece);
    }

    fn discard(&mut self, _: &SessionInfo) {
        self.pieces.clear();
        self.discarded += 1;
    }

    fn message(&mut self, _: &SessionInfo, _: &Envelope, content: &[u8]) -> Decision {
        let pieces = std::mem::take(&mut self.pieces);
        self.messages.push((pieces, content.to_vec()));
        Decision::Accept
    }
}

fn session(stream: bool) -> ServerSession<Recorder> {
    let mut config = ServerConfig::new("mx.example.net");
    config.stream_content = stream;
    let mut s = ServerSession::new(Arc::new(config), Recorder::default(), None);
    s.feed(b"EHLO c\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.net>\r\n");
    s.take_output();
    s
}

const HEADERS: &[u8] = b"From: a@example.com\r\nSubject: a large one\r\n\r\n";

/// A message of about `size` octets: headers, then lines of text, some beginning with a dot.
fn large_message(size: usize) -> Vec<u8> {
    let mut content = HEADERS.to_vec();
    let mut n = 0u64;
    while content.len() < size {
        n += 1;
        let dot = if n.is_multiple_of(7) { "." } else { "" };
        content.extend_from_slice(format!("{dot}line {n} of the body text\r\n").as_bytes());
    }
    content
}

/// Sends `content` with DATA in 16 KiB reads, as `serve` reads; returns the most octets the
/// session held after any read.
fn send_with_data(s: &mut ServerSession<Recorder>, content: &[u8]) -> usize {
    let mut wire = b"DATA\r\n".to_vec();
    write_dot_stuffed(content, &mut wire);
    let mut most = 0;
    for read in wire.chunks(16 * 1024) {
        s.feed(read);
        most = most.max(s.buffered());
    }
    most
}

#[test]
fn a_streamed_message_never_holds_more_than_a_read_and_the_head() {
    let content = large_message(8 << 20);
    let mut s = session(true);
    let most = send_with_data(&mut s, &content);
    assert!(most <= 16 * 1024 + HEAD_LIMIT, "held {most} octets");
    assert!(codes(&String::from_utf8(s.take_output()).unwrap()) == ["354", "250"]);
    let message = accepted(&mut s).pop().unwrap();
    assert_eq!(message.size, content.len() as u64);
    assert_eq!(message.content, HEADERS);
    let (pieces, given) = s.policy().messages[0].clone();
    assert!(pieces == content, "the pieces differ from the message");
    assert_eq!(given, HEADERS);
    // Without streaming, the session holds the whole message.
    let mut whole = session(false);
    assert!(send_with_data(&mut whole, &content) > content.len() - 16 * 1024);
    assert!(accepted(&mut whole).pop().unwrap().content == content);
}

#[test]
fn bdat_chunks_are_streamed_too() {
    let content = large_message(1 << 20);
    let mut s = session(true);
    let (first, second) = content.split_at(300_000);
    let mut most = 0;
    for (chunk, last) in [(first, ""), (second, " LAST")] {
        s.feed(format!("BDAT {}{last}\r\n", chunk.len()).as_bytes());
        for read in chunk.chunks(16 * 1024) {
            s.feed(read);
            most = most.max(s.buffered());
        }
    }
    assert!(most <= 16 * 1024 + HEAD_LIMIT, "held {most} octets");
    assert_eq!(accepted(&mut s).pop().unwrap().size, content.len() as u64);
    assert!(s.policy().messages[0].0 == content);
}

#[test]
fn content_that_is_not_a_message_is_discarded() {
    // A bare LF: read to the end, then refused.
    let mut s = session(true);
    s.feed(b"DATA\r\nSubject: x\r\n\r\n");
    s.feed(b"bare\nLF\r\n.\r\n");
    assert_eq!(
        codes(&String::from_utf8(s.take_output()).unwrap()),
        ["354", "554"]
    );
    assert_eq!((s.policy().discarded, s.policy().messages.len()), (1, 0));
    // A BDAT transfer reset halfway.
    let mut s = session(true);
    s.feed(b"BDAT 5\r\nhelloRSET\r\n");
    assert_eq!((s.policy().discarded, s.policy().messages.len()), (1, 0));
    // Content cut short by the session's close.
    let mut s = session(true);
    s.feed(b"DATA\r\nSubject: x\r\n\r\nhalf a mess");
    assert!(s.handle_timeout(std::time::Duration::from_secs(24 * 3600)));
    assert!(s.is_closed());
    assert_eq!((s.policy().discarded, s.policy().messages.len()), (1, 0));
    // Too big.
    let mut config = ServerConfig::new("mx.example.net");
    config.stream_content = true;
    config.limits.message_size = Some(10);
    let mut s = ServerSession::new(Arc::new(config), Recorder::default(), None);
    s.feed(b"EHLO c\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.net>\r\n");
    s.feed(b"DATA\r\n01234567\r\n");
    s.feed(b"more\r\n.\r\n");
    assert!(
        String::from_utf8(s.take_output())
            .unwrap()
            .ends_with("552 5.3.4 Message size exceeds fixed maximum message size\r\n")
    );
    assert_eq!((s.policy().discarded, s.policy().messages.len()), (1, 0));
}

proptest! {
    /// However the input is split into reads, the streamed pieces add up to the content the
    /// session keeps whole without streaming, and the head is the start of it.
    #[test]
    fn streamed_pieces_add_up_to_the_whole_content(
        lines in prop::collection::vec("[.a-z: ]{0,40}", 0..60),
        cuts in prop::collection::vec(1usize..200, 1..40),
    ) {
        let mut content = Vec::new();
        for line in &lines {
            content.extend_from_slice(line.as_bytes());
            content.extend_from_slice(b"\r\n");
        }
        let mut wire = b"DATA\r\n".to_vec();
        write_dot_stuffed(&content, &mut wire);
        let (mut streamed, mut whole) = (session(true), session(false));
        let mut rest = &wire[..];
        for cut in cuts.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (read, after) = rest.split_at((*cut).min(rest.len()));
            streamed.feed(read);
            whole.feed(read);
            rest = after;
        }
        let kept = accepted(&mut whole).pop().unwrap().content;
        let message = accepted(&mut streamed).pop().unwrap();
        prop_assert_eq!(&streamed.policy().messages[0].0, &kept);
        prop_assert!(kept.starts_with(&message.content));
        prop_assert_eq!(message.size, kept.len() as u64);
    }
}
