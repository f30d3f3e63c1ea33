//! What a line of Exim's main log says, in the terms of a Postfix line ([`Said`]), so that
//! the same queue bookkeeping reads both.
//!
//! An Exim line is `DATE TIME[.mmm][ +ZZZZ] [[PID] ]MESSAGE-ID FLAG ...`, with these flags:
//!
//! | Exim | read as |
//! | --- | --- |
//! | `<= sender ...` | the message arrived ([`Event::Active`] with its sender) |
//! | `<= <> ... R=ID` | a bounce notification made for message `ID` ([`Event::Notice`] on `ID`) |
//! | `=> addr ...`, `-> addr ...`, `*> addr ...` | delivered ([`Status::Sent`]) |
//! | `== addr ...` | deferred ([`Status::Deferred`]) |
//! | `** addr ...: retry timeout exceeded` | expired ([`Status::Expired`]) |
//! | `** addr ...` | bounced ([`Status::Bounced`]) |
//! | `Completed` | the message left the queue ([`Event::Removed`]) |
//!
//! A delivery line's host is its `H=host [ip]` (with `:port` when Exim logs one); a line
//! without `H=` reached no server (a refused connection, `retry time not reached for any
//! host`) and its relay is `none`, as Postfix writes it. Exim's lines carry no delay: the
//! time of the line less the arrival's is the delay. Times are Exim's local time; without
//! `log_timezone` (which appends `+ZZZZ`) they are read as UTC.

use time::{Date, Month, PrimitiveDateTime, Time, UtcOffset};

use super::event::{Delivery, Event, Said, Status, reply_codes};
use super::line::Stamp;

/// Reads `line` when it has the shape of an Exim main log line; `None` otherwise (a Postfix
/// line, another program's, or a malformed one).
pub fn parse_exim(line: &str) -> Option<(Stamp, Said<'_>)> {
    let (stamp, rest) = exim_stamp(line)?;
    let rest = skip_pid(rest);
    let (id, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    if !is_message_id(id) {
        // `Start queue run`, connection lines and other lines about no message.
        return Some((stamp, Said::Chatter));
    }
    Some((stamp, said(id, rest)))
}

fn said<'a>(id: &'a str, rest: &'a str) -> Said<'a> {
    let Some((flag, tail)) = rest.split_once(' ') else {
        let event = if rest == "Completed" {
            Event::Removed
        } else {
            Event::Other
        };
        return Said::Queued {
            queue_id: id,
            event,
        };
    };
    let status = match flag {
        "<=" => return arrival(id, tail),
        "=>" | "->" | "*>" => Status::Sent,
        "==" => Status::Deferred,
        "**" if tail.contains(": retry timeout exceeded") => Status::Expired,
        "**" => Status::Bounced,
        _ => {
            return Said::Queued {
                queue_id: id,
                event: Event::Other,
            };
        }
    };
    let (to, fields) = tail.split_once(' ').unwrap_or((tail, ""));
    let to = to.strip_suffix(':').unwrap_or(to);
    let relay = host(fields).unwrap_or("none");
    // The reason follows the first `: ` (after `defer (-44) H=... [ip]`); a delivery's
    // reply is its `C="..."`.
    let text = match fields.split_once(": ") {
        Some((_, reason)) => reason,
        None => confirmation(fields).unwrap_or(""),
    };
    let delivery = Delivery {
        to,
        relay,
        delay: None,
        delays: None,
        dsn: None,
        status,
        text,
        reply: remote_reply(text),
    };
    Said::Queued {
        queue_id: id,
        event: Event::Delivery(delivery),
    }
}

/// `<= sender H=... P=... S=...`, or a bounce notification `<= <> R=ORIGINAL-ID ...`.
fn arrival<'a>(id: &'a str, tail: &'a str) -> Said<'a> {
    let (sender, fields) = tail.split_once(' ').unwrap_or((tail, ""));
    if sender == "<>"
        && let Some(original) = field(fields, "R=")
        && is_message_id(original)
    {
        return Said::Queued {
            queue_id: original,
            event: Event::Notice { notice: id },
        };
    }
    let from = if sender == "<>" { "" } else { sender };
    Said::Queued {
        queue_id: id,
        event: Event::Active { from },
    }
}

/// The value of ` NAME=value` among space-separated fields.
fn field<'a>(fields: &'a str, name: &str) -> Option<&'a str> {
    fields
        .split(' ')
        .find_map(|word| word.strip_prefix(name))
        .map(|value| value.trim_end_matches(':'))
}

