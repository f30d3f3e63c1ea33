//! The bundled story scenarios show what their header comments say; every bundled scenario
//! loads; mistakes in a scenario file are reported with the file, the line and the field.

use crate::support;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use smtpsim_model::scenario::{RetryConfig, Scenario};
use smtpsim_model::sim::{self, Fate, Options, RecipientRecord, Recorder, TraceMode};
use support::{Memory, Row};

const SECOND: u64 = 1_000_000;
const MINUTE: u64 = 60 * SECOND;
const HOUR: u64 = 60 * MINUTE;

fn count(rows: &[Row], fate: Fate) -> usize {
    rows.iter().filter(|r| r.fate == fate).count()
}

/// The `q` quantile (0 to 1) of `values`, nearest rank.
fn quantile(values: &mut [u64], q: f64) -> u64 {
    values.sort_unstable();
    let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len());
    values[rank - 1]
}

/// The `.toml` files directly in `dir`, sorted.
fn toml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_bundled_scenario_loads_and_is_in_the_reference() {
    let root = support::scenario_path("");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let mut files = toml_files(&root);
    files.extend(toml_files(&root.join("validation")));
    assert!(files.len() >= 9, "{files:?}");
    for path in &files {
        let relative = path.strip_prefix(&root).unwrap().to_str().unwrap();
        if relative == "providers.toml" {
            // A part that scenarios include, listed in the reference too.
            assert!(readme.contains("`providers.toml`"));
            continue;
        }
        let scenario = Scenario::load(path).unwrap_or_else(|e| panic!("{e}"));
        sim::check(&scenario).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            readme.contains(&format!("`{relative}`")),
            "scenarios/README.md does not list {relative}"
        );
    }
}

// --- greylisting -------------------------------------------------------------------------

/// The delays of an exponential retry policy without jitter, as offsets from the first attempt
/// (ignoring the time attempts take): 0, then the cumulative delays.
fn retry_offsets(retry: &RetryConfig, n: usize) -> Vec<u64> {
    let RetryConfig::Exponential {
        initial,
        multiplier,
        cap,
        ..
    } = retry
    else {
        panic!("greylisting.toml uses an exponential retry policy");
    };
    let mut offsets = vec![0];
    for i in 0..n {
        let delay = (initial.micros() as f64 * multiplier.powi(i as i32)).min(cap.micros() as f64);
        offsets.push(offsets[i] + delay as u64);
    }
    offsets
}

#[test]
fn greylisted_mail_waits_for_the_first_retry_after_the_delay() {
    let scenario = support::load("greylisting.toml");
    let (memory, stats) = support::run(&scenario, &Options::default());
    assert_eq!(stats.messages, 3000);
    assert_eq!(count(&memory.rows, Fate::Inbox), memory.rows.len());
    let offsets = retry_offsets(&scenario.relay.retry, 8);
    assert_eq!(
        &offsets[..5],
        &[0, 4 * MINUTE, 12 * MINUTE, 28 * MINUTE, 60 * MINUTE]
    );

    let mut rows = memory.rows.clone();
    rows.sort_by_key(|r| r.message_id);
    let mut seen = HashSet::new();
    // Domain → (attempts, time from first attempt to delivery) of every first-time triplet.
    let mut observed: BTreeMap<String, Vec<(u32, u64)>> = BTreeMap::new();
    for row in &rows {
        if !seen.insert(row.recipient.clone()) {
            // The same recipient again within the window: the triplet passed already.
            continue;
        }
        let took = row.finished - row.first_attempt.unwrap();
        observed
            .entry(row.domain.clone())
            .or_default()
            .push((row.attempts, took));
    }

    for (domain, expected_attempts, expected_minutes) in [
        ("nogrey.example", 1, 0),
        ("grey3m.example", 2, 4),
        ("grey5m.example", 3, 12),
        ("grey15m.example", 4, 28),
    ] {
        let delay = scenario
            .domain(domain)
            .unwrap()
            .behaviour
            .greylisting
            .as_ref()
            .map_or(0, |g| g.delay.micros());
        // The first retry at or after the delay: offsets[k] >= delay, offsets[k - 1] < delay.
        let k = offsets.iter().position(|&o| o >= delay).unwrap();
        assert_eq!(k + 1, expected_attempts, "{domain}");
        assert_eq!(offsets[k], expected_minutes * MINUTE, "{domain}");
        if k > 0 {
            assert!(
                offsets[k - 1] < delay,
                "{domain}: the retry before was too early"
            );
        }
        let list = &observed[domain];
        assert!(list.len() > 600, "{domain}: {}", list.len());
        for &(attempts, took) in list {
            assert_eq!(attempts as usize, expected_attempts, "{domain}");
            // Delivered at or after the delay, on the retry the schedule gives (each attempt
            // adds its own few hundred milliseconds of round trips).
            assert!(took >= delay, "{domain}: {took} µs");
            assert!(
                (offsets[k]..offsets[k] + 5 * SECOND).contains(&took),
                "{domain}: {took} µs"
            );
        }
    }
    // Two minutes more of greylisting delay (3 to 5) cost eight minutes of latency.
    let mean = |domain: &str| {
        let list = &observed[domain];
        list.iter().map(|(_, t)| *t as f64).sum::<f64>() / list.len() as f64 / MINUTE as f64
    };
    let extra = mean("grey5m.example") - mean("grey3m.example");
    assert!((extra - 8.0).abs() < 0.1, "{extra} minutes");
}

