//! Reproducible randomness: named, independent streams from one master seed.
//!
//! A simulation draws from many sources (arrival times, message sizes, which server answers
//! 4xx...). Giving each source its own stream, named and numbered, means that adding a source
//! or drawing more from one never changes the numbers another sees: change the greylisting
//! model and the arrival process stays the same run to run.
//!
//! ```
//! use rand_core::RngCore;
//! use smtpsim_des::RandomStreams;
//!
//! let streams = RandomStreams::new(42);
//! let mut arrivals = streams.stream("arrivals", 0);
//! let mut sizes = streams.stream("sizes", 0);
//! let first = arrivals.next_u64();
//! sizes.next_u64(); // drawing from another stream...
//! assert_eq!(RandomStreams::new(42).stream("arrivals", 0).next_u64(), first); // ...changes nothing
//! ```
//!
//! # How a stream's seed is made
//!
//! The derivation is fixed and platform independent, so a seed means the same numbers on
//! every machine and every release (it deliberately avoids `std`'s `DefaultHasher`, whose
//! output may change between Rust releases):
//!
//! 1. `h = fnv1a64(name)`: 64-bit FNV-1a over the UTF-8 bytes of the name (offset basis
//!    `0xcbf29ce484222325`, prime `0x100000001b3`).
//! 2. `key = mix(mix(mix(master_seed) ^ h) ^ index)`, where `mix` is one SplitMix64 step
//!    (add `0x9e3779b97f4a7c15`, then the SplitMix64 finaliser); see [`stream_seed`].
//! 3. The stream is [`SimRng::seed_from_u64(key)`](SimRng::seed_from_u64): the four
//!    xoshiro256++ state words are the first four outputs of SplitMix64 started at `key`.
//!
//! # The generator
//!
//! [`SimRng`] is xoshiro256++ (Blackman and Vigna): 256 bits of state, period 2^256 − 1,
//! fast, and good enough for simulation (it is not for cryptography). It implements
//! [`rand_core::RngCore`] and [`rand_core::SeedableRng`], so `rand`'s `Rng` methods and
//! `rand_distr`'s distributions work with it.

use rand_core::{RngCore, SeedableRng};

const FNV_OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
const GOLDEN_GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// 64-bit FNV-1a hash of `bytes`.
///
/// Used to turn a stream name into a number; stable across platforms and releases.
pub const fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash = FNV_OFFSET_BASIS;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(FNV_PRIME);
        i += 1;
    }
    hash
}

/// One SplitMix64 step from state `x`: advance by the golden gamma, then finalise.
///
/// A bijection on `u64` that scrambles every input bit into every output bit.
pub const fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(GOLDEN_GAMMA);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The seed of stream (`name`, `index`) under `master_seed`, as described in the
/// [module documentation](self): `mix(mix(mix(master_seed) ^ fnv1a64(name)) ^ index)`.
///
/// [`RandomStreams::stream`] is `SimRng::seed_from_u64(stream_seed(master, name, index))`.
pub const fn stream_seed(master_seed: u64, name: &str, index: u64) -> u64 {
    splitmix64(splitmix64(splitmix64(master_seed) ^ fnv1a64(name.as_bytes())) ^ index)
}

/// A source of independent named random streams, all derived from one master seed.
///
/// Cheap to copy; it holds only the seed. See the [module documentation](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RandomStreams {
    master_seed: u64,
}

impl RandomStreams {
    /// Streams derived from `master_seed`.
    pub const fn new(master_seed: u64) -> RandomStreams {
        RandomStreams { master_seed }
    }

    /// The master seed these streams derive from.
    pub const fn master_seed(&self) -> u64 {
        self.master_seed
    }

    /// The stream called `name`, number `index` (for per-entity streams: one per server,
    /// per client...). The same master seed, name and index always give the same sequence.
    pub fn stream(&self, name: &str, index: u64) -> SimRng {
        SimRng::seed_from_u64(stream_seed(self.master_seed, name, index))
    }
}

/// The simulation's random number generator: xoshiro256++.
///
/// Make one with [`RandomStreams::stream`], or directly with
/// [`SeedableRng::seed_from_u64`] or [`SeedableRng::from_seed`]. Use it through
/// [`RngCore`] (and `rand::Rng`, which every `RngCore` gets), or pass it to `rand_distr`
/// distributions.
///
/// `next_u32` is the upper half of `next_u64`; `fill_bytes` writes successive `next_u64`
/// values in little-endian order, so bytes are the same on every platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimRng {
    s: [u64; 4],
}

impl SimRng {
    /// A generator with these four state words. An all-zero state (from which xoshiro never
    /// leaves) is replaced by the state of `seed_from_u64(0)`.
    pub fn from_state(state: [u64; 4]) -> SimRng {
        if state == [0; 4] {
            SimRng::seed_from_u64(0)
        } else {
            SimRng { s: state }
        }
    }