/// `H=host [ip]` or `H=host [ip]:port`, up to the closing bracket (and port).
fn host(fields: &str) -> Option<&str> {
    let start = fields
        .find(" H=")
        .map(|i| i + 3)
        .or_else(|| fields.starts_with("H=").then_some(2))?;
    let rest = &fields[start..];
    let close = rest.find(']')?;
    let after = &rest[close + 1..];
    let port = match after.strip_prefix(':') {
        Some(p) => match p.bytes().take_while(u8::is_ascii_digit).count() {
            0 => 0,
            digits => 1 + digits,
        },
        None => 0,
    };
    Some(&rest[..close + 1 + port])
}

/// `C="250 OK id=..."`, without the quotes.
fn confirmation(fields: &str) -> Option<&str> {
    let start = fields.find("C=\"")? + 3;
    let rest = &fields[start..];
    Some(&rest[..rest.find('"').unwrap_or(rest.len())])
}

/// The remote reply in a reason: `SMTP error from remote mail server after RCPT
/// TO:<a@b>: 451 4.7.1 ...`, or a confirmation `250 2.0.0 Ok`.
fn remote_reply(text: &str) -> Option<super::event::ReplyCodes> {
    reply_codes(text).or_else(|| {
        let (_, reply) = text.rsplit_once(">: ")?;
        reply_codes(reply)
    })
}

