//! The report of one run, from `summary.json` and `timeseries.csv`.

use std::path::Path;

use super::charts;
use super::html::{Section, page, table};
use super::latency;
use super::{Chart, PageError, read, read_csv};
use crate::summary::{Outcomes, Summary};

/// At most this many failure reasons are drawn (the most frequent).
const MAX_REASONS: usize = 15;

/// `summary.json` of the run in `dir`, read through [`Summary`]; an error names the file and
/// what in it does not parse.
fn read_summary(path: &Path) -> Result<Summary, PageError> {
    Summary::from_json(&read(path)?).map_err(|e| PageError::Parse {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

/// Seconds in words, or `none` for a time with no observation.
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
    let bad = |message: String| PageError::Parse {
        path: path.to_owned(),
        message,
    };
    let mut series = Timeseries {
        hours: Vec::new(),
        columns: vec![Vec::new(); 6],
    };
    for (line, row) in read_csv(path, &crate::TIMESERIES_HEADER)? {
        let values: Vec<f64> = row
            .iter()
            .map(|v| v.parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|e| bad(format!("line {line}: {e}")))?;
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

/// The words that differ between a simulated run and an imported mail log.
struct Words {
    title: &'static str,
    intro: &'static str,
    time: &'static str,
    queue: &'static str,
}

impl Words {
    /// An import when `import.json` is there (`smtpsim maillog`), else a run.
    fn of(dir: &Path) -> Words {
        if dir.join(crate::import::IMPORT_JSON).is_file() {
            Words {
                title: "smtpsim maillog",
                intro: "<p>A Postfix mail log: outcomes, latency and the queue over the log's time.</p>",
                time: "hours since the log's first line",
                queue: "messages",
            }
        } else {
            Words {
                title: "smtpsim run",
                intro: "<p>Simulated delivery: outcomes, latency and the relay's queue over simulated time.</p>",
                time: "simulated time, hours",
                queue: "deliveries (message × domain)",
            }
        }
    }
}

/// A chart named `name`.
fn chart(name: &str, svg: String) -> Chart {
    Chart::new(name, svg)
}

/// The last time with traffic (anything queued, open or counted), one interval on.
fn traffic_end(ts: &Timeseries) -> f64 {
    let step = ts.hours.get(1).copied().unwrap_or(1.0) - ts.hours.first().copied().unwrap_or(0.0);
    let mut end = 0.0;
    let mut previous: Vec<f64> = vec![0.0; ts.columns.len()];
    for (row, &h) in ts.hours.iter().enumerate() {
        let mut busy = false;
        for (c, column) in ts.columns.iter().enumerate() {
            let v = column.get(row).copied().unwrap_or(0.0);
            // Columns 0..3 are levels, the others running totals.
            busy |= if c < 3 { v > 0.0 } else { v > previous[c] };
            previous[c] = v;
        }
        if busy {
            end = h;
        }
    }
    (end + step.max(0.0))
        .min(ts.hours.last().copied().unwrap_or(1.0))
        .max(step.max(1e-3))
}

/// Deliveries, deferrals and failures per interval, and the queue over time; series whose
/// scales differ by 10× on separate axes.
fn time_charts(
    ts: &Timeseries,
    words: &Words,
    rules: &[charts::RuleEvent],
) -> Result<[Chart; 2], PageError> {
    let rules = charts::RuleMarks::of(rules);
    let [active, deferred, connections, delivered, deferrals, bounced] =
        [0, 1, 2, 3, 4, 5].map(|i| ts.columns.get(i).cloned().unwrap_or_default());
    let end = traffic_end(ts);
    let cut = |points: Vec<(f64, f64)>| -> Vec<(f64, f64)> {
        points.into_iter().filter(|p| p.0 <= end).collect()
    };
    let series = |name: &str, color: usize, points: Vec<(f64, f64)>| charts::Series {
        name: name.to_string(),
        color,
        points: cut(points),
    };
    let per_interval = charts::split_by_scale(
        "recipients per interval",
        vec![
            series("delivered", 0, increases(&ts.hours, &delivered)),
            series("deferred attempts", 1, increases(&ts.hours, &deferrals)),
            series("bounced or expired", 5, increases(&ts.hours, &bounced)),
        ],
    );
    let zip = |v: &[f64]| ts.hours.iter().copied().zip(v.iter().copied()).collect();
    let queue = charts::split_by_scale(
        words.queue,
        vec![
            series("active", 0, zip(&active)),
            series("deferred", 1, zip(&deferred)),
            series("connections open", 2, zip(&connections)),
        ],
    );
    let hours = words.time;
    Ok([
        chart(
            "deliveries",
            charts::panels(
                "Deliveries over time (per interval)",
                hours,
                (0.0, end),
                &per_interval,
                &rules,
            )?,
        ),
        chart(
            "queue_depth",
            charts::panels("Queue depth over time", hours, (0.0, end), &queue, &rules)?,
        ),
    ])
}

/// Recipients by number of attempts, on a numeric axis.
fn attempts_chart(s: &Summary) -> Result<Chart, PageError> {
    // In increasing attempts: the map is ordered.
    let counts: Vec<(f64, f64)> = s
        .attempts
        .iter()
        .map(|(&k, &v)| (f64::from(k), v as f64))
        .collect();
    Ok(chart(
        "attempts",
        charts::histogram(
            "Delivery attempts per recipient",
            "attempts",
            "recipients",
            &counts,
        )?,
    ))
}

/// The outcomes with their counts, in the order of `summary.json`.
fn outcome_counts(o: &Outcomes) -> [(&'static str, u64); 5] {
    [
        ("inbox", o.inbox),
        ("spam", o.spam),
        ("bounced", o.bounced),
        ("expired", o.expired),
        ("rejected at submission", o.rejected_at_submission),
    ]
}

/// Recipients per outcome as a table, and as bars on a log axis.
fn outcomes(s: &Summary) -> Result<(String, Chart), PageError> {
    let (labels, counts): (Vec<String>, Vec<f64>) = outcome_counts(&s.outcomes)
        .into_iter()
        .map(|(k, n)| (k.to_string(), n as f64))
        .unzip();
    // Below the bars there is room for one word each.
    let short: Vec<String> = labels
        .iter()
        .map(|l| l.split(' ').next().unwrap_or_default().to_string())
        .collect();
    let total: f64 = counts.iter().sum();
    let rows: Vec<Vec<String>> = labels
        .iter()
        .zip(&counts)
        .map(|(label, &n)| {
            let share = if total > 0.0 { n / total * 100.0 } else { 0.0 };
            vec![
                label.clone(),
                charts::thousands(n as i64),
                format!("{share:.2}%"),
            ]
        })
        .collect();
    let html = table(
        &["outcome".into(), "recipients".into(), "share".into()],
        &rows,
    );
    let svg = charts::outcome_bars("Outcomes (log scale)", "recipients", &short, &counts)?;
    Ok((html, chart("outcomes", svg)))
}

/// Undelivered recipients by reason, the most frequent first.
fn reasons_chart(s: &Summary) -> Result<Chart, PageError> {
    let mut reasons: Vec<(String, f64)> = s
        .failures
        .by_reason
        .iter()
        .map(|(k, v)| (k.clone(), *v as f64))
        .collect();
    reasons.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    reasons.truncate(MAX_REASONS);
    if reasons.is_empty() {
        // An empty axis would look like a drawing that failed.
        reasons.push(("none: no recipient went undelivered".into(), 0.0));
    }
    let (labels, values): (Vec<String>, Vec<f64>) = reasons.into_iter().unzip();
    Ok(chart(
        "failure_reasons",
        charts::horizontal_bars(
            "Undelivered recipients by reason and last reply",
            "recipients",
            &labels,
            &values,
        )?,
    ))
}

/// The figures of the summary's table.
fn summary_rows(s: &Summary, words: &Words) -> Vec<Vec<String>> {
    let (o, r, l, q) = (&s.outcomes, &s.rates, &s.latency, &s.queue_wait);
    let unit = words.queue.split(' ').next().unwrap_or(words.queue);
    vec![
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
            format!("peak queue depth ({unit})"),
            s.run.peak_queue_depth.to_string(),
        ],
    ]
}

pub(super) fn report(dir: &Path) -> Result<(Vec<Chart>, String), PageError> {
    let words = Words::of(dir);
    let summary_path = dir.join(crate::SUMMARY_JSON);
    let s = read_summary(&summary_path)?;
    let bad = |message: &str| PageError::Parse {
        path: summary_path.clone(),
        message: message.to_string(),
    };
    let ts = timeseries(&dir.join(crate::TIMESERIES_CSV))?;
    let (outcome_table, outcome_chart) = outcomes(&s)?;
    let [deliveries, queue] = time_charts(&ts, &words, &super::automation::rule_events(dir)?)?;
    let mut charts = vec![
        outcome_chart,
        reasons_chart(&s)?,
        latency::latency_chart(&s, bad)?,
        attempts_chart(&s)?,
        deliveries,
        queue,
    ];
    let rows = summary_rows(&s, &words);
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "run".into());
    let at = charts.len();
    let domain_html = match latency::domain_charts(&s, bad)? {
        Some((html, small)) => {
            charts.extend(small);
            Some(html)
        }
        None => None,
    };
    let find = |n: &str| charts.iter().find(|c| c.name == n).expect("drawn above");
    let mut sections = vec![
        Section {
            heading: "Summary".into(),
            html: format!(
                "{}{outcome_table}",
                table(&["figure".into(), "value".into()], &rows)
            ),
            charts: vec![find("outcomes"), find("failure_reasons")],
        },
        Section {
            heading: "Latency".into(),
            html: String::new(),
            charts: vec![find("latency_ccdf"), find("attempts")],
        },
        Section {
            heading: "Over time".into(),
            html: String::new(),
            charts: vec![find("deliveries"), find("queue_depth")],
        },
    ];
    if let Some(html) = domain_html {
        sections.push(Section {
            heading: "Latency per domain".into(),
            html,
            charts: charts[at..].iter().collect(),
        });
    }
    sections.push(super::facts::domains(&s.domains));
    let records: Vec<crate::Provenance> = s.provenance.iter().cloned().collect();
    sections.push(super::facts::provenance(&records));
    let html = page(&format!("{}: {name}", words.title), words.intro, &sections);
    Ok((charts, html))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_that_does_not_parse_is_named_with_its_field() {
        let dir = std::env::temp_dir().join(format!("smtpsim-page-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(crate::SUMMARY_JSON);
        std::fs::write(&path, "{\"run\": {\"messages\": \"many\"}}").unwrap();
        let err = read_summary(&path).unwrap_err().to_string();
        assert!(err.starts_with(&path.display().to_string()), "{err}");
        assert!(err.contains("line 1"), "{err}");
        std::fs::write(&path, "{}").unwrap();
        let err = read_summary(&path).unwrap_err().to_string();
        assert!(err.contains("missing field `run`"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn time_series_stop_one_interval_after_the_traffic() {
        // Hours 0..10; something queued until hour 2, a delivery counted at hour 3, then
        // nothing moves.
        let hours: Vec<f64> = (0..=10).map(f64::from).collect();
        let level = |until: usize| -> Vec<f64> {
            (0..=10)
                .map(|h| if h <= until { 5.0 } else { 0.0 })
                .collect()
        };
        let total =
            |at: usize| -> Vec<f64> { (0..=10).map(|h| if h >= at { 7.0 } else { 0.0 }).collect() };
        let ts = Timeseries {
            hours,
            columns: vec![level(2), level(1), level(0), total(3), total(1), total(0)],
        };
        assert_eq!(traffic_end(&ts), 4.0);
        let quiet = Timeseries {
            hours: vec![0.0, 1.0, 2.0],
            columns: vec![vec![0.0; 3]; 6],
        };
        assert_eq!(traffic_end(&quiet), 1.0);
    }
}
