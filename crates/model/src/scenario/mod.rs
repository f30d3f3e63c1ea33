//! Scenario files: the TOML that describes the world of a simulation, field by field in
//! `scenarios/README.md`.
//!
//! [`Scenario::load`] reads a file; every mistake comes back as a [`ScenarioError`] naming the
//! file, the line and the field, such as
//! `scenarios/x.toml:12:1: relay.retry: unknown field `intial`, expected one of ...`.

mod automation;
mod dist;
mod domain;
mod include;
mod locate;
mod mta_retry;
mod overrides;
mod pool;
mod provider;
mod relay;
mod sender;
mod shaping;
mod start;
mod units;
mod validate;

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use automation::{
    Action, Enhanced, MAX_RAMP_STEPS, Ramp, Release, ReleaseMode, Rule, Target, TextPattern,
    Trigger,
};
pub use dist::{Count, Dist, Quantity};
pub use domain::{
    Behaviour, CountBy, DnsBehaviour, Domain, FullMailboxes, Greylisting, MxHost, Outage,
    OutageMode, RateLimits, Reputation, TokenBucket,
};
pub use mta_retry::{Exchange, Haraka, KumoMta, RangeError, Sendmail};
pub use overrides::{Parameter, Setting};
pub use pool::{MAX_POOL_ADDRESSES, MAX_POOL_WEIGHT, Selection, SourceAddress, SourcePool};
pub(crate) use provider::domain_providers;
pub use provider::{HostPattern, Provider};
pub use relay::{EximKind, EximRule, Jitter, Relay, RetryConfig};
pub use sender::{Arrivals, Burst, Destination, DkimSigning, Sender, Submission};
pub use shaping::{DomainShaping, Shaping};
pub use start::StartTime;
pub use units::{Bandwidth, Bytes, Duration, Probability, Rate};
pub(crate) use validate::check_run;

/// A whole scenario.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// `[simulation]`: name, seed, how long, how many.
    pub simulation: Simulation,
    /// `[[senders]]`: the applications that send.
    pub senders: Vec<Sender>,
    /// `[relay]`: the MTA that queues and delivers.
    pub relay: Relay,
    /// `[[domains]]`: DNS and MX behaviour of every domain.
    #[serde(default)]
    pub domains: Vec<Domain>,
    /// Where the file was read from (for relative paths such as arrival CSV files).
    #[serde(skip)]
    pub path: Option<PathBuf>,
}

/// `[simulation]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Simulation {
    /// A name, used for the default output folder `reports/<name>/`.
    pub name: String,
    /// What the scenario shows.
    #[serde(default)]
    pub description: String,
    /// The master seed of all random streams.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Messages arrive during this time; the run goes on until every message is settled.
    pub duration: Duration,
    /// Stop generating messages after this many (all senders together).
    #[serde(default)]
    pub messages: Option<u64>,
    /// The interval of `timeseries.csv`.
    #[serde(default = "default_interval")]
    pub timeseries_interval: Duration,
    /// The message `smtpsim walk` follows when it is not told which.
    #[serde(default)]
    pub follow: u64,
    /// The date and time at which simulated time 0 falls (timestamps of the mail log).
    #[serde(default)]
    pub start: StartTime,
}

fn default_seed() -> u64 {
    1
}

fn default_interval() -> Duration {
    "5m".parse().expect("valid duration")
}

