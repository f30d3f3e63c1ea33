//! [`MailLog`]: a run written as the mail log of a Postfix relay, for the tools that read
//! those (pflogsumm, and the scripts every postmaster has).
//!
//! For each message the relay accepts:
//!
//! ```text
//! Jan  6 00:00:01 relay postfix/smtpd[1042]: 3D5E0A1B2C4F: client=localhost[127.0.0.1], sasl_method=PLAIN, sasl_username=newsletter
//! Jan  6 00:00:01 relay postfix/cleanup[1187]: 3D5E0A1B2C4F: message-id=<17@app.example>
//! Jan  6 00:00:01 relay postfix/qmgr[1201]: 3D5E0A1B2C4F: from=<news@app.example>, size=4096, nrcpt=2 (queue active)
//! Jan  6 00:00:02 relay postfix/smtp[2311]: 3D5E0A1B2C4F: to=<user1@example.com>, relay=mx.example.com[203.0.113.5]:25, delay=0.92, delays=0.01/0/0.41/0.5, dsn=2.0.0, status=sent (250 2.0.0 Ok)
//! Jan  6 00:00:02 relay postfix/qmgr[1201]: 3D5E0A1B2C4F: removed
//! ```
//!
//! then a line per recipient and attempt (`status=sent`, `status=deferred`, `status=bounced`;
//! `relay=none` when DNS failed or no MX host answered), a `status=expired, returned to
//! sender` line from qmgr when a message expires, the bounce daemon's `sender non-delivery
//! notification` for a message that bounced or expired, and `removed` when every recipient is
//! settled. A message whose submission the relay refused leaves smtpd's SASL warning and a
//! `NOQUEUE: reject: AUTH` per recipient carrying the relay's reply (such as `535 5.7.8`).
//!
//! Timestamps are the scenario's `start` plus the simulated time, to the second, in the
//! traditional syslog form. `delay` is submission to the end of the attempt; `delays=a/b/c/d`
//! splits it into time before the last attempt less its wait for a connection (a), the wait
//! for a connection (b), connection setup (c, counted in d: 0) and the attempt itself (d).
//!
//! Two things are modelled rather than taken from the run, so that the lines read as Postfix's:
//! the process ids (no processes exist: smtpd's and smtp's are made up from the message and
//! attempt numbers, the other daemons' are constants), and `delays=`'s third field, always 0.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use smtpsim_des::SimTime;
use smtpsim_model::scenario::StartTime;
use smtpsim_model::sim::{
    DeliveryStatus, Fate, RecipientRecord, Recorder, StatusRecord, SubmissionRecord,
};
use smtpsim_proto::Reply;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;

use crate::ReportError;
use crate::staged::{self, Staged};

const SYSLOG_TIME: &[BorrowedFormatItem<'static>] =
    format_description!("[month repr:short] [day padding:space] [hour]:[minute]:[second]");

const QMGR_PID: u32 = 1201;
const CLEANUP_PID: u32 = 1187;
const BOUNCE_PID: u32 = 1230;

/// A Postfix queue ID for message `id`: 12 upper-case hex digits, distinct for distinct ids
/// below 2^48 (a bijection of the low 48 bits).
pub fn queue_id(id: u64) -> String {
    const MASK: u64 = (1 << 48) - 1;
    let mut x = (id ^ 0x2B5E_9C41_7D3A) & MASK;
    x = x.wrapping_mul(0x5_DEEC_E66D) & MASK;
    x ^= x >> 21;
    x = x.wrapping_mul(0x9E37_79B9_7F4B) & MASK;
    x ^= x >> 17;
    format!("{x:012X}")
}

/// What the log needs to remember of a message until it is removed.
struct Message {
    from: String,
    /// Recipients not yet settled.
    remaining: u64,
    /// A non-delivery notification was logged.
    notified: bool,
    /// The expiry was logged.
    expired: bool,
    /// The relay accepted it (it has a queue ID).
    queued: bool,
}

/// Streams a run into a Postfix-style mail log; a [`Recorder`] (it uses submissions, status
/// records and recipient records).
///
/// The file is written under a temporary name and renamed by [`MailLog::finish`]; dropped
/// without it, the temporary file is removed. Memory holds only the messages in the queue.
pub struct MailLog {
    out: BufWriter<File>,
    staged: Staged,
    path: PathBuf,
    start: i64,
    host: String,
    messages: HashMap<u64, Message>,
    /// The last second formatted, and its text.
    stamp: (i64, String),
    line: String,
    error: Option<io::Error>,
}

impl std::fmt::Debug for MailLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailLog").field("path", &self.path).finish()
    }
}

