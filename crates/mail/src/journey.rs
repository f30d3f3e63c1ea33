//! A journey made real: the followed message is rebuilt from the content the simulator
//! carried, signed for real by the relay, altered in transit by changing its bytes when the
//! simulation altered it, and verified for real at the MX. Each step that carries the
//! message gets the message as it stands there, and the MX's DNS lookups (the SPF record and
//! each include it follows, each DKIM key, the DMARC record) become steps of their own.

use smtpsim_model::auth::dkim::DkimSignature;
use smtpsim_model::auth::dns::Resolver;
use smtpsim_model::auth::{AuthInput, AuthOutcome, evaluate};
use smtpsim_model::journey::{
    self, DnsAnswer, Journey, Line, Place, SignatureCheck as Checked, Speaker, Step,
};
use smtpsim_model::scenario::Scenario;
use smtpsim_model::sim::{self, content};
use smtpsim_proto::command::{Command, ReversePath};

use crate::canon;
use crate::keys::KeyRing;
use crate::lookups::{Asked, Recording};
use crate::sign::sign;
use crate::verify::{Broken, DkimCheck, verify};
use crate::zone::Zone;

/// Makes `journey` (followed in `scenario` with `seed`) real, as the module says. Returns the
/// receiving side's checks evaluated again against the DNS with the real keys (the SPF and
/// DMARC the journey shows come from the run), when the message reached the end of data.
pub fn realize(scenario: &Scenario, seed: u64, journey: &mut Journey) -> Option<AuthOutcome> {
    realize_in(scenario, &Zone::for_seed(scenario, seed), journey)
}

/// [`realize`] with the DNS and keys of `zone` (whose keys derive from the journey's seed).
pub fn realize_in(scenario: &Scenario, zone: &Zone, journey: &mut Journey) -> Option<AuthOutcome> {
    if let Some(notice) = journey.notice.clone()
        && let Some(step) = journey
            .steps
            .iter_mut()
            .find(|s| s.from == Place::Relay && s.to == Place::App)
    {
        step.message = Some(text(&notice));
    }
    let carried = journey.carried.last().cloned()?;
    let facts = content::facts_ref(&carried.content).owned();
    let original = unsigned(&carried.content);
    let relay = &scenario.relay;
    let submitted_at = content_steps(journey, Place::App, Place::Relay)
        .last()
        .map_or(0, |&i| journey.steps[i].time_us);
    for i in content_steps(journey, Place::App, Place::Relay) {
        journey.steps[i].message = Some(text(&original));
    }
    let received = format!(
        "Received: by {} with ESMTPSA; simulated {}",
        relay.hostname,
        journey::clock(submitted_at)
    );
    let RealMessage {
        in_transit, hashes, ..
    } = make_real(&carried.content, &received, zone.ring());
    let delivered = content_steps(journey, Place::Relay, Place::Mx);
    for &i in &delivered {
        journey.steps[i].message = Some(text(&in_transit));
    }
    let &last = delivered.last()?;
    journey.verdicts.as_ref()?;
    let check = verify(&in_transit, zone, &hashes);
    let mail_from = journey.steps[..=last]
        .iter()
        .rev()
        .filter(|s| s.from == Place::Relay && s.to == Place::Mx)
        .find_map(envelope_sender)
        .unwrap_or_default();
    let input_from = facts.from_domain.clone().unwrap_or_default();
    let recording = Recording::new(zone);
    let modelled = facts.dkim.as_ref().map(|(d, s)| {
        let signature = DkimSignature::new(d.clone(), s.clone());
        if facts.altered {
            signature.with_body_altered()
        } else {
            signature
        }
    });
    let mut input = AuthInput::new(relay.ip, &relay.hostname, &mail_from, &input_from);
    if let Some(signature) = &modelled {
        input = input.with_dkim(signature);
    }
    let outcome = evaluate(&input, &recording);
    let asked = recording.into_asked();
    let verdicts = journey.verdicts.as_mut().expect("checked above");
    // The model's DKIM sentence gives way to what verifying found.
    if let (Some(modelled), Some(real)) = (outcome.reasons.get(1), check.deciding()) {
        for reason in verdicts.reasons.iter_mut() {
            if reason == modelled {
                *reason = real.sentence.clone();
            }
        }
        for landing in &mut journey.landed {
            landing.reasons = landing.reasons.replace(modelled.as_ref(), &real.sentence);
        }
    }
    verdicts.dkim.result = check.verdict.as_str().to_string();
    verdicts.signatures = check.signatures.iter().map(checked).collect();
    let at = journey.steps[last].lines.last().map_or(0, |l| l.time_us);
    let filed = on_top(
        &format!(
            "Received: from {} ([{}]) by {} with ESMTP; simulated {}\r\n\
             Authentication-Results: {}",
            relay.hostname,
            relay.ip,
            carried.host,
            journey::clock(at),
            results_header(&carried.host, verdicts, &check)
        ),
        &in_transit,
    );
    if let Some(step) = journey
        .steps
        .iter_mut()
        .find(|s| s.from == Place::Mx && s.to == Place::Mailbox)
    {
        step.message = Some(text(&filed));
        step.note = journey::mailbox_note(true).to_string();
    }
    let attempt = journey.steps[last].attempt;
    let lookups = lookup_steps(&asked, &check, zone, &outcome, attempt, at);
    journey.steps.splice(last + 1..last + 1, lookups);
    for (i, step) in journey.steps.iter_mut().enumerate() {
        step.number = i + 1;
    }
    Some(outcome)
}

