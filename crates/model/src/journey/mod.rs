//! One message's journey, step by step: the simulation run with that message traced, its trace
//! cut into steps (the application's submission, the MX lookup, each delivery attempt, the
//! filing in a mailbox, a bounce notice back to the sender), each step with its SMTP lines, a
//! short note on why it happens and what the replies mean, and at the end the SPF, DKIM and
//! DMARC verdicts and where the message landed.
//!
//! Every line of a journey is a line the engine said: the steps are cut from the trace that
//! [`sim::run`] records, nothing is written here but the notes.
//!
//! ```
//! use smtpsim_model::journey::{self, Place};
//! use smtpsim_model::scenario::Scenario;
//! use smtpsim_model::sim::{Fate, Options};
//!
//! let scenario = Scenario::parse(r#"
//! [simulation]
//! name = "hello"
//! duration = "1m"
//! messages = 1
//! [[senders]]
//! name = "app"
//! domain = "example.com"
//! arrivals = { process = "constant", rate = "1/s" }
//! to = [{ domain = "example.net" }]
//! [relay]
//! retry = { policy = "fixed", schedule = ["5m"] }
//! [[domains]]
//! name = "example.net"
//! mx = [{ host = "mx.example.net" }]
//! "#, "hello.toml").unwrap();
//! let journey = journey::follow(&scenario, &Options::default(), 0).unwrap();
//! assert_eq!(journey.steps[0].from, Place::App);
//! assert_eq!(journey.landed[0].fate, Fate::Inbox);
//! ```

mod notes;
pub use notes::mailbox as mailbox_note;
mod steps;
pub mod stories;

use serde::Serialize;
use smtpsim_des::SimDuration;

use crate::scenario::Scenario;
use crate::sim::{
    self, Fate, Hop, Note, Options, RecipientRecord, Recorder, TraceKind, TraceLine, TraceRecord,
};

/// A place a message passes through, drawn left to right.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Place {
    /// The sending application.
    App,
    /// The relay MTA that queues and delivers.
    Relay,
    /// The DNS the relay asks for MX records.
    Dns,
    /// The recipient domain's MX host.
    Mx,
    /// The recipient's mailbox (inbox or spam folder).
    Mailbox,
}

impl Place {
    /// Every place, left to right.
    pub const ALL: [Place; 5] = [
        Place::App,
        Place::Relay,
        Place::Dns,
        Place::Mx,
        Place::Mailbox,
    ];

    /// The name shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Place::App => "App",
            Place::Relay => "SMTP relay",
            Place::Dns => "DNS",
            Place::Mx => "Recipient MX",
            Place::Mailbox => "Mailbox",
        }
    }
}

/// Who speaks in a line of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Speaker {
    /// The SMTP client.
    #[serde(rename = "C")]
    Client,
    /// The SMTP server.
    #[serde(rename = "S")]
    Server,
    /// What the simulator did or decided.
    #[serde(rename = "note")]
    Note,
}

impl Speaker {
    /// `C`, `S` or `note`.
    pub fn name(self) -> &'static str {
        match self {
            Speaker::Client => "C",
            Speaker::Server => "S",
            Speaker::Note => "note",
        }
    }
}

/// One line of a step, as the engine said it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    /// Who speaks.
    pub speaker: Speaker,
    /// What was said.
    pub text: String,
    /// Simulated time it was said at, in microseconds: a command when the relay (or the
    /// application) sent it, a reply when it arrived.
    pub time_us: u64,
}

/// One step of the journey: a leg between two places.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// From 1.
    pub number: usize,
    /// What happens, in a few words.
    pub title: String,
    /// Where the step starts.
    pub from: Place,
    /// Where it goes (the same place for a step that stays, such as waiting for a retry).
    pub to: Place,
    /// The delivery attempt it belongs to (0 for the submission).
    pub attempt: u32,
    /// Simulated time at the start of the step, in microseconds.
    pub time_us: u64,
    /// The same, as `h:mm:ss.mmm`.
    pub clock: String,
    /// The SMTP lines and notes.
    pub lines: Vec<Line>,
    /// Why this step happens and what its replies mean.
    pub note: String,
    /// For a DNS lookup: the name asked, the type and the records answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<DnsAnswer>,
    /// The message (headers and body) as it stands at this step, when the step carries it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Step {
    /// Whether the client sends the message's content in this step.
    pub fn sends_content(&self) -> bool {
        steps::sends_content(&self.lines)
    }
}

