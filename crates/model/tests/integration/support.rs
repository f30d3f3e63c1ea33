//! A recorder that keeps everything in memory, for tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use smtpsim_model::scenario::Scenario;
use smtpsim_model::sim::{
    self, AutomationRecord, Fate, Options, RecipientRecord, Recorder, RunStats, Sample,
    SourceRecord, TraceRecord,
};

/// The mx line of [`mistake`]'s one domain, for tests that do not change it.
pub const ONE_MX: &str = r#"mx = [{ host = "mx.a.example" }]"#;

/// The error, as shown, of a scenario `bad.toml` with one sender and one domain,
/// `a.example`: `relay` goes after the `[relay]` table's retry line (line 12), `domain` after
/// the domain's name.
pub fn mistake(relay: &str, domain: &str) -> String {
    let text = format!(
        r#"[simulation]
name = "bad"
duration = "1m"
[[senders]]
name = "app"
domain = "shop.example"
arrivals = {{ process = "constant", rate = "1/s" }}
to = [{{ domain = "a.example" }}]
[relay]
retry = {{ policy = "fixed", schedule = ["5m"] }}
{relay}
[[domains]]
name = "a.example"
{domain}
"#
    );
    Scenario::parse(&text, "bad.toml")
        .expect_err("the scenario is refused")
        .to_string()
}

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
    /// What the automation did: time in microseconds and the row's text.
    pub automation: Vec<(u64, String)>,
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
            t.line.kind().name(),
            t.line
        ));
    }

    fn sample(&mut self, s: &Sample) {
        self.samples.push(*s);
    }

    fn automation(&mut self, record: &AutomationRecord<'_>) {
        self.automation
            .push((record.time.as_micros(), record.to_string()));
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