// --- rate-limited ------------------------------------------------------------------------

#[test]
fn a_throttling_provider_keeps_a_campaign_deferred_for_hours() {
    let scenario = support::load("rate-limited.toml");
    let (memory, stats) = support::run(&scenario, &Options::default());
    let rows = &memory.rows;
    assert_eq!(stats.messages, 2000);
    assert_eq!(rows.len(), 2000);

    // Most are delivered in the end, some expire, none bounce.
    let (inbox, expired) = (count(rows, Fate::Inbox), count(rows, Fate::Expired));
    assert_eq!(inbox + expired, rows.len());
    assert!(inbox > 1500, "inbox {inbox}");
    assert!(expired >= 50, "expired {expired}");

    // Many deferrals, every one the provider's 421 4.7.28.
    let deferrals = memory.samples.last().unwrap().deferrals;
    assert_eq!(deferrals, stats.attempts - inbox as u64);
    assert!(deferrals > 5 * rows.len() as u64, "deferrals {deferrals}");
    for row in rows.iter().filter(|r| r.fate == Fate::Expired) {
        let reply = row.last_reply.as_deref().unwrap();
        assert!(reply.starts_with("421 4.7.28 "), "{reply}");
        assert!(
            reply.contains("unusual rate of unsolicited mail"),
            "{reply}"
        );
        assert!(
            row.reasons
                .starts_with("still deferred when the queue lifetime ran out"),
            "{}",
            row.reasons
        );
        // Expired at the first failed attempt after the 4-hour lifetime.
        assert!(row.finished - row.submitted >= 4 * HOUR);
        assert!(row.attempts > 5);
    }

    // The queue drains no faster than the provider's rate: 100 at once, then 6 a minute.
    let mut latencies: Vec<u64> = rows.iter().map(|r| r.finished - r.submitted).collect();
    let p50 = quantile(&mut latencies, 0.5);
    let p99 = quantile(&mut latencies, 0.99);
    assert!(p50 > 2 * HOUR, "p50 {} s", p50 / SECOND);
    assert!(p99 > 4 * HOUR && p99 < 6 * HOUR, "p99 {} s", p99 / SECOND);
    let mut finished: Vec<u64> = rows
        .iter()
        .filter(|r| r.fate == Fate::Inbox)
        .map(|r| r.finished)
        .collect();
    finished.sort_unstable();
    for (i, &t) in finished.iter().enumerate() {
        let allowed = 100.0 + t as f64 / MINUTE as f64 * 6.0;
        assert!(
            (i + 1) as f64 <= allowed + 1.0,
            "{} delivered by {t} µs",
            i + 1
        );
    }

    // Messages pile up in the deferred queue for hours.
    let deferred_at = |t: u64| {
        memory
            .samples
            .iter()
            .find(|s| s.time.as_micros() >= t)
            .unwrap()
            .deferred
    };
    assert!(deferred_at(HOUR) > 1400, "{}", deferred_at(HOUR));
    assert!(deferred_at(3 * HOUR) > 700, "{}", deferred_at(3 * HOUR));
}

// --- mx-outage ---------------------------------------------------------------------------

