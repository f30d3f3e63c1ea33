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
    #[inline]
    pub fn write(&mut self, bytes: &[u8]) {
        // A plain loop over the bytes and the separator after it: a chained iterator costs
        // a check of which half it is in at every byte.
        let mut h = self.0;
        for &b in bytes {
            h = fnv_step(h, b);
        }
        self.0 = fnv_step(h, SEPARATOR);
    }

    /// Adds bytes as ASCII lowercase (for names compared without case), then a separator.
    #[inline]
    pub fn write_lowercase(&mut self, bytes: &[u8]) {
        let mut h = self.0;
        for &b in bytes {
            h = fnv_step(h, b.to_ascii_lowercase());
        }
        self.0 = fnv_step(h, SEPARATOR);
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

/// The byte written after each run of bytes.
const SEPARATOR: u8 = 0xff;

/// One FNV-1a step: the byte in, then the multiplication by the FNV prime.
#[inline(always)]
fn fnv_step(hash: u64, byte: u8) -> u64 {
    (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
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

    /// FNV-1a over the bytes and the separator, as first written: the loops must agree.
    fn reference(bytes: &[u8], lowercase: bool) -> u64 {
        let mut h = 0xcbf2_9ce4_8422_2325_u64;
        for b in bytes.iter().chain([&0xff]) {
            let b = if lowercase {
                b.to_ascii_lowercase()
            } else {
                *b
            };
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h
    }

    #[test]
    fn the_loops_give_fnv_1a_with_a_separator() {
        for text in [
            "",
            "a",
            "user637143@outlook.com",
            "Mixed.CASE@Example.NET",
            "\u{e9}t\u{e9}",
        ] {
            for lowercase in [false, true] {
                let mut h = StableHasher::new();
                if lowercase {
                    h.write_lowercase(text.as_bytes());
                } else {
                    h.write(text.as_bytes());
                }
                assert_eq!(h.0, reference(text.as_bytes(), lowercase), "{text:?}");
            }
        }
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
