//! What `smtpsim sweep` and `smtpsim merge` print: each point with its 95% intervals, each point
//! against the baseline (paired differences), and the best point of the key metrics.

use std::io::Write;

use smtpsim_report::sweep::{Comparison, PointSummary, SweepOutput, domain_rows};

use crate::run::human;

/// The metrics compared in the printout, with their short names.
const SHOWN: [(&str, &str); 4] = [
    ("delivery_rate", "delivered"),
    ("mean_attempts", "attempts"),
    ("latency_p50_s", "p50"),
    ("latency_p90_s", "p90"),
];

/// A metric's value as printed: rates in percent, times human, the rest with 3 decimals.
fn show(metric: &str, v: f64) -> String {
    if metric.ends_with("_rate") {
        format!("{:.2}%", v * 100.0)
    } else if metric.ends_with("_s") {
        let sign = if v < 0.0 { "-" } else { "" };
        format!("{sign}{}", human(v.abs()))
    } else {
        format!("{v:.3}")
    }
}

/// The swept values of `point`, as `path=value` pairs.
fn label(output: &SweepOutput, point: usize) -> String {
    let d = &output.definition;
    let values: Vec<String> = d
        .parameters
        .iter()
        .zip(d.values(point))
        .map(|(f, v)| format!("{}={v}", f.path))
        .collect();
    if values.is_empty() {
        "(scenario as written)".to_string()
    } else {
        values.join(" ")
    }
}

/// One line per point: delivery rate and p99 latency with their 95% confidence half-widths.
pub fn print_points(
    text: &mut impl Write,
    output: &SweepOutput,
    points: &[PointSummary],
) -> std::io::Result<()> {
    let d = &output.definition;
    let shard = output
        .shard
        .map(|s| format!(" (shard {s})"))
        .unwrap_or_default();
    match &d.precision {
        None => writeln!(
            text,
            "{}: {} points × {} replications{shard}",
            d.scenario,
            d.points(),
            d.replications
        )?,
        Some(p) => writeln!(
            text,
            "{}: {} points, replications in batches of {} until the 95% half-width of {} \
             is within {} (at most {})",
            d.scenario,
            d.points(),
            d.replications,
            p.metric,
            p.target,
            p.max_replications
        )?,
    }
    for p in points {
        let m = |name: &str| &p.metrics[name];
        let ci = |v: Option<f64>, show: &dyn Fn(f64) -> String| {
            v.map(|v| format!(" ± {}", show(v))).unwrap_or_default()
        };
        let rate = m("delivery_rate");
        let p99 = m("latency_p99_s");
        let attempts = m("mean_attempts");
        writeln!(
            text,
            "  {:>3} {}  delivered {:.2}%{}  p99 {}{}  attempts {:.3}{}",
            p.point,
            label(output, p.point),
            rate.mean.unwrap_or(0.0) * 100.0,
            ci(rate.ci95, &|v| format!("{:.2}", v * 100.0)),
            p99.mean
                .map_or_else(|| "none (no deliveries)".to_string(), human),
            ci(p99.ci95, &|v| human(v)),
            attempts.mean.unwrap_or(0.0),
            ci(attempts.ci95, &|v| format!("{v:.3}")),
        )?;
        if let Some(reached) = p.precision_reached {
            writeln!(
                text,
                "      {} replications, target {}",
                p.replications,
                if reached { "reached" } else { "NOT reached" }
            )?;
        }
    }
    Ok(())
}

/// A difference with its interval and relative change: `+0.123 ± 0.010 (+5.2% ± 0.4%)`.
fn show_diff(c: &Comparison) -> String {
    let Some(diff) = c.diff else {
        return "no values".to_string();
    };
    let sign = if diff >= 0.0 { "+" } else { "" };
    let mut s = format!("{sign}{}", show(&c.metric, diff));
    if let Some(h) = c.diff_ci95 {
        s.push_str(&format!(" ± {}", show(&c.metric, h)));
    }
    if let (Some(pct), Some(h)) = (c.change_pct, c.change_ci95_pct) {
        s.push_str(&format!(" ({pct:+.1}% ± {h:.1}%)"));
    }
    if c.excludes_zero {
        s.push('*');
    }
    s
}

/// Each point against the baseline, and the best point of each key metric.
pub fn print_comparisons(text: &mut impl Write, output: &SweepOutput) -> std::io::Result<()> {
    let d = &output.definition;
    if d.points() < 2 {
        return Ok(());
    }
    let comparisons = output.comparisons();
    writeln!(
        text,
        "  against point {} ({}), {}, 95% intervals (* excludes 0):",
        d.baseline,
        label(output, d.baseline),
        if d.independent {
            "independent seeds (Welch)"
        } else {
            "paired by replication"
        }
    )?;
    for point in (0..d.points()).filter(|&p| p != d.baseline) {
        let cells: Vec<String> = SHOWN
            .iter()
            .filter_map(|(metric, short)| {
                comparisons
                    .iter()
                    .find(|c| c.point == point && c.metric == *metric)
                    .map(|c| format!("{short} {}", show_diff(c)))
            })
            .collect();
        writeln!(text, "  {point:>3} {}", cells.join("  "))?;
    }
    print_domains(text, output)?;
    for r in output.ranking() {
        let Some((_, short)) = SHOWN.iter().find(|(m, _)| *m == r.metric) else {
            continue;
        };
        let Some(best) = r.best else { continue };
        writeln!(
            text,
            "  best {short} ({} is better): point {best} ({}), {}",
            r.better,
            label(output, best),
            if r.better_than_all_95 {
                "better than every other at 95% (paired t, Holm)".to_string()
            } else {
                format!(
                    "not separated from point {} at 95% (Holm-adjusted p {:.3})",
                    r.runner_up.map_or("-".into(), |p| p.to_string()),
                    r.holm_p_max.unwrap_or(1.0)
                )
            }
        )?;
    }
    Ok(())
}

/// Per recipient domain, each point's mean latency and attempts against the baseline.
fn print_domains(text: &mut impl Write, output: &SweepOutput) -> std::io::Result<()> {
    let d = &output.definition;
    let rows = domain_rows(output);
    writeln!(
        text,
        "  per domain, against point {} (mean latency; mean attempts):",
        d.baseline
    )?;
    for point in (0..d.points()).filter(|&p| p != d.baseline) {
        let cells: Vec<String> = rows
            .chunk_by(|a, b| a.point == b.point && a.domain == b.domain)
            .filter(|chunk| chunk[0].point == point)
            .map(|chunk| {
                let find = |m: &str| chunk.iter().find(|r| r.metric == m);
                let latency = find("latency_mean_s").map_or_else(
                    || "no values".to_string(),
                    |r| show_diff(&r.against_baseline),
                );
                let attempts = find("mean_attempts").map_or_else(
                    || "no values".to_string(),
                    |r| show_diff(&r.against_baseline),
                );
                format!("{} {latency}; {attempts}", chunk[0].domain)
            })
            .collect();
        writeln!(text, "  {point:>3} {}", cells.join("\n      "))?;
    }
    Ok(())
}
