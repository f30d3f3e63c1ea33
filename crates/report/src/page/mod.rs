//! Pictures of a run or a sweep: SVG charts in `charts/` and one self-contained
//! `report.html` (the charts inline, no external file, no network) in the output folder.
//!
//! - A run's folder (`summary.json`, `timeseries.csv`): the latency CDF, deliveries over time,
//!   queue depth over time, the attempts histogram, outcomes and failure reasons.
//! - A sweep's folder (`sweep.json`): each metric against each swept field, the mean of the
//!   replications with its 95% confidence interval, one series per combination of the other
//!   fields.

mod charts;
mod html;
mod run;
mod sweep;

use std::path::{Path, PathBuf};

use crate::ReportError;
use crate::files::write_files;

/// The page's file name.
pub const REPORT_HTML: &str = "report.html";
/// The folder of the SVG charts, inside the output folder.
pub const CHARTS_DIR: &str = "charts";

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// The folder holds neither a run's nor a sweep's output.
    #[error("{}: neither a run's output (summary.json) nor a sweep's (sweep.json)", .0.display())]
    NotAnOutput(PathBuf),
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// A file is not what smtpsim writes.
    #[error("{}: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A chart could not be drawn.
    #[error("cannot draw a chart: {0}")]
    Chart(String),
    /// The files could not be written.
    #[error(transparent)]
    Write(#[from] ReportError),
}

/// A chart: its file name (without `.svg`), title and SVG text.
#[derive(Debug, Clone)]
pub(crate) struct Chart {
    name: String,
    svg: String,
}

fn read(path: &Path) -> Result<String, PageError> {
    std::fs::read_to_string(path).map_err(|source| PageError::Read {
        path: path.to_owned(),
        source,
    })
}

fn parse_json(path: &Path) -> Result<serde_json::Value, PageError> {
    serde_json::from_str(&read(path)?).map_err(|e| PageError::Parse {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

/// Writes the charts and `report.html` of the run or sweep in `dir`; returns the page's path.
pub fn write_report(dir: &Path) -> Result<PathBuf, PageError> {
    let (charts, page) = if dir.join(crate::sweep::SWEEP_JSON).is_file() {
        sweep::report(dir)?
    } else if dir.join(crate::SUMMARY_JSON).is_file() {
        run::report(dir)?
    } else {
        return Err(PageError::NotAnOutput(dir.to_owned()));
    };
    let files: Vec<(String, &[u8])> = charts
        .iter()
        .map(|c| (format!("{}.svg", c.name), c.svg.as_bytes()))
        .collect();
    let files: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (n.as_str(), *b)).collect();
    write_files(&dir.join(CHARTS_DIR), &files)?;
    write_files(dir, &[(REPORT_HTML, page.as_bytes())])?;
    Ok(dir.join(REPORT_HTML))
}
