//! The event queue against a reference model: a `BTreeMap` keyed by (time, scheduling
//! sequence), which pops in exactly the order the queue promises. Every operation's result,
//! the length and the clock must agree after every step.

use std::collections::{BTreeMap, HashMap};

use proptest::prelude::*;
use rand_core::RngCore;
use smtpsim_des::{EventId, EventQueue, RandomStreams, SimTime};

/// The reference: pending events by (time, sequence).
#[derive(Default)]
struct Model {
    now: u64,
    next_seq: u64,
    pending: BTreeMap<(u64, u64), u32>,
    keys: HashMap<EventId, (u64, u64)>,
}

impl Model {
    fn schedule(&mut self, id: EventId, at: u64, payload: u32) {
        let key = (at, self.next_seq);
        self.next_seq += 1;
        self.pending.insert(key, payload);
        self.keys.insert(id, key);
    }

    fn cancel(&mut self, id: EventId) -> Option<u32> {
        let key = self.keys.get(&id)?;
        self.pending.remove(key)
    }

    fn peek(&self) -> Option<(u64, u32)> {
        self.pending.first_key_value().map(|(&(t, _), &p)| (t, p))
    }

    fn pop_until(&mut self, limit: u64) -> Option<(u64, u32)> {
        let (&(time, seq), _) = self.pending.first_key_value()?;
        if time > limit {
            return None;
        }
        let payload = self.pending.remove(&(time, seq)).unwrap();
        self.now = time;
        Some((time, payload))
    }
}

/// Both sides, stepped together.
#[derive(Default)]
struct Harness {
    queue: EventQueue<u32>,
    model: Model,
    ids: Vec<EventId>,
    next_payload: u32,
}

#[derive(Debug, Clone)]
enum Op {
    /// Schedule `delay` after now.
    Schedule(u64),
    /// Schedule `count` events spread over `spread` after now, in a scrambled order.
    Burst {
        count: u64,
        spread: u64,
    },
    /// Cancel the id issued `n`-th (modulo how many were issued), pending or not.
    Cancel(usize),
    /// Remove (cancel and take back) the id issued `n`-th.
    Remove(usize),
    Pop,
    /// Pop if the next event is within this delay of now.
    PopUntil(u64),
    Peek,
    /// Run for this long, handlers scheduling follow-ups.
    RunUntil(u64),
    /// Run at most this many events, handlers scheduling follow-ups.
    RunFor(u64),
}

impl Harness {
    fn check(&mut self) {
        assert_eq!(self.queue.len(), self.model.pending.len(), "len");
        assert_eq!(self.queue.is_empty(), self.model.pending.is_empty());
        assert_eq!(self.queue.now().as_micros(), self.model.now, "now");
    }

    fn schedule(&mut self, at: u64) {
        let payload = self.next_payload;
        self.next_payload += 1;
        let id = self.queue.schedule(SimTime::from_micros(at), payload);
        self.model.schedule(id, at, payload);
        self.ids.push(id);
    }

    /// A follow-up scheduled from inside a handler: a delay derived from the payload, so
    /// both sides agree without sharing state.
    fn follow_up_delay(payload: u32) -> Option<u64> {
        match payload % 4 {
            0 => Some(0),
            1 => Some(u64::from(payload % 7)),
            2 => Some(u64::from(payload % 1000) * 37),
            _ => None,
        }
    }

