//! The entry point for fuzzing the scenario loader: arbitrary bytes must be refused with a
//! clear error or give a scenario that runs (briefly) without a panic. The target in the
//! repository's `fuzz/` folder calls it, and a test runs it over the seed corpus.

use crate::scenario::Scenario;
use crate::sim::{self, Options, RecipientRecord, Recorder, TraceRecord};

/// Parses `data` as a scenario file; an error must say what is wrong, and a scenario that
/// parses is run with a few messages and tight guards, ending in its statistics or an error.
pub fn scenario(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Scenario::parse(text, "fuzz.toml") {
        Err(error) => assert!(!error.message.is_empty(), "an error says what is wrong"),
        Ok(scenario) => {
            let options = Options {
                messages: Some(3),
                stall_limit: Some(100_000),
                sample_limit: Some(100_000),
                ..Options::default()
            };
            if let Ok(stats) = sim::run(&scenario, &options, &mut Discard) {
                assert!(stats.messages <= 3);
            }
        }
    }
}

/// A recorder that keeps nothing.
struct Discard;

impl Recorder for Discard {
    fn recipient(&mut self, _: &RecipientRecord<'_>) {}
    fn trace(&mut self, _: &TraceRecord<'_>) {}
}