/// Exim's message IDs: three base-62 parts, `XXXXXX-YYYYYY-ZZ` (up to 4.96) or
/// `XXXXXX-YYYYYYYYYYY-ZZZZ` (4.97 on).
fn is_message_id(id: &str) -> bool {
    let parts: Vec<&str> = id.split('-').collect();
    let lengths: Vec<usize> = parts.iter().map(|p| p.len()).collect();
    (lengths == [6, 6, 2] || lengths == [6, 11, 4])
        && parts
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// `[12345] ` (`log_selector = +pid`), if present.
fn skip_pid(rest: &str) -> &str {
    if let Some(inner) = rest.strip_prefix('[')
        && let Some((pid, after)) = inner.split_once("] ")
        && !pid.is_empty()
        && pid.bytes().all(|b| b.is_ascii_digit())
    {
        return after;
    }
    rest
}

fn number(text: &str) -> Option<u32> {
    (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

/// `2026-12-05 07:30:01`, with `.123` (`+subsecond`) and ` +0100` (`log_timezone`) when
/// present; the rest of the line after it and its space.
fn exim_stamp(line: &str) -> Option<(Stamp, &str)> {
    let b = line.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b' ' || b[13] != b':' {
        return None;
    }
    let date = Date::from_calendar_date(
        i32::try_from(number(&line[0..4])?).ok()?,
        Month::try_from(u8::try_from(number(&line[5..7])?).ok()?).ok()?,
        u8::try_from(number(&line[8..10])?).ok()?,
    )
    .ok()?;
    if b[16] != b':' {
        return None;
    }
    let (h, m, s) = (
        number(&line[11..13])?,
        number(&line[14..16])?,
        number(&line[17..19])?,
    );
    let mut rest = &line[19..];
    let mut micros = 0u32;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 6 {
            return None;
        }
        micros = number(&fraction[..digits])? * 10u32.pow(6 - digits as u32);
        rest = &fraction[digits..];
    }
    let time = Time::from_hms_micro(
        u8::try_from(h).ok()?,
        u8::try_from(m).ok()?,
        u8::try_from(s).ok()?,
        micros,
    )
    .ok()?;
    let mut rest = rest.strip_prefix(' ')?;
    let mut offset = UtcOffset::UTC;
    if let Some(zone) = rest.get(..5)
        && (zone.starts_with('+') || zone.starts_with('-'))
        && rest.as_bytes().get(5) == Some(&b' ')
    {
        let hours = i8::try_from(number(&zone[1..3])?).ok()?;
        let minutes = i8::try_from(number(&zone[3..5])?).ok()?;
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        offset = UtcOffset::from_hms(sign * hours, sign * minutes, 0).ok()?;
        rest = &rest[6..];
    }
    let at = PrimitiveDateTime::new(date, time).assume_offset(offset);
    let micros = i64::try_from(at.unix_timestamp_nanos() / 1_000).ok()?;
    Some((Stamp::Absolute(micros), rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queued(line: &str) -> (&str, Event<'_>) {
        match parse_exim(line).expect("an Exim line").1 {
            Said::Queued { queue_id, event } => (queue_id, event),
            other => panic!("{other:?}"),
        }
    }

    fn delivery(line: &str) -> Delivery<'_> {
        match queued(line).1 {
            Event::Delivery(d) => d,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_stamp_reads_subseconds_and_zones() {
        let (stamp, _) = parse_exim("2026-12-05 07:30:01.250 +0100 Start queue run: pid=5")
            .expect("an Exim line");
        // 06:30:01.25 UTC.
        assert_eq!(stamp, Stamp::Absolute(1_796_452_201_250_000));
        let (plain, said) = parse_exim("2026-12-05 06:30:01 exim 4.96 daemon started").unwrap();
        assert_eq!(plain, Stamp::Absolute(1_796_452_201_000_000));
        assert_eq!(said, Said::Chatter);
    }

    #[test]
    fn an_arrival_and_a_completion_are_read() {
        let (id, event) = queued(
            "2026-12-05 07:30:01.250 [123] 1tJxyz-000abc-Q1 <= app@twin.example H=localhost (t) [127.0.0.1] P=esmtp S=345",
        );
        assert_eq!(id, "1tJxyz-000abc-Q1");
        assert_eq!(
            event,
            Event::Active {
                from: "app@twin.example"
            }
        );
        assert_eq!(
            queued("2026-12-05 07:30:02 1tJxyz-000abc-Q1 Completed").1,
            Event::Removed
        );
    }

    #[test]
    fn deliveries_deferrals_and_bounces_are_read() {
        let sent = delivery(
            "2026-12-05 07:30:01.300 1tJxyz-000abc-Q1 => user1@dest.example R=smarthost T=remote_smtp H=127.0.0.1 [127.0.0.1]:25362 C=\"250 2.0.0 Ok queued\"",
        );
        assert_eq!(sent.to, "user1@dest.example");
        assert_eq!(sent.status, Status::Sent);
        assert_eq!(sent.relay, "127.0.0.1 [127.0.0.1]:25362");
        assert_eq!(sent.reply.map(|r| r.code), Some(250));
        let deferred = delivery(
            "2026-12-05 07:30:01 1tJxyz-000abc-Q1 == user1@dest.example R=smarthost T=remote_smtp defer (-44) H=127.0.0.1 [127.0.0.1]: SMTP error from remote mail server after RCPT TO:<user1@dest.example>: 451 4.7.1 Greylisted, try again later",
        );
        assert_eq!(deferred.status, Status::Deferred);
        assert_eq!(deferred.relay, "127.0.0.1 [127.0.0.1]");
        let reply = deferred.reply.expect("the remote reply");
        assert_eq!(reply.code, 451);
        assert_eq!(reply.enhanced.map(|e| e.to_string()), Some("4.7.1".into()));
        let refused = delivery(
            "2026-12-05 07:30:01 1tJxyz-000abc-Q1 == user1@dest.example R=smarthost T=remote_smtp defer (111): Connection refused",
        );
        assert_eq!(refused.relay, "none");
        assert_eq!(refused.reply, None);
        let bounced = delivery(
            "2026-12-05 07:30:01 1tJxyz-000abc-Q1 ** user2@dest.example R=smarthost T=remote_smtp H=127.0.0.1 [127.0.0.1]: SMTP error from remote mail server after RCPT TO:<user2@dest.example>: 550 5.1.1 no such user",
        );
        assert_eq!(bounced.status, Status::Bounced);
        assert_eq!(bounced.reply.map(|r| r.code), Some(550));
        let expired = delivery(
            "2026-12-05 07:40:01 1tJxyz-000abc-Q1 ** user3@dest.example: retry timeout exceeded",
        );
        assert_eq!(expired.to, "user3@dest.example");
        assert_eq!(expired.status, Status::Expired);
    }

    #[test]
    fn a_bounce_notification_names_its_original() {
        let (id, event) = queued(
            "2026-12-05 07:30:02 1tJxzz-000abd-Q2 <= <> R=1tJxyz-000abc-Q1 U=Debian-exim P=local S=1500",
        );
        assert_eq!(id, "1tJxyz-000abc-Q1");
        assert_eq!(
            event,
            Event::Notice {
                notice: "1tJxzz-000abd-Q2"
            }
        );
    }

    #[test]
    fn other_lines_are_not_exim_lines() {
        for line in [
            "Dec  5 03:10:11 relay postfix/smtp[2311]: 3D5E0A1B2C4F: to=<a@b>",
            "2026-12-05T03:10:11.123456+01:00 relay postfix/qmgr[1201]: ABC: removed",
            "2026-13-05 07:30:01 1tJxyz-000abc-Q1 Completed",
            "2026-12-05 25:30:01 1tJxyz-000abc-Q1 Completed",
            "",
        ] {
            assert_eq!(parse_exim(line), None, "{line:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_text_after_a_stamp_is_read_without_panicking(text in "\\PC{0,80}") {
            let _ = parse_exim(&format!("2026-12-05 07:30:01 {text}"));
            let _ = parse_exim(&text);
        }
    }
}
