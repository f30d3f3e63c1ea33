//! The behaviour as `GET /api/behaviour` shows it and `PUT /api/behaviour` takes it: a JSON
//! document read whole (unknown fields refused), checked whole, then put in force in one swap.
//! A field left out of a `PUT` is off (or empty).

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use smtpsim_des::SimDuration;
use smtpsim_model::scenario::{
    Dist, Duration as ScenarioDuration, FullMailboxes, Greylisting, Probability, Rate, TokenBucket,
};

use crate::config::Chaos;
use crate::live::BehaviourSettings;
use crate::rules::RuleSet;

/// Why a document was refused: the dotted path of the field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The field, such as `greylisting.delay` (empty when the body as a whole is wrong).
    pub field: String,
    /// What is wrong, and the accepted range.
    pub error: String,
}

impl FieldError {
    fn new(field: &str, error: impl Into<String>) -> FieldError {
        FieldError {
            field: field.to_string(),
            error: error.into(),
        }
    }
}

/// The changeable behaviour, the reply rules among it: everything is checked in
/// [`BehaviourDoc::apply`] and carried in one [`BehaviourSettings`], swapped whole.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BehaviourDoc {
    /// Defer each new (client, sender, recipient) with 451 4.7.1.
    #[serde(default)]
    pub greylisting: Option<GreylistDoc>,
    /// Messages per client address (451 4.7.28 at MAIL over it).
    #[serde(default)]
    pub message_rate: Option<RateDoc>,
    /// New connections per client address (421 4.7.0 over it).
    #[serde(default)]
    pub connection_rate: Option<RateDoc>,
    /// Fraction of addresses that do not exist (550 5.1.1), 0 to 1.
    #[serde(default)]
    pub unknown_users: f64,
    /// Addresses that do not exist (550 5.1.1).
    #[serde(default)]
    pub unknown: Vec<String>,
    /// Full mailboxes.
    #[serde(default)]
    pub full_mailboxes: Option<FullDoc>,
    /// Probability that a recipient is refused with 451 4.3.0, 0 to 1.
    #[serde(default)]
    pub temp_failures: f64,
    /// Refuse mail over a connection without TLS (530 5.7.0).
    #[serde(default)]
    pub require_tls: bool,
    /// Time the server takes to answer, 0s to 1h (constant).
    #[serde(default = "zero")]
    pub latency: String,
    /// Failures at random.
    #[serde(default)]
    pub chaos: ChaosDoc,
    /// The reply rules, as the TOML of a `--rules` file (empty: none); their counts start
    /// afresh.
    #[serde(default)]
    pub rules: String,
}

fn zero() -> String {
    "0s".to_string()
}

/// `greylisting`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GreylistDoc {
    /// How long a new triplet waits, 1s to 1d.
    pub delay: String,
    /// A triplet not retried within this time is forgotten, 1s to 30d (default 4h).
    #[serde(default = "four_hours")]
    pub window: String,
    /// Messages passed after which a client address is not greylisted (0: never).
    #[serde(default)]
    pub whitelist_after: u32,
}

fn four_hours() -> String {
    "4h".to_string()
}

/// `message_rate`, `connection_rate`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateDoc {
    /// Such as `"10/s"` or `"600/min"`: above 0, at most 1000000/s.
    pub rate: String,
    /// Bucket size, 1 to 1000000 (default 1).
    #[serde(default = "one")]
    pub burst: u32,
}

fn one() -> u32 {
    1
}

/// `full_mailboxes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FullDoc {
    /// Fraction of mailboxes that are full, 0 to 1.
    pub fraction: f64,
    /// 552 5.2.2 instead of 452 4.2.2.
    #[serde(default)]
    pub permanent: bool,
}

/// `chaos`: probabilities of hanging up at each stage, 0 to 1.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChaosDoc {
    /// At the greeting.
    #[serde(default)]
    pub connect: f64,
    /// At HELO/EHLO.
    #[serde(default)]
    pub helo: f64,
    /// At MAIL.
    #[serde(default)]
    pub mail: f64,
    /// At each RCPT.
    #[serde(default)]
    pub rcpt: f64,
    /// At DATA.
    #[serde(default)]
    pub data: f64,
    /// At the end of data.
    #[serde(default)]
    pub message: f64,
    /// Hang up without a reply instead of answering 421.
    #[serde(default)]
    pub drop: bool,
}

/// The largest rate and burst accepted.
const MAX_RATE: f64 = 1e6;

