//! [`fit`]: a scenario fitted from Postfix logs, so that a simulation starts from what a real
//! relay saw.
//!
//! One streaming pass reads the log (the same lines, files and timestamps as
//! [`import`](crate::import)) and keeps, per message until it leaves the queue, each
//! recipient's attempts: when (Postfix's `delay=`), with what status and reply code. Then:
//!
//! - **arrivals**: one `bursts` entry per hour (a log of a day or less), or per hour of day
//!   averaged over the days (a longer log), with that hour's count spread evenly between its
//!   first and last arrival (the `bursts` process; the randomness of real arrivals within the
//!   hour is not reproduced);
//! - **domains**: each recipient domain with its share of recipients as `weight`;
//! - **greylisting**: a domain whose most common first-attempt deferral code defers at least
//!   half of the first attempts, and later only before the earliest attempt that got past it
//!   (at most 1 % of that code's later deferrals after it); `delay` halfway between the last
//!   deferral and the earliest pass, in whole seconds after the first attempt (every value
//!   between them retries alike);
//! - **temporary failures**: the share of deferred attempts among those the greylist (if
//!   any) no longer held, with the codes seen;
//! - **unknown users**: the share of recipients bounced with `5.1.1`;
//! - **the `postfix` retry policy**: its three values from attempt times ([`retry`]);
//! - **the queue lifetime**: the youngest age at which a message expired;
//! - **attempt durations**: the mean and standard deviation of `delays=` c + d
//!   (connection setup and transmission), as `relay.attempt_duration`.
//!
//! Every fitted value is written with a comment giving the number of observations it came
//! from; what the log does not show is written as Postfix's default and said to be one. Memory
//! holds the open messages (at most [`FitOptions::max_open`]) and at most a million samples of
//! each sampled quantity.

mod collect;
pub mod retry;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use collect::{Collected, DomainCounts};
pub use retry::{Inferred, PostfixRetry};

/// How to read the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FitOptions {
    /// The year of the first syslog timestamp (as in [`ImportOptions`](crate::import::ImportOptions)).
    pub year: Option<i32>,
    /// The most open messages kept in memory (at least 1).
    pub max_open: usize,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            year: None,
            max_open: 1_000_000,
        }
    }
}

/// Why a log could not be fitted.
#[derive(Debug, thiserror::Error)]
pub enum FitError {
    /// A log file could not be read.
    #[error("cannot read {0}")]
    Read(#[from] std::io::Error),
    /// The log has no message with a delivery attempt.
    #[error("no message with a delivery attempt in the log ({lines} lines read)")]
    Empty {
        /// Lines read.
        lines: u64,
    },
}

/// One recipient domain's fitted behaviour.
#[derive(Debug, Clone, PartialEq)]
pub struct FittedDomain {
    /// The domain.
    pub name: String,
    /// Its recipients.
    pub recipients: u64,
    /// Greylisting, if detected.
    pub greylist: Option<FittedGreylist>,
    /// The share of attempts deferred at random, and how many attempts it came from.
    pub temp_failures: (f64, u64),
    /// The share of recipients unknown.
    pub unknown_users: f64,
}

/// Greylisting detected at a domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FittedGreylist {
    /// The delay written, seconds.
    pub delay: u64,
    /// The last deferral and the earliest pass, seconds after the first attempt.
    pub bounds: (u64, u64),
    /// The first attempts deferred with its code.
    pub observations: u64,
}

/// A fitted scenario.
#[derive(Debug, Clone)]
pub struct Fit {
    /// The scenario, TOML with a comment on every fitted value.
    pub toml: String,
    /// Messages read (bounce notifications not counted).
    pub messages: u64,
    /// Each recipient domain.
    pub domains: Vec<FittedDomain>,
    /// The retry policy's values.
    pub retry: PostfixRetry,
    /// The queue lifetime in seconds, if messages expired.
    pub lifetime: Option<u64>,
}

/// Fits a scenario named `name` to the Postfix logs `files`.
pub fn fit(files: &[PathBuf], name: &str, options: &FitOptions) -> Result<Fit, FitError> {
    let c = collect::collect(files, options.year, options.max_open)?;
    if c.domains.is_empty() {
        return Err(FitError::Empty { lines: c.lines });
    }
    let run = retry::queue_run_delay(&c.retry_seconds);
    let (minimal, maximal, oldest) = retry::backoffs(&c.retry_pairs);
    let retry = PostfixRetry {
        queue_run_delay: run,
        minimal_backoff: minimal,
        maximal_backoff: maximal,
        oldest_failure: oldest,
    };
    let domains: Vec<FittedDomain> = c
        .domains
        .iter()
        .map(|(name, counts)| fit_domain(name, counts))
        .collect();
    let lifetime = c
        .expiry_ages
        .iter()
        .copied()
        .fold(None, |m: Option<f64>, a| Some(m.map_or(a, |m| m.min(a))))
        .map(|a| a.floor() as u64);
    let mut toml = String::new();
    write_scenario(&mut toml, name, &c, &domains, &retry, lifetime);
    Ok(Fit {
        toml,
        messages: c.messages,
        domains,
        retry,
        lifetime,
    })
}

