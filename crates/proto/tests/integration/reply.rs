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

/// The reading of `X.Y.Z` that RFC 3463 gives, written plainly, to check the fast parser against.
fn enhanced_by_the_rfc(s: &str) -> Option<EnhancedCode> {
    let parts: Vec<&str> = s.split('.').collect();
    let [class, subject, detail] = parts[..] else {
        return None;
    };
    let digits = |p: &str, max: usize| {
        !p.is_empty() && p.len() <= max && p.bytes().all(|b| b.is_ascii_digit())
    };
    if !(class == "2" || class == "4" || class == "5") || !digits(subject, 3) || !digits(detail, 3)
    {
        return None;
    }
    Some(EnhancedCode::new(
        class.parse().ok()?,
        subject.parse().ok()?,
        detail.parse().ok()?,
    ))
}

#[test]
fn enhanced_codes_parse_as_the_rfc_says() {
    for (input, expected) in [
        ("5.1.1", Some(EnhancedCode::new(5, 1, 1))),
        ("4.7.28", Some(EnhancedCode::new(4, 7, 28))),
        ("2.0.0", Some(EnhancedCode::new(2, 0, 0))),
        ("5.999.999", Some(EnhancedCode::new(5, 999, 999))),
        ("5.007.010", Some(EnhancedCode::new(5, 7, 10))),
        ("3.1.1", None),
        ("5.1000.1", None),
        ("5.1.1.", None),
        ("5..1", None),
        ("5.1", None),
        (".5.1.1", None),
        ("5.1.1 ", None),
        ("", None),
        ("55.1.1", None),
    ] {
        assert_eq!(EnhancedCode::parse(input), expected, "{input:?}");
    }
}

proptest! {
    #[test]
    fn enhanced_code_parser_agrees_with_the_rfc_reading(s in "[0-9.a ]{0,12}") {
        prop_assert_eq!(EnhancedCode::parse(&s), enhanced_by_the_rfc(&s));
    }

    #[test]
    fn enhanced_codes_round_trip(class in prop::sample::select(vec![2u8, 4, 5]),
                                 subject in 0u16..1000, detail in 0u16..1000) {
        let code = EnhancedCode::new(class, subject, detail);
        prop_assert_eq!(EnhancedCode::parse(&code.to_string()), Some(code));
    }
}