impl MailLog {
    /// Opens `path` (under a temporary name) for a run that starts at `start`, logged by the
    /// host `host` (the relay's name).
    pub fn create(path: &Path, start: StartTime, host: &str) -> io::Result<MailLog> {
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let name = path
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?
            .to_string_lossy()
            .into_owned();
        std::fs::create_dir_all(dir)?;
        staged::remove_stale(dir)?;
        let (staged, file) = Staged::create(dir, &name)?;
        Ok(MailLog {
            out: BufWriter::with_capacity(1 << 16, file),
            staged,
            path: path.to_owned(),
            start: start.unix_seconds(),
            host: host.split('.').next().unwrap_or(host).to_owned(),
            messages: HashMap::new(),
            stamp: (i64::MIN, String::new()),
            line: String::new(),
            error: None,
        })
    }

    /// Completes the file and renames it into place.
    pub fn finish(self) -> Result<(), ReportError> {
        let io_error = |source| ReportError::Io {
            path: self.path.clone(),
            source,
        };
        if let Some(e) = self.error {
            return Err(io_error(e));
        }
        let file = self
            .out
            .into_inner()
            .map_err(|e| io_error(e.into_error()))?;
        staged::close(file).map_err(io_error)?;
        self.staged.commit().map_err(io_error)
    }

    /// Starts a line: timestamp, host, process and pid.
    fn begin(&mut self, time: SimTime, process: &str, pid: u32) {
        let second = self.start + (time.as_micros() / 1_000_000) as i64;
        if self.stamp.0 != second {
            let at = time::OffsetDateTime::from_unix_timestamp(second)
                .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
            self.stamp = (
                second,
                at.format(SYSLOG_TIME)
                    .unwrap_or_else(|_| "Jan  1 00:00:00".into()),
            );
        }
        self.line.clear();
        let _ = write!(
            self.line,
            "{} {} postfix/{process}[{pid}]: ",
            self.stamp.1, self.host
        );
    }

    /// Ends the line and writes it.
    fn end(&mut self) {
        self.line.push('\n');
        if self.error.is_none()
            && let Err(e) = self.out.write_all(self.line.as_bytes())
        {
            self.error = Some(e);
        }
    }

    fn notify_sender(&mut self, time: SimTime, id: u64) {
        let Some(m) = self.messages.get_mut(&id) else {
            return;
        };
        if std::mem::replace(&mut m.notified, true) {
            return;
        }
        // The notification is a new message of its own, with its own queue ID.
        let notification = queue_id(id ^ (1 << 47));
        self.begin(time, "bounce", BOUNCE_PID);
        let _ = write!(
            self.line,
            "{}: sender non-delivery notification: {notification}",
            queue_id(id)
        );
        self.end();
    }
}

