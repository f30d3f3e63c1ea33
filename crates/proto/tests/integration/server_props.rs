//! Properties of the server session that must hold for any input.

use crate::common;

use common::{TestPolicy, server};
use proptest::prelude::*;
use smtpsim_proto::server::{ServerConfig, ServerEvent};

fn config() -> ServerConfig {
    let mut config = ServerConfig::new("mx.example.net");
    config.starttls = true;
    config.auth = true;
    config.auth_without_tls = true;
    config.limits.message_size = Some(4096);
    config
}

/// Fragments that steer the session into its interesting states, mixed with noise.
fn fragment() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"EHLO c.example\r\n".to_vec()),
        Just(b"MAIL FROM:<a@example.com>\r\n".to_vec()),
        Just(b"RCPT TO:<b@example.net>\r\n".to_vec()),
        Just(b"RCPT TO:<unknown@example.net>\r\n".to_vec()),
        Just(b"DATA\r\n".to_vec()),
        Just(b"BDAT 7\r\n".to_vec()),
        Just(b"BDAT 3 LAST\r\n".to_vec()),
        Just(b"AUTH LOGIN\r\n".to_vec()),
        Just(b"AUTH PLAIN\r\n".to_vec()),
        Just(b"STARTTLS\r\n".to_vec()),
        Just(b"\r\n.\r\n".to_vec()),
        Just(b"\n.\n".to_vec()),
        Just(b"RSET\r\n".to_vec()),
        Just(b"QUIT\r\n".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..64),
        proptest::collection::vec(
            prop_oneof![Just(b'\r'), Just(b'\n'), Just(b'.'), Just(b'x')],
            0..32
        ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Whatever arrives, the session neither panics nor stops answering in whole lines.
    #[test]
    fn arbitrary_input_never_panics(chunks in proptest::collection::vec(fragment(), 0..40)) {
        let mut s = server(config(), TestPolicy::default());
        for chunk in &chunks {
            s.feed(chunk);
            while let Some(event) = s.poll_event() {
                if event == ServerEvent::StartTls {
                    s.tls_established();
                }
            }
        }
        let out = s.take_output();
        prop_assert!(out.is_empty() || out.ends_with(b"\r\n"));
    }

    /// Splitting the same input anywhere gives the same replies and the same messages.
    #[test]
    fn chunking_does_not_matter(
        chunks in proptest::collection::vec(fragment(), 0..30),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        let input: Vec<u8> = chunks.concat();
        let run = |pieces: &[&[u8]]| {
            let mut s = server(config(), TestPolicy::default());
            let mut events = Vec::new();
            for piece in pieces {
                s.feed(piece);
                while let Some(event) = s.poll_event() {
                    if event == ServerEvent::StartTls {
                        s.tls_established();
                    }
                    events.push(event);
                }
            }
            (s.take_output(), events)
        };
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(input.len() + 1)).collect();
        points.sort_unstable();
        let mut pieces = Vec::new();
        let mut last = 0;
        for p in points {
            pieces.push(&input[last..p]);
            last = p;
        }
        pieces.push(&input[last..]);
        // STARTTLS discards what was fed with it, so only inputs without it split freely.
        prop_assume!(!input.windows(8).any(|w| w.eq_ignore_ascii_case(b"STARTTLS")));
        prop_assert_eq!(run(&pieces), run(&[&input]));
    }
}
