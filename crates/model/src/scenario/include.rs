//! `include = ["providers.toml"]`: a scenario built from several files.
//!
//! The included files are read first, in the order given (each after its own includes), and
//! the including file last; a later file overrides an earlier one value by value:
//!
//! - tables merge key by key, recursively;
//! - arrays of tables whose entries all have a `name` (`[[domains]]`, `[[senders]]`) merge
//!   by name: an entry named like an earlier one merges into it, a new name is appended;
//! - any other value (a string, a number, a plain array, an array of tables without names)
//!   replaces the earlier one.
//!
//! A path is relative to the file that includes it; a name that is not found there but is one
//! of the bundled files (`providers.toml`) is read from the copy built into the program. An
//! error in a value names the file that wrote it (the last one, when several did), its line,
//! column and field.

use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::{Table, Value};

use super::{ScenarioError, line_column, locate};
use crate::limits::MAX_INCLUDED_FILES as MAX_FILES;

/// Files bundled into the program, found by name when no such file is beside the scenario.
const BUNDLED: [(&str, &str); 1] = [(
    "providers.toml",
    include_str!("../../../../scenarios/providers.toml"),
)];

/// One file of a scenario, as written.
pub(super) struct Layer {
    /// Its name in errors.
    pub file: String,
    pub text: String,
    /// Its values.
    pub table: Table,
}

/// The files of a scenario in override order (the including file last), and their merge.
pub(super) struct Layers {
    pub layers: Vec<Layer>,
    pub merged: Table,
}

/// Whether `table` includes other files.
pub(super) fn has_includes(table: &Table) -> bool {
    table.contains_key("include")
}

/// Reads the files `text` (the scenario `file`) includes, and merges them.
pub(super) fn resolve(text: &str, file: &str, table: Table) -> Result<Layers, ScenarioError> {
    let mut layers = Vec::new();
    let mut chain = vec![identity(Path::new(file))];
    read_includes(text, file, table, &mut chain, &mut layers)?;
    let mut merged = Table::new();
    for layer in &layers {
        merge(&mut merged, layer.table.clone());
    }
    merged.remove("include");
    Ok(Layers { layers, merged })
}

