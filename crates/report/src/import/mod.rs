//! [`import`]: Postfix mail logs (and Exim's main log) read into the files a run writes, so
//! that a real day and a simulated day are read, plotted and compared with the same tools.
//!
//! The log is read line by line, in syslog form (`Dec  5 03:10:11 host postfix/smtp[2311]:
//! ...`) or Postfix's `maillog_file` form (an RFC 3339 timestamp first), from plain or
//! gzip-compressed files (recognised by their first bytes). Rotated files are read oldest
//! first: `mail.log.3.gz`, `mail.log.2.gz`, `mail.log.1`, `mail.log`, whatever the order they
//! are given in (files without a rotation number keep their order, after the numbered ones).
//! Lines of Exim's main log (`2026-12-05 07:30:01 1tJxyz-000abc-Q1 => ...`) are read as the
//! Postfix lines that say the same ([`parse_exim`] lists them): a log of either MTA, or both,
//! is imported alike. Lines of other programs are skipped; lines that cannot be read are counted, and the first
//! few quoted, in `import.json`, never fatal. A gzip stream that breaks off ends its file.
//!
//! # What each recipient row says
//!
//! A recipient is written to `messages.csv` when its fate is known: `status=sent` (outcome
//! `inbox`: a log cannot tell the spam folder), `status=bounced`, an expiry (`status=expired`
//! from qmgr or the delivery agent), or a `NOQUEUE: reject` before queueing
//! (`rejected_at_submission`, one message per line, counted in `run.messages`). Times are seconds since the log's first
//! timestamp (whole second); `submitted_s` is the message's first line, `latency_s`
//! Postfix's own `delay=` of the final line (so `final_s` is `submitted_s` plus it; an
//! expiry, which has no `delay=`, is at its line's time), `first_attempt_s` is arrival plus
//! the `a` and `b` of the first `delays=a/b/c/d`, `queue_wait_s` the sum of the `b`s,
//! `attempts` the delivery agent's lines for the recipient. `message_id` numbers messages by
//! first appearance; `sender` holds the envelope sender (a run writes the scenario's sender
//! name); `reasons` the text of the last status; `queue_wait_s` and `last_enhanced_code` are
//! as the log gives them. Two columns follow the run's: `queue_id` and `relay` (the host of
//! the last `relay=`). Bounce notifications that Postfix makes itself are counted as
//! `bounce_notices`, not as messages.
//!
//! `timeseries.csv` counts messages (a run counts deliveries, message × domain): `active` is
//! the open messages whose last word was not a deferral, `deferred` those waiting after one;
//! `connections` is not in the log and stays 0.
//!
//! # Memory and years
//!
//! Memory holds the open messages only: a message is dropped at its `removed` line. Those
//! never removed (still queued when the log ends, or whose `removed` line is missing) stay
//! until the end, at most [`ImportOptions::max_open`] of them: beyond that the oldest open
//! message is dropped and counted (`evicted_messages`). A message takes about 200 bytes plus
//! 150 per recipient, so the default bound of 1,000,000 is a few hundred megabytes at worst.
//!
//! Syslog timestamps carry no year. The year is [`ImportOptions::year`] if given, else the
//! year in which the first file was last modified, less one if its first line's month comes
//! after the month of that modification; each time the month goes back (December to
//! January) the year goes up by one.
//!
//! # Example
//!
//! ```
//! use smtpsim_report::import::{import, ImportOptions};
//!
//! let dir = std::env::temp_dir().join(format!("smtpsim-import-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let log = dir.join("mail.log");
//! std::fs::write(&log, "\
//! 2026-12-05T03:10:11.000000+00:00 mx postfix/smtpd[10]: 4F2A10C3B1: client=app[192.0.2.9]
//! 2026-12-05T03:10:11.200000+00:00 mx postfix/qmgr[11]: 4F2A10C3B1: from=<a@shop.example>, size=900, nrcpt=1 (queue active)
//! 2026-12-05T03:10:12.000000+00:00 mx postfix/smtp[12]: 4F2A10C3B1: to=<ann@example.com>, relay=mx.example.com[198.51.100.4]:25, delay=1.3, delays=0.2/0/0.5/0.6, dsn=2.0.0, status=sent (250 2.0.0 Ok)
//! 2026-12-05T03:10:12.000000+00:00 mx postfix/qmgr[11]: 4F2A10C3B1: removed
//! 2026-12-05T03:10:13.000000+00:00 mx dovecot: imap-login: Login
//! ")?;
//! let out = dir.join("out");
//! let result = import(&[log], &out, &ImportOptions::default())?;
//! assert_eq!(result.summary.outcomes.inbox, 1);
//! assert_eq!(result.counts.other_lines, 1);
//! assert!((result.summary.latency.p50_s.unwrap() - 1.3).abs() < 0.01);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod event;
mod exim;
pub(crate) mod input;
mod line;
mod queue;

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;
use smtpsim_des::{SimDuration, SimTime};
use smtpsim_model::sim::RunStats;

