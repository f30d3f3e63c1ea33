//! Reply rules (`--rules FILE`): each `[[rule]]` of a TOML file matches a regular expression
//! against something at a stage of a session, and gives a reply. The first rule that applies
//! wins; see [`RuleSet::decide`]. Mistakes in the file come back as a [`ScenarioError`]
//! naming the file, the line and column, the field and the accepted range.
//!
//! A running server holds its rules with the rest of its changeable behaviour, which the HTTP
//! API's `PUT /api/behaviour` replaces while it runs (the next decisions use the new set).

use std::fmt;
use std::net::IpAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use regex::Regex;
use serde::Deserialize;
use serde::de::{self, Deserializer};
use smtpsim_model::scenario::{Duration as ScenarioDuration, Probability, ScenarioError};
use smtpsim_proto::{EnhancedCode, Reply, ReplyCode};

/// The largest `count` of a rule.
pub const MAX_COUNT: u64 = 1_000_000_000;

/// The longest regular expression accepted, in bytes (compiled, at most 1 MB).
const MAX_PATTERN: usize = 4096;

/// Where a rule acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleStage {
    /// When the client connects (instead of the greeting).
    Connect,
    /// The reply to HELO or EHLO.
    Helo,
    /// The reply to MAIL.
    Mail,
    /// The reply to each RCPT.
    Rcpt,
    /// The reply to DATA.
    Data,
    /// The reply after the content.
    Message,
}

/// What a rule's pattern is matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum On {
    /// The sender at MAIL, the recipient at RCPT; at DATA and after the content, the sender
    /// or any recipient.
    Address,
    /// The HELO or EHLO name.
    Ehlo,
    /// The client's IP address.
    Client,
    /// The AUTH user (a session without AUTH never matches).
    Auth,
    /// The value of the header named by `header`, after the content (unfolded).
    Header,
}

/// A regular expression, checked as it is read.
#[derive(Debug, Clone)]
struct Pattern(Regex);

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        if text.len() > MAX_PATTERN {
            return Err(de::Error::custom(format!(
                "a pattern must be at most {MAX_PATTERN} bytes long"
            )));
        }
        regex::RegexBuilder::new(&text)
            .size_limit(1 << 20)
            .build()
            .map(Pattern)
            .map_err(|e| de::Error::custom(format!("not a regular expression: {e}")))
    }
}

/// A reply code from 400 to 599.
#[derive(Debug, Clone, Copy)]
struct Code(u16);

impl<'de> Deserialize<'de> for Code {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = i64::deserialize(deserializer)?;
        match u16::try_from(code) {
            Ok(c @ 400..=599) => Ok(Code(c)),
            _ => Err(de::Error::custom(format!(
                "a code must be between 400 and 599, not {code} (a rule refuses; every other \
                 command is accepted)"
            ))),
        }
    }
}

/// An enhanced code `CLASS.SUBJECT.DETAIL`.
#[derive(Debug, Clone, Copy)]
struct Enhanced(EnhancedCode);

impl<'de> Deserialize<'de> for Enhanced {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        EnhancedCode::parse(&text)
            .filter(|e| e.class != 2)
            .map(Enhanced)
            .ok_or_else(|| {
                de::Error::custom(format!(
                    "{text:?} is not an enhanced code CLASS.SUBJECT.DETAIL with CLASS 4 or 5 and \
                     SUBJECT and DETAIL of 1 to 3 digits"
                ))
            })
    }
}

/// A count from 1 to [`MAX_COUNT`].
#[derive(Debug, Clone, Copy)]
struct Count(u64);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let n = i64::deserialize(deserializer)?;
        match u64::try_from(n) {
            Ok(n @ 1..=MAX_COUNT) => Ok(Count(n)),
            _ => Err(de::Error::custom(format!(
                "a count must be between 1 and {MAX_COUNT}, not {n}"
            ))),
        }
    }
}

