//! Sweeps of smtpsim scenarios: the same scenario run at every combination of parameter values
//! (a *point*), each point replicated with seeds shared across points (common random numbers),
//! the runs spread over threads. The files and statistics of the results are those of
//! [`smtpsim_report::sweep`].
//!
//! - [`SweepSpec`]: what to sweep, as the command line gives it.
//! - [`Sweep`]: a spec loaded and checked: the scenario of every point, the
//!   [`SweepDefinition`]; [`Sweep::run`] runs it with a [`Runner`] and returns the
//!   [`SweepOutput`].
//!
//! A two-point sweep of a scenario, its delivery rate per point:
//!
//! ```
//! use smtpsim_sweep::{Runner, Sweep, SweepSpec};
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("tiny.toml");
//! std::fs::write(&path, smtpsim_sweep::EXAMPLE_SCENARIO)?;
//! let mut spec = SweepSpec::new(&path);
//! spec.set.push("relay.retry.initial=60s,300s".parse()?);
//! spec.replications = 3;
//! let sweep = Sweep::load(&spec)?;
//! let output = sweep.run(&Runner::new().jobs(2))?;
//! assert_eq!(output.runs.len(), 6);
//! let points = output.points()?;
//! assert_eq!(points[1].values, ["300s"]);
//! assert!(points[0].metrics["delivery_rate"].mean.unwrap() > 0.9);
//! output.write(dir.path())?; // sweep.csv, sweep_summary.csv, sweep.json
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod precision;
mod runner;

use std::path::{Path, PathBuf};

use smtpsim_des::SimDuration;
use smtpsim_model::scenario::{Parameter, Scenario, ScenarioError, Setting};
use smtpsim_model::sim::{self, Options, SimError};
use smtpsim_model::stable_hash::StableHasher;
use smtpsim_report::ReportError;
use smtpsim_report::sweep::{Precision, Shard, SweepDefinition, SweptField};

pub use runner::{RunFiles, Runner};
pub use smtpsim_report::sweep::{PointSummary, RunResult, SweepOutput};

/// A small scenario (two domains, one of them greylisting for two minutes, 200 messages), for
/// examples and tests.
pub const EXAMPLE_SCENARIO: &str = r#"
[simulation]
name = "tiny"
seed = 1
duration = "10m"
messages = 200

[[senders]]
name = "app"
domain = "app.example"
arrivals = { process = "poisson", rate = "1/s" }
to = [{ domain = "grey.example" }, { domain = "plain.example" }]

[relay]
hostname = "mta.app.example"
retry = { policy = "exponential", initial = "1m", multiplier = 2.0, cap = "1h" }

[[domains]]
name = "app.example"

[[domains]]
name = "grey.example"
mx = [{ host = "mx.grey.example" }]
[domains.behaviour]
greylisting = { delay = "2m" }

[[domains]]
name = "plain.example"
mx = [{ host = "mx.plain.example" }]
"#;

/// What to sweep, as the command line gives it.
#[derive(Debug, Clone)]
pub struct SweepSpec {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// The swept fields and their values; every combination is a point.
    pub set: Vec<Parameter>,
    /// Runs per point.
    pub replications: u32,
    /// Base seed (replaces each point's scenario seed).
    pub seed: Option<u64>,
    /// Messages of each run (replaces the scenario's).
    pub messages: Option<u64>,
    /// Arrival window of each run (replaces the scenario's).
    pub duration: Option<SimDuration>,
    /// Run only this share of the runs.
    pub shard: Option<Shard>,
    /// The point the others are compared with (0: the first).
    pub baseline: usize,
    /// Each point with its own seeds instead of the seeds every point shares.
    pub independent: bool,
    /// Add replications in batches of [`SweepSpec::replications`] until every point's mean
    /// of a metric is this precise (refused with a shard).
    pub precision: Option<Precision>,
}

impl SweepSpec {
    /// The scenario at `path` as written, 10 replications, no shard.
    pub fn new(path: impl Into<PathBuf>) -> SweepSpec {
        SweepSpec {
            scenario: path.into(),
            set: Vec::new(),
            replications: 10,
            seed: None,
            messages: None,
            duration: None,
            shard: None,
            baseline: 0,
            independent: false,
            precision: None,
        }
    }
}

