//! Sweep outputs: pooled points, exact merging of shards, and what merging refuses.

use crate::common;

use common::recipient;
use smtpsim_des::SimTime;
use smtpsim_model::sim::{Fate, RunStats};
use smtpsim_report::sweep::{
    RunResult, Shard, SweepDefinition, SweepError, SweepOutput, SweptField,
};
use smtpsim_report::{Stats, new_histogram};

fn definition(replications: u32) -> SweepDefinition {
    SweepDefinition {
        scenario: "s".into(),
        file: "s.toml".into(),
        file_hash: "00".into(),
        parameters: vec![SweptField {
            path: "relay.retry.initial".into(),
            values: vec!["60s".into(), "300s".into()],
        }],
        replications,
        seed: None,
        messages: None,
        duration: None,
        baseline: 0,
        independent: false,
        precision: None,
    }
}

/// Run `k`: `10 + k` delivered recipients with latencies spread over seconds, one bounced.
fn result(d: &SweepDefinition, k: usize) -> RunResult {
    let (point, replication) = d.run_at(k);
    let mut stats = Stats::new();
    for i in 0..(10 + k as u64) {
        stats.record(&recipient(
            i,
            Fate::Inbox,
            100 + 997 * i * (point as u64 + 1),
            None,
        ));
    }
    stats.record(&recipient(99, Fate::Bounced, 5_000, None));
    let run = RunStats {
        messages: stats.recipients(),
        recipients: stats.recipients(),
        attempts: stats.recipients(),
        bounce_notices: 0,
        peak_queue_depth: 3 + k as u64,
        events: 100,
        end: SimTime::from_secs(600),
        cancelled: false,
    };
    RunResult::new(point, replication, 1 + u64::from(replication), &stats, &run).unwrap()
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("smtpsim-sweep-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn shards_merge_into_the_whole_sweep() {
    let d = definition(5);
    let whole = SweepOutput::new(
        d.clone(),
        None,
        (0..d.runs()).map(|k| result(&d, k)).collect(),
    );
    let shards: Vec<SweepOutput> = (1..=3)
        .map(|i| {
            let shard = Shard { index: i, count: 3 };
            let runs = (0..d.runs())
                .filter(|&k| shard.contains(k))
                .map(|k| result(&d, k))
                .collect();
            SweepOutput::new(d.clone(), Some(shard), runs)
        })
        .collect();
    // Through the files, as `smtpsim merge` does.
    let dirs: Vec<_> = shards
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let dir = scratch(&format!("shard{i}"));
            s.write(&dir).unwrap();
            dir
        })
        .collect();
    let read: Vec<SweepOutput> = dirs.iter().map(|d| SweepOutput::read(d).unwrap()).collect();
    let merged = SweepOutput::merge(read).unwrap();
    assert_eq!(merged, whole);

    let (a, b) = (scratch("whole"), scratch("merged"));
    whole.write(&a).unwrap();
    merged.write(&b).unwrap();
    for file in ["sweep.csv", "sweep_summary.csv", "sweep.json"] {
        assert_eq!(
            std::fs::read(a.join(file)).unwrap(),
            std::fs::read(b.join(file)).unwrap()
        );
    }
    for dir in dirs.iter().chain([&a, &b]) {
        std::fs::remove_dir_all(dir).unwrap();
    }
}

#[test]
fn pooled_points_are_exact_and_intervals_follow_the_runs() {
    let d = definition(4);
    let output = SweepOutput::new(
        d.clone(),
        None,
        (0..d.runs()).map(|k| result(&d, k)).collect(),
    );
    let points = output.points().unwrap();
    assert_eq!(points.len(), 2);
    // Point 1 pooled: the same histogram as recording every value of its runs at once.
    let mut all = new_histogram();
    let (mut max, mut sum) = (0, 0);
    for k in 4..8 {
        for i in 0..(10 + k as u64) {
            let micros = (100 + 997 * i * 2) * 1000;
            all.record(micros).unwrap();
            (max, sum) = (max.max(micros), sum + micros);
        }
    }
    let p = &points[1];
    assert_eq!(p.values, ["300s"]);
    assert_eq!(p.latency.count, all.len());
    let p99 = all.value_at_quantile(0.99).min(max);
    assert_eq!(p.latency.p99_s, Some(p99 as f64 / 1e6));
    // The extremes and the mean are exact, not histogram buckets.
    assert_ne!(all.max(), max);
    assert_eq!(p.latency.max_s, Some(max as f64 / 1e6));
    assert_eq!(p.latency.min_s, Some(0.1));
    let mean = (sum as f64 / all.len() as f64).round() / 1e6;
    assert_eq!(p.latency.mean_s, Some(mean));
    assert_eq!(p.outcomes.bounced, 4);
    let peak = &p.metrics["peak_queue_depth"];
    assert_eq!(peak.n, 4);
    assert_eq!(peak.mean, Some(3.0 + (4.0 + 5.0 + 6.0 + 7.0) / 4.0));
    assert!(peak.ci95.unwrap() > 0.0);
}