pub use event::{Delivery, Event, Malformed, ReplyCodes, Said, Status, parse};
pub use exim::parse_exim;
pub use line::{Line, Stamp, split};

use crate::{ReportError, RunWriter, Summary, WriterOptions};
use queue::Queue;

/// The file of import counts written beside the run's files.
pub const IMPORT_JSON: &str = "import.json";
/// The columns `messages.csv` has after [`MESSAGES_HEADER`](crate::MESSAGES_HEADER) in an import.
pub const IMPORT_COLUMNS: [&str; 2] = ["queue_id", "relay"];
/// How many malformed lines `import.json` quotes.
const EXAMPLES: usize = 10;

/// How to read a log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportOptions {
    /// The year of the first syslog timestamp (see the module's doc when `None`).
    pub year: Option<i32>,
    /// The interval of `timeseries.csv`.
    pub interval: SimDuration,
    /// The most open messages kept in memory (at least 1).
    pub max_open: usize,
    /// Leave out `messages.csv`.
    pub no_messages: bool,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            year: None,
            interval: SimDuration::from_secs(300),
            max_open: 1_000_000,
            no_messages: false,
        }
    }
}

/// What the import read and what it could not, written to `import.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportCounts {
    /// Files read.
    pub files: u64,
    /// Lines read.
    pub lines: u64,
    /// Lines of the MTA: Postfix's programs, or Exim's main log.
    pub postfix_lines: u64,
    /// Lines of other programs, skipped.
    pub other_lines: u64,
    /// Lines that could not be read (no timestamp, host and program; or a delivery line
    /// without `to=` or `status=`, often truncated).
    pub malformed_lines: u64,
    /// The first malformed lines, as `FILE:LINE: TEXT`.
    pub malformed_examples: Vec<String>,
    /// Files whose gzip stream or bytes broke off, as `FILE: ERROR`.
    pub broken_files: Vec<String>,
    /// The first timestamp, RFC 3339: time 0 of every time written.
    pub origin: String,
    /// Messages removed from the queue (bounce notifications not included).
    pub messages: u64,
    /// Recipients refused before queueing (`NOQUEUE: reject`).
    pub messages_rejected: u64,
    /// Recipient rows written.
    pub recipients: u64,
    /// Delivery agent lines about recipients (attempts).
    pub attempts: u64,
    /// Bounce notifications Postfix made.
    pub bounce_notices: u64,
    /// The most messages open at once.
    pub peak_open: u64,
    /// Messages still open when the log ended.
    pub open_at_end: u64,
    /// Their recipients without a fate (not written).
    pub unsettled_at_end: u64,
    /// Recipients whose message was removed before they had a fate (not written).
    pub removed_unsettled: u64,
    /// Open messages dropped to stay within [`ImportOptions::max_open`].
    pub evicted_messages: u64,
    /// Their recipients without a fate (not written).
    pub evicted_recipients: u64,
}

/// The result of [`import`].
#[derive(Debug, Clone)]
pub struct Imported {
    /// The summary, as written to `summary.json`.
    pub summary: Summary,
    /// What was read.
    pub counts: ImportCounts,
}

