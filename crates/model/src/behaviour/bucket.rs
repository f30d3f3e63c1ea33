//! Token buckets, in integer microseconds so that no rounding drifts over a long run.

use smtpsim_des::SimTime;

/// A token bucket: refills at `rate` tokens per second up to `burst` tokens; each event takes
/// one. Starts full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenBucket {
    /// Microseconds to earn one token.
    period: u64,
    /// Capacity, in microseconds of earning (burst × period).
    capacity: u64,
    /// Earned credit at `updated`, in microseconds.
    credit: u64,
    updated: SimTime,
}

impl TokenBucket {
    /// A full bucket; `rate` must be above 0 and `burst` at least 1.
    pub fn new(rate_per_second: f64, burst: u32, now: SimTime) -> TokenBucket {
        let period = (1e6 / rate_per_second).round().max(1.0) as u64;
        let capacity = period.saturating_mul(u64::from(burst.max(1)));
        TokenBucket {
            period,
            capacity,
            credit: capacity,
            updated: now,
        }
    }

    /// Takes a token at `now` if there is one.
    pub fn take(&mut self, now: SimTime) -> bool {
        let elapsed = now.as_micros().saturating_sub(self.updated.as_micros());
        self.credit = self.credit.saturating_add(elapsed).min(self.capacity);
        self.updated = self.updated.max(now);
        if self.credit >= self.period {
            self.credit -= self.period;
            true
        } else {
            false
        }
    }

    /// When the next token will be there (now, if one is).
    pub fn next_token(&self, now: SimTime) -> SimTime {
        let elapsed = now.as_micros().saturating_sub(self.updated.as_micros());
        let credit = self.credit.saturating_add(elapsed).min(self.capacity);
        if credit >= self.period {
            now
        } else {
            SimTime::from_micros(now.as_micros() + (self.period - credit))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_rate() {
        let t = SimTime::from_secs;
        let mut bucket = TokenBucket::new(1.0, 3, t(0));
        assert!(bucket.take(t(0)) && bucket.take(t(0)) && bucket.take(t(0)));
        assert!(!bucket.take(t(0)));
        assert_eq!(bucket.next_token(t(0)), t(1));
        assert!(bucket.take(t(1)));
        assert!(!bucket.take(t(1)));
        // A long pause refills only up to the burst.
        let taken = (0..10).filter(|_| bucket.take(t(100))).count();
        assert_eq!(taken, 3);
    }

    #[test]
    fn long_run_rate_is_exact() {
        // 7 per second for an hour of one attempt per millisecond: 7 × 3600 + burst.
        let mut bucket = TokenBucket::new(7.0, 5, SimTime::ZERO);
        let taken = (0..3_600_000u64)
            .filter(|ms| bucket.take(SimTime::from_millis(*ms)))
            .count();
        assert!((taken as i64 - (7 * 3600 + 5)).abs() <= 1, "{taken}");
    }
}