/// Seconds as Postfix prints delays: two decimals under 10 s, trailing zeros dropped; whole
/// seconds above.
fn delay(micros: u64) -> String {
    let secs = micros as f64 / 1e6;
    if secs >= 10.0 {
        return format!("{secs:.0}");
    }
    let text = format!("{secs:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    text.to_string()
}

/// The reply as Postfix quotes it: `550 5.1.1 text`, on one line.
fn reply_text(reply: &Reply) -> String {
    let mut text = reply.code.to_string();
    if let Some(enhanced) = reply.enhanced {
        let _ = write!(text, " {enhanced}");
    }
    text.push(' ');
    text.push_str(&reply.text.replace(['\r', '\n'], " "));
    // pflogsumm reads a deferral's reason up to the first ')'.
    text.replace(')', "]").replace('(', "[")
}

/// The DSN code: the reply's enhanced code, or the class of its code.
fn dsn(status: DeliveryStatus, reply: Option<&Reply>) -> String {
    match reply {
        Some(Reply {
            enhanced: Some(e), ..
        }) => e.to_string(),
        Some(r) => format!("{}.0.0", r.code.get() / 100),
        None => match status {
            DeliveryStatus::Sent => "2.0.0".into(),
            DeliveryStatus::Deferred => "4.4.1".into(),
            DeliveryStatus::Bounced => "5.0.0".into(),
        },
    }
}

impl Recorder for MailLog {
    fn wants_attempts(&self) -> bool {
        true
    }

    fn recipient(&mut self, record: &RecipientRecord<'_>) {
        let id = record.message_id;
        let time = record.finished;
        match record.fate {
            Fate::RejectedAtSubmission => {
                let from = self.messages.get(&id).map(|m| m.from.clone());
                // The reply the relay gave the application (535 5.7.8 for bad credentials).
                let reply = match record.last_reply {
                    Some(reply) => reply_text(reply),
                    None => record.reasons.replace(')', "]").replace('(', "["),
                };
                self.begin(time, "smtpd", 1042 + (id % 40) as u32);
                let _ = write!(
                    self.line,
                    "NOQUEUE: reject: AUTH from localhost[127.0.0.1]: {reply}; from=<{from}> to=<{to}> proto=ESMTP helo=<localhost>",
                    to = record.recipient,
                    from = from.as_deref().unwrap_or(""),
                );
                self.end();
            }
            Fate::Expired => {
                let first = self
                    .messages
                    .get_mut(&id)
                    .is_some_and(|m| !std::mem::replace(&mut m.expired, true));
                if first {
                    let from = self.messages[&id].from.clone();
                    self.begin(time, "qmgr", QMGR_PID);
                    let _ = write!(
                        self.line,
                        "{}: from=<{from}>, status=expired, returned to sender",
                        queue_id(id)
                    );
                    self.end();
                }
                self.notify_sender(time, id);
            }
            Fate::Bounced => self.notify_sender(time, id),
            Fate::Inbox | Fate::Spam => {}
        }
        let done = match self.messages.get_mut(&id) {
            Some(m) => {
                m.remaining = m.remaining.saturating_sub(1);
                m.remaining == 0
            }
            None => false,
        };
        if done && self.messages.remove(&id).is_some_and(|m| m.queued) {
            self.begin(time, "qmgr", QMGR_PID);
            let _ = write!(self.line, "{}: removed", queue_id(id));
            self.end();
        }
    }

    fn submission(&mut self, record: &SubmissionRecord<'_>) {
        let id = record.message_id;
        // Modelled: a made-up process id per message (no process exists).
        let pid = 1042 + (id % 40) as u32;
        self.messages.insert(
            id,
            Message {
                from: record.from.to_owned(),
                remaining: record.recipients,
                notified: false,
                expired: false,
                queued: record.accepted,
            },
        );
        if !record.accepted {
            self.begin(record.time, "smtpd", pid);
            self.line.push_str(
                "warning: localhost[127.0.0.1]: SASL PLAIN authentication failed: authentication failure",
            );
            self.end();
            return;
        }
        let qid = queue_id(id);
        self.begin(record.time, "smtpd", pid);
        let _ = write!(
            self.line,
            "{qid}: client=localhost[127.0.0.1], sasl_method=PLAIN, sasl_username={}",
            record.sender
        );
        self.end();
        let domain = record.from.rsplit_once('@').map_or("localhost", |(_, d)| d);
        self.begin(record.time, "cleanup", CLEANUP_PID);
        let _ = write!(self.line, "{qid}: message-id=<{id}@{domain}>");
        self.end();
        self.begin(record.time, "qmgr", QMGR_PID);
        let _ = write!(
            self.line,
            "{qid}: from=<{}>, size={}, nrcpt={} (queue active)",
            record.from, record.size, record.recipients
        );
        self.end();
    }

    fn status(&mut self, r: &StatusRecord<'_>) {
        let total = (r.time - r.submitted).as_micros();
        let (attempt, wait) = match r.attempt_started {
            Some(started) => (
                (r.time - started).as_micros(),
                r.queue_wait
                    .as_micros()
                    .min((started - r.submitted).as_micros()),
            ),
            None => (0, 0),
        };
        let before = total.saturating_sub(attempt + wait);
        // Modelled: a made-up process id, stable for a message's attempt (no process exists).
        let pid = 2000 + ((r.message_id * 7 + u64::from(r.attempt)) % 3000) as u32;
        self.begin(r.time, "smtp", pid);
        let _ = write!(
            self.line,
            "{}: to=<{}>, relay=",
            queue_id(r.message_id),
            r.recipient
        );
        match r.relay {
            Some((host, ip)) => {
                let _ = write!(self.line, "{host}[{ip}]:25");
            }
            None => self.line.push_str("none"),
        }
        let _ = write!(
            self.line,
            // The third field, connection setup, is modelled as 0 (the setup is counted in d).
            ", delay={}, delays={}/{}/0/{}, dsn={}, status={} (",
            delay(total),
            delay(before),
            delay(wait),
            delay(attempt),
            dsn(r.status, r.reply),
            r.status.name()
        );
        match (r.relay, r.reply) {
            (Some((host, ip)), Some(reply)) if r.status != DeliveryStatus::Sent => {
                let _ = write!(self.line, "host {host}[{ip}] said: {}", reply_text(reply));
            }
            (_, Some(reply)) => self.line.push_str(&reply_text(reply)),
            (_, None) if !r.reasons.is_empty() => {
                self.line
                    .push_str(&r.reasons.replace(')', "]").replace('(', "["));
            }
            (_, None) => self.line.push_str(r.status.name()),
        }
        self.line.push(')');
        self.end();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_ids_are_distinct_and_postfix_shaped() {
        let mut seen = std::collections::HashSet::new();
        for id in (0..200_000).chain([(1 << 47) ^ 5, (1 << 47) ^ 6]) {
            let q = queue_id(id);
            assert_eq!(q.len(), 12);
            assert!(
                q.chars()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())
            );
            assert!(seen.insert(q), "{id}");
        }
    }

    #[test]
    fn delays_print_like_postfix() {
        assert_eq!(delay(0), "0");
        assert_eq!(delay(330_000), "0.33");
        assert_eq!(delay(1_200_000), "1.2");
        assert_eq!(delay(3_603_400_000), "3603");
    }
}
