//! `smtpsim sweep SCENARIO --set PATH=V1,V2 ...`: every combination of values, each replicated
//! with the same seeds, in parallel; `sweep.csv`, `sweep_summary.csv` and `sweep.json`.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use smtpsim_des::SimDuration;
use smtpsim_model::scenario::{Parameter, Scenario, Setting};
use smtpsim_model::sim::{
    self, Cancel, ExchangeMode, Options, RecipientRecord, Recorder, Sample, TraceMode, TraceRecord,
};
use smtpsim_model::stable_hash::StableHasher;
use smtpsim_report::sweep::{
    PointSummary, RunResult, Shard, SweepDefinition, SweepOutput, SweptField,
};
use smtpsim_report::{RunWriter, Stats, WriterOptions};

use crate::interrupt;
use crate::run::{human, parse_duration, parse_trace, remove_report, sanitise};

/// Options of `smtpsim sweep`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The scenario file (TOML).
    scenario: PathBuf,
    /// A field to sweep and its values, such as relay.retry.initial=60s,300s,900s. Repeat for
    /// more fields; every combination of values is a point.
    #[arg(long = "set", value_name = "PATH=V1,V2,...", value_parser = parse_parameter)]
    set: Vec<Parameter>,
    /// Runs per point. Replication r runs with the base seed + r at every point (common
    /// random numbers).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    replications: u32,
    /// Runs at once, 1 to 1024 (default: one per core), at most one per run. The output does
    /// not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1024))]
    jobs: Option<u32>,
    /// Run only shard I of N of the runs (1-based, such as 2/8); `smtpsim merge` puts the
    /// shards back together.
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    shard: Option<Shard>,
    /// Base seed (replaces each point's scenario seed).
    #[arg(long)]
    seed: Option<u64>,
    /// Number of messages of each run (replaces the scenario's).
    #[arg(long)]
    messages: Option<u64>,
    /// Length of the arrival window of each run, such as "6d".
    #[arg(long, value_parser = parse_duration)]
    duration: Option<SimDuration>,
    /// Output folder; `reports/<scenario name>-sweep/` if absent.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Also write each run's messages.csv, events.csv, timeseries.csv and summaries, in
    /// `runs/p<point>-r<replication>/` of the output folder.
    #[arg(long)]
    run_files: bool,
    /// With --run-files, which messages keep a line-by-line trace: none, sample:N or all.
    #[arg(long, default_value = "none", value_parser = parse_trace)]
    trace: TraceMode,
    /// Do not write the charts and report.html; those of an earlier output in the folder are
    /// removed.
    #[arg(long)]
    no_report: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
}

fn parse_parameter(s: &str) -> Result<Parameter, String> {
    s.parse()
}

fn parse_shard(s: &str) -> Result<Shard, String> {
    s.parse()
}

/// A run's aggregates, with or without its files.
enum Sink {
    Stats(Box<Stats>),
    Files(Box<RunWriter>),
}

/// What a sweep run records: aggregates, and files if asked.
struct SweepRecorder {
    sink: Sink,
}

impl Recorder for SweepRecorder {
    fn recipient(&mut self, record: &RecipientRecord<'_>) {
        match &mut self.sink {
            Sink::Stats(stats) => stats.record(record),
            Sink::Files(writer) => writer.recipient(record),
        }
    }

    fn trace(&mut self, record: &TraceRecord<'_>) {
        if let Sink::Files(writer) = &mut self.sink {
            writer.trace(record);
        }
    }

    fn sources(&mut self, records: &[smtpsim_model::sim::SourceRecord]) {
        match &mut self.sink {
            Sink::Stats(stats) => stats.record_sources(records),
            Sink::Files(writer) => writer.sources(records),
        }
    }

    fn sample(&mut self, sample: &Sample) {
        if let Sink::Files(writer) = &mut self.sink {
            writer.sample(sample);
        }
    }
}

