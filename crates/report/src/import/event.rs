//! What a Postfix line says about a message, parsed from its text without allocating.

use smtpsim_proto::EnhancedCode;

/// The final word of a delivery agent's line about one recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// `status=sent`.
    Sent,
    /// `status=deferred`: tried again later.
    Deferred,
    /// `status=bounced`: refused for good.
    Bounced,
    /// `status=expired`: given up after the queue lifetime.
    Expired,
}

/// A reply code and enhanced code found in a status text, such as `450 4.2.0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyCodes {
    /// The three-digit code.
    pub code: u16,
    /// The enhanced code when the reply had one.
    pub enhanced: Option<EnhancedCode>,
}

/// A delivery agent's line about one recipient (`smtp`, `lmtp`, `local`, `virtual`...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery<'a> {
    /// `to=<...>`.
    pub to: &'a str,
    /// `relay=...`: `host[ip]:port` or `none`.
    pub relay: &'a str,
    /// `delay=`: arrival to the end of this attempt, in microseconds.
    pub delay: Option<u64>,
    /// `delays=a/b/c/d` in microseconds: before the queue manager, in the queue manager
    /// (waiting for a connection), connection setup, transmission.
    pub delays: Option<[u64; 4]>,
    /// `dsn=`.
    pub dsn: Option<EnhancedCode>,
    /// `status=`.
    pub status: Status,
    /// The text in parentheses after the status, without them.
    pub text: &'a str,
    /// The remote reply found in the text, if any.
    pub reply: Option<ReplyCodes>,
}

/// What a line says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// A message got a queue ID: `client=` (smtpd), `uid=` (pickup) or `message-id=` (cleanup).
    Arrived,
    /// `from=<...>, size=..., nrcpt=... (queue active)`: the message entered the active queue.
    Active {
        /// The envelope sender.
        from: &'a str,
    },
    /// A delivery attempt's result for one recipient.
    Delivery(Delivery<'a>),
    /// `from=<...>, status=expired, returned to sender`: the message's remaining recipients
    /// expired.
    Expired,
    /// `sender non-delivery notification: QUEUEID`: a bounce message was made.
    Notice {
        /// The queue ID of the notification.
        notice: &'a str,
    },
    /// `removed`: the message left the queue.
    Removed,
    /// A Postfix line about this message that changes nothing here.
    Other,
}

/// A Postfix line: about a queued message, a rejection before queueing, or neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Said<'a> {
    /// `QUEUEID: ...`.
    Queued {
        /// The queue ID.
        queue_id: &'a str,
        /// What happened.
        event: Event<'a>,
    },
    /// `NOQUEUE: reject: RCPT from ...: 554 5.7.1 <to>: ...; from=<...> to=<...>`.
    Rejected {
        /// The refused recipient.
        to: &'a str,
        /// The envelope sender.
        from: &'a str,
        /// The reply given.
        reply: Option<ReplyCodes>,
    },
    /// Anything else Postfix says (connections, warnings, statistics).
    Chatter,
}

/// Why a Postfix line could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// A delivery line without a readable `to=` or `status=` (often a truncated line).
    Delivery,
    /// A `NOQUEUE: reject` without `to=<...>`.
    Reject,
}

/// Whether `id` looks like a Postfix queue ID: short (6 or more upper-case hex digits) or long
/// (10 or more letters and digits, with a digit; `enable_long_queue_ids`). Words such as
/// `warning` or `statistics` are not.
fn is_queue_id(id: &str) -> bool {
    let short = |b: u8| b.is_ascii_digit() || (b'A'..=b'F').contains(&b);
    let bytes = id.as_bytes();
    match bytes.len() {
        6..=9 => bytes.iter().all(|&b| short(b)),
        10..=20 => {
            bytes.iter().all(u8::is_ascii_alphanumeric) && bytes.iter().any(u8::is_ascii_digit)
        }
        _ => false,
    }
}

