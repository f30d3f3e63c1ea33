//! `[[relay.automation]]`: rules the relay applies to the replies it gets, as shaping
//! engines of real relays do: when a reply matches (code, enhanced code, a regular expression
//! over its text) often enough, suspend the domain or its provider for a while, or bounce or
//! expire what is queued for it.

use std::fmt;

use serde::Deserialize;

use smtpsim_proto::reply::EnhancedCode;

use super::Scenario;
use super::shaping::Shaping;
use super::units::Duration;
use super::validate::{Problem, problem};

/// One automation rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// A name, for `events.csv`, the summary and errors.
    pub name: String,
    /// The reply code that matches (such as 421); any if absent.
    #[serde(default)]
    pub code: Option<u16>,
    /// The enhanced status code that matches (such as `"4.7.28"`); any if absent.
    #[serde(default)]
    pub enhanced_code: Option<Enhanced>,
    /// A regular expression (the `regex` crate's syntax) that must match somewhere in the
    /// reply's text; any text if absent.
    #[serde(default)]
    pub text: Option<TextPattern>,
    /// Only replies from the domains of this provider (a `[[relay.providers]]` name) match.
    #[serde(default)]
    pub provider: Option<String>,
    /// What the action applies to: the domain that answered, or its provider.
    #[serde(default)]
    pub target: Target,
    /// How many matches fire the rule; every match if absent.
    #[serde(default)]
    pub trigger: Option<Trigger>,
    /// What the relay does when the rule fires.
    pub action: Action,
    /// For how long.
    pub duration: Duration,
    /// With `action = "suspend"`: when the deliveries held by the suspension go once it ends.
    #[serde(default)]
    pub release: ReleaseMode,
    /// With `release = "spread"`: the window the held deliveries are spread over (ignored
    /// with `"all-at-once"`, so that one file can be swept over both).
    #[serde(default)]
    pub release_window: Option<Duration>,
    /// With `action = "shape"`: the shaping values in force for the duration (the others
    /// stay as configured).
    #[serde(default)]
    pub shape: Option<Shaping>,
    /// With `action = "shape"`: when the duration ends, the configured values come back in
    /// these steps; all at once if absent.
    #[serde(default)]
    pub ramp: Option<Ramp>,
}

/// A stepwise return to the configured shaping values after a `shape` action: step `k` of
/// `steps` puts values `k/steps` of the way back in force, the first when the duration ends,
/// the next ones `every` apart; the last is the configured values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ramp {
    /// How many steps (1 to [`MAX_RAMP_STEPS`]).
    pub steps: u32,
    /// The time between steps (above 0).
    pub every: Duration,
}

/// The most steps of a ramp.
pub const MAX_RAMP_STEPS: u32 = 1000;

impl Rule {
    /// When the deliveries a suspension held go once it ends.
    pub fn release(&self) -> Release {
        match (self.release, self.release_window) {
            (ReleaseMode::Spread, Some(window)) => Release::Spread(window),
            _ => Release::AllAtOnce,
        }
    }
}

/// How a suspension releases what it held, as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReleaseMode {
    /// All at once.
    #[default]
    AllAtOnce,
    /// Over `release_window`.
    Spread,
}

/// What a rule's action applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// The domain whose MX host answered.
    #[default]
    Domain,
    /// The provider of that domain (replies from domains of no provider do not match).
    Provider,
}

/// N matches within a window fire the rule.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trigger {
    /// How many matches (at least 1).
    pub matches: u32,
    /// Within how long (above 0).
    pub within: Duration,
}

/// What a rule does when it fires, for its duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// No attempts to the target; its deliveries wait for the end.
    Suspend,
    /// Deliveries to the target that wait for a connection bounce.
    Bounce,
    /// Deliveries to the target that wait for a connection expire.
    Expire,
    /// The rule's `shape` values are in force on the target; when the duration ends, the
    /// configured values come back at once or in the steps of `ramp`.
    Shape,
}

/// When the deliveries a suspension held go once it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Release {
    /// All at once, when it ends (the "standing wave" real MTAs produce).
    #[default]
    AllAtOnce,
    /// Each at a uniformly drawn time within this window after the end.
    Spread(Duration),
}

/// An enhanced status code to match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Enhanced(pub EnhancedCode);

impl TryFrom<String> for Enhanced {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        EnhancedCode::parse(&text)
            .map(Enhanced)
            .ok_or_else(|| format!("{text:?} is not an enhanced status code such as \"4.7.28\""))
    }
}

/// A compiled regular expression over a reply's text.
#[derive(Clone, Deserialize)]
#[serde(try_from = "String")]
pub struct TextPattern(pub regex::Regex);

