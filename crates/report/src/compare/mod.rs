//! [`compare`]: two output folders (a run, a mail log import, a sweep's single run...) side by
//! side, with the tests that say whether they differ beyond chance.
//!
//! Each folder needs `summary.json` and `timeseries.csv`. The comparison reads only
//! aggregates (counts and the HdrHistograms in `summary.json`), so folders of any size
//! compare in bounded memory; latencies are compared at the histograms' resolution (three
//! significant digits).
//!
//! | row | A and B | interval (95%) | test |
//! | --- | --- | --- | --- |
//! | `messages`, `recipients`, `attempts` | counts | | |
//! | `rate.<outcome>` | share of recipients | Wilson | two-proportion z-test (pooled) |
//! | `latency.p50`, `.p90`, `.p99` | delivered latency, s | order statistics | |
//! | `latency.ks` | | | two-sample Kolmogorov–Smirnov: D and p |
//! | `attempts.<n>` | share of recipients with n attempts | Wilson | |
//! | `attempts.chi_square` | | | chi-square of homogeneity: statistic, df, p |
//!
//! Outcomes are `delivered` (inbox and spam together: a mail log cannot tell them apart),
//! `bounced`, `expired` and `rejected_at_submission`. The order-statistic interval of the
//! quantile q of n values runs from the value of rank `nq − 1.96·√(nq(1−q))` to that of rank
//! `nq + 1.96·√(nq(1−q))`. Kolmogorov–Smirnov's p is the asymptotic one, Q((√nₑ + 0.12 +
//! 0.11/√nₑ)·D) with nₑ = n·m/(n+m). The chi-square merges neighbouring attempt counts until
//! each group expects at least 5 recipients on each side.
//!
//! # Agreement
//!
//! The two **disagree** when any of these holds, and agree otherwise ([`Comparison::agree`]):
//! - the KS test of delivered latencies has p < 0.01;
//! - the chi-square test of the attempts distribution has p < 0.01;
//! - an outcome's rate differs with p < 0.01 in the two-proportion z-test (the 99% interval
//!   of the difference of the two rates excludes 0).
//!
//! A test that cannot be made (an empty side, a single attempt group) counts as agreement.
//!
//! # Example
//!
//! ```no_run
//! let c = smtpsim_report::compare::compare(
//!     std::path::Path::new("reports/sim"),
//!     std::path::Path::new("reports/postfix"),
//! )?;
//! println!("agree: {} ({:?})", c.agree, c.disagreements);
//! # Ok::<(), smtpsim_report::page::PageError>(())
//! ```

pub mod stat;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hdrhistogram::Histogram;
use serde::Serialize;
use serde_json::Value;

use crate::page::PageError;
use crate::summary::decode_histogram;
use stat::{ChiSquareTest, KsTest, chi_square, ks, quantile_ci, two_proportions, wilson};

/// The significance level below which a test says the two disagree.
pub const ALPHA: f64 = 0.01;
/// The table file.
pub const COMPARE_CSV: &str = "compare.csv";
/// The whole comparison.
pub const COMPARE_JSON: &str = "compare.json";
/// Header of `compare.csv`.
pub const COMPARE_HEADER: [&str; 10] = [
    "metric",
    "a",
    "a_low",
    "a_high",
    "b",
    "b_low",
    "b_high",
    "statistic",
    "p_value",
    "agree",
];

/// One output folder, as far as the comparison needs it.
#[derive(Debug, Clone)]
pub struct Side {
    /// The folder.
    pub dir: PathBuf,
    /// Messages, recipients, attempts.
    pub totals: [u64; 3],
    /// Recipients per outcome: delivered, bounced, expired, rejected at submission.
    pub outcomes: [u64; 4],
    /// Recipients by number of attempts.
    pub attempts: BTreeMap<u32, u64>,
    /// Latency of delivered recipients (microseconds).
    pub latency: Histogram<u64>,
    /// Hours and running total of delivered recipients, from `timeseries.csv`.
    pub delivered: Vec<(f64, f64)>,
}

/// The outcome names of [`Side::outcomes`].
pub const OUTCOMES: [&str; 4] = ["delivered", "bounced", "expired", "rejected_at_submission"];

