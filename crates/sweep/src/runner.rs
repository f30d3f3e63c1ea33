//! [`Runner`]: how a sweep's runs are carried out: on how many threads, with which cancel
//! flag, writing each run's files or not, reporting progress.

use std::path::PathBuf;
use std::time::Instant;

use rayon::prelude::*;
use smtpsim_model::sim::{
    self, Cancel, ExchangeMode, Options, RecipientRecord, Recorder, Sample, TraceMode, TraceRecord,
};
use smtpsim_report::sweep::RunResult;
use smtpsim_report::{ReportError, RunWriter, Stats, WriterOptions};

use crate::{Sweep, SweepRunError};

/// Each run's own files (`messages.csv`, `events.csv`, `timeseries.csv` and summaries), in
/// `runs/p<point>-r<replication>/` of `dir`.
#[derive(Debug, Clone)]
pub struct RunFiles {
    /// The sweep's output folder.
    pub dir: PathBuf,
    /// Which messages keep a line-by-line trace.
    pub trace: TraceMode,
}

/// Carries out runs: on a number of threads (one per core by default, never more than runs),
/// stopping when its [`Cancel`] flag is set.
#[derive(Default)]
pub struct Runner {
    jobs: Option<usize>,
    cancel: Cancel,
    run_files: Option<RunFiles>,
    progress: Option<Box<dyn Fn() + Sync>>,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("jobs", &self.jobs)
            .field("run_files", &self.run_files)
            .finish_non_exhaustive()
    }
}

impl Runner {
    /// One thread per core, no run files, never cancelled.
    pub fn new() -> Runner {
        Runner::default()
    }

    /// Runs at once.
    pub fn jobs(mut self, jobs: usize) -> Runner {
        self.jobs = Some(jobs.max(1));
        self
    }

    /// Stops the runs once `cancel` is set; [`Sweep::run`] then returns
    /// [`SweepRunError::Cancelled`].
    pub fn cancel(mut self, cancel: Cancel) -> Runner {
        self.cancel = cancel;
        self
    }

    /// Also writes each run's files.
    pub fn run_files(mut self, files: RunFiles) -> Runner {
        self.run_files = Some(files);
        self
    }

    /// Called (from any worker thread) each time a run is done.
    pub fn on_run_done(mut self, progress: impl Fn() + Sync + 'static) -> Runner {
        self.progress = Some(Box::new(progress));
        self
    }

    /// The number of threads for `runs` runs.
    pub fn threads(&self, runs: usize) -> usize {
        self.jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .min(runs)
            .max(1)
    }

    /// Runs the (point, replication) runs of `sweep`, in parallel; the results in the order
    /// given.
    pub(crate) fn run_all(
        &self,
        sweep: &Sweep,
        ks: &[(usize, u32)],
    ) -> Result<Vec<RunResult>, SweepRunError> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(self.threads(ks.len()))
            .build()
            .map_err(|e| SweepRunError::Threads(e.to_string()))?;
        pool.install(|| {
            // One run a piece: runs last from milliseconds to minutes, and a thread that is
            // done must be able to take any run another has not started yet.
            ks.par_iter()
                .with_max_len(1)
                .map(|&(point, replication)| {
                    let result = self.run_one(sweep, point, replication);
                    if let Some(progress) = &self.progress {
                        progress();
                    }
                    result
                })
                .collect()
        })
    }

    /// Replication `replication` of `point` of `sweep`.
    fn run_one(
        &self,
        sweep: &Sweep,
        point: usize,
        replication: u32,
    ) -> Result<RunResult, SweepRunError> {
        let definition = &sweep.definition;
        let scenario = &sweep.scenarios[point];
        let seed = definition.seed_of(scenario.simulation.seed, point, replication);
        let options = Options {
            seed: Some(seed),
            messages: sweep.messages,
            duration: sweep.duration,
            trace: self.run_files.as_ref().map_or(TraceMode::None, |f| f.trace),
            exchange: ExchangeMode::Auto,
            cancel: self.cancel.clone(),
            stall_limit: None,
            sample_limit: None,
        };
        let sink = match &self.run_files {
            Some(files) => {
                let dir = files
                    .dir
                    .join("runs")
                    .join(format!("p{point:04}-r{replication:04}"));
                let writer = RunWriter::create(
                    &dir,
                    WriterOptions {
                        trace: options.trace != TraceMode::None,
                        no_messages: false,
                    },
                )
                .map_err(|source| ReportError::Io { path: dir, source })?;
                Sink::Files(Box::new(writer))
            }
            None => Sink::Stats(Box::default()),
        };
        let mut recorder = SweepRecorder { sink };
        let started = Instant::now();
        let stats = sim::run(scenario, &options, &mut recorder)?;
        if self.cancel.is_cancelled() {
            return Err(SweepRunError::Cancelled);
        }
        let result = match recorder.sink {
            Sink::Stats(aggregates) => {
                RunResult::new(point, replication, seed, &aggregates, &stats)?
            }
            Sink::Files(writer) => {
                let result = RunResult::new(point, replication, seed, writer.stats(), &stats)?;
                writer.finish(&stats, started.elapsed())?;
                result
            }
        };
        Ok(result)
    }
}

/// A run's aggregates, with or without its files.
enum Sink {
    Stats(Box<Stats>),
    Files(Box<RunWriter>),
}

/// What a sweep run records: aggregates, and files if asked.
struct SweepRecorder {
    sink: Sink,
}

impl Recorder for SweepRecorder {
    fn recipient(&mut self, record: &RecipientRecord<'_>) {
        match &mut self.sink {
            Sink::Stats(stats) => stats.record(record),
            Sink::Files(writer) => writer.recipient(record),
        }
    }

    fn trace(&mut self, record: &TraceRecord<'_>) {
        if let Sink::Files(writer) = &mut self.sink {
            writer.trace(record);
        }
    }

    fn automation(&mut self, record: &smtpsim_model::sim::AutomationRecord<'_>) {
        match &mut self.sink {
            Sink::Stats(stats) => stats.automation(record),
            Sink::Files(writer) => writer.automation(record),
        }
    }

    fn sources(&mut self, records: &[smtpsim_model::sim::SourceRecord]) {
        match &mut self.sink {
            Sink::Stats(stats) => stats.record_sources(records),
            Sink::Files(writer) => writer.sources(records),
        }
    }

    fn sample(&mut self, sample: &Sample) {
        if let Sink::Files(writer) = &mut self.sink {
            writer.sample(sample);
        }
    }
}
