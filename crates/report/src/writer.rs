//! [`RunWriter`]: streams a run's records into CSV files and writes its summary at the end.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use smtpsim_des::SimTime;
use smtpsim_model::scenario::Action;
use smtpsim_model::sim::{
    AutomationEvent, AutomationRecord, RecipientRecord, Recorder, RunStats, Sample, TraceRecord,
};

use crate::ReportError;
use crate::csv_row::Row;
use crate::provenance::Provenance;
use crate::staged::{self, Staged};
use crate::stats::Stats;
use crate::summary::{Performance, Summary};

/// A row per message and recipient.
pub const MESSAGES_CSV: &str = "messages.csv";
/// The trace lines of traced messages.
pub const EVENTS_CSV: &str = "events.csv";
/// What the relay's automation rules did, a row per event.
pub const AUTOMATION_CSV: &str = "automation.csv";
/// The relay's state at a fixed simulated interval.
pub const TIMESERIES_CSV: &str = "timeseries.csv";
/// The summary as `section,key,value` rows, without wall-clock figures.
pub const SUMMARY_CSV: &str = "summary.csv";
/// The summary with histogram encodings and wall-clock figures.
pub const SUMMARY_JSON: &str = "summary.json";

/// Header of `messages.csv`.
pub const MESSAGES_HEADER: [&str; 14] = [
    "message_id",
    "recipient",
    "domain",
    "submitted_s",
    "first_attempt_s",
    "final_s",
    "outcome",
    "attempts",
    "latency_s",
    "last_reply_code",
    "last_enhanced_code",
    "reasons",
    "sender",
    "queue_wait_s",
];

/// Header of `events.csv`.
pub const EVENTS_HEADER: [&str; 6] = ["time_s", "message_id", "attempt", "hop", "kind", "text"];

/// Header of `automation.csv`: when, the rule, its target, the event (see
/// [`automation_event`]), when the action it starts ends (empty for an event that starts
/// none) and the deliveries a suspension released (empty for other events).
pub const AUTOMATION_HEADER: [&str; 7] = [
    "time_s",
    "rule",
    "target_kind",
    "target",
    "event",
    "until_s",
    "deliveries",
];

/// The name of an automation event in `automation.csv`, what it ends or starts, and the
/// deliveries it released: `suspend`, `bounce`, `expire` or `shape` (a rule fired; its
/// action lasts until the time given), `released` (a suspension ended), `ended` (a bounce,
/// expire or shape action ended), `ramp_step` (a step of a shape action's ramp; the last one
/// restores the configured shaping).
pub fn automation_event(event: &AutomationEvent) -> (&'static str, Option<SimTime>, Option<u64>) {
    match *event {
        AutomationEvent::Fired { action, until } => {
            let name = match action {
                Action::Suspend => "suspend",
                Action::Bounce => "bounce",
                Action::Expire => "expire",
                Action::Shape => "shape",
            };
            (name, Some(until), None)
        }
        AutomationEvent::Released { deliveries, .. } => ("released", None, Some(deliveries)),
        AutomationEvent::Ended => ("ended", None, None),
        AutomationEvent::RampStep { .. } => ("ramp_step", None, None),
    }
}

/// Header of `timeseries.csv`.
pub const TIMESERIES_HEADER: [&str; 7] = [
    "time_s",
    "active",
    "deferred",
    "connections",
    "delivered",
    "deferrals",
    "bounced",
];

/// What a [`RunWriter`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WriterOptions {
    /// Write trace lines to `events.csv`. Without it `events.csv` holds only its header and
    /// trace records are ignored.
    pub trace: bool,
    /// Leave out `messages.csv` (a row per recipient, the largest file by far): the
    /// summaries, the time series and the charts are the same without it. A `messages.csv`
    /// of an earlier run in the folder is removed, so that it cannot pass for this run's.
    pub no_messages: bool,
}

/// A CSV file being written to its temporary name.
#[derive(Debug)]
struct CsvFile {
    // Declared before `staged` so that the file is closed before its temporary is removed.
    out: BufWriter<File>,
    /// The row being built, reused from row to row.
    line: Vec<u8>,
    staged: Staged,
}

impl CsvFile {
    fn create(dir: &Path, name: &str, header: &[&str]) -> io::Result<CsvFile> {
        let (staged, file) = Staged::create(dir, name)?;
        let mut file = CsvFile {
            out: BufWriter::with_capacity(1 << 16, file),
            line: Vec::with_capacity(256),
            staged,
        };
        file.write(|row| header.iter().for_each(|name| row.text(name)))?;
        Ok(file)
    }

