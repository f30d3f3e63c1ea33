//! Common random numbers pay off: the paired intervals of a difference are narrower than those
//! of independent seeds, over several base seeds; the baseline's difference from itself is 0.

use smtpsim_report::sweep::Comparison;
use smtpsim_sweep::{EXAMPLE_SCENARIO, Runner, Sweep, SweepSpec};

/// The comparisons of a two-point sweep of the example scenario (first retry after 1 or
/// 5 minutes), 8 replications from `seed`.
fn compare(dir: &std::path::Path, seed: u64, independent: bool) -> Vec<Comparison> {
    let path = dir.join("tiny.toml");
    std::fs::write(&path, EXAMPLE_SCENARIO).unwrap();
    let mut spec = SweepSpec::new(&path);
    spec.set
        .push("relay.retry.initial=60s,300s".parse().unwrap());
    spec.replications = 8;
    spec.seed = Some(seed);
    spec.independent = independent;
    let output = Sweep::load(&spec)
        .unwrap()
        .run(&Runner::new().jobs(2))
        .unwrap();
    output.comparisons()
}

fn half_width(rows: &[Comparison], metric: &str) -> f64 {
    rows.iter()
        .find(|c| c.point == 1 && c.metric == metric)
        .and_then(|c| c.diff_ci95)
        .unwrap_or_else(|| panic!("no interval for {metric}"))
}

#[test]
fn paired_intervals_are_narrower_than_independent_ones() {
    let dir = tempfile::tempdir().unwrap();
    for seed in [1, 50, 900] {
        let paired = compare(dir.path(), seed, false);
        let independent = compare(dir.path(), seed, true);
        let metric = "mean_attempts";
        let (p, i) = (
            half_width(&paired, metric),
            half_width(&independent, metric),
        );
        assert!(p < i, "seed {seed} {metric}: paired ± {p} against ± {i}");
        // A median can be the same histogram bucket in every replication of a point: then
        // pairing has no noise to cancel, and the two intervals are equal.
        let metric = "latency_p50_s";
        let (p, i) = (
            half_width(&paired, metric),
            half_width(&independent, metric),
        );
        assert!(p <= i, "seed {seed} {metric}: paired ± {p} against ± {i}");
        // The baseline against itself: 0 with no spread, and not "different".
        let own = paired
            .iter()
            .find(|c| c.point == 0 && c.metric == "mean_attempts")
            .unwrap();
        assert_eq!((own.diff, own.diff_ci95), (Some(0.0), Some(0.0)));
        assert!(!own.excludes_zero);
        // A later first retry means fewer attempts against the 2-minute greylist.
        let attempts = paired
            .iter()
            .find(|c| c.point == 1 && c.metric == "mean_attempts")
            .unwrap();
        assert!(attempts.excludes_zero && attempts.diff.unwrap() < 0.0);
    }
}