impl BehaviourDoc {
    /// Reads a JSON body: syntax, types and unknown fields, each error naming its field.
    pub fn parse(body: &[u8]) -> Result<BehaviourDoc, FieldError> {
        let mut de = serde_json::Deserializer::from_slice(body);
        let doc: BehaviourDoc = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let field = if path == "." || path == "?" {
                String::new()
            } else {
                path
            };
            FieldError::new(&field, e.inner().to_string())
        })?;
        de.end()
            .map_err(|e| FieldError::new("", format!("after the document: {e}")))?;
        Ok(doc)
    }

    /// The document of what is in force.
    pub fn of(given: &BehaviourSettings) -> BehaviourDoc {
        let b = &given.behaviour;
        let rate = |bucket: &Option<TokenBucket>| {
            bucket.as_ref().map(|t| RateDoc {
                rate: format!("{}/s", t.rate.per_second),
                burst: t.burst,
            })
        };
        let c = given.chaos;
        BehaviourDoc {
            greylisting: b.greylisting.as_ref().map(|g| GreylistDoc {
                delay: g.delay.to_string(),
                window: g.window.to_string(),
                whitelist_after: g.whitelist_after,
            }),
            message_rate: rate(&b.rate_limits.messages),
            connection_rate: rate(&b.rate_limits.connections),
            unknown_users: b.unknown_users.0,
            unknown: given.unknown.clone(),
            full_mailboxes: b.full_mailboxes.as_ref().map(|f| FullDoc {
                fraction: f.fraction.0,
                permanent: f.permanent,
            }),
            temp_failures: b.temp_failures.0,
            require_tls: b.require_tls,
            latency: ScenarioDuration::from_micros(b.latency.mean().round() as u64).to_string(),
            chaos: ChaosDoc {
                connect: c.connect,
                helo: c.helo,
                mail: c.mail,
                rcpt: c.rcpt,
                data: c.data,
                message: c.message,
                drop: c.drop,
            },
            rules: given.rules.source().to_string(),
        }
    }

    /// Checks every field and makes the settings `current` becomes; nothing is changed when
    /// a field is wrong.
    pub fn apply(&self, current: &BehaviourSettings) -> Result<BehaviourSettings, FieldError> {
        let mut b = current.behaviour.clone();
        // The scenario's greylisting reply, if any, stays: the page does not edit it.
        let reply = b.greylisting.as_ref().and_then(|g| g.reply.clone());
        b.greylisting = match &self.greylisting {
            None => None,
            Some(g) => Some(Greylisting {
                delay: duration("greylisting.delay", &g.delay, "1s", "1d")?,
                window: duration("greylisting.window", &g.window, "1s", "30d")?,
                whitelist_after: g.whitelist_after,
                reply,
            }),
        };
        let previous = b.rate_limits.clone();
        b.rate_limits.messages = bucket("message_rate", &self.message_rate, &previous.messages)?;
        b.rate_limits.connections = bucket(
            "connection_rate",
            &self.connection_rate,
            &previous.connections,
        )?;
        b.unknown_users = probability("unknown_users", self.unknown_users)?;
        b.full_mailboxes = match &self.full_mailboxes {
            None => None,
            Some(f) => Some(FullMailboxes {
                fraction: probability("full_mailboxes.fraction", f.fraction)?,
                permanent: f.permanent,
            }),
        };
        b.temp_failures = probability("temp_failures", self.temp_failures)?;
        b.require_tls = self.require_tls;
        b.latency = Dist::constant(duration("latency", &self.latency, "0s", "1h")?);
        let mut chaos = Chaos {
            drop: self.chaos.drop,
            ..Chaos::default()
        };
        let c = self.chaos;
        for (stage, p) in [
            ("connect", c.connect),
            ("helo", c.helo),
            ("mail", c.mail),
            ("rcpt", c.rcpt),
            ("data", c.data),
            ("message", c.message),
        ] {
            let field = format!("chaos.{stage}");
            chaos
                .set(stage, probability(&field, p)?.0)
                .map_err(|e| FieldError::new(&field, e))?;
        }
        for (i, address) in self.unknown.iter().enumerate() {
            if address.trim().is_empty() || address.contains(['<', '>', ' ']) {
                return Err(FieldError::new(
                    &format!("unknown[{i}]"),
                    format!("{address:?} is not an address such as user@example.com"),
                ));
            }
        }
        Ok(BehaviourSettings {
            behaviour: b,
            unknown: self.unknown.clone(),
            chaos,
            rules: Arc::new(rules(&self.rules)?),
        })
    }
}

/// The reply rules of `text`; an error names the rule's field (`rules.rule[0].code`) and
/// says where in the text it is.
fn rules(text: &str) -> Result<RuleSet, FieldError> {
    RuleSet::parse(text, "rules").map_err(|e| {
        let field = match e.field.as_str() {
            "" => "rules".to_string(),
            inner => format!("rules.{inner}"),
        };
        let at = match (e.line, e.column) {
            (Some(line), Some(column)) => format!(" (line {line}, column {column})"),
            _ => String::new(),
        };
        FieldError::new(&field, format!("{}{at}", e.message))
    })
}

