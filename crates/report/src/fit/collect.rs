//! One streaming pass over a Postfix log: each message's attempts, folded into counts as soon
//! as the message leaves the queue, so memory holds the open messages and bounded samples.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::{Path, PathBuf};

use crate::import::input::{self, Lines};
use crate::import::{Clock, Delivery, Event, Said, Status, parse, split};

const SECOND: u64 = 1_000_000;
/// The most samples kept of each sampled quantity (the first ones, in log order).
pub(crate) const MAX_SAMPLES: usize = 1_000_000;
/// The most distinct seconds with retries remembered (a day has 86,400).
const MAX_RETRY_SECONDS: usize = 1_000_000;

/// One delivery attempt of one recipient.
#[derive(Debug, Clone)]
struct Attempt {
    /// Seconds after the message's arrival at which the attempt ended (`delay=`).
    after: f64,
    /// The line's own second (since the log's origin).
    second: u64,
    status: Status,
    /// `451 4.7.1` (the remote reply) or the `dsn=`, as text.
    code: String,
    /// `delays=` c + d: connection setup and transmission, in seconds.
    work: Option<f64>,
}

#[derive(Debug, Default)]
struct Open {
    arrived: u64,
    sender: String,
    notice: bool,
    recipients: Vec<(String, Vec<Attempt>)>,
    expired_at: Option<u64>,
}

/// What one recipient domain's lines said.
#[derive(Debug, Default, Clone)]
pub(crate) struct DomainCounts {
    pub recipients: u64,
    pub delivered: u64,
    pub bounced: u64,
    pub expired: u64,
    /// Bounced with `5.1.1` (bad destination mailbox address).
    pub unknown_users: u64,
    pub first_attempts: u64,
    /// Reply codes of deferrals of first attempts.
    pub first_deferred: BTreeMap<String, u64>,
    /// Later attempts, by seconds since the recipient's first attempt (rounded) and by the code
    /// of a deferral (`None`: not deferred).
    pub later: BTreeMap<(u64, Option<String>), u64>,
    /// Every deferral's code.
    pub deferral_codes: BTreeMap<String, u64>,
    /// Every bounce's code.
    pub bounce_codes: BTreeMap<String, u64>,
}

/// Everything the pass keeps.
#[derive(Debug, Default)]
pub(crate) struct Collected {
    pub lines: u64,
    pub malformed: u64,
    /// The log's first timestamp, microseconds since the Unix epoch.
    pub origin: Option<i64>,
    /// Arrivals by hour of the clock, counted from the origin's hour: count, first and last
    /// arrival (microseconds since the origin).
    pub hours: BTreeMap<u64, (u64, u64, u64)>,
    pub messages: u64,
    pub notices: u64,
    pub senders: BTreeMap<String, u64>,
    pub domains: BTreeMap<String, DomainCounts>,
    /// Each delivered recipient's attempts.
    pub delivered_attempts: BTreeMap<u64, u64>,
    /// Delivered recipients' latencies (seconds), the first [`MAX_SAMPLES`].
    pub latencies: Vec<f64>,
    /// (age at the failure, gap to the next attempt), seconds, the first [`MAX_SAMPLES`].
    pub retry_pairs: Vec<(f64, f64)>,
    /// Retries by the second of their line since the origin.
    pub retry_seconds: BTreeMap<u64, u64>,
    /// c + d of each attempt (seconds), the first [`MAX_SAMPLES`].
    pub attempt_work: Vec<f64>,
    /// Age (seconds) at which each expired message expired.
    pub expiry_ages: Vec<f64>,
    /// Messages still open at the end or dropped to stay within the bound.
    pub unsettled: u64,
}