    /// Writes one row made by `fill`.
    fn write(&mut self, fill: impl FnOnce(&mut Row<'_>)) -> io::Result<()> {
        let mut row = Row::new(&mut self.line);
        fill(&mut row);
        row.end(&mut self.out)
    }

    /// Flushes and closes the file; it still has its temporary name.
    fn close(self) -> io::Result<Staged> {
        let file = self.out.into_inner().map_err(|e| e.into_error())?;
        staged::close(file)?;
        Ok(self.staged)
    }
}

/// Streams a run into a directory: `messages.csv`, `events.csv`, `automation.csv` and
/// `timeseries.csv` as
/// records arrive, then `summary.csv` and `summary.json` in [`RunWriter::finish`].
///
/// Every file is written under a temporary name in the same directory and renamed into
/// place by `finish` once all of them are complete, so each file is whole or absent.
/// Dropping the writer without calling `finish` (a failed or cancelled run) removes the
/// temporary files and leaves the directory as it was.
///
/// Rows go straight to buffered files and aggregates to a [`Stats`], so memory does not grow
/// with the number of recipients. The [`Recorder`] methods cannot return errors: the first
/// write error is kept, later records are only counted, and `finish` returns the error.
#[derive(Debug)]
pub struct RunWriter {
    dir: PathBuf,
    options: WriterOptions,
    messages: Option<CsvFile>,
    events: CsvFile,
    automation: CsvFile,
    timeseries: CsvFile,
    stats: Stats,
    error: Option<(&'static str, io::Error)>,
    provenance: Option<Provenance>,
    retry_times_s: Vec<f64>,
}

impl RunWriter {
    /// Creates `dir` if needed and opens the temporary files, headers written. Temporary
    /// files that stopped runs left in `dir` are removed first.
    pub fn create(dir: &Path, options: WriterOptions) -> io::Result<RunWriter> {
        RunWriter::create_with_columns(dir, options, &[])
    }

    /// [`RunWriter::create`] with `extra` columns after [`MESSAGES_HEADER`] in
    /// `messages.csv`, filled by [`RunWriter::recipient_with`] (`smtpsim maillog` adds the
    /// queue ID and the relay).
    pub fn create_with_columns(
        dir: &Path,
        options: WriterOptions,
        extra: &[&str],
    ) -> io::Result<RunWriter> {
        let header: Vec<&str> = MESSAGES_HEADER.iter().chain(extra).copied().collect();
        fs::create_dir_all(dir)?;
        staged::remove_stale(dir)?;
        Ok(RunWriter {
            dir: dir.to_owned(),
            options,
            messages: if options.no_messages {
                None
            } else {
                Some(CsvFile::create(dir, MESSAGES_CSV, &header)?)
            },
            events: CsvFile::create(dir, EVENTS_CSV, &EVENTS_HEADER)?,
            automation: CsvFile::create(dir, AUTOMATION_CSV, &AUTOMATION_HEADER)?,
            timeseries: CsvFile::create(dir, TIMESERIES_CSV, &TIMESERIES_HEADER)?,
            stats: Stats::new(),
            error: None,
            provenance: None,
            retry_times_s: Vec::new(),
        })
    }

    /// Records where the run came from in its summary files.
    pub fn set_provenance(&mut self, provenance: Provenance) {
        self.provenance = Some(provenance);
    }

    /// The output directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Records the relay's retry times for [`Summary::retry_times_s`] (seconds after a first
    /// failure), which the latency chart marks.
    pub fn set_retry_times(&mut self, seconds: Vec<f64>) {
        self.retry_times_s = seconds;
    }

    /// What has been aggregated so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Completes the files, writes the summary and renames everything into place, the
    /// summary files last (`summary.json` is the last file to appear). `wall` is the
    /// wall-clock time of the run, for [`Summary::performance`].
    ///
    /// On error no temporary file remains; files renamed before the error stay (whole).
    pub fn finish(self, run: &RunStats, wall: Duration) -> Result<Summary, ReportError> {
        let RunWriter {
            dir,
            messages,
            events,
            automation,
            timeseries,
            stats,
            error,
            provenance,
            retry_times_s,
            ..
        } = self;
        let io_error = |name: &str| {
            let path = dir.join(name);
            move |source| ReportError::Io { path, source }
        };
        if let Some((name, source)) = error {
            return Err(io_error(name)(source));
        }
        let mut summary = stats.summary(run)?;
        summary.retry_times_s = retry_times_s;
        summary.performance = Some(Performance::new(run.events, wall));
        summary.provenance = provenance;

        let mut ready = Vec::with_capacity(5);
        match messages {
            Some(messages) => ready.push(messages.close().map_err(io_error(MESSAGES_CSV))?),
            None => match fs::remove_file(dir.join(MESSAGES_CSV)) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_error(MESSAGES_CSV)(e)),
            },
        }
        ready.push(events.close().map_err(io_error(EVENTS_CSV))?);
        ready.push(automation.close().map_err(io_error(AUTOMATION_CSV))?);
        ready.push(timeseries.close().map_err(io_error(TIMESERIES_CSV))?);
        ready.push(
            write_whole(&dir, SUMMARY_CSV, |out| Ok(summary.write_csv(out)?))
                .map_err(io_error(SUMMARY_CSV))?,
        );
        let json = summary.to_json()?;
        ready.push(
            write_whole(&dir, SUMMARY_JSON, |out| out.write_all(json.as_bytes()))
                .map_err(io_error(SUMMARY_JSON))?,
        );
        for staged in ready {
            let path = staged.dest().to_owned();
            staged
                .commit()
                .map_err(|source| ReportError::Io { path, source })?;
        }
        Ok(summary)
    }

