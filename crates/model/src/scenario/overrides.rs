//! Changing fields of a scenario file from the command line (`--set relay.retry.initial=5m`).
//!
//! A [`Setting`] is applied to the TOML document before it is read into a [`Scenario`], so
//! a misspelt path or a bad value fails exactly as it would in the file, with the field named
//! and the `--set` that caused it added to the message.
//!
//! Paths are the dotted paths of scenario errors: `relay.retry.initial`,
//! `simulation.messages`, `senders[0].arrivals.rate`, `domains[2].behaviour.greylisting.delay`.
//! A value is read as a TOML value when it is one (`2`, `1.5`, `true`, `"text"`,
//! `{ dist = "uniform", min = "1s", max = "2s" }`) and as a string otherwise (`60s`, `10/s`).

use std::fmt;
use std::str::FromStr;

use toml_edit::{DocumentMut, InlineTable, Item, TableLike, Value};

use super::{Scenario, ScenarioError};

/// One `path=value` assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// The dotted path of the field, such as `relay.retry.initial`.
    pub path: String,
    /// The value as written.
    pub value: String,
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.path, self.value)
    }
}

/// A field and the values it takes in a sweep: `path=v1,v2,v3`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter {
    /// The dotted path of the field.
    pub path: String,
    /// The values, in the order given.
    pub values: Vec<String>,
}

impl FromStr for Parameter {
    type Err = String;

    /// Parses `path=v1,v2`. Commas inside quotes, brackets or braces do not split values, so
    /// `latency={ dist = "uniform", min = "1s", max = "2s" },"3s"` has two values.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (path, values) = s
            .split_once('=')
            .ok_or_else(|| format!("{s:?}: expected path=value[,value...]"))?;
        let path = path.trim();
        parse_path(path).map_err(|e| format!("{s:?}: {e}"))?;
        let values = split_values(values);
        if values.iter().any(|v| v.is_empty()) {
            return Err(format!("{s:?}: empty value"));
        }
        Ok(Parameter {
            path: path.to_string(),
            values,
        })
    }
}

impl Parameter {
    /// The setting of this parameter's `i`th value.
    pub fn setting(&self, i: usize) -> Setting {
        Setting {
            path: self.path.clone(),
            value: self.values[i].clone(),
        }
    }
}

