//! `smtpsim maillog FILE... --out DIR`: a Postfix mail log read into the files a run writes.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use smtpsim_des::SimDuration;
use smtpsim_report::import::{ImportOptions, import};

use crate::run::{human, parse_duration, remove_report};

/// Options of `smtpsim maillog`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Postfix log files (syslog or maillog_file format) or Exim main logs, plain or
    /// gzip-compressed; rotated files (mail.log.2.gz, mail.log.1, mail.log) are read oldest
    /// first.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Output folder.
    #[arg(long)]
    out: PathBuf,
    /// The year of the first syslog timestamp (1..=9999), which carries none; by default the
    /// year the first file was last modified.
    #[arg(long, value_parser = clap::value_parser!(i32).range(1..=9999))]
    year: Option<i32>,
    /// Interval of timeseries.csv, 1s to 1d.
    #[arg(long, default_value = "5m", value_parser = parse_interval)]
    interval: SimDuration,
    /// The most messages kept open in memory (1 to 100000000): beyond it the oldest open
    /// message is dropped and counted in import.json.
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    max_open: u64,
    /// Leave out messages.csv.
    #[arg(long)]
    no_messages: bool,
    /// Do not write the charts and report.html.
    #[arg(long)]
    no_report: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
}

fn parse_interval(s: &str) -> Result<SimDuration, String> {
    let d = parse_duration(s)?;
    if d < SimDuration::from_secs(1) || d > SimDuration::from_secs(86_400) {
        return Err(format!("{s} is outside 1s..=1d"));
    }
    Ok(d)
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let options = ImportOptions {
        year: args.year,
        interval: args.interval,
        max_open: usize::try_from(args.max_open).unwrap_or(usize::MAX),
        no_messages: args.no_messages,
    };
    let imported = import(&args.files, &args.out, &options)
        .with_context(|| format!("cannot import into {}", args.out.display()))?;
    let page = if args.no_report {
        remove_report(&args.out)?;
        None
    } else {
        Some(crate::report::make(&args.out)?)
    };
    if args.quiet {
        return Ok(ExitCode::SUCCESS);
    }
    let (s, c) = (&imported.summary, &imported.counts);
    let mut text = std::io::stdout().lock();
    writeln!(
        text,
        "{} lines from {} files: {} postfix, {} of other programs, {} malformed",
        c.lines, c.files, c.postfix_lines, c.other_lines, c.malformed_lines
    )?;
    for broken in &c.broken_files {
        writeln!(text, "  broken off: {broken}")?;
    }
    let o = &s.outcomes;
    writeln!(
        text,
        "  {} messages, {} recipients: delivered {}  bounced {}  expired {}  rejected {}",
        s.run.messages, s.run.recipients, o.inbox, o.bounced, o.expired, o.rejected_at_submission
    )?;
    writeln!(
        text,
        "  still open at the end {} ({} recipients without a fate); attempts {}",
        c.open_at_end, c.unsettled_at_end, c.attempts
    )?;
    let l = &s.latency;
    let latency = match (l.p50_s, l.p90_s, l.p99_s, l.max_s) {
        (Some(p50), Some(p90), Some(p99), Some(max)) => format!(
            "p50 {}  p90 {}  p99 {}  max {}",
            human(p50),
            human(p90),
            human(p99),
            human(max)
        ),
        _ => "no deliveries".to_string(),
    };
    writeln!(
        text,
        "  latency (delivered): {latency}; files in {}",
        args.out.display()
    )?;
    if let Some(page) = page {
        writeln!(text, "  report: {}", page.display())?;
    }
    Ok(ExitCode::SUCCESS)
}
