//! Each retry policy named after an MTA, with no other field, retries an always-deferred
//! delivery at the times that MTA's documentation and source give; every parameter can be
//! overridden; values out of range are refused with the file, line, column, field and range.
//!
//! Every run here: one message, submitted at `SUBMITTED`, to a domain whose MX refuses every
//! recipient for now (`temp_failures = 1.0`), attempts taking no time (`attempt_duration =
//! "0s"`), so each failure happens at its attempt's start. Times are in seconds.

use smtpsim_model::scenario::Scenario;
use smtpsim_model::sim::{self, Fate, Options, RecipientRecord, Recorder, StatusRecord};

/// What a run shows of the one message: when each attempt started and how it ended.
#[derive(Default)]
struct Attempts {
    starts: Vec<f64>,
    fate: Option<Fate>,
}

impl Recorder for Attempts {
    fn recipient(&mut self, record: &RecipientRecord<'_>) {
        self.fate = Some(record.fate);
    }

    fn wants_attempts(&self) -> bool {
        true
    }

    fn status(&mut self, record: &StatusRecord<'_>) {
        if let Some(start) = record.attempt_started {
            self.starts.push(start.as_micros() as f64 / 1e6);
        }
    }
}

fn scenario(submitted: &str, relay: &str) -> String {
    format!(
        r#"[simulation]
name = "retry"
duration = "1d"
messages = 1

[[senders]]
name = "app"
domain = "app.example"
arrivals = {{ process = "bursts", bursts = [{{ at = "{submitted}", count = 1 }}] }}
to = [{{ domain = "dest.example" }}]

[relay]
attempt_duration = "0s"
{relay}

[[domains]]
name = "dest.example"
mx = [{{ host = "mx.dest.example" }}]
behaviour = {{ temp_failures = 1.0 }}
"#
    )
}

/// Runs the one message with `relay` (the `[relay]` lines after `attempt_duration`).
fn run_with(submitted: &str, relay: &str, seed: u64) -> Attempts {
    let text = scenario(submitted, relay);
    let scenario = Scenario::parse(&text, "retry.toml").unwrap_or_else(|e| panic!("{e}"));
    let options = Options {
        seed: Some(seed),
        ..Options::default()
    };
    let mut attempts = Attempts::default();
    sim::run(&scenario, &options, &mut attempts).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(attempts.fate, Some(Fate::Expired), "{relay}");
    attempts
}

fn run(submitted: &str, relay: &str) -> Vec<f64> {
    run_with(submitted, relay, 1).starts
}

/// `start`, then `start` plus each running sum of `delays`.
fn cumulative(start: f64, delays: &[f64]) -> Vec<f64> {
    let mut times = vec![start];
    for d in delays {
        times.push(times.last().unwrap() + d);
    }
    times
}

const DAY: f64 = 86_400.0;