fn count(v: &Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

impl Side {
    /// Reads `summary.json` and `timeseries.csv` of `dir`.
    pub fn load(dir: &Path) -> Result<Side, PageError> {
        let path = dir.join(crate::SUMMARY_JSON);
        let text = std::fs::read_to_string(&path).map_err(|source| PageError::Read {
            path: path.clone(),
            source,
        })?;
        let bad = |message: String| PageError::Parse {
            path: path.clone(),
            message,
        };
        let s: Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        let o = &s["outcomes"];
        if !o.is_object() {
            return Err(bad("no outcomes: not a run's summary.json".into()));
        }
        let outcomes = [
            count(&o["inbox"]) + count(&o["spam"]),
            count(&o["bounced"]),
            count(&o["expired"]),
            count(&o["rejected_at_submission"]),
        ];
        let mut attempts = BTreeMap::new();
        for (k, v) in s["attempts"].as_object().into_iter().flatten() {
            let n: u32 = k.parse().map_err(|_| bad(format!("attempts key {k}")))?;
            attempts.insert(n, count(v));
        }
        let latency = s["latency"]["histogram"]
            .as_str()
            .ok_or_else(|| bad("no latency histogram".into()))
            .and_then(|h| decode_histogram(h).map_err(|e| bad(e.to_string())))?;
        let r = &s["run"];
        Ok(Side {
            dir: dir.to_owned(),
            totals: [
                count(&r["messages"]),
                count(&r["recipients"]),
                count(&r["attempts"]),
            ],
            outcomes,
            attempts,
            latency,
            delivered: delivered_series(&dir.join(crate::TIMESERIES_CSV))?,
        })
    }

    /// All recipients.
    pub fn recipients(&self) -> u64 {
        self.outcomes.iter().sum()
    }
}

/// Hours and the running total of delivered recipients.
fn delivered_series(path: &Path) -> Result<Vec<(f64, f64)>, PageError> {
    let text = std::fs::read_to_string(path).map_err(|source| PageError::Read {
        path: path.to_owned(),
        source,
    })?;
    let bad = |message: String| PageError::Parse {
        path: path.to_owned(),
        message,
    };
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let mut fields = line.split(',');
        let time = fields.next().and_then(|t| t.parse::<f64>().ok());
        let delivered = fields.nth(3).and_then(|t| t.parse::<f64>().ok());
        match (time, delivered) {
            (Some(t), Some(d)) => out.push((t / 3600.0, d)),
            _ => return Err(bad(format!("line {}: not smtpsim's timeseries", i + 1))),
        }
    }
    Ok(out)
}

/// A row of the table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// What is compared.
    pub metric: String,
    /// A's value and its interval, when there is one.
    pub a: (f64, Option<(f64, f64)>),
    /// B's value and its interval.
    pub b: (f64, Option<(f64, f64)>),
    /// The test's statistic, when the row is a test.
    pub statistic: Option<f64>,
    /// The test's p-value.
    pub p_value: Option<f64>,
    /// The test's verdict (p at least the comparison's significance level); `None` for rows
    /// that are not tested.
    pub agree: Option<bool>,
}

impl Row {
    fn plain(metric: String, a: f64, b: f64) -> Row {
        Row {
            metric,
            a: (a, None),
            b: (b, None),
            statistic: None,
            p_value: None,
            agree: None,
        }
    }

    fn tested(mut self, statistic: Option<f64>, p: f64, alpha: f64) -> Row {
        self.statistic = statistic;
        self.p_value = Some(p);
        // A NaN p (a test that could not be computed) counts as agreement.
        self.agree = Some(p >= alpha || p.is_nan());
        self
    }
}

/// Two outputs side by side.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// Folder A.
    pub a: PathBuf,
    /// Folder B.
    pub b: PathBuf,
    /// The table.
    pub rows: Vec<Row>,
    /// KS of delivered latencies, when both have some.
    pub ks: Option<KsTest>,
    /// Chi-square of the attempts distribution, when it can be made.
    pub chi_square: Option<ChiSquareTest>,
    /// The significance level of the tests ([`ALPHA`] unless chosen).
    pub alpha: f64,
    /// Whether no test disagrees (see the module's doc).
    pub agree: bool,
    /// The metrics of the tests that disagree.
    pub disagreements: Vec<String>,
}

/// Compares the outputs in `a` and `b`.
pub fn compare(a: &Path, b: &Path) -> Result<Comparison, PageError> {
    Ok(compare_sides(&Side::load(a)?, &Side::load(b)?))
}

/// Compares two loaded outputs at the significance level [`ALPHA`].
pub fn compare_sides(a: &Side, b: &Side) -> Comparison {
    compare_sides_at(a, b, ALPHA)
}