fn fit_domain(name: &str, d: &DomainCounts) -> FittedDomain {
    let greylist = greylisting(d);
    let held = |since: u64, code: &Option<String>| {
        greylist
            .as_ref()
            .is_some_and(|g| code.as_deref() == Some(g.code.as_str()) || since < g.delay)
    };
    let (mut deferred, mut attempts) = (0u64, 0u64);
    if greylist.is_none() {
        attempts += d.first_attempts;
        deferred += d.first_deferred.values().sum::<u64>();
    }
    for ((since, code), &n) in &d.later {
        if !held(*since, code) {
            attempts += n;
            deferred += if code.is_some() { n } else { 0 };
        }
    }
    FittedDomain {
        name: name.to_owned(),
        recipients: d.recipients,
        greylist: greylist.map(|g| FittedGreylist {
            delay: g.delay,
            bounds: g.bounds,
            observations: g.observations,
        }),
        temp_failures: (ratio(deferred, attempts), attempts),
        unknown_users: ratio(d.unknown_users, d.recipients),
    }
}

struct Greylist {
    code: String,
    delay: u64,
    /// The last deferral and the first pass, seconds after the first attempt.
    bounds: (u64, u64),
    observations: u64,
}

/// Greylisting, if the domain's first attempts show it (see the module's doc).
fn greylisting(d: &DomainCounts) -> Option<Greylist> {
    let (code, &first) = d.first_deferred.iter().max_by_key(|(_, n)| **n)?;
    if 2 * first < d.first_attempts {
        return None;
    }
    let passed = d
        .later
        .keys()
        .filter(|(_, c)| c.as_deref() != Some(code.as_str()))
        .map(|(since, _)| *since)
        .min()?;
    let held: Vec<(u64, u64)> = d
        .later
        .iter()
        .filter(|((_, c), _)| c.as_deref() == Some(code.as_str()))
        .map(|((since, _), n)| (*since, *n))
        .collect();
    let total: u64 = held.iter().map(|h| h.1).sum();
    let late: u64 = held.iter().filter(|h| h.0 > passed).map(|h| h.1).sum();
    if late * 100 > total {
        return None;
    }
    // An attempt passes once `delay` has gone by since the first: the last deferral and the
    // earliest pass bound it; every value between retries alike, the middle is written.
    let last_held = held
        .iter()
        .filter(|h| h.0 <= passed)
        .map(|h| h.0)
        .max()
        .unwrap_or(0);
    let delay = (last_held + passed).div_ceil(2).max(1);
    Some(Greylist {
        code: code.clone(),
        delay,
        bounds: (last_held, passed),
        observations: first,
    })
}

fn ratio(x: u64, n: u64) -> f64 {
    if n == 0 { 0.0 } else { x as f64 / n as f64 }
}

/// A TOML basic string.
fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned())
}

/// Probability written with enough digits to be read back as nearly the same.
fn probability(p: f64) -> String {
    let text = format!("{p:.4}");
    if text == "0.0000" {
        "0".to_owned()
    } else {
        text
    }
}