/// Why a sweep could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum SweepRunError {
    /// The scenario file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The scenario, or a point's `--set` values, is not a valid scenario.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// A point's scenario cannot run, or a run failed.
    #[error(transparent)]
    Sim(#[from] SimError),
    /// The sweep's definition is refused (too many runs, a field given twice).
    #[error("{0}")]
    Definition(String),
    /// A run's results or files could not be written.
    #[error(transparent)]
    Report(#[from] ReportError),
    /// The runner's threads could not be started.
    #[error("cannot start the worker threads: {0}")]
    Threads(String),
    /// The [`Runner`]'s cancel flag was set.
    #[error("interrupted")]
    Cancelled,
}

/// A sweep loaded and checked: the scenario of every point is valid and can run.
#[derive(Debug)]
pub struct Sweep {
    definition: SweepDefinition,
    scenarios: Vec<Scenario>,
    name: String,
    shard: Option<Shard>,
    messages: Option<u64>,
    duration: Option<SimDuration>,
}

impl Sweep {
    /// Reads the scenario, builds the definition and checks every point before anything runs.
    pub fn load(spec: &SweepSpec) -> Result<Sweep, SweepRunError> {
        let text =
            std::fs::read_to_string(&spec.scenario).map_err(|source| SweepRunError::Read {
                path: spec.scenario.clone(),
                source,
            })?;
        let file = spec.scenario.display().to_string();
        let base = Scenario::parse(&text, &file)?;
        for (i, p) in spec.set.iter().enumerate() {
            if spec.set[..i].iter().any(|q| q.path == p.path) {
                return Err(SweepRunError::Definition(format!(
                    "--set {} is given twice: list all its values in one --set",
                    p.path
                )));
            }
        }
        let mut hash = StableHasher::new();
        hash.write(text.as_bytes());
        let definition = SweepDefinition {
            scenario: base.simulation.name.clone(),
            file: file.clone(),
            file_hash: format!("{:016x}", hash.finish()),
            parameters: spec
                .set
                .iter()
                .map(|p| SweptField {
                    path: p.path.clone(),
                    values: p.values.clone(),
                })
                .collect(),
            replications: spec.replications,
            seed: spec.seed,
            messages: spec.messages,
            duration: spec.duration.map(|d| d.to_string()),
            baseline: spec.baseline,
            independent: spec.independent,
            precision: spec.precision.clone(),
        };
        if let Some(p) = &spec.precision {
            precision::check(p, spec)?;
        }
        definition.check_size().map_err(SweepRunError::Definition)?;
        if spec.baseline >= definition.points() {
            return Err(SweepRunError::Definition(format!(
                "--baseline {} is not a point: the sweep has points 0 to {}",
                spec.baseline,
                definition.points() - 1
            )));
        }
        let scenarios = load_points(spec, &text, &definition)?;
        Ok(Sweep {
            definition,
            scenarios,
            name: base.simulation.name,
            shard: spec.shard,
            messages: spec.messages,
            duration: spec.duration,
        })
    }

    /// What is swept.
    pub fn definition(&self) -> &SweepDefinition {
        &self.definition
    }

    /// The scenario's name (of the file as written).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The share of the runs this sweep runs, if it is a shard.
    pub fn shard(&self) -> Option<Shard> {
        self.shard
    }

    /// The runs (numbered point × replications + replication) this sweep, or its shard, runs.
    pub fn runs(&self) -> Vec<usize> {
        (0..self.definition.runs())
            .filter(|&k| self.shard.is_none_or(|s| s.contains(k)))
            .collect()
    }

    /// Runs every run of [`Sweep::runs`] on the runner's threads, or with a precision target
    /// batches of replications until every point reaches it (see [`precision`]); the output
    /// is the same whatever the number of threads.
    pub fn run(&self, runner: &Runner) -> Result<SweepOutput, SweepRunError> {
        if self.definition.precision.is_some() {
            return precision::run_until(self, runner);
        }
        let runs: Vec<(usize, u32)> = self
            .runs()
            .into_iter()
            .map(|k| self.definition.run_at(k))
            .collect();
        let results = runner.run_all(self, &runs)?;
        Ok(SweepOutput::new(
            self.definition.clone(),
            self.shard,
            results,
        ))
    }
}

/// The scenario of every point, checked before anything runs.
fn load_points(
    spec: &SweepSpec,
    text: &str,
    definition: &SweepDefinition,
) -> Result<Vec<Scenario>, SweepRunError> {
    let file = spec.scenario.display().to_string();
    (0..definition.points())
        .map(|point| {
            let settings: Vec<Setting> = definition
                .indices(point)
                .into_iter()
                .zip(&spec.set)
                .map(|(i, p)| p.setting(i))
                .collect();
            let mut scenario = Scenario::parse_with(text, &file, &settings)?;
            scenario.path = Some(spec.scenario.clone());
            let options = Options {
                messages: spec.messages,
                duration: spec.duration,
                ..Options::default()
            };
            sim::check_with(&scenario, &options)?;
            Ok(scenario)
        })
        .collect()
}

/// The default output folder of a sweep of the scenario `name`:
/// `reports/<name>-sweep/`, with `-shard-I-of-N` for a shard.
pub fn default_out(name: &str, shard: Option<Shard>) -> PathBuf {
    let mut folder = format!("{}-sweep", sanitise(name));
    if let Some(shard) = shard {
        folder.push_str(&format!("-shard-{}-of-{}", shard.index, shard.count));
    }
    Path::new("reports").join(folder)
}

/// A name made safe for a folder: letters, digits, `-` and `_` kept, the rest `_`.
pub fn sanitise(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
