//! `smtpsim walk`: follow one message hop by hop, as text, JSON or an animated HTML page.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use smtpsim_mail::zone::Zone;
use smtpsim_model::journey::{self, stories::STORIES, stories::Story};
use smtpsim_model::scenario::Scenario;
use smtpsim_model::sim::{self, Options};
use smtpsim_report::journey as show;

/// How the journey is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Steps for people, coloured when stdout is a terminal.
    Text,
    /// The journey as JSON, for programs.
    Json,
}

/// Options of `smtpsim walk`.
#[derive(Debug, clap::Args)]
#[command(after_help = stories_help())]
#[command(group(clap::ArgGroup::new("what").required(true).args(["scenario", "story"])))]
pub struct Args {
    /// The scenario file (TOML).
    scenario: Option<PathBuf>,
    /// A bundled story instead of a scenario file (listed below).
    #[arg(long, value_name = "NAME")]
    story: Option<String>,
    /// The message to follow, numbered from 0 in order of arrival (default: the scenario's
    /// `simulation.follow`, else 0).
    #[arg(long, value_name = "N")]
    message: Option<u64>,
    /// Master seed (replaces the scenario's).
    #[arg(long)]
    seed: Option<u64>,
    /// Wait for Enter between steps (text only); q then Enter quits.
    #[arg(long, conflicts_with = "html")]
    step: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Write an animated, self-contained HTML page of the journey to FILE instead.
    #[arg(long, value_name = "FILE", conflicts_with = "format")]
    html: Option<PathBuf>,
}

fn stories_help() -> String {
    let mut help = String::from("Bundled stories (--story NAME):\n");
    for story in STORIES {
        help.push_str(&format!("  {:<16} {}\n", story.name, story.summary()));
    }
    help
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let scenario = match (&args.story, &args.scenario) {
        (Some(name), _) => {
            let Some(story) = Story::find(name) else {
                let names: Vec<&str> = STORIES.iter().map(|s| s.name).collect();
                bail!(
                    "there is no story {name:?}; the stories are: {}",
                    names.join(", ")
                );
            };
            story.scenario()?
        }
        (None, Some(path)) => Scenario::load(path)?,
        (None, None) => bail!("name a scenario file or a --story"),
    };
    if args.step && args.format == Format::Json {
        bail!("--step waits between steps of the text; it does not go with --format json");
    }
    sim::check(&scenario)?;
    let options = Options {
        seed: args.seed,
        ..Options::default()
    };
    let message = args.message.unwrap_or(scenario.simulation.follow);
    // The RSA keys (a search for primes) are derived on another thread while the message is
    // followed.
    let zone = Zone::for_seed(&scenario, options.seed.unwrap_or(scenario.simulation.seed));
    zone.derive_ahead(&scenario);
    let mut journey = journey::follow(&scenario, &options, message)?;
    smtpsim_mail::journey::realize_in(&scenario, &zone, &mut journey);

    if let Some(path) = &args.html {
        smtpsim_report::write_whole(path, show::html(&journey).as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
        writeln!(
            std::io::stdout(),
            "{}: message {}, {} steps, written to {}",
            journey.scenario,
            journey.message,
            journey.steps.len(),
            path.display()
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = anstream::stdout().lock();
    match args.format {
        Format::Json => out.write_all(show::json(&journey).as_bytes())?,
        Format::Text => {
            show::write_header(&journey, &mut out)?;
            let mut input = std::io::stdin().lock();
            let mut waiting = args.step;
            let total = journey.steps.len();
            for (i, step) in journey.steps.iter().enumerate() {
                if waiting && i > 0 {
                    out.flush()?;
                    match wait_for_enter(&mut input, i, total)? {
                        Answer::Next => {}
                        Answer::InputEnded => waiting = false,
                        Answer::Quit => {
                            out.flush()?;
                            return Ok(ExitCode::SUCCESS);
                        }
                    }
                }
                show::write_step(&journey, step, &mut out)?;
            }
            show::write_footer(&journey, &mut out)?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// What the reader answered at the prompt between two steps.
#[derive(Debug, PartialEq, Eq)]
enum Answer {
    /// Enter (or any other line): show the next step.
    Next,
    /// `q` or `quit`: stop here.
    Quit,
    /// The input ended: the remaining steps follow without waiting.
    InputEnded,
}

/// Asks on stderr, after step `shown` of `total`, for Enter or `q`.
fn wait_for_enter(input: &mut impl BufRead, shown: usize, total: usize) -> anyhow::Result<Answer> {
    writeln!(
        anstream::stderr(),
        "[{shown}/{total}] Enter for the next step, q to quit"
    )?;
    let mut line = String::new();
    if input.read_line(&mut line)? == 0 {
        return Ok(Answer::InputEnded);
    }
    Ok(match line.trim().to_ascii_lowercase().as_str() {
        "q" | "quit" => Answer::Quit,
        _ => Answer::Next,
    })
}