/// The followed message made real.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealMessage {
    /// As the application wrote it.
    pub submitted: Vec<u8>,
    /// As the relay sent it: its `Received:` line and, when the sender signs, the signatures.
    pub signed: Vec<u8>,
    /// As it arrived: `signed`, changed in transit when the simulation changed it.
    pub in_transit: Vec<u8>,
    /// The header hash of each signature when made, by `a=` (see
    /// [`canon::signature_hashes`]).
    pub hashes: Vec<(String, String)>,
}

/// The message the simulator carried (`content`, with its modelled signature) made real: the
/// relay adds `received` (one header field, no CRLF) and signs it for real with the keys of
/// the modelled signature's `d=` and `s=`, and a message the simulation altered has its
/// body changed after signing.
pub fn make_real(content: &[u8], received: &str, ring: &KeyRing) -> RealMessage {
    let facts = sim::content::facts_ref(content).owned();
    let submitted = unsigned(content);
    let relayed = on_top(received, &submitted);
    let signed = match &facts.dkim {
        Some((domain, selector)) => sign(&relayed, &ring.keys(domain, selector)),
        None => relayed,
    };
    let hashes = canon::signature_hashes(&signed);
    let in_transit = if facts.altered {
        alter(&signed)
    } else {
        signed.clone()
    };
    RealMessage {
        submitted,
        signed,
        in_transit,
        hashes,
    }
}

/// The steps in which the client at `from` sends the content.
fn content_steps(journey: &Journey, from: Place, to: Place) -> Vec<usize> {
    (0..journey.steps.len())
        .filter(|&i| {
            let step = &journey.steps[i];
            step.from == from && step.to == to && step.sends_content()
        })
        .collect()
}

/// The envelope sender of the `MAIL FROM:` a step's client line gave (empty for the null
/// sender), if it has one.
fn envelope_sender(step: &Step) -> Option<String> {
    step.lines
        .iter()
        .filter(|l| l.speaker == Speaker::Client)
        .find_map(|l| match Command::parse(l.text.as_bytes()) {
            Ok(Command::Mail { from, .. }) => Some(match from {
                ReversePath::Mailbox(address) => address.to_string(),
                ReversePath::Null => String::new(),
            }),
            _ => None,
        })
}