/// Why a log could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// A log file could not be opened or read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The output could not be written.
    #[error(transparent)]
    Write(#[from] ReportError),
}

/// Reads the Postfix logs `files` and writes into `dir` what a run writes there
/// (`messages.csv`, `events.csv` with its header only, `timeseries.csv`, `summary.csv`,
/// `summary.json`) and `import.json` ([`ImportCounts`]).
pub fn import(
    files: &[PathBuf],
    dir: &Path,
    options: &ImportOptions,
) -> Result<Imported, ImportError> {
    let started = Instant::now();
    let write_error = |source| ReportError::Io {
        path: dir.to_owned(),
        source,
    };
    let writer_options = WriterOptions {
        trace: false,
        no_messages: options.no_messages,
    };
    let writer = RunWriter::create_with_columns(dir, writer_options, &IMPORT_COLUMNS)
        .map_err(write_error)?;
    let mut reader = Reader {
        queue: Queue::new(writer, options.max_open, options.interval),
        clock: Clock::new(options.year),
        end: 0,
    };
    for path in input::in_order(files) {
        reader.file(path)?;
    }
    let (writer, mut counts) = reader.queue.finish(reader.end);
    counts.origin = reader.clock.origin_text();
    let run = RunStats {
        messages: counts.messages
            + counts.open_at_end
            + counts.evicted_messages
            + counts.messages_rejected,
        recipients: counts.recipients,
        attempts: counts.attempts,
        bounce_notices: counts.bounce_notices,
        peak_queue_depth: counts.peak_open,
        events: counts.lines,
        end: SimTime::from_micros(reader.end),
        ..RunStats::default()
    };
    let summary = writer.finish(&run, started.elapsed())?;
    let json = serde_json::to_string_pretty(&counts).map_err(ReportError::Json)? + "\n";
    crate::write_files(dir, &[(IMPORT_JSON, json.as_bytes())])?;
    Ok(Imported { summary, counts })
}

/// Turns timestamps into microseconds since the first one.
#[derive(Debug)]
pub(crate) struct Clock {
    year: Option<i32>,
    last_month: u8,
    /// The first timestamp, whole second, in microseconds since the Unix epoch.
    origin: Option<i64>,
}

impl Clock {
    pub(crate) fn new(year: Option<i32>) -> Clock {
        Clock {
            year,
            last_month: 0,
            origin: None,
        }
    }

    /// Sets the year from the first file's modification time, unless it is known.
    pub(crate) fn guess_year(
        &mut self,
        modified: Option<std::time::SystemTime>,
        first: Option<Stamp>,
    ) {
        if self.year.is_some() {
            return;
        }
        let at = modified.map_or(time::OffsetDateTime::UNIX_EPOCH, time::OffsetDateTime::from);
        let mut year = at.year();
        if let Some(Stamp::Syslog { month, .. }) = first
            && month > u8::from(at.month())
        {
            year -= 1;
        }
        self.year = Some(year);
    }

    /// Microseconds since the origin (the first stamp sets it); `None` for an impossible
    /// date.
    pub(crate) fn micros(&mut self, stamp: Stamp) -> Option<u64> {
        let absolute = match stamp {
            Stamp::Absolute(micros) => micros,
            Stamp::Syslog {
                month,
                day,
                second_of_day,
            } => {
                let year = self.year.get_or_insert(1970);
                if month < self.last_month {
                    *year += 1;
                }
                self.last_month = month;
                let month = time::Month::try_from(month).ok()?;
                let date = time::Date::from_calendar_date(*year, month, day).ok()?;
                let midnight = date.midnight().assume_utc().unix_timestamp();
                (midnight + i64::from(second_of_day)) * 1_000_000
            }
        };
        let origin = *self
            .origin
            .get_or_insert(absolute.div_euclid(1_000_000) * 1_000_000);
        Some(u64::try_from(absolute - origin).unwrap_or(0))
    }

    /// The first timestamp, whole second, in microseconds since the Unix epoch.
    pub(crate) fn origin(&self) -> Option<i64> {
        self.origin
    }