    /// The current state words; `SimRng::from_state(rng.state())` continues identically.
    pub fn state(&self) -> [u64; 4] {
        self.s
    }

    /// A uniform float in `[0, 1)` with 53 random bits.
    ///
    /// A convenience for hand-written samplers; `rand::Rng::random::<f64>()` gives the same
    /// kind of value.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

impl RngCore for SimRng {
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    #[inline]
    fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    fn fill_bytes(&mut self, dst: &mut [u8]) {
        let mut chunks = dst.chunks_exact_mut(8);
        for chunk in &mut chunks {
            chunk.copy_from_slice(&self.next_u64().to_le_bytes());
        }
        let rest = chunks.into_remainder();
        if !rest.is_empty() {
            let bytes = self.next_u64().to_le_bytes();
            rest.copy_from_slice(&bytes[..rest.len()]);
        }
    }
}

impl SeedableRng for SimRng {
    /// 32 bytes: the four state words, little-endian.
    type Seed = [u8; 32];

    /// The state words are read little-endian from the seed; an all-zero seed is replaced as
    /// in [`SimRng::from_state`].
    fn from_seed(seed: [u8; 32]) -> SimRng {
        let mut state = [0u64; 4];
        for (word, bytes) in state.iter_mut().zip(seed.chunks_exact(8)) {
            *word = u64::from_le_bytes(bytes.try_into().expect("8-byte chunk"));
        }
        SimRng::from_state(state)
    }

    /// The four state words are the first four outputs of SplitMix64 started at `state`, as
    /// the xoshiro authors recommend (so a `u64` seed never gives the all-zero state).
    fn seed_from_u64(state: u64) -> SimRng {
        let mut x = state;
        let mut s = [0u64; 4];
        for word in &mut s {
            *word = splitmix64(x);
            x = x.wrapping_add(GOLDEN_GAMMA);
        }
        SimRng { s }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_reference_xoshiro256plusplus() {
        // The reference implementation's outputs from the state words [1, 2, 3, 4].
        let mut rng = SimRng::from_state([1, 2, 3, 4]);
        let expected: [u64; 10] = [
            41943041,
            58720359,
            3588806011781223,
            3591011842654386,
            9228616714210784205,
            9973669472204895162,
            14011001112246962877,
            12406186145184390807,
            15849039046786891736,
            10450023813501588000,
        ];
        for value in expected {
            assert_eq!(rng.next_u64(), value);
        }
    }

    #[test]
    fn splitmix64_matches_the_reference() {
        // SplitMix64 started at 1234567: its first outputs.
        let mut x: u64 = 1234567;
        let mut out = Vec::new();
        for _ in 0..3 {
            out.push(splitmix64(x));
            x = x.wrapping_add(GOLDEN_GAMMA);
        }
        assert_eq!(
            out,
            [
                6457827717110365317,
                3203168211198807973,
                9817491932198370423
            ]
        );
    }

    #[test]
    fn fnv1a64_matches_the_reference() {
        assert_eq!(fnv1a64(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a64(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x85944171f73967e8);
    }

    #[test]
    fn zero_state_is_replaced() {
        let mut rng = SimRng::from_seed([0; 32]);
        assert_ne!(rng.state(), [0; 4]);
        assert_ne!(rng.next_u64(), 0);
        assert_eq!(SimRng::from_seed([0; 32]), SimRng::seed_from_u64(0));
    }

    #[test]
    fn from_seed_reads_little_endian_words() {
        let mut seed = [0u8; 32];
        seed[0] = 1;
        seed[8] = 2;
        seed[16] = 3;
        seed[24] = 4;
        assert_eq!(SimRng::from_seed(seed).state(), [1, 2, 3, 4]);
    }

    #[test]
    fn fill_bytes_is_little_endian_next_u64() {
        let mut a = SimRng::seed_from_u64(9);
        let mut b = a.clone();
        let mut bytes = [0u8; 13];
        a.fill_bytes(&mut bytes);
        let first = b.next_u64().to_le_bytes();
        let second = b.next_u64().to_le_bytes();
        assert_eq!(&bytes[..8], &first);
        assert_eq!(&bytes[8..], &second[..5]);
        assert_eq!(a, b);
    }

    #[test]
    fn next_u32_is_the_upper_half() {
        let mut a = SimRng::seed_from_u64(3);
        let mut b = a.clone();
        assert_eq!(u64::from(a.next_u32()), b.next_u64() >> 32);
    }

    #[test]
    fn next_f64_is_in_unit_interval() {
        let mut rng = SimRng::seed_from_u64(5);
        for _ in 0..10_000 {
            let x = rng.next_f64();
            assert!((0.0..1.0).contains(&x));
        }
    }
}
