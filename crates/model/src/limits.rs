//! The bounds of the simulator: values beyond them would make a run spin without end, fill
//! the disk or exhaust memory, so a scenario that passes one is refused before anything runs.
//! `README.md` (section Limits) lists them with the reason for each.

/// The most messages one run generates (`simulation.messages`, `--messages`, the sum of the
/// burst counts, or the arrival rates times the arrival window when no count is given).
pub const MAX_MESSAGES: u64 = 1_000_000_000;

/// The most rows of `timeseries.csv` one run writes: the arrival window plus the queue
/// lifetime, divided by `simulation.timeseries_interval`.
pub const MAX_SAMPLES: u64 = 10_000_000;

/// The highest rate, per second (arrivals, rate limits, shaping): one event per microsecond,
/// the resolution of simulated time.
pub const MAX_RATE: f64 = 1e6;

/// The lowest rate, per second (about one event in 32 years): a token bucket's period in
/// microseconds must stay far inside 64 bits.
pub const MIN_RATE: f64 = 1e-9;

/// The most recipients one message has (Postfix's default `smtpd_recipient_limit`); draws of
/// `senders.recipients` above it are cut to it.
pub const MAX_RECIPIENTS: u64 = 1000;

/// The largest message, in bytes (1 GiB); draws of `senders.size` above it are cut to it.
pub const MAX_MESSAGE_SIZE: u64 = 1 << 30;

/// The lowest non-zero `relay.bandwidth`, in bytes per second: the largest message then
/// takes about 34 years to transfer, which still fits simulated time.
pub const MIN_BANDWIDTH: f64 = 1.0;

/// The highest `relay.bandwidth`, in bytes per second (1 TB/s).
pub const MAX_BANDWIDTH: f64 = 1e12;

/// The most delivery attempts of one message to one domain: `relay.max_attempts`, or the
/// attempts the retry policy makes within `relay.queue_lifetime` when attempts take no time.
pub const MAX_ATTEMPTS: u32 = 1_000_000;
/// The largest `relay.failed_cohort_limit` and `relay.initial_destination_concurrency`.
pub const MAX_COHORTS: u32 = 1000;

/// Events the engine handles without simulated time advancing before it stops the run
/// (besides [`STALL_EVENTS_PER_JOB`] for each delivery alive at that time).
pub const STALL_EVENTS: u64 = 10_000_000;

/// Events allowed at one instant for each delivery alive then: arrival, DNS, attempt and
/// shaping events of deliveries that do not retry stay well below it.
pub const STALL_EVENTS_PER_JOB: u64 = 64;

/// The most source addresses in `relay.pool`.
pub const MAX_POOL_ADDRESSES: usize = 4096;

/// The largest `weight` of a pool address.
pub const MAX_POOL_WEIGHT: u32 = 1_000_000;

/// The largest daily limit of a `behaviour.reputation`.
pub const MAX_DAILY_LIMIT: u64 = 1_000_000_000;

/// The largest `growth` of a `behaviour.reputation`.
pub const MAX_GROWTH: f64 = 1000.0;

/// The most files one scenario is built from with `include`.
pub const MAX_INCLUDED_FILES: usize = 64;