/// One `[[rule]]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    name: String,
    stage: RuleStage,
    on: On,
    #[serde(default)]
    header: Option<String>,
    pattern: Pattern,
    #[serde(default)]
    probability: Option<Probability>,
    #[serde(default)]
    count: Option<Count>,
    #[serde(default)]
    after: Option<ScenarioDuration>,
    #[serde(default)]
    before: Option<ScenarioDuration>,
    code: Code,
    #[serde(default)]
    enhanced: Option<Enhanced>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    close: bool,
}

/// The file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[serde(default)]
    rule: Vec<Spec>,
}

/// One rule, ready to decide.
#[derive(Debug)]
struct Rule {
    name: String,
    stage: RuleStage,
    on: On,
    header: Option<String>,
    pattern: Regex,
    probability: Option<f64>,
    count: Option<u64>,
    /// Matches so far (for `count`).
    matched: AtomicU64,
    after: Option<std::time::Duration>,
    before: Option<std::time::Duration>,
    reply: Reply,
    close: bool,
}

/// The rules of a server, in the order of the file.
#[derive(Debug, Default)]
pub struct RuleSet {
    rules: Vec<Rule>,
    /// The TOML the rules were read from.
    source: String,
}

/// What a decision is about, for the rules to match.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Facts<'a> {
    pub(crate) stage: RuleStage,
    /// Since start-up.
    pub(crate) elapsed: std::time::Duration,
    pub(crate) client: Option<IpAddr>,
    pub(crate) ehlo: Option<&'a str>,
    pub(crate) auth: Option<&'a str>,
    pub(crate) addresses: &'a [&'a str],
    /// The content's header section, after the content.
    pub(crate) head: Option<&'a [u8]>,
}

/// A rule's decision: its name and the reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Verdict {
    pub(crate) rule: String,
    pub(crate) reply: Reply,
    /// Whether the connection closes after the reply.
    pub(crate) close: bool,
}

impl RuleSet {
    /// Reads a rules file.
    pub fn load(path: &Path) -> Result<RuleSet, ScenarioError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
            file: file.clone(),
            line: None,
            column: None,
            field: String::new(),
            message: format!("cannot read: {e}"),
        })?;
        RuleSet::parse(&text, &file)
    }

    /// Parses rules; `file` names the text in errors.
    pub fn parse(text: &str, file: &str) -> Result<RuleSet, ScenarioError> {
        let error = |offset: Option<usize>, field: String, message: String| {
            let (line, column) = offset.map(|o| line_column(text, o)).unzip();
            ScenarioError {
                file: file.to_string(),
                line,
                column,
                field,
                message,
            }
        };
        let deserializer = toml::Deserializer::parse(text).map_err(|e| {
            error(
                e.span().map(|s| s.start),
                String::new(),
                e.message().trim().to_string(),
            )
        })?;
        let parsed: RulesFile = serde_path_to_error::deserialize(deserializer).map_err(|e| {
            let field = e.path().to_string();
            let inner = e.into_inner();
            let field = if field == "." { String::new() } else { field };
            error(
                inner.span().map(|s| s.start),
                field,
                inner.message().trim().to_string(),
            )
        })?;
        let mut rules = Vec::with_capacity(parsed.rule.len());
        for (i, spec) in parsed.rule.into_iter().enumerate() {
            let rule = check(spec, &rules).map_err(|(key, message)| {
                error(
                    rule_offset(text, i, key),
                    format!("rule[{i}].{key}"),
                    message,
                )
            })?;
            rules.push(rule);
        }
        Ok(RuleSet {
            rules,
            source: text.to_string(),
        })
    }

    /// The TOML the rules were read from (empty when there are none).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// How many rules there are.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The rules' names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|r| r.name.as_str())
    }

    /// The first rule that applies to `facts`: at its stage, within its time window, its
    /// pattern matching, among the first `count` matches, and winning its draw (`draw(name)`
    /// gives a number in `[0, 1)` from the rule's stream).
    pub(crate) fn decide(
        &self,
        facts: &Facts<'_>,
        mut draw: impl FnMut(&str) -> f64,
    ) -> Option<Verdict> {
        self.rules.iter().find_map(|rule| {
            let applies = rule.stage == facts.stage
                && rule.after.is_none_or(|a| facts.elapsed >= a)
                && rule.before.is_none_or(|b| facts.elapsed < b)
                && rule.matches(facts)
                && rule
                    .count
                    .is_none_or(|n| rule.matched.fetch_add(1, Ordering::Relaxed) < n)
                && rule.probability.is_none_or(|p| draw(&rule.name) < p);
            applies.then(|| Verdict {
                rule: rule.name.clone(),
                reply: rule.reply.clone(),
                close: rule.close || rule.reply.code.get() == 421,
            })
        })
    }
}

