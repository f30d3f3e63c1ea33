//! Comparing points: each point's difference from a baseline point, and which point is best.
//!
//! With common random numbers (replication `r` of every point runs with the same seed) the
//! differences are *paired*: `d_r = y_r − x_r` over the replications both points have, and the
//! 95% interval of their mean is `t(0.975, n − 1) · sd(d) / √n`. Noise that both points share
//! (the same arrivals, recipients and sizes) cancels in `d_r`, so these intervals are narrower
//! than those of independent samples. With independent seeds (`--independent`) the difference
//! of the means has Welch's interval instead (Welch–Satterthwaite degrees of freedom).
//!
//! The relative change is `ȳ / x̄ − 1`; its interval is the delta method's: the half-width of
//! the mean of `z_r = (y_r − (ȳ/x̄) · x_r) / x̄` (paired), or
//! `√(s_y²/n_y + (ȳ/x̄)² · s_x²/n_x) / x̄` (independent).
//!
//! The ranking takes, for each metric, the point with the best mean (highest delivery rate,
//! lowest of every other metric) and tests it against every other point with a two-sided t test
//! (paired or Welch, as above); the p-values are adjusted with Holm's step-down method, and the
//! best point is *better than every other at 95%* when every adjusted p-value is below 0.05.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

use super::{Metrics, RunResult, t_quantile_975};

/// One point against the baseline for one metric.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// The point.
    pub point: usize,
    /// The metric (one of [`Metrics::NAMES`]).
    pub metric: String,
    /// Pairs of replications compared (paired), or the point's replications with a value
    /// (independent).
    pub n: u64,
    /// Mean of the point minus mean of the baseline; none without values.
    pub diff: Option<f64>,
    /// Half-width of its 95% confidence interval; none with fewer than 2 values.
    pub diff_ci95: Option<f64>,
    /// Relative change from the baseline's mean, percent; none when that mean is 0.
    pub change_pct: Option<f64>,
    /// Half-width of its 95% confidence interval, percent.
    pub change_ci95_pct: Option<f64>,
    /// Whether the interval of the difference excludes 0.
    pub excludes_zero: bool,
    /// Two-sided p-value of "no difference".
    pub p_value: Option<f64>,
}

/// The best point of one metric.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ranking {
    /// The metric.
    pub metric: String,
    /// `higher` or `lower`: which is better.
    pub better: &'static str,
    /// The point with the best mean; none when no point has a value.
    pub best: Option<usize>,
    /// Its mean.
    pub best_mean: Option<f64>,
    /// The point whose mean comes next.
    pub runner_up: Option<usize>,
    /// The largest Holm-adjusted p-value of the best point against each other point.
    pub holm_p_max: Option<f64>,
    /// Whether the best point is better than every other at 95% (every adjusted p < 0.05).
    pub better_than_all_95: bool,
}

/// Whether a larger value of `metric` is better.
pub fn higher_is_better(metric: &str) -> bool {
    metric == "delivery_rate"
}

