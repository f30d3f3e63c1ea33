//! Sweeps: the same scenario run at every combination of parameter values (a *point*), each
//! point replicated with seeds shared across points, and the tables that compare the points.
//!
//! - [`SweepDefinition`]: what is swept; it numbers points and runs the same way everywhere,
//!   so that shards of a sweep run on separate machines agree on what run `k` is.
//! - [`Shard`]: `i/n`, the runs `k` with `k % n == i - 1`.
//! - [`RunResult`]: what one run leaves: counts, [`Metrics`], and its histograms in
//!   HdrHistogram's V2 form (base64), so that results merge exactly.
//! - [`SweepOutput`]: the runs of a sweep (or of a shard of it); writes `sweep.csv`,
//!   `sweep_summary.csv` and `sweep.json`, reads `sweep.json` back and merges shards.

mod diff;
pub(crate) mod domains;
mod interval;
mod output;
mod precision;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use smtpsim_model::sim::RunStats;

use crate::ReportError;
use crate::domains::DomainFigures;
use crate::stats::{Exact, Stats};
use crate::summary::{Outcomes, encode_histogram};

pub use diff::{Comparison, Ranking, compare, higher_is_better, holm, rank};
pub use domains::{DomainRow, rows as domain_rows};
pub use interval::{Interval, t_quantile_975};
pub use output::{
    PointSummary, SWEEP_CSV, SWEEP_DIFF_CSV, SWEEP_DOMAINS_CSV, SWEEP_DOMAINS_SUMMARY_CSV,
    SWEEP_JSON, SWEEP_RANKING_CSV, SWEEP_SUMMARY_CSV, SweepError, SweepOutput,
};
pub use precision::{Precision, Target};

/// The most runs (points × replications) one sweep has: each point's scenario is kept in
/// memory and each run leaves a result of a few kilobytes.
pub const MAX_RUNS: usize = 100_000;

/// One swept field and its values, in the order given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweptField {
    /// The dotted path, such as `relay.retry.initial`.
    pub path: String,
    /// The values as written on the command line.
    pub values: Vec<String>,
}

/// What a sweep runs: the scenario, the swept fields, the replications and the options shared
/// by every run. Shards of one sweep have equal definitions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepDefinition {
    /// The scenario's name.
    pub scenario: String,
    /// The scenario file as given.
    pub file: String,
    /// A hash of the scenario file's text (hex), so that shards of different files are not
    /// merged.
    pub file_hash: String,
    /// The swept fields. Points run through the values with the last field varying fastest.
    pub parameters: Vec<SweptField>,
    /// Runs per point.
    pub replications: u32,
    /// The base seed given on the command line; without it each point's scenario seed.
    /// Replication `r` runs with base seed + `r`.
    pub seed: Option<u64>,
    /// `--messages`, if given.
    pub messages: Option<u64>,
    /// `--duration`, if given, as written.
    pub duration: Option<String>,
    /// The point the others are compared with in `sweep_diff.csv`.
    #[serde(default)]
    pub baseline: usize,
    /// Whether each point runs with its own seeds (`--independent`) rather than the seeds
    /// shared by every point; differences are then compared as independent samples.
    #[serde(default)]
    pub independent: bool,
    /// With `--precision`: replications are added in batches of [`SweepDefinition::replications`]
    /// to each point until the target is reached or the point has
    /// [`Precision::max_replications`]; the points can then have different numbers of
    /// replications.
    #[serde(default)]
    pub precision: Option<Precision>,
}

impl SweepDefinition {
    /// The number of points: the product of the numbers of values (1 with no fields).
    pub fn points(&self) -> usize {
        self.parameters.iter().map(|p| p.values.len()).product()
    }

    /// The number of runs: points × replications.
    pub fn runs(&self) -> usize {
        self.points() * self.replications as usize
    }

    /// The value index of each field at `point` (the last field varies fastest).
    pub fn indices(&self, point: usize) -> Vec<usize> {
        let mut rest = point;
        let mut indices = vec![0; self.parameters.len()];
        for (i, p) in self.parameters.iter().enumerate().rev() {
            indices[i] = rest % p.values.len();
            rest /= p.values.len();
        }
        indices
    }

