//! A message's [`Journey`] shown to people: as text for a terminal (styled with ANSI escapes
//! that a non-terminal writer strips), as stable JSON, and as one self-contained HTML page
//! that animates it.

mod html;

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};
use smtpsim_model::journey::{Journey, Place, Speaker, Step, clock, human};

pub use html::html;

const TITLE: Style = Style::new().bold();
const COUNTER: Style = AnsiColor::Cyan.on_default().bold();
const CLIENT: Style = AnsiColor::Cyan.on_default();
const OK: Style = AnsiColor::Green.on_default();
const LATER: Style = AnsiColor::Yellow.on_default();
const NEVER: Style = AnsiColor::Red.on_default();
const DIM: Style = Style::new().dimmed();
const HIGHLIGHT: Style = AnsiColor::Yellow.on_default().bold();

/// The style of a server line: green for 2xx and 3xx, yellow for 4xx, red for 5xx.
fn reply_style(text: &str) -> Style {
    match text.as_bytes().first() {
        Some(b'4') => LATER,
        Some(b'5') => NEVER,
        _ => OK,
    }
}

/// The style of a check result or a fate.
fn result_style(result: &str) -> Style {
    match result {
        "pass" | "inbox" => OK,
        "none" | "neutral" | "spam" | "expired" => LATER,
        _ => NEVER,
    }
}

/// The places of a journey joined by arrows.
fn route(journey: &Journey) -> String {
    journey
        .places
        .iter()
        .map(|p| p.label())
        .collect::<Vec<_>>()
        .join(" -> ")
}

fn arrow(from: Place, to: Place) -> String {
    if from == to {
        format!("at the {}", from.label())
    } else {
        format!("{} -> {}", from.label(), to.label())
    }
}

/// Wraps `text` at `width` columns, each line after `indent`.
fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && indent.len() + line.len() + 1 + word.len() > width {
            out.push_str(indent);
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push_str(indent);
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// The lines before the first step: the scenario, the message, the route.
pub fn write_header(journey: &Journey, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "{TITLE}{}{TITLE:#}: message {} (seed {}), {} steps",
        journey.scenario,
        journey.message,
        journey.seed,
        journey.steps.len()
    )?;
    if !journey.description.is_empty() {
        write!(out, "{}", wrap(&journey.description, 96, ""))?;
    }
    writeln!(out, "{DIM}{}{DIM:#}", route(journey))?;
    Ok(())
}

/// One step: its counter, time, places and title, its lines, and its note.
pub fn write_step(journey: &Journey, step: &Step, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out)?;
    writeln!(
        out,
        "{COUNTER}[{}/{}]{COUNTER:#} {DIM}t={}{DIM:#}  {}  {TITLE}{}{TITLE:#}",
        step.number,
        journey.steps.len(),
        step.clock,
        arrow(step.from, step.to),
        step.title
    )?;
    // When each line was said, from the start of the step, where they were not all said at
    // once (a submission is timed as a whole).
    let timed = step.lines.iter().any(|line| line.time_us != step.time_us);
    for line in &step.lines {
        write!(out, "  ")?;
        if timed {
            write!(out, "{DIM}{}{DIM:#} ", clock(line.time_us))?;
        }
        match line.speaker {
            Speaker::Client => writeln!(out, "{CLIENT}C: {}{CLIENT:#}", line.text)?,
            Speaker::Server => {
                let style = reply_style(&line.text);
                writeln!(out, "{style}S: {}{style:#}", line.text)?
            }
            Speaker::Note => writeln!(out, "{DIM}.. {}{DIM:#}", line.text)?,
        }
    }
    if let Some(record) = &step.record
        && !record.deciding.is_empty()
    {
        writeln!(
            out,
            "  {HIGHLIGHT}deciding: {}{HIGHLIGHT:#}",
            record.deciding.join(", ")
        )?;
    }
    write!(out, "{}", wrap(&format!("Why: {}", step.note), 96, "  "))?;
    if let Some(message) = &step.message {
        writeln!(out, "  {DIM}The message as it stands here:{DIM:#}")?;
        for line in message.lines() {
            writeln!(out, "  {DIM}|{DIM:#} {line}")?;
        }
    }
    Ok(())
}

/// The verdicts and where the message landed.
pub fn write_footer(journey: &Journey, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out)?;
    if let Some(v) = &journey.verdicts {
        writeln!(out, "{TITLE}Verdicts{TITLE:#}")?;
        for (name, check) in [("SPF", &v.spf), ("DKIM", &v.dkim), ("DMARC", &v.dmarc)] {
            let style = result_style(&check.result);
            let about = if check.about.is_empty() {
                String::new()
            } else {
                format!(
                    "{:pad$}{}",
                    "",
                    check.about,
                    pad = 10 - check.result.len().min(9)
                )
            };
            writeln!(out, "  {name:<6} {style}{}{style:#}{about}", check.result)?;
        }
        for signature in &v.signatures {
            let style = result_style(&signature.result);
            write!(
                out,
                "{}",
                wrap(
                    &format!(
                        "{style}{}{style:#} {} d={} s={}: {}",
                        signature.result,
                        signature.algorithm,
                        signature.domain,
                        signature.selector,
                        signature.sentence
                    ),
                    96,
                    "    "
                )
            )?;
        }
        for reason in &v.reasons {
            writeln!(out, "  - {reason}")?;
        }
    }
    writeln!(out, "{TITLE}Where it landed{TITLE:#}")?;
    for l in &journey.landed {
        let style = result_style(l.fate.name());
        let attempts = match l.attempts {
            0 => "never attempted".to_string(),
            1 => "1 attempt".to_string(),
            n => format!("{n} attempts"),
        };
        writeln!(
            out,
            "  {}: {style}{}{style:#} after {}, {}",
            l.recipient,
            l.fate.name(),
            human(l.latency_us),
            attempts
        )?;
        if let Some(reply) = &l.last_reply {
            writeln!(out, "    last reply: {reply}")?;
        }
        if !l.reasons.is_empty() {
            write!(out, "{}", wrap(&format!("why: {}", l.reasons), 96, "    "))?;
        }
    }
    if let Some(to) = &journey.bounce_notice {
        writeln!(out, "  a bounce notice went back to {to}")?;
    }
    Ok(())
}

/// The journey as pretty-printed JSON, with a final newline. Field order is fixed: the same
/// journey always gives the same bytes.
pub fn json(journey: &Journey) -> String {
    let mut text = serde_json::to_string_pretty(journey).expect("a journey serialises");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_keeps_words_whole() {
        let text = wrap("one two three four five", 12, "  ");
        assert_eq!(text, "  one two\n  three four\n  five\n");
        assert_eq!(wrap("", 10, "  "), "");
    }

    #[test]
    fn reply_colours_follow_the_class() {
        assert_eq!(reply_style("250 OK"), OK);
        assert_eq!(reply_style("354 go on"), OK);
        assert_eq!(reply_style("451 4.7.1 later"), LATER);
        assert_eq!(reply_style("550 5.1.1 no"), NEVER);
    }

    #[test]
    fn atomic_writes_leave_no_temporary_file() {
        let dir = std::env::temp_dir().join(format!("smtpsim-journey-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("page.html");
        crate::write_whole(&path, b"<p>hi</p>").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"<p>hi</p>");
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        assert!(crate::write_whole(&dir.join("missing").join("x.html"), b"x").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
