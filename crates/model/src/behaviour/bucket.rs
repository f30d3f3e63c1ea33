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

    /// Changes the refill rate at `now`, keeping the burst and the fraction of a token
    /// earned so far (half a token at the old rate is half a token at the new one).
    pub fn set_rate(&mut self, rate_per_second: f64, now: SimTime) {
        let elapsed = now.as_micros().saturating_sub(self.updated.as_micros());
        let credit = self.credit.saturating_add(elapsed).min(self.capacity);
        let burst = self.capacity / self.period;
        let period = (1e6 / rate_per_second).round().max(1.0) as u64;
        let scaled = u128::from(credit) * u128::from(period) / u128::from(self.period);
        self.period = period;
        self.capacity = period.saturating_mul(burst);
        self.credit = (scaled as u64).min(self.capacity);
        self.updated = self.updated.max(now);
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
    fn a_new_rate_keeps_the_fraction_of_a_token_earned() {
        let t = SimTime::from_secs;
        let mut bucket = TokenBucket::new(1.0, 1, t(0));
        assert!(bucket.take(t(0)));
        // Half a token earned at 1/s, then the rate drops to 1/min: 30 s to go.
        bucket.set_rate(1.0 / 60.0, SimTime::from_millis(500));
        assert_eq!(
            bucket.next_token(SimTime::from_millis(500)),
            t(30) + smtpsim_des::SimDuration::from_millis(500)
        );
        assert!(bucket.take(SimTime::from_millis(30_500)));
        // Back to 10/s with nothing earned: the next token in 0.1 s.
        bucket.set_rate(10.0, SimTime::from_millis(30_500));
        assert_eq!(
            bucket.next_token(SimTime::from_millis(30_500)),
            SimTime::from_millis(30_600)
        );
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
