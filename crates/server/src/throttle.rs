//! A link speed: a token bucket of bytes that a connection's reads and writes spend, so that
//! the server reads and writes no faster than `--bandwidth` bytes a second in each direction.

use std::time::Duration;

use tokio::time::Instant;

/// The fastest link speed accepted, in bytes a second.
pub const MAX_BANDWIDTH: u64 = 1_000_000_000;

/// The bytes of one direction of a connection: at most `rate` a second, in pieces of at most
/// [`Throttle::chunk`] bytes (a twentieth of a second's worth, 1 to 16 KiB).
#[derive(Debug, Clone)]
pub(crate) struct Throttle {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl Throttle {
    /// A full bucket for `bytes_per_s` (1 to [`MAX_BANDWIDTH`]).
    pub(crate) fn new(bytes_per_s: u64) -> Throttle {
        let rate = bytes_per_s.clamp(1, MAX_BANDWIDTH) as f64;
        let burst = (rate / 20.0).clamp(1.0, 16.0 * 1024.0).floor();
        Throttle {
            rate,
            burst,
            tokens: burst,
            last: Instant::now(),
        }
    }

    /// The most bytes to read or write at once.
    pub(crate) fn chunk(&self) -> usize {
        self.burst as usize
    }

    /// Spends `n` bytes; waits until the bucket has caught up with them.
    pub(crate) async fn spend(&mut self, n: usize) {
        let now = Instant::now();
        let earned = now.duration_since(self.last).as_secs_f64() * self.rate;
        self.tokens = (self.tokens + earned).min(self.burst) - n as f64;
        self.last = now;
        if self.tokens < 0.0 {
            tokio::time::sleep(Duration::from_secs_f64(-self.tokens / self.rate)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn spending_more_than_the_rate_waits() {
        let mut t = Throttle::new(1000);
        assert_eq!(t.chunk(), 50);
        let start = Instant::now();
        for _ in 0..10 {
            let n = t.chunk();
            t.spend(n).await;
        }
        // 500 bytes at 1000 a second, the first 50 free: at least 0.45 s.
        assert!(start.elapsed() >= Duration::from_millis(450));
        assert_eq!(Throttle::new(0).chunk(), 1);
        assert_eq!(Throttle::new(u64::MAX).chunk(), 16 * 1024);
    }
}
