//! `smtpsim run SCENARIO`: simulate, write the reports, print a short summary.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use smtpsim_des::SimDuration;
use smtpsim_model::retry::RetryPolicy;
use smtpsim_model::scenario::Scenario;
use smtpsim_model::sim::{
    self, AutomationRecord, ExchangeMode, Options, RecipientRecord, Recorder, Sample, StatusRecord,
    SubmissionRecord, TraceMode, TraceRecord,
};
use smtpsim_report::{HdrLog, MailLog, RunWriter, Summary, WriterOptions};

use crate::interrupt;

/// Options of `smtpsim run`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The scenario file (TOML).
    scenario: PathBuf,
    /// Master seed (replaces the scenario's).
    #[arg(long)]
    seed: Option<u64>,
    /// Number of messages (replaces the scenario's): arrivals stop after this many, or at the
    /// end of the arrival window, whichever comes first.
    #[arg(long)]
    messages: Option<u64>,
    /// Length of the arrival window, such as "6d" (replaces the scenario's duration).
    #[arg(long, value_parser = parse_duration)]
    duration: Option<SimDuration>,
    /// Output folder; `reports/<scenario name>/` if absent.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Which messages keep a line-by-line trace: none, sample:N (every Nth message),
    /// message:N (that one message) or all.
    #[arg(long, default_value = "none", value_parser = parse_trace)]
    trace: TraceMode,
    /// Carry out every attempt through the client and server sessions, traced or not (slower;
    /// results are the same).
    #[arg(long)]
    sessions: bool,
    /// Also write the run as a Postfix-style mail log (pflogsumm reads it), timestamped from
    /// the scenario's start.
    #[arg(long, value_name = "FILE")]
    maillog: Option<PathBuf>,
    /// Also write the latency of delivered recipients as an HdrHistogram interval log, one
    /// histogram per timeseries interval.
    #[arg(long, value_name = "FILE")]
    hdr_log: Option<PathBuf>,
    /// Leave out messages.csv (a row per recipient): the summaries, the time series and the
    /// charts stay exact. For large runs whose rows nobody will read.
    #[arg(long)]
    no_messages: bool,
    /// Do not write the charts and report.html; those of an earlier output in the folder are
    /// removed.
    #[arg(long)]
    no_report: bool,
    /// Without --out, replace an earlier output in `reports/<scenario name>/` instead of
    /// writing to the first free `reports/<scenario name>-2/`, `-3/`, ...
    #[arg(long)]
    force: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
}

pub(crate) fn parse_trace(s: &str) -> Result<TraceMode, String> {
    s.parse()
}

pub(crate) fn parse_duration(s: &str) -> Result<SimDuration, String> {
    s.parse::<SimDuration>().map_err(|e| e.to_string())
}

/// Shows simulated progress on stderr when it is a terminal.
/// Also feeds the mail log and the interval log when asked for.
struct Progress<'a> {
    inner: &'a mut RunWriter,
    maillog: Option<&'a mut MailLog>,
    hdr_log: Option<&'a mut HdrLog>,
    bar: Option<ProgressBar>,
}

