//! `smtpsim serve --explain`: follows the session log as the server writes it and prints,
//! for each session when it closes, its annotated transcript (each command and reply, what a
//! reply means, the server's decisions), and for each message it accepted the SPF, DKIM and
//! DMARC results checked for real against the given DNS.

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom, Write};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use smtpsim_mail::received;
use smtpsim_model::auth::dns::StaticResolver;
use smtpsim_proto::{Command, ReversePath};

/// What is kept of a session until it closes.
#[derive(Default)]
struct Session {
    client: String,
    helo: String,
    mail_from: String,
    lines: Vec<String>,
}

/// Turns session log records into annotated transcripts.
pub struct Explainer {
    dns: StaticResolver,
    maildir: PathBuf,
    sessions: BTreeMap<u64, Session>,
}

impl Explainer {
    /// Checks messages against `dns`, reading them from `maildir`.
    pub fn new(dns: StaticResolver, maildir: PathBuf) -> Explainer {
        Explainer {
            dns,
            maildir,
            sessions: BTreeMap::new(),
        }
    }

    /// Takes one log line; writes a session's transcript to `out` when it closes.
    pub fn line(&mut self, line: &str, out: &mut dyn Write) -> std::io::Result<()> {
        let Ok(record) = serde_json::from_str::<serde_json::Value>(line) else {
            return Ok(());
        };
        let id = record["session"].as_u64().unwrap_or(0);
        let text = record["text"].as_str().unwrap_or_default().to_string();
        let event = record["event"].as_str().unwrap_or_default();
        let session = self.sessions.entry(id).or_default();
        session.client = record["client"].as_str().unwrap_or_default().to_string();
        match event {
            "command" => {
                match Command::parse(text.as_bytes()) {
                    Ok(Command::Ehlo { domain } | Command::Helo { domain }) => {
                        session.helo = domain.to_string()
                    }
                    Ok(Command::Mail { from, .. }) => {
                        session.mail_from = match from {
                            ReversePath::Mailbox(address) => address.to_string(),
                            ReversePath::Null => String::new(),
                        }
                    }
                    _ => {}
                }
                session.lines.push(format!("  C: {text}"));
            }
            "reply" => {
                for reply_line in text.lines() {
                    session.lines.push(format!("  S: {reply_line}"));
                }
                // A reply's last line (`250 ...`, not `250-...`) says what the reply means.
                let last = text.lines().last().unwrap_or_default();
                if last.as_bytes().get(3) != Some(&b'-')
                    && let Some(meaning) = meaning(last)
                {
                    session.lines.push(format!("     .. {meaning}"));
                }
            }
            "note" => session.lines.push(format!("  .. {text}")),
            "decision" => session.lines.push(format!(
                "  .. decision at {}: {} ({})",
                record["stage"].as_str().unwrap_or_default(),
                record["verdict"].as_str().unwrap_or_default(),
                record["reason"].as_str().unwrap_or_default()
            )),
            "message" => {
                let file = record["file"].as_str().unwrap_or_default();
                let lines = self.message(id, file, &record);
                self.sessions.entry(id).or_default().lines.extend(lines);
            }
            "close" => {
                let session = self.sessions.remove(&id).unwrap_or_default();
                writeln!(out, "session {id} from {}", session.client)?;
                for line in &session.lines {
                    writeln!(out, "{line}")?;
                }
                writeln!(out, "  closed: {text}")?;
                out.flush()?;
            }
            _ => {}
        }
        Ok(())
    }

    /// The lines that explain message `file` of session `id`.
    fn message(&self, id: u64, file: &str, record: &serde_json::Value) -> Vec<String> {
        let session = &self.sessions[&id];
        let mut lines = vec![format!(
            "  message from <{}>, {} octets:",
            session.mail_from,
            record["octets"].as_u64().unwrap_or(0)
        )];
        let path = self.maildir.join("new").join(file);
        let content = match std::fs::read(&path) {
            Ok(content) => content,
            Err(e) => {
                lines.push(format!("    cannot read {}: {e}", path.display()));
                return lines;
            }
        };
        let client: IpAddr = session
            .client
            .parse::<SocketAddr>()
            .map(|a| a.ip())
            .unwrap_or(IpAddr::from([127, 0, 0, 1]));
        let checked = received::check(
            &content,
            client,
            &session.helo,
            &session.mail_from,
            &self.dns,
        );
        for sentence in checked.sentences() {
            lines.push(format!("    {sentence}"));
        }
        lines
    }
}

/// What a reply means: its basic code's catalogue entry, and for a failure with a specific
/// enhanced code (not `X.0.0`) that code's entry too.
fn meaning(reply: &str) -> Option<String> {
    let explained = smtpsim_proto::codes::explain(reply).ok()?;
    let basic = explained.code.map(|c| c.meaning);
    let specific = explained.enhanced.as_ref().and_then(|(code, info)| {
        (code.class != 2 && (code.subject, code.detail) != (0, 0))
            .then_some(*info)
            .flatten()
            .map(|i| i.meaning)
    });
    match (basic, specific) {
        (Some(b), Some(e)) => Some(format!("{b} {e}")),
        (b, e) => b.or(e).map(str::to_string),
    }
}

/// Follows the log at `path` from its current end until `stop` is set, then reads what is
/// left; each line goes to `explainer`, its output to stdout.
pub fn follow(path: &Path, mut explainer: Explainer, stop: Arc<AtomicBool>) -> std::io::Result<()> {
    let mut file = std::fs::File::open(path)?;
    let mut offset = file.seek(SeekFrom::End(0))?;
    let mut pending = String::new();
    loop {
        let stopping = stop.load(Ordering::Acquire);
        file.seek(SeekFrom::Start(offset))?;
        let mut chunk = String::new();
        offset += file.read_to_string(&mut chunk)? as u64;
        pending.push_str(&chunk);
        let mut out = std::io::stdout().lock();
        while let Some(end) = pending.find('\n') {
            let line: String = pending.drain(..=end).collect();
            explainer.line(line.trim_end(), &mut out)?;
        }
        drop(out);
        if stopping {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
