//! `smtpsim merge DIR... --out DIR`: the outputs of the shards of a sweep, put back together.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use smtpsim_report::sweep::SweepOutput;

use crate::run::remove_report;
use crate::sweep::print_points;

/// Options of `smtpsim merge`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The output folders of the shards (each with its sweep.json).
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// Where to write the merged sweep.
    #[arg(long)]
    out: PathBuf,
    /// Do not write the charts and report.html; those of an earlier output in the folder are
    /// removed.
    #[arg(long)]
    no_report: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let parts = args
        .dirs
        .iter()
        .map(|dir| SweepOutput::read(dir))
        .collect::<Result<Vec<_>, _>>()?;
    let merged = SweepOutput::merge(parts)?;
    let points = merged
        .write(&args.out)
        .with_context(|| format!("cannot write the merged sweep to {}", args.out.display()))?;
    let page = if args.no_report {
        remove_report(&args.out)?;
        None
    } else {
        Some(crate::report::make(&args.out)?)
    };
    if !args.quiet {
        let mut text = std::io::stdout().lock();
        print_points(&mut text, &merged, &points)?;
        crate::sweep_print::print_comparisons(&mut text, &merged)?;
        if let Some(page) = &page {
            writeln!(text, "  report: {}", page.display())?;
        }
        writeln!(
            text,
            "  {} runs from {} outputs; results in {}",
            merged.runs.len(),
            args.dirs.len(),
            args.out.display()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
