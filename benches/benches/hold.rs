//! The hold model, the classic event-queue benchmark: with `n` events pending, pop the
//! earliest and schedule one new event an exponential increment later, over and over, so the
//! queue stays at `n` events.
//!
//! `EventQueue` (smtpsim-des) is measured beside a bare `std::collections::BinaryHeap` of
//! `Reverse<(time, sequence)>`, which orders events the same way (by time, then first in,
//! first out) but has no clock or cancellation. Each size is measured twice: with no payload
//! (`()` events; the heap holds just the two keys), and with a 32-byte event in both.
//!
//! Both queues use the same increments, generated once from a fixed seed (mean one second, in
//! microseconds), so the random numbers cost nothing in the measurement and both queues see
//! the same times.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use rand_distr::{Distribution, Exp};
use smtpsim_des::{EventQueue, RandomStreams, SimDuration, SimTime};

/// Hold operations per measured iteration.
const BATCH: usize = 1_000;
/// Pre-generated increments, cycled through (a power of two for the index mask).
const INCREMENTS: usize = 1 << 16;

/// Exponential increments with a mean of one second, in whole microseconds.
fn increments() -> Vec<u64> {
    let mut rng = RandomStreams::new(1).stream("hold-increments", 0);
    let exp = Exp::new(1.0).expect("rate is positive");
    (0..INCREMENTS)
        .map(|_| SimDuration::from_secs_f64(exp.sample(&mut rng)).as_micros())
        .collect()
}

struct Increments {
    values: Vec<u64>,
    next: usize,
}

impl Increments {
    #[inline]
    fn next(&mut self) -> u64 {
        let value = self.values[self.next & (INCREMENTS - 1)];
        self.next = self.next.wrapping_add(1);
        value
    }
}

/// A payload the size of a typical model event (an enum with a few ids and a time).
type Event32 = [u64; 4];

fn hold_event_queue<E: Copy>(queue: &mut EventQueue<E>, increments: &mut Increments) {
    for _ in 0..BATCH {
        let (now, event) = queue.pop().expect("the queue never runs dry");
        let at = now + SimDuration::from_micros(increments.next());
        queue.schedule(at, black_box(event));
    }
}

fn hold_binary_heap<E: Copy + Ord>(
    heap: &mut BinaryHeap<Reverse<(u64, u64, E)>>,
    seq: &mut u64,
    increments: &mut Increments,
) {
    for _ in 0..BATCH {
        let Reverse((now, _, event)) = heap.pop().expect("the heap never runs dry");
        *seq += 1;
        heap.push(Reverse((now + increments.next(), *seq, black_box(event))));
    }
}

/// Measures both queues at one size and payload, in `group` under `suffix`.
fn bench_pair<E: Copy + Ord>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    suffix: &str,
    pending: usize,
    values: &[u64],
    event: E,
) {
    let mut increments = Increments {
        values: values.to_vec(),
        next: 0,
    };
    let mut queue = EventQueue::with_capacity(pending);
    for _ in 0..pending {
        queue.schedule(SimTime::from_micros(increments.next()), event);
    }
    group.bench_function(format!("EventQueue{suffix}"), |b| {
        b.iter(|| hold_event_queue(black_box(&mut queue), &mut increments))
    });
    assert_eq!(queue.len(), pending);
    drop(queue);

    let mut increments = Increments {
        values: values.to_vec(),
        next: 0,
    };
    let mut heap = BinaryHeap::with_capacity(pending);
    let mut seq = 0u64;
    for _ in 0..pending {
        seq += 1;
        heap.push(Reverse((increments.next(), seq, event)));
    }
    group.bench_function(format!("BinaryHeap{suffix}"), |b| {
        b.iter(|| hold_binary_heap(black_box(&mut heap), &mut seq, &mut increments))
    });
    assert_eq!(heap.len(), pending);
}

fn bench_hold(c: &mut Criterion) {
    let values = increments();
    for (label, pending) in [("1k", 1_000), ("100k", 100_000), ("1M", 1_000_000)] {
        let mut group = c.benchmark_group(format!("hold {label} pending"));
        group.throughput(Throughput::Elements(BATCH as u64));
        // The bare comparison: no payload (the heap holds `(time, sequence)` only).
        bench_pair(&mut group, "", pending, &values, ());
        // With a 32-byte event in both.
        bench_pair(
            &mut group,
            " 32B event",
            pending,
            &values,
            Event32::default(),
        );
        group.finish();
    }
}

criterion_group!(benches, bench_hold);
criterion_main!(benches);