    fn origin_text(&self) -> String {
        let Some(origin) = self.origin else {
            return String::new();
        };
        time::OffsetDateTime::from_unix_timestamp(origin / 1_000_000)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default()
    }
}

/// The import in progress.
struct Reader {
    queue: Queue,
    clock: Clock,
    /// The latest time seen, in microseconds since the origin.
    end: u64,
}

impl Reader {
    fn file(&mut self, path: &Path) -> Result<(), ImportError> {
        let read_error = |source| ImportError::Read {
            path: path.to_owned(),
            source,
        };
        let mut lines = input::Lines::open(path).map_err(read_error)?;
        self.queue.counts.files += 1;
        if self.clock.year.is_none() {
            let first = input::first_stamp(path).map_err(read_error)?;
            self.clock.guess_year(input::modified(path), first);
        }
        let mut number = 0u64;
        loop {
            match lines.next_line() {
                Ok(Some(text)) => {
                    number += 1;
                    let text = String::from_utf8_lossy(text);
                    self.line(&text, path, number);
                }
                Ok(None) => break,
                Err(e) => {
                    let broken = format!("{}: {e}", path.display());
                    self.queue.counts.broken_files.push(broken);
                    break;
                }
            }
        }
        Ok(())
    }

    fn malformed(&mut self, path: &Path, number: u64, text: &str) {
        let counts = &mut self.queue.counts;
        counts.malformed_lines += 1;
        if counts.malformed_examples.len() < EXAMPLES {
            let text: String = text.chars().take(200).collect();
            let example = format!("{}:{number}: {text}", path.display());
            counts.malformed_examples.push(example);
        }
    }

    fn line(&mut self, text: &str, path: &Path, number: u64) {
        self.queue.counts.lines += 1;
        if let Some((stamp, said)) = parse_exim(text) {
            self.queue.counts.postfix_lines += 1;
            let Some(now) = self.clock.micros(stamp) else {
                return self.malformed(path, number, text);
            };
            return self.said(now, said);
        }
        let Some(line) = split(text) else {
            return self.malformed(path, number, text);
        };
        if line.postfix_daemon().is_none() {
            self.queue.counts.other_lines += 1;
            return;
        }
        self.queue.counts.postfix_lines += 1;
        let (said, now) = match (parse(line.text), self.clock.micros(line.stamp)) {
            (Ok(said), Some(now)) => (said, now),
            _ => return self.malformed(path, number, text),
        };
        self.said(now, said);
    }

    fn said(&mut self, now: u64, said: Said<'_>) {
        self.end = self.end.max(now);
        self.queue.advance(now);
        match said {
            Said::Queued { queue_id, event } => self.queue.event(now, queue_id, event),
            Said::Rejected { to, from, reply } => self.queue.rejected(now, to, from, reply),
            Said::Chatter => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_year_goes_up_when_the_month_goes_back() {
        let mut clock = Clock::new(Some(2025));
        let stamp = |month, day| Stamp::Syslog {
            month,
            day,
            second_of_day: 0,
        };
        assert_eq!(clock.micros(stamp(12, 31)), Some(0));
        assert_eq!(clock.micros(stamp(1, 1)), Some(86_400_000_000));
        // 2026 is not a leap year: 29 February does not exist.
        assert_eq!(clock.micros(stamp(2, 29)), None);
        assert_eq!(clock.origin_text(), "2025-12-31T00:00:00Z");
    }

    #[test]
    fn the_year_is_guessed_from_the_modification_time() {
        let modified = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_767_225_600); // 2026-01-01
        let mut clock = Clock::new(None);
        let december = Stamp::Syslog {
            month: 12,
            day: 30,
            second_of_day: 0,
        };
        clock.guess_year(Some(modified), Some(december));
        assert_eq!(clock.year, Some(2025));
        let mut clock = Clock::new(None);
        clock.guess_year(Some(modified), Some(Stamp::Absolute(0)));
        assert_eq!(clock.year, Some(2026));
    }
}
