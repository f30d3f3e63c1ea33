//! `smtpsim compare DIR_A DIR_B --out DIR`: two outputs side by side, with the tests that say
//! whether they differ beyond chance.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use smtpsim_report::compare::{self, COMPARE_HEADER, Side};

/// Options of `smtpsim compare`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The first output folder (of run, maillog or compare's inputs: summary.json and
    /// timeseries.csv).
    a: PathBuf,
    /// The second output folder.
    b: PathBuf,
    /// Where compare.csv, compare.json, the charts and report.html go.
    #[arg(long)]
    out: PathBuf,
    /// Exit with status 1 when the two disagree: a KS or chi-square p below --alpha, or an
    /// outcome rate different with p below --alpha.
    #[arg(long)]
    check: bool,
    /// The significance level of the tests (above 0, below 1).
    #[arg(long, default_value_t = compare::ALPHA, value_parser = parse_alpha)]
    alpha: f64,
    /// Do not write the charts and report.html.
    #[arg(long)]
    no_report: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let load = |dir: &PathBuf| {
        Side::load(dir).with_context(|| format!("cannot read the output in {}", dir.display()))
    };
    let (a, b) = (load(&args.a)?, load(&args.b)?);
    let comparison = compare::compare_sides_at(&a, &b, args.alpha);
    compare::write(&comparison, &a, &b, &args.out, args.no_report)
        .with_context(|| format!("cannot write to {}", args.out.display()))?;
    if !args.quiet {
        print(&comparison)?;
    }
    Ok(if args.check && !comparison.agree {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn parse_alpha(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(alpha) if alpha > 0.0 && alpha < 1.0 => Ok(alpha),
        _ => Err(format!(
            "a significance level must be above 0 and below 1, not {s}"
        )),
    }
}

/// The table in aligned columns, then the verdict.
fn print(c: &compare::Comparison) -> std::io::Result<()> {
    let mut rows = vec![COMPARE_HEADER.map(String::from).to_vec()];
    rows.extend(c.rows.iter().map(|r| r.cells()));
    let widths: Vec<usize> = (0..COMPARE_HEADER.len())
        .map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0))
        .collect();
    let mut out = std::io::stdout().lock();
    writeln!(out, "A: {}\nB: {}", c.a.display(), c.b.display())?;
    for row in &rows {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (cell, w))| {
                if i == 0 {
                    format!("{cell:<w$}")
                } else {
                    format!("{cell:>w$}")
                }
            })
            .collect();
        writeln!(out, "{}", line.join("  ").trim_end())?;
    }
    if c.agree {
        writeln!(out, "agree: no test has p < {}", c.alpha)?;
    } else {
        writeln!(out, "disagree: {}", c.disagreements.join(", "))?;
    }
    Ok(())
}
