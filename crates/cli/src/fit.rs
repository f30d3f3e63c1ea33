//! `smtpsim fit FILE... --out scenario.toml`: a scenario fitted from Postfix mail logs.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use smtpsim_report::fit::{FitOptions, fit};

/// Options of `smtpsim fit`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Postfix log files, as `smtpsim maillog` reads them (syslog or maillog_file format,
    /// plain or gzip-compressed, rotated files oldest first).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// The scenario file to write (whole, or not at all).
    #[arg(long)]
    out: PathBuf,
    /// The scenario's name (default: the output file's name without its extension).
    #[arg(long)]
    name: Option<String>,
    /// The year of the first syslog timestamp (1..=9999); by default the year the first file
    /// was last modified.
    #[arg(long, value_parser = clap::value_parser!(i32).range(1..=9999))]
    year: Option<i32>,
    /// The most messages kept open in memory (1 to 100000000).
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    max_open: u64,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let name = args.name.clone().unwrap_or_else(|| {
        args.out
            .file_stem()
            .map_or("fitted".to_owned(), |s| s.to_string_lossy().into_owned())
    });
    let options = FitOptions {
        year: args.year,
        max_open: usize::try_from(args.max_open).unwrap_or(usize::MAX),
    };
    let fitted = fit(&args.files, &name, &options).context("cannot fit a scenario")?;
    smtpsim_report::write_whole(&args.out, fitted.toml.as_bytes())
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    if !args.quiet {
        let r = &fitted.retry;
        let secs = |v: &smtpsim_report::fit::Inferred| {
            v.secs.map_or("default".to_owned(), |s| format!("{s}s"))
        };
        println!(
            "fitted {} messages, {} domains; postfix retry {} / {} / {}; written to {}",
            fitted.messages,
            fitted.domains.len(),
            secs(&r.queue_run_delay),
            secs(&r.minimal_backoff),
            secs(&r.maximal_backoff),
            args.out.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
