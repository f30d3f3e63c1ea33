//! `smtpsim`: simulate SMTP email delivery and show it line by line.
//!
//! Each subcommand is a thin call into the library crates.

#![forbid(unsafe_code)]

mod blast;
mod compare;
mod converse;
mod explain;
mod fit;
mod interrupt;
mod maillog;
mod merge;
mod provenance;
mod repl;
mod report;
mod run;
mod serve;
mod serve_explain;
mod sweep;
mod sweep_print;
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
    /// Load an SMTP server with many concurrent sessions; print messages per second, latency
    /// percentiles and counts per reply code.
    Blast(blast::Args),
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
    /// Simulate a scenario and write messages.csv, events.csv, automation.csv, timeseries.csv,
    /// summary.csv and summary.json.
    Run(run::Args),
    /// Follow one message hop by hop (App, SMTP relay, DNS, Recipient MX, Mailbox) and explain
    /// each step; bundled stories show the classic cases.
    Walk(walk::Args),
    /// Serve SMTP on a TCP port, misbehaving like a scenario's recipient MX (greylisting, rate
    /// limits, unknown users, outages...) or as the flags say; store mail in a Maildir.
    Serve(Box<serve::Args>),
    /// Run a scenario at every combination of swept field values, replicated with common
    /// random numbers, in parallel; write sweep.csv, sweep_summary.csv and sweep.json.
    Sweep(sweep::Args),
    /// Merge the outputs of the shards of a sweep (`sweep --shard I/N`) into the whole sweep.
    Merge(merge::Args),
    /// Draw the SVG charts and the self-contained report.html of a run's or a sweep's output.
    Report(report::Args),
    /// Read Postfix mail logs (syslog or maillog_file format, rotated, gzip) into the files a
    /// run writes: messages.csv, timeseries.csv, summary.csv, summary.json, charts.
    Maillog(maillog::Args),
    /// Put two outputs (run, maillog) side by side: counts, rates, latency percentiles with
    /// confidence intervals, KS and chi-square tests; compare.csv, compare.json, charts.
    Compare(compare::Args),
    /// Fit a scenario to Postfix mail logs: arrivals per hour, domains and their weights,
    /// deferrals, greylisting, unknown users, the postfix retry policy, attempt durations.
    Fit(fit::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Blast(args) => blast::run(&args),
        Command::Converse(args) => converse::run(&args),
        Command::Explain(args) => explain::run(&args),
        Command::Codes(args) => explain::run_codes(&args),
        Command::Repl(args) => repl::run(&args),
        Command::Run(args) => run::run(&args),
        Command::Walk(args) => walk::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Sweep(args) => sweep::run(&args),
        Command::Merge(args) => merge::run(&args),
        Command::Report(args) => report::run(&args),
        Command::Maillog(args) => maillog::run(&args),
        Command::Compare(args) => compare::run(&args),
        Command::Fit(args) => fit::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(error) if error.is::<interrupt::Interrupted>() => {
            eprintln!("smtpsim: {error}");
            ExitCode::from(interrupt::EXIT_STATUS)
        }
        Err(error) if interrupt::is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("smtpsim: {}", render(&error));
            ExitCode::from(2)
        }
    }
}

/// The error and its causes, `: `-separated, each cause once: a cause whose text its error's
/// message already shows (a `#[error("...: {source}")]` that also reports `source()`) is not
/// repeated.
fn render(error: &anyhow::Error) -> String {
    let mut text = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error that shows its source in its message and reports it as its source too.
    #[derive(Debug)]
    struct Shown {
        source: std::io::Error,
    }

    impl std::fmt::Display for Shown {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "cannot listen on 127.0.0.1:25: {}", self.source)
        }
    }

    impl std::error::Error for Shown {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.source)
        }
    }

    #[test]
    fn a_cause_already_in_the_message_is_printed_once() {
        let io = || std::io::Error::new(std::io::ErrorKind::AddrInUse, "Address already in use");
        let error = anyhow::Error::new(Shown { source: io() });
        assert_eq!(
            render(&error),
            "cannot listen on 127.0.0.1:25: Address already in use"
        );
        let error = anyhow::Error::new(io()).context("cannot bind");
        assert_eq!(render(&error), "cannot bind: Address already in use");
        let error = anyhow::Error::new(io())
            .context("cannot bind")
            .context("serve");
        assert_eq!(render(&error), "serve: cannot bind: Address already in use");
    }
}