/// Reads `files` (rotated ones oldest first) keeping at most `max_open` open messages.
pub(crate) fn collect(
    files: &[PathBuf],
    year: Option<i32>,
    max_open: usize,
) -> std::io::Result<Collected> {
    let mut pass = Pass {
        clock: Clock::new(year),
        open: HashMap::new(),
        order: VecDeque::new(),
        max_open: max_open.max(1),
        out: Collected::default(),
    };
    for path in input::in_order(files) {
        pass.file(path)
            .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    }
    let left: Vec<String> = pass.order.drain(..).collect();
    for id in left {
        if let Some(message) = pass.open.remove(&id) {
            pass.out.unsettled += u64::from(!message.notice);
            pass.fold(message);
        }
    }
    pass.out.origin = pass.clock.origin();
    Ok(pass.out)
}

struct Pass {
    clock: Clock,
    open: HashMap<String, Open>,
    order: VecDeque<String>,
    max_open: usize,
    out: Collected,
}

impl Pass {
    fn file(&mut self, path: &Path) -> std::io::Result<()> {
        let mut lines = Lines::open(path)?;
        let first = input::first_stamp(path)?;
        self.clock.guess_year(input::modified(path), first);
        // A broken gzip stream ends its file, as in the import.
        while let Ok(Some(text)) = lines.next_line() {
            let text = String::from_utf8_lossy(text).into_owned();
            self.line(&text);
        }
        Ok(())
    }

    fn line(&mut self, text: &str) {
        self.out.lines += 1;
        let Some(line) = split(text) else {
            self.out.malformed += 1;
            return;
        };
        if line.postfix_daemon().is_none() {
            return;
        }
        let (Ok(said), Some(now)) = (parse(line.text), self.clock.micros(line.stamp)) else {
            self.out.malformed += 1;
            return;
        };
        let Said::Queued { queue_id, event } = said else {
            return;
        };
        if let Event::Notice { notice } = event {
            // The bounce daemon's line names the notification's own queue ID: that message
            // is a notice, whether or not its own lines follow (they do in Postfix's log, not
            // in the one `run --maillog` writes), as the import counts it.
            self.open_message(notice, now).notice = true;
            return;
        }
        if matches!(event, Event::Removed) {
            if let Some(message) = self.open.remove(queue_id) {
                self.fold(message);
            }
            return;
        }
        let message = self.open_message(queue_id, now);
        match event {
            Event::Active { from } => {
                message.sender = from.to_owned();
                message.notice |= from.is_empty();
            }
            Event::Delivery(d) => record(message, &d, now),
            Event::Expired => message.expired_at = Some(now),
            Event::Arrived | Event::Removed | Event::Notice { .. } | Event::Other => {}
        }
    }

    /// The open message `queue_id`, opened at `now` if it is new.
    fn open_message(&mut self, queue_id: &str, now: u64) -> &mut Open {
        if !self.open.contains_key(queue_id) {
            self.open.insert(
                queue_id.to_owned(),
                Open {
                    arrived: now,
                    ..Open::default()
                },
            );
            self.order.push_back(queue_id.to_owned());
            self.bound();
        }
        self.open
            .entry(queue_id.to_owned())
            .or_insert_with(|| Open {
                arrived: now,
                ..Open::default()
            })
    }

    /// Keeps at most `max_open` messages open (dropping the oldest) and the arrival order
    /// within twice the open messages (removed ones leave it lazily).
    fn bound(&mut self) {
        while self.open.len() > self.max_open {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            if let Some(message) = self.open.remove(&oldest) {
                // A notice whose own lines are not in the log is not a message left unsettled.
                self.out.unsettled += u64::from(!message.notice);
                self.fold(message);
            }
        }
        if self.order.len() > 2 * self.open.len() + 1024 {
            let open = &self.open;
            self.order.retain(|id| open.contains_key(id));
        }
    }

