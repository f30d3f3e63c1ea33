//! `smtpsim sweep` and `smtpsim merge` as real processes: the same files whatever the number
//! of threads, shards that merge into the unsharded sweep byte for byte, and errors.

use crate::support;

use std::path::{Path, PathBuf};
use support::{out_dir, scenario, smtpsim, without_provenance};

fn read(dir: &Path, file: &str) -> Vec<u8> {
    std::fs::read(dir.join(file)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(file).display()))
}

const FILES: [&str; 7] = [
    "sweep.csv",
    "sweep_summary.csv",
    "sweep_diff.csv",
    "sweep_ranking.csv",
    "sweep_domains.csv",
    "sweep_domains_summary.csv",
    "sweep.json",
];

/// A small sweep of the greylisting scenario: 2 × 2 points, 3 replications, 200 messages.
fn sweep(out: &Path, extra: &[&str]) -> String {
    let greylisting = scenario("greylisting.toml");
    let mut args = vec![
        "sweep",
        &greylisting,
        "--set",
        "relay.retry.initial=60s,240s",
        "--set",
        "relay.retry.multiplier=1.5,2",
        "--replications",
        "3",
        "--messages",
        "200",
        "--no-report",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(extra);
    let (code, stdout, err) = smtpsim(&args);
    assert_eq!(code, 0, "{err}");
    stdout
}

#[test]
fn output_does_not_depend_on_the_number_of_threads() {
    let one = out_dir("sweep-jobs-1");
    let two = out_dir("sweep-jobs-2");
    let stdout = sweep(&one, &["--jobs", "1"]);
    assert!(
        stdout.contains("greylisting: 4 points × 3 replications"),
        "{stdout}"
    );
    sweep(&two, &["--jobs", "2"]);
    for file in FILES {
        assert_eq!(
            without_provenance(file, &read(&one, file)),
            without_provenance(file, &read(&two, file)),
            "{file} differs"
        );
    }
    // Where the output came from: the command, the scenario's SHA-256, every --set, and the
    // start time fixed by SMTPSIM_START_TIME.
    let json: serde_json::Value = serde_json::from_slice(&read(&one, "sweep.json")).unwrap();
    let p = &json["provenance"][0];
    assert_eq!(p["started"], "2026-01-01T00:00:00Z");
    assert_eq!(p["scenario_sha256"].as_str().unwrap().len(), 64);
    assert_eq!(p["set"][0], "relay.retry.initial=60s,240s");
    let command: Vec<&str> = p["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(command.ends_with(&["--jobs", "1"]), "{command:?}");
    // No per-run files unless asked.
    assert!(!one.join("runs").exists());

    let rows = String::from_utf8(read(&one, "sweep.csv")).unwrap();
    let mut lines = rows.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with(
        "point,replication,seed,relay.retry.initial,relay.retry.multiplier,relay.retry.initial_s,\
         messages,"
    ));
    for metric in [
        "delivery_rate",
        "latency_p99_s",
        "mean_attempts",
        "peak_queue_depth",
    ] {
        assert!(header.contains(metric), "{header}");
    }
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 12);
    // Common random numbers: replication r has the same seed at every point (the scenario's
    // seed, 7, plus r).
    for row in &rows {
        let replication: u64 = row[1].parse().unwrap();
        assert_eq!(row[2], (7 + replication).to_string());
        assert_eq!(row[6], "200");
    }
    // The swept durations also in seconds, beside their text.
    assert!(header.contains("relay.retry.initial_s"), "{header}");
    assert!(rows.iter().all(|r| r[5] == "60" || r[5] == "240"));
    // Tidy per-domain rows: 12 runs × 5 domains (the sender's own included when it
    // receives nothing: only domains with recipients) × 12 figures.
    let tidy = String::from_utf8(read(&one, "sweep_domains.csv")).unwrap();
    let tidy: Vec<Vec<&str>> = tidy
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(tidy.len(), 12 * 4 * 12);
    // Per domain, the recipients of a run add up to the run's.
    for row in rows.iter().take(3) {
        let recipients: u64 = tidy
            .iter()
            .filter(|t| t[0] == row[0] && t[1] == row[1] && t[7] == "recipients")
            .map(|t| t[8].parse::<u64>().unwrap())
            .sum();
        assert_eq!(recipients.to_string(), row[7]);
    }
    let summary = String::from_utf8(read(&one, "sweep_summary.csv")).unwrap();
    assert_eq!(summary.lines().count(), 5);
    assert!(
        summary
            .lines()
            .next()
            .unwrap()
            .contains("delivery_rate_ci95")
    );
}

