//! `smtpsim repl`: the terminal around `smtpsim_repl::Repl`: line editing and history
//! (rustyline), the clock, and colour when stdout is a terminal.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anstyle::{AnsiColor, Style};
use anyhow::Context;
use rustyline::error::ReadlineError;
use smtpsim_des::SimDuration;
use smtpsim_model::journey::stories::{STORIES, Story};
use smtpsim_model::scenario::Scenario;
use smtpsim_repl::{Account, Config, Kind, Line, Repl};

/// Options of `smtpsim repl`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A scenario: its receiving domains, with their MX behaviours (greylisting, rate limits,
    /// unknown users, ...), are the servers to connect to.
    #[arg(long, value_name = "FILE", conflicts_with = "story")]
    scenario: Option<PathBuf>,
    /// A bundled story's scenario instead of a file (see `smtpsim walk --help` for the list).
    #[arg(long, value_name = "NAME")]
    story: Option<String>,
    /// The domain `connect` opens when not given one (by default the scenario's first).
    #[arg(long)]
    domain: Option<String>,
    /// Do not explain replies or suggest the next command (`explain on` brings it back).
    #[arg(long)]
    no_explain: bool,
    /// Let time move only with `wait`, not with the wall clock.
    #[arg(long)]
    virtual_clock: bool,
    /// The account the servers accept for AUTH.
    #[arg(long, value_name = "USER:PASSWORD", default_value = "alice:secret")]
    user: String,
}

/// Runs the session until `exit` or end of input.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let (user, password) = args
        .user
        .split_once(':')
        .context("--user takes USER:PASSWORD")?;
    let scenario = match (&args.scenario, &args.story) {
        (Some(path), _) => Some(Scenario::load(path)?),
        (None, Some(name)) => {
            let story = Story::find(name).with_context(|| {
                let names: Vec<&str> = STORIES.iter().map(|s| s.name).collect();
                format!(
                    "there is no story {name:?}; the stories are: {}",
                    names.join(", ")
                )
            })?;
            Some(story.scenario()?)
        }
        (None, None) => None,
    };
    let mut repl = Repl::new(Config {
        scenario,
        domain: args.domain.clone(),
        explain: !args.no_explain,
        account: Account {
            user: user.to_string(),
            password: password.to_string(),
        },
    })?;
    let mut editor = rustyline::DefaultEditor::new()?;
    let mut out = anstream::stdout();
    let start = Instant::now();
    // Piped input is not echoed by a terminal: print it after the prompt, as a transcript.
    let echo = !std::io::stdin().is_terminal();
    print(&mut out, &repl.welcome())?;
    while !repl.finished() {
        let prompt = repl.prompt();
        match editor.readline(prompt) {
            Ok(line) => {
                if echo {
                    writeln!(out, "{prompt}{line}")?;
                }
                if !line.trim().is_empty() {
                    let _ = editor.add_history_entry(line.as_str());
                }
                let elapsed = if args.virtual_clock {
                    SimDuration::ZERO
                } else {
                    SimDuration::try_from(start.elapsed()).unwrap_or(SimDuration::MAX)
                };
                print(&mut out, &repl.input(&line, elapsed))?;
            }
            Err(ReadlineError::Interrupted) => {
                writeln!(out, "(exit or Ctrl-D leaves)")?;
            }
            Err(ReadlineError::Eof) => break,
            Err(error) => return Err(error.into()),
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print(out: &mut impl Write, lines: &[Line]) -> std::io::Result<()> {
    for line in lines {
        let style = style(line.kind);
        writeln!(
            out,
            "{}{}{}",
            style.render(),
            line.text,
            style.render_reset()
        )?;
    }
    out.flush()
}

fn style(kind: Kind) -> Style {
    match kind {
        Kind::Server => Style::new().bold(),
        Kind::Client => Style::new().fg_color(Some(AnsiColor::Cyan.into())),
        Kind::Explain => Style::new().dimmed(),
        Kind::Hint => Style::new().fg_color(Some(AnsiColor::Green.into())),
        Kind::Info => Style::new().fg_color(Some(AnsiColor::Yellow.into())),
        Kind::Error => Style::new().fg_color(Some(AnsiColor::Red.into())).bold(),
    }
}
