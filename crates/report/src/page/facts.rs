//! Tables of a report page that are not charts: where the output came from, each point
//! against the baseline, and the figures of each recipient domain.

use std::collections::BTreeMap;

use super::html::{Section, table};
use crate::domains::DomainFigures;
use crate::provenance::Provenance;
use crate::sweep::{Comparison, SweepOutput};

/// Six significant-looking decimals, or `none`.
fn num(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "none".to_string(), |v| format!("{v:.digits$}"))
}

/// The provenance of the output, one table per command.
pub(super) fn provenance(records: &[Provenance]) -> Section<'static> {
    let header = ["field", "value"].map(String::from);
    let html = records
        .iter()
        .map(|p| {
            let rows: Vec<Vec<String>> = p
                .rows()
                .into_iter()
                .map(|(k, v)| vec![k.to_string(), v])
                .collect();
            table(&header, &rows)
        })
        .collect::<String>();
    Section {
        heading: "Provenance".into(),
        html: if html.is_empty() {
            "<p>Not recorded.</p>".into()
        } else {
            html
        },
        charts: Vec::new(),
    }
}

/// A figure as its column reads best: counts whole, seconds with three significant digits
/// or one decimal, others with three decimals; `none` for no value.
fn figure(metric: &str, value: Option<f64>) -> String {
    match value {
        None => "none".to_string(),
        Some(v) if metric.ends_with("_s") => seconds(v),
        Some(v) if metric == "mean_attempts" => format!("{v:.3}"),
        Some(v) => super::charts::thousands(v as i64),
    }
}

/// Seconds with one decimal from 100 s on, else three significant digits.
fn seconds(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.1}")
    } else if v.abs() >= 10.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// The figures of each domain of a run.
pub(super) fn domains(figures: &BTreeMap<String, DomainFigures>) -> Section<'static> {
    // Two tables, outcomes and latency, each narrow enough to fit the page.
    let split = DomainFigures::NAMES
        .iter()
        .position(|n| n.starts_with("latency"))
        .unwrap_or(DomainFigures::NAMES.len());
    let html = [0..split, split..DomainFigures::NAMES.len()]
        .into_iter()
        .map(|columns| {
            let mut header = vec!["domain".to_string()];
            header.extend(
                DomainFigures::NAMES[columns.clone()]
                    .iter()
                    .map(|n| n.to_string()),
            );
            let rows: Vec<Vec<String>> = figures
                .iter()
                .map(|(name, f)| {
                    let values = f.values();
                    let mut row = vec![name.clone()];
                    row.extend(
                        columns
                            .clone()
                            .map(|i| figure(DomainFigures::NAMES[i], values[i])),
                    );
                    row
                })
                .collect();
            table(&header, &rows)
        })
        .collect();
    Section {
        heading: "Per domain".into(),
        html,
        charts: Vec::new(),
    }
}

/// A difference as `+1.234 ± 0.010 (+5.2% ± 0.4%)`, starred when its interval excludes 0.
fn diff(c: &Comparison) -> String {
    let Some(d) = c.diff else {
        return "none".into();
    };
    let mut s = format!("{d:+.3}");
    if let Some(h) = c.diff_ci95 {
        s.push_str(&format!(" ± {h:.3}"));
    }
    if let (Some(p), Some(h)) = (c.change_pct, c.change_ci95_pct) {
        s.push_str(&format!(" ({p:+.1}% ± {h:.1}%)"));
    }
    if c.excludes_zero {
        s.push_str(" *");
    }
    s
}

/// The metrics compared on the page.
const COMPARED: [&str; 5] = [
    "mean_attempts",
    "latency_mean_s",
    "latency_p50_s",
    "latency_p90_s",
    "delivery_rate",
];

/// Each point against the baseline, and the best point of each compared metric.
pub(super) fn comparisons(output: &SweepOutput) -> Section<'static> {
    let d = &output.definition;
    let all = output.comparisons();
    let mut header = vec!["point".to_string()];
    header.extend(d.parameters.iter().map(|p| p.path.clone()));
    header.extend(COMPARED.iter().map(|m| m.to_string()));
    let rows: Vec<Vec<String>> = (0..d.points())
        .map(|point| {
            let mut row = vec![point.to_string()];
            row.extend(d.values(point).into_iter().map(str::to_owned));
            for metric in COMPARED {
                let c = all.iter().find(|c| c.point == point && c.metric == metric);
                row.push(c.map_or_else(|| "none".into(), diff));
            }
            row
        })
        .collect();
    let ranking: Vec<Vec<String>> = output
        .ranking()
        .into_iter()
        .filter(|r| COMPARED.contains(&r.metric.as_str()))
        .map(|r| {
            vec![
                r.metric.clone(),
                r.better.to_string(),
                r.best.map_or_else(|| "none".into(), |p| p.to_string()),
                num(r.holm_p_max, 4),
                if r.better_than_all_95 { "yes" } else { "no" }.to_string(),
            ]
        })
        .collect();
    let pairing = if d.independent {
        "independent seeds: Welch's interval of the difference of the means"
    } else {
        "paired by replication (same seed): the interval of the mean of the differences"
    };
    Section {
        heading: format!("Against point {}", d.baseline),
        html: format!(
            "<p>Each point minus point {} (the baseline), {pairing}; 95% half-widths and the \
             relative change with its interval; * marks an interval that excludes 0.</p>{}\
             <p>The best point of each metric, tested against every other point (two-sided \
             t tests, Holm-adjusted): better than every other at 95% when the largest \
             adjusted p-value is below 0.05.</p>{}",
            d.baseline,
            table(&header, &rows),
            table(
                &[
                    "metric",
                    "better",
                    "best point",
                    "largest Holm p",
                    "better than all"
                ]
                .map(String::from),
                &ranking
            )
        ),
        charts: Vec::new(),
    }
}

/// Each point against the baseline per recipient domain: a table per figure shown (mean
/// attempts, mean and p90 latency), narrow enough to fit the page.
pub(super) fn sweep_domains(output: &SweepOutput) -> Section<'static> {
    let d = &output.definition;
    let rows = crate::sweep::domains::rows(output);
    let shown = ["mean_attempts", "latency_mean_s", "latency_p90_s"];
    let mut header = vec!["point".to_string()];
    header.extend(d.parameters.iter().map(|p| p.path.clone()));
    header.push("domain".into());
    header.push("mean ± 95%".into());
    header.push(format!("against point {}", d.baseline));
    let mut html = format!(
        "<p>Each recipient domain at each point: the mean over the replications, and the \
         difference from point {} (as above).</p>",
        d.baseline
    );
    for metric in shown {
        let table_rows: Vec<Vec<String>> = rows
            .iter()
            .filter(|r| r.metric == metric)
            .map(|r| {
                let mut row = vec![r.point.to_string()];
                row.extend(d.values(r.point).into_iter().map(str::to_owned));
                row.push(r.domain.to_string());
                let i = &r.interval;
                row.push(match (i.mean, i.ci95) {
                    (Some(mean), Some(h)) => format!(
                        "{} ± {}",
                        figure(metric, Some(mean)),
                        figure(metric, Some(h))
                    ),
                    (mean, _) => figure(metric, mean),
                });
                row.push(diff(&r.against_baseline));
                row
            })
            .collect();
        html.push_str(&format!("<h3>{metric}</h3>{}", table(&header, &table_rows)));
    }
    Section {
        heading: "Per domain".into(),
        html,
        charts: Vec::new(),
    }
}