#[test]
fn postfix_defaults() {
    // Postfix (postconf(5)): queue_run_delay 300s, minimal_backoff_time 300s,
    // maximal_backoff_time 4000s, maximal_queue_lifetime 5d. After a failure the message
    // waits its age in whole seconds, clamped to [300, 4000], and goes at the first
    // deferred-queue scan (every 300 s from time 0) no earlier than one second before it is
    // due (qmgr_active.c). Submitted at 10:
    // - fails at 10, age 0 -> 300, due 310, scan 600;
    // - at 600 age 590, due 1190, scan 1200; at 1200 age 1190, due 2390, scan 2400;
    // - at 2400 age 2390, due 4790, scan 4800; at 4800 age 4790 -> 4000, due 8800, scan 9000;
    // - from then 4000 s, rounded up to the next scan: 4200 s apart, 9000 + 4200k.
    // The lifetime ends at 10 + 5d = 432010; the first failure at or after it, 9000 + 4200
    // × 101 = 433200, expires the message: 6 + 101 attempts.
    let starts = run("10s", r#"retry = { policy = "postfix" }"#);
    assert_eq!(
        starts[..8],
        [
            10.0, 600.0, 1200.0, 2400.0, 4800.0, 9000.0, 13200.0, 17400.0
        ]
    );
    assert_eq!(starts.len(), 107);
    assert_eq!(*starts.last().unwrap(), 433_200.0);
}

#[test]
fn postfix_overrides_and_a_lifetime_of_the_scenario_wins() {
    // queue_run_delay 60s, backoff 100..200 s, queue_lifetime 15m (the scenario's lifetime
    // wins over maximal_queue_lifetime). From 0: age 0 -> 100, due 100, scan 120; age 120,
    // due 240 (a scan); age 240 -> 200, due 440, scan 480; due 680, scan 720; due 920, scan
    // 960, at or past 900: expired.
    let relay = r#"queue_lifetime = "15m"
retry = { policy = "postfix", queue_run_delay = "60s", minimal_backoff = "100s", maximal_backoff = "200s" }"#;
    assert_eq!(run("0s", relay), [0.0, 120.0, 240.0, 480.0, 720.0, 960.0]);
}

#[test]
fn postfix_short_runs_age_whole_seconds_and_take_a_file_a_second_early() {
    // queue_run_delay 10s, backoff 10..80 s, queue_lifetime 5m, submitted at 100.3. Ages are
    // differences of whole seconds and a file is taken from one second before it is due:
    // - fails at 100.3, age 0 -> 10, due 100 + 10 = 110, taken by the scan at 110;
    // - at 110 age 10, due 120; at 120 age 20, due 140; at 140 age 40, due 180;
    // - at 180 age 80, due 260; then 80 s apart: 340, 420, at or past 400.3: expired.
    let relay = r#"queue_lifetime = "5m"
retry = { policy = "postfix", queue_run_delay = "10s", minimal_backoff = "10s", maximal_backoff = "80s" }"#;
    assert_eq!(
        run("100300ms", relay),
        [100.3, 110.0, 120.0, 140.0, 180.0, 260.0, 340.0, 420.0]
    );
}

#[test]
fn exim_defaults() {
    // Exim's default rule (configure.default): F,2h,15m; G,16h,1h,1.5; F,4d,6h, applied by
    // the time since the first failure (retry.c: `failing_interval <= rule->timeout`).
    // - F: every 900 s up to and including the failure at 7200 (7200 <= 2h): 0 … 7200, 8100.
    // - G from 8100: lastgap = min(predicted 900, actual 900) < 3600, so 3600 -> 11700;
    //   then 5400 -> 17100; 8100 -> 25200; 12150 -> 37350; 18225 -> 55575;
    //   at 55575 (< 16h) 27337.5 -> 82912.5.
    // - F,4d,6h: 82912.5 + 21600k while the failure is within 4d (345600): the failure at
    //   342112.5 (k = 12) schedules 363712.5, whose failure is past 4d: the address times
    //   out and the message bounces. No queue lifetime of its own (retry rules decide).
    let starts = run("0s", r#"retry = { policy = "exim" }"#);
    let mut expected: Vec<f64> = (0..=8).map(|k| 900.0 * k as f64).collect();
    expected.extend([8100.0, 11_700.0, 17_100.0, 25_200.0, 37_350.0, 55_575.0]);
    expected.extend((0..=13).map(|k| 82_912.5 + 21_600.0 * k as f64));
    assert_eq!(starts, expected);
}

#[test]
fn exim_queue_runs_and_the_smaller_gap() {
    // The default rules with a queue runner every 30 minutes (exim -q30m): an attempt waits
    // for the first run at or after its retry time.
    // - F: retry times 900 after each failure, runs every 1800: 0, 1800, 3600, 5400, 7200;
    //   at 7200 (still F) 8100 -> run 9000.
    // - G at 9000: predicted 900, actual 1800: lastgap 900 < 1h -> 3600: 12600 (a run).
    // - at 12600: min(3600, 3600) × 1.5 = 5400 -> 18000 (a run).
    // - at 18000: 8100 -> 26100 -> run 27000.
    // - at 27000: min(predicted 8100, actual 9000) = 8100 × 1.5 = 12150 -> 39150 -> run 39600
    //   (the actual gap would have given 40500).
    // - at 39600 (< 16h): min(12150, 12600) × 1.5 = 18225 -> 57825 -> run 59400.
    let starts = run(
        "0s",
        r#"retry = { policy = "exim", queue_run = "30m", retry_interval_max = "24h" }"#,
    );
    assert_eq!(
        starts[..11],
        [
            0.0, 1800.0, 3600.0, 5400.0, 7200.0, 9000.0, 12_600.0, 18_000.0, 27_000.0, 39_600.0,
            59_400.0
        ]
    );
}

#[test]
fn exim_rules_and_maximum_override() {
    // G,1d,10m,3 with retry_interval_max 1h: 600, then 1800, then 5400 cut to 3600: 0, 600,
    // 2400, 6000, 9600, … while the failure is within 1 day.
    let relay = r#"[relay.retry]
policy = "exim"
retry_interval_max = "1h"
rules = [{ kind = "G", until = "1d", interval = "10m", multiplier = 3.0 }]"#;
    let starts = run("0s", relay);
    assert_eq!(starts[..5], [0.0, 600.0, 2400.0, 6000.0, 9600.0]);
    // 2400 + 3600k until past 86400: k = 23 gives 85200; its retry, 88800, times out.
    assert_eq!(*starts.last().unwrap(), 88_800.0);
}

#[test]
fn kumomta_without_jitter() {
    // KumoMTA (QueueConfig): retry_interval 20m doubled per attempt (delay_for_attempt(n) =
    // 1200 × 2^n), no max_retry_interval, max_age 7d (604800). Delays 1200, 2400, 4800, …:
    // attempts at 0, 1200, 3600, 8400, 18000, 37200, 75600, 152400, 306000; at 306000 the
    // next delay, 307200, would end past max_age (306000 + 307200 > 604800): expired.
    let starts = run("0s", r#"retry = { policy = "kumomta", jitter = false }"#);
    assert_eq!(
        starts,
        cumulative(
            0.0,
            &[
                1200.0, 2400.0, 4800.0, 9600.0, 19_200.0, 38_400.0, 76_800.0, 153_600.0
            ]
        )
    );
}

#[test]
fn kumomta_jitter_stays_in_its_bounds() {
    // KumoMTA adds jitter of magnitude m = min(retry_interval / 20, 60 s) = 60 s, uniform in
    // [-30, 30) and truncated to whole seconds: each delay is within 30 s of 1200 × 2^n.
    let mut distinct = std::collections::BTreeSet::new();
    for seed in 1..=40 {
        let starts = run_with("0s", r#"retry = { policy = "kumomta" }"#, seed).starts;
        assert!(starts.len() >= 8, "{starts:?}");
        for (n, pair) in starts.windows(2).take(7).enumerate() {
            let delay = pair[1] - pair[0];
            let base = 1200.0 * 2f64.powi(n as i32);
            assert!(
                (delay - base).abs() <= 30.0,
                "seed {seed}: {delay} vs {base}"
            );
            assert_eq!(delay.fract(), 0.0, "whole seconds: {delay}");
            distinct.insert((delay - base) as i64);
        }
    }
    // The jitter does vary: 280 draws from 59 values.
    assert!(distinct.len() > 20, "{distinct:?}");
}

#[test]
fn kumomta_overrides() {
    // retry_interval 10m (jitter turned off), max_retry_interval 30m, queue_lifetime 2h
    // (KumoMTA's max_age): delays 600, 1200, 1800, 1800: 0, 600, 1800, 3600, 5400, 7200 (at
    // 5400, age + delay = 7200 is not above max_age); the failure at 7200 expires it.
    let relay = r#"queue_lifetime = "2h"
retry = { policy = "kumomta", retry_interval = "10m", max_retry_interval = "30m", jitter = false }"#;
    assert_eq!(
        run("0s", relay),
        [0.0, 600.0, 1800.0, 3600.0, 5400.0, 7200.0]
    );
}

#[test]
fn haraka_defaults() {
    // Haraka (outbound/config.js): without temp_fail_intervals, maxTempFailures 13 gives
    // 2^(i+5) s for i = 1 … 12: 64, 128, … 131072; the 13th temporary failure bounces
    // (hmail.js: num_failures > intervals). Attempt k starts at 64 + … + 2^(k+5) = 2^(k+6) −
    // 64: 0, 64, 192, 448, … 262080: 13 attempts.
    let starts = run("0s", r#"retry = { policy = "haraka" }"#);
    let expected: Vec<f64> = (0..13).map(|k| (1u64 << (k + 6)) as f64 - 64.0).collect();
    assert_eq!(starts, expected);
    assert_eq!(*starts.last().unwrap(), 262_080.0);
}

#[test]
fn haraka_overrides() {
    // temp_fail_intervals "1m, 5m*2" is [60, 300, 300]: 4 attempts.
    let relay = r#"retry = { policy = "haraka", temp_fail_intervals = ["1m", "5m", "5m"] }"#;
    assert_eq!(run("0s", relay), [0.0, 60.0, 360.0, 660.0]);
    // maxTempFailures 3: [64, 128].
    let relay = r#"retry = { policy = "haraka", max_temp_failures = 3 }"#;
    assert_eq!(run("0s", relay), [0.0, 64.0, 192.0]);
    // "none": bounce at the first temporary failure.
    let relay = r#"retry = { policy = "haraka", temp_fail_intervals = [] }"#;
    assert_eq!(run("0s", relay), [0.0]);
}

#[test]
fn exchange_defaults() {
    // Exchange (Set-TransportService): TransientFailureRetryCount 6 at
    // TransientFailureRetryInterval 5m, then MessageRetryInterval 15m, until
    // MessageExpirationTimeout 2d: 0, 300, … 1800, then 2700, 3600, …; the failure at
    // 1800 + 900 × 190 = 172800 (2d) expires the message: 7 + 190 attempts.
    let starts = run("0s", r#"retry = { policy = "exchange" }"#);
    assert_eq!(
        starts[..9],
        [
            0.0, 300.0, 600.0, 900.0, 1200.0, 1500.0, 1800.0, 2700.0, 3600.0
        ]
    );
    assert_eq!(starts.len(), 197);
    assert_eq!(*starts.last().unwrap(), 2.0 * DAY);
}

#[test]
fn exchange_overrides() {
    // 2 quick retries at 1m, then every 10m; lifetime 30m: 0, 60, 120, 720, 1320, 1920.
    let relay = r#"queue_lifetime = "30m"
retry = { policy = "exchange", transient_failure_retry_count = 2, transient_failure_retry_interval = "1m", message_retry_interval = "10m" }"#;
    assert_eq!(run("0s", relay), [0.0, 60.0, 120.0, 720.0, 1320.0, 1920.0]);
}

#[test]
fn sendmail_defaults() {
    // Sendmail with `-q30m`: a deferred message goes again at the next queue run (every
    // 1800 s from time 0), Timeout.queuereturn 5d. Submitted at 100: 100, 1800, 3600, …; the
    // lifetime ends at 432100, the first failure after it is the run at 1800 × 241 = 433800:
    // 1 + 241 attempts.
    let starts = run("100s", r#"retry = { policy = "sendmail" }"#);
    assert_eq!(starts[..4], [100.0, 1800.0, 3600.0, 5400.0]);
    assert_eq!(starts.len(), 242);
    assert_eq!(*starts.last().unwrap(), 433_800.0);
}

#[test]
fn sendmail_overrides() {
    // -q10m and MinQueueAge 15m, lifetime 1h (ends at 3700): after the failure at 100 the run
    // at 600 is too soon (not 900 s later), 1200 is not; after 1200, 1800 is too soon: 2400;
    // then 3600 (before 3700: retried), 4800 (past it: expired).
    let relay = r#"queue_lifetime = "1h"
retry = { policy = "sendmail", queue_interval = "10m", min_queue_age = "15m" }"#;
    assert_eq!(run("100s", relay), [100.0, 1200.0, 2400.0, 3600.0, 4800.0]);
}
