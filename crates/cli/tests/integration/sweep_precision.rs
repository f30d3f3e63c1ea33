//! `smtpsim sweep --precision`: replications in batches until a target, the same on any
//! number of threads, refused with a shard.

use crate::support;

use std::path::Path;
use support::{out_dir, scenario, smtpsim};

/// A two-point sweep of the greylisting scenario with a precision target on mean attempts.
fn precise(out: &Path, target: &str, jobs: &str) -> String {
    let greylisting = scenario("greylisting.toml");
    let (code, stdout, err) = smtpsim(&[
        "sweep",
        &greylisting,
        "--set",
        "relay.retry.initial=60s,300s",
        "--replications",
        "3",
        "--messages",
        "300",
        "--precision",
        target,
        "--max-replications",
        "12",
        "--jobs",
        jobs,
        "--no-report",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    stdout
}

/// (replications, mean, ci95 of mean_attempts, precision_reached) of each point.
fn points(out: &Path) -> Vec<(u32, f64, f64, String)> {
    let text = std::fs::read_to_string(out.join("sweep_summary.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    lines
        .map(|l| {
            let row: Vec<&str> = l.split(',').collect();
            (
                row[col("replications")].parse().unwrap(),
                row[col("mean_attempts_mean")].parse().unwrap(),
                row[col("mean_attempts_ci95")].parse().unwrap(),
                row[col("precision_reached")].to_string(),
            )
        })
        .collect()
}

#[test]
fn replications_are_added_until_the_target_or_the_maximum() {
    // A loose target: reached within the batches, at a multiple of 3 replications.
    let loose = out_dir("sweep-precision-loose");
    let stdout = precise(&loose, "mean_attempts=6%", "1");
    assert!(stdout.contains("in batches of 3"), "{stdout}");
    for (n, mean, half, reached) in points(&loose) {
        assert_eq!(reached, "true");
        assert!(half <= 0.06 * mean, "± {half} of {mean}");
        assert!(n % 3 == 0 && n < 12, "{n} replications");
    }
    // A target no run reaches: every point stops at the maximum, and says so.
    let tight = out_dir("sweep-precision-tight");
    let stdout = precise(&tight, "mean_attempts=0.01%", "1");
    assert!(stdout.contains("target NOT reached"), "{stdout}");
    for (n, mean, half, reached) in points(&tight) {
        assert_eq!((n, reached.as_str()), (12, "false"));
        assert!(half > 0.0001 * mean);
    }
    // The same replications on two threads.
    let two = out_dir("sweep-precision-two");
    precise(&two, "mean_attempts=6%", "2");
    for file in ["sweep.json", "sweep.csv", "sweep_diff.csv"] {
        assert_eq!(
            support::without_provenance(file, &std::fs::read(loose.join(file)).unwrap()),
            support::without_provenance(file, &std::fs::read(two.join(file)).unwrap()),
            "{file}"
        );
    }
}

#[test]
fn precision_is_refused_with_a_shard_and_with_bad_targets() {
    let out = out_dir("sweep-precision-errors");
    let greylisting = scenario("greylisting.toml");
    let o = out.to_str().unwrap();
    for (extra, expected) in [
        (
            &["--precision", "mean_attempts=2%", "--shard", "1/2"][..],
            "cannot be sharded",
        ),
        (&["--precision", "attempts=2%"][..], "unknown metric"),
        (&["--precision", "mean_attempts=5s"][..], "a time is for"),
        (
            &["--precision", "mean_attempts=2%", "--max-replications", "5"][..],
            "below --replications 10",
        ),
        (&["--baseline", "3"][..], "--baseline 3 is not a point"),
    ] {
        let mut args = vec!["sweep", &greylisting, "--out", o];
        args.extend(extra);
        let (code, _, err) = smtpsim(&args);
        assert_eq!(code, 2, "{extra:?}: {err}");
        assert!(err.contains(expected), "{extra:?}: {err}");
    }
    assert!(!out.exists());
}