/// A DNS question and its answer, as a journey shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DnsAnswer {
    /// `MX`, `TXT`, `A`.
    pub kind: String,
    /// The name asked.
    pub name: String,
    /// The records answered, each as text; empty for no record.
    pub records: Vec<String>,
    /// The error instead of records (`NXDOMAIN`, `SERVFAIL`, ...), if the lookup failed.
    pub error: Option<String>,
    /// The parts of the records that decided the verdict (`ip4:198.51.100.0/24`, `p=reject`),
    /// as written in them.
    pub deciding: Vec<String>,
}

/// One of the SPF, DKIM and DMARC results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// `pass`, `fail`, `none`, `softfail`, `permerror`, ...
    pub result: String,
    /// What it was about, such as `smtp.mailfrom=example.com`.
    pub about: String,
}

impl Check {
    /// Whether the check passed.
    pub fn passed(&self) -> bool {
        self.result == "pass"
    }
}

/// What the receiving side's checks found at the end of data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdicts {
    /// SPF for the envelope sender's domain.
    pub spf: Check,
    /// DKIM for the signature.
    pub dkim: Check,
    /// DMARC for the visible From domain.
    pub dmarc: Check,
    /// The whole `Authentication-Results:` header body.
    pub authentication_results: String,
    /// Each DKIM signature verified for real, when the message was signed and verified for
    /// real (empty when the verdict is the simulator's model).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub signatures: Vec<SignatureCheck>,
    /// The verdict in sentences, ending with the placement.
    pub reasons: Vec<String>,
}

/// What verifying one real DKIM signature found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignatureCheck {
    /// `a=`.
    pub algorithm: String,
    /// `d=`.
    pub domain: String,
    /// `s=`.
    pub selector: String,
    /// `pass`, `fail`, `permerror`, `temperror`.
    pub result: String,
    /// What happened, in a sentence.
    pub sentence: String,
    /// For a failure on the hashes: `bh=` (the body changed) or `b=` (a signed header
    /// changed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broken: Option<String>,
    /// That hash as signed, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_hash: Option<String>,
    /// That hash of the message as it arrived.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub computed_hash: Option<String>,
}

/// Where one recipient's copy ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Landing {
    /// The recipient address.
    pub recipient: String,
    /// How it ended.
    #[serde(serialize_with = "fate_name")]
    pub fate: Fate,
    /// Delivery attempts.
    pub attempts: u32,
    /// From submission to the end, in microseconds.
    pub latency_us: u64,
    /// The last reply that decided, if one did.
    pub last_reply: Option<String>,
    /// Why, in words.
    pub reasons: String,
}

fn fate_name<S: serde::Serializer>(fate: &Fate, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(fate.name())
}

/// One message's journey.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Journey {
    /// The scenario's name.
    pub scenario: String,
    /// The scenario's description.
    pub description: String,
    /// The seed of the run.
    pub seed: u64,
    /// The message followed.
    pub message: u64,
    /// The places, left to right.
    pub places: Vec<Place>,
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// The receiving side's checks, if the message got as far as the end of data and the
    /// domain checks authentication.
    pub verdicts: Option<Verdicts>,
    /// Each recipient's end.
    pub landed: Vec<Landing>,
    /// The address a bounce notice went back to, if one did.
    pub bounce_notice: Option<String>,
    /// The content each delivery attempt offered each MX host it connected to, in order, as
    /// the simulator builds it (its DKIM signature modelled).
    #[serde(skip)]
    pub carried: Vec<Carried>,
    /// The bounce notice's content, if one was sent.
    #[serde(skip)]
    pub notice: Option<Vec<u8>>,
}

/// The content a delivery attempt offered an MX host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Carried {
    /// The attempt.
    pub attempt: u32,
    /// The MX host.
    pub host: String,
    /// Headers and body, lines ending in CRLF.
    pub content: Vec<u8>,
}