impl TryFrom<String> for TextPattern {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        regex::RegexBuilder::new(&text)
            .size_limit(1 << 20)
            .build()
            .map(TextPattern)
            .map_err(|e| {
                // The regex crate draws the pattern and a caret over several lines; an error
                // here is one line, so only what is wrong stays.
                let message = e.to_string();
                let what = message
                    .lines()
                    .rev()
                    .find(|line| !line.trim().is_empty())
                    .unwrap_or_default()
                    .trim()
                    .trim_start_matches("error: ")
                    .to_string();
                format!("{text:?} is not a regular expression: {what}")
            })
    }
}

impl fmt::Debug for TextPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0.as_str())
    }
}

/// Checks `relay.automation`: unique names, a known provider, a trigger of at least one match
/// within a time above 0, a duration above 0, a provider target only with providers.
pub(super) fn check(s: &Scenario) -> Result<(), Problem> {
    let rules = &s.relay.automation;
    for (i, rule) in rules.iter().enumerate() {
        let at = |f: &str| format!("relay.automation[{i}].{f}");
        if rule.name.trim().is_empty() {
            return Err(problem(at("name"), "a rule needs a name"));
        }
        if let Some(j) = rules[..i].iter().position(|r| r.name == rule.name) {
            return Err(problem(
                at("name"),
                format!("{:?} is also the name of relay.automation[{j}]", rule.name),
            ));
        }
        if let Some(code) = rule.code
            && !(200..=599).contains(&code)
        {
            return Err(problem(
                at("code"),
                format!("a reply code is from 200 to 599, not {code}"),
            ));
        }
        if let Some(name) = &rule.provider
            && !s.relay.providers.iter().any(|p| &p.name == name)
        {
            let known: Vec<&str> = s.relay.providers.iter().map(|p| p.name.as_str()).collect();
            return Err(problem(
                at("provider"),
                format!(
                    "no [[relay.providers]] entry named {name:?} (known: {})",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            ));
        }
        if rule.target == Target::Provider && s.relay.providers.is_empty() {
            return Err(problem(
                at("target"),
                "target = \"provider\" needs [[relay.providers]]",
            ));
        }
        if let Some(trigger) = &rule.trigger {
            if trigger.matches == 0 {
                return Err(problem(at("trigger.matches"), "must be at least 1, not 0"));
            }
            if trigger.within.0.is_zero() {
                return Err(problem(at("trigger.within"), "must be above 0"));
            }
        }
        if rule.duration.0.is_zero() {
            return Err(problem(at("duration"), "must be above 0"));
        }
        match (rule.release, rule.release_window) {
            (ReleaseMode::Spread, None) => {
                return Err(problem(
                    at("release"),
                    "release = \"spread\" needs release_window, such as \"20m\"",
                ));
            }
            (ReleaseMode::Spread, Some(window)) if window.0.is_zero() => {
                return Err(problem(at("release_window"), "must be above 0"));
            }
            _ => {}
        }
        if rule.release == ReleaseMode::Spread && rule.action != Action::Suspend {
            return Err(problem(
                at("release"),
                "release applies to action = \"suspend\" only",
            ));
        }
        check_shape(rule, &at)?;
    }
    Ok(())
}

/// Checks a rule's `shape` and `ramp`: given with `action = "shape"` only, a shape with at
/// least one valid value, a ramp of 1 to [`MAX_RAMP_STEPS`] steps more than 0 apart.
fn check_shape(rule: &Rule, at: &dyn Fn(&str) -> String) -> Result<(), Problem> {
    if rule.action != Action::Shape {
        for (given, field) in [
            (rule.shape.is_some(), "shape"),
            (rule.ramp.is_some(), "ramp"),
        ] {
            if given {
                return Err(problem(
                    at(field),
                    format!("{field} applies to action = \"shape\" only"),
                ));
            }
        }
        return Ok(());
    }
    let Some(shape) = &rule.shape else {
        return Err(problem(
            at("action"),
            "action = \"shape\" needs shape, such as { max_message_rate = \"1/min\", \
             connection_limit = 1 }",
        ));
    };
    if shape.is_empty() {
        return Err(problem(
            at("shape"),
            "give at least one shaping value: connection_limit, max_connection_rate, \
             max_message_rate, max_deliveries_per_connection or idle_timeout",
        ));
    }
    shape.check(&|f| at(&format!("shape.{f}")))?;
    if let Some(ramp) = &rule.ramp {
        if !(1..=MAX_RAMP_STEPS).contains(&ramp.steps) {
            return Err(problem(
                at("ramp.steps"),
                format!(
                    "a ramp has 1 to {MAX_RAMP_STEPS} steps, not {} (leave ramp out to return \
                     to the configured values at once)",
                    ramp.steps
                ),
            ));
        }
        if ramp.every.0.is_zero() {
            return Err(problem(at("ramp.every"), "must be above 0"));
        }
    }
    Ok(())
}