/// The simulator's content without its modelled signature and without the change made in
/// transit: the message as the application wrote it.
fn unsigned(carried: &[u8]) -> Vec<u8> {
    let (headers, body) = canon::split(carried);
    let mut out = Vec::with_capacity(carried.len());
    for field in canon::fields(headers) {
        let name = String::from_utf8_lossy(canon::name(field));
        if !name.trim().eq_ignore_ascii_case("dkim-signature") {
            out.extend_from_slice(field);
        }
    }
    out.extend_from_slice(b"\r\n");
    let marker = format!(" {}", content::ALTERED);
    out.extend(
        String::from_utf8_lossy(body)
            .replace(&marker, "")
            .into_bytes(),
    );
    out
}

/// The message changed in transit as the simulator changes it: the marker added to the end
/// of the body's last line.
fn alter(message: &[u8]) -> Vec<u8> {
    let mut out = message.to_vec();
    let end = if out.ends_with(b"\r\n") {
        out.len() - 2
    } else {
        out.len()
    };
    let marker = format!(" {}", content::ALTERED);
    out.splice(end..end, marker.bytes());
    out
}

/// `fields` (CRLF-separated, without the last CRLF) added on top of `message`.
fn on_top(fields: &str, message: &[u8]) -> Vec<u8> {
    let mut out = fields.as_bytes().to_vec();
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(message);
    out
}

fn text(message: &[u8]) -> String {
    String::from_utf8_lossy(message).replace("\r\n", "\n")
}

/// The `Authentication-Results:` body the MX adds: SPF and DMARC as the check found them,
/// DKIM as verified for real, one result per signature.
fn results_header(host: &str, verdicts: &journey::Verdicts, check: &DkimCheck) -> String {
    let mut parts = vec![host.to_string()];
    let with = |name: &str, c: &journey::Check| {
        if c.about.is_empty() {
            format!("{name}={}", c.result)
        } else {
            format!("{name}={} {}", c.result, c.about)
        }
    };
    parts.push(with("spf", &verdicts.spf));
    if check.signatures.is_empty() {
        parts.push("dkim=none".to_string());
    }
    for s in &check.signatures {
        parts.push(format!(
            "dkim={} header.d={} header.s={} header.a={}",
            s.verdict, s.domain, s.selector, s.algorithm
        ));
    }
    parts.push(with("dmarc", &verdicts.dmarc));
    parts.join(";\r\n\t")
}

fn checked(s: &crate::verify::SignatureCheck) -> Checked {
    let (broken, signed_hash, computed_hash) = match &s.broken {
        Some(Broken::BodyHash { signed, computed }) => {
            (Some("bh="), Some(signed.clone()), Some(computed.clone()))
        }
        Some(Broken::Signature { signed, computed }) => {
            (Some("b="), signed.clone(), Some(computed.clone()))
        }
        None => (None, None, None),
    };
    Checked {
        algorithm: s.algorithm.clone(),
        domain: s.domain.clone(),
        selector: s.selector.clone(),
        result: s.verdict.as_str().to_string(),
        sentence: s.sentence.clone(),
        broken: broken.map(str::to_string),
        signed_hash,
        computed_hash,
    }
}

/// What a lookup was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Spf,
    Dkim,
    Dmarc,
}

fn purpose(name: &str) -> Purpose {
    let name = name.to_ascii_lowercase();
    if name.starts_with("_dmarc.") {
        Purpose::Dmarc
    } else if name.contains("._domainkey.") {
        Purpose::Dkim
    } else {
        Purpose::Spf
    }
}

