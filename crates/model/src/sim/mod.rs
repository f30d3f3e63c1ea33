//! The simulation: messages arrive, are submitted to the relay, queued, resolved, delivered
//! to MX hosts over genuine SMTP exchanges, deferred, retried, expired or bounced, in virtual
//! time on the discrete-event kernel.
//!
//! [`run`] drives a [`Scenario`] to the end and streams what happens to a [`Recorder`]: a row
//! per recipient when its fate is settled, trace lines for traced messages, and samples at a
//! fixed interval. Nothing is kept for finished messages, so memory does not grow with the
//! length of the run.

mod arrivals;
mod bounce;
mod cancel;
pub mod content;
mod engine;
mod exchange;
mod health;
mod placement;
mod records;
mod shaping;
mod sources;
mod trace;
mod world;

pub use cancel::Cancel;
pub use engine::run;
pub use placement::{AuthCheck, zone, zone_with_keys};
pub use records::{
    AutomationEvent, AutomationRecord, DeliveryStatus, Fate, Hop, RecipientRecord, Recorder,
    RunStats, Sample, SourceRecord, StatusRecord, SubmissionRecord, TraceKind, TraceRecord,
};
pub use trace::{ConnectFailure, Expiry, HostAddr, MxAnswer, Note, RecipientResult, TraceLine};

use crate::scenario::Scenario;

/// Which messages keep a trace of every SMTP line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TraceMode {
    /// None.
    #[default]
    None,
    /// Every `n`th message (message ids divisible by `n`).
    Sample(u64),
    /// All.
    All,
    /// The one message with this id.
    Message(u64),
}

impl std::str::FromStr for TraceMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "none" => Ok(TraceMode::None),
            "all" => Ok(TraceMode::All),
            _ => {
                if let Some(id) = s.strip_prefix("message:") {
                    return id.parse().map(TraceMode::Message).map_err(|_| {
                        format!("invalid trace mode {s:?}: message:N takes a message id")
                    });
                }
                match s.strip_prefix("sample:").map(str::parse::<u64>) {
                    Some(Ok(n)) if n > 0 => Ok(TraceMode::Sample(n)),
                    _ => Err(format!(
                        "invalid trace mode {s:?}: use none, all, sample:N (N above 0) or \
                         message:N"
                    )),
                }
            }
        }
    }
}

impl TraceMode {
    /// Whether message `id` is traced.
    pub fn traces(self, id: u64) -> bool {
        match self {
            TraceMode::None => false,
            TraceMode::All => true,
            TraceMode::Sample(n) => id.is_multiple_of(n),
            TraceMode::Message(m) => id == m,
        }
    }
}

/// How a delivery attempt's SMTP exchange is carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExchangeMode {
    /// Traced messages go through the client and server sessions (every line formatted and
    /// parsed); the others ask the same policy the same questions in the same order without
    /// the text. Both give the same results.
    #[default]
    Auto,
    /// Every attempt goes through the client and server sessions.
    Sessions,
    /// Every attempt goes both ways, the fast path on a copy of the MX behaviour, and the two
    /// are compared: the verdict per recipient, the commands and replies in order, the round
    /// trips, the connection's state, the end-of-data verdict. The sessions' results stand;
    /// the run fails on the first difference. For tests.
    Compare,
}

/// How to run a scenario.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Replaces the scenario's seed.
    pub seed: Option<u64>,
    /// Replaces the scenario's message count.
    pub messages: Option<u64>,
    /// Replaces the scenario's arrival window (`simulation.duration`).
    pub duration: Option<smtpsim_des::SimDuration>,
    /// Which messages are traced.
    pub trace: TraceMode,
    /// How exchanges are carried out.
    pub exchange: ExchangeMode,
    /// Stops the run early when set (never, by default).
    pub cancel: Cancel,
    /// Events handled without simulated time advancing before the run stops with an error;
    /// [`crate::limits::STALL_EVENTS`] if `None` (plus an allowance per live delivery).
    pub stall_limit: Option<u64>,
    /// Samples taken before a run that is not over stops with an error;
    /// [`crate::limits::MAX_SAMPLES`] if `None`.
    pub sample_limit: Option<u64>,
}

/// A scenario that loaded but cannot run (an arrival file that cannot be read, say).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SimError(pub String);

/// Checks that a scenario can be built into a world, without running it.
pub fn check(scenario: &Scenario) -> Result<(), SimError> {
    check_with(scenario, &Options::default())
}

/// Checks that a scenario can be built into a world with `options` (whose message count and
/// arrival window must stay within the limits too), without running it.
pub fn check_with(scenario: &Scenario, options: &Options) -> Result<(), SimError> {
    world::World::build(scenario, options).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::TraceMode;

    #[test]
    fn trace_modes_parse_and_select() {
        assert_eq!("none".parse(), Ok(TraceMode::None));
        assert_eq!("all".parse(), Ok(TraceMode::All));
        assert_eq!("sample:10".parse(), Ok(TraceMode::Sample(10)));
        assert_eq!("message:7".parse(), Ok(TraceMode::Message(7)));
        assert!(
            "message:x"
                .parse::<TraceMode>()
                .unwrap_err()
                .contains("message:N")
        );
        assert!("sample:0".parse::<TraceMode>().is_err());
        assert!(TraceMode::Message(7).traces(7));
        assert!(!TraceMode::Message(7).traces(14));
        assert!(TraceMode::Sample(7).traces(14));
    }
}
