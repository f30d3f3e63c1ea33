//! Summary figures: percentiles, rates and histogram encodings.

use crate::common;

use std::time::Duration;

use common::{Scratch, recipient};
use smtpsim_des::SimTime;
use smtpsim_model::sim::{Fate, Recorder, RunStats};
use smtpsim_proto::{EnhancedCode, Reply};
use smtpsim_report::{
    RunWriter, SIGNIFICANT_DIGITS, Stats, Summary, WriterOptions, decode_histogram,
};

/// Within HdrHistogram's precision at 3 significant digits.
fn close(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() <= expected * 1e-3
}

/// 100 delivered recipients with latencies of 1..=100 s, 8 bounced, 2 expired.
fn run(writer: &mut dyn Recorder) {
    let unknown = Reply::new_static(550, Some(EnhancedCode::new(5, 1, 1)), "no such user");
    let later = Reply::new_static(451, Some(EnhancedCode::new(4, 7, 1)), "try later");
    for s in 1..=100 {
        let fate = if s % 10 == 0 { Fate::Spam } else { Fate::Inbox };
        writer.recipient(&recipient(s, fate, s * 1000, None));
    }
    for id in 101..=108 {
        writer.recipient(&recipient(id, Fate::Bounced, 30_000, Some(&unknown)));
    }
    for id in 109..=110 {
        let mut r = recipient(id, Fate::Expired, 5 * 86_400_000, Some(&later));
        r.attempts = 12;
        writer.recipient(&r);
    }
}

fn stats() -> RunStats {
    RunStats {
        messages: 110,
        recipients: 110,
        attempts: 132,
        bounce_notices: 17,
        peak_queue_depth: 40,
        events: 5000,
        end: SimTime::from_secs(5 * 86_400 + 10),
        cancelled: false,
    }
}

fn summary_of_files(dir: &Scratch) -> Summary {
    let mut writer = RunWriter::create(dir.path(), WriterOptions::default()).unwrap();
    run(&mut writer);
    writer.finish(&stats(), Duration::from_secs(1)).unwrap()
}

#[test]
fn latency_percentiles_of_one_to_a_hundred_seconds() {
    let dir = Scratch::new("percentiles");
    let s = summary_of_files(&dir);
    let l = &s.latency;
    assert_eq!(l.count, 100);
    let value = |v: Option<f64>| v.expect("a figure of recorded values");
    // The extremes and the mean are exact; percentiles within 0.1%.
    assert_eq!(value(l.min_s), 1.0);
    assert_eq!(value(l.mean_s), 50.5);
    assert!(close(value(l.p50_s), 50.0), "p50 {:?}", l.p50_s);
    assert!(close(value(l.p90_s), 90.0), "p90 {:?}", l.p90_s);
    assert!(close(value(l.p99_s), 99.0), "p99 {:?}", l.p99_s);
    assert!(close(value(l.p99_9_s), 100.0), "p99.9 {:?}", l.p99_9_s);
    assert_eq!(value(l.max_s), 100.0);

    let f = &s.failure_latency;
    assert_eq!(f.count, 10);
    assert!(close(value(f.p50_s), 30.0));
    assert_eq!(value(f.max_s), 5.0 * 86_400.0);
    assert_eq!(s.queue_wait.count, 110);
    assert!(close(value(s.queue_wait.p99_s), 0.02));

    // summary.csv shows the same figures with six decimals.
    let csv = dir.read("summary.csv");
    assert!(csv.contains(&format!("latency,p50_s,{:.6}\n", value(l.p50_s))));
    assert!(csv.contains("latency,max_s,100.000000\n"));
}

#[test]
fn times_with_no_observation_are_empty() {
    let dir = Scratch::new("empty");
    let writer = RunWriter::create(dir.path(), WriterOptions::default()).unwrap();
    let s = writer.finish(&stats(), Duration::from_secs(1)).unwrap();
    assert_eq!(s.latency.count, 0);
    assert_eq!(
        (s.latency.p50_s, s.latency.max_s, s.queue_wait.mean_s),
        (None, None, None)
    );
    let csv = dir.read("summary.csv");
    for row in [
        "latency,count,0",
        "latency,p50_s,",
        "latency,max_s,",
        "queue_wait,mean_s,",
    ] {
        assert!(csv.lines().any(|l| l == row), "no {row:?} in\n{csv}");
    }
    let json: serde_json::Value = serde_json::from_str(&dir.read("summary.json")).unwrap();
    assert!(json["latency"]["p50_s"].is_null());
    assert!(json["queue_wait"]["mean_s"].is_null());
    assert_eq!(json["latency"]["count"], 0);
}