    /// Adds a message that left the queue (or the log) to the counts.
    fn fold(&mut self, message: Open) {
        // Hours of the clock: the origin's minutes and seconds come first.
        let skew = self
            .clock
            .origin()
            .map_or(0, |o| o.rem_euclid(3600 * SECOND as i64) as u64);
        let out = &mut self.out;
        if message.notice {
            out.notices += 1;
            return;
        }
        out.messages += 1;
        let hour = out
            .hours
            .entry((message.arrived + skew) / (3600 * SECOND))
            .or_insert((0, u64::MAX, 0));
        hour.0 += 1;
        hour.1 = hour.1.min(message.arrived);
        hour.2 = hour.2.max(message.arrived);
        *out.senders.entry(message.sender).or_default() += 1;
        if let Some(at) = message.expired_at {
            out.expiry_ages
                .push(at.saturating_sub(message.arrived) as f64 / SECOND as f64);
        }
        for (to, attempts) in message.recipients {
            out.recipient(&to, &attempts, message.expired_at.is_some());
        }
    }
}

/// Adds a delivery line to its recipient's attempts.
fn record(message: &mut Open, d: &Delivery<'_>, now: u64) {
    let after = d.delay.map_or(
        now.saturating_sub(message.arrived) as f64 / SECOND as f64,
        |delay| delay as f64 / SECOND as f64,
    );
    let code = match (d.reply, d.dsn) {
        (Some(r), Some(e)) => format!("{} {e}", r.code),
        (Some(r), None) => r.code.to_string(),
        (None, Some(e)) => e.to_string(),
        (None, None) => String::new(),
    };
    let attempt = Attempt {
        after,
        second: now / SECOND,
        status: d.status,
        code,
        work: d
            .delays
            .map(|[_, _, c, dd]| (c + dd) as f64 / SECOND as f64),
    };
    let to = d.to.to_ascii_lowercase();
    match message.recipients.iter_mut().find(|(r, _)| *r == to) {
        Some((_, attempts)) => attempts.push(attempt),
        None => message.recipients.push((to, vec![attempt])),
    }
}

impl Collected {
    fn recipient(&mut self, to: &str, attempts: &[Attempt], expired: bool) {
        let Some(first) = attempts.first() else {
            return;
        };
        let domain = to.rsplit_once('@').map_or(to, |(_, d)| d).to_owned();
        let counts = self.domains.entry(domain).or_default();
        counts.recipients += 1;
        counts.first_attempts += 1;
        if first.status == Status::Deferred {
            *counts.first_deferred.entry(first.code.clone()).or_default() += 1;
        }
        for a in &attempts[1..] {
            let since = (a.after - first.after).max(0.0).round() as u64;
            let deferred = (a.status == Status::Deferred).then(|| a.code.clone());
            *counts.later.entry((since, deferred)).or_default() += 1;
        }
        for a in attempts {
            match a.status {
                Status::Deferred => *counts.deferral_codes.entry(a.code.clone()).or_default() += 1,
                Status::Bounced => *counts.bounce_codes.entry(a.code.clone()).or_default() += 1,
                Status::Sent | Status::Expired => {}
            }
            if let Some(work) = a.work
                && self.attempt_work.len() < MAX_SAMPLES
            {
                self.attempt_work.push(work);
            }
        }
        for pair in attempts.windows(2) {
            if pair[0].status == Status::Deferred && self.retry_pairs.len() < MAX_SAMPLES {
                self.retry_pairs
                    .push((pair[0].after, pair[1].after - pair[0].after));
            }
            if self.retry_seconds.len() < MAX_RETRY_SECONDS
                || self.retry_seconds.contains_key(&pair[1].second)
            {
                *self.retry_seconds.entry(pair[1].second).or_default() += 1;
            }
        }
        let last = attempts.last().unwrap_or(first);
        match last.status {
            Status::Sent => {
                counts.delivered += 1;
                *self
                    .delivered_attempts
                    .entry(attempts.len() as u64)
                    .or_default() += 1;
                if self.latencies.len() < MAX_SAMPLES {
                    self.latencies.push(last.after);
                }
            }
            Status::Bounced => {
                counts.bounced += 1;
                if last.code.ends_with("5.1.1") {
                    counts.unknown_users += 1;
                }
            }
            Status::Expired => counts.expired += 1,
            Status::Deferred if expired => counts.expired += 1,
            Status::Deferred => {}
        }
    }
}
