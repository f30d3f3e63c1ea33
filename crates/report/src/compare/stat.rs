//! Two-sample tests and confidence intervals on the aggregates a run keeps (HdrHistograms and
//! counts), so that outputs of any size compare in bounded memory.

use hdrhistogram::Histogram;
use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};

/// z for a two-sided 95% interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// The two-sample Kolmogorov–Smirnov distance of two histograms and its asymptotic p-value.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct KsTest {
    /// The largest distance between the two empirical CDFs.
    pub d: f64,
    /// The probability of a distance at least `d` if both samples come from one continuous
    /// distribution (Kolmogorov's limit with Stephens' small-sample correction).
    pub p_value: f64,
}

/// The bucket values (highest equivalent value) and counts of a histogram, in value order.
fn buckets(h: &Histogram<u64>) -> Vec<(u64, u64)> {
    h.iter_recorded()
        .map(|b| (b.value_iterated_to(), b.count_at_value()))
        .collect()
}

/// Kolmogorov's survival function Q(λ) = 2 Σ (-1)^(k-1) exp(-2 k² λ²).
fn kolmogorov_q(lambda: f64) -> f64 {
    if lambda < 0.2 {
        return 1.0;
    }
    let mut sum = 0.0;
    for k in 1..=100 {
        let k = f64::from(k);
        let term = (-2.0 * k * k * lambda * lambda).exp();
        sum += if k as u64 % 2 == 1 { term } else { -term };
        if term < 1e-12 {
            break;
        }
    }
    (2.0 * sum).clamp(0.0, 1.0)
}

/// KS on two histograms of the same resolution; `None` when either is empty.
pub fn ks(a: &Histogram<u64>, b: &Histogram<u64>) -> Option<KsTest> {
    let (n, m) = (a.len() as f64, b.len() as f64);
    if n == 0.0 || m == 0.0 {
        return None;
    }
    let (a, b) = (buckets(a), buckets(b));
    let (mut i, mut j) = (0, 0);
    let (mut fa, mut fb, mut d) = (0.0f64, 0.0f64, 0.0f64);
    while i < a.len() || j < b.len() {
        let value = match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) => x.0.min(y.0),
            (Some(x), None) => x.0,
            (None, Some(y)) => y.0,
            (None, None) => break,
        };
        if a.get(i).is_some_and(|x| x.0 == value) {
            fa += a[i].1 as f64 / n;
            i += 1;
        }
        if b.get(j).is_some_and(|y| y.0 == value) {
            fb += b[j].1 as f64 / m;
            j += 1;
        }
        d = d.max((fa - fb).abs());
    }
    let ne = (n * m / (n + m)).sqrt();
    let p_value = kolmogorov_q((ne + 0.12 + 0.11 / ne) * d);
    Some(KsTest { d, p_value })
}

/// Pearson's chi-square test of homogeneity of two count vectors over the same categories.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ChiSquareTest {
    /// The statistic.
    pub statistic: f64,
    /// Degrees of freedom: the categories after merging, less one.
    pub df: u64,
    /// The probability of a statistic at least this large under homogeneity.
    pub p_value: f64,
    /// The categories tested, after merging: each the first label of its group.
    pub groups: Vec<String>,
}

/// Chi-square on `counts` (label, count in A, count in B), in category order. Neighbouring
/// categories are merged from the left until each group's expected count is at least 5 on
/// both sides (the rest joins the last group), as the test's approximation asks. `None` with
/// fewer than two groups or an empty side.
pub fn chi_square(counts: &[(String, u64, u64)]) -> Option<ChiSquareTest> {
    let (na, nb): (u64, u64) = counts.iter().fold((0, 0), |s, c| (s.0 + c.1, s.1 + c.2));
    if na == 0 || nb == 0 {
        return None;
    }
    let total = (na + nb) as f64;
    let smaller = na.min(nb) as f64;
    let mut groups: Vec<(String, u64, u64)> = Vec::new();
    let mut open: Option<(String, u64, u64)> = None;
    for (label, a, b) in counts {
        let g = open.get_or_insert_with(|| (label.clone(), 0, 0));
        g.1 += a;
        g.2 += b;
        if (g.1 + g.2) as f64 * smaller / total >= 5.0 {
            groups.extend(open.take());
        }
    }
    if let Some(rest) = open {
        match groups.last_mut() {
            Some(last) => {
                last.1 += rest.1;
                last.2 += rest.2;
            }
            None => groups.push(rest),
        }
    }
    if groups.len() < 2 {
        return None;
    }
    let mut statistic = 0.0;
    for (_, a, b) in &groups {
        let column = (a + b) as f64;
        for (observed, row) in [(*a, na), (*b, nb)] {
            let expected = column * row as f64 / total;
            statistic += (observed as f64 - expected).powi(2) / expected;
        }
    }
    let df = groups.len() as u64 - 1;
    let p_value = ChiSquared::new(df as f64)
        .map(|dist| 1.0 - dist.cdf(statistic))
        .unwrap_or(f64::NAN);
    Some(ChiSquareTest {
        statistic,
        df,
        p_value,
        groups: groups.into_iter().map(|g| g.0).collect(),
    })
}

