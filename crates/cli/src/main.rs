//! `smtpsim`: simulate SMTP email delivery and show it line by line.
//!
//! Each subcommand is a thin call into the library crates.

mod converse;
mod explain;
mod repl;
mod run;
mod walk;

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
    /// Explain reply codes, enhanced status codes or whole reply lines: meaning, usual causes,
    /// whether to retry, what to do.
    Explain(explain::Args),
    /// Print the catalogue of reply codes and enhanced status codes.
    Codes(explain::CodesArgs),
    /// Type SMTP commands to smtpsim's own server in memory, with each reply explained.
    Repl(repl::Args),
    /// Simulate a scenario and write messages.csv, events.csv, timeseries.csv, summary.csv and
    /// summary.json.
    Run(run::Args),
    /// Follow one message hop by hop (App, SMTP relay, DNS, Recipient MX, Mailbox) and explain
    /// each step; bundled stories show the classic cases.
    Walk(walk::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Converse(args) => converse::run(&args),
        Command::Explain(args) => explain::run(&args),
        Command::Codes(args) => explain::run_codes(&args),
        Command::Repl(args) => repl::run(&args),
        Command::Run(args) => run::run(&args),
        Command::Walk(args) => walk::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("smtpsim: {error:#}");
            ExitCode::from(2)
        }
    }
}