/// Why a journey cannot be followed.
#[derive(Debug, thiserror::Error)]
pub enum JourneyError {
    /// The scenario could not run.
    #[error(transparent)]
    Sim(#[from] sim::SimError),
    /// There is no such message in the run.
    #[error("there is no message {message}: the run has {messages} (numbered from 0)")]
    NoSuchMessage {
        /// The message asked for.
        message: u64,
        /// The messages the run generated.
        messages: u64,
    },
}

/// A trace line of the followed message, owned.
#[derive(Debug, Clone)]
pub(crate) struct Traced {
    pub time_us: u64,
    pub attempt: u32,
    pub hop: Hop,
    pub line: TraceLine,
}

impl Traced {
    /// Who speaks.
    pub fn speaker(&self) -> Speaker {
        match self.line.kind() {
            TraceKind::Client => Speaker::Client,
            TraceKind::Server => Speaker::Server,
            TraceKind::Note => Speaker::Note,
        }
    }

    /// The relay's note, if the line is one.
    pub fn note(&self) -> Option<&Note> {
        self.line.note()
    }
}

/// Keeps the followed message's trace and rows.
struct Follower {
    message: u64,
    trace: Vec<Traced>,
    landed: Vec<Landing>,
    carried: Vec<Carried>,
    notice: Option<Vec<u8>>,
}

impl Recorder for Follower {
    fn recipient(&mut self, r: &RecipientRecord<'_>) {
        if r.message_id == self.message {
            self.landed.push(Landing {
                recipient: r.recipient.to_string(),
                fate: r.fate,
                attempts: r.attempts,
                latency_us: r.latency().as_micros(),
                last_reply: r
                    .last_reply
                    .map(|reply| reply.to_string().replace('\n', " ")),
                reasons: r.reasons.to_string(),
            });
        }
    }

    fn content(&mut self, message_id: u64, attempt: u32, host: &str, content: &[u8]) {
        if message_id == self.message {
            self.carried.push(Carried {
                attempt,
                host: host.to_string(),
                content: content.to_vec(),
            });
        }
    }

    fn notice(&mut self, message_id: u64, _host: &str, content: &[u8]) {
        if message_id == self.message {
            self.notice = Some(content.to_vec());
        }
    }

