//! [`HdrLog`]: the latency of delivered recipients as an HdrHistogram interval log, one
//! histogram per sample interval, for the usual HdrHistogram tools (HistogramLogAnalyzer,
//! hdr-plot, HdrHistogram's own log processor).
//!
//! The log's `StartTime` and `BaseTime` are the scenario's start; each interval's timestamp is
//! the simulated time of its start in seconds; values are microseconds (`MaxValueDivisor`
//! 1000000 makes the interval maxima read in seconds). Each interval holds the recipients
//! delivered during it, tagged `latency`.

use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use hdrhistogram::Histogram;
use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer, V2Serializer};
use smtpsim_des::SimTime;
use smtpsim_model::scenario::StartTime;
use smtpsim_model::sim::{RecipientRecord, Recorder, Sample};

use crate::ReportError;
use crate::files::write_files;
use crate::stats::{merge_histogram, new_histogram};

/// Collects delivered latencies per sample interval; a [`Recorder`] (it uses recipient
/// records and samples). Each finished interval is kept in V2 form (a few bytes per non-empty
/// bucket), so memory grows with the number of intervals, not of recipients.
#[derive(Debug)]
pub struct HdrLog {
    path: PathBuf,
    start: StartTime,
    current: Histogram<u64>,
    since: SimTime,
    /// Finished intervals: start, length, V2 encoding.
    intervals: Vec<(SimTime, SimTime, Vec<u8>)>,
    error: Option<String>,
}

impl HdrLog {
    /// A log to be written to `path` by [`HdrLog::finish`].
    pub fn new(path: &Path, start: StartTime) -> HdrLog {
        HdrLog {
            path: path.to_owned(),
            start,
            current: new_histogram(),
            since: SimTime::ZERO,
            intervals: Vec::new(),
            error: None,
        }
    }

    fn close_interval(&mut self, at: SimTime) {
        if at <= self.since && self.current.is_empty() {
            return;
        }
        let mut bytes = Vec::new();
        if let Err(e) = V2Serializer::new().serialize(&self.current, &mut bytes) {
            self.error.get_or_insert(format!("cannot serialize: {e}"));
        }
        self.intervals.push((self.since, at, bytes));
        self.current.reset();
        self.since = at;
    }

    /// Ends the last interval at `end` (the end of the run) and writes the file, whole.
    pub fn finish(mut self, end: SimTime) -> Result<(), ReportError> {
        if !self.current.is_empty() || self.intervals.is_empty() {
            self.close_interval(end.max(self.since));
        }
        if let Some(e) = self.error {
            return Err(ReportError::Histogram(e));
        }
        let epoch = UNIX_EPOCH + Duration::from_secs(self.start.unix_seconds().max(0) as u64);
        let mut text = Vec::new();
        let mut serializer = V2DeflateSerializer::new();
        let io = |e: std::io::Error| ReportError::Io {
            path: self.path.clone(),
            source: e,
        };
        let mut writer = IntervalLogWriterBuilder::new()
            .add_comment("Latency of delivered recipients, microseconds, written by smtpsim")
            .with_start_time(epoch)
            .with_base_time(epoch)
            .with_max_value_divisor(1e6)
            .begin_log_with(&mut text, &mut serializer)
            .map_err(io)?;
        let tag = Tag::new("latency");
        let mut histogram = new_histogram();
        for (from, to, bytes) in &self.intervals {
            let decoded: Histogram<u64> = Deserializer::new()
                .deserialize(&mut bytes.as_slice())
                .map_err(|e| ReportError::Histogram(format!("cannot deserialize: {e:?}")))?;
            histogram.reset();
            merge_histogram(&mut histogram, &decoded);
            writer
                .write_histogram(
                    &histogram,
                    Duration::from_micros(from.as_micros()),
                    Duration::from_micros((*to - *from).as_micros()),
                    tag,
                )
                .map_err(|e| ReportError::Histogram(format!("cannot write the log: {e}")))?;
        }
        drop(writer);
        let dir = match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        write_files(dir, &[(&name, &text)])
    }
}

impl Recorder for HdrLog {
    fn recipient(&mut self, record: &RecipientRecord<'_>) {
        if record.fate.delivered() {
            let micros = record.latency().as_micros();
            if self.current.record(micros).is_err() {
                self.current.saturating_record(micros);
            }
        }
    }

    fn sample(&mut self, sample: &Sample) {
        if sample.time > self.since {
            self.close_interval(sample.time);
        }
    }
}
