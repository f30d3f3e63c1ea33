//! The files of a sweep: `sweep.csv`, `sweep_summary.csv` and `sweep.json`; reading
//! `sweep.json` back and merging shards.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Comparison, Interval, Metrics, Ranking, RunResult, Shard, SweepDefinition};
use crate::ReportError;
use crate::files::write_files;
use crate::provenance::Provenance;
use crate::stats::{Exact, merge_histogram, new_histogram};
use crate::summary::{Distribution, Outcomes, decode_histogram};

/// A row per run: the point's values, the counts and the [`Metrics`].
pub const SWEEP_CSV: &str = "sweep.csv";
/// A row per point: mean, standard deviation and 95% confidence half-width of each metric.
pub const SWEEP_SUMMARY_CSV: &str = "sweep_summary.csv";
/// A row per point and metric: the difference from the baseline point with its 95% interval.
pub const SWEEP_DIFF_CSV: &str = "sweep_diff.csv";
/// A row per metric: the best point and whether it is better than every other at 95%.
pub const SWEEP_RANKING_CSV: &str = "sweep_ranking.csv";
/// Tidy: a row per run, recipient domain and figure.
pub const SWEEP_DOMAINS_CSV: &str = "sweep_domains.csv";
/// Tidy: a row per point, recipient domain and figure: the mean over replications with its
/// 95% interval, and the paired difference from the baseline point.
pub const SWEEP_DOMAINS_SUMMARY_CSV: &str = "sweep_domains_summary.csv";
/// Everything: the definition, the shard, the pooled points and every run with its histograms.
pub const SWEEP_JSON: &str = "sweep.json";

/// Why a sweep's files could not be written, read or merged.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// Writing failed, or a histogram could not be encoded or decoded.
    #[error(transparent)]
    Report(#[from] ReportError),
    /// `sweep.json` could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// `sweep.json` is not what a sweep writes.
    #[error("{}: not a sweep's output: {source}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: serde_json::Error,
    },
    /// The outputs do not belong together, or do not make up a whole sweep.
    #[error("{0}")]
    Merge(String),
}

/// The runs of a sweep, or of one shard of it, ordered by point and replication.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepOutput {
    /// What was swept.
    pub definition: SweepDefinition,
    /// The shard these runs are, or none for a whole sweep.
    pub shard: Option<Shard>,
    /// Where the runs came from: the command of the sweep, or those of the merged shards
    /// in shard order.
    #[serde(default)]
    pub provenance: Vec<Provenance>,
    /// The runs.
    pub runs: Vec<RunResult>,
}

/// One point, its replications pooled: counts added and histograms merged, so its
/// percentiles are those of all its recipients together; and each metric's [`Interval`] over
/// the replications.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PointSummary {
    /// The point.
    pub point: usize,
    /// The value of each swept field.
    pub values: Vec<String>,
    /// Replications present.
    pub replications: u64,
    /// Recipients per outcome, all replications.
    pub outcomes: Outcomes,
    /// Recipients by number of attempts, all replications.
    pub attempts_by_recipient: BTreeMap<u32, u64>,
    /// Latency of delivered recipients, all replications.
    pub latency: Distribution,
    /// Queue wait, all replications.
    pub queue_wait: Distribution,
    /// Submission to giving up of bounced and expired recipients, all replications.
    pub failure_latency: Distribution,
    /// Each metric over the replications, by name.
    pub metrics: BTreeMap<String, Interval>,
    /// With a precision target: whether this point's half-width reached it (if not, the
    /// point stopped at the most replications).
    pub precision_reached: Option<bool>,
}

/// The layout of `sweep.json`.
#[derive(Serialize)]
struct SweepFile<'a> {
    provenance: &'a [Provenance],
    definition: &'a SweepDefinition,
    shard: Option<Shard>,
    points: &'a [PointSummary],
    comparisons: &'a [Comparison],
    ranking: &'a [Ranking],
    runs: &'a [RunResult],
}

pub(super) fn fixed(value: f64) -> String {
    format!("{value:.6}")
}

/// Six decimals, or nothing for a figure with no observation.
pub(super) fn optional(value: Option<f64>) -> String {
    value.map(fixed).unwrap_or_default()
}

impl SweepOutput {
    /// The runs, sorted by point and replication.
    pub fn new(
        definition: SweepDefinition,
        shard: Option<Shard>,
        mut runs: Vec<RunResult>,
    ) -> Self {
        runs.sort_by_key(|r| (r.point, r.replication));
        SweepOutput {
            definition,
            shard,
            provenance: Vec::new(),
            runs,
        }
    }