    /// The value of each field at `point`.
    pub fn values(&self, point: usize) -> Vec<&str> {
        self.indices(point)
            .into_iter()
            .zip(&self.parameters)
            .map(|(i, p)| p.values[i].as_str())
            .collect()
    }

    /// The swept fields whose values are all durations (`60s`, `5m`), as (field index,
    /// `<path>_s`, the seconds of each value), so that tables carry them as numbers in SI
    /// units beside the text. Fields of plain numbers are numbers already and get no column.
    pub fn si_columns(&self) -> Vec<(usize, String, Vec<f64>)> {
        let seconds = |v: &str| {
            let v = v.trim();
            if v.parse::<f64>().is_ok() {
                return None;
            }
            v.parse::<smtpsim_des::SimDuration>()
                .ok()
                .map(|d| d.as_secs_f64())
        };
        self.parameters
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                let values: Option<Vec<f64>> = p.values.iter().map(|v| seconds(v)).collect();
                values.map(|s| (i, format!("{}_s", p.path), s))
            })
            .collect()
    }

    /// The header of the columns that name a point: the swept fields as written, then
    /// [`SweepDefinition::si_columns`].
    pub fn point_header(&self) -> Vec<String> {
        let mut header: Vec<String> = self.parameters.iter().map(|p| p.path.clone()).collect();
        header.extend(self.si_columns().into_iter().map(|(_, name, _)| name));
        header
    }

    /// The cells of [`SweepDefinition::point_header`] at `point`.
    pub fn point_cells(&self, point: usize) -> Vec<String> {
        let indices = self.indices(point);
        let mut cells: Vec<String> = self.values(point).into_iter().map(str::to_owned).collect();
        for (field, _, seconds) in self.si_columns() {
            cells.push(seconds[indices[field]].to_string());
        }
        cells
    }

    /// The number of runs if it is at most [`MAX_RUNS`], or why the sweep is too large
    /// (computed without overflow however many values are given).
    pub fn check_size(&self) -> Result<usize, String> {
        let runs = self
            .parameters
            .iter()
            .map(|p| p.values.len())
            .chain([self.max_replications() as usize])
            .try_fold(1usize, |acc, n| {
                acc.checked_mul(n).filter(|&r| r <= MAX_RUNS)
            });
        runs.ok_or_else(|| {
            let factors: Vec<String> = self
                .parameters
                .iter()
                .map(|p| format!("{} values of {}", p.values.len(), p.path))
                .chain([format!("{} replications", self.max_replications())])
                .collect();
            let product = self
                .parameters
                .iter()
                .map(|p| p.values.len() as f64)
                .product::<f64>()
                * f64::from(self.max_replications());
            format!(
                "the sweep has {} = {product:.3e} runs; a sweep has at most {MAX_RUNS} runs \
                 (split it, or give fewer values or replications)",
                factors.join(" × ")
            )
        })
    }

    /// The most replications a point can have: [`SweepDefinition::replications`], or the
    /// precision's maximum.
    pub fn max_replications(&self) -> u32 {
        self.precision.as_ref().map_or(self.replications, |p| {
            p.max_replications.max(self.replications)
        })
    }

    /// Run `k` is replication `k % replications` of point `k / replications`.
    pub fn run_at(&self, k: usize) -> (usize, u32) {
        let r = self.replications as usize;
        (k / r, (k % r) as u32)
    }

    /// The seed of replication `r` of `point` when the point's own seed is `point_seed`:
    /// base + `r` (the same at every point), or with [`SweepDefinition::independent`]
    /// base + `point` · 2³² + `r` (each point its own seeds).
    pub fn seed_of(&self, point_seed: u64, point: usize, replication: u32) -> u64 {
        let stride = if self.independent {
            (point as u64) << 32
        } else {
            0
        };
        self.seed
            .unwrap_or(point_seed)
            .wrapping_add(stride)
            .wrapping_add(u64::from(replication))
    }
}

/// A deterministic share of a sweep's runs: shard `index` of `count` (1-based) runs the runs
/// `k` with `k % count == index - 1`, so every shard gets some of every point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// 1 to `count`.
    pub index: u32,
    /// How many shards.
    pub count: u32,
}