    fn keep(&mut self, name: &'static str, result: io::Result<()>) {
        if let Err(e) = result {
            self.error.get_or_insert((name, e));
        }
    }
}

/// Writes a file under its temporary name and closes it.
fn write_whole(
    dir: &Path,
    name: &str,
    write: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
) -> io::Result<Staged> {
    let (staged, file) = Staged::create(dir, name)?;
    let mut out = BufWriter::new(file);
    write(&mut out)?;
    staged::close(out.into_inner().map_err(|e| e.into_error())?)?;
    Ok(staged)
}

fn write_recipient(f: &mut Row<'_>, r: &RecipientRecord<'_>) {
    f.number(r.message_id);
    f.text(r.recipient);
    f.text(r.domain);
    f.secs(r.submitted.as_micros());
    match r.first_attempt {
        Some(t) => f.secs(t.as_micros()),
        None => f.empty(),
    }
    f.secs(r.finished.as_micros());
    f.text(r.fate.name());
    f.number(u64::from(r.attempts));
    f.secs(r.latency().as_micros());
    match r.last_reply {
        Some(reply) => {
            f.number(u64::from(reply.code.get()));
            match reply.enhanced {
                Some(enhanced) => enhanced.write_to(f.unquoted()),
                None => f.empty(),
            }
        }
        None => {
            f.empty();
            f.empty();
        }
    }
    f.text(r.reasons);
    f.text(r.sender);
    f.secs(r.queue_wait.as_micros());
}

impl RunWriter {
    /// Records a recipient as [`Recorder::recipient`] does, with the values of the extra
    /// columns given to [`RunWriter::create_with_columns`] (as many, in order).
    pub fn recipient_with(&mut self, record: &RecipientRecord<'_>, extra: &[&str]) {
        self.stats.record(record);
        if self.error.is_some() {
            return;
        }
        let Some(messages) = &mut self.messages else {
            return;
        };
        let result = messages.write(|f| {
            write_recipient(f, record);
            extra.iter().for_each(|value| f.text(value));
        });
        self.keep(MESSAGES_CSV, result);
    }
}

impl Recorder for RunWriter {
    fn recipient(&mut self, record: &RecipientRecord<'_>) {
        self.recipient_with(record, &[]);
    }

    fn sources(&mut self, records: &[smtpsim_model::sim::SourceRecord]) {
        self.stats.record_sources(records);
    }

    fn trace(&mut self, record: &TraceRecord<'_>) {
        if !self.options.trace || self.error.is_some() {
            return;
        }
        let result = self.events.write(|f| {
            f.secs(record.time.as_micros());
            f.number(record.message_id);
            f.number(u64::from(record.attempt));
            f.text(record.hop.name());
            f.text(record.line.kind().name());
            f.display(record.line);
        });
        self.keep(EVENTS_CSV, result);
    }

    fn automation(&mut self, record: &AutomationRecord<'_>) {
        self.stats.automation(record);
        if self.error.is_some() {
            return;
        }
        // The relay's own rows, whatever messages are traced: no message, no attempt.
        let result = self.events.write(|f| {
            f.secs(record.time.as_micros());
            f.empty();
            f.empty();
            f.text("relay");
            f.text("automation");
            f.display(record);
        });
        self.keep(EVENTS_CSV, result);
        let (event, until, deliveries) = automation_event(&record.event);
        let result = self.automation.write(|f| {
            f.secs(record.time.as_micros());
            f.text(record.rule);
            f.text(record.target_kind);
            f.text(record.target);
            f.text(event);
            match until {
                Some(until) => f.secs(until.as_micros()),
                None => f.empty(),
            }
            match deliveries {
                Some(n) => f.number(n),
                None => f.empty(),
            }
        });
        self.keep(AUTOMATION_CSV, result);
    }

    fn sample(&mut self, sample: &Sample) {
        if self.error.is_some() {
            return;
        }
        let result = self.timeseries.write(|f| {
            f.secs(sample.time.as_micros());
            for n in [
                sample.active,
                sample.deferred,
                sample.connections,
                sample.delivered,
                sample.deferrals,
                sample.bounced,
            ] {
                f.number(n);
            }
        });
        self.keep(TIMESERIES_CSV, result);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smtpsim_des::SimTime;

    #[test]
    fn seconds_match_the_kernel_format() {
        let dir = std::env::temp_dir().join(format!("smtpsim-report-secs-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let mut file = CsvFile::create(&dir, "secs.csv", &["s"]).unwrap();
        let values = [0, 1, 999_999, 1_000_000, 12_345_678, u64::MAX];
        for micros in values {
            file.write(|f| f.secs(micros)).unwrap();
        }
        file.close().unwrap().commit().unwrap();
        let text = fs::read_to_string(dir.join("secs.csv")).unwrap();
        let expected: Vec<String> = std::iter::once("s".to_owned())
            .chain(values.map(|us| SimTime::from_micros(us).fmt_secs()))
            .collect();
        assert_eq!(text.lines().collect::<Vec<_>>(), expected);
        fs::remove_dir_all(&dir).unwrap();
    }
}