/// What tells two files apart in a cycle: the canonical path, or the bundled name.
fn identity(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

/// Adds the layers of `file` (its includes, then itself) to `layers`.
fn read_includes(
    text: &str,
    file: &str,
    mut table: Table,
    chain: &mut Vec<PathBuf>,
    layers: &mut Vec<Layer>,
) -> Result<(), ScenarioError> {
    let error = |field: String, message: String| {
        let span = locate::span_of(text, &field);
        at(text, file, span, field, message)
    };
    let names = match table.remove("include") {
        None => Vec::new(),
        Some(Value::Array(items)) => {
            let mut names = Vec::new();
            for (i, item) in items.into_iter().enumerate() {
                match item {
                    Value::String(name) => names.push(name),
                    other => {
                        return Err(error(
                            format!("include[{i}]"),
                            format!("expected a file name, found {}", other.type_str()),
                        ));
                    }
                }
            }
            names
        }
        Some(other) => {
            return Err(error(
                "include".into(),
                format!(
                    "expected an array of file names such as [\"providers.toml\"], found {}",
                    other.type_str()
                ),
            ));
        }
    };
    let dir = Path::new(file).parent().unwrap_or(Path::new(""));
    for (i, name) in names.iter().enumerate() {
        let field = format!("include[{i}]");
        let path = dir.join(name);
        let (shown, included) = match std::fs::read(&path) {
            Ok(bytes) => {
                let text = String::from_utf8(bytes).map_err(|_| {
                    error(
                        field.clone(),
                        format!("{} is not UTF-8 text", path.display()),
                    )
                })?;
                (path.display().to_string(), text)
            }
            Err(e) => match BUNDLED.iter().find(|(bundled, _)| bundled == name) {
                Some((bundled, text)) => (format!("<bundled {bundled}>"), text.to_string()),
                None => {
                    return Err(error(field, format!("cannot read {}: {e}", path.display())));
                }
            },
        };
        let id = identity(&path);
        if let Some(start) = chain.iter().position(|p| *p == id) {
            let mut cycle: Vec<String> = chain[start..]
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            cycle.push(id.display().to_string());
            return Err(error(
                field,
                format!("include cycle: {}", cycle.join(" includes ")),
            ));
        }
        if chain.len() + layers.len() >= MAX_FILES {
            return Err(error(
                field,
                format!("a scenario is built from at most {MAX_FILES} files"),
            ));
        }
        let table = parse_table(&included, &shown)?;
        chain.push(id);
        read_includes(&included, &shown, table, chain, layers)?;
        chain.pop();
    }
    layers.push(Layer {
        file: file.to_string(),
        text: text.to_string(),
        table,
    });
    Ok(())
}

/// Parses a file's TOML, naming the file, line and column of a syntax error.
pub(super) fn parse_table(text: &str, file: &str) -> Result<Table, ScenarioError> {
    text.parse::<Table>().map_err(|e| {
        let message = super::syntax_message(text, e.span(), e.message().trim());
        at(text, file, e.span(), String::new(), message)
    })
}

/// An error at `span` of `text` (the text of `file`), by line and column.
pub(super) fn at(
    text: &str,
    file: &str,
    span: Option<Range<usize>>,
    field: String,
    message: String,
) -> ScenarioError {
    let (line, column) = match span {
        Some(span) => {
            let (l, c) = line_column(text, span.start);
            (Some(l), Some(c))
        }
        None => (None, None),
    };
    ScenarioError {
        file: file.to_string(),
        line,
        column,
        field,
        message,
    }
}

/// Merges `over` into `base`: see the module's rules.
fn merge(base: &mut Table, over: Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(Value::Table(mine)), Value::Table(theirs)) => merge(mine, theirs),
            (Some(Value::Array(mine)), Value::Array(theirs)) if named(mine) && named(&theirs) => {
                for entry in theirs {
                    let name = entry.get("name").cloned();
                    match mine.iter_mut().find(|e| e.get("name") == name.as_ref()) {
                        Some(Value::Table(earlier)) => {
                            let Value::Table(entry) = entry else {
                                unreachable!("named entries are tables")
                            };
                            merge(earlier, entry);
                        }
                        _ => mine.push(entry),
                    }
                }
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// Whether every entry is a table with a string `name`.
fn named(entries: &[Value]) -> bool {
    entries
        .iter()
        .all(|e| e.get("name").is_some_and(Value::is_str))
}

impl Layers {
    /// An error at `field` of the merged scenario, placed in the file that wrote the value:
    /// the last file that writes the whole path, else the one that writes most of it.
    /// `lookup` is the path whose value is at fault (`field` and the key of an unknown field).
    pub fn error(&self, field: String, lookup: &str, message: String) -> ScenarioError {
        let mut best: Option<(usize, &Layer, String)> = None;
        for layer in &self.layers {
            let (path, depth) = translate(&self.merged, &layer.table, lookup);
            if best.as_ref().is_none_or(|(d, _, _)| depth >= *d) {
                best = Some((depth, layer, path));
            }
        }
        let (_, layer, path) = best.expect("a scenario has a file");
        let span = locate::span_of(&layer.text, &path);
        at(&layer.text, &layer.file, span, field, message)
    }
}

/// `field` (a path into the merged scenario, such as `domains[3].behaviour.latency`) as a
/// path into `layer`, with the indices of named entries moved to where `layer` has them, and
/// how many of its parts `layer` writes.
fn translate(merged: &Table, layer: &Table, field: &str) -> (String, usize) {
    let mut merged_at = Some(Value::Table(merged.clone()));
    let mut layer_at = Some(Value::Table(layer.clone()));
    let mut out = Vec::new();
    let mut depth = 0;
    let mut writes = true;
    for part in field.split('.').filter(|p| !p.is_empty()) {
        let (key, rest) = part.split_once('[').unwrap_or((part, ""));
        merged_at = merged_at.and_then(|v| v.get(key).cloned());
        layer_at = layer_at.and_then(|v| v.get(key).cloned());
        writes &= layer_at.is_some();
        depth += usize::from(writes);
        let mut written = key.to_string();
        for index in rest.split('[').filter(|s| !s.is_empty()) {
            let Ok(i) = index.trim_end_matches(']').parse::<usize>() else {
                break;
            };
            let entry = merged_at.as_ref().and_then(|v| v.get(i)).cloned();
            let name = entry.as_ref().and_then(|e| e.get("name")).cloned();
            let there = match (&name, &layer_at) {
                (Some(name), Some(Value::Array(items))) => {
                    items.iter().position(|e| e.get("name") == Some(name))
                }
                (None, Some(Value::Array(items))) if i < items.len() => Some(i),
                _ => None,
            };
            written.push_str(&format!("[{}]", there.unwrap_or(i)));
            layer_at = there.and_then(|j| layer_at.as_ref().and_then(|v| v.get(j)).cloned());
            merged_at = entry;
            writes &= layer_at.is_some();
            depth += usize::from(writes);
        }
        out.push(written);
    }
    (out.join("."), depth)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Table {
        text.parse().unwrap()
    }

    #[test]
    fn later_values_override_and_named_entries_merge_by_name() {
        let mut base = table(
            "a = 1\nlist = [1, 2]\n[t]\nx = 1\ny = 2\n\
             [[domains]]\nname = \"g\"\nbehaviour = { latency = \"1s\", starttls = true }\n\
             [[domains]]\nname = \"y\"\n",
        );
        let over = table(
            "list = [3]\n[t]\ny = 3\n\
             [[domains]]\nname = \"g\"\nbehaviour = { latency = \"2s\" }\n\
             [[domains]]\nname = \"new\"\n",
        );
        merge(&mut base, over);
        let expected = table(
            "a = 1\nlist = [3]\n[t]\nx = 1\ny = 3\n\
             [[domains]]\nname = \"g\"\nbehaviour = { latency = \"2s\", starttls = true }\n\
             [[domains]]\nname = \"y\"\n\
             [[domains]]\nname = \"new\"\n",
        );
        assert_eq!(base, expected);
    }

    #[test]
    fn paths_follow_names_into_each_file() {
        let merged = table("[[domains]]\nname = \"a\"\n[[domains]]\nname = \"b\"\nx = 1\n");
        let layer = table("[[domains]]\nname = \"b\"\nx = 1\n");
        assert_eq!(
            translate(&merged, &layer, "domains[1].x"),
            ("domains[0].x".to_string(), 3)
        );
        assert_eq!(translate(&merged, &layer, "domains[0].x").1, 1);
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        /// A `[[domains]]` array with some of the names `d0` to `d5`, each with some of the
        /// keys `k0` to `k3`.
        fn domains() -> impl Strategy<Value = Vec<(u8, Vec<(u8, i64)>)>> {
            proptest::collection::vec(
                (
                    0u8..6,
                    proptest::collection::vec((0u8..4, any::<i64>()), 0..4),
                ),
                0..5,
            )
        }

        fn table_of(entries: &[(u8, Vec<(u8, i64)>)]) -> Table {
            let mut list: Vec<Value> = Vec::new();
            for (name, keys) in entries {
                let name = format!("d{name}");
                if list
                    .iter()
                    .any(|e| e.get("name").and_then(Value::as_str) == Some(&name))
                {
                    continue;
                }
                let mut t = Table::new();
                t.insert("name".into(), Value::String(name));
                for (k, v) in keys {
                    t.insert(format!("k{k}"), Value::Integer(*v));
                }
                list.push(Value::Table(t));
            }
            let mut top = Table::new();
            top.insert("domains".into(), Value::Array(list));
            top
        }

        fn entry<'a>(t: &'a Table, name: &str) -> Option<&'a Value> {
            t["domains"]
                .as_array()?
                .iter()
                .find(|e| e.get("name").and_then(Value::as_str) == Some(name))
        }

        proptest! {
            /// After a merge, each entry holds the later file's values where it wrote them
            /// and the earlier file's elsewhere; names keep their first place, once each.
            #[test]
            fn named_entries_merge_value_by_value(a in domains(), b in domains()) {
                let (earlier, later) = (table_of(&a), table_of(&b));
                let mut merged = earlier.clone();
                merge(&mut merged, later.clone());
                let names = |t: &Table| -> Vec<String> {
                    t["domains"].as_array().unwrap().iter()
                        .map(|e| e["name"].as_str().unwrap().to_string()).collect()
                };
                let mut expected = names(&earlier);
                for n in names(&later) {
                    if !expected.contains(&n) {
                        expected.push(n);
                    }
                }
                prop_assert_eq!(names(&merged), expected.clone());
                for n in &expected {
                    let m = entry(&merged, n).unwrap();
                    for k in 0..4 {
                        let key = format!("k{k}");
                        let want = entry(&later, n)
                            .and_then(|e| e.get(&key))
                            .or_else(|| entry(&earlier, n).and_then(|e| e.get(&key)));
                        prop_assert_eq!(m.get(&key), want);
                    }
                }
            }
        }
    }
}
