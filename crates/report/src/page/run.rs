//! The report of one run, from `summary.json` and `timeseries.csv`.

use std::path::Path;

use serde_json::Value;

use super::charts;
use super::html::{Section, page, table};
use super::{Chart, PageError, parse_json, read};
use crate::summary::decode_histogram;

/// At most this many failure reasons are drawn (the most frequent).
const MAX_REASONS: usize = 15;

fn number(value: &Value) -> f64 {
    value.as_f64().unwrap_or(0.0)
}

/// Seconds in words, or `none` for a time with no observation (`null`).
fn secs_of(value: &Value) -> String {
    value.as_f64().map_or_else(|| "none".to_string(), secs)
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
    let s = parse_json(&summary_path)?;
    let bad = |message: &str| PageError::Parse {
        path: summary_path.clone(),
        message: message.to_string(),
    };
    let ts = timeseries(&dir.join(crate::TIMESERIES_CSV))?;
    let mut charts = Vec::new();
    let mut add = |name: &str, svg: String| {
        charts.push(Chart {
            name: name.to_string(),
            svg,
        });
    };

    // Latency CDF of delivered recipients, from the histogram itself.
    let encoded = s["latency"]["histogram"]
        .as_str()
        .ok_or_else(|| bad("no latency histogram"))?;
    let histogram = decode_histogram(encoded).map_err(|e| bad(&e.to_string()))?;
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
    let [
        active,
        deferred,
        connections,
        delivered,
        _deferrals,
        bounced,
    ] = [0, 1, 2, 3, 4, 5].map(|i| ts.columns.get(i).cloned().unwrap_or_default());
    add(
        "deliveries",
        charts::lines(
            "Deliveries over time (per timeseries interval)",
            "simulated time, hours",
            "recipients per interval",
            &[
                ("delivered".into(), increases(&ts.hours, &delivered)),
                ("bounced or expired".into(), increases(&ts.hours, &bounced)),
            ],
            false,
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
    let attempts: Vec<(String, f64)> = s["attempts"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), number(v))).collect())
        .unwrap_or_default();
    let mut attempts = attempts;
    attempts.sort_by_key(|(k, _)| k.parse::<u64>().unwrap_or(u64::MAX));
    let (labels, values): (Vec<String>, Vec<f64>) = attempts.into_iter().unzip();
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
    let outcome_names = [
        "inbox",
        "spam",
        "bounced",
        "expired",
        "rejected_at_submission",
    ];
    let outcomes: Vec<f64> = outcome_names
        .iter()
        .map(|k| number(&s["outcomes"][k]))
        .collect();
    let outcome_labels: Vec<String> = outcome_names.iter().map(|k| k.replace('_', " ")).collect();
    add(
        "outcomes",
        charts::bars("Outcomes", "", "recipients", &outcome_labels, &outcomes)?,
    );
    let mut reasons: Vec<(String, f64)> = s["failures"]["by_reason"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), number(v))).collect())
        .unwrap_or_default();
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

    let o = &s["outcomes"];
    let r = &s["rates"];
    let l = &s["latency"];
    let q = &s["queue_wait"];
    let mut rows = vec![
        vec!["messages".into(), s["run"]["messages"].to_string()],
        vec!["recipients".into(), s["run"]["recipients"].to_string()],
        vec!["delivery attempts".into(), s["run"]["attempts"].to_string()],
        vec![
            "delivered (inbox + spam)".into(),
            format!(
                "{} ({:.2}%)",
                number(&o["inbox"]) + number(&o["spam"]),
                number(&r["delivered"]) * 100.0
            ),
        ],
        vec![
            "bounced".into(),
            format!("{} ({:.2}%)", o["bounced"], number(&r["bounced"]) * 100.0),
        ],
        vec![
            "expired".into(),
            format!("{} ({:.2}%)", o["expired"], number(&r["expired"]) * 100.0),
        ],
        vec![
            "latency p50 / p90 / p99 / max".into(),
            ["p50_s", "p90_s", "p99_s", "max_s"]
                .map(|k| secs_of(&l[k]))
                .join(" / "),
        ],
        vec![
            "queue wait mean / p99".into(),
            format!("{} / {}", secs_of(&q["mean_s"]), secs_of(&q["p99_s"])),
        ],
    ];
    // Summaries written before the peak was followed do not have it.
    if let Some(peak) = s["run"].get("peak_queue_depth") {
        rows.push(vec![
            "peak queue depth (deliveries)".into(),
            peak.to_string(),
        ]);
    }
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "run".into());
    let find = |n: &str| charts.iter().find(|c| c.name == n).expect("drawn above");
    let mut sections = vec![
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
            charts: vec![find("deliveries"), find("queue_depth")],
        },
    ];
    if let Ok(domains) = serde_json::from_value(s["domains"].clone()) {
        sections.push(super::facts::domains(&domains));
    }
    let records: Vec<crate::Provenance> = serde_json::from_value(s["provenance"].clone())
        .map(|p| vec![p])
        .unwrap_or_default();
    sections.push(super::facts::provenance(&records));
    let html = page(
        &format!("smtpsim run: {name}"),
        "<p>Simulated delivery: outcomes, latency and the relay's queue over simulated time.</p>",
        &sections,
    );
    Ok((charts, html))
}