/// The values of metric `i` by replication, of the runs of one point.
fn by_replication(runs: &[&RunResult], i: usize) -> Vec<(u32, f64)> {
    runs.iter()
        .filter_map(|r| r.metrics.values()[i].map(|v| (r.replication, v)))
        .collect()
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

fn variance(v: &[f64]) -> f64 {
    let m = mean(v);
    v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64
}

/// Two-sided p-value of `t` with `df` degrees of freedom; a zero standard error gives 0 or 1.
fn p_two_sided(diff: f64, se: f64, df: f64) -> f64 {
    if se == 0.0 {
        return if diff == 0.0 { 1.0 } else { 0.0 };
    }
    let t = StudentsT::new(0.0, 1.0, df).expect("df > 0");
    2.0 * (1.0 - t.cdf((diff / se).abs()))
}

/// The 0.975 quantile of Student's t with a fractional number of degrees of freedom.
fn t975(df: f64) -> f64 {
    if df.fract() == 0.0 {
        return t_quantile_975(df as u64);
    }
    StudentsT::new(0.0, 1.0, df)
        .expect("df > 0")
        .inverse_cdf(0.975)
}

/// Point `y` against point `x` for one metric: the pairs by replication, or two samples
/// (the `point` and `metric` of the result are left for the caller).
pub(crate) fn compare_two(x: &[(u32, f64)], y: &[(u32, f64)], paired: bool) -> Comparison {
    let mut c = Comparison {
        point: 0,
        metric: String::new(),
        n: 0,
        diff: None,
        diff_ci95: None,
        change_pct: None,
        change_ci95_pct: None,
        excludes_zero: false,
        p_value: None,
    };
    let (xs, ys): (Vec<f64>, Vec<f64>) = if paired {
        x.iter()
            .filter_map(|&(r, xv)| y.iter().find(|&&(s, _)| s == r).map(|&(_, yv)| (xv, yv)))
            .unzip()
    } else {
        (
            x.iter().map(|p| p.1).collect(),
            y.iter().map(|p| p.1).collect(),
        )
    };
    c.n = ys.len() as u64;
    if xs.is_empty() || ys.is_empty() {
        return c;
    }
    let (mx, my) = (mean(&xs), mean(&ys));
    let diff = my - mx;
    c.diff = Some(diff);
    let ratio = (mx != 0.0).then(|| my / mx);
    c.change_pct = ratio.map(|r| (r - 1.0) * 100.0);
    let (se, se_rel, df) = if paired {
        if xs.len() < 2 {
            return c;
        }
        let n = xs.len() as f64;
        let d: Vec<f64> = xs.iter().zip(&ys).map(|(a, b)| b - a).collect();
        let se_rel = ratio.map(|r| {
            let z: Vec<f64> = xs.iter().zip(&ys).map(|(a, b)| (b - r * a) / mx).collect();
            (variance(&z) / n).sqrt()
        });
        ((variance(&d) / n).sqrt(), se_rel, n - 1.0)
    } else {
        if xs.len() < 2 || ys.len() < 2 {
            return c;
        }
        let (vx, vy) = (
            variance(&xs) / xs.len() as f64,
            variance(&ys) / ys.len() as f64,
        );
        let se = (vx + vy).sqrt();
        let df = if vx + vy == 0.0 {
            (xs.len() + ys.len() - 2) as f64
        } else {
            (vx + vy).powi(2) / (vx * vx / (xs.len() - 1) as f64 + vy * vy / (ys.len() - 1) as f64)
        };
        let se_rel = ratio.map(|r| (vy + r * r * vx).sqrt() / mx.abs());
        (se, se_rel, df)
    };
    let t = t975(df);
    c.diff_ci95 = Some(t * se);
    c.change_ci95_pct = se_rel.map(|s| t * s * 100.0);
    c.excludes_zero = diff.abs() > t * se;
    c.p_value = Some(p_two_sided(diff, se, df));
    c
}

/// The runs of each point, in point order (`runs` sorted by point).
fn points_of(runs: &[RunResult], points: usize) -> Vec<Vec<&RunResult>> {
    let mut by_point = vec![Vec::new(); points];
    for r in runs {
        if r.point < points {
            by_point[r.point].push(r);
        }
    }
    by_point
}

/// Every point against `baseline`, for every metric (metric by metric, points in order); the
/// baseline's own rows have a difference of 0.
pub fn compare(
    runs: &[RunResult],
    points: usize,
    baseline: usize,
    paired: bool,
) -> Vec<Comparison> {
    let by_point = points_of(runs, points);
    let mut rows = Vec::new();
    for (i, name) in Metrics::NAMES.iter().enumerate() {
        let x = by_replication(&by_point[baseline], i);
        for (point, runs) in by_point.iter().enumerate() {
            let y = by_replication(runs, i);
            let mut c = compare_two(&x, &y, paired || point == baseline);
            c.point = point;
            c.metric = name.to_string();
            rows.push(c);
        }
    }
    rows
}

/// Holm's step-down adjustment: the adjusted p-values, in the order given.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut adjusted = vec![0.0; m];
    let mut running: f64 = 0.0;
    for (rank, &i) in order.iter().enumerate() {
        running = running.max(((m - rank) as f64 * p[i]).min(1.0));
        adjusted[i] = running;
    }
    adjusted
}

