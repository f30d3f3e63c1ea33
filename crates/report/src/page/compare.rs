//! The page of `smtpsim compare`: the table, and the two outputs' latency CDFs, deliveries
//! over time and attempts overlaid.

use std::path::Path;

use hdrhistogram::Histogram;

use super::charts;
use super::html::{Section, page, table};
use super::{CHARTS_DIR, Chart, PageError, REPORT_HTML};
use crate::compare::stat::wilson;
use crate::compare::{COMPARE_HEADER, Comparison, Side};
use crate::files::write_files;

/// The CDF of a histogram of microseconds, in seconds.
fn cdf(h: &Histogram<u64>) -> Vec<(f64, f64)> {
    if h.is_empty() {
        return Vec::new();
    }
    h.iter_quantiles(4)
        .map(|q| {
            (
                q.value_iterated_to().max(1) as f64 / 1e6,
                q.quantile_iterated_to(),
            )
        })
        .collect()
}

/// Deliveries per hour between samples of a running total, up to the last sample with any.
fn per_hour(series: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut rates: Vec<(f64, f64)> = series
        .windows(2)
        .filter(|w| w[1].0 > w[0].0)
        .map(|w| (w[1].0, (w[1].1 - w[0].1).max(0.0) / (w[1].0 - w[0].0)))
        .collect();
    let last = rates.iter().rposition(|r| r.1 > 0.0).map_or(0, |i| i + 1);
    rates.truncate((last + 1).min(rates.len()));
    rates
}

/// Shares with the half-widths of their intervals.
type Shares = Vec<(f64, Option<f64>)>;

/// Each side's share of recipients per attempt count (over the counts either side has),
/// with the half-width of its Wilson interval.
fn attempt_shares(a: &Side, b: &Side) -> (Vec<String>, [Shares; 2]) {
    let keys: std::collections::BTreeSet<u32> = a
        .attempts
        .keys()
        .chain(b.attempts.keys())
        .copied()
        .collect();
    let labels = keys.iter().map(u32::to_string).collect();
    let shares = |s: &Side| {
        let n = s.recipients();
        keys.iter()
            .map(|k| {
                let count = s.attempts.get(k).copied().unwrap_or(0);
                let (lo, hi) = wilson(count, n);
                let share = if n == 0 { 0.0 } else { count as f64 / n as f64 };
                (share, Some((hi - lo) / 2.0))
            })
            .collect::<Vec<_>>()
    };
    (labels, [shares(a), shares(b)])
}

/// The names the two outputs go by: their folders' names, or `A`/`B` before them when equal.
fn names(a: &Path, b: &Path) -> (String, String) {
    let name = |p: &Path| {
        p.file_name().map_or_else(
            || p.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    };
    let (na, nb) = (name(a), name(b));
    if na == nb {
        (format!("A {na}"), format!("B {nb}"))
    } else {
        (na, nb)
    }
}

fn charts_of(c: &Comparison, a: &Side, b: &Side) -> Result<Vec<Chart>, PageError> {
    let (na, nb) = names(&c.a, &c.b);
    let (labels, [sa, sb]) = attempt_shares(a, b);
    let chart = Chart::new;
    Ok(vec![
        chart(
            "compare_latency_cdf",
            charts::lines(
                "Latency of delivered recipients (CDF)",
                "submission to mailbox, seconds (log scale)",
                "fraction delivered within",
                &[(na.clone(), cdf(&a.latency)), (nb.clone(), cdf(&b.latency))],
                true,
            )?,
        ),
        chart(
            "compare_deliveries",
            charts::lines(
                "Deliveries over time",
                "hours since the start",
                "recipients delivered per hour",
                &[
                    (na.clone(), per_hour(&a.delivered)),
                    (nb.clone(), per_hour(&b.delivered)),
                ],
                false,
            )?,
        ),
        chart(
            "compare_attempts",
            charts::intervals(
                "Attempts per recipient (share, 95% interval)",
                "attempts",
                "share of recipients",
                &charts::XValues::of(&labels, |v| v.parse().ok()),
                charts::FRACTION,
                &[(na, sa), (nb, sb)],
            )?,
        ),
    ])
}

/// Writes the charts and `report.html` of a comparison into `out`.
pub fn write_compare_report(
    out: &Path,
    c: &Comparison,
    a: &Side,
    b: &Side,
) -> Result<(), PageError> {
    let charts = charts_of(c, a, b)?;
    let header: Vec<String> = COMPARE_HEADER.iter().map(|h| h.to_string()).collect();
    let rows: Vec<Vec<String>> = c.rows.iter().map(|r| r.cells()).collect();
    let verdict = if c.agree {
        format!("The two agree: no test has p < {}.", c.alpha)
    } else {
        format!("The two disagree: {}.", c.disagreements.join(", "))
    };
    let intro = format!(
        "<p>A: {}<br>B: {}</p><p>{}</p>",
        super::html::escape(&c.a.display().to_string()),
        super::html::escape(&c.b.display().to_string()),
        super::html::escape(&verdict)
    );
    let sections = [
        Section {
            heading: "Side by side".into(),
            html: format!("<div class=\"wide\">{}</div>", table(&header, &rows)),
            charts: Vec::new(),
        },
        Section {
            heading: "Overlaid".into(),
            html: String::new(),
            charts: charts.iter().collect(),
        },
    ];
    let html = page("Comparison", &intro, &sections);
    let files: Vec<(String, &[u8])> = charts
        .iter()
        .map(|c| (format!("{}.svg", c.name), c.svg.as_bytes()))
        .collect();
    let files: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (n.as_str(), *b)).collect();
    write_files(&out.join(CHARTS_DIR), &files)?;
    write_files(out, &[(REPORT_HTML, html.as_bytes())])?;
    Ok(())
}