/// Everything a run needs, shared by the worker threads.
struct Plan<'a> {
    definition: &'a SweepDefinition,
    scenarios: &'a [Scenario],
    args: &'a Args,
    out: &'a Path,
    cancel: &'a Cancel,
}

impl Plan<'_> {
    fn run(&self, k: usize) -> anyhow::Result<RunResult> {
        let (point, replication) = self.definition.run_at(k);
        let scenario = &self.scenarios[point];
        let seed = self
            .definition
            .seed_of(scenario.simulation.seed, replication);
        let options = Options {
            seed: Some(seed),
            messages: self.args.messages,
            duration: self.args.duration,
            trace: if self.args.run_files {
                self.args.trace
            } else {
                TraceMode::None
            },
            exchange: ExchangeMode::Auto,
            cancel: self.cancel.clone(),
            stall_limit: None,
            sample_limit: None,
        };
        let sink = if self.args.run_files {
            let dir = self
                .out
                .join("runs")
                .join(format!("p{point:04}-r{replication:04}"));
            let writer = RunWriter::create(
                &dir,
                WriterOptions {
                    trace: options.trace != TraceMode::None,
                    no_messages: false,
                },
            )
            .with_context(|| format!("cannot write to {}", dir.display()))?;
            Sink::Files(Box::new(writer))
        } else {
            Sink::Stats(Box::default())
        };
        let mut recorder = SweepRecorder { sink };
        let started = Instant::now();
        let stats = sim::run(scenario, &options, &mut recorder)?;
        interrupt::check(self.cancel)?;
        let result = match recorder.sink {
            Sink::Stats(aggregates) => {
                RunResult::new(point, replication, seed, &aggregates, &stats)?
            }
            Sink::Files(writer) => {
                let result = RunResult::new(point, replication, seed, writer.stats(), &stats)?;
                writer.finish(&stats, started.elapsed())?;
                result
            }
        };
        Ok(result)
    }
}