#[test]
fn a_secondary_mx_carries_the_mail_through_an_outage() {
    let scenario = support::load("mx-outage.toml");
    let options = Options {
        trace: TraceMode::All,
        ..Options::default()
    };
    let (memory, stats) = support::run(&scenario, &options);
    assert_eq!(stats.messages, 3600);
    // Nothing bounces or expires.
    assert_eq!(count(&memory.rows, Fate::Inbox), memory.rows.len());

    // Which MX host accepted each message, from the traces.
    let mut connected: BTreeMap<u64, String> = BTreeMap::new();
    for line in &memory.trace {
        let mut parts = line.splitn(6, ' ');
        let (_, id, _, _, _, text) = (
            parts.next(),
            parts.next().unwrap().parse::<u64>().unwrap(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next().unwrap(),
        );
        if let Some(rest) = text.strip_prefix("connected to ") {
            connected.insert(id, rest.split(' ').next().unwrap().to_string());
        }
    }

    let outage = 2 * HOUR..4 * HOUR;
    let mut during = BTreeMap::<&str, usize>::new();
    for row in &memory.rows {
        let first = row.first_attempt.unwrap();
        let latency = row.finished - row.submitted;
        let host = &connected[&row.message_id];
        let in_outage = outage.contains(&first);
        if in_outage {
            *during.entry(row.domain.as_str()).or_default() += 1;
        }
        match (row.domain.as_str(), in_outage) {
            ("refuse.example", true) => {
                // Refused at once: on to the secondary, one round trip later.
                assert_eq!(host, "mx2.refuse.example");
                assert_eq!(row.attempts, 1);
                assert!(latency < SECOND, "{row:?}");
            }
            ("timeout.example", true) => {
                // Silent: the secondary after the 30-second connect timeout.
                assert_eq!(host, "mx2.timeout.example");
                assert_eq!(row.attempts, 1);
                assert!((30 * SECOND..31 * SECOND).contains(&latency), "{row:?}");
            }
            ("single.example", true) => {
                // No secondary: deferred, delivered after the outage.
                assert_eq!(host, "mx.single.example");
                assert!(row.attempts >= 2, "{row:?}");
                assert!(row.finished >= outage.end, "{row:?}");
            }
            (domain, false) => {
                assert!(
                    host.starts_with("mx1.") || host.starts_with("mx."),
                    "{row:?}"
                );
                assert!(host.ends_with(domain), "{row:?}");
                assert_eq!(row.attempts, 1, "{row:?}");
                assert!(latency < SECOND, "{row:?}");
            }
            (domain, true) => panic!("unexpected domain {domain}"),
        }
    }
    for domain in ["refuse.example", "timeout.example", "single.example"] {
        assert!(during[domain] > 300, "{domain}: {}", during[domain]);
    }
    // The single-MX domain waits up to the retry after the outage: at most the maximal
    // backoff (4000 s) and a queue run beyond the two hours.
    let longest = memory
        .rows
        .iter()
        .filter(|r| r.domain == "single.example")
        .map(|r| r.finished - r.submitted)
        .max()
        .unwrap();
    assert!(longest > 2 * HOUR, "{} s", longest / SECOND);
    assert!(
        longest <= 2 * HOUR + 4300 * SECOND,
        "{} s",
        longest / SECOND
    );
}

// --- dmarc -------------------------------------------------------------------------------

/// The memory recorder, plus the sender of every recipient row.
#[derive(Default)]
struct WithSenders {
    memory: Memory,
    senders: Vec<String>,
}

impl Recorder for WithSenders {
    fn recipient(&mut self, record: &RecipientRecord<'_>) {
        self.senders.push(record.sender.to_string());
        self.memory.recipient(record);
    }
}

#[test]
fn dmarc_rejects_quarantines_or_trusts_by_alignment() {
    let scenario = support::load("dmarc.toml");
    let mut recorder = WithSenders::default();
    sim::run(&scenario, &Options::default(), &mut recorder).unwrap();
    let rows: Vec<(&str, &Row)> = recorder
        .senders
        .iter()
        .map(String::as_str)
        .zip(&recorder.memory.rows)
        .collect();
    assert_eq!(rows.len(), 3000);
    let of = |sender: &str| -> Vec<&Row> {
        rows.iter()
            .filter(|(s, _)| *s == sender)
            .map(|(_, r)| *r)
            .collect()
    };

    // Misaligned, p=reject: SPF and DKIM pass for the provider, DMARC fails, 550 5.7.1.
    for row in of("bank-alerts") {
        assert_eq!(row.fate, Fate::Bounced, "{row:?}");
        assert_eq!(row.attempts, 1);
        let reply = row.last_reply.as_deref().unwrap();
        assert!(reply.starts_with("550 5.7.1"), "{reply}");
        assert!(reply.contains("bank.example"), "{reply}");
        for reason in [
            "sender IP allowed by domain policy",
            "DKIM signature modelled as valid (domain key published)",
            "DMARC policy reject: visible From not aligned",
        ] {
            assert!(row.reasons.contains(reason), "{}", row.reasons);
        }
    }
    // Aligned: the inbox.
    for row in of("shop-orders") {
        assert_eq!(row.fate, Fate::Inbox, "{row:?}");
        assert!(
            row.reasons.contains("visible From aligns with SPF or DKIM"),
            "{}",
            row.reasons
        );
    }
    // Misaligned, p=quarantine: accepted, into spam.
    for row in of("club-news") {
        assert_eq!(row.fate, Fate::Spam, "{row:?}");
        assert!(row.last_reply.as_deref().unwrap().starts_with("250 "));
        assert!(
            row.reasons
                .contains("DMARC policy quarantine: visible From not aligned"),
            "{}",
            row.reasons
        );
    }
    // p=reject with pct=50: about half rejected, the other half quarantined instead.
    let clinic = of("clinic-reminders");
    let rejected = clinic.iter().filter(|r| r.fate == Fate::Bounced).count() as f64;
    let spam = clinic.iter().filter(|r| r.fate == Fate::Spam).count() as f64;
    let n = clinic.len() as f64;
    assert_eq!(rejected + spam, n);
    // 4 standard errors of a binomial proportion around 0.5.
    assert!(
        (rejected / n - 0.5).abs() < 4.0 * (0.25 / n).sqrt(),
        "{rejected} of {n}"
    );
    for sender in ["bank-alerts", "shop-orders", "club-news"] {
        assert!(of(sender).len() > 500, "{sender}");
        // Both receiving domains judge alike.
        for domain in ["mailbox.example", "webmail.example"] {
            assert!(
                of(sender).iter().any(|r| r.domain == domain),
                "{sender} {domain}"
            );
        }
    }
}

// --- errors ------------------------------------------------------------------------------

const SMALL: &str = r#"[simulation]
name = "small"
duration = "1h"

[[senders]]
name = "app"
domain = "app.example"
arrivals = { process = "poisson", rate = "1/s" }
to = [{ domain = "dest.example" }]

[relay]
[relay.retry]
policy = "exponential"
initial = "5m"
cap = "1h"

[[domains]]
name = "dest.example"
mx = [{ host = "mx.dest.example" }]
"#;

#[test]
fn the_small_scenario_of_the_error_tests_is_valid() {
    Scenario::parse(SMALL, "small.toml").unwrap();
}

#[test]
fn a_typo_names_the_file_the_line_and_the_field() {
    let text = SMALL.replace("initial = ", "intial = ");
    let err = Scenario::parse(&text, "typo.toml").unwrap_err();
    // The line of the misspelt key.
    let line = text.lines().position(|l| l.starts_with("intial")).unwrap() + 1;
    assert_eq!(err.file, "typo.toml");
    assert_eq!(err.line, Some(line));
    assert_eq!(err.field, "relay.retry.intial");
    let shown = err.to_string();
    assert!(shown.starts_with(&format!("typo.toml:{line}:")), "{shown}");
    assert!(shown.contains(": relay.retry.intial: "), "{shown}");
    assert!(shown.contains("unknown field `intial`"), "{shown}");
    assert!(shown.contains("`initial`"), "{shown}");
}

#[test]
fn an_unknown_destination_names_the_sender_and_the_domain() {
    let text = SMALL.replace(
        "to = [{ domain = \"dest.example\" }]",
        "to = [{ domain = \"dset.example\" }]",
    );
    let err = Scenario::parse(&text, "typo.toml").unwrap_err();
    let line = text
        .lines()
        .position(|l| l.contains("dset.example"))
        .unwrap()
        + 1;
    assert_eq!(err.line, Some(line));
    assert_eq!(err.field, "senders[0].to[0].domain");
    let shown = err.to_string();
    assert!(shown.starts_with(&format!("typo.toml:{line}:")), "{shown}");
    assert!(
        shown.contains(": senders[0].to[0].domain: no [[domains]] entry named \"dset.example\""),
        "{shown}"
    );
}

#[test]
fn a_value_without_its_unit_is_explained() {
    let text = SMALL.replace("duration = \"1h\"", "duration = 3600");
    let err = Scenario::parse(&text, "units.toml").unwrap_err();
    assert_eq!(err.field, "simulation.duration");
    assert_eq!(err.line, Some(3));
    assert!(err.message.contains("\"3600s\""), "{err}");
}