impl Rule {
    fn matches(&self, facts: &Facts<'_>) -> bool {
        let test = |s: &str| self.pattern.is_match(s);
        match self.on {
            On::Address => facts.addresses.iter().any(|a| test(a)),
            On::Ehlo => facts.ehlo.is_some_and(test),
            On::Client => facts
                .client
                .is_some_and(|ip| test(&ip.to_canonical().to_string())),
            On::Auth => facts.auth.is_some_and(test),
            On::Header => match (facts.head, &self.header) {
                (Some(head), Some(name)) => header_values(head, name).iter().any(|v| test(v)),
                _ => false,
            },
        }
    }
}

/// Checks what serde cannot see field by field; an error names the key and what is wrong.
fn check(spec: Spec, before: &[Rule]) -> Result<Rule, (&'static str, String)> {
    if spec.name.trim().is_empty() {
        return Err(("name", "a rule needs a name".to_string()));
    }
    if before.iter().any(|r| r.name == spec.name) {
        return Err((
            "name",
            format!("a rule named {:?} comes earlier", spec.name),
        ));
    }
    match (spec.on, &spec.header) {
        (On::Header, None) => {
            return Err((
                "header",
                "on = \"header\" needs the header's name".to_string(),
            ));
        }
        (On::Header, Some(_)) if spec.stage != RuleStage::Message => {
            return Err((
                "on",
                "a header is matched only at stage \"message\"".to_string(),
            ));
        }
        (On::Header, Some(name)) if name.is_empty() || name.contains([':', ' ']) => {
            return Err(("header", format!("{name:?} is not a header name")));
        }
        (On::Header, Some(_)) => {}
        (_, Some(_)) => return Err(("header", "header is only for on = \"header\"".to_string())),
        (_, None) => {}
    }
    let unknown = match (spec.on, spec.stage) {
        (On::Address, RuleStage::Connect | RuleStage::Helo) => Some("no address is known"),
        (On::Ehlo, RuleStage::Connect) => Some("no EHLO name is known"),
        _ => None,
    };
    if let Some(why) = unknown {
        return Err(("on", format!("{why} at this stage")));
    }
    let code = ReplyCode::new(spec.code.0).ok_or(("code", "not a reply code".to_string()))?;
    if let Some(Enhanced(e)) = spec.enhanced
        && u16::from(e.class) != spec.code.0 / 100
    {
        return Err((
            "enhanced",
            format!(
                "the enhanced code {e} must start with {}, as the code {} does",
                spec.code.0 / 100,
                spec.code.0
            ),
        ));
    }
    let window = |d: Option<ScenarioDuration>| d.map(|d| std::time::Duration::from(d.0));
    let (after, before_end) = (window(spec.after), window(spec.before));
    if let (Some(a), Some(b)) = (after, before_end)
        && a >= b
    {
        return Err(("before", "before must come later than after".to_string()));
    }
    let text = spec
        .text
        .unwrap_or_else(|| format!("Refused by the rule {}", spec.name));
    Ok(Rule {
        reply: Reply::new(
            code,
            spec.enhanced.map(|e| e.0),
            text.replace(['\r', '\n'], " "),
        ),
        name: spec.name,
        stage: spec.stage,
        on: spec.on,
        header: spec.header,
        pattern: spec.pattern.0,
        probability: spec.probability.map(|p| p.0),
        count: spec.count.map(|c| c.0),
        matched: AtomicU64::new(0),
        after,
        before: before_end,
        close: spec.close,
    })
}