    fn run(&mut self, op: &Op) {
        match *op {
            Op::Schedule(delay) => {
                let at = self.model.now.saturating_add(delay);
                self.schedule(at);
            }
            Op::Burst { count, spread } => {
                for i in 0..count {
                    let offset = (i * 7919 % count) * (spread / count.max(1));
                    let at = self.model.now.saturating_add(offset);
                    self.schedule(at);
                }
            }
            Op::Cancel(n) | Op::Remove(n) => {
                if self.ids.is_empty() {
                    return;
                }
                let id = self.ids[n % self.ids.len()];
                let expected = self.model.cancel(id);
                assert_eq!(self.queue.is_pending(id), expected.is_some());
                if matches!(op, Op::Cancel(_)) {
                    assert_eq!(self.queue.cancel(id), expected.is_some());
                } else {
                    assert_eq!(self.queue.remove(id), expected);
                }
                assert!(!self.queue.is_pending(id));
            }
            Op::Pop => {
                let got = self.queue.pop().map(|(t, p)| (t.as_micros(), p));
                assert_eq!(got, self.model.pop_until(u64::MAX), "pop");
            }
            Op::PopUntil(delta) => {
                let limit = self.model.now.saturating_add(delta);
                let got = self
                    .queue
                    .pop_until(SimTime::from_micros(limit))
                    .map(|(t, p)| (t.as_micros(), p));
                assert_eq!(got, self.model.pop_until(limit), "pop_until");
            }
            Op::Peek => {
                let got = self.queue.peek().map(|(t, &p)| (t.as_micros(), p));
                assert_eq!(got, self.model.peek(), "peek");
                assert_eq!(
                    self.queue.peek_time().map(SimTime::as_micros),
                    self.model.peek().map(|(t, _)| t)
                );
            }
            Op::RunUntil(delta) => {
                let limit = self.model.now.saturating_add(delta);
                let mut seen = Vec::new();
                let mut next_payload = self.next_payload;
                let mut new = Vec::new();
                let handled =
                    self.queue
                        .run_until(SimTime::from_micros(limit), |queue, now, payload| {
                            seen.push((now.as_micros(), payload));
                            if let Some(delay) = Self::follow_up_delay(payload) {
                                let at = now.as_micros().saturating_add(delay);
                                let id = queue.schedule(SimTime::from_micros(at), next_payload);
                                new.push((now.as_micros(), id, at, next_payload));
                                next_payload += 1;
                            }
                        });
                self.next_payload = next_payload;
                // Replay on the model: the same pops, the same follow-ups in the same order.
                let mut new = new.into_iter().peekable();
                let mut expected = Vec::new();
                while let Some((time, payload)) = self.model.pop_until(limit) {
                    expected.push((time, payload));
                    if Self::follow_up_delay(payload).is_some() {
                        let (when, id, at, p) = new.next().expect("a follow-up was scheduled");
                        assert_eq!(when, time);
                        self.model.schedule(id, at, p);
                        self.ids.push(id);
                    }
                }
                assert!(new.peek().is_none());
                assert_eq!(seen, expected, "run_until");
                assert_eq!(handled, expected.len() as u64);
                self.model.now = self.model.now.max(limit);
            }
            Op::RunFor(max) => {
                let mut seen = Vec::new();
                let handled = self.queue.run_for_events(max, |queue, now, payload| {
                    seen.push((now.as_micros(), payload));
                    if payload % 2 == 0 {
                        queue.schedule(now, payload + 1_000_000);
                    }
                });
                let mut expected = Vec::new();
                for _ in 0..max {
                    let Some((time, payload)) = self.model.pop_until(u64::MAX) else {
                        break;
                    };
                    expected.push((time, payload));
                    if payload % 2 == 0 {
                        // The id is not observable from here; a placeholder key keeps the
                        // model's order (ids of these are never cancelled).
                        let key = (time, self.model.next_seq);
                        self.model.next_seq += 1;
                        self.model.pending.insert(key, payload + 1_000_000);
                    }
                }
                assert_eq!(seen, expected, "run_for_events");
                assert_eq!(handled, expected.len() as u64);
            }
        }
        self.check();
    }
}