/// Wilson's 95% interval of a proportion `k` of `n` (0..1; (0, 1) when `n` is 0).
pub fn wilson(k: u64, n: u64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let (n, p) = (n as f64, k as f64 / n as f64);
    let z2 = Z95 * Z95;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / (1.0 + z2 / n);
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// The two-sided p-value of the pooled two-proportion z-test of `ka/na` against `kb/nb`
/// (1 when both proportions are 0 or 1, or a side is empty).
pub fn two_proportions(ka: u64, na: u64, kb: u64, nb: u64) -> f64 {
    if na == 0 || nb == 0 {
        return 1.0;
    }
    let pooled = (ka + kb) as f64 / (na + nb) as f64;
    let se = (pooled * (1.0 - pooled) * (1.0 / na as f64 + 1.0 / nb as f64)).sqrt();
    if se == 0.0 {
        return 1.0;
    }
    let z = (ka as f64 / na as f64 - kb as f64 / nb as f64) / se;
    let normal = Normal::standard();
    2.0 * (1.0 - normal.cdf(z.abs()))
}

/// A quantile of a histogram with its distribution-free 95% interval, in seconds: the order
/// statistics of ranks `nq ∓ 1.96·√(nq(1-q))` (the binomial's normal approximation), read
/// from the histogram. `None` when it is empty.
pub fn quantile_ci(h: &Histogram<u64>, q: f64) -> Option<(f64, f64, f64)> {
    let n = h.len() as f64;
    if n == 0.0 {
        return None;
    }
    let half = Z95 * (n * q * (1.0 - q)).sqrt();
    let at = |rank: f64| {
        let rank = rank.clamp(1.0, n);
        h.value_at_quantile(rank / n) as f64 / 1e6
    };
    Some((
        h.value_at_quantile(q) as f64 / 1e6,
        at((n * q - half).floor()),
        at((n * q + half).ceil()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn histogram(values: impl IntoIterator<Item = u64>) -> Histogram<u64> {
        let mut h = crate::new_histogram();
        for v in values {
            h.record(v).unwrap();
        }
        h
    }

    #[test]
    fn ks_of_a_sample_with_itself_is_zero_and_of_disjoint_samples_one() {
        let a = histogram((1..=1000).map(|i| i * 1000));
        let same = ks(&a, &a).unwrap();
        assert_eq!(same.d, 0.0);
        assert_eq!(same.p_value, 1.0);
        let b = histogram((1..=1000).map(|i| 10_000_000 + i * 1000));
        let apart = ks(&a, &b).unwrap();
        assert!((apart.d - 1.0).abs() < 1e-9);
        assert!(apart.p_value < 1e-12);
        assert!(ks(&a, &crate::new_histogram()).is_none());
    }

    #[test]
    fn ks_p_values_match_kolmogorovs_table() {
        // Q(1.36) = 0.049, Q(1.63) = 0.0098 (the 5% and 1% critical values).
        assert!((kolmogorov_q(1.358) - 0.05).abs() < 0.001);
        assert!((kolmogorov_q(1.628) - 0.01).abs() < 0.0005);
    }

    #[test]
    fn chi_square_merges_sparse_categories_and_finds_a_difference() {
        let same: Vec<(String, u64, u64)> = vec![
            ("1".into(), 500, 510),
            ("2".into(), 300, 290),
            ("3".into(), 3, 2),
            ("4".into(), 1, 2),
        ];
        let t = chi_square(&same).unwrap();
        assert_eq!(t.groups, ["1", "2"]);
        assert_eq!(t.df, 1);
        assert!(t.p_value > 0.5, "{t:?}");
        let other: Vec<(String, u64, u64)> = vec![("1".into(), 500, 300), ("2".into(), 300, 500)];
        assert!(chi_square(&other).unwrap().p_value < 1e-6);
        assert!(chi_square(&[("1".into(), 10, 10)]).is_none());
    }

    #[test]
    fn intervals_cover_what_they_should() {
        let (lo, hi) = wilson(50, 100);
        assert!((lo - 0.404).abs() < 0.001 && (hi - 0.596).abs() < 0.001);
        assert_eq!(wilson(0, 0), (0.0, 1.0));
        assert!(two_proportions(50, 100, 52, 100) > 0.7);
        assert!(two_proportions(50, 100, 80, 100) < 0.001);
        assert_eq!(two_proportions(0, 100, 0, 100), 1.0);
        let h = histogram((1..=10_000).map(|i| i * 1000));
        let (p50, lo, hi) = quantile_ci(&h, 0.5).unwrap();
        assert!(lo < p50 && p50 < hi);
        assert!(
            (p50 - 5.0).abs() < 0.01 && hi - lo < 0.25,
            "{lo} {p50} {hi}"
        );
    }
}