    /// Each point with at least one run, pooled.
    pub fn points(&self) -> Result<Vec<PointSummary>, ReportError> {
        let mut points = Vec::new();
        for runs in self.runs.chunk_by(|a, b| a.point == b.point) {
            let point = runs[0].point;
            let mut outcomes = Outcomes::default();
            let mut attempts = BTreeMap::new();
            let mut latency = new_histogram();
            let mut queue_wait = new_histogram();
            let mut failure_latency = new_histogram();
            let mut exact = [Exact::default(); 3];
            for run in runs {
                exact[0].merge(&run.latency_exact);
                exact[1].merge(&run.queue_wait_exact);
                exact[2].merge(&run.failure_latency_exact);
                let o = &run.outcomes;
                outcomes.inbox += o.inbox;
                outcomes.spam += o.spam;
                outcomes.bounced += o.bounced;
                outcomes.expired += o.expired;
                outcomes.rejected_at_submission += o.rejected_at_submission;
                for (&k, &n) in &run.attempts_by_recipient {
                    *attempts.entry(k).or_insert(0) += n;
                }
                merge_histogram(&mut latency, &decode_histogram(&run.latency)?);
                merge_histogram(&mut queue_wait, &decode_histogram(&run.queue_wait)?);
                merge_histogram(
                    &mut failure_latency,
                    &decode_histogram(&run.failure_latency)?,
                );
            }
            let metrics = Metrics::NAMES
                .iter()
                .enumerate()
                .map(|(i, name)| {
                    let values: Vec<f64> =
                        runs.iter().filter_map(|r| r.metrics.values()[i]).collect();
                    (name.to_string(), Interval::of(&values))
                })
                .collect::<BTreeMap<String, Interval>>();
            let precision_reached = self
                .definition
                .precision
                .as_ref()
                .map(|p| p.reached(&metrics[&p.metric]));
            points.push(PointSummary {
                point,
                values: self
                    .definition
                    .values(point)
                    .into_iter()
                    .map(str::to_owned)
                    .collect(),
                replications: runs.len() as u64,
                outcomes,
                attempts_by_recipient: attempts,
                latency: Distribution::of(&latency, &exact[0])?,
                queue_wait: Distribution::of(&queue_wait, &exact[1])?,
                failure_latency: Distribution::of(&failure_latency, &exact[2])?,
                metrics,
                precision_reached,
            });
        }
        Ok(points)
    }

    /// `sweep.csv`.
    pub fn sweep_csv(&self) -> Result<Vec<u8>, csv::Error> {
        let mut csv = csv::Writer::from_writer(Vec::new());
        let point_header = self.definition.point_header();
        let mut header: Vec<&str> = vec!["point", "replication", "seed"];
        header.extend(point_header.iter().map(String::as_str));
        header.extend([
            "messages",
            "recipients",
            "attempts",
            "inbox",
            "spam",
            "bounced",
            "expired",
            "rejected_at_submission",
            "latency_count",
            "queue_wait_count",
        ]);
        header.extend(Metrics::NAMES);
        csv.write_record(&header)?;
        for run in &self.runs {
            let o = &run.outcomes;
            let mut row: Vec<String> = vec![
                run.point.to_string(),
                run.replication.to_string(),
                run.seed.to_string(),
            ];
            row.extend(self.definition.point_cells(run.point));
            row.extend(
                [
                    run.messages,
                    run.recipients,
                    run.attempts,
                    o.inbox,
                    o.spam,
                    o.bounced,
                    o.expired,
                    o.rejected_at_submission,
                    run.latency_exact.count,
                    run.queue_wait_exact.count,
                ]
                .map(|n| n.to_string()),
            );
            row.extend(run.metrics.values().map(optional));
            csv.write_record(&row)?;
        }
        csv.into_inner().map_err(|e| e.into_error().into())
    }

    /// Every point against the baseline, for every metric (see [`super::compare`]).
    pub fn comparisons(&self) -> Vec<Comparison> {
        let d = &self.definition;
        super::compare(&self.runs, d.points(), d.baseline, !d.independent)
    }

    /// The best point of every metric (see [`super::rank`]).
    pub fn ranking(&self) -> Vec<Ranking> {
        let d = &self.definition;
        super::rank(&self.runs, d.points(), !d.independent)
    }