/// Splits on commas outside quotes, brackets and braces; trims each value.
fn split_values(text: &str) -> Vec<String> {
    let mut values = Vec::new();
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut current = String::new();
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[' | '{') => depth += 1,
            (None, ']' | '}') => depth -= 1,
            (None, ',') if depth == 0 => {
                values.push(current.trim().to_string());
                current.clear();
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    values.push(current.trim().to_string());
    values
}

/// One step of a path: a key, and an index when the key holds an array.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Segment<'a> {
    key: &'a str,
    index: Option<usize>,
}

fn parse_path(path: &str) -> Result<Vec<Segment<'_>>, String> {
    if path.is_empty() {
        return Err("empty path".to_string());
    }
    path.split('.')
        .map(|part| {
            let (key, index) = match part.split_once('[') {
                Some((key, rest)) => {
                    let digits = rest
                        .strip_suffix(']')
                        .ok_or_else(|| format!("`{part}`: expected key[index]"))?;
                    let index = digits
                        .parse::<usize>()
                        .map_err(|_| format!("`{part}`: the index must be a whole number"))?;
                    (key, Some(index))
                }
                None => (part, None),
            };
            let valid = !key.is_empty()
                && key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !valid {
                return Err(format!("`{part}` is not a field name"));
            }
            Ok(Segment { key, index })
        })
        .collect()
}

/// The value as TOML when it is a TOML value, as a string otherwise.
fn toml_value(text: &str) -> Value {
    match text.parse::<Value>() {
        Ok(value) => value.decorated("", ""),
        Err(_) => Value::from(text),
    }
}

/// Sets `path` to `value` in `doc`, creating missing tables on the way.
fn apply(doc: &mut DocumentMut, setting: &Setting) -> Result<(), String> {
    let segments = parse_path(&setting.path)?;
    set_in(
        doc.as_table_mut(),
        &segments,
        toml_value(&setting.value),
        "",
    )
}

fn set_in(
    table: &mut dyn TableLike,
    segments: &[Segment<'_>],
    value: Value,
    walked: &str,
) -> Result<(), String> {
    let (segment, rest) = segments.split_first().expect("paths are not empty");
    let here = if walked.is_empty() {
        segment.key.to_string()
    } else {
        format!("{walked}.{}", segment.key)
    };
    if rest.is_empty() && segment.index.is_none() {
        table.insert(segment.key, Item::Value(value));
        return Ok(());
    }
    if table.get(segment.key).is_none() {
        if segment.index.is_some() {
            return Err(format!("`{here}` is not in the scenario"));
        }
        table.insert(
            segment.key,
            Item::Value(Value::InlineTable(InlineTable::new())),
        );
    }
    let item = table
        .get_mut(segment.key)
        .expect("present or just inserted");
    let Some(index) = segment.index else {
        let inner = item
            .as_table_like_mut()
            .ok_or_else(|| format!("`{here}` is not a table"))?;
        return set_in(inner, rest, value, &here);
    };
    let here = format!("{here}[{index}]");
    match item {
        Item::ArrayOfTables(array) => {
            let len = array.len();
            let table = array
                .get_mut(index)
                .ok_or_else(|| format!("`{here}`: there are {len} entries, counted from 0"))?;
            if rest.is_empty() {
                return Err(format!("`{here}` is a table: set one of its fields"));
            }
            set_in(table, rest, value, &here)
        }
        Item::Value(Value::Array(array)) => {
            let len = array.len();
            let element = array
                .get_mut(index)
                .ok_or_else(|| format!("`{here}`: there are {len} entries, counted from 0"))?;
            if rest.is_empty() {
                *element = value;
                return Ok(());
            }
            let inner = element
                .as_inline_table_mut()
                .ok_or_else(|| format!("`{here}` is not a table"))?;
            set_in(inner, rest, value, &here)
        }
        _ => Err(format!("`{here}`: `{}` is not an array", segment.key)),
    }
}

/// Whether an error about `field` concerns the setting of `path`: one is inside the other.
fn concerns(field: &str, path: &str) -> bool {
    let within = |outer: &str, inner: &str| {
        inner == outer
            || inner
                .strip_prefix(outer)
                .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
    };
    field.is_empty() || within(field, path) || within(path, field)
}

impl Scenario {
    /// Parses scenario text with `settings` applied first, in order. An error caused by the
    /// settings names the field and the `--set` (without a line: the file does not hold the
    /// value); other errors are those of [`Scenario::parse`].
    pub fn parse_with(
        text: &str,
        file: &str,
        settings: &[Setting],
    ) -> Result<Scenario, ScenarioError> {
        if settings.is_empty() {
            return Scenario::parse(text, file);
        }
        let mut doc: DocumentMut = match text.parse() {
            Ok(doc) => doc,
            // Not TOML at all: the plain parser says where.
            Err(_) => return Scenario::parse(text, file),
        };
        for setting in settings {
            apply(&mut doc, setting).map_err(|message| ScenarioError {
                file: file.to_string(),
                line: None,
                column: None,
                field: setting.path.clone(),
                message: format!("{message} (--set {setting})"),
            })?;
        }
        Scenario::parse(&doc.to_string(), file).map_err(|mut error| {
            let blamed: Vec<String> = settings
                .iter()
                .filter(|s| concerns(&error.field, &s.path))
                .map(|s| format!("--set {s}"))
                .collect();
            if !blamed.is_empty() {
                error.line = None;
                error.column = None;
                error.message = format!("{} ({})", error.message, blamed.join(", "));
            }
            error
        })
    }

    /// Reads a scenario file with `settings` applied (see [`Scenario::parse_with`]).
    pub fn load_with(
        path: &std::path::Path,
        settings: &[Setting],
    ) -> Result<Scenario, ScenarioError> {
        let text = super::read_text(path)?;
        let mut scenario = Scenario::parse_with(&text, &path.display().to_string(), settings)?;
        scenario.path = Some(path.to_path_buf());
        Ok(scenario)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
[simulation]
name = "t"
duration = "1h"
messages = 10

[[senders]]
name = "app"
domain = "app.example"
arrivals = { process = "poisson", rate = "1/s" }
to = [{ domain = "dest.example" }]

[relay]
retry = { policy = "exponential", initial = "4m", multiplier = 2.0, cap = "1h" }

[[domains]]
name = "dest.example"
mx = [{ host = "mx.dest.example" }]
"#;

    fn set(path: &str, value: &str) -> Setting {
        Setting {
            path: path.into(),
            value: value.into(),
        }
    }

    #[test]
    fn parameters_split_outside_brackets() {
        let p: Parameter = "relay.retry.initial=60s, 300s,900s".parse().unwrap();
        assert_eq!(p.path, "relay.retry.initial");
        assert_eq!(p.values, ["60s", "300s", "900s"]);
        let p: Parameter =
            r#"relay.round_trip={ dist = "uniform", min = "1ms", max = "2ms" },"3ms""#
                .parse()
                .unwrap();
        assert_eq!(p.values.len(), 2);
        assert!("relay.retry.initial".parse::<Parameter>().is_err());
        assert!("relay..x=1".parse::<Parameter>().is_err());
        assert!("senders[x].name=1".parse::<Parameter>().is_err());
        assert!("a=1,,2".parse::<Parameter>().is_err());
    }

    #[test]
    fn settings_reach_inline_tables_arrays_and_new_keys() {
        let s = Scenario::parse_with(
            BASE,
            "t.toml",
            &[
                set("relay.retry.initial", "60s"),
                set("relay.retry.multiplier", "1.5"),
                set("simulation.messages", "42"),
                set("senders[0].arrivals.rate", "5/s"),
                set("relay.max_attempts", "3"),
                set("domains[0].behaviour.greylisting.delay", "5m"),
            ],
        )
        .unwrap();
        assert_eq!(s.simulation.messages, Some(42));
        assert_eq!(s.relay.max_attempts, Some(3));
        let base = Scenario::parse(BASE, "t.toml").unwrap();
        assert_ne!(
            format!("{:?}", s.relay.retry),
            format!("{:?}", base.relay.retry)
        );
        assert!(format!("{:?}", s.domains[0].behaviour).contains("greylisting: Some"));
    }

    #[test]
    fn errors_name_the_field_and_the_setting() {
        let e =
            Scenario::parse_with(BASE, "t.toml", &[set("relay.retry.intial", "60s")]).unwrap_err();
        assert_eq!(e.file, "t.toml");
        assert!(e.line.is_none());
        assert!(e.message.contains("unknown field `intial`"), "{e}");
        assert!(e.message.contains("--set relay.retry.intial=60s"), "{e}");

        let e = Scenario::parse_with(BASE, "t.toml", &[set("relay.retry.initial", "soon")])
            .unwrap_err();
        assert!(e.field.starts_with("relay.retry"), "{e}");
        assert!(
            e.to_string().contains("--set relay.retry.initial=soon"),
            "{e}"
        );

        let e = Scenario::parse_with(BASE, "t.toml", &[set("senders[3].name", "x")]).unwrap_err();
        assert!(e.message.contains("there are 1 entries"), "{e}");
        let e = Scenario::parse_with(BASE, "t.toml", &[set("simulation.name.x", "x")]).unwrap_err();
        assert!(
            e.message.contains("`simulation.name` is not a table"),
            "{e}"
        );
    }

    proptest::proptest! {
        #[test]
        fn listed_values_come_back(
            path in "[a-z_]{1,8}(\\.[a-z_]{1,8}(\\[[0-9]\\])?){0,3}",
            values in proptest::collection::vec("[A-Za-z0-9_/.\\-]{1,10}", 1..6),
        ) {
            let p: Parameter = format!("{path}={}", values.join(",")).parse().unwrap();
            proptest::prop_assert_eq!(p.path, path);
            proptest::prop_assert_eq!(p.values, values);
        }

        #[test]
        fn any_text_parses_or_fails_cleanly(text in "\\PC{0,40}") {
            let _ = text.parse::<Parameter>();
        }
    }

    #[test]
    fn no_settings_is_plain_parsing() {
        let e = Scenario::parse_with("[simulation\n", "t.toml", &[]).unwrap_err();
        assert_eq!(e.line, Some(1));
    }
}