impl Shard {
    /// Whether run `k` belongs to this shard.
    pub fn contains(&self, k: usize) -> bool {
        k % self.count as usize == (self.index - 1) as usize
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    /// `i/n` with `1 <= i <= n`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("invalid shard {s:?}: write i/n, such as 3/8 (1 <= i <= n)");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u32 = i.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

/// The figures compared between points, one value per run. A latency or queue-wait figure of
/// a run with no such time recorded is empty (`None`).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Metrics {
    /// Recipients delivered (inbox or spam), as a fraction of all recipients.
    pub delivery_rate: f64,
    /// Recipients bounced, as a fraction.
    pub bounce_rate: f64,
    /// Recipients expired, as a fraction.
    pub expiry_rate: f64,
    /// Mean latency of delivered recipients, seconds (exact to the microsecond).
    #[serde(default)]
    pub latency_mean_s: Option<f64>,
    /// Median latency of delivered recipients, seconds.
    pub latency_p50_s: Option<f64>,
    /// 90th percentile latency, seconds.
    pub latency_p90_s: Option<f64>,
    /// 99th percentile latency, seconds.
    pub latency_p99_s: Option<f64>,
    /// Largest latency, seconds (exact).
    pub latency_max_s: Option<f64>,
    /// Mean time waiting for a connection, seconds (exact to the microsecond).
    pub queue_wait_mean_s: Option<f64>,
    /// 99th percentile of the time waiting for a connection, seconds.
    pub queue_wait_p99_s: Option<f64>,
    /// Delivery attempts per recipient the relay tried to deliver.
    pub mean_attempts: f64,
    /// The most deliveries in the queue (active and deferred) at any instant.
    pub peak_queue_depth: f64,
}

impl Metrics {
    /// The metric names, as columns.
    pub const NAMES: [&'static str; 12] = [
        "delivery_rate",
        "bounce_rate",
        "expiry_rate",
        "latency_mean_s",
        "latency_p50_s",
        "latency_p90_s",
        "latency_p99_s",
        "latency_max_s",
        "queue_wait_mean_s",
        "queue_wait_p99_s",
        "mean_attempts",
        "peak_queue_depth",
    ];

    /// Whether the metric of that name can be empty (a time with no observation).
    pub fn optional(name: &str) -> bool {
        name.starts_with("latency_") || name.starts_with("queue_wait_")
    }

    /// The values in the order of [`Metrics::NAMES`].
    pub fn values(&self) -> [Option<f64>; 12] {
        [
            Some(self.delivery_rate),
            Some(self.bounce_rate),
            Some(self.expiry_rate),
            self.latency_mean_s,
            self.latency_p50_s,
            self.latency_p90_s,
            self.latency_p99_s,
            self.latency_max_s,
            self.queue_wait_mean_s,
            self.queue_wait_p99_s,
            Some(self.mean_attempts),
            Some(self.peak_queue_depth),
        ]
    }
}

/// What one run of a sweep leaves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    /// The point.
    pub point: usize,
    /// The replication.
    pub replication: u32,
    /// The seed it ran with.
    pub seed: u64,
    /// Messages generated.
    pub messages: u64,
    /// Recipients recorded.
    pub recipients: u64,
    /// Delivery attempts (message × domain).
    pub attempts: u64,
    /// Events processed.
    pub events: u64,
    /// Recipients per outcome.
    pub outcomes: Outcomes,
    /// Recipients by number of attempts.
    pub attempts_by_recipient: BTreeMap<u32, u64>,
    /// The figures compared between points.
    pub metrics: Metrics,
    /// Latency of delivered recipients, microseconds, V2 base64.
    pub latency: String,
    /// Queue wait, microseconds, V2 base64.
    pub queue_wait: String,
    /// Submission to giving up of bounced and expired recipients, microseconds, V2 base64.
    pub failure_latency: String,
    /// The exact count, extremes and sum of the latencies.
    pub latency_exact: Exact,
    /// The figures of each recipient domain, by name.
    #[serde(default)]
    pub domains: BTreeMap<String, DomainFigures>,
    /// The same of the queue waits.
    pub queue_wait_exact: Exact,
    /// The same of the failure latencies.
    pub failure_latency_exact: Exact,
}

