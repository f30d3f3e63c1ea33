//! A recorder that keeps everything in memory, for tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use smtpsim_model::scenario::Scenario;
use smtpsim_model::sim::{
    self, Fate, Options, RecipientRecord, Recorder, RunStats, Sample, SourceRecord, TraceRecord,
};

/// One recipient row, owned.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub message_id: u64,
    pub sender: String,
    pub recipient: String,
    pub domain: String,
    pub submitted: u64,
    pub first_attempt: Option<u64>,
    pub finished: u64,
    pub fate: Fate,
    pub attempts: u32,
    pub queue_wait: u64,
    pub last_reply: Option<String>,
    pub reasons: String,
}

/// Everything a run reported.
#[derive(Debug, Default)]
pub struct Memory {
    pub rows: Vec<Row>,
    pub trace: Vec<String>,
    pub samples: Vec<Sample>,
    pub sources: Vec<SourceRecord>,
}

impl Recorder for Memory {
    fn recipient(&mut self, r: &RecipientRecord<'_>) {
        self.rows.push(Row {
            message_id: r.message_id,
            sender: r.sender.to_string(),
            recipient: r.recipient.to_string(),
            domain: r.domain.to_string(),
            submitted: r.submitted.as_micros(),
            first_attempt: r.first_attempt.map(|t| t.as_micros()),
            finished: r.finished.as_micros(),
            fate: r.fate,
            attempts: r.attempts,
            queue_wait: r.queue_wait.as_micros(),
            last_reply: r.last_reply.map(|reply| reply.to_string()),
            reasons: r.reasons.to_string(),
        });
    }

    fn trace(&mut self, t: &TraceRecord<'_>) {
        self.trace.push(format!(
            "{} {} {} {} {} {}",
            t.time.fmt_secs(),
            t.message_id,
            t.attempt,
            t.hop.name(),
            t.kind.name(),
            t.text
        ));
    }

    fn sample(&mut self, s: &Sample) {
        self.samples.push(*s);
    }

    fn sources(&mut self, records: &[SourceRecord]) {
        self.sources = records.to_vec();
    }
}

/// The path of a bundled scenario.
pub fn scenario_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenarios")
        .join(name)
}

/// Loads a bundled scenario.
pub fn load(name: &str) -> Scenario {
    Scenario::load(&scenario_path(name)).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs a scenario into memory.
pub fn run(scenario: &Scenario, options: &Options) -> (Memory, RunStats) {
    let mut memory = Memory::default();
    let stats = sim::run(scenario, options, &mut memory).unwrap_or_else(|e| panic!("{e}"));
    (memory, stats)
}

/// Every bundled scenario (`scenarios/`, `scenarios/stories/`, `scenarios/validation/`), by
/// its name under `scenarios/`, in order.
pub fn bundled_scenarios() -> Vec<String> {
    let mut names = Vec::new();
    for dir in ["", "stories/", "validation/"] {
        let entries = std::fs::read_dir(scenario_path(dir)).expect("the scenarios folder");
        for entry in entries {
            let name = entry.expect("a folder entry").file_name();
            let name = name.to_string_lossy();
            // providers.toml is a part for scenarios to include, not a scenario.
            if name.ends_with(".toml") && name != "providers.toml" {
                names.push(format!("{dir}{name}"));
            }
        }
    }
    names.sort();
    assert!(names.len() >= 15, "{names:?}");
    names
}
