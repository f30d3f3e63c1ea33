//! Replies: formatting and parsing back, and malformed input from a server.

use proptest::prelude::*;
use smtpsim_proto::reply::{ReplyError, parse_reply};
use smtpsim_proto::{EnhancedCode, Reply, ReplyCode};

fn reply_strategy() -> impl Strategy<Value = Reply> {
    let code = (200u16..=599).prop_map(|c| ReplyCode::new(c).unwrap());
    // Text lines never start with a digit, so they cannot be mistaken for an enhanced code.
    let line = "([a-zA-Z][ -~]{0,60})?";
    let text = prop::collection::vec(line, 1..6).prop_map(|lines| lines.join("\n"));
    let enhanced = prop::option::of((0u16..1000, 0u16..1000));
    (code, enhanced, text).prop_map(|(code, enhanced, text)| {
        let class = code.class();
        // Enhanced codes exist for classes 2, 4 and 5 only.
        let enhanced = enhanced
            .filter(|_| class != 3)
            .map(|(s, d)| EnhancedCode::new(class, s, d));
        Reply::new(code, enhanced, text)
    })
}

proptest! {
    #[test]
    fn formatted_replies_parse_back(reply in reply_strategy()) {
        let bytes = reply.to_bytes();
        let (parsed, used) = parse_reply(&bytes).unwrap().unwrap();
        prop_assert_eq!(used, bytes.len());
        prop_assert_eq!(parsed, reply);
    }

    #[test]
    fn any_split_gives_the_same_reply(reply in reply_strategy(), cut in 0usize..400) {
        let bytes = reply.to_bytes();
        let cut = cut % bytes.len();
        // Before the last byte arrives, the parser asks for more; it never guesses.
        prop_assert_eq!(parse_reply(&bytes[..cut]).unwrap(), None);
        prop_assert_eq!(parse_reply(&bytes).unwrap().unwrap().0, reply);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..3000)) {
        let _ = parse_reply(&bytes);
    }

    #[test]
    fn reply_shaped_garbage_never_panics(
        lines in prop::collection::vec("[0-9]{0,4}[ -]?[ -~\\r\\n]{0,20}", 0..8)
    ) {
        let bytes = lines.join("\r\n");
        if let Ok(Some((_, used))) = parse_reply(bytes.as_bytes()) {
            prop_assert!(used <= bytes.len());
        }
    }
}

#[test]
fn several_replies_in_one_buffer_parse_one_after_another() {
    let buf = b"250-mx.example.net\r\n250 PIPELINING\r\n250 2.1.0 OK\r\n354 Go\r\n";
    let mut codes = Vec::new();
    let mut rest = &buf[..];
    while let Some((reply, used)) = parse_reply(rest).unwrap() {
        codes.push(reply.code.get());
        rest = &rest[used..];
    }
    assert_eq!(codes, [250, 250, 354]);
    assert!(rest.is_empty());
}

#[test]
fn errors_say_what_is_wrong() {
    let err = parse_reply(b"250-first\r\n550 second\r\n").unwrap_err();
    assert_eq!(
        err,
        ReplyError::MismatchedCode {
            line: 2,
            expected: 250,
            found: 550
        }
    );
    assert_eq!(
        err.to_string(),
        "line 2 has code 550, the reply started with 250"
    );
    assert_eq!(
        parse_reply(b"SSH-2.0-OpenSSH_9.6\r\n")
            .unwrap_err()
            .to_string(),
        "line 1 does not start with a three-digit code"
    );
}