    fn trace(&mut self, t: &TraceRecord<'_>) {
        if t.message_id == self.message {
            self.trace.push(Traced {
                time_us: t.time.as_micros(),
                attempt: t.attempt,
                hop: t.hop,
                line: t.line.clone(),
            });
        }
    }
}

/// Runs `scenario` with message `message` traced and tells its journey. `options.trace` is
/// replaced; the other options apply as in a run.
pub fn follow(
    scenario: &Scenario,
    options: &Options,
    message: u64,
) -> Result<Journey, JourneyError> {
    let options = Options {
        trace: sim::TraceMode::Message(message),
        ..options.clone()
    };
    let mut follower = Follower {
        message,
        trace: Vec::new(),
        landed: Vec::new(),
        carried: Vec::new(),
        notice: None,
    };
    let stats = sim::run(scenario, &options, &mut follower)?;
    if message >= stats.messages {
        return Err(JourneyError::NoSuchMessage {
            message,
            messages: stats.messages,
        });
    }
    let steps = steps::cut(&follower.trace);
    let verdicts = verdicts(&follower.trace, &follower.landed);
    let bounce_notice = follower.trace.iter().find_map(|t| match t.note() {
        Some(Note::BounceNotice { to, .. }) => Some(to.clone()),
        _ => None,
    });
    Ok(Journey {
        scenario: scenario.simulation.name.clone(),
        description: scenario.simulation.description.clone(),
        seed: options.seed.unwrap_or(scenario.simulation.seed),
        message,
        places: Place::ALL.to_vec(),
        steps,
        verdicts,
        landed: follower.landed,
        bounce_notice,
        carried: follower.carried,
        notice: follower.notice,
    })
}

/// The verdicts of the last end-of-data check, with the reasons the recipient rows give.
fn verdicts(trace: &[Traced], landed: &[Landing]) -> Option<Verdicts> {
    let header = trace.iter().rev().find_map(|t| match t.note() {
        Some(Note::AuthenticationResults(results)) => Some(results.as_str()),
        _ => None,
    })?;
    let check = |name: &str| {
        header
            .split("; ")
            .find_map(|part| part.strip_prefix(name)?.strip_prefix('='))
            .map(|rest| {
                let (result, about) = rest.split_once(' ').unwrap_or((rest, ""));
                Check {
                    result: result.to_string(),
                    about: about.to_string(),
                }
            })
            .unwrap_or(Check {
                result: "none".to_string(),
                about: String::new(),
            })
    };
    // The rows of recipients the check decided for carry its sentences; a refusal at the end
    // of data (DMARC reject) does too.
    let reasons = landed
        .iter()
        .find(|l| {
            l.fate.delivered()
                || (l.fate == Fate::Bounced && l.reasons.contains("rejected at end of data"))
        })
        .map(|l| l.reasons.split("; ").map(str::to_string).collect())
        .unwrap_or_default();
    Some(Verdicts {
        spf: check("spf"),
        dkim: check("dkim"),
        dmarc: check("dmarc"),
        authentication_results: header.to_string(),
        signatures: Vec::new(),
        reasons,
    })
}

/// `h:mm:ss.mmm` of a simulated instant in microseconds.
pub fn clock(micros: u64) -> String {
    let millis = micros / 1000;
    let (h, rest) = (millis / 3_600_000, millis % 3_600_000);
    let (m, rest) = (rest / 60_000, rest % 60_000);
    format!("{h}:{m:02}:{:02}.{:03}", rest / 1000, rest % 1000)
}

/// A duration in a few characters: `350ms`, `4.2s`, `12.0m`, `3.5h`, `2.0d`.
pub fn human(micros: u64) -> String {
    let secs = SimDuration::from_micros(micros).as_secs_f64();
    if secs < 1.0 {
        format!("{:.0}ms", secs * 1000.0)
    } else if secs < 120.0 {
        format!("{secs:.1}s")
    } else if secs < 7200.0 {
        format!("{:.1}m", secs / 60.0)
    } else if secs < 172_800.0 {
        format!("{:.1}h", secs / 3600.0)
    } else {
        format!("{:.1}d", secs / 86_400.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_and_human_times() {
        assert_eq!(clock(0), "0:00:00.000");
        assert_eq!(clock(300_300_000), "0:05:00.300");
        assert_eq!(clock(90_061_001_000), "25:01:01.001");
        assert_eq!(human(350_000), "350ms");
        assert_eq!(human(4_200_000), "4.2s");
        assert_eq!(human(300_650_000), "5.0m");
        assert_eq!(human(4 * 3_600_000_000), "4.0h");
        assert_eq!(human(5 * 86_400_000_000), "5.0d");
    }

    #[test]
    fn verdicts_come_from_the_results_header() {
        let trace = vec![Traced {
            time_us: 0,
            attempt: 1,
            hop: Hop::RelayMx,
            line: TraceLine::Note(Note::AuthenticationResults(
                "mx.example; spf=fail smtp.mailfrom=a.example; dkim=none; dmarc=fail \
                 header.from=a.example"
                    .to_string(),
            )),
        }];
        let landed = vec![Landing {
            recipient: "b@example.net".into(),
            fate: Fate::Bounced,
            attempts: 1,
            latency_us: 1,
            last_reply: None,
            reasons: "sender IP not allowed by domain policy; not signed; DMARC policy reject: \
                      visible From not aligned; rejected at end of data: DMARC policy reject"
                .into(),
        }];
        let v = verdicts(&trace, &landed).unwrap();
        assert_eq!(v.spf.result, "fail");
        assert_eq!(v.spf.about, "smtp.mailfrom=a.example");
        assert_eq!(v.dkim.result, "none");
        assert_eq!(v.dkim.about, "");
        assert!(!v.dmarc.passed());
        assert_eq!(v.reasons.len(), 4);
        assert!(verdicts(&[], &landed).is_none());
    }
}