impl Recorder for Progress<'_> {
    fn recipient(&mut self, record: &RecipientRecord<'_>) {
        self.inner.recipient(record);
        if let Some(log) = &mut self.maillog {
            log.recipient(record);
        }
        if let Some(log) = &mut self.hdr_log {
            log.recipient(record);
        }
    }

    fn trace(&mut self, record: &TraceRecord<'_>) {
        self.inner.trace(record);
    }

    fn automation(&mut self, record: &AutomationRecord<'_>) {
        self.inner.automation(record);
    }

    fn sources(&mut self, records: &[smtpsim_model::sim::SourceRecord]) {
        self.inner.sources(records);
    }

    fn wants_attempts(&self) -> bool {
        self.maillog.is_some()
    }

    fn submission(&mut self, record: &SubmissionRecord<'_>) {
        if let Some(log) = &mut self.maillog {
            log.submission(record);
        }
    }

    fn status(&mut self, record: &StatusRecord<'_>) {
        if let Some(log) = &mut self.maillog {
            log.status(record);
        }
    }

    fn sample(&mut self, sample: &Sample) {
        self.inner.sample(sample);
        if let Some(log) = &mut self.hdr_log {
            log.sample(sample);
        }
        if let Some(bar) = &self.bar {
            bar.set_position(sample.time.as_micros() / 1_000_000);
            bar.set_message(format!(
                "{} delivered, {} deferred",
                sample.delivered, sample.deferred
            ));
        }
    }
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let cancel = interrupt::on_signal()?;
    let scenario = Scenario::load(&args.scenario)?;
    let bytes = crate::provenance::read(&args.scenario)?;
    let provenance = crate::provenance::of(&args.scenario, &bytes, args.seed, Vec::new())?;
    let options = Options {
        seed: args.seed,
        messages: args.messages,
        duration: args.duration,
        trace: args.trace,
        exchange: if args.sessions {
            ExchangeMode::Sessions
        } else {
            ExchangeMode::Auto
        },
        cancel: cancel.clone(),
        stall_limit: None,
        sample_limit: None,
    };
    sim::check_with(&scenario, &options)?;
    let out = args.out.clone().unwrap_or_else(|| {
        crate::provenance::fresh_default(
            PathBuf::from("reports").join(smtpsim_sweep::sanitise(&scenario.simulation.name)),
            args.force,
        )
    });
    let mut writer = RunWriter::create(
        &out,
        WriterOptions {
            trace: args.trace != TraceMode::None,
            no_messages: args.no_messages,
        },
    )
    .with_context(|| format!("cannot write to {}", out.display()))?;
    writer.set_provenance(provenance);
    writer.set_retry_times(retry_times(&scenario));
    let bar = progress_bar(args, &scenario);
    let start = scenario.simulation.start;
    let mut maillog = match &args.maillog {
        Some(path) => Some(
            MailLog::create(path, start, &scenario.relay.hostname)
                .with_context(|| format!("cannot write to {}", path.display()))?,
        ),
        None => None,
    };
    let mut hdr_log = args.hdr_log.as_deref().map(|path| HdrLog::new(path, start));
    let started = Instant::now();
    let stats = {
        let mut recorder = Progress {
            inner: &mut writer,
            maillog: maillog.as_mut(),
            hdr_log: hdr_log.as_mut(),
            bar: bar.clone(),
        };
        sim::run(&scenario, &options, &mut recorder)?
    };
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    // Stopped: the writers are dropped on the way out, and their temporary files with them.
    interrupt::check(&cancel)?;
    if let Some(log) = maillog {
        log.finish()?;
    }
    if let Some(log) = hdr_log {
        log.finish(stats.end)?;
    }
    warn_if_untraced(args.trace, stats.messages);
    let wall = started.elapsed();
    let summary = writer.finish(&stats, wall)?;
    let page = if args.no_report {
        remove_report(&out)?;
        None
    } else {
        Some(crate::report::make(&out)?)
    };
    // A signal while the files were written lets them be completed, then stops.
    interrupt::check(&cancel)?;
    if !args.quiet {
        let mut out_text = std::io::stdout().lock();
        let wall = wall.as_secs_f64();
        print_summary(&mut out_text, &scenario, &summary, &out, wall, stats.events)?;
        if let Some(page) = page {
            writeln!(out_text, "  report: {}", page.display())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The relay's retry times after a first failure, in seconds, for the latency chart.
fn retry_times(scenario: &Scenario) -> Vec<f64> {
    /// More marks than a chart can show apart.
    const MOST: u32 = 200;
    let relay = &scenario.relay;
    let lifetime = relay.lifetime();
    RetryPolicy::new(relay.retry.clone())
        .with_lifetime(lifetime)
        .first_retry_times(lifetime, MOST)
        .iter()
        .map(|t| t.as_secs_f64())
        .collect()
}

/// Warns on stderr when `--trace message:N` names a message past the last one.
fn warn_if_untraced(trace: TraceMode, messages: u64) {
    if let TraceMode::Message(id) = trace
        && id >= messages
    {
        let numbered = match messages {
            0 => "the run has no messages".to_string(),
            n => format!("the run's messages are numbered 0 to {}", n - 1),
        };
        eprintln!("smtpsim: warning: --trace message:{id} traced nothing: {numbered}");
    }
}

/// A bar of simulated time on stderr, when it is a terminal and `--quiet` is not given.
fn progress_bar(args: &Args, scenario: &Scenario) -> Option<ProgressBar> {
    (!args.quiet && std::io::stderr().is_terminal()).then(|| {
        let window = args.duration.unwrap_or(scenario.simulation.duration.0);
        let bar = ProgressBar::new(window.as_micros() / 1_000_000);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} simulated {pos}/{len} s of arrivals [{bar:30}] {msg} ({elapsed})",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar
    })
}

/// Removes the charts and report.html of an earlier output from `out`: they describe
/// another run.
pub(crate) fn remove_report(out: &Path) -> anyhow::Result<()> {
    smtpsim_report::page::remove_report(out)
        .with_context(|| format!("cannot remove the old report in {}", out.display()))
}

fn print_summary(
    text: &mut impl Write,
    scenario: &Scenario,
    s: &Summary,
    out: &Path,
    wall: f64,
    events: u64,
) -> std::io::Result<()> {
    let o = &s.outcomes;
    writeln!(
        text,
        "{}: {} messages, {} recipients",
        scenario.simulation.name, s.run.messages, s.run.recipients
    )?;
    writeln!(
        text,
        "  inbox {}  spam {}  bounced {}  expired {}  rejected at submission {}",
        o.inbox, o.spam, o.bounced, o.expired, o.rejected_at_submission
    )?;
    writeln!(
        text,
        "  delivered {:.2}%  bounced {:.2}%  expired {:.2}%",
        s.rates.delivered * 100.0,
        s.rates.bounced * 100.0,
        s.rates.expired * 100.0
    )?;
    let l = &s.latency;
    match (l.p50_s, l.p90_s, l.p99_s, l.p99_9_s, l.max_s) {
        (Some(p50), Some(p90), Some(p99), Some(p99_9), Some(max)) => writeln!(
            text,
            "  latency (delivered): p50 {}  p90 {}  p99 {}  p99.9 {}  max {}",
            human(p50),
            human(p90),
            human(p99),
            human(p99_9),
            human(max)
        )?,
        _ => writeln!(text, "  latency (delivered): no deliveries")?,
    }
    let q = &s.queue_wait;
    let waits = match (q.mean_s, q.p99_s) {
        (Some(mean), Some(p99)) => format!("mean {}  p99 {}", human(mean), human(p99)),
        _ => "no attempts".to_string(),
    };
    writeln!(
        text,
        "  queue wait: {waits}   peak queue: {}   attempts: {}   bounce notices: {}",
        s.run.peak_queue_depth, s.run.attempts, s.run.bounce_notices
    )?;
    for source in &s.sources {
        writeln!(
            text,
            "  from {}: {} attempts, {} delivered, {} deferred, {} bounced, {} throttled",
            source.ip,
            source.attempts,
            source.deliveries,
            source.deferrals,
            source.bounces,
            source.throttled
        )?;
    }
    writeln!(
        text,
        "  {} events in {:.2} s ({:.1} M events/s); reports in {}",
        events,
        wall,
        events as f64 / wall.max(1e-9) / 1e6,
        out.display()
    )?;
    Ok(())
}

/// Seconds as a short human duration.
pub(crate) fn human(secs: f64) -> String {
    if secs < 1.0 {
        format!("{:.0}ms", secs * 1000.0)
    } else if secs < 120.0 {
        format!("{secs:.1}s")
    } else if secs < 7200.0 {
        format!("{:.1}m", secs / 60.0)
    } else {
        format!("{:.1}h", secs / 3600.0)
    }
}
