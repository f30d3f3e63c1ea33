//! Named random streams: reproducible, independent, pinned.

use rand::Rng;
use rand_core::{RngCore, SeedableRng};
use rand_distr::{Distribution, Exp, LogNormal};
use smtpsim_des::rng::{fnv1a64, splitmix64, stream_seed};
use smtpsim_des::{RandomStreams, SimRng};

fn draws(rng: &mut SimRng, n: usize) -> Vec<u64> {
    (0..n).map(|_| rng.next_u64()).collect()
}

/// Known answers, computed independently of this crate from the documented derivation. If
/// this fails, every simulation result with a given seed has changed.
#[test]
fn known_answers_are_pinned() {
    assert_eq!(stream_seed(42, "arrivals", 0), 0x7f6a_991d_9367_d2e1);
    assert_eq!(stream_seed(42, "arrivals", 1), 0x6d15_50cf_1e7a_0fdd);
    assert_eq!(stream_seed(0, "", 0), 0xa6bb_c8dc_be30_928c);
    let streams = RandomStreams::new(42);
    assert_eq!(
        draws(&mut streams.stream("arrivals", 0), 4),
        [
            10313492597607111221,
            9691921636560358678,
            6273865336350736159,
            1967316045079559429
        ]
    );
    assert_eq!(
        draws(&mut streams.stream("arrivals", 1), 4),
        [
            10269309137068118198,
            2990595301796472084,
            9292732352755411234,
            13334973510122373352
        ]
    );
    assert_eq!(
        draws(&mut RandomStreams::new(0).stream("", 0), 4),
        [
            9954487371912602348,
            6298483855816651271,
            61699912254898188,
            6830771483842794938
        ]
    );
}

#[test]
fn derivation_is_as_documented() {
    let key = splitmix64(splitmix64(splitmix64(9) ^ fnv1a64(b"sizes")) ^ 3);
    assert_eq!(stream_seed(9, "sizes", 3), key);
    assert_eq!(
        RandomStreams::new(9).stream("sizes", 3),
        SimRng::seed_from_u64(key)
    );
}

#[test]
fn same_seed_name_and_index_give_the_same_sequence() {
    let a = RandomStreams::new(123);
    let b = RandomStreams::new(123);
    assert_eq!(
        draws(&mut a.stream("greylist", 7), 1000),
        draws(&mut b.stream("greylist", 7), 1000)
    );
    assert_eq!(a.master_seed(), 123);
}

#[test]
fn different_names_indices_and_seeds_give_different_sequences() {
    let streams = RandomStreams::new(123);
    let base = draws(&mut streams.stream("arrivals", 0), 16);
    for other in [
        streams.stream("arrival", 0),
        streams.stream("arrivals ", 0),
        streams.stream("Arrivals", 0),
        streams.stream("arrivals", 1),
        streams.stream("sizes", 0),
        RandomStreams::new(124).stream("arrivals", 0),
    ] {
        let mut other = other;
        let other = draws(&mut other, 16);
        assert_ne!(other, base);
        // Not shifted copies either.
        assert!(other.iter().all(|x| !base.contains(x)));
    }
}

#[test]
fn drawing_from_one_stream_never_shifts_another() {
    let streams = RandomStreams::new(5);
    let alone = draws(&mut streams.stream("arrivals", 0), 100);

    let mut arrivals = streams.stream("arrivals", 0);
    let mut sizes = streams.stream("sizes", 0);
    let mut interleaved = Vec::new();
    for i in 0..100 {
        interleaved.push(arrivals.next_u64());
        for _ in 0..i % 3 {
            sizes.next_u64();
        }
        // A stream created midway changes nothing either.
        let mut late = streams.stream("late", i);
        late.next_u64();
    }
    assert_eq!(interleaved, alone);
}

#[test]
fn works_with_rand_and_rand_distr() {
    let mut rng = RandomStreams::new(2024).stream("service", 0);
    let exp = Exp::new(2.0).unwrap();
    let n = 200_000;
    let mean: f64 = (0..n).map(|_| exp.sample(&mut rng)).sum::<f64>() / n as f64;
    assert!((mean - 0.5).abs() < 0.01, "mean {mean}");

    let sizes = LogNormal::new(10.0, 1.0).unwrap();
    assert!(sizes.sample(&mut rng) > 0.0);

    let die: u32 = rng.random_range(1..=6);
    assert!((1..=6).contains(&die));
    let p: f64 = rng.random();
    assert!((0.0..1.0).contains(&p));

    // Reproducible through the distribution too.
    let mut a = RandomStreams::new(2024).stream("service", 1);
    let mut b = RandomStreams::new(2024).stream("service", 1);
    let xs: Vec<f64> = (0..100).map(|_| exp.sample(&mut a)).collect();
    let ys: Vec<f64> = (0..100).map(|_| exp.sample(&mut b)).collect();
    assert_eq!(xs, ys);
}

#[test]
fn output_looks_uniform() {
    // A coarse sanity check: bit balance and bucket counts of the top byte.
    let mut rng = RandomStreams::new(77).stream("uniformity", 0);
    let n = 100_000;
    let mut ones = 0u64;
    let mut buckets = [0u32; 16];
    for _ in 0..n {
        let x = rng.next_u64();
        ones += u64::from(x.count_ones());
        buckets[(x >> 60) as usize] += 1;
    }
    let bits = (n * 64) as f64;
    assert!((ones as f64 / bits - 0.5).abs() < 0.002);
    for count in buckets {
        let expected = n as f64 / 16.0;
        assert!((f64::from(count) - expected).abs() < expected * 0.05);
    }
}

#[test]
fn state_round_trips() {
    let mut rng = RandomStreams::new(1).stream("state", 0);
    rng.next_u64();
    let mut copy = SimRng::from_state(rng.state());
    assert_eq!(draws(&mut rng, 10), draws(&mut copy, 10));
}
