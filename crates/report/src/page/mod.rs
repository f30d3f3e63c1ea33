//! Pictures of a run or a sweep: SVG charts in `charts/` and one self-contained
//! `report.html` (the charts inline, no external file, no network) in the output folder.
//!
//! - A run's folder (`summary.json`, `timeseries.csv`): the latency CCDF, deliveries over time,
//!   queue depth over time, the attempts histogram, outcomes and failure reasons.
//! - A sweep's folder (`sweep.json`): each metric against each swept field, the mean of the
//!   replications with its 95% confidence interval, one series per combination of the other
//!   fields.

mod automation;
mod charts;
mod compare;
mod facts;
mod html;
mod latency;
mod run;
mod sweep;

use std::path::{Path, PathBuf};

use crate::ReportError;
use crate::files::write_files;

pub use compare::write_compare_report;

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

/// A chart: its file name (without `.svg`), its SVG text, and whether it is one of a grid of
/// small multiples.
#[derive(Debug, Clone)]
pub(crate) struct Chart {
    name: String,
    svg: String,
    small: bool,
}

impl Chart {
    /// A chart of full size.
    fn new(name: impl Into<String>, svg: String) -> Chart {
        Chart {
            name: name.into(),
            svg,
            small: false,
        }
    }

    /// One of a grid of small multiples.
    fn small(name: impl Into<String>, svg: String) -> Chart {
        Chart {
            small: true,
            ..Chart::new(name, svg)
        }
    }
}

fn read(path: &Path) -> Result<String, PageError> {
    std::fs::read_to_string(path).map_err(|source| PageError::Read {
        path: path.to_owned(),
        source,
    })
}

/// The rows of a CSV file smtpsim wrote, each with its line number, once its header is
/// checked to be `header`.
fn read_csv(path: &Path, header: &[&str]) -> Result<Vec<(usize, csv::StringRecord)>, PageError> {
    let text = read(path)?;
    let bad = |message: String| PageError::Parse {
        path: path.to_owned(),
        message,
    };
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let found = reader.headers().map_err(|e| bad(e.to_string()))?;
    if found.iter().ne(header.iter().copied()) {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        return Err(bad(format!("not smtpsim's {name} header")));
    }
    reader
        .records()
        .enumerate()
        .map(|(i, row)| Ok((i + 2, row.map_err(|e| bad(e.to_string()))?)))
        .collect()
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

/// Removes the charts and `report.html` of an earlier output from `dir`, for an output
/// written without them: they would describe another run. Only `report.html` and the `.svg`
/// files of `charts/` are removed; `charts/` goes too once it is empty.
pub fn remove_report(dir: &Path) -> Result<(), ReportError> {
    let io = |path: PathBuf| move |source| ReportError::Io { path, source };
    let gone = |result: std::io::Result<()>| match result {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    };
    let page = dir.join(REPORT_HTML);
    gone(std::fs::remove_file(&page)).map_err(io(page))?;
    let charts = dir.join(CHARTS_DIR);
    let entries = match std::fs::read_dir(&charts) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io(charts)(e)),
    };
    for entry in entries {
        let path = entry.map_err(io(charts.clone()))?.path();
        if path.extension().is_some_and(|e| e == "svg") && path.is_file() {
            gone(std::fs::remove_file(&path)).map_err(io(path))?;
        }
    }
    crate::staged::remove_stale(&charts).map_err(io(charts.clone()))?;
    match std::fs::remove_dir(&charts) {
        Err(e) if e.kind() == std::io::ErrorKind::DirectoryNotEmpty => Ok(()),
        result => gone(result).map_err(io(charts)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remove_report_leaves_other_files() {
        let dir = std::env::temp_dir().join(format!("smtpsim-page-rm-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let charts = dir.join(CHARTS_DIR);
        std::fs::create_dir_all(&charts).unwrap();
        std::fs::write(dir.join(REPORT_HTML), "old").unwrap();
        std::fs::write(dir.join("summary.json"), "{}").unwrap();
        std::fs::write(charts.join("latency_ccdf.svg"), "<svg/>").unwrap();
        remove_report(&dir).unwrap();
        assert!(!dir.join(REPORT_HTML).exists());
        assert!(!charts.exists());
        assert!(dir.join("summary.json").exists());

        std::fs::create_dir_all(&charts).unwrap();
        std::fs::write(charts.join("a.svg"), "<svg/>").unwrap();
        std::fs::write(charts.join("notes.txt"), "mine").unwrap();
        remove_report(&dir).unwrap();
        assert!(!charts.join("a.svg").exists());
        assert!(charts.join("notes.txt").exists());
        remove_report(&dir.join("missing")).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
