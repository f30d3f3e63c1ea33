//! The report of one run, from `summary.json` and `timeseries.csv`.

use std::path::Path;

use super::charts;
use super::html::{Section, page, table};
use super::{Chart, PageError, read};
use crate::summary::Summary;

/// At most this many failure reasons are drawn (the most frequent).
const MAX_REASONS: usize = 15;

/// Seconds in words, or `none` for a time with no observation (`null`).
fn secs_of(value: Option<f64>) -> String {
    value.map_or_else(|| "none".to_string(), secs)
}

fn secs(s: f64) -> String {
    if s < 1.0 {
        format!("{:.0} ms", s * 1000.0)
    } else if s < 120.0 {
        format!("{s:.1} s")
    } else if s < 7200.0 {
        format!("{:.1} min", s / 60.0)
    } else {
        format!("{:.1} h", s / 3600.0)
    }
}

/// The columns of `timeseries.csv`: time in hours, then the counts.
struct Timeseries {
    hours: Vec<f64>,
    columns: Vec<Vec<f64>>,
}

fn timeseries(path: &Path) -> Result<Timeseries, PageError> {
    let text = read(path)?;
    let bad = |message: String| PageError::Parse {
        path: path.to_owned(),
        message,
    };
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().map_err(|e| bad(e.to_string()))?.clone();
    if header.iter().collect::<Vec<_>>() != crate::TIMESERIES_HEADER {
        return Err(bad("not smtpsim's timeseries.csv header".into()));
    }
    let mut series = Timeseries {
        hours: Vec::new(),
        columns: vec![Vec::new(); 6],
    };
    for (line, row) in reader.records().enumerate() {
        let row = row.map_err(|e| bad(e.to_string()))?;
        let values: Vec<f64> = row
            .iter()
            .map(|v| v.parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|e| bad(format!("line {}: {e}", line + 2)))?;
        series.hours.push(values[0] / 3600.0);
        for (column, v) in series.columns.iter_mut().zip(&values[1..]) {
            column.push(*v);
        }
    }
    Ok(series)
}

/// When automation rules fired, in hours, from the automation rows of `events.csv` (none
/// without the file).
fn rule_firings(path: &Path) -> Result<Vec<f64>, PageError> {
    let Ok(file) = std::fs::File::open(path) else {
        return Ok(Vec::new());
    };
    let bad = |message: String| PageError::Parse {
        path: path.to_owned(),
        message,
    };
    let mut reader = csv::Reader::from_reader(std::io::BufReader::new(file));
    let mut firings = Vec::new();
    for (line, row) in reader.records().enumerate() {
        let row = row.map_err(|e| bad(e.to_string()))?;
        if row.get(4) == Some("automation") && row.get(5).is_some_and(|t| t.contains(" fired: ")) {
            let secs: f64 = row[0]
                .parse()
                .map_err(|e| bad(format!("line {}: {e}", line + 2)))?;
            firings.push(secs / 3600.0);
        }
    }
    Ok(firings)
}

/// Per-interval increases of a running total.
fn increases(hours: &[f64], totals: &[f64]) -> Vec<(f64, f64)> {
    let mut previous = 0.0;
    hours
        .iter()
        .zip(totals)
        .map(|(&h, &t)| {
            let step = (t - previous).max(0.0);
            previous = t;
            (h, step)
        })
        .collect()
}

