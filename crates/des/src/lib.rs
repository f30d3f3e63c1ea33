//! # smtpsim-des: the discrete-event kernel
//!
//! Simulated time, an event queue and reproducible randomness, with nothing about email in
//! it: the models built on top decide what an event means.
//!
//! - [`time`]: [`SimTime`] and [`SimDuration`], whole microseconds in a `u64`, with saturating
//!   arithmetic and a compact text form (`"250ms"`, `"1.5s"`, `"5m"`, `"2h"`, `"5d"`).
//! - [`queue`]: [`EventQueue`], pending events by time and, for equal times, in scheduling
//!   order; cancellation by [`EventId`]; a clock that popping advances; run loops.
//! - [`rng`]: [`RandomStreams`], independent named streams of [`SimRng`] (xoshiro256++) from
//!   one master seed, usable with `rand` and `rand_distr`.
//!
//! Runs are deterministic: the same seed and the same inputs give the same events in the same
//! order at the same times, on every platform.
//!
//! # Example
//!
//! A single server with exponential service times and a customer every second:
//!
//! ```
//! use rand_core::RngCore;
//! use smtpsim_des::{EventQueue, RandomStreams, SimDuration, SimTime};
//!
//! enum Event {
//!     Arrival,
//!     Departure,
//! }
//!
//! let streams = RandomStreams::new(2024);
//! let mut service = streams.stream("service", 0);
//! let mut queue = EventQueue::new();
//! let (mut waiting, mut busy, mut served) = (0u32, false, 0u32);
//!
//! queue.schedule(SimTime::ZERO, Event::Arrival);
//! queue.run_until(SimTime::from_secs(3600), |queue, _now, event| match event {
//!     Event::Arrival => {
//!         queue.schedule_in(SimDuration::from_secs(1), Event::Arrival);
//!         if busy {
//!             waiting += 1;
//!         } else {
//!             busy = true;
//!             // Mean service time 0.8 s, drawn by inversion.
//!             let u = service.next_f64();
//!             queue.schedule_in(SimDuration::from_secs_f64(-0.8 * (1.0 - u).ln()), Event::Departure);
//!         }
//!     }
//!     Event::Departure => {
//!         served += 1;
//!         if waiting > 0 {
//!             waiting -= 1;
//!             let u = service.next_f64();
//!             queue.schedule_in(SimDuration::from_secs_f64(-0.8 * (1.0 - u).ln()), Event::Departure);
//!         } else {
//!             busy = false;
//!         }
//!     }
//! });
//!
//! assert_eq!(queue.now(), SimTime::from_secs(3600));
//! assert!(served > 3000);
//! ```
//!
//! With `rand_distr`, draw from its distributions directly, as `SimRng` implements
//! `rand_core::RngCore`: `Exp::new(1.25)?.sample(&mut service)`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod queue;
pub mod rng;
pub mod time;

pub use queue::{EventId, EventQueue, ScheduleError};
pub use rng::{RandomStreams, SimRng};
pub use time::{ParseDurationError, Secs, SimDuration, SimTime, round_to_u64};