/// For each metric, the best point and whether it is better than every other at 95%.
pub fn rank(runs: &[RunResult], points: usize, paired: bool) -> Vec<Ranking> {
    let by_point = points_of(runs, points);
    Metrics::NAMES
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let higher = higher_is_better(name);
            let samples: Vec<Vec<(u32, f64)>> =
                by_point.iter().map(|r| by_replication(r, i)).collect();
            let mut means: Vec<(usize, f64)> = samples
                .iter()
                .enumerate()
                .filter(|(_, s)| !s.is_empty())
                .map(|(p, s)| (p, mean(&s.iter().map(|v| v.1).collect::<Vec<_>>())))
                .collect();
            // Best first; ties to the lower point number.
            means.sort_by(|a, b| {
                let order = a.1.total_cmp(&b.1);
                (if higher { order.reverse() } else { order }).then(a.0.cmp(&b.0))
            });
            let best = means.first().map(|m| m.0);
            let p: Vec<f64> = means
                .iter()
                .skip(1)
                .map(|&(other, _)| {
                    let c = compare_two(&samples[other], &samples[best.unwrap_or(0)], paired);
                    c.p_value.unwrap_or(1.0)
                })
                .collect();
            let holm_p_max = holm(&p).into_iter().reduce(f64::max);
            Ranking {
                metric: name.to_string(),
                better: if higher { "higher" } else { "lower" },
                best,
                best_mean: means.first().map(|m| m.1),
                runner_up: means.get(1).map(|m| m.0),
                holm_p_max,
                better_than_all_95: holm_p_max.is_some_and(|p| p < 0.05) && means.len() == points,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(v: &[f64]) -> Vec<(u32, f64)> {
        v.iter().enumerate().map(|(r, &x)| (r as u32, x)).collect()
    }

    #[test]
    fn paired_interval_of_known_differences() {
        // Differences 1, 2, 3, 4, 5: mean 3, sd √2.5, t(0.975, 4) = 2.776445.
        let x = pairs(&[10.0, 20.0, 30.0, 40.0, 50.0]);
        let y = pairs(&[11.0, 22.0, 33.0, 44.0, 55.0]);
        let c = compare_two(&x, &y, true);
        assert_eq!(c.n, 5);
        assert!((c.diff.unwrap() - 3.0).abs() < 1e-12);
        let half = 2.776_445 * 2.5f64.sqrt() / 5f64.sqrt();
        assert!((c.diff_ci95.unwrap() - half).abs() < 1e-5);
        assert!(c.excludes_zero);
        // y = 1.1 x exactly: +10% with no spread.
        assert!((c.change_pct.unwrap() - 10.0).abs() < 1e-9);
        assert!(c.change_ci95_pct.unwrap() < 1e-9);
        // The same numbers unpaired: the spread between replications swamps the difference.
        let u = compare_two(&x, &y, false);
        assert!(!u.excludes_zero);
        assert!(u.diff_ci95.unwrap() > 10.0 * c.diff_ci95.unwrap());
    }

    #[test]
    fn welch_interval_matches_a_hand_computation() {
        // x: mean 2, var 1 (n 3); y: mean 5, var 4 (n 3): se = √(1/3 + 4/3), df = 2.94...
        let x = pairs(&[1.0, 2.0, 3.0]);
        let y = pairs(&[3.0, 5.0, 7.0]);
        let c = compare_two(&x, &y, false);
        let se = (5.0f64 / 3.0).sqrt();
        let df = (5.0f64 / 3.0).powi(2) / ((1.0f64 / 9.0) / 2.0 + (16.0 / 9.0) / 2.0);
        let t = StudentsT::new(0.0, 1.0, df).unwrap().inverse_cdf(0.975);
        assert!((c.diff.unwrap() - 3.0).abs() < 1e-12);
        assert!((c.diff_ci95.unwrap() - t * se).abs() < 1e-9);
    }

    #[test]
    fn holm_adjusts_step_down() {
        let adjusted = holm(&[0.01, 0.04, 0.03]);
        // Sorted 0.01, 0.03, 0.04: × 3, × 2, × 1, kept increasing.
        assert!((adjusted[0] - 0.03).abs() < 1e-12);
        assert!((adjusted[2] - 0.06).abs() < 1e-12);
        assert!((adjusted[1] - 0.06).abs() < 1e-12);
        assert_eq!(holm(&[]), Vec::<f64>::new());
    }

    #[test]
    fn p_value_of_a_null_difference_is_large() {
        assert_eq!(p_two_sided(0.0, 0.0, 3.0), 1.0);
        assert_eq!(p_two_sided(1.0, 0.0, 3.0), 0.0);
        // t = 2.776445 with 4 df is the 0.975 quantile: p = 0.05.
        assert!((p_two_sided(2.776_445, 1.0, 4.0) - 0.05).abs() < 1e-5);
    }
}
