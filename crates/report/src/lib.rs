//! # smtpsim-report: the output of a run
//!
//! [`RunWriter`] is the [`Recorder`](smtpsim_model::sim::Recorder) that `smtpsim run` hands
//! to the simulation. It streams rows into CSV files as they come and keeps only counters and
//! histograms, so memory does not grow with the number of messages. [`RunWriter::finish`]
//! writes the summary and renames every file into place.
//!
//! | file | content |
//! | --- | --- |
//! | `messages.csv` | a row per message and recipient ([`MESSAGES_HEADER`]) |
//! | `events.csv` | trace lines of traced messages ([`EVENTS_HEADER`]); only the header when tracing is off |
//! | `automation.csv` | what the relay's automation rules did, a row per event ([`AUTOMATION_HEADER`]); only the header when no rule fired |
//! | `timeseries.csv` | the relay's state at each sample ([`TIMESERIES_HEADER`]) |
//! | `summary.csv` | `section,key,value` rows ([`Summary::csv_rows`]) |
//! | `summary.json` | the [`Summary`], with histogram encodings and wall-clock figures |
//!
//! Times are seconds of simulated time with six decimals (`12.345678`); rates are fractions
//! with six decimals in CSV.
//!
//! Beyond one run: [`sweep`] holds the files of `smtpsim sweep` and their exact merging across
//! shards; [`MailLog`] writes a run as a Postfix mail log, [`HdrLog`] as an HdrHistogram
//! interval log; [`page`] draws SVG charts and a self-contained `report.html`.
//!
//! ## Whole files, reproducible files
//!
//! Each file is written under a temporary name in the output directory and renamed when the
//! run finishes, so a file is either whole or absent; a writer dropped without
//! [`RunWriter::finish`] removes its temporary files.
//!
//! The same inputs give byte-identical `messages.csv`, `events.csv`, `timeseries.csv` and
//! `summary.csv`. Wall time and events per second are the only values that vary between
//! runs; they appear only in `summary.json`, under `"performance"`.
//!
//! ## Histograms
//!
//! Latencies are kept in [HdrHistogram](hdrhistogram)s of microseconds with three
//! significant digits. `summary.json` carries each one in the V2 serialization, base64
//! ([`encode_histogram`], [`decode_histogram`]), so summaries of separate runs can be merged
//! exactly. [`Stats`] does the same aggregation in memory, without files.
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//! use smtpsim_des::{SimDuration, SimTime};
//! use smtpsim_model::sim::{Fate, RecipientRecord, Recorder, RunStats};
//! use smtpsim_report::{RunWriter, WriterOptions};
//!
//! let dir = std::env::temp_dir().join(format!("smtpsim-report-doc-{}", std::process::id()));
//! let mut writer = RunWriter::create(&dir, WriterOptions::default())?;
//! // Normally `smtpsim_model::sim::run(&scenario, &options, &mut writer)` sends the records.
//! writer.recipient(&RecipientRecord {
//!     message_id: 1,
//!     sender: "newsletter",
//!     recipient: "ann@example.com",
//!     domain: "example.com",
//!     submitted: SimTime::from_secs(1),
//!     first_attempt: Some(SimTime::from_millis(1_200)),
//!     finished: SimTime::from_millis(3_500),
//!     fate: Fate::Inbox,
//!     attempts: 1,
//!     queue_wait: SimDuration::ZERO,
//!     last_reply: None,
//!     reasons: "",
//! });
//! let run = RunStats { messages: 1, recipients: 1, attempts: 1, events: 12, end: SimTime::from_secs(4), ..RunStats::default() };
//! let summary = writer.finish(&run, Duration::from_millis(3))?;
//!
//! assert_eq!(summary.outcomes.inbox, 1);
//! // HdrHistogram percentiles are within 0.1% of the exact value.
//! assert!((summary.latency.p50_s.unwrap() - 2.5).abs() < 0.0025);
//! let messages = std::fs::read_to_string(dir.join("messages.csv"))?;
//! assert!(messages.lines().nth(1).unwrap().starts_with("1,ann@example.com,example.com,1.000000,1.200000,3.500000,inbox,1,2.500000,"));
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]

use std::io;
use std::path::PathBuf;

mod bucket_counts;
pub mod compare;
mod csv_row;
mod domains;
mod files;
pub mod fit;
mod hdrlog;
pub mod import;
pub mod journey;
mod maillog;
pub mod page;
mod provenance;
mod staged;
mod stats;
mod summary;
pub mod sweep;
mod writer;

pub use domains::{ByDomain, DomainFigures, DomainStats};
pub use files::write_files;
pub use hdrlog::HdrLog;
pub use maillog::{MailLog, queue_id};
pub use provenance::{Provenance, START_TIME_ENV, sha256_hex, start_time};
pub use staged::write_whole;
pub use stats::{
    Exact, FailureReason, RuleCounts, SIGNIFICANT_DIGITS, Stats, merge_histogram, new_histogram,
};
pub use summary::{
    Distribution, Failures, Outcomes, Performance, Rates, RunTotals, SUMMARY_HEADER, SourceSummary,
    Summary, decode_histogram, encode_histogram,
};
pub use writer::{
    AUTOMATION_CSV, AUTOMATION_HEADER, EVENTS_CSV, EVENTS_HEADER, MESSAGES_CSV, MESSAGES_HEADER,
    RunWriter, SUMMARY_CSV, SUMMARY_JSON, TIMESERIES_CSV, TIMESERIES_HEADER, WriterOptions,
    automation_event,
};

/// Why the output of a run could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Writing, flushing or renaming a file failed.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The file (its final name).
        path: PathBuf,
        /// What went wrong.
        source: io::Error,
    },
    /// A histogram could not be encoded or decoded.
    #[error("histogram: {0}")]
    Histogram(String),
    /// The summary could not be turned into JSON.
    #[error("cannot serialize the summary: {0}")]
    Json(#[source] serde_json::Error),
}
