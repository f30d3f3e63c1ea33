//! The three values of Postfix's retry policy inferred from a log's attempt times.
//!
//! Postfix's qmgr scans its deferred queue every `queue_run_delay`; after a failure of a
//! message aged `age` (whole seconds) it waits `age` clamped to `minimal_backoff_time ..
//! maximal_backoff_time`, and a scan takes the message from one second before that
//! (`crates/model/src/retry.rs`, `postfix_next`). So, in a log:
//!
//! - retries happen only on scans: the seconds of retry lines come in clusters (a scan and
//!   the second it spills into) spaced by multiples of `queue_run_delay`, the most common
//!   spacing being the delay itself;
//! - the gap from a failure to the next attempt is at least the backoff less two seconds
//!   (one of grace, one of truncation) and at most the backoff plus a queue run: the
//!   shortest gap after a first failure at arrival gives the minimal backoff (shortest gap,
//!   whole seconds, plus 2): it reaches the bound when a scan falls on the first second the
//!   message is due, for a message that arrived in the second half of its second, which
//!   with `n` such gaps and runs of `R` seconds fails with probability about
//!   (1 − 1/(2R))ⁿ;
//! - a failure at an age well above the gap that followed it was clamped by the maximum.
//!   Such failures happen on scans, and the retry comes at the first scan from
//!   `maximal_backoff_time` − 1 s after, so the gap is a whole number of runs and every
//!   maximum from that gap − R + 2 s to the gap + 1 s retries alike: the commonest clamped
//!   gap is written, one of those equivalent values.
//!
//! Each value says how many observations it came from.

use std::collections::BTreeMap;

/// One inferred value: seconds (whole) and the observations it came from; `None` when the log
/// does not show it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Inferred {
    /// The value in seconds, when the log shows it.
    pub secs: Option<u64>,
    /// How many observations it came from.
    pub observations: u64,
}

/// The three values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PostfixRetry {
    /// `queue_run_delay`.
    pub queue_run_delay: Inferred,
    /// `minimal_backoff_time`.
    pub minimal_backoff: Inferred,
    /// `maximal_backoff_time`.
    pub maximal_backoff: Inferred,
    /// The oldest age at which a failure was seen (seconds): the maximal backoff is at least
    /// about this when no clamped gap was seen.
    pub oldest_failure: f64,
}

/// The spacing of scans: the most common distance between the starts of consecutive clusters
/// of retry seconds (ties go to the shorter).
pub(crate) fn queue_run_delay(retry_seconds: &BTreeMap<u64, u64>) -> Inferred {
    let mut starts = Vec::new();
    let mut previous: Option<u64> = None;
    for &second in retry_seconds.keys() {
        if previous.is_none_or(|p| second > p + 1) {
            starts.push(second);
        }
        previous = Some(second);
    }
    let mut spacing: BTreeMap<u64, u64> = BTreeMap::new();
    for pair in starts.windows(2) {
        *spacing.entry(pair[1] - pair[0]).or_default() += 1;
    }
    let best = spacing
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(&d, _)| d);
    Inferred {
        secs: best,
        observations: starts.len().saturating_sub(1) as u64,
    }
}

/// The backoffs from (age at failure, gap to the next attempt) pairs, in seconds.
pub(crate) fn backoffs(pairs: &[(f64, f64)]) -> (Inferred, Inferred, f64) {
    // Failures of messages younger than any plausible backoff: the first failure at arrival.
    let young: Vec<f64> = pairs
        .iter()
        .filter(|(age, gap)| *age < 1.0 && *gap > 0.0)
        .map(|&(_, gap)| gap)
        .collect();
    let minimal = shortest_plus_two(&young);
    // Clamped by the maximum: the next attempt came well before the message's age had
    // passed again (an unclamped wait is at least the age less three seconds, rounding included).
    let clamped: Vec<f64> = pairs
        .iter()
        .filter(|(age, gap)| *gap > 0.0 && gap + 4.0 < *age)
        .map(|&(_, gap)| gap)
        .collect();
    let maximal = commonest(&clamped);
    let oldest = pairs.iter().map(|p| p.0).fold(0.0, f64::max);
    (minimal, maximal, oldest)
}

/// The commonest gap in whole seconds (ties go to the shorter).
fn commonest(gaps: &[f64]) -> Inferred {
    let mut count: BTreeMap<u64, u64> = BTreeMap::new();
    for gap in gaps {
        *count.entry(gap.round() as u64).or_default() += 1;
    }
    let best = count
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(&g, _)| g);
    Inferred {
        secs: best,
        observations: gaps.len() as u64,
    }
}

fn shortest_plus_two(gaps: &[f64]) -> Inferred {
    let shortest = gaps.iter().copied().fold(f64::INFINITY, f64::min);
    Inferred {
        secs: shortest.is_finite().then(|| shortest.floor() as u64 + 2),
        observations: gaps.len() as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_are_the_most_common_spacing_of_retry_clusters() {
        // Scans every 10 s from 8, spilling into the next second; one scan without retries.
        let seconds: BTreeMap<u64, u64> = [8, 9, 18, 28, 29, 48, 58, 59, 68]
            .into_iter()
            .map(|s| (s, 3))
            .collect();
        let run = queue_run_delay(&seconds);
        assert_eq!(run.secs, Some(10));
        assert_eq!(run.observations, 5);
        assert_eq!(queue_run_delay(&BTreeMap::new()).secs, None);
    }

    #[test]
    fn backoffs_come_from_the_shortest_gaps() {
        // Minimal 10 s: first failures at arrival retried 8.3 … 18 s later; maximal 80 s:
        // failures at ages 150, 230 and 300 retried after 80, 79.6 and 90 s; failures at 30 s
        // wait their age.
        let pairs = [
            (0.01, 8.3),
            (0.02, 12.0),
            (0.01, 18.0),
            (30.0, 29.0),
            (150.0, 80.0),
            (230.0, 79.6),
            (300.0, 90.0),
        ];
        let (minimal, maximal, oldest) = backoffs(&pairs);
        assert_eq!(
            minimal,
            Inferred {
                secs: Some(10),
                observations: 3
            }
        );
        assert_eq!(
            maximal,
            Inferred {
                secs: Some(80),
                observations: 3
            }
        );
        assert_eq!(oldest, 300.0);
        assert_eq!(backoffs(&pairs[..3]).1.secs, None);
    }
}