/// The scenario of every point, checked before anything runs.
fn load_points(
    args: &Args,
    text: &str,
    definition: &SweepDefinition,
) -> anyhow::Result<Vec<Scenario>> {
    let file = args.scenario.display().to_string();
    (0..definition.points())
        .map(|point| {
            let settings: Vec<Setting> = definition
                .indices(point)
                .into_iter()
                .zip(&args.set)
                .map(|(i, p)| p.setting(i))
                .collect();
            let mut scenario = Scenario::parse_with(text, &file, &settings)?;
            scenario.path = Some(args.scenario.clone());
            let options = Options {
                messages: args.messages,
                duration: args.duration,
                ..Options::default()
            };
            sim::check_with(&scenario, &options)?;
            Ok(scenario)
        })
        .collect()
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let cancel = interrupt::on_signal()?;
    let text = std::fs::read_to_string(&args.scenario)
        .with_context(|| format!("cannot read {}", args.scenario.display()))?;
    let base = Scenario::parse(&text, &args.scenario.display().to_string())?;
    for (i, p) in args.set.iter().enumerate() {
        if args.set[..i].iter().any(|q| q.path == p.path) {
            bail!(
                "--set {} is given twice: list all its values in one --set",
                p.path
            );
        }
    }
    let mut hash = StableHasher::new();
    hash.write(text.as_bytes());
    let definition = SweepDefinition {
        scenario: base.simulation.name.clone(),
        file: args.scenario.display().to_string(),
        file_hash: format!("{:016x}", hash.finish()),
        parameters: args
            .set
            .iter()
            .map(|p| SweptField {
                path: p.path.clone(),
                values: p.values.clone(),
            })
            .collect(),
        replications: args.replications,
        seed: args.seed,
        messages: args.messages,
        duration: args.duration.map(|d| d.to_string()),
    };
    definition.check_size().map_err(anyhow::Error::msg)?;
    let scenarios = load_points(args, &text, &definition)?;
    let out = args.out.clone().unwrap_or_else(|| {
        let mut name = format!("{}-sweep", sanitise(&base.simulation.name));
        if let Some(shard) = args.shard {
            name.push_str(&format!("-shard-{}-of-{}", shard.index, shard.count));
        }
        PathBuf::from("reports").join(name)
    });
    let runs: Vec<usize> = (0..definition.runs())
        .filter(|&k| args.shard.is_none_or(|s| s.contains(k)))
        .collect();

    let bar = (!args.quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new(runs.len() as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {pos}/{len} runs [{bar:30}] {elapsed} elapsed, ETA {eta}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar
    });
    // No more threads than runs.
    let jobs = args
        .jobs
        .map_or_else(
            || std::thread::available_parallelism().map_or(1, |n| n.get()),
            |n| n as usize,
        )
        .min(runs.len())
        .max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .context("cannot start the worker threads")?;
    let plan = Plan {
        definition: &definition,
        scenarios: &scenarios,
        args,
        out: &out,
        cancel: &cancel,
    };
    let started = Instant::now();
    let results: anyhow::Result<Vec<RunResult>> = pool.install(|| {
        // One run a piece: runs last from milliseconds to minutes, and a thread that is done
        // must be able to take any run another has not started yet.
        runs.par_iter()
            .with_max_len(1)
            .map(|&k| {
                let result = plan.run(k);
                if let Some(bar) = &bar {
                    bar.inc(1);
                }
                result
            })
            .collect()
    });
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let results = results?;
    let wall = started.elapsed().as_secs_f64();
    let output = SweepOutput::new(definition, args.shard, results);
    let points = output
        .write(&out)
        .with_context(|| format!("cannot write the sweep to {}", out.display()))?;
    let page = if args.no_report {
        remove_report(&out)?;
        None
    } else {
        Some(crate::report::make(&out)?)
    };
    interrupt::check(&cancel)?;
    if !args.quiet {
        let mut text = std::io::stdout().lock();
        print_points(&mut text, &output, &points)?;
        if let Some(page) = &page {
            writeln!(text, "  report: {}", page.display())?;
        }
        writeln!(
            text,
            "  {} runs in {wall:.2} s on {jobs} threads; results in {}",
            output.runs.len(),
            out.display()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// One line per point: delivery rate and p99 latency with their 95% confidence half-widths.
pub fn print_points(
    text: &mut impl Write,
    output: &SweepOutput,
    points: &[PointSummary],
) -> std::io::Result<()> {
    let d = &output.definition;
    let shard = output
        .shard
        .map(|s| format!(" (shard {s})"))
        .unwrap_or_default();
    writeln!(
        text,
        "{}: {} points × {} replications{shard}",
        d.scenario,
        d.points(),
        d.replications
    )?;
    for p in points {
        let values: Vec<String> = d
            .parameters
            .iter()
            .zip(&p.values)
            .map(|(f, v)| format!("{}={v}", f.path))
            .collect();
        let m = |name: &str| &p.metrics[name];
        let ci = |v: Option<f64>, show: &dyn Fn(f64) -> String| {
            v.map(|v| format!(" ± {}", show(v))).unwrap_or_default()
        };
        let rate = m("delivery_rate");
        let p99 = m("latency_p99_s");
        let attempts = m("mean_attempts");
        writeln!(
            text,
            "  {:>3} {}  delivered {:.2}%{}  p99 {}{}  attempts {:.3}{}",
            p.point,
            if values.is_empty() {
                "(scenario as written)".to_string()
            } else {
                values.join(" ")
            },
            rate.mean.unwrap_or(0.0) * 100.0,
            ci(rate.ci95, &|v| format!("{:.2}", v * 100.0)),
            p99.mean
                .map_or_else(|| "none (no deliveries)".to_string(), human),
            ci(p99.ci95, &|v| human(v)),
            attempts.mean.unwrap_or(0.0),
            ci(attempts.ci95, &|v| format!("{v:.3}")),
        )?;
    }
    Ok(())
}