/// The values of the header `name` (any case) in a header section, unfolded and trimmed.
fn header_values(head: &[u8], name: &str) -> Vec<String> {
    let text = String::from_utf8_lossy(head);
    let mut values: Vec<String> = Vec::new();
    let mut current: Option<String> = None;
    for line in text.split("\r\n") {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some(v) = &mut current {
                v.push(' ');
                v.push_str(line.trim());
            }
            continue;
        }
        values.extend(current.take());
        current = line
            .split_once(':')
            .filter(|(n, _)| n.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_string());
    }
    values.extend(current);
    values
}

/// Where `key =` of the `index`-th `[[rule]]` is written (or the rule's header line).
fn rule_offset(text: &str, index: usize, key: &str) -> Option<usize> {
    let mut offset = 0;
    let mut starts = Vec::new();
    for line in text.split_inclusive('\n') {
        if line.trim() == "[[rule]]" {
            starts.push(offset);
        }
        offset += line.len();
    }
    let start = *starts.get(index)?;
    let end = starts.get(index + 1).copied().unwrap_or(text.len());
    let mut at = start;
    for line in text[start..end].split_inclusive('\n') {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix(key)
            && rest.trim_start().starts_with('=')
        {
            return Some(at + (line.len() - trimmed.len()));
        }
        at += line.len();
    }
    Some(start)
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, column)
}

