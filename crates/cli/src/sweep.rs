//! `smtpsim sweep SCENARIO --set PATH=V1,V2 ...`: every combination of values, each replicated
//! with the same seeds, in parallel; `sweep.csv`, `sweep_summary.csv` and `sweep.json`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use smtpsim_des::SimDuration;
use smtpsim_model::scenario::Parameter;
use smtpsim_model::sim::TraceMode;
use smtpsim_report::sweep::{Precision, Shard};
use smtpsim_sweep::{RunFiles, Runner, Sweep, SweepRunError, SweepSpec, default_out};

use crate::interrupt;
use crate::run::{parse_duration, parse_trace, remove_report};
pub use crate::sweep_print::print_points;

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
    /// Add replications in batches of --replications to each point until the 95% half-width
    /// of METRIC is within the target: a percentage of the mean (mean_attempts=2%), a time
    /// (latency_p50_s=0.5s) or a number in the metric's unit (delivery_rate=0.001). Not with
    /// --shard.
    #[arg(long, value_name = "METRIC=TARGET", value_parser = parse_precision)]
    precision: Option<Precision>,
    /// With --precision, the most replications of a point.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(2..=100_000))]
    max_replications: u32,
    /// The point the others are compared with in sweep_diff.csv and the printout (0-based,
    /// as numbered in the printout).
    #[arg(long, default_value_t = 0)]
    baseline: usize,
    /// Run each point with its own seeds (base + point · 2^32 + replication) instead of the
    /// seeds every point shares; differences are then compared as independent samples.
    #[arg(long)]
    independent: bool,
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
    /// Also write each run's messages.csv, events.csv, automation.csv, timeseries.csv and
    /// summaries, in `runs/p<point>-r<replication>/` of the output folder.
    #[arg(long)]
    run_files: bool,
    /// With --run-files, which messages keep a line-by-line trace: none, sample:N or all.
    #[arg(long, default_value = "none", value_parser = parse_trace)]
    trace: TraceMode,
    /// Do not write the charts and report.html; those of an earlier output in the folder are
    /// removed.
    #[arg(long)]
    no_report: bool,
    /// Without --out, replace an earlier output in `reports/<scenario name>-sweep/` instead
    /// of writing to the first free `...-sweep-2/`, `-3/`, ...
    #[arg(long)]
    force: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
}

fn parse_parameter(s: &str) -> Result<Parameter, String> {
    s.parse()
}

fn parse_precision(s: &str) -> Result<Precision, String> {
    s.parse()
}

fn parse_shard(s: &str) -> Result<Shard, String> {
    s.parse()
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let cancel = interrupt::on_signal()?;
    let spec = SweepSpec {
        scenario: args.scenario.clone(),
        set: args.set.clone(),
        replications: args.replications,
        seed: args.seed,
        messages: args.messages,
        duration: args.duration,
        shard: args.shard,
        baseline: args.baseline,
        independent: args.independent,
        precision: args.precision.clone().map(|p| Precision {
            max_replications: args.max_replications,
            ..p
        }),
    };
    let sweep = Sweep::load(&spec)?;
    let bytes = crate::provenance::read(&args.scenario)?;
    let set: Vec<String> = args
        .set
        .iter()
        .map(|p| format!("{}={}", p.path, p.values.join(",")))
        .collect();
    let provenance = crate::provenance::of(&args.scenario, &bytes, args.seed, set)?;
    let out = args.out.clone().unwrap_or_else(|| {
        crate::provenance::fresh_default(default_out(sweep.name(), args.shard), args.force)
    });
    let runs = sweep.runs().len();
    let bar = (!args.quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new(runs as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {pos}/{len} runs [{bar:30}] {elapsed} elapsed, ETA {eta}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar
    });
    let mut runner = Runner::new().cancel(cancel.clone());
    if let Some(jobs) = args.jobs {
        runner = runner.jobs(jobs as usize);
    }
    if args.run_files {
        runner = runner.run_files(RunFiles {
            dir: out.clone(),
            trace: args.trace,
        });
    }
    if let Some(bar) = bar.clone() {
        runner = runner.on_run_done(move || bar.inc(1));
    }
    let jobs = runner.threads(runs);
    let started = Instant::now();
    let output = sweep.run(&runner);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let output = match output {
        Err(SweepRunError::Cancelled) => return Err(interrupt::Interrupted.into()),
        other => other.with_context(|| format!("cannot run the sweep into {}", out.display()))?,
    };
    let mut output = output;
    output.provenance = vec![provenance];
    let wall = started.elapsed().as_secs_f64();
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
        crate::sweep_print::print_comparisons(&mut text, &output)?;
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
