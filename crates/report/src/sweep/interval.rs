//! Mean, standard deviation and 95% confidence half-width of a metric over replications.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// The 0.975 quantile of Student's t with `df` degrees of freedom (`df >= 1`): the factor of
/// a two-sided 95% confidence interval.
pub fn t_quantile_975(df: u64) -> f64 {
    let t = StudentsT::new(0.0, 1.0, df as f64).expect("df >= 1 is a valid Student t");
    t.inverse_cdf(0.975)
}

/// A metric over `n` replications.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Replications.
    pub n: u64,
    /// Mean; none with no values.
    pub mean: Option<f64>,
    /// Sample standard deviation (n − 1 in the denominator); none with fewer than 2 values.
    pub sd: Option<f64>,
    /// Half-width of the 95% confidence interval of the mean, `t(0.975, n − 1) · sd / √n`;
    /// none with fewer than 2 values.
    pub ci95: Option<f64>,
}

impl Interval {
    /// The interval of `values` (none: no mean).
    pub fn of(values: &[f64]) -> Interval {
        let n = values.len() as u64;
        if n == 0 {
            return Interval {
                n,
                mean: None,
                sd: None,
                ci95: None,
            };
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        if n < 2 {
            return Interval {
                n,
                mean: Some(mean),
                sd: None,
                ci95: None,
            };
        }
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let sd = var.sqrt();
        Interval {
            n,
            mean: Some(mean),
            sd: Some(sd),
            ci95: Some(t_quantile_975(n - 1) * sd / (n as f64).sqrt()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_the_tables() {
        // Two-sided 95% critical values from the usual Student t table.
        for (df, t) in [
            (1, 12.706),
            (2, 4.303),
            (4, 2.776),
            (9, 2.262),
            (19, 2.093),
            (120, 1.980),
        ] {
            assert!((t_quantile_975(df) - t).abs() < 5e-4, "df {df}");
        }
    }

    #[test]
    fn interval_of_known_values() {
        let i = Interval::of(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!(i.n, 8);
        assert_eq!(i.mean, Some(5.0));
        let sd = (32.0f64 / 7.0).sqrt();
        assert!((i.sd.unwrap() - sd).abs() < 1e-12);
        assert!((i.ci95.unwrap() - 2.364_624 * sd / 8f64.sqrt()).abs() < 1e-5);
        assert_eq!(Interval::of(&[3.0]).sd, None);
        assert_eq!(Interval::of(&[3.0]).mean, Some(3.0));
        assert_eq!(Interval::of(&[]).mean, None);
        assert_eq!(Interval::of(&[1.0, 1.0]).ci95, Some(0.0));
    }
}