/// Compares two loaded outputs; a test whose p is below `alpha` says they disagree.
pub fn compare_sides_at(a: &Side, b: &Side, alpha: f64) -> Comparison {
    let mut rows = Vec::new();
    for (i, name) in ["messages", "recipients", "attempts"].iter().enumerate() {
        rows.push(Row::plain(
            (*name).into(),
            a.totals[i] as f64,
            b.totals[i] as f64,
        ));
    }
    let (na, nb) = (a.recipients(), b.recipients());
    for (i, name) in OUTCOMES.iter().enumerate() {
        let (ka, kb) = (a.outcomes[i], b.outcomes[i]);
        let mut row = share_row(format!("rate.{name}"), ka, na, kb, nb);
        if ka + kb > 0 {
            row = row.tested(None, two_proportions(ka, na, kb, nb), alpha);
        }
        rows.push(row);
    }
    for (label, q) in [("p50", 0.5), ("p90", 0.9), ("p99", 0.99)] {
        let (Some(qa), Some(qb)) = (quantile_ci(&a.latency, q), quantile_ci(&b.latency, q)) else {
            continue;
        };
        rows.push(Row {
            a: (qa.0, Some((qa.1, qa.2))),
            b: (qb.0, Some((qb.1, qb.2))),
            ..Row::plain(format!("latency.{label}_s"), 0.0, 0.0)
        });
    }
    let ks = ks(&a.latency, &b.latency);
    if let Some(t) = ks {
        rows.push(Row::plain("latency.ks".into(), f64::NAN, f64::NAN).tested(
            Some(t.d),
            t.p_value,
            alpha,
        ));
    }
    let keys: Vec<u32> = a
        .attempts
        .keys()
        .chain(b.attempts.keys())
        .copied()
        .collect();
    let keys: std::collections::BTreeSet<u32> = keys.into_iter().collect();
    let counts: Vec<(String, u64, u64)> = keys
        .iter()
        .map(|k| {
            let get = |s: &Side| s.attempts.get(k).copied().unwrap_or(0);
            (k.to_string(), get(a), get(b))
        })
        .collect();
    for (k, ca, cb) in &counts {
        rows.push(share_row(format!("attempts.{k}"), *ca, na, *cb, nb));
    }
    let chi = chi_square(&counts);
    if let Some(t) = &chi {
        rows.push(
            Row::plain("attempts.chi_square".into(), f64::NAN, f64::NAN).tested(
                Some(t.statistic),
                t.p_value,
                alpha,
            ),
        );
    }
    let disagreements: Vec<String> = rows
        .iter()
        .filter(|r| r.agree == Some(false))
        .map(|r| r.metric.clone())
        .collect();
    Comparison {
        a: a.dir.clone(),
        b: b.dir.clone(),
        rows,
        ks,
        chi_square: chi,
        alpha,
        agree: disagreements.is_empty(),
        disagreements,
    }
}

fn share_row(metric: String, ka: u64, na: u64, kb: u64, nb: u64) -> Row {
    let share = |k: u64, n: u64| if n == 0 { 0.0 } else { k as f64 / n as f64 };
    Row {
        a: (share(ka, na), Some(wilson(ka, na))),
        b: (share(kb, nb), Some(wilson(kb, nb))),
        ..Row::plain(metric, 0.0, 0.0)
    }
}

fn cell(v: f64) -> String {
    if v.is_nan() {
        String::new()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:.6}")
    }
}

impl Row {
    /// The row's cells, as in `compare.csv` ([`COMPARE_HEADER`]).
    pub fn cells(&self) -> Vec<String> {
        let interval = |i: Option<(f64, f64)>| match i {
            Some((lo, hi)) => [cell(lo), cell(hi)],
            None => [String::new(), String::new()],
        };
        let [al, ah] = interval(self.a.1);
        let [bl, bh] = interval(self.b.1);
        vec![
            self.metric.clone(),
            cell(self.a.0),
            al,
            ah,
            cell(self.b.0),
            bl,
            bh,
            self.statistic.map(cell).unwrap_or_default(),
            self.p_value.map(|p| format!("{p:.6}")).unwrap_or_default(),
            self.agree.map(|a| a.to_string()).unwrap_or_default(),
        ]
    }
}

impl Comparison {
    /// `compare.csv`.
    pub fn to_csv(&self) -> String {
        let mut out = String::new();
        for row in std::iter::once(COMPARE_HEADER.map(String::from).to_vec())
            .chain(self.rows.iter().map(Row::cells))
        {
            out.push_str(&row.join(","));
            out.push('\n');
        }
        out
    }

    /// `compare.json`, pretty-printed.
    pub fn to_json(&self) -> Result<String, crate::ReportError> {
        serde_json::to_string_pretty(self)
            .map(|s| s + "\n")
            .map_err(crate::ReportError::Json)
    }
}

/// Writes `compare.csv`, `compare.json` and, unless `no_report`, the overlaid charts and
/// `report.html` into `out`.
pub fn write(
    comparison: &Comparison,
    a: &Side,
    b: &Side,
    out: &Path,
    no_report: bool,
) -> Result<(), PageError> {
    let csv = comparison.to_csv();
    let json = comparison.to_json()?;
    crate::write_files(
        out,
        &[
            (COMPARE_CSV, csv.as_bytes()),
            (COMPARE_JSON, json.as_bytes()),
        ],
    )?;
    if no_report {
        crate::page::remove_report(out)?;
        return Ok(());
    }
    crate::page::write_compare_report(out, comparison, a, b)
}
