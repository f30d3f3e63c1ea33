//! `smtpsim`: simulate SMTP email delivery and show it line by line.
//!
//! Each subcommand is a thin call into the library crates.

mod converse;
mod merge;
mod report;
mod run;
mod sweep;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Simulate SMTP email delivery and show it line by line.
#[derive(Debug, Parser)]
#[command(name = "smtpsim", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run one SMTP conversation in memory between smtpsim's client and server and print it
    /// line by line.
    Converse(converse::Args),
    /// Simulate a scenario and write messages.csv, events.csv, timeseries.csv, summary.csv and
    /// summary.json.
    Run(run::Args),
    /// Run a scenario at every combination of swept field values, replicated with common
    /// random numbers, in parallel; write sweep.csv, sweep_summary.csv and sweep.json.
    Sweep(sweep::Args),
    /// Merge the outputs of the shards of a sweep (`sweep --shard I/N`) into the whole sweep.
    Merge(merge::Args),
    /// Draw the SVG charts and the self-contained report.html of a run's or a sweep's output.
    Report(report::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Converse(args) => converse::run(&args),
        Command::Run(args) => run::run(&args),
        Command::Sweep(args) => sweep::run(&args),
        Command::Merge(args) => merge::run(&args),
        Command::Report(args) => report::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("smtpsim: {error:#}");
            ExitCode::from(2)
        }
    }
}
