//! One mail log line: its timestamp, its program and what Postfix said, without allocating.
//!
//! Two timestamp forms are read: the traditional syslog one without a year
//! (`Dec  5 03:10:11`) and RFC 3339 (`2026-12-05T03:10:11.123456+00:00`, Postfix's
//! `maillog_file` and rsyslog's high-precision format). After the timestamp come the host and
//! the program with its pid (`postfix/smtp[2311]:`, or `postfix-out/smtp[2311]:` for a second
//! instance); the rest is the text.

use time::OffsetDateTime;

/// When a line was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stamp {
    /// Syslog's form: no year, whole seconds.
    Syslog {
        /// 1..=12.
        month: u8,
        /// 1..=31.
        day: u8,
        /// Seconds since midnight.
        second_of_day: u32,
    },
    /// A complete date and time, in microseconds since the Unix epoch.
    Absolute(i64),
}

/// A line split into its parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line<'a> {
    /// When.
    pub stamp: Stamp,
    /// The program without its pid, such as `postfix/smtp` or `dovecot`.
    pub program: &'a str,
    /// What follows `program[pid]: `.
    pub text: &'a str,
}

impl<'a> Line<'a> {
    /// The Postfix daemon (`smtp`, `qmgr`...) when the program is Postfix's, else `None`.
    pub fn postfix_daemon(&self) -> Option<&'a str> {
        let (name, daemon) = self.program.split_once('/')?;
        name.starts_with("postfix").then_some(daemon)
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Splits a line; `None` when it does not have the shape of a syslog or `maillog_file` line
/// (a malformed or truncated line).
pub fn split(line: &str) -> Option<Line<'_>> {
    let (stamp, rest) = stamp(line)?;
    let rest = rest.strip_prefix(' ')?;
    let (_host, rest) = rest.split_once(' ')?;
    let (program_pid, text) = rest.split_once(": ")?;
    let program = match program_pid.split_once('[') {
        Some((program, pid)) => {
            let pid = pid.strip_suffix(']')?;
            if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            program
        }
        None => program_pid,
    };
    if program.is_empty() || program.contains(' ') {
        return None;
    }
    Some(Line {
        stamp,
        program,
        text,
    })
}

fn digits(bytes: &[u8]) -> Option<u32> {
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    bytes.iter().try_fold(0u32, |n, &b| {
        n.checked_mul(10)?.checked_add(u32::from(b - b'0'))
    })
}

/// `HH:MM:SS` as seconds since midnight.
fn clock(bytes: &[u8]) -> Option<u32> {
    if bytes.len() != 8 || bytes[2] != b':' || bytes[5] != b':' {
        return None;
    }
    let (h, m, s) = (
        digits(&bytes[0..2])?,
        digits(&bytes[3..5])?,
        digits(&bytes[6..8])?,
    );
    (h < 24 && m < 60 && s < 61).then_some(h * 3600 + m * 60 + s)
}

fn stamp(line: &str) -> Option<(Stamp, &str)> {
    let bytes = line.as_bytes();
    if bytes.first()?.is_ascii_digit() {
        let end = line.find(' ')?;
        let at =
            OffsetDateTime::parse(&line[..end], &time::format_description::well_known::Rfc3339)
                .ok()?;
        let micros = at.unix_timestamp_nanos() / 1_000;
        return Some((Stamp::Absolute(i64::try_from(micros).ok()?), &line[end..]));
    }
    // `Mmm dd HH:MM:SS`: 15 bytes.
    let head = bytes.get(..15)?;
    let month = MONTHS.iter().position(|m| m.as_bytes() == &head[..3])? as u8 + 1;
    if head[3] != b' ' || head[6] != b' ' {
        return None;
    }
    let day = match head[4] {
        b' ' => digits(&head[5..6])?,
        _ => digits(&head[4..6])?,
    };
    if !(1..=31).contains(&day) {
        return None;
    }
    let second_of_day = clock(&head[7..15])?;
    Some((
        Stamp::Syslog {
            month,
            day: day as u8,
            second_of_day,
        },
        &line[15..],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syslog_lines_split() {
        let line =
            split("Dec  5 03:10:11 relay postfix/smtp[2311]: 3D5E0A1B2C4F: to=<a@b>").unwrap();
        assert_eq!(
            line.stamp,
            Stamp::Syslog {
                month: 12,
                day: 5,
                second_of_day: 3 * 3600 + 10 * 60 + 11
            }
        );
        assert_eq!(line.program, "postfix/smtp");
        assert_eq!(line.postfix_daemon(), Some("smtp"));
        assert_eq!(line.text, "3D5E0A1B2C4F: to=<a@b>");
        let other = split("Jan 16 23:59:59 relay dovecot: imap-login: Login").unwrap();
        assert_eq!(other.postfix_daemon(), None);
        let instance = split("Jan 16 23:59:59 relay postfix-out/qmgr[7]: X: removed").unwrap();
        assert_eq!(instance.postfix_daemon(), Some("qmgr"));
    }

    #[test]
    fn rfc3339_lines_split() {
        let line = split("2026-12-05T03:10:11.123456+01:00 relay postfix/qmgr[1201]: ABC: removed")
            .unwrap();
        let expected = OffsetDateTime::parse(
            "2026-12-05T02:10:11.123456Z",
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        assert_eq!(
            line.stamp,
            Stamp::Absolute((expected.unix_timestamp_nanos() / 1000) as i64)
        );
        assert_eq!(line.text, "ABC: removed");
    }

    #[test]
    fn malformed_lines_are_refused() {
        for bad in [
            "",
            "Dec  5 03:10",
            "Dec  5 03:10:11",
            "Dec  5 03:10:11 relay",
            "Dec 32 03:10:11 relay postfix/smtp[1]: x",
            "Dex  5 03:10:11 relay postfix/smtp[1]: x",
            "Dec  5 25:10:11 relay postfix/smtp[1]: x",
            "Dec  5 03:10:11 relay postfix/smtp[1x]: x",
            "2026-13-05T03:10:11Z relay postfix/smtp[1]: x",
            "2026-12-05 relay postfix/smtp[1]: x",
        ] {
            assert_eq!(split(bad), None, "{bad:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_text_splits_or_is_refused_without_panicking(text in "\\PC{0,80}") {
            let _ = split(&text);
        }

        #[test]
        fn any_syslog_time_splits(month in 0usize..12, day in 1u8..=31, s in 0u32..86_400, text in "[ -~]{0,40}") {
            let line = format!(
                "{} {day:>2} {:02}:{:02}:{:02} host postfix/smtp[12]: {text}",
                MONTHS[month], s / 3600, s / 60 % 60, s % 60
            );
            let split = split(&line).unwrap();
            proptest::prop_assert_eq!(split.stamp, Stamp::Syslog { month: month as u8 + 1, day, second_of_day: s });
            proptest::prop_assert_eq!(split.text, text.as_str());
        }
    }
}
