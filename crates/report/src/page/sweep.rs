//! The report of a sweep, from `sweep.json`: each metric against each swept field.

use std::path::Path;

use super::charts;
use super::html::{Section, escape, page, table};
use super::{Chart, PageError};
use crate::sweep::{Metrics, SweepOutput};
use smtpsim_model::scenario::Duration;

/// What each metric is, for axis titles.
fn describe(metric: &str) -> &'static str {
    match metric {
        "delivery_rate" => "delivered, fraction of recipients",
        "bounce_rate" => "bounced, fraction of recipients",
        "expiry_rate" => "expired, fraction of recipients",
        "latency_mean_s" => "mean latency, seconds",
        "latency_p50_s" => "median latency, seconds",
        "latency_p90_s" => "p90 latency, seconds",
        "latency_p99_s" => "p99 latency, seconds",
        "latency_max_s" => "largest latency, seconds",
        "queue_wait_mean_s" => "mean queue wait, seconds",
        "queue_wait_p99_s" => "p99 queue wait, seconds",
        "mean_attempts" => "attempts per recipient tried",
        "peak_queue_depth" => "peak queue depth, deliveries",
        _ => "",
    }
}

/// The range a metric can take: rates are fractions, the others cannot be negative.
fn limits(metric: &str) -> (f64, f64) {
    if metric.ends_with("_rate") {
        charts::FRACTION
    } else {
        (0.0, f64::INFINITY)
    }
}

/// A swept value that is a duration (`"60s"`, `"5m"`), in seconds.
fn as_seconds(value: &str) -> Option<f64> {
    let text = value.trim().trim_matches('"');
    // A bare number is not a duration.
    if text.parse::<f64>().is_ok() {
        return None;
    }
    text.parse::<Duration>().ok().map(Duration::secs)
}

/// A swept value as a number: a duration in seconds, or a plain number.
fn as_number(value: &str) -> Option<f64> {
    as_seconds(value).or_else(|| value.trim().trim_matches('"').parse::<f64>().ok())
}

