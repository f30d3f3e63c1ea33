//! The report of a sweep, from `sweep.json`: each metric against each swept field.

use std::collections::BTreeMap;
use std::path::Path;

use super::charts;
use super::html::{Section, escape, page, table};
use super::latency::MAX_DOMAIN_CHARTS;
use super::{Chart, PageError};
use crate::sweep::{Interval, Metrics, PointSummary, SweepDefinition, SweepOutput};
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

/// Where a swept field's values go on the x axis, and the axis' title.
fn x_axis(values: &[String], path: &str) -> (charts::XValues, String) {
    let x = charts::XValues::of(values, as_number);
    let desc = match &x {
        charts::XValues::Numbers(_) if values.iter().any(|v| as_seconds(v).is_some()) => {
            format!("{path}, seconds")
        }
        _ => path.to_string(),
    };
    (x, desc)
}

/// The metric drawn per domain.
const DOMAIN_METRIC: &str = "latency_p90_s";

/// The recipient domains with the most recipients over all runs (ties by name), at most
/// `most`, and how many domains there are.
fn largest_domains(output: &SweepOutput, most: usize) -> (Vec<&str>, usize) {
    let mut totals: BTreeMap<&str, u64> = BTreeMap::new();
    for run in &output.runs {
        for (name, f) in &run.domains {
            *totals.entry(name.as_str()).or_default() += f.recipients;
        }
    }
    let all = totals.len();
    let mut domains: Vec<(&str, u64)> = totals.into_iter().collect();
    domains.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    (domains.into_iter().take(most).map(|d| d.0).collect(), all)
}

/// Small multiples of [`DOMAIN_METRIC`] against each swept field, a chart per recipient
/// domain (the largest [`MAX_DOMAIN_CHARTS`]) on the same axes; the words above them. None
/// for a sweep of one domain.
fn domain_charts(
    output: &SweepOutput,
    points: &[PointSummary],
) -> Result<Option<(String, Vec<Chart>)>, PageError> {
    let (shown, all) = largest_domains(output, MAX_DOMAIN_CHARTS);
    if all < 2 {
        return Ok(None);
    }
    let d = &output.definition;
    let rows = crate::sweep::domain_rows(output);
    let by_point: BTreeMap<(usize, &str), &Interval> = rows
        .iter()
        .filter(|r| r.metric == DOMAIN_METRIC)
        .map(|r| ((r.point, r.domain), &r.interval))
        .collect();
    let mut drawn = Vec::new();
    for (f, field) in d.parameters.iter().enumerate() {
        let (x, x_desc) = x_axis(&field.values, &field.path);
        let series: Vec<Vec<charts::Intervals>> = shown
            .iter()
            .map(|domain| {
                series_along(d, points, f, |p| by_point.get(&(p.point, *domain)).copied())
            })
            .collect();
        let y = charts::interval_span(series.iter().flatten(), limits(DOMAIN_METRIC));
        for (domain, series) in shown.iter().zip(&series) {
            let svg = charts::small_intervals(
                &charts::IntervalChart {
                    title: domain,
                    x_desc: &x_desc,
                    y_desc: describe(DOMAIN_METRIC),
                    x: &x,
                    series,
                },
                y,
            )?;
            let name = format!(
                "{DOMAIN_METRIC}_vs_{}_{}",
                field.path.replace(['.', '[', ']'], "_"),
                domain.replace(
                    |c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'),
                    "_"
                )
            );
            drawn.push(Chart::small(name, svg));
        }
    }
    let which = if shown.len() < all {
        format!(
            "the {} domains with the most recipients, of {} (the table above lists them all)",
            shown.len(),
            charts::thousands(all as i64)
        )
    } else {
        "each recipient domain, the most recipients first".to_string()
    };
    let html = format!(
        "<p>The p90 latency of {}, against each swept field: the mean over the replications \
         ± its 95% confidence interval, the same axes for every domain.</p>",
        escape(&which)
    );
    Ok(Some((html, drawn)))
}

/// One series per combination of the other fields' values: each point's interval (from
/// `interval_of`) at its value of field `f`; a point without a mean has no mark (and a series
/// may be empty).
fn series_along<'a>(
    d: &SweepDefinition,
    points: &'a [PointSummary],
    f: usize,
    interval_of: impl Fn(&'a PointSummary) -> Option<&'a Interval>,
) -> Vec<charts::Intervals> {
    let field = &d.parameters[f];
    let mut series: Vec<charts::Intervals> = Vec::new();
    let mut keys: Vec<Vec<usize>> = Vec::new();
    for p in points {
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
        if let Some(interval) = interval_of(p) {
            series[at].1[indices[f]] = (interval.mean.unwrap_or(f64::NAN), interval.ci95);
        }
    }
    for (_, values) in &mut series {
        values.retain(|(mean, _)| mean.is_finite());
    }
    series
}

/// The table of the points: each one's swept values and main metrics, the mean over its
/// replications ± the half-width of the 95% confidence interval.
fn points_table(d: &SweepDefinition, points: &[PointSummary]) -> String {
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
    let show = |p: &PointSummary, metric: &str, scale: f64, digits: usize| {
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
    table(&header, &rows)
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
        let (x, x_desc) = x_axis(&field.values, &field.path);
        let mut in_section = Vec::new();
        for metric in Metrics::NAMES.iter() {
            let series = series_along(d, &points, f, |p| p.metrics.get(*metric));
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
            charts.push(Chart::new(name, svg));
        }
        sections_charts.push((field.path.clone(), in_section));
    }

    let domain_at = charts.len();
    let domain_html = match domain_charts(&output, &points)? {
        Some((html, small)) => {
            charts.extend(small);
            Some(html)
        }
        None => None,
    };
    let mut sections = vec![Section {
        heading: "Points".into(),
        html: format!(
            "<p>Mean over the replications ± the half-width of its 95% confidence interval \
             (Student's t).</p>{}",
            points_table(d, &points)
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
    if let Some(html) = domain_html {
        sections.insert(
            3,
            Section {
                heading: "Latency per domain".into(),
                html,
                charts: charts[domain_at..].iter().collect(),
            },
        );
    }
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