/// Reads the text of a Postfix line.
pub fn parse(text: &str) -> Result<Said<'_>, Malformed> {
    if let Some(rest) = text.strip_prefix("NOQUEUE: reject: ") {
        return rejected(rest);
    }
    let Some((queue_id, rest)) = text.split_once(": ") else {
        return Ok(Said::Chatter);
    };
    if !is_queue_id(queue_id) {
        return Ok(Said::Chatter);
    }
    let event = if rest.starts_with("to=<") {
        Event::Delivery(delivery(rest).ok_or(Malformed::Delivery)?)
    } else if rest == "removed" {
        Event::Removed
    } else if let Some(notice) = rest
        .strip_prefix("sender non-delivery notification: ")
        .or_else(|| rest.strip_prefix("sender delivery status notification: "))
    {
        Event::Notice { notice }
    } else if let Some(from) = rest.strip_prefix("from=<") {
        let (from, tail) = from.split_once('>').unwrap_or((from, ""));
        if tail.starts_with(", status=expired") {
            Event::Expired
        } else if tail.ends_with("(queue active)") {
            Event::Active { from }
        } else {
            Event::Other
        }
    } else if rest.starts_with("client=")
        || rest.starts_with("uid=")
        || rest.starts_with("message-id=")
    {
        Event::Arrived
    } else {
        Event::Other
    };
    Ok(Said::Queued { queue_id, event })
}

fn rejected(rest: &str) -> Result<Said<'_>, Malformed> {
    let field = |name: &str| {
        let start = rest.find(name)? + name.len();
        let end = rest[start..].find('>')?;
        Some(&rest[start..start + end])
    };
    let to = field(" to=<").ok_or(Malformed::Reject)?;
    let from = field(" from=<").unwrap_or("");
    // `RCPT from host[ip]: 554 5.7.1 <to>: ...`: the reply follows the first `]: `.
    let reply = rest.split_once("]: ").and_then(|(_, r)| reply_codes(r));
    Ok(Said::Rejected { to, from, reply })
}

/// Seconds as Postfix prints them (`0.92`, `37`) in microseconds.
fn seconds(text: &str) -> Option<u64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || fraction.len() > 6 {
        return None;
    }
    let whole: u64 = whole.parse().ok()?;
    let mut micros = 0u64;
    for (i, b) in fraction.bytes().enumerate() {
        if !b.is_ascii_digit() {
            return None;
        }
        micros += u64::from(b - b'0') * 10u64.pow(5 - i as u32);
    }
    whole.checked_mul(1_000_000)?.checked_add(micros)
}

fn delays(text: &str) -> Option<[u64; 4]> {
    let mut parts = text.split('/');
    let mut out = [0; 4];
    for slot in &mut out {
        *slot = seconds(parts.next()?)?;
    }
    parts.next().is_none().then_some(out)
}

/// `to=<a>, orig_to=<b>, relay=..., delay=..., delays=..., dsn=..., status=S (text)`.
fn delivery(rest: &str) -> Option<Delivery<'_>> {
    let after_to = rest.strip_prefix("to=<")?;
    let close = after_to.find('>')?;
    let to = &after_to[..close];
    let mut d = Delivery {
        to,
        relay: "",
        delay: None,
        delays: None,
        dsn: None,
        status: Status::Deferred,
        text: "",
        reply: None,
    };
    let mut fields = &after_to[close + 1..];
    loop {
        fields = fields.strip_prefix(", ")?;
        if let Some(status) = fields.strip_prefix("status=") {
            let (word, text) = status.split_once(' ').unwrap_or((status, ""));
            d.status = match word {
                "sent" => Status::Sent,
                "deferred" => Status::Deferred,
                "bounced" => Status::Bounced,
                "expired" => Status::Expired,
                _ => return None,
            };
            let text = text.strip_prefix('(').unwrap_or(text);
            d.text = text.strip_suffix(')').unwrap_or(text);
            d.reply = remote_reply(d.text);
            return Some(d);
        }
        let end = fields.find(", ").unwrap_or(fields.len());
        let (key, value) = fields[..end].split_once('=')?;
        match key {
            "relay" => d.relay = value,
            "delay" => d.delay = Some(seconds(value)?),
            "delays" => d.delays = Some(delays(value)?),
            "dsn" => d.dsn = EnhancedCode::parse(value),
            _ => {}
        }
        fields = &fields[end..];
    }
}

