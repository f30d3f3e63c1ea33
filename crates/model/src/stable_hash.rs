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
        self.0 = fnv_bytes(self.0, bytes, |word| word, |b| b);
    }

    /// Adds bytes as ASCII lowercase (for names compared without case), then a separator.
    #[inline]
    pub fn write_lowercase(&mut self, bytes: &[u8]) {
        self.0 = fnv_bytes(self.0, bytes, lowercase_word, |b| b.to_ascii_lowercase());
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

/// FNV-1a steps over `bytes`, each as `byte` makes it, then the separator, from `hash`.
///
/// The hash must step byte by byte, but the bytes need not be read (and lowercased) one at a
/// time: eight are read as a word and made over at once by `word`, which must treat each
/// byte as `byte` does; the few left over go one by one. Per byte this is a shift, an XOR and
/// a multiplication, against a load, a comparison, a conditional move and the loop's own
/// count for a byte at a time: under half the instructions, for the same value.
#[inline(always)]
fn fnv_bytes(hash: u64, bytes: &[u8], word: impl Fn(u64) -> u64, byte: impl Fn(u8) -> u8) -> u64 {
    let mut h = hash;
    let mut words = bytes.chunks_exact(8);
    for chunk in &mut words {
        let mut w = word(u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8])));
        // The lowest byte is the first.
        for _ in 0..8 {
            h = fnv_step(h, w as u8);
            w >>= 8;
        }
    }
    for &b in words.remainder() {
        h = fnv_step(h, byte(b));
    }
    fnv_step(h, SEPARATOR)
}

/// `u8::to_ascii_lowercase` on each of the eight bytes of `word` at once: `A`-`Z` gain 0x20,
/// every other byte stays as it is.
#[inline(always)]
fn lowercase_word(word: u64) -> u64 {
    const LOW_SEVEN: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let low = word & LOW_SEVEN;
    // 0x80 in each byte whose low seven bits are `A` (0x41) or above, and in each whose are
    // past `Z` (0x5A); no sum reaches 0x100, so nothing carries into the next byte.
    let from_a = low + 0x3F3F_3F3F_3F3F_3F3F;
    let past_z = low + 0x2525_2525_2525_2525;
    // Capitals: in A..=Z and without the high bit (bytes of UTF-8 sequences stay as they are).
    let capitals = from_a & !past_z & !word & HIGH;
    // 0x80 >> 2 is the 0x20 bit, clear in every capital.
    word | (capitals >> 2)
}

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
    fn words_lowercase_as_bytes_do() {
        // Every byte value, in every position of a word, among neighbours that are capitals,
        // high bytes or neither (a carry or borrow across bytes would show).
        for b in 0..=255u8 {
            for fill in [b'A', b'Z', b'a', b'@', 0x00, 0x7F, 0x80, 0xC3, 0xFF] {
                for at in 0..8 {
                    let mut bytes = [fill; 8];
                    bytes[at] = b;
                    let lowered = lowercase_word(u64::from_le_bytes(bytes)).to_le_bytes();
                    assert_eq!(lowered, bytes.map(|b| b.to_ascii_lowercase()), "{bytes:?}");
                }
            }
        }
    }

    #[test]
    fn every_length_hashes_as_byte_by_byte() {
        let text: Vec<u8> = (0..70u8)
            .map(|i| [b'Q', b'x', b'.', b'@', 0xC3, b'7', b'Z', 0xA9][usize::from(i % 8)] ^ (i & 1))
            .collect();
        for n in 0..text.len() {
            for lowercase in [false, true] {
                let mut h = StableHasher::new();
                if lowercase {
                    h.write_lowercase(&text[..n]);
                } else {
                    h.write(&text[..n]);
                }
                assert_eq!(h.0, reference(&text[..n], lowercase), "{n} {lowercase}");
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
