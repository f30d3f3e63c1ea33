//! A small model on the kernel, end to end: a single server with a queue, exponential
//! arrivals and service, and a patience timeout that is cancelled when service starts. The
//! same seed must give the same trace, event for event.

use std::collections::{HashMap, VecDeque};

use rand_distr::{Distribution, Exp};
use smtpsim_des::{EventId, EventQueue, RandomStreams, SimDuration, SimRng, SimTime};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Event {
    Arrival(u32),
    ServiceDone(u32),
    GiveUp(u32),
}

#[derive(Debug, Default, PartialEq)]
struct Outcome {
    served: u32,
    gave_up: u32,
    trace: Vec<(SimTime, Event)>,
}

fn draw(rng: &mut SimRng, exp: &Exp<f64>) -> SimDuration {
    SimDuration::from_secs_f64(exp.sample(rng))
}

fn simulate(seed: u64, horizon: SimTime) -> Outcome {
    let streams = RandomStreams::new(seed);
    let mut arrivals = streams.stream("arrivals", 0);
    let mut service = streams.stream("service", 0);
    let interarrival = Exp::new(1.0).unwrap(); // one a second
    let service_time = Exp::new(1.0 / 0.9).unwrap(); // 0.9 s on average
    let patience = SimDuration::from_secs(3);

    let mut queue = EventQueue::new();
    let mut waiting: VecDeque<u32> = VecDeque::new();
    let mut timeouts: HashMap<u32, EventId> = HashMap::new();
    let mut busy = false;
    let mut outcome = Outcome::default();

    queue.schedule(SimTime::ZERO, Event::Arrival(0));
    queue.run_until(horizon, |queue, now, event| {
        outcome.trace.push((now, event));
        match event {
            Event::Arrival(n) => {
                queue.schedule_in(draw(&mut arrivals, &interarrival), Event::Arrival(n + 1));
                if busy {
                    waiting.push_back(n);
                    timeouts.insert(n, queue.schedule_in(patience, Event::GiveUp(n)));
                } else {
                    busy = true;
                    queue.schedule_in(draw(&mut service, &service_time), Event::ServiceDone(n));
                }
            }
            Event::ServiceDone(_) => {
                outcome.served += 1;
                if let Some(next) = waiting.pop_front() {
                    let timeout = timeouts
                        .remove(&next)
                        .expect("a waiting customer has a timeout");
                    assert!(queue.cancel(timeout));
                    queue.schedule_in(draw(&mut service, &service_time), Event::ServiceDone(next));
                } else {
                    busy = false;
                }
            }
            Event::GiveUp(n) => {
                outcome.gave_up += 1;
                waiting.retain(|&m| m != n);
                timeouts.remove(&n);
            }
        }
    });
    assert_eq!(queue.now(), horizon);
    outcome
}

#[test]
fn same_seed_same_trace() {
    let horizon = SimTime::from_secs(2 * 3600);
    let a = simulate(11, horizon);
    let b = simulate(11, horizon);
    assert_eq!(a, b);
    assert!(a.served > 5_000, "served {}", a.served);
    assert!(a.gave_up > 0);
    assert!(a.trace.windows(2).all(|w| w[0].0 <= w[1].0));
}

#[test]
fn different_seed_different_trace() {
    let horizon = SimTime::from_secs(600);
    assert_ne!(simulate(11, horizon).trace, simulate(12, horizon).trace);
}

#[test]
fn running_in_slices_equals_one_run() {
    // run_until in steps gives the same events as one call: the clock stops at each limit,
    // nothing is skipped or repeated.
    let mut whole = EventQueue::new();
    let mut sliced = EventQueue::new();
    for (i, t) in [5u64, 10, 10, 15, 40, 41, 99].into_iter().enumerate() {
        whole.schedule(SimTime::from_secs(t), i);
        sliced.schedule(SimTime::from_secs(t), i);
    }
    let chain = |queue: &mut EventQueue<usize>, now: SimTime, e: usize| {
        if e < 100 {
            queue.schedule(now + SimDuration::from_secs(7), e + 100);
        }
    };
    let mut a = Vec::new();
    whole.run_until(SimTime::from_secs(100), |q, now, e| {
        a.push((now, e));
        chain(q, now, e);
    });
    let mut b = Vec::new();
    for limit in (0..=100).step_by(10) {
        sliced.run_until(SimTime::from_secs(limit), |q, now, e| {
            b.push((now, e));
            chain(q, now, e);
        });
        assert_eq!(sliced.now(), SimTime::from_secs(limit));
    }
    assert_eq!(a, b);
    assert_eq!(whole.len(), sliced.len());
}