fn codes(counts: &BTreeMap<String, u64>) -> String {
    let mut list: Vec<(&String, &u64)> = counts.iter().collect();
    list.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    list.iter()
        .take(5)
        .map(|(code, n)| {
            let code = if code.is_empty() { "(none)" } else { code };
            format!("{code} ×{n}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn write_scenario(
    out: &mut String,
    name: &str,
    c: &Collected,
    domains: &[FittedDomain],
    retry: &PostfixRetry,
    lifetime: Option<u64>,
) {
    let _ = writeln!(
        out,
        "# Fitted by `smtpsim fit` from {} log lines: {} messages ({} bounce notifications and \
         {} unsettled messages left out of the counts below), {} malformed lines.",
        c.lines, c.messages, c.notices, c.unsettled, c.malformed
    );
    write_key_figures(out, c);
    let origin = c.origin.unwrap_or(0);
    let start = time::OffsetDateTime::from_unix_timestamp(origin.div_euclid(1_000_000))
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned());
    let bursts = arrivals(c, origin);
    let duration = bursts.iter().map(|b| b.at + b.over).fold(0.0, f64::max) + 1.0;
    let _ = writeln!(
        out,
        "\n[simulation]\nname = {}\n# The log's first second.\nstart = {}\nduration = \"{:.0}s\"\nseed = 1",
        quoted(name),
        quoted(&start),
        duration.ceil()
    );
    write_sender(out, c, domains);
    let _ = writeln!(out, "# Arrivals: {} messages.", c.messages);
    let _ = writeln!(out, "arrivals = {{ process = \"bursts\", bursts = [");
    for b in &bursts {
        let _ = writeln!(
            out,
            "    {{ at = \"{:.3}s\", count = {}, over = \"{:.3}s\" }}, # {}",
            b.at, b.count, b.over, b.comment
        );
    }
    let _ = writeln!(out, "] }}");
    write_relay(out, c, retry, lifetime);
    for d in domains {
        write_domain(out, d, c.domains.get(&d.name));
    }
}

fn write_key_figures(out: &mut String, c: &Collected) {
    let recipients: u64 = c.domains.values().map(|d| d.recipients).sum();
    let delivered: u64 = c.domains.values().map(|d| d.delivered).sum();
    let bounced: u64 = c.domains.values().map(|d| d.bounced).sum();
    let expired: u64 = c.domains.values().map(|d| d.expired).sum();
    let mut latencies = c.latencies.clone();
    latencies.sort_by(f64::total_cmp);
    let _ = writeln!(
        out,
        "# In the log: {recipients} recipients, {delivered} delivered ({:.1}%), {bounced} \
         bounced, {expired} expired; delivered latency p50 {:.1} s, p90 {:.1} s ({} latencies).",
        100.0 * ratio(delivered, recipients),
        quantile(&latencies, 0.5),
        quantile(&latencies, 0.9),
        latencies.len()
    );
    let attempts: Vec<String> = c
        .delivered_attempts
        .iter()
        .map(|(k, n)| format!("{k}: {n}"))
        .collect();
    let _ = writeln!(
        out,
        "# Delivered recipients by attempts: {}.",
        attempts.join(", ")
    );
}

struct Burst {
    at: f64,
    count: u64,
    over: f64,
    comment: String,
}

/// One burst per hour of the log (a day or less) or per hour of day (averaged over the days).
fn arrivals(c: &Collected, origin: i64) -> Vec<Burst> {
    const HOUR: u64 = 3_600_000_000;
    let secs = |micros: u64| micros as f64 / 1e6;
    let first = c.hours.values().map(|h| h.1).min().unwrap_or(0);
    let last = c.hours.values().map(|h| h.2).max().unwrap_or(0);
    let origin_hour = origin.div_euclid(1_000_000).rem_euclid(86_400) as u64 / 3600;
    if last - first <= 24 * HOUR {
        return c
            .hours
            .iter()
            .map(|(&hour, &(count, from, to))| {
                // `count` evenly over `over` puts the last at over × (count − 1) / count.
                let span = secs(to - from);
                let over = if count > 1 {
                    span * count as f64 / (count - 1) as f64
                } else {
                    0.0
                };
                Burst {
                    at: secs(from),
                    count,
                    over,
                    comment: format!(
                        "{count} arrivals in hour {} of the day (UTC)",
                        (origin_hour + hour) % 24
                    ),
                }
            })
            .collect();
    }
    let days = ((last - first) as f64 / (24 * HOUR) as f64).ceil().max(1.0);
    let mut by_hour = [0u64; 24];
    for (&hour, &(count, _, _)) in &c.hours {
        by_hour[((origin_hour + hour) % 24) as usize] += count;
    }
    // Time 0 is the log's first second; hour h of the day starts this far after it.
    let first_hour_start = 3600.0 - (origin.div_euclid(1_000_000).rem_euclid(3600)) as f64;
    (0..24)
        .filter(|&h| by_hour[h] > 0)
        .map(|h| {
            let offset = ((h as u64 + 24 - origin_hour - 1) % 24) as f64 * 3600.0;
            let count = (by_hour[h] as f64 / days).round() as u64;
            Burst {
                at: (first_hour_start + offset) % 86_400.0,
                count,
                over: 3600.0,
                comment: format!(
                    "hour {h} of the day (UTC): {} arrivals over {days} days",
                    by_hour[h]
                ),
            }
        })
        .collect()
}

fn write_sender(out: &mut String, c: &Collected, domains: &[FittedDomain]) {
    let (sender, n) = c
        .senders
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(s, n)| (s.as_str(), *n))
        .unwrap_or(("", 0));
    let (local, domain) = sender
        .rsplit_once('@')
        .unwrap_or(("noreply", "sender.example"));
    let recipients: u64 = domains.iter().map(|d| d.recipients).sum();
    let per_message = ratio(recipients, c.messages).round().max(1.0);
    let _ = writeln!(
        out,
        "\n# The most common envelope sender ({n} of {} messages).\n[[senders]]\nname = \"fitted\"\n\
         domain = {}\nlocal_part = {}\n# {recipients} recipients in {} messages.\nrecipients = {per_message:.0}",
        c.messages,
        quoted(domain),
        quoted(local),
        c.messages
    );
    let _ = writeln!(out, "to = [");
    for d in domains {
        let _ = writeln!(
            out,
            "    {{ domain = {}, weight = {} }}, # {} recipients",
            quoted(&d.name),
            d.recipients,
            d.recipients
        );
    }
    let _ = writeln!(out, "]");
}

fn write_relay(out: &mut String, c: &Collected, retry: &PostfixRetry, lifetime: Option<u64>) {
    let _ = writeln!(
        out,
        "\n[relay]\n# Postfix's default_destination_concurrency_limit (not in the log).\nmax_connections_per_domain = 20"
    );
    match lifetime {
        Some(secs) => {
            let _ = writeln!(
                out,
                "# The youngest of {} expired messages (Postfix expires a message at its first \
                 failure past the lifetime).\nqueue_lifetime = \"{secs}s\"",
                c.expiry_ages.len()
            );
        }
        None => {
            let _ = writeln!(
                out,
                "# No message expired in the log: the postfix policy's default lifetime (5d)."
            );
        }
    }
    let work = mean_sd(&c.attempt_work);
    let _ = match work {
        Some((mean, sd)) if sd > 1e-6 => writeln!(
            out,
            "# delays= c + d (connection setup and transmission) of {} attempts: mean and sd.\n\
             attempt_duration = {{ dist = \"lognormal\", mean = \"{:.6}s\", sd = \"{:.6}s\" }}",
            c.attempt_work.len(),
            mean,
            sd
        ),
        Some((mean, _)) => writeln!(
            out,
            "# delays= c + d (connection setup and transmission) of {} attempts, all alike.\n\
             attempt_duration = \"{mean:.6}s\"",
            c.attempt_work.len()
        ),
        None => writeln!(
            out,
            "# No delays= in the log: attempt durations are not fitted."
        ),
    };
    let value = |v: &Inferred, default: u64, what: &str| -> (u64, String) {
        match v.secs {
            Some(secs) => (
                secs,
                format!("{what}: from {} observations", v.observations),
            ),
            None => (
                default,
                format!("{what}: not shown by the log, Postfix's default"),
            ),
        }
    };
    let (run, run_note) = value(
        &retry.queue_run_delay,
        300,
        "queue_run_delay, the commonest spacing of retry clusters",
    );
    let (min, min_note) = value(
        &retry.minimal_backoff,
        300,
        "minimal_backoff, the shortest gap after a first failure + 2 s",
    );
    let (max, mut max_note) = value(
        &retry.maximal_backoff,
        4000,
        "maximal_backoff, the commonest clamped gap (a whole number of queue runs)",
    );
    if retry.maximal_backoff.secs.is_none() {
        let _ = write!(
            max_note,
            " (no wait was clamped; failures were seen up to {:.0} s of age)",
            retry.oldest_failure
        );
    }
    let _ = writeln!(
        out,
        "# {run_note}.\n# {min_note}.\n# {max_note}.\n\
         retry = {{ policy = \"postfix\", queue_run_delay = \"{run}s\", minimal_backoff = \"{min}s\", maximal_backoff = \"{}s\" }}",
        max.max(min)
    );
}

fn mean_sd(xs: &[f64]) -> Option<(f64, f64)> {
    if xs.is_empty() {
        return None;
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    Some((mean, var.sqrt()))
}

fn write_domain(out: &mut String, d: &FittedDomain, counts: Option<&DomainCounts>) {
    let _ = writeln!(
        out,
        "\n[[domains]]\nname = {}\nmx = [{{ host = {} }}]",
        quoted(&d.name),
        quoted(&format!("mx.{}", d.name))
    );
    let mut parts = Vec::new();
    let mut notes = Vec::new();
    if let Some(g) = d.greylist {
        parts.push(format!("greylisting = {{ delay = \"{}s\" }}", g.delay));
        notes.push(format!(
            "greylisting from {} first attempts deferred: the last deferral {} s and the \
             earliest pass {} s after the first attempt",
            g.observations, g.bounds.0, g.bounds.1
        ));
    }
    let (p, n) = d.temp_failures;
    parts.push(format!("temp_failures = {}", probability(p)));
    notes.push(format!("temp_failures from {n} attempts"));
    parts.push(format!("unknown_users = {}", probability(d.unknown_users)));
    notes.push(format!(
        "unknown_users from {} recipients (bounced with 5.1.1)",
        d.recipients
    ));
    if let Some(c) = counts {
        if !c.deferral_codes.is_empty() {
            notes.push(format!("deferral codes: {}", codes(&c.deferral_codes)));
        }
        if !c.bounce_codes.is_empty() {
            notes.push(format!("bounce codes: {}", codes(&c.bounce_codes)));
        }
    }
    for note in notes {
        let _ = writeln!(out, "# {note}.");
    }
    let _ = writeln!(out, "behaviour = {{ {} }}", parts.join(", "));
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: u64 = 3_600_000_000;

    #[test]
    fn a_day_or_less_gives_a_burst_per_hour_between_its_first_and_last_arrival() {
        let mut c = Collected::default();
        // 11 arrivals from 10 s to 110 s, then 1 in the next hour.
        c.hours.insert(0, (11, 10_000_000, 110_000_000));
        c.hours.insert(1, (1, HOUR + 5_000_000, HOUR + 5_000_000));
        let b = arrivals(&c, 0);
        assert_eq!(b.len(), 2);
        assert_eq!((b[0].at, b[0].count), (10.0, 11));
        // 11 evenly over `over`: the last at 10 + over × 10/11 = 110.
        assert!((b[0].over - 110.0).abs() < 1e-9);
        assert_eq!((b[1].at, b[1].count, b[1].over), (3605.0, 1, 0.0));
    }

    #[test]
    fn a_longer_log_gives_an_hour_of_day_profile_averaged_over_its_days() {
        let mut c = Collected::default();
        // The log starts at 22:30 UTC; arrivals in hour 23 of two days and hour 1 of one.
        let origin = (22 * 3600 + 1800) * 1_000_000i64;
        // Keys are clock hours from the origin's (22:00).
        c.hours.insert(1, (40, 1_800_000_000, 1_900_000_000)); // 23:00 day 1
        c.hours.insert(
            25,
            (60, 24 * HOUR + 1_800_000_000, 24 * HOUR + 1_900_000_000),
        ); // 23:00 day 2
        c.hours.insert(27, (10, 26 * HOUR, 26 * HOUR + 10)); // 01:00 day 3
        let b = arrivals(&c, origin);
        let hour = |h: usize| {
            b.iter()
                .find(|x| x.comment.starts_with(&format!("hour {h} ")))
                .unwrap()
        };
        // Over 2 days (the span is a little over one): hour 23 averages 50, hour 1 has 5.
        assert_eq!(hour(23).count, 50);
        assert_eq!(hour(1).count, 5);
        // Hour 23 starts 30 minutes after the log's first second, hour 1 2.5 hours after.
        assert_eq!(hour(23).at, 1800.0);
        assert_eq!(hour(1).at, 9000.0);
        assert!(b.iter().all(|x| x.over == 3600.0));
    }

    #[test]
    fn greylisting_needs_most_first_attempts_deferred_and_nothing_held_after_a_pass() {
        let mut d = DomainCounts {
            first_attempts: 100,
            ..DomainCounts::default()
        };
        d.first_deferred.insert("451 4.7.1".into(), 90);
        d.later.insert((20, Some("451 4.7.1".into())), 40);
        d.later.insert((30, None), 80);
        d.later.insert((30, Some("451 4.3.0".into())), 10);
        let g = greylisting(&d).unwrap();
        assert_eq!((g.bounds, g.delay, g.observations), ((20, 30), 25, 90));
        // The random deferrals after the greylist: 10 of 90 attempts.
        let fitted = fit_domain("x", &d);
        assert!((fitted.temp_failures.0 - 10.0 / 90.0).abs() < 1e-12);
        assert_eq!(fitted.temp_failures.1, 90);
        // The same code still deferring well after passes: not a greylist.
        d.later.insert((300, Some("451 4.7.1".into())), 5);
        assert!(greylisting(&d).is_none());
        // Fewer than half the first attempts deferred: not a greylist.
        let mut e = DomainCounts {
            first_attempts: 100,
            ..DomainCounts::default()
        };
        e.first_deferred.insert("451 4.3.0".into(), 20);
        assert!(greylisting(&e).is_none());
    }
}
