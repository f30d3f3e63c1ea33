//! The per-domain tables of a sweep, in tidy form (one row per observation) so that a plot of
//! a figure against a swept field, one line per domain, is one call in pandas or seaborn:
//!
//! - `sweep_domains.csv`: a row per run, recipient domain and figure
//!   (`point, replication, seed, <swept fields>, domain, metric, value`);
//! - `sweep_domains_summary.csv`: a row per point, domain and figure: `n`, `mean`, `sd`,
//!   `ci95` over the replications, and the difference from the baseline point with its 95%
//!   interval (paired by replication unless the sweep is `--independent`).

use std::collections::BTreeSet;

use super::Comparison;
use super::diff::compare_two;
use super::output::optional;
use super::{Interval, SweepOutput};
use crate::domains::DomainFigures;

/// A figure as written: counts as integers, the rest with six decimals.
fn cell(metric: &str, value: Option<f64>) -> String {
    if metric.ends_with("_s") || metric == "mean_attempts" {
        optional(value)
    } else {
        value.map_or_else(String::new, |v| (v as u64).to_string())
    }
}

/// Every domain a run of the sweep saw, in order.
fn domains(output: &SweepOutput) -> BTreeSet<&str> {
    output
        .runs
        .iter()
        .flat_map(|r| r.domains.keys().map(String::as_str))
        .collect()
}

/// `sweep_domains.csv`.
pub(super) fn runs_csv(output: &SweepOutput) -> Result<Vec<u8>, csv::Error> {
    let d = &output.definition;
    let mut csv = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["point".to_string(), "replication".into(), "seed".into()];
    header.extend(d.point_header());
    header.extend(["domain", "metric", "value"].map(String::from));
    csv.write_record(&header)?;
    for run in &output.runs {
        let mut lead = vec![
            run.point.to_string(),
            run.replication.to_string(),
            run.seed.to_string(),
        ];
        lead.extend(d.point_cells(run.point));
        for (domain, figures) in &run.domains {
            for (metric, value) in DomainFigures::NAMES.iter().zip(figures.values()) {
                let mut row = lead.clone();
                row.extend([domain.clone(), metric.to_string(), cell(metric, value)]);
                csv.write_record(&row)?;
            }
        }
    }
    csv.into_inner().map_err(|e| e.into_error().into())
}

/// The values of figure `i` of `domain` at `point`, by replication.
fn values(output: &SweepOutput, point: usize, domain: &str, i: usize) -> Vec<(u32, f64)> {
    output
        .runs
        .iter()
        .filter(|r| r.point == point)
        .filter_map(|r| {
            let v = r.domains.get(domain)?.values()[i]?;
            Some((r.replication, v))
        })
        .collect()
}

/// One point, domain and figure: over the replications, and against the baseline.
#[derive(Debug, Clone)]
pub struct DomainRow<'a> {
    /// The point.
    pub point: usize,
    /// The recipient domain.
    pub domain: &'a str,
    /// One of [`DomainFigures::NAMES`].
    pub metric: &'static str,
    /// Over the point's replications.
    pub interval: Interval,
    /// The point minus the baseline point (paired unless the sweep is independent).
    pub against_baseline: Comparison,
}

/// Every point, domain and figure, in that order.
pub fn rows(output: &SweepOutput) -> Vec<DomainRow<'_>> {
    let d = &output.definition;
    let points: BTreeSet<usize> = output.runs.iter().map(|r| r.point).collect();
    let all = domains(output);
    let mut rows = Vec::new();
    for &point in &points {
        for &domain in &all {
            for (i, &metric) in DomainFigures::NAMES.iter().enumerate() {
                let here = values(output, point, domain, i);
                let plain: Vec<f64> = here.iter().map(|v| v.1).collect();
                let base = values(output, d.baseline, domain, i);
                let paired = !d.independent || point == d.baseline;
                let mut against_baseline = compare_two(&base, &here, paired);
                against_baseline.point = point;
                against_baseline.metric = metric.to_string();
                rows.push(DomainRow {
                    point,
                    domain,
                    metric,
                    interval: Interval::of(&plain),
                    against_baseline,
                });
            }
        }
    }
    rows
}

/// `sweep_domains_summary.csv`.
pub(super) fn summary_csv(output: &SweepOutput) -> Result<Vec<u8>, csv::Error> {
    let d = &output.definition;
    let mut csv = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["point".to_string()];
    header.extend(d.point_header());
    header.extend(
        [
            "domain",
            "metric",
            "n",
            "mean",
            "sd",
            "ci95",
            "diff",
            "diff_ci95",
            "change_pct",
            "change_ci95_pct",
            "excludes_zero",
        ]
        .map(String::from),
    );
    csv.write_record(&header)?;
    for r in rows(output) {
        let (interval, c) = (&r.interval, &r.against_baseline);
        let mut row = vec![r.point.to_string()];
        row.extend(d.point_cells(r.point));
        row.extend([
            r.domain.to_string(),
            r.metric.to_string(),
            interval.n.to_string(),
            optional(interval.mean),
            optional(interval.sd),
            optional(interval.ci95),
            optional(c.diff),
            optional(c.diff_ci95),
            optional(c.change_pct),
            optional(c.change_ci95_pct),
            c.excludes_zero.to_string(),
        ]);
        csv.write_record(&row)?;
    }
    csv.into_inner().map_err(|e| e.into_error().into())
}
