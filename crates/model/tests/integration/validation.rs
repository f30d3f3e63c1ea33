//! The simulator against queueing theory and probability: the numbers must be right, not just
//! repeatable.

use crate::support;

use smtpsim_model::sim::{Fate, Options};

/// Erlang C: the probability that an arrival waits in an M/M/c queue with offered load `a`.
fn erlang_c(c: u32, a: f64) -> f64 {
    let mut term = 1.0; // a^k / k!
    let mut sum = 0.0;
    for k in 0..c {
        if k > 0 {
            term *= a / f64::from(k);
        }
        sum += term;
    }
    let last = term * a / f64::from(c); // a^c / c!
    let rho = a / f64::from(c);
    let top = last / (1.0 - rho);
    top / (sum + top)
}

/// Mean queue wait (seconds) with a confidence half-width from batch means, over rows in
/// arrival order, skipping a warm-up.
fn mean_wait_with_ci(waits: &[f64], batches: usize, z: f64) -> (f64, f64) {
    let warm = waits.len() / 20;
    let data = &waits[warm..];
    let size = data.len() / batches;
    let means: Vec<f64> = (0..batches)
        .map(|b| data[b * size..(b + 1) * size].iter().sum::<f64>() / size as f64)
        .collect();
    let mean = means.iter().sum::<f64>() / batches as f64;
    let var = means.iter().map(|m| (m - mean).powi(2)).sum::<f64>() / (batches - 1) as f64;
    (mean, z * (var / batches as f64).sqrt())
}

fn waits_by_arrival(name: &str) -> Vec<f64> {
    let scenario = support::load(name);
    let (memory, _) = support::run(&scenario, &Options::default());
    let mut rows = memory.rows;
    rows.sort_by_key(|r| r.message_id);
    assert!(rows.iter().all(|r| r.fate == Fate::Inbox));
    rows.iter().map(|r| r.queue_wait as f64 / 1e6).collect()
}

#[test]
fn erlang_c_matches_known_values() {
    // M/M/1: P(wait) = rho.
    assert!((erlang_c(1, 0.5) - 0.5).abs() < 1e-12);
    // M/M/4 at rho 0.9 (a = 3.6): 69.984 / 88.84.
    assert!((erlang_c(4, 3.6) - 0.787_753).abs() < 1e-6);
}

#[test]
fn mm1_mean_wait_matches_theory() {
    let waits = waits_by_arrival("validation/mm1.toml");
    let (lambda, mu) = (0.5, 1.0);
    let theory = erlang_c(1, lambda / mu) / (mu - lambda);
    let (mean, half) = mean_wait_with_ci(&waits, 20, 3.29);
    assert!(
        (mean - theory).abs() < half,
        "simulated {mean:.4} ± {half:.4} s, Erlang C {theory:.4} s"
    );
    // The interval is narrow enough to mean something.
    assert!(half < 0.1 * theory, "half-width {half}");
}

#[test]
fn mm4_mean_wait_matches_erlang_c() {
    let waits = waits_by_arrival("validation/mm4.toml");
    let (lambda, mu, c) = (3.6, 1.0, 4);
    let theory = erlang_c(c, lambda / mu) / (f64::from(c) * mu - lambda);
    let (mean, half) = mean_wait_with_ci(&waits, 20, 3.29);
    assert!(
        (mean - theory).abs() < half,
        "simulated {mean:.4} ± {half:.4} s, Erlang C {theory:.4} s"
    );
    assert!(half < 0.2 * theory, "half-width {half}");
    // The probability of waiting at all, too.
    let waited = waits.iter().filter(|w| **w > 0.0).count() as f64 / waits.len() as f64;
    assert!((waited - erlang_c(c, 3.6)).abs() < 0.02, "P(wait) {waited}");
}

#[test]
fn temporary_failures_expire_with_probability_p_to_the_k() {
    let scenario = support::load("validation/tempfail.toml");
    let (memory, _) = support::run(&scenario, &Options::default());
    let (p, k) = (0.3f64, 4);
    let n = memory.rows.len() as f64;
    let expired = memory
        .rows
        .iter()
        .filter(|r| r.fate == Fate::Expired)
        .count() as f64;
    let attempts: f64 = memory.rows.iter().map(|r| f64::from(r.attempts)).sum();
    let expired_theory = p.powi(k);
    let attempts_theory = (1.0 - p.powi(k)) / (1.0 - p);
    // Binomial standard error, 3.29 of them (99.9 %).
    let se = (expired_theory * (1.0 - expired_theory) / n).sqrt();
    assert!(
        (expired / n - expired_theory).abs() < 3.29 * se,
        "expired {} vs p^k {expired_theory}",
        expired / n
    );
    // Attempts per message: variance of a truncated geometric, bounded by p/(1-p)^2.
    let se = (p / (1.0 - p).powi(2) / n).sqrt();
    assert!(
        (attempts / n - attempts_theory).abs() < 3.29 * se,
        "attempts {} vs {attempts_theory}",
        attempts / n
    );
    // Every other message was delivered, and no message made more than k attempts.
    assert!(memory.rows.iter().all(|r| r.attempts <= k as u32));
    assert!(
        memory
            .rows
            .iter()
            .all(|r| (r.fate == Fate::Expired) == (r.attempts == k as u32 && r.fate != Fate::Inbox))
    );
}

#[test]
fn greylisted_messages_pass_at_the_first_retry_after_the_delay() {
    let scenario = support::load("validation/greylist.toml");
    let (memory, _) = support::run(&scenario, &Options::default());
    let mut rows = memory.rows;
    rows.sort_by_key(|r| r.message_id);
    let mut seen = std::collections::HashSet::new();
    let mut checked = 0;
    for row in &rows {
        assert_eq!(row.fate, Fate::Inbox);
        if !seen.insert(row.recipient.clone()) {
            // The same triplet again: it passed already.
            continue;
        }
        // Retries every 2 minutes against a 5-minute delay: attempts at 0, 2, 4, 6 minutes.
        assert_eq!(row.attempts, 4, "{row:?}");
        assert_eq!(
            row.finished - row.first_attempt.unwrap(),
            360_000_000,
            "{row:?}"
        );
        checked += 1;
    }
    assert!(checked > 1900);
}
