//! `smtpsim report DIR`: SVG charts and a self-contained report.html for a run or a sweep.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use smtpsim_report::page::write_report;

/// Options of `smtpsim report`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The output folder of `smtpsim run`, `sweep` or `merge`.
    dir: PathBuf,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let page = make(&args.dir)?;
    if !args.quiet {
        writeln!(std::io::stdout(), "report in {}", page.display())?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes the report of the output in `dir`; returns the page's path.
pub fn make(dir: &Path) -> anyhow::Result<PathBuf> {
    write_report(dir).with_context(|| format!("cannot make the report of {}", dir.display()))
}