    /// `sweep_diff.csv`: a row per point and metric.
    pub fn diff_csv(&self, comparisons: &[Comparison]) -> Result<Vec<u8>, csv::Error> {
        let mut csv = csv::Writer::from_writer(Vec::new());
        let point_header = self.definition.point_header();
        let mut header: Vec<&str> = vec!["point"];
        header.extend(point_header.iter().map(String::as_str));
        header.extend([
            "baseline",
            "paired",
            "metric",
            "n",
            "diff",
            "diff_ci95",
            "diff_low",
            "diff_high",
            "change_pct",
            "change_ci95_pct",
            "excludes_zero",
            "p_value",
        ]);
        csv.write_record(&header)?;
        for c in comparisons {
            let mut row: Vec<String> = vec![c.point.to_string()];
            row.extend(self.definition.point_cells(c.point));
            let low = c.diff.zip(c.diff_ci95).map(|(d, h)| d - h);
            let high = c.diff.zip(c.diff_ci95).map(|(d, h)| d + h);
            row.extend([
                self.definition.baseline.to_string(),
                (!self.definition.independent).to_string(),
                c.metric.clone(),
                c.n.to_string(),
                optional(c.diff),
                optional(c.diff_ci95),
                optional(low),
                optional(high),
                optional(c.change_pct),
                optional(c.change_ci95_pct),
                c.excludes_zero.to_string(),
                optional(c.p_value),
            ]);
            csv.write_record(&row)?;
        }
        csv.into_inner().map_err(|e| e.into_error().into())
    }

    /// `sweep_ranking.csv`: a row per metric.
    pub fn ranking_csv(&self, ranking: &[Ranking]) -> Result<Vec<u8>, csv::Error> {
        let mut csv = csv::Writer::from_writer(Vec::new());
        csv.write_record([
            "metric",
            "better",
            "best_point",
            "best_values",
            "best_mean",
            "runner_up_point",
            "holm_p_max",
            "better_than_all_95",
        ])?;
        for r in ranking {
            let values = r
                .best
                .map(|p| self.definition.values(p).join(" "))
                .unwrap_or_default();
            csv.write_record([
                r.metric.clone(),
                r.better.to_string(),
                r.best.map(|p| p.to_string()).unwrap_or_default(),
                values,
                optional(r.best_mean),
                r.runner_up.map(|p| p.to_string()).unwrap_or_default(),
                optional(r.holm_p_max),
                r.better_than_all_95.to_string(),
            ])?;
        }
        csv.into_inner().map_err(|e| e.into_error().into())
    }

    /// `sweep_summary.csv` from the pooled points.
    pub fn summary_csv(&self, points: &[PointSummary]) -> Result<Vec<u8>, csv::Error> {
        let mut csv = csv::Writer::from_writer(Vec::new());
        let mut header: Vec<String> = vec!["point".into()];
        header.extend(self.definition.point_header());
        header.push("replications".into());
        for name in Metrics::NAMES {
            // Replications with a value, for the figures a run can lack.
            if Metrics::optional(name) {
                header.push(format!("{name}_count"));
            }
            for stat in ["mean", "sd", "ci95"] {
                header.push(format!("{name}_{stat}"));
            }
        }
        header.extend(
            ["count", "mean_s", "p50_s", "p90_s", "p99_s", "max_s"]
                .map(|p| format!("pooled_latency_{p}")),
        );
        if self.definition.precision.is_some() {
            header.push("precision_reached".into());
        }
        csv.write_record(&header)?;
        for p in points {
            let mut row: Vec<String> = vec![p.point.to_string()];
            row.extend(self.definition.point_cells(p.point));
            row.push(p.replications.to_string());
            for name in Metrics::NAMES {
                let i = &p.metrics[name];
                if Metrics::optional(name) {
                    row.push(i.n.to_string());
                }
                row.extend([optional(i.mean), optional(i.sd), optional(i.ci95)]);
            }
            let l = &p.latency;
            row.push(l.count.to_string());
            row.extend([l.mean_s, l.p50_s, l.p90_s, l.p99_s, l.max_s].map(optional));
            if let Some(reached) = p.precision_reached {
                row.push(reached.to_string());
            }
            csv.write_record(&row)?;
        }
        csv.into_inner().map_err(|e| e.into_error().into())
    }