/// One step per lookup: SPF's in the order SPF asked, then each real signature's key, then
/// DMARC's.
fn lookup_steps(
    asked: &[Asked],
    check: &DkimCheck,
    zone: &Zone,
    outcome: &AuthOutcome,
    attempt: u32,
    at: u64,
) -> Vec<Step> {
    let mut steps = Vec::new();
    let spf: Vec<&Asked> = asked
        .iter()
        .filter(|a| purpose(&a.name) == Purpose::Spf)
        .collect();
    for (k, a) in spf.iter().enumerate() {
        let note = if k == 0 {
            format!(
                "The MX asks for the SPF record of {}, the envelope sender's domain. SPF {}: {}. \
                 {} of the 10 DNS-querying terms SPF allows were used.",
                a.name, outcome.spf.verdict, outcome.spf.reason, outcome.spf.dns_terms
            )
        } else {
            format!(
                "SPF follows a term of the record to {} (DNS-querying term {k} of at most 10).",
                a.name
            )
        };
        // The term that decided in this record: the include that passed in the sender's, the
        // ip4: that matched in the included one.
        let deciding = outcome
            .spf
            .matched
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case(a.name.trim_end_matches('.')))
            .map(|(_, term)| term.clone())
            .collect();
        steps.push(lookup_step(a, "SPF record", note, deciding, attempt, at));
    }
    let mut seen = Vec::new();
    for s in &check.signatures {
        let name = format!("{}._domainkey.{}", s.selector, s.domain);
        if seen.contains(&name) {
            continue;
        }
        seen.push(name.clone());
        let answer = zone.txt(&name);
        let a = Asked {
            kind: "TXT",
            name: name.clone(),
            records: answer.as_ref().map(|r| r.to_vec()).unwrap_or_default(),
            error: answer.err(),
        };
        let deciding = a
            .records
            .iter()
            .flat_map(|r| tags(r, &["k", "p"]))
            .map(|t| {
                if t.len() > 24 {
                    format!("{}…", &t[..24])
                } else {
                    t
                }
            })
            .collect();
        let note = format!(
            "The MX fetches the public key of the {} signature (s={}, d={}). {}.",
            s.algorithm, s.selector, s.domain, s.sentence
        );
        steps.push(lookup_step(&a, "DKIM key", note, deciding, attempt, at));
    }
    for a in asked.iter().filter(|a| purpose(&a.name) == Purpose::Dmarc) {
        let deciding = a
            .records
            .iter()
            .flat_map(|r| tags(r, &["p", "sp", "adkim", "aspf", "pct"]))
            .collect();
        let note = format!(
            "The MX asks for the DMARC policy of the visible From domain. DMARC {}: {}.",
            outcome.dmarc.verdict, outcome.dmarc.reason
        );
        steps.push(lookup_step(a, "DMARC record", note, deciding, attempt, at));
    }
    steps
}

/// The tags of a tag-list record with one of `names`, as written (`p=reject`).
fn tags(record: &str, names: &[&str]) -> Vec<String> {
    record
        .split(';')
        .map(str::trim)
        .filter(|t| {
            t.split_once('=')
                .is_some_and(|(n, _)| names.contains(&n.trim()))
        })
        .map(str::to_string)
        .collect()
}

fn lookup_step(
    a: &Asked,
    what: &str,
    note: String,
    deciding: Vec<String>,
    attempt: u32,
    at: u64,
) -> Step {
    let mut lines = vec![Line {
        speaker: Speaker::Note,
        text: format!("{} {}?", a.kind, a.name),
        time_us: at,
    }];
    let answer: Vec<String> = match a.error {
        Some(e) => vec![e.to_string()],
        None if a.records.is_empty() => vec!["no record".to_string()],
        None => a
            .records
            .iter()
            .map(|r| format!("{} \"{r}\"", a.kind))
            .collect(),
    };
    lines.extend(answer.into_iter().map(|text| Line {
        speaker: Speaker::Note,
        text,
        time_us: at,
    }));
    let deciding = deciding
        .into_iter()
        .filter(|d| {
            let d = d.trim_end_matches('…');
            a.records.iter().any(|r| r.contains(d))
        })
        .collect();
    Step {
        number: 0,
        title: format!("MX looks up the {what} at {}", a.name),
        from: Place::Mx,
        to: Place::Dns,
        attempt,
        time_us: at,
        clock: journey::clock(at),
        lines,
        note,
        record: Some(DnsAnswer {
            kind: a.kind.to_string(),
            name: a.name.clone(),
            records: a.records.clone(),
            error: a.error.map(|e| e.to_string()),
            deciding,
        }),
        message: None,
    }
}