pub(super) fn report(dir: &Path) -> Result<(Vec<Chart>, String), PageError> {
    let output = SweepOutput::read(dir).map_err(|e| PageError::Parse {
        path: dir.join(crate::sweep::SWEEP_JSON),
        message: e.to_string(),
    })?;
    let points = output.points()?;
    let d = &output.definition;
    let mut charts = Vec::new();
    let mut sections_charts: Vec<(String, Vec<usize>)> = Vec::new();
    for (f, field) in d.parameters.iter().enumerate() {
        let x = charts::XValues::of(&field.values, as_number);
        let x_desc = match &x {
            charts::XValues::Numbers(_) if field.values.iter().any(|v| as_seconds(v).is_some()) => {
                format!("{}, seconds", field.path)
            }
            _ => field.path.clone(),
        };
        let mut in_section = Vec::new();
        for metric in Metrics::NAMES.iter() {
            // One series per combination of the other fields' values.
            let mut series: Vec<charts::Intervals> = Vec::new();
            let mut keys: Vec<Vec<usize>> = Vec::new();
            for p in &points {
                let indices = d.indices(p.point);
                let mut key = indices.clone();
                key.remove(f);
                let at = match keys.iter().position(|k| *k == key) {
                    Some(at) => at,
                    None => {
                        keys.push(key);
                        let name: Vec<String> = d
                            .parameters
                            .iter()
                            .enumerate()
                            .filter(|(g, _)| *g != f)
                            .map(|(g, other)| format!("{}={}", other.path, p.values[g]))
                            .collect();
                        let name = if name.is_empty() {
                            "mean ± 95% CI".to_string()
                        } else {
                            name.join(", ")
                        };
                        series.push((name, vec![(f64::NAN, None); field.values.len()]));
                        series.len() - 1
                    }
                };
                let interval = &p.metrics[*metric];
                // A metric no replication observed has no point (and the series may be empty).
                series[at].1[indices[f]] = (interval.mean.unwrap_or(f64::NAN), interval.ci95);
            }
            for (_, values) in &mut series {
                values.retain(|(mean, _)| mean.is_finite());
            }
            let name = format!("{}_vs_{}", metric, field.path.replace(['.', '[', ']'], "_"));
            let svg = charts::intervals(
                &format!("{metric} by {}", field.path),
                &x_desc,
                describe(metric),
                &x,
                limits(metric),
                &series,
            )?;
            in_section.push(charts.len());
            charts.push(Chart { name, svg });
        }
        sections_charts.push((field.path.clone(), in_section));
    }

    let mut header: Vec<String> = vec!["point".into()];
    header.extend(d.parameters.iter().map(|p| p.path.clone()));
    header.extend(
        [
            "runs",
            "delivered",
            "bounced",
            "expired",
            "p99 latency (s)",
            "mean attempts",
            "peak queue",
        ]
        .map(String::from),
    );
    let show = |p: &crate::sweep::PointSummary, metric: &str, scale: f64, digits: usize| {
        let i = &p.metrics[metric];
        match (i.mean, i.ci95) {
            (None, _) => "none".to_string(),
            (Some(mean), Some(ci)) => {
                format!("{:.digits$} ± {:.digits$}", mean * scale, ci * scale)
            }
            (Some(mean), None) => format!("{:.digits$}", mean * scale),
        }
    };
    let rows: Vec<Vec<String>> = points
        .iter()
        .map(|p| {
            let mut row = vec![p.point.to_string()];
            row.extend(p.values.iter().cloned());
            row.push(p.replications.to_string());
            row.push(format!("{}%", show(p, "delivery_rate", 100.0, 2)));
            row.push(format!("{}%", show(p, "bounce_rate", 100.0, 2)));
            row.push(format!("{}%", show(p, "expiry_rate", 100.0, 2)));
            row.push(show(p, "latency_p99_s", 1.0, 1));
            row.push(show(p, "mean_attempts", 1.0, 3));
            row.push(show(p, "peak_queue_depth", 1.0, 0));
            row
        })
        .collect();
    let mut sections = vec![Section {
        heading: "Points".into(),
        html: format!(
            "<p>Mean over the replications ± the half-width of its 95% confidence interval \
             (Student's t).</p>{}",
            table(&header, &rows)
        ),
        charts: Vec::new(),
    }];
    for (path, indices) in &sections_charts {
        sections.push(Section {
            heading: format!("By {path}"),
            html: String::new(),
            charts: indices.iter().map(|&i| &charts[i]).collect(),
        });
    }
    sections.insert(1, super::facts::comparisons(&output));
    sections.insert(2, super::facts::sweep_domains(&output));
    sections.push(super::facts::provenance(&output.provenance));
    let shard = output
        .shard
        .map(|s| format!(", shard {s}"))
        .unwrap_or_default();
    let intro = format!(
        "<p>Scenario <code>{}</code> ({}): {} points × {} replications{}. Replication r runs \
         with the same seed at every point (common random numbers).</p>",
        escape(&d.scenario),
        escape(&d.file),
        d.points(),
        d.replications,
        escape(&shard)
    );
    let html = page(&format!("smtpsim sweep: {}", d.scenario), &intro, &sections);
    Ok((charts, html))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swept_values_read_as_numbers() {
        assert_eq!(as_number("60s"), Some(60.0));
        assert_eq!(as_number("5m"), Some(300.0));
        assert_eq!(as_number("1.5"), Some(1.5));
        assert_eq!(as_seconds("1.5"), None, "a bare number is not a duration");
        assert_eq!(as_number("exponential"), None);
        assert_eq!(limits("delivery_rate"), charts::FRACTION);
        assert_eq!(limits("latency_p99_s").0, 0.0);
    }
}