    /// Writes `sweep.csv`, `sweep_summary.csv` and `sweep.json` into `dir`, each whole or not
    /// at all; returns the pooled points.
    pub fn write(&self, dir: &Path) -> Result<Vec<PointSummary>, SweepError> {
        let points = self.points()?;
        let csv_error = |name: &str| {
            let path = dir.join(name);
            move |e: csv::Error| ReportError::Io {
                path,
                source: e.into(),
            }
        };
        let sweep = self.sweep_csv().map_err(csv_error(SWEEP_CSV))?;
        let summary = self
            .summary_csv(&points)
            .map_err(csv_error(SWEEP_SUMMARY_CSV))?;
        let comparisons = self.comparisons();
        let ranking = self.ranking();
        let diff = self
            .diff_csv(&comparisons)
            .map_err(csv_error(SWEEP_DIFF_CSV))?;
        let ranks = self
            .ranking_csv(&ranking)
            .map_err(csv_error(SWEEP_RANKING_CSV))?;
        let domains = super::domains::runs_csv(self).map_err(csv_error(SWEEP_DOMAINS_CSV))?;
        let domain_summary =
            super::domains::summary_csv(self).map_err(csv_error(SWEEP_DOMAINS_SUMMARY_CSV))?;
        let mut json = serde_json::to_string_pretty(&SweepFile {
            provenance: &self.provenance,
            definition: &self.definition,
            shard: self.shard,
            points: &points,
            comparisons: &comparisons,
            ranking: &ranking,
            runs: &self.runs,
        })
        .map_err(ReportError::Json)?;
        json.push('\n');
        write_files(
            dir,
            &[
                (SWEEP_CSV, &sweep),
                (SWEEP_SUMMARY_CSV, &summary),
                (SWEEP_DIFF_CSV, &diff),
                (SWEEP_RANKING_CSV, &ranks),
                (SWEEP_DOMAINS_CSV, &domains),
                (SWEEP_DOMAINS_SUMMARY_CSV, &domain_summary),
                (SWEEP_JSON, json.as_bytes()),
            ],
        )?;
        Ok(points)
    }

    /// Reads the `sweep.json` of a sweep's output directory.
    pub fn read(dir: &Path) -> Result<SweepOutput, SweepError> {
        let path = dir.join(SWEEP_JSON);
        let text = std::fs::read_to_string(&path).map_err(|source| SweepError::Read {
            path: path.clone(),
            source,
        })?;
        let output: SweepOutput =
            serde_json::from_str(&text).map_err(|source| SweepError::Parse {
                path: path.clone(),
                source,
            })?;
        let d = &output.definition;
        if d.baseline >= d.points() {
            return Err(SweepError::Merge(format!(
                "{}: the baseline point {} is outside the sweep ({} points)",
                path.display(),
                d.baseline,
                d.points()
            )));
        }
        if let Some(run) = output
            .runs
            .iter()
            .find(|r| r.point >= d.points() || r.replication >= d.max_replications())
        {
            return Err(SweepError::Merge(format!(
                "{}: run of point {} replication {} is outside the sweep ({} points × {} replications)",
                path.display(),
                run.point,
                run.replication,
                d.points(),
                d.max_replications()
            )));
        }
        Ok(output)
    }

    /// Merges the outputs of the shards of one sweep into the whole sweep: the same runs as
    /// an unsharded sweep, so the same files, byte for byte. The shards must have equal
    /// definitions, no run twice, and together every run.
    pub fn merge(mut parts: Vec<SweepOutput>) -> Result<SweepOutput, SweepError> {
        parts.sort_by_key(|p| p.shard.map(|s| s.index));
        let provenance: Vec<Provenance> = parts
            .iter()
            .flat_map(|p| p.provenance.iter().cloned())
            .collect();
        let mut parts = parts.into_iter();
        let first = parts
            .next()
            .ok_or_else(|| SweepError::Merge("nothing to merge".into()))?;
        let definition = first.definition;
        let mut seen = BTreeSet::new();
        let mut runs = Vec::with_capacity(definition.runs());
        let mut add = |shard: Option<Shard>, part_runs: Vec<RunResult>| {
            for run in part_runs {
                if !seen.insert((run.point, run.replication)) {
                    return Err(SweepError::Merge(format!(
                        "point {} replication {} is in two of the outputs (shard {} given twice?)",
                        run.point,
                        run.replication,
                        shard.map_or_else(|| "whole".to_string(), |s| s.to_string())
                    )));
                }
                runs.push(run);
            }
            Ok(())
        };
        add(first.shard, first.runs)?;
        for part in parts {
            if part.definition != definition {
                let why = if part.definition.file_hash != definition.file_hash {
                    "a different scenario file"
                } else {
                    "different --set, --replications, --seed, --messages, --duration, \
                     --baseline or --independent"
                };
                return Err(SweepError::Merge(format!(
                    "the outputs are not shards of one sweep: {why}"
                )));
            }
            add(part.shard, part.runs)?;
        }
        let total = definition.runs();
        if runs.len() != total {
            let missing = (0..total)
                .map(|k| definition.run_at(k))
                .find(|&(p, r)| !seen.contains(&(p, r)))
                .expect("fewer runs than the sweep has");
            return Err(SweepError::Merge(format!(
                "incomplete: {} of {total} runs are missing (the first: point {} replication {}); \
                 merge the outputs of every shard",
                total - runs.len(),
                missing.0,
                missing.1
            )));
        }
        let mut merged = SweepOutput::new(definition, None, runs);
        merged.provenance = provenance;
        Ok(merged)
    }
}
