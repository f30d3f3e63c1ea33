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

use smtpsim_mail::explain::{Annotated, Said};
use smtpsim_mail::zone::Zone;

/// What a session said or did, kept until it closes.
enum Event {
    Command(String),
    Reply(String),
    Note(String),
    Decision(String),
    Message {
        octets: u64,
        content: Result<Vec<u8>, String>,
    },
}

impl Event {
    fn said(&self) -> Said<'_> {
        match self {
            Event::Command(text) => Said::Command(text),
            Event::Reply(text) => Said::Reply(text),
            Event::Note(text) => Said::Note(text),
            Event::Decision(text) => Said::Decision(text),
            Event::Message { octets, content } => Said::Message {
                octets: *octets,
                content: content.as_deref().map_err(String::as_str),
            },
        }
    }
}

/// What is kept of a session until it closes.
#[derive(Default)]
struct Session {
    client: String,
    events: Vec<Event>,
}

/// Turns session log records into annotated transcripts
/// ([`Annotated`], as the `--http` page shows them).
pub struct Explainer {
    dns: Zone,
    maildir: PathBuf,
    sessions: BTreeMap<u64, Session>,
}

impl Explainer {
    /// Checks messages against `dns`, reading them from `maildir`.
    pub fn new(dns: Zone, maildir: PathBuf) -> Explainer {
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
        let str_of = |name: &str| record[name].as_str().unwrap_or_default().to_string();
        let text = str_of("text");
        let session = self.sessions.entry(id).or_default();
        session.client = str_of("client");
        let event = match record["event"].as_str().unwrap_or_default() {
            "command" => Event::Command(text),
            "reply" => Event::Reply(text),
            "note" => Event::Note(text),
            "decision"
                if smtpsim_server::routine_decision(
                    &str_of("verdict"),
                    record["rule"].as_str(),
                ) =>
            {
                return Ok(());
            }
            "decision" => Event::Decision(smtpsim_server::decision_line(
                &str_of("stage"),
                &str_of("verdict"),
                &str_of("reason"),
                record["rule"].as_str(),
                record["subject"].as_str(),
            )),
            "message" => {
                let path = self.maildir.join("new").join(str_of("file"));
                Event::Message {
                    octets: record["octets"].as_u64().unwrap_or(0),
                    content: std::fs::read(&path)
                        .map_err(|e| format!("cannot read {}: {e}", path.display())),
                }
            }
            "close" => {
                let session = self.sessions.remove(&id).unwrap_or_default();
                return self.print(id, &session, &text, out);
            }
            _ => return Ok(()),
        };
        session.events.push(event);
        Ok(())
    }

    /// Writes a closed session's annotated transcript.
    fn print(
        &self,
        id: u64,
        session: &Session,
        closed: &str,
        out: &mut dyn Write,
    ) -> std::io::Result<()> {
        let client: IpAddr = session
            .client
            .parse::<SocketAddr>()
            .map(|a| a.ip())
            .unwrap_or(IpAddr::from([127, 0, 0, 1]));
        let mut annotated = Annotated::new(&self.dns, client);
        for event in &session.events {
            annotated.push(event.said());
        }
        writeln!(out, "session {id} from {}", session.client)?;
        for line in &annotated.lines {
            writeln!(out, "{line}")?;
        }
        writeln!(out, "  closed: {closed}")?;
        out.flush()
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