#[test]
fn shards_merge_into_the_unsharded_sweep_byte_for_byte() {
    let whole = out_dir("sweep-whole");
    sweep(&whole, &[]);
    let shards: Vec<PathBuf> = (1..=3)
        .map(|i| {
            let dir = out_dir(&format!("sweep-shard-{i}"));
            let stdout = sweep(&dir, &["--shard", &format!("{i}/3")]);
            assert!(stdout.contains(&format!("(shard {i}/3)")), "{stdout}");
            dir
        })
        .collect();
    // Shards hold a share of the runs, of every point.
    let first = String::from_utf8(read(&shards[0], "sweep.csv")).unwrap();
    assert_eq!(first.lines().count(), 1 + 4);

    let merged = out_dir("sweep-merged");
    let mut args = vec!["merge"];
    let names: Vec<String> = shards.iter().map(|d| d.display().to_string()).collect();
    // Any order.
    args.extend(names.iter().rev().map(String::as_str));
    args.extend(["--no-report", "--out", merged.to_str().unwrap()]);
    let (code, stdout, err) = smtpsim(&args);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("12 runs from 3 outputs"), "{stdout}");
    for file in FILES {
        assert_eq!(
            without_provenance(file, &read(&whole, file)),
            without_provenance(file, &read(&merged, file)),
            "{file} differs"
        );
    }

    // Two shards only: incomplete.
    let (code, _, err) = smtpsim(&[
        "merge",
        &names[0],
        &names[1],
        "--out",
        merged.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("incomplete: 4 of 12 runs are missing"),
        "{err}"
    );
    // A shard twice.
    let (code, _, err) = smtpsim(&[
        "merge",
        &names[0],
        &names[0],
        &names[1],
        &names[2],
        "--out",
        merged.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("is in two of the outputs"), "{err}");
}

#[test]
fn outputs_of_different_sweeps_do_not_merge() {
    let a = out_dir("sweep-diff-a");
    let b = out_dir("sweep-diff-b");
    sweep(&a, &["--shard", "1/2"]);
    sweep(&b, &["--shard", "2/2", "--seed", "99"]);
    let out = out_dir("sweep-diff-merged");
    let (code, _, err) = smtpsim(&[
        "merge",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("not shards of one sweep"), "{err}");
    assert!(!out.exists());
    let (code, _, err) = smtpsim(&["merge", out.to_str().unwrap(), "--out", a.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read"), "{err}");
}

#[test]
fn run_files_on_request() {
    let out = out_dir("sweep-run-files");
    let (code, _, err) = smtpsim(&[
        "sweep",
        &scenario("validation/mm1.toml"),
        "--set",
        "relay.max_connections=1,2",
        "--replications",
        "2",
        "--messages",
        "100",
        "--run-files",
        "--trace",
        "sample:50",
        "--no-report",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    for point in 0..2 {
        for replication in 0..2 {
            let run = out.join(format!("runs/p{point:04}-r{replication:04}"));
            let messages = String::from_utf8(read(&run, "messages.csv")).unwrap();
            assert_eq!(messages.lines().count(), 101);
            let events = String::from_utf8(read(&run, "events.csv")).unwrap();
            assert!(events.lines().count() > 1);
        }
    }
}

#[test]
fn bad_settings_are_clear_errors() {
    let out = out_dir("sweep-errors");
    let greylisting = scenario("greylisting.toml");
    let o = out.to_str().unwrap();
    for (set, expected) in [
        ("relay.retry.intial=60s", "unknown field `intial`"),
        ("relay.retry.initial=6x", "--set relay.retry.initial=6x"),
        ("senders[4].name=x", "there are 1 entries"),
        ("relay.max_connections", "expected path=value"),
        (
            "domains[1].behaviour.greylisting.delay=soon",
            "domains[1].behaviour.greylisting",
        ),
    ] {
        let (code, _, err) = smtpsim(&["sweep", &greylisting, "--set", set, "--out", o]);
        assert_eq!(code, 2, "{set}: {err}");
        assert!(err.contains(expected), "{set}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let (code, _, err) = smtpsim(&[
        "sweep",
        &greylisting,
        "--set",
        "relay.max_connections=1",
        "--set",
        "relay.max_connections=2",
        "--out",
        o,
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("given twice"), "{err}");
    for bad in [["--shard", "4/3"], ["--replications", "0"], ["--jobs", "0"]] {
        let (code, _, err) = smtpsim(&["sweep", &greylisting, bad[0], bad[1], "--out", o]);
        assert_eq!(code, 2, "{bad:?}: {err}");
    }
    assert!(!out.exists());
}
