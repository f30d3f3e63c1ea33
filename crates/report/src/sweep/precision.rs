//! `--precision METRIC=TARGET`: how precise every point's mean of a metric must be before a
//! sweep stops adding replications.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use smtpsim_des::SimDuration;

use super::{Interval, Metrics};

/// The largest 95% half-width a point's mean of a metric may have.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// A fraction of the absolute value of the mean (`2%` is 0.02).
    Relative(f64),
    /// In the metric's unit (seconds for the `_s` metrics).
    Absolute(f64),
}

/// A precision target: `METRIC=2%`, `METRIC=0.5s` (times) or `METRIC=0.01` (absolute), and
/// the most replications a point may have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Precision {
    /// One of [`Metrics::NAMES`].
    pub metric: String,
    /// The target as written (`2%`, `0.5s`, `0.01`).
    pub target: String,
    /// The most replications of a point.
    pub max_replications: u32,
}

impl Precision {
    /// The target, parsed (it was checked when the precision was made).
    pub fn target(&self) -> Target {
        parse_target(&self.metric, &self.target).expect("checked when parsed")
    }

    /// Whether `interval` is within the target: a half-width (at least 2 values) no larger
    /// than the target.
    pub fn reached(&self, interval: &Interval) -> bool {
        let (Some(mean), Some(half)) = (interval.mean, interval.ci95) else {
            return false;
        };
        match self.target() {
            Target::Relative(f) => half <= f * mean.abs(),
            Target::Absolute(a) => half <= a,
        }
    }
}

fn parse_target(metric: &str, target: &str) -> Result<Target, String> {
    let bad = |why: &str| format!("precision target {target:?} of {metric}: {why}");
    if let Some(pct) = target.strip_suffix('%') {
        let v: f64 = pct
            .trim()
            .parse()
            .map_err(|_| bad("write a percentage such as 2%"))?;
        if !(v > 0.0 && v <= 100.0) {
            return Err(bad("the percentage is in (0, 100]"));
        }
        return Ok(Target::Relative(v / 100.0));
    }
    if let Ok(v) = target.trim().parse::<f64>() {
        if !(v > 0.0 && v.is_finite()) {
            return Err(bad("the half-width is a positive number"));
        }
        return Ok(Target::Absolute(v));
    }
    if !metric.ends_with("_s") {
        return Err(bad(
            "a time is for the _s metrics; write a percentage (2%) or a number (0.01)",
        ));
    }
    let d: SimDuration = target
        .trim()
        .parse()
        .map_err(|e| bad(&format!("{e}; write 2%, 0.5s or a number")))?;
    if d.as_secs_f64() <= 0.0 {
        return Err(bad("the half-width is longer than 0"));
    }
    Ok(Target::Absolute(d.as_secs_f64()))
}

impl FromStr for Precision {
    type Err = String;

    /// `METRIC=TARGET`, with a `max_replications` of 0 to be set by the caller.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (metric, target) = s.split_once('=').ok_or_else(|| {
            format!("invalid precision {s:?}: write METRIC=2%, METRIC=0.5s or METRIC=0.01")
        })?;
        let metric = metric.trim();
        if !Metrics::NAMES.contains(&metric) {
            return Err(format!(
                "unknown metric {metric:?}: one of {}",
                Metrics::NAMES.join(", ")
            ));
        }
        parse_target(metric, target)?;
        Ok(Precision {
            metric: metric.to_string(),
            target: target.trim().to_string(),
            max_replications: 0,
        })
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.metric, self.target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_and_bad_ones_are_refused() {
        let p: Precision = "mean_attempts=2%".parse().unwrap();
        assert_eq!(p.target(), Target::Relative(0.02));
        let p: Precision = "latency_p50_s=0.5s".parse().unwrap();
        assert_eq!(p.target(), Target::Absolute(0.5));
        let p: Precision = "latency_p50_s=2m".parse().unwrap();
        assert_eq!(p.target(), Target::Absolute(120.0));
        let p: Precision = "delivery_rate=0.001".parse().unwrap();
        assert_eq!(p.target(), Target::Absolute(0.001));
        for bad in [
            "mean_attempts",
            "attempts=2%",
            "mean_attempts=0%",
            "mean_attempts=-1",
            "mean_attempts=5s",
            "latency_p50_s=soon",
        ] {
            assert!(bad.parse::<Precision>().is_err(), "{bad}");
        }
    }

    #[test]
    fn reached_compares_the_half_width() {
        let p = Precision {
            max_replications: 10,
            ..("mean_attempts=10%".parse().unwrap())
        };
        let interval = |mean, half| Interval {
            n: 5,
            mean: Some(mean),
            sd: Some(1.0),
            ci95: Some(half),
        };
        assert!(p.reached(&interval(2.0, 0.2)));
        assert!(!p.reached(&interval(2.0, 0.21)));
        assert!(!p.reached(&Interval::of(&[2.0])));
    }
}