/// The reply in a status text: `host mx[ip] said: 450 4.2.0 ...` or, for a delivery,
/// `250 2.0.0 Ok`.
fn remote_reply(text: &str) -> Option<ReplyCodes> {
    match text.split_once(" said: ") {
        Some((_, reply)) => reply_codes(reply),
        None => reply_codes(text),
    }
}

/// `NNN` and an optional `X.Y.Z` at the start of `text`.
pub(super) fn reply_codes(text: &str) -> Option<ReplyCodes> {
    let head = text.get(..3)?;
    if !head.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let code: u16 = head.parse().ok()?;
    if !(200..=599).contains(&code) {
        return None;
    }
    let rest = &text[3..];
    if !(rest.is_empty() || rest.starts_with([' ', '-'])) {
        return None;
    }
    let enhanced = rest
        .get(1..)
        .and_then(|r| r.split(' ').next())
        .and_then(EnhancedCode::parse);
    Some(ReplyCodes { code, enhanced })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queued(text: &str) -> (&str, Event<'_>) {
        match parse(text).unwrap() {
            Said::Queued { queue_id, event } => (queue_id, event),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_real_deferral_is_read() {
        let (id, event) = queued(
            "4QxY1234ABz9tBN: to=<bob@example.org>, orig_to=<b@example.org>, relay=mx.example.org[192.0.2.7]:25, conn_use=2, delay=37, delays=27/0.01/0.2/9.8, dsn=4.2.0, status=deferred (host mx.example.org[192.0.2.7] said: 450 4.2.0 <bob@example.org>: Recipient address rejected: Greylisted (in reply to RCPT TO command))",
        );
        assert_eq!(id, "4QxY1234ABz9tBN");
        let Event::Delivery(d) = event else {
            panic!("{event:?}")
        };
        assert_eq!(d.to, "bob@example.org");
        assert_eq!(d.relay, "mx.example.org[192.0.2.7]:25");
        assert_eq!(d.delay, Some(37_000_000));
        assert_eq!(d.delays, Some([27_000_000, 10_000, 200_000, 9_800_000]));
        assert_eq!(d.dsn, Some(EnhancedCode::new(4, 2, 0)));
        assert_eq!(d.status, Status::Deferred);
        assert_eq!(
            d.reply,
            Some(ReplyCodes {
                code: 450,
                enhanced: Some(EnhancedCode::new(4, 2, 0))
            })
        );
        assert!(d.text.ends_with("(in reply to RCPT TO command)"));
    }

    #[test]
    fn deliveries_without_a_reply_have_none() {
        let (_, event) = queued(
            "3D5E0A1B2C4F: to=<a@nomail.example>, relay=none, delay=0.03, delays=0.01/0/0/0.02, dsn=5.1.2, status=bounced (Host or domain name not found)",
        );
        let Event::Delivery(d) = event else {
            panic!("{event:?}")
        };
        assert_eq!(
            (d.status, d.reply, d.relay),
            (Status::Bounced, None, "none")
        );
        let (_, event) = queued(
            "3D5E0A1B2C4F: to=<a@b.example>, relay=b[1.2.3.4]:25, delay=1.2, delays=0/0/0/1.2, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 123)",
        );
        let Event::Delivery(d) = event else {
            panic!("{event:?}")
        };
        assert_eq!(d.reply.map(|r| r.code), Some(250));
    }

    #[test]
    fn queue_events_are_read() {
        assert_eq!(queued("ABCDEF123: removed").1, Event::Removed);
        assert_eq!(
            queued("ABCDEF123: client=localhost[127.0.0.1]").1,
            Event::Arrived
        );
        assert_eq!(
            queued("ABCDEF123: from=<a@b>, size=10, nrcpt=2 (queue active)").1,
            Event::Active { from: "a@b" }
        );
        assert_eq!(
            queued("ABCDEF123: from=<a@b>, status=expired, returned to sender").1,
            Event::Expired
        );
        assert_eq!(
            queued("ABCDEF123: sender non-delivery notification: 99AA00BB").1,
            Event::Notice { notice: "99AA00BB" }
        );
        assert_eq!(parse("connect from x[1.2.3.4]"), Ok(Said::Chatter));
        for word in [
            "warning",
            "statistics",
            "NOQUEUE",
            "fatal",
            "panic",
            "Deferred",
        ] {
            let text = format!("{word}: something: happened");
            assert_eq!(parse(&text), Ok(Said::Chatter), "{word}");
        }
        assert_eq!(
            parse("warning: hostname x does not resolve"),
            Ok(Said::Chatter)
        );
    }

    #[test]
    fn rejections_are_read() {
        let said = parse("NOQUEUE: reject: RCPT from localhost[127.0.0.1]: 554 5.7.1 <x@y>: Relay access denied; from=<a@b> to=<x@y> proto=ESMTP helo=<localhost>").unwrap();
        assert_eq!(
            said,
            Said::Rejected {
                to: "x@y",
                from: "a@b",
                reply: Some(ReplyCodes {
                    code: 554,
                    enhanced: Some(EnhancedCode::new(5, 7, 1))
                })
            }
        );
        assert_eq!(
            parse("NOQUEUE: reject: RCPT from localhost[127.0.0.1]: 554 5.7.1"),
            Err(Malformed::Reject)
        );
    }

    #[test]
    fn truncated_deliveries_are_malformed() {
        let full = "3D5E0A1B2C4F: to=<a@b.example>, relay=b[1.2.3.4]:25, delay=1.2, delays=0/0/0/1.2, dsn=2.0.0, status=sent (250 2.0.0 Ok)";
        let cut = full.find("status=").unwrap() + 4;
        for end in (20..cut).step_by(3) {
            assert_eq!(
                parse(&full[..end]),
                Err(Malformed::Delivery),
                "{}",
                &full[..end]
            );
        }
        assert!(parse(full).is_ok());
    }

    #[test]
    fn seconds_are_read_as_postfix_prints_them() {
        assert_eq!(seconds("0"), Some(0));
        assert_eq!(seconds("0.92"), Some(920_000));
        assert_eq!(seconds("3603"), Some(3_603_000_000));
        assert_eq!(seconds("1.5e3"), None);
        assert_eq!(seconds(".5"), None);
    }

    proptest::proptest! {
        #[test]
        fn any_text_parses_or_is_malformed_without_panicking(text in "\\PC{0,120}") {
            let _ = parse(&text);
        }

        #[test]
        fn any_delivery_line_round_trips(
            to in "[a-z]{1,8}@[a-z]{1,8}\\.example",
            delay in 0u64..100_000,
            status in proptest::sample::select(vec!["sent", "deferred", "bounced"]),
            code in 200u16..600,
        ) {
            let text = format!(
                "ABCDEF0123: to=<{to}>, relay=mx[1.2.3.4]:25, delay={}.{:02}, delays=0/0/0/0, dsn=4.0.0, status={status} (host mx[1.2.3.4] said: {code} hello)",
                delay / 100, delay % 100
            );
            let (_, event) = queued(&text);
            let Event::Delivery(d) = event else { panic!() };
            proptest::prop_assert_eq!(d.to, to.as_str());
            proptest::prop_assert_eq!(d.delay, Some(delay * 10_000));
            proptest::prop_assert_eq!(d.reply.map(|r| r.code), Some(code));
        }
    }
}