/// A scenario file that could not be used: where, which field, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file (or `<string>`).
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// The dotted path of the field, such as `relay.retry.initial` or `senders[0].to[1].domain`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        if !self.field.is_empty() {
            write!(f, ": {}", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ScenarioError {}

impl Scenario {
    /// Reads and checks a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let text = read_text(path)?;
        let mut scenario = Scenario::parse(&text, &path.display().to_string())?;
        scenario.path = Some(path.to_path_buf());
        Ok(scenario)
    }

    /// Parses and checks scenario text; `file` names it in errors, and the files it
    /// includes (`include = [...]`) are found beside it.
    pub fn parse(text: &str, file: &str) -> Result<Scenario, ScenarioError> {
        if text.contains("include") {
            let table = include::parse_table(text, file)?;
            if include::has_includes(&table) {
                return Scenario::parse_layers(include::resolve(text, file, table)?);
            }
        }
        Scenario::parse_one(text, file)
    }

    /// A scenario built from several files.
    fn parse_layers(layers: include::Layers) -> Result<Scenario, ScenarioError> {
        let merged = toml::Value::Table(layers.merged.clone());
        let scenario: Scenario = serde_path_to_error::deserialize(merged).map_err(|e| {
            let field = e.path().to_string();
            let field = if field == "." { String::new() } else { field };
            let message = e.into_inner().message().trim().to_string();
            let lookup = match unknown_key(&message) {
                Some(key) if field.is_empty() => key.to_string(),
                Some(key) => format!("{field}.{key}"),
                None => field.clone(),
            };
            layers.error(field, &lookup, message)
        })?;
        validate::check(&scenario).map_err(|problem| {
            layers.error(problem.field.clone(), &problem.field, problem.message)
        })?;
        Ok(scenario)
    }

    /// A scenario written in one file.
    fn parse_one(text: &str, file: &str) -> Result<Scenario, ScenarioError> {
        let error = |span: Option<std::ops::Range<usize>>, field: String, message: String| {
            include::at(text, file, span, field, message)
        };
        let deserializer = toml::Deserializer::parse(text).map_err(|e| {
            let message = syntax_message(text, e.span(), e.message().trim());
            error(e.span(), String::new(), message)
        })?;
        let scenario: Scenario = serde_path_to_error::deserialize(deserializer).map_err(|e| {
            let field = e.path().to_string();
            let inner = e.into_inner();
            let field = if field == "." { String::new() } else { field };
            let message = inner.message().trim().to_string();
            // An unknown key inside a tagged table is named by the message, not the path.
            let key = unknown_key(&message).unwrap_or(&field);
            let span = inner.span().map(|span| refine(text, span, key));
            error(span, field, message)
        })?;
        validate::check(&scenario).map_err(|problem| {
            let span = locate::span_of(text, &problem.field);
            error(span, problem.field, problem.message)
        })?;
        Ok(scenario)
    }

    /// The domain entry named `name` (case-insensitive).
    pub fn domain(&self, name: &str) -> Option<&Domain> {
        self.domains
            .iter()
            .find(|d| d.name.eq_ignore_ascii_case(name))
    }
}

/// Reads a file as UTF-8 text; an invalid byte is named by its offset, line and column.
pub(crate) fn read_text(path: &Path) -> Result<String, ScenarioError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| ScenarioError {
        file: file.clone(),
        line: None,
        column: None,
        field: String::new(),
        message: format!("cannot read: {e}"),
    })?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let valid = std::str::from_utf8(&e.as_bytes()[..at]).expect("valid up to here");
        let (line, column) = line_column(valid, at);
        ScenarioError {
            file,
            line: Some(line),
            column: Some(column),
            field: String::new(),
            message: format!(
                "invalid UTF-8 at byte {at} (0x{:02x}): a scenario file is UTF-8 text",
                e.as_bytes()[at]
            ),
        }
    })
}

/// The key an "unknown field" message names.
fn unknown_key(message: &str) -> Option<&str> {
    message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split('`').next())
}

/// The TOML parser's message, with the key named when it says only "duplicate key".
fn syntax_message(text: &str, span: Option<std::ops::Range<usize>>, message: &str) -> String {
    let key = span
        .filter(|_| message.starts_with("duplicate key"))
        .and_then(|span| text.get(span))
        .map(|key| key.trim().trim_matches(['[', ']']).trim())
        .filter(|key| !key.is_empty() && !message.contains(key));
    match key {
        Some(key) => format!("{message} `{key}`: it is already defined above"),
        None => message.to_string(),
    }
}

/// toml points an error inside a table at the table; when the key (the last part of `field`)
/// is written after that point (`key =`), point at the key instead.
fn refine(text: &str, span: std::ops::Range<usize>, field: &str) -> std::ops::Range<usize> {
    let last = field.rsplit('.').next().unwrap_or("");
    let last = last.split('[').next().unwrap_or("");
    if last.is_empty() || span.start >= text.len() {
        return span;
    }
    let rest = &text[span.start..];
    let mut from = 0;
    while let Some(at) = rest[from..].find(last) {
        let at = from + at;
        let before = rest[..at].chars().next_back();
        let after = rest[at + last.len()..].trim_start_matches([' ', '\t']);
        let starts_key = before.is_none_or(|c| c.is_whitespace() || c == '{' || c == ',');
        if starts_key && after.starts_with('=') {
            return span.start + at..span.start + at + last.len();
        }
        from = at + last.len();
    }
    span
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, column)
}