fn delay() -> impl Strategy<Value = u64> {
    prop_oneof![
        3 => Just(0u64),
        4 => 0u64..4,
        4 => 0u64..2_000,
        2 => 0u64..(1 << 24),
        1 => 0u64..(1 << 62),
        1 => Just(u64::MAX),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        10 => delay().prop_map(Op::Schedule),
        1 => (1u64..150, delay()).prop_map(|(count, spread)| Op::Burst { count, spread }),
        3 => any::<usize>().prop_map(Op::Cancel),
        1 => any::<usize>().prop_map(Op::Remove),
        6 => Just(Op::Pop),
        2 => delay().prop_map(Op::PopUntil),
        2 => Just(Op::Peek),
        1 => delay().prop_map(Op::RunUntil),
        1 => (0u64..8).prop_map(Op::RunFor),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Arbitrary schedule, cancel, peek and pop sequences pop in (time, insertion) order.
    #[test]
    fn queue_matches_the_reference_model(ops in prop::collection::vec(op(), 1..300)) {
        let mut harness = Harness::default();
        for op in &ops {
            harness.run(op);
        }
        // Drain: everything left comes out in order.
        while !harness.model.pending.is_empty() {
            harness.run(&Op::Pop);
        }
        harness.run(&Op::Pop);
    }

    /// Many events at a handful of instants: the order within each instant is the
    /// scheduling order, whatever the interleaving of instants.
    #[test]
    fn equal_times_pop_first_in_first_out(times in prop::collection::vec(0u64..5, 1..400)) {
        let mut queue = EventQueue::new();
        for (i, &t) in times.iter().enumerate() {
            queue.schedule(SimTime::from_micros(t * 1_000), i);
        }
        let mut expected: Vec<(u64, usize)> =
            times.iter().enumerate().map(|(i, &t)| (t * 1_000, i)).collect();
        expected.sort();
        let popped: Vec<(u64, usize)> =
            std::iter::from_fn(|| queue.pop()).map(|(t, i)| (t.as_micros(), i)).collect();
        prop_assert_eq!(popped, expected);
    }

    /// Events filed into a sorted front run at every place (before its head, at its back, in
    /// between; in short runs, where later entries are moved up one by one, and in longer
    /// ones, searched by bisection), on instants already taken or between them, interleaved
    /// with pops: they come out in (time, scheduling) order.
    #[test]
    fn events_filed_into_the_front_run_keep_their_order(
        run in prop::collection::vec(0u64..64, 1..32),
        steps in prop::collection::vec((0u64..70, any::<bool>()), 1..200),
    ) {
        let mut harness = Harness::default();
        for &at in &run {
            harness.schedule(1_000 + at * 10);
        }
        // The first pop sorts the small batch into the front run.
        harness.run(&Op::Peek);
        for &(slot, pop) in &steps {
            // Multiples of 10 land on the run's instants, the odd ones between them.
            let at = 1_000 + slot * 5;
            harness.schedule(at.max(harness.model.now));
            if pop {
                harness.run(&Op::Pop);
            }
        }
        while !harness.model.pending.is_empty() {
            harness.run(&Op::Pop);
        }
    }
}

/// A long randomized run, long enough to exercise the sweep of cancelled entries, large
/// bucket splits and spills from the front run, against the model.
#[test]
fn long_random_run_matches_the_reference_model() {
    let mut rng = RandomStreams::new(7).stream("queue-soak", 0);
    let mut harness = Harness::default();
    for step in 0..200_000u32 {
        let roll = rng.next_u32() % 100;
        let op = match roll {
            0..=39 => {
                let delay = match rng.next_u32() % 8 {
                    0 => 0,
                    1 => rng.next_u64() % 8,
                    2..=5 => rng.next_u64() % 2_000_000,
                    6 => rng.next_u64() % (1 << 30),
                    _ => rng.next_u64() % 200,
                };
                Op::Schedule(delay)
            }
            // Cancel recent ids mostly (timeouts), sometimes old ones.
            40..=64 => {
                let back = (rng.next_u64() % 64) as usize;
                Op::Cancel(harness.ids.len().saturating_sub(1 + back))
            }
            65..=94 => Op::Pop,
            95..=96 => Op::Peek,
            97 => Op::PopUntil(rng.next_u64() % 1_000_000),
            98 => Op::RunUntil(rng.next_u64() % 100_000),
            _ => Op::RunFor(rng.next_u64() % 16),
        };
        harness.run(&op);
        // Timeout storms: many events scheduled and almost all cancelled again.
        if step % 40_000 == 10_000 {
            let first = harness.ids.len();
            harness.run(&Op::Burst {
                count: 5_000,
                spread: 1 << 26,
            });
            for n in first..harness.ids.len() {
                if n % 10 != 0 {
                    harness.run(&Op::Cancel(n));
                }
            }
        }
        // Phases with few pops build up a large queue, then drain it.
        if step % 50_000 == 25_000 {
            while harness.model.pending.len() > 10 {
                harness.run(&Op::Pop);
            }
        }
    }
    while !harness.model.pending.is_empty() {
        harness.run(&Op::Pop);
    }
}

/// Peeking and then scheduling before the peeked event, over and over, around a large batch
/// of events at one instant (the pattern that moves the queue's reference time back and
/// inserts into the middle of the front run).
#[test]
fn schedules_before_a_peeked_batch() {
    let mut harness = Harness::default();
    for _ in 0..5_000 {
        harness.schedule(10_000_000);
    }
    harness.check();
    for _ in 0..5_000 {
        for op in [
            Op::Peek,
            Op::Schedule(1),
            Op::Schedule(500),
            Op::Peek,
            Op::Schedule(200),
            Op::Schedule(200),
            Op::Pop,
            Op::Pop,
        ] {
            harness.run(&op);
        }
    }
    while !harness.model.pending.is_empty() {
        harness.run(&Op::Pop);
    }
}