impl RunResult {
    /// The result of a run from its aggregates and its totals.
    pub fn new(
        point: usize,
        replication: u32,
        seed: u64,
        stats: &Stats,
        run: &RunStats,
    ) -> Result<RunResult, ReportError> {
        let summary = stats.summary(run)?;
        let attempts = stats.attempts();
        let tried: u64 = attempts
            .iter()
            .filter(|(k, _)| **k > 0)
            .map(|(_, n)| n)
            .sum();
        let attempt_sum: u64 = attempts.iter().map(|(k, n)| u64::from(*k) * n).sum();
        let metrics = Metrics {
            delivery_rate: summary.rates.delivered,
            bounce_rate: summary.rates.bounced,
            expiry_rate: summary.rates.expired,
            latency_mean_s: summary.latency.mean_s,
            latency_p50_s: summary.latency.p50_s,
            latency_p90_s: summary.latency.p90_s,
            latency_p99_s: summary.latency.p99_s,
            latency_max_s: summary.latency.max_s,
            queue_wait_mean_s: summary.queue_wait.mean_s,
            queue_wait_p99_s: summary.queue_wait.p99_s,
            mean_attempts: if tried == 0 {
                0.0
            } else {
                attempt_sum as f64 / tried as f64
            },
            peak_queue_depth: run.peak_queue_depth as f64,
        };
        Ok(RunResult {
            point,
            replication,
            seed,
            messages: run.messages,
            recipients: stats.recipients(),
            attempts: run.attempts,
            events: run.events,
            outcomes: summary.outcomes,
            attempts_by_recipient: attempts,
            metrics,
            latency: encode_histogram(&stats.latency())?,
            queue_wait: encode_histogram(&stats.queue_wait())?,
            failure_latency: encode_histogram(&stats.failure_latency())?,
            latency_exact: stats.latency_exact(),
            domains: summary.domains,
            queue_wait_exact: *stats.queue_wait_exact(),
            failure_latency_exact: *stats.failure_latency_exact(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn definition() -> SweepDefinition {
        SweepDefinition {
            scenario: "s".into(),
            file: "s.toml".into(),
            file_hash: "0".into(),
            parameters: vec![
                SweptField {
                    path: "a".into(),
                    values: vec!["1".into(), "2".into()],
                },
                SweptField {
                    path: "b".into(),
                    values: vec!["x".into(), "y".into(), "z".into()],
                },
            ],
            replications: 4,
            seed: None,
            messages: None,
            duration: None,
            baseline: 0,
            independent: false,
            precision: None,
        }
    }

    #[test]
    fn sweeps_past_the_bound_are_refused_without_overflow() {
        let mut d = definition();
        assert_eq!(d.check_size(), Ok(24));
        d.parameters = (0..8)
            .map(|i| SweptField {
                path: format!("f{i}"),
                values: (0..1000).map(|v| v.to_string()).collect(),
            })
            .collect();
        let err = d.check_size().unwrap_err();
        assert!(err.contains("at most 100000 runs"), "{err}");
        assert!(err.contains("1000 values of f7"), "{err}");
    }

    #[test]
    fn points_run_last_field_fastest() {
        let d = definition();
        assert_eq!(d.points(), 6);
        assert_eq!(d.runs(), 24);
        assert_eq!(d.values(0), ["1", "x"]);
        assert_eq!(d.values(1), ["1", "y"]);
        assert_eq!(d.values(3), ["2", "x"]);
        assert_eq!(d.values(5), ["2", "z"]);
        assert_eq!(d.run_at(9), (2, 1));
        assert_eq!(d.seed_of(7, 2, 3), 10);
        let d = SweepDefinition {
            parameters: vec![],
            seed: Some(100),
            ..d
        };
        assert_eq!(d.points(), 1);
        assert_eq!(d.values(0), Vec::<&str>::new());
        assert_eq!(d.seed_of(7, 0, 3), 103);
        let d = SweepDefinition {
            independent: true,
            ..d
        };
        assert_eq!(d.seed_of(7, 0, 3), 103);
        assert_eq!(d.seed_of(7, 2, 3), 103 + (2 << 32));
    }

    #[test]
    fn shards_partition_the_runs() {
        let shards: Vec<Shard> = (1..=3).map(|i| format!("{i}/3").parse().unwrap()).collect();
        for k in 0..30 {
            assert_eq!(shards.iter().filter(|s| s.contains(k)).count(), 1);
        }
        for bad in ["0/3", "4/3", "3", "a/b", "1/0", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        assert_eq!("2/5".parse::<Shard>().unwrap().to_string(), "2/5");
    }
}