impl fmt::Display for RuleStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            RuleStage::Connect => "connect",
            RuleStage::Helo => "helo",
            RuleStage::Mail => "mail",
            RuleStage::Rcpt => "rcpt",
            RuleStage::Data => "data",
            RuleStage::Message => "message",
        };
        f.write_str(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[[rule]]
name = "no-bob"
stage = "rcpt"
on = "address"
pattern = "^bob@"
code = 550
enhanced = "5.1.1"
text = "No Bob here"

[[rule]]
name = "spam-subject"
stage = "message"
on = "header"
header = "subject"
pattern = "(?i)viagra"
code = 554
close = true

[[rule]]
name = "twice"
stage = "mail"
on = "client"
pattern = "^127\\."
count = 2
after = "0s"
before = "1h"
code = 451
"#;

    fn facts<'a>(stage: RuleStage, addresses: &'a [&'a str], head: Option<&'a [u8]>) -> Facts<'a> {
        Facts {
            stage,
            elapsed: std::time::Duration::from_secs(1),
            client: Some("127.0.0.1".parse().unwrap()),
            ehlo: Some("c.test"),
            auth: None,
            addresses,
            head,
        }
    }

    #[test]
    fn rules_decide_first_match_within_count() {
        let set = RuleSet::parse(GOOD, "rules.toml").unwrap();
        assert_eq!(
            set.names().collect::<Vec<_>>(),
            ["no-bob", "spam-subject", "twice"]
        );
        let never = |_: &str| panic!("no probability");
        let bob = set
            .decide(&facts(RuleStage::Rcpt, &["bob@x"], None), never)
            .unwrap();
        assert_eq!(bob.rule, "no-bob");
        assert_eq!(bob.reply.to_string(), "550 5.1.1 No Bob here");
        assert!(!bob.close);
        assert_eq!(
            set.decide(&facts(RuleStage::Rcpt, &["alice@x"], None), never),
            None
        );
        let head = b"From: a\r\nSubject: cheap\r\n VIAGRA now\r\n\r\n";
        let spam = set
            .decide(&facts(RuleStage::Message, &[], Some(head)), never)
            .unwrap();
        assert_eq!((spam.rule.as_str(), spam.close), ("spam-subject", true));
        assert_eq!(
            spam.reply.to_string(),
            "554 Refused by the rule spam-subject"
        );
        let mail = facts(RuleStage::Mail, &["a@x"], None);
        assert!(set.decide(&mail, never).is_some());
        assert!(set.decide(&mail, never).is_some());
        assert_eq!(set.decide(&mail, never), None, "the first 2 matches only");
    }

    #[test]
    fn probability_and_window() {
        let text = "[[rule]]\nname = \"half\"\nstage = \"helo\"\non = \"ehlo\"\npattern = \".\"\n\
                    probability = 0.5\nafter = \"2s\"\ncode = 421\n";
        let set = RuleSet::parse(text, "r").unwrap();
        let early = facts(RuleStage::Helo, &[], None);
        assert_eq!(set.decide(&early, |_| 0.0), None, "before the window");
        let late = Facts {
            elapsed: std::time::Duration::from_secs(3),
            ..early
        };
        assert_eq!(set.decide(&late, |_| 0.7), None, "lost the draw");
        let won = set.decide(&late, |name| {
            assert_eq!(name, "half");
            0.2
        });
        assert!(won.is_some_and(|v| v.close), "421 closes");
    }

    fn err(text: &str) -> String {
        RuleSet::parse(text, "rules.toml").unwrap_err().to_string()
    }

    #[test]
    fn mistakes_name_file_line_column_field_and_range() {
        let rule = |extra: &str| {
            format!(
                "[[rule]]\nname = \"r\"\nstage = \"rcpt\"\non = \"address\"\npattern = \"x\"\n{extra}\n"
            )
        };
        let e = err(&rule("code = 250"));
        assert!(
            e.starts_with(
                "rules.toml:6:8: rule[0].code: a code must be between 400 and 599, not 250"
            ),
            "{e}"
        );
        let e = err(&rule("code = 550\nprobability = 1.5"));
        assert!(e.starts_with("rules.toml:7:"), "{e}");
        assert!(
            e.contains("rule[0].probability") && e.contains("between 0 and 1"),
            "{e}"
        );
        let e = err(&rule("code = 550\ncolor = 1"));
        assert!(
            e.starts_with("rules.toml:7:1: rule[0]") && e.contains("unknown field `color`"),
            "{e}"
        );
        let e = err(&rule("code = 550\ncount = 0"));
        assert!(
            e.contains("rule[0].count: a count must be between 1 and 1000000000"),
            "{e}"
        );
        let e = err(&rule("code = 550\nenhanced = \"4.1.1\""));
        assert!(
            e.starts_with(
                "rules.toml:7:1: rule[0].enhanced: the enhanced code 4.1.1 must start with 5"
            ),
            "{e}"
        );
        let e = err(&rule("code = 550\nafter = \"1m\"\nbefore = \"10s\""));
        assert!(e.starts_with("rules.toml:8:1: rule[0].before:"), "{e}");
        let e = err(
            "[[rule]]\nname = \"r\"\nstage = \"rcpt\"\non = \"address\"\npattern = \"(\"\ncode = 550\n",
        );
        assert!(
            e.starts_with("rules.toml:5:11: rule[0].pattern: not a regular expression"),
            "{e}"
        );
        let e = err(
            "[[rule]]\nname = \"r\"\nstage = \"mail\"\non = \"header\"\nheader = \"Subject\"\npattern = \"x\"\ncode = 550\n",
        );
        assert!(
            e.contains("rule[0].on: a header is matched only at stage \"message\""),
            "{e}"
        );
        let e = err(
            "[[rule]]\nname = \"r\"\nstage = \"quit\"\non = \"address\"\npattern = \"x\"\ncode = 550\n",
        );
        assert!(
            e.starts_with("rules.toml:3:9: rule[0].stage: unknown variant `quit`"),
            "{e}"
        );
        let twice = format!("{}{}", rule("code = 550"), rule("code = 551"));
        assert!(
            err(&twice).contains("rules.toml:8:1: rule[1].name: a rule named \"r\" comes earlier")
        );
    }

    #[test]
    fn a_set_keeps_the_text_it_was_read_from() {
        let set = RuleSet::parse(GOOD, "r").unwrap();
        assert_eq!((set.len(), set.source()), (3, GOOD));
        assert_eq!(RuleSet::default().source(), "");
    }
}