fn duration(field: &str, s: &str, min: &str, max: &str) -> Result<ScenarioDuration, FieldError> {
    let d: ScenarioDuration = s.parse().map_err(|e: String| FieldError::new(field, e))?;
    let (lo, hi) = (
        min.parse::<SimDuration>().expect("a valid bound"),
        max.parse::<SimDuration>().expect("a valid bound"),
    );
    if d.0 < lo || d.0 > hi {
        return Err(FieldError::new(
            field,
            format!("{s} is not between {min} and {max}"),
        ));
    }
    Ok(d)
}

fn probability(field: &str, p: f64) -> Result<Probability, FieldError> {
    if (0.0..=1.0).contains(&p) {
        Ok(Probability(p))
    } else {
        Err(FieldError::new(
            field,
            format!("a probability must be between 0 and 1, not {p}"),
        ))
    }
}

/// A rate limit; the reply over it stays as it was configured.
fn bucket(
    field: &str,
    doc: &Option<RateDoc>,
    previous: &Option<TokenBucket>,
) -> Result<Option<TokenBucket>, FieldError> {
    let Some(doc) = doc else { return Ok(None) };
    let rate_field = format!("{field}.rate");
    let rate: Rate = doc
        .rate
        .parse()
        .map_err(|e: String| FieldError::new(&rate_field, e))?;
    if !(rate.per_second > 0.0 && rate.per_second <= MAX_RATE) {
        return Err(FieldError::new(
            &rate_field,
            format!(
                "a rate must be above 0 and at most {MAX_RATE}/s, not {}",
                doc.rate
            ),
        ));
    }
    if !(1..=MAX_RATE as u32).contains(&doc.burst) {
        return Err(FieldError::new(
            &format!("{field}.burst"),
            format!(
                "a burst must be between 1 and {MAX_RATE}, not {}",
                doc.burst
            ),
        ));
    }
    Ok(Some(TokenBucket {
        rate,
        burst: doc.burst,
        reply: previous.as_ref().and_then(|p| p.reply.clone()),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use smtpsim_model::scenario::Behaviour;

    fn start() -> BehaviourSettings {
        BehaviourSettings {
            behaviour: Behaviour::default(),
            unknown: Vec::new(),
            chaos: Chaos::default(),
            rules: Arc::default(),
        }
    }

    fn refused(body: &str) -> FieldError {
        BehaviourDoc::parse(body.as_bytes())
            .and_then(|doc| doc.apply(&start()))
            .unwrap_err()
    }

    #[test]
    fn a_document_reads_back_as_it_was_put() {
        let body = r#"{"greylisting": {"delay": "30s"}, "message_rate": {"rate": "10/s", "burst": 3},
            "unknown": ["nobody@example.net"], "latency": "250ms",
            "chaos": {"rcpt": 0.5, "drop": true}}"#;
        let doc = BehaviourDoc::parse(body.as_bytes()).unwrap();
        let settings = doc.apply(&start()).unwrap();
        let back = BehaviourDoc::of(&settings);
        assert_eq!(back, doc);
        assert_eq!(settings.chaos.rcpt, 0.5);
        assert!(settings.chaos.drop);
        assert_eq!(
            BehaviourDoc::of(&start()),
            BehaviourDoc::parse(b"{}").unwrap()
        );
    }

    #[test]
    fn bad_fields_are_named() {
        let cases = [
            (r#"{"greylist": {}}"#, "greylist"),
            (r#"{"greylisting": {"delay": "0s"}}"#, "greylisting.delay"),
            (
                r#"{"greylisting": {"delay": "30s", "extra": 1}}"#,
                "greylisting.extra",
            ),
            (r#"{"chaos": {"rcpt": 1.5}}"#, "chaos.rcpt"),
            (r#"{"chaos": {"quit": 0.1}}"#, "chaos.quit"),
            (r#"{"message_rate": {"rate": "0/s"}}"#, "message_rate.rate"),
            (
                r#"{"connection_rate": {"rate": "1/s", "burst": 0}}"#,
                "connection_rate.burst",
            ),
            (r#"{"latency": "2h"}"#, "latency"),
            (r#"{"unknown_users": "half"}"#, "unknown_users"),
            (r#"{"unknown": ["ok@example.com", "<bad>"]}"#, "unknown[1]"),
            (
                r#"{"full_mailboxes": {"fraction": -1}}"#,
                "full_mailboxes.fraction",
            ),
        ];
        for (body, field) in cases {
            let e = refused(body);
            assert_eq!(e.field, field, "{body}: {e:?}");
            assert!(!e.error.is_empty());
        }
        assert_eq!(refused("{").field, "");
        assert_eq!(refused("{} []").field, "");
        assert!(
            refused(r#"{"latency": "2h"}"#)
                .error
                .contains("between 0s and 1h")
        );
    }
}