pub(super) fn report(dir: &Path) -> Result<(Vec<Chart>, String), PageError> {
    let summary_path = dir.join(crate::SUMMARY_JSON);
    let bad = |message: &str| PageError::Parse {
        path: summary_path.clone(),
        message: message.to_string(),
    };
    let s = Summary::from_json(&read(&summary_path)?).map_err(|e| bad(&e.to_string()))?;
    let ts = timeseries(&dir.join(crate::TIMESERIES_CSV))?;
    let mut charts = Vec::new();
    let mut add = |name: &str, svg: String| {
        charts.push(Chart {
            name: name.to_string(),
            svg,
        });
    };

    // Latency CDF of delivered recipients, from the histogram itself.
    let histogram = s.latency.decode().map_err(|e| bad(&e.to_string()))?;
    let cdf: Vec<(f64, f64)> = if histogram.is_empty() {
        Vec::new()
    } else {
        histogram
            .iter_quantiles(4)
            .map(|q| {
                (
                    (q.value_iterated_to().max(1)) as f64 / 1e6,
                    q.quantile_iterated_to(),
                )
            })
            .collect()
    };
    add(
        "latency_cdf",
        charts::lines(
            "Latency of delivered recipients (CDF)",
            "submission to mailbox, seconds (log scale)",
            "fraction delivered within",
            &[("delivered".into(), cdf)],
            true,
        )?,
    );
    let [active, deferred, connections, delivered, deferrals, bounced] =
        [0, 1, 2, 3, 4, 5].map(|i| ts.columns.get(i).cloned().unwrap_or_default());
    let firings = rule_firings(&dir.join(crate::EVENTS_CSV))?;
    let marks = Some(("automation rule fired", firings.as_slice()));
    add(
        "deliveries",
        charts::marked_lines(
            "Deliveries over time (per timeseries interval)",
            "simulated time, hours",
            "recipients per interval",
            &[
                ("delivered".into(), increases(&ts.hours, &delivered)),
                ("bounced or expired".into(), increases(&ts.hours, &bounced)),
            ],
            false,
            marks,
        )?,
    );
    add(
        "deferrals",
        charts::marked_lines(
            "Deferrals over time (per timeseries interval)",
            "simulated time, hours",
            "recipient deferrals per interval",
            &[("deferred".into(), increases(&ts.hours, &deferrals))],
            false,
            marks,
        )?,
    );
    let zip = |v: &[f64]| ts.hours.iter().copied().zip(v.iter().copied()).collect();
    add(
        "queue_depth",
        charts::lines(
            "Queue depth over time",
            "simulated time, hours",
            "deliveries (message × domain)",
            &[
                ("active".into(), zip(&active)),
                ("deferred".into(), zip(&deferred)),
                ("connections open".into(), zip(&connections)),
            ],
            false,
        )?,
    );
    // Keys are attempt counts, in order.
    let (labels, values): (Vec<String>, Vec<f64>) = s
        .attempts
        .iter()
        .map(|(attempts, recipients)| (attempts.to_string(), *recipients as f64))
        .unzip();
    add(
        "attempts",
        charts::bars(
            "Delivery attempts per recipient",
            "attempts",
            "recipients",
            &labels,
            &values,
        )?,
    );
    let o = &s.outcomes;
    let outcomes = [
        ("inbox", o.inbox),
        ("spam", o.spam),
        ("bounced", o.bounced),
        ("expired", o.expired),
        ("rejected_at_submission", o.rejected_at_submission),
    ];
    let outcome_labels: Vec<String> = outcomes.iter().map(|(k, _)| k.replace('_', " ")).collect();
    let outcomes: Vec<f64> = outcomes.iter().map(|(_, n)| *n as f64).collect();
    add(
        "outcomes",
        charts::bars("Outcomes", "", "recipients", &outcome_labels, &outcomes)?,
    );
    let mut reasons: Vec<(String, f64)> = s
        .failures
        .by_reason
        .iter()
        .map(|(reason, n)| (reason.clone(), *n as f64))
        .collect();
    reasons.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    reasons.truncate(MAX_REASONS);
    let (reason_labels, reason_values): (Vec<String>, Vec<f64>) = reasons.into_iter().unzip();
    add(
        "failure_reasons",
        charts::horizontal_bars(
            "Undelivered recipients by reason and last reply",
            "recipients",
            &reason_labels,
            &reason_values,
        )?,
    );

    let (r, l, q) = (&s.rates, &s.latency, &s.queue_wait);
    let rows = vec![
        vec!["messages".into(), s.run.messages.to_string()],
        vec!["recipients".into(), s.run.recipients.to_string()],
        vec!["delivery attempts".into(), s.run.attempts.to_string()],
        vec![
            "delivered (inbox + spam)".into(),
            format!("{} ({:.2}%)", o.inbox + o.spam, r.delivered * 100.0),
        ],
        vec![
            "bounced".into(),
            format!("{} ({:.2}%)", o.bounced, r.bounced * 100.0),
        ],
        vec![
            "expired".into(),
            format!("{} ({:.2}%)", o.expired, r.expired * 100.0),
        ],
        vec![
            "latency p50 / p90 / p99 / max".into(),
            [l.p50_s, l.p90_s, l.p99_s, l.max_s]
                .map(secs_of)
                .join(" / "),
        ],
        vec![
            "queue wait mean / p99".into(),
            format!("{} / {}", secs_of(q.mean_s), secs_of(q.p99_s)),
        ],
        vec![
            "peak queue depth (deliveries)".into(),
            s.run.peak_queue_depth.to_string(),
        ],
    ];
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "run".into());
    let find = |n: &str| charts.iter().find(|c| c.name == n).expect("drawn above");
    let sections = vec![
        Section {
            heading: "Summary".into(),
            html: table(&["figure".into(), "value".into()], &rows),
            charts: vec![find("outcomes"), find("failure_reasons")],
        },
        Section {
            heading: "Latency".into(),
            html: String::new(),
            charts: vec![find("latency_cdf"), find("attempts")],
        },
        Section {
            heading: "Over time".into(),
            html: String::new(),
            charts: vec![find("deliveries"), find("deferrals"), find("queue_depth")],
        },
    ];
    let html = page(
        &format!("smtpsim run: {name}"),
        "<p>Simulated delivery: outcomes, latency and the relay's queue over simulated time.</p>",
        &sections,
    );
    Ok((charts, html))
}
