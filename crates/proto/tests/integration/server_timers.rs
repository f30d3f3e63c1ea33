//! The session's own deadlines, driven with a fake clock: a whole command line within the
//! command timeout, the whole content within the data timeout plus its octets at the minimum
//! data rate, then `421 4.4.2`.

use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use smtpsim_proto::server::{AcceptAll, ServerConfig, ServerEvent, ServerSession, Timeouts};

use crate::common::codes;

const TIMEOUT_REPLY: &str = "421 4.4.2 Timeout waiting for the client, closing connection\r\n";

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn millis(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

/// A session with a 10 s command timeout, a 10 s data timeout and a minimum data rate of
/// `rate` octets per second, its greeting taken.
fn session(rate: u64) -> ServerSession<AcceptAll> {
    let mut config = ServerConfig::new("mx.example.net");
    config.timeouts = Timeouts {
        command: secs(10),
        data: secs(10),
        min_data_rate: rate,
    };
    let mut s = ServerSession::new(Arc::new(config), AcceptAll, None);
    s.take_output();
    s
}

fn say(s: &mut ServerSession<AcceptAll>, at: Duration, input: &[u8]) -> String {
    s.feed_at(at, input);
    String::from_utf8(s.take_output()).unwrap()
}

const ENVELOPE: &[u8] = b"EHLO c\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.net>\r\n";

#[test]
fn a_command_line_dribbled_byte_by_byte_meets_its_deadline() {
    let mut s = session(500);
    assert_eq!(s.poll_timeout(), Some(secs(10)));
    for (i, byte) in b"NOO".iter().enumerate() {
        let out = say(&mut s, secs(3 * i as u64 + 1), std::slice::from_ref(byte));
        assert_eq!(out, "");
        // Bytes do not move the deadline of the line.
        assert_eq!(s.poll_timeout(), Some(secs(10)));
    }
    let out = say(&mut s, secs(10), b"P\r\n");
    assert_eq!(out, TIMEOUT_REPLY);
    assert!(s.is_closed());
    assert_eq!(s.poll_event(), Some(ServerEvent::Close));
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn each_command_line_has_its_own_deadline() {
    let mut s = session(500);
    assert_eq!(codes(&say(&mut s, secs(9), b"NOOP\r\n")), ["250"]);
    assert_eq!(s.poll_timeout(), Some(secs(19)));
    assert!(!s.handle_timeout(millis(18_999)));
    assert!(!s.is_closed());
    assert_eq!(s.take_output(), b"");
    assert!(s.handle_timeout(secs(19)));
    assert!(s.is_closed());
    assert_eq!(String::from_utf8(s.take_output()).unwrap(), TIMEOUT_REPLY);
}

#[test]
fn time_never_goes_back() {
    let mut s = session(500);
    assert!(!s.handle_timeout(secs(5)));
    say(&mut s, secs(1), b"NOOP\r\n");
    // The line ended at 5 s, the latest time told, not at 1 s.
    assert_eq!(s.poll_timeout(), Some(secs(15)));
}

#[test]
fn content_has_the_data_timeout_plus_its_octets_at_the_minimum_rate() {
    let mut s = session(100);
    say(&mut s, secs(0), ENVELOPE);
    assert_eq!(codes(&say(&mut s, secs(1), b"DATA\r\n")), ["354"]);
    assert_eq!(s.poll_timeout(), Some(secs(11)));
    // 500 octets earn 5 s; no wait for the next octet may exceed 10 s.
    say(&mut s, secs(2), &[b'x'; 500]);
    assert_eq!(s.poll_timeout(), Some(secs(12)));
    say(&mut s, secs(9), b"y");
    assert_eq!(s.poll_timeout(), Some(millis(16_010)));
    assert_eq!(say(&mut s, millis(16_010), b"z"), TIMEOUT_REPLY);
    assert!(s.is_closed());
}

/// Feeds content at `rate` octets a second, a second at a time, for up to `seconds`; returns
/// the second at which the session closed, if it did, and whether the message was accepted.
fn content_at(rate: usize, min_rate: u64, seconds: u64) -> (Option<u64>, bool) {
    let mut s = session(min_rate);
    say(&mut s, secs(0), ENVELOPE);
    say(&mut s, secs(0), b"DATA\r\n");
    let mut line = vec![b'x'; rate - 2];
    line.extend_from_slice(b"\r\n");
    for t in 1..=seconds {
        say(&mut s, secs(t), &line);
        if s.is_closed() {
            return (Some(t), false);
        }
    }
    let out = say(&mut s, secs(seconds), b".\r\n");
    (None, codes(&out) == ["250"])
}

#[test]
fn content_slower_than_the_minimum_rate_is_cut_off() {
    // 50 octets a second earn half a second each second: the octets before second t earn
    // (t - 1) / 2, and 10 + (t - 1) / 2 <= t from t = 19 on.
    assert_eq!(content_at(50, 100, 200), (Some(19), false));
    // Twice the minimum rate keeps going as long as it likes.
    assert_eq!(content_at(200, 100, 200), (None, true));
    // Without a minimum rate, content that keeps coming is never cut off.
    assert_eq!(content_at(50, 0, 200), (None, true));
}

#[test]
fn a_bdat_transfer_is_content_from_its_first_chunk_to_its_last() {
    let mut s = session(100);
    say(&mut s, secs(0), ENVELOPE);
    assert_eq!(
        codes(&say(&mut s, secs(1), b"BDAT 100\r\n")),
        Vec::<&str>::new()
    );
    assert_eq!(s.poll_timeout(), Some(secs(11)));
    let out = say(&mut s, secs(2), &[b'x'; 100]);
    assert_eq!(codes(&out), ["250"]);
    // Between chunks: the next command line's deadline, or the content's if sooner.
    assert_eq!(s.poll_timeout(), Some(secs(12)));
    say(&mut s, secs(3), b"BDAT 10 LAST\r\n");
    assert_eq!(s.poll_timeout(), Some(secs(12)));
    assert_eq!(codes(&say(&mut s, secs(4), &[b'y'; 10])), ["250"]);
    // The transfer is over: only the command line counts again.
    assert_eq!(s.poll_timeout(), Some(secs(14)));
}

#[test]
fn no_deadline_while_the_driver_performs_a_tls_handshake() {
    let mut config = ServerConfig::new("mx.example.net");
    config.starttls = true;
    let mut s = ServerSession::new(Arc::new(config), AcceptAll, None);
    s.feed_at(secs(1), b"EHLO c\r\nSTARTTLS\r\n");
    assert_eq!(s.poll_event(), Some(ServerEvent::StartTls));
    assert_eq!(s.poll_timeout(), None);
    assert!(!s.handle_timeout(secs(3600)));
    assert!(!s.is_closed());
    s.tls_established();
    assert_eq!(s.poll_timeout(), Some(secs(3600 + 300)));
}

proptest! {
    /// A command line dribbled in pieces at any times closes the session exactly when the
    /// first piece arrives at or after the line's deadline, however the pieces fall.
    #[test]
    fn a_dribbled_line_closes_exactly_at_its_deadline(
        gaps in prop::collection::vec(0u64..4000, 1..20),
    ) {
        let mut s = session(500);
        let mut now = 0;
        for gap in gaps {
            now += gap;
            s.feed_at(millis(now), b"x");
            prop_assert_eq!(s.is_closed(), now >= 10_000);
            if s.is_closed() {
                break;
            }
        }
    }

    /// Content fed in pieces at any times is cut off exactly when a piece arrives at or after
    /// the deadline a simple model computes: 10 s plus 10 ms an octet from the 354, and no
    /// more than 10 s after the previous piece.
    #[test]
    fn content_closes_exactly_at_the_modelled_deadline(
        pieces in prop::collection::vec((0u64..3000, 1usize..300), 1..30),
    ) {
        let mut s = session(100);
        s.feed_at(Duration::ZERO, ENVELOPE);
        s.feed_at(Duration::ZERO, b"DATA\r\n");
        let (mut now, mut octets, mut last) = (0u64, 0u64, 0u64);
        for (gap, n) in pieces {
            now += gap;
            let deadline = (10_000 + octets * 10).min(last + 10_000);
            s.feed_at(millis(now), &vec![b'x'; n]);
            prop_assert_eq!(s.is_closed(), now >= deadline, "at {} ms", now);
            if s.is_closed() {
                break;
            }
            octets += n as u64;
            last = now;
        }
    }
}