#[test]
fn merging_refuses_mixed_duplicated_and_incomplete_outputs() {
    let d = definition(2);
    let part = |shard: Shard, d: &SweepDefinition| {
        let runs = (0..d.runs())
            .filter(|&k| shard.contains(k))
            .map(|k| result(d, k))
            .collect();
        SweepOutput::new(d.clone(), Some(shard), runs)
    };
    let one = Shard { index: 1, count: 2 };
    let two = Shard { index: 2, count: 2 };
    let message = |e: SweepError| e.to_string();

    let e = SweepOutput::merge(vec![part(one, &d)]).unwrap_err();
    assert!(message(e).contains("incomplete: 2 of 4 runs are missing"));
    let e = SweepOutput::merge(vec![part(one, &d), part(one, &d), part(two, &d)]).unwrap_err();
    assert!(message(e).contains("in two of the outputs"));
    let other = SweepDefinition {
        file_hash: "ff".into(),
        ..d.clone()
    };
    let e = SweepOutput::merge(vec![part(one, &d), part(two, &other)]).unwrap_err();
    assert!(message(e).contains("a different scenario file"));
    let other = SweepDefinition {
        replications: 3,
        ..d.clone()
    };
    let e = SweepOutput::merge(vec![part(one, &d), part(two, &other)]).unwrap_err();
    assert!(message(e).contains("not shards of one sweep"));
    assert!(SweepOutput::merge(vec![]).is_err());
}

#[test]
fn runs_without_deliveries_leave_latencies_empty() {
    let d = definition(2);
    // Point 0 delivers nothing: one bounce a run.
    let runs = (0..d.runs())
        .map(|k| {
            let (point, replication) = d.run_at(k);
            if point == 1 {
                return result(&d, k);
            }
            let mut stats = Stats::new();
            stats.record(&recipient(1, Fate::Bounced, 5_000, None));
            let run = RunStats {
                messages: 1,
                recipients: 1,
                attempts: 1,
                bounce_notices: 1,
                peak_queue_depth: 1,
                events: 10,
                end: SimTime::from_secs(60),
                cancelled: false,
            };
            RunResult::new(point, replication, 1, &stats, &run).unwrap()
        })
        .collect();
    let output = SweepOutput::new(d, None, runs);
    let points = output.points().unwrap();
    assert_eq!(points[0].latency.count, 0);
    assert_eq!(points[0].latency.max_s, None);
    assert_eq!(points[0].metrics["latency_p99_s"].n, 0);
    assert_eq!(points[0].metrics["latency_p99_s"].mean, None);
    let csv = String::from_utf8(output.sweep_csv().unwrap()).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let first: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(first[column("latency_count")], "0");
    assert_eq!(first[column("latency_p99_s")], "");
    assert_eq!(first[column("queue_wait_count")], "1");
    let summary = String::from_utf8(output.summary_csv(&points).unwrap()).unwrap();
    let header: Vec<&str> = summary.lines().next().unwrap().split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let first: Vec<&str> = summary.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(first[column("latency_p99_s_count")], "0");
    assert_eq!(first[column("latency_p99_s_mean")], "");
    assert_eq!(first[column("pooled_latency_count")], "0");
    assert_eq!(first[column("pooled_latency_max_s")], "");
    let second: Vec<&str> = summary.lines().nth(2).unwrap().split(',').collect();
    assert_eq!(second[column("latency_p99_s_count")], "2");
    assert_ne!(second[column("pooled_latency_max_s")], "");
}
