//! A hash that is the same on every platform and every Rust release (unlike std's
//! `DefaultHasher`), for decisions that must not change between runs: whether an address
//! exists, whether its mailbox is full.

/// FNV-1a over the bytes written, finished with a SplitMix64 mix.
#[derive(Debug, Clone, Copy)]
pub struct StableHasher(u64);

impl Default for StableHasher {
    fn default() -> Self {
        StableHasher::new()
    }
}

impl StableHasher {
    /// A fresh hasher.
    pub const fn new() -> StableHasher {
        StableHasher(0xcbf2_9ce4_8422_2325)
    }

    /// Adds bytes, then a separator so that `("ab", "c")` and `("a", "bc")` differ.
    pub fn write(&mut self, bytes: &[u8]) {
        for b in bytes.iter().copied().chain([0xff]) {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    /// Adds bytes as ASCII lowercase (for names compared without case), then a separator.
    pub fn write_lowercase(&mut self, bytes: &[u8]) {
        for b in bytes.iter().map(u8::to_ascii_lowercase).chain([0xff]) {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    /// Adds a number.
    pub fn write_u64(&mut self, n: u64) {
        self.write(&n.to_le_bytes());
    }

    /// The hash.
    pub fn finish(&self) -> u64 {
        let mut z = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// The hash as a number in `[0, 1)`.
pub fn to_unit(hash: u64) -> f64 {
    (hash >> 11) as f64 / (1u64 << 53) as f64
}

/// A number in `[0, 1)` decided by `seed` and `parts`: the same inputs, the same number.
pub fn unit_interval(seed: u64, parts: &[&[u8]]) -> f64 {
    let mut h = StableHasher::new();
    h.write_u64(seed);
    for part in parts {
        h.write(part);
    }
    to_unit(h.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_values() {
        // A change here changes which simulated users exist: make it on purpose only.
        let mut h = StableHasher::new();
        h.write(b"alice@example.net");
        assert_eq!(h.finish(), 0x3379_e6ff_5641_7521_u64);
        let mut lower = StableHasher::new();
        lower.write_lowercase(b"Alice@Example.NET");
        assert_eq!(lower.finish(), h.finish());
        let a = unit_interval(1, &[b"alice@example.net"]);
        let b = unit_interval(2, &[b"alice@example.net"]);
        assert_ne!(a, b);
        assert!((0.0..1.0).contains(&a));
    }

    #[test]
    fn fractions_are_uniform() {
        let n = 100_000;
        let below = (0..n)
            .filter(|i| unit_interval(9, &[format!("user{i}@x").as_bytes()]) < 0.1)
            .count();
        assert!((below as f64 / n as f64 - 0.1).abs() < 0.005);
    }
}