#[test]
fn counts_and_rates() {
    let dir = Scratch::new("rates");
    let s = summary_of_files(&dir);
    assert_eq!(s.run.recipients, 110);
    assert_eq!(s.outcomes.inbox, 90);
    assert_eq!(s.outcomes.spam, 10);
    assert_eq!(s.outcomes.bounced, 8);
    assert_eq!(s.outcomes.expired, 2);
    assert_eq!(s.rates.delivered, 100.0 / 110.0);
    assert_eq!(s.rates.bounced, 8.0 / 110.0);
    assert_eq!(
        s.failures.by_reason,
        [
            ("bounced 550 5.1.1".to_owned(), 8),
            ("expired 451 4.7.1".to_owned(), 2)
        ]
    );
    assert_eq!(
        s.failures.by_reply_code,
        [("451".to_owned(), 2), ("550".to_owned(), 8)]
    );
    assert_eq!(s.attempts.get(&1), Some(&108));
    assert_eq!(s.attempts.get(&12), Some(&2));
    let perf = s.performance.unwrap();
    assert_eq!(perf.wall_s, 1.0);
    assert_eq!(perf.events_per_sec, 5000.0);

    let csv = dir.read("summary.csv");
    for row in [
        "rate,delivered,0.909091",
        "rate,inbox,0.818182",
        "rate,spam,0.090909",
        "rate,bounced,0.072727",
        "rate,expired,0.018182",
        "rate,rejected_at_submission,0.000000",
    ] {
        assert!(csv.lines().any(|l| l == row), "no {row:?} in\n{csv}");
    }
}

#[test]
fn histograms_in_summary_json_decode_to_the_same_counts() {
    let dir = Scratch::new("decode");
    summary_of_files(&dir);
    let json: serde_json::Value = serde_json::from_str(&dir.read("summary.json")).unwrap();

    let mut direct = Stats::new();
    run(&mut direct);
    for (key, original) in [
        ("latency", &direct.latency()),
        ("failure_latency", &direct.failure_latency()),
        ("queue_wait", &direct.queue_wait()),
    ] {
        let encoded = json[key]["histogram"].as_str().unwrap();
        let decoded = decode_histogram(encoded).unwrap();
        assert_eq!(&decoded, original, "{key}");
        assert_eq!(decoded.len(), json[key]["count"].as_u64().unwrap());
        assert_eq!(decoded.sigfig(), SIGNIFICANT_DIGITS);
        for bucket in original.iter_recorded() {
            let value = bucket.value_iterated_to();
            assert_eq!(decoded.count_at(value), original.count_at(value));
        }
    }
    let latency = decode_histogram(json["latency"]["histogram"].as_str().unwrap()).unwrap();
    assert_eq!(latency.len(), 100);
    assert!(close(latency.value_at_quantile(0.5) as f64, 50e6));
}

#[test]
fn stats_without_files_give_the_same_summary() {
    let dir = Scratch::new("no-files");
    let mut from_files = summary_of_files(&dir);
    from_files.performance = None;
    let mut stats = Stats::new();
    run(&mut stats);
    assert_eq!(stats.summary(&self::stats()).unwrap(), from_files);
}

#[test]
fn merged_parts_equal_the_whole() {
    let (mut first, mut second, mut whole) = (Stats::new(), Stats::new(), Stats::new());
    run(&mut first);
    run(&mut whole);
    run(&mut second);
    run(&mut whole);
    first.merge(&second);
    let run = stats();
    let merged = first.summary(&run).unwrap();
    assert_eq!(merged, whole.summary(&run).unwrap());
    assert_eq!(merged.latency.count, 200);
}
