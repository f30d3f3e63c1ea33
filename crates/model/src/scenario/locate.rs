//! Where a field stands in the scenario text: the dotted path of an error
//! (`senders[0].to[1].domain`) followed through the parsed TOML document to the span of the
//! value, so that checks made after deserialising still name a line and a column.

use std::ops::Range;

use toml_edit::{Document, Item, Table, Value};

/// A place in the document while the path is followed.
#[derive(Clone, Copy)]
enum Node<'a> {
    Item(&'a Item),
    Value(&'a Value),
    Table(&'a Table),
}

impl<'a> Node<'a> {
    fn span(self) -> Option<Range<usize>> {
        match self {
            Node::Item(item) => item.span(),
            Node::Value(value) => value.span(),
            Node::Table(table) => table.span(),
        }
    }

    /// The value under `key`, if this is a table.
    fn get(self, key: &str) -> Option<Node<'a>> {
        match self {
            Node::Item(item) => item.as_table_like()?.get(key).map(Node::Item),
            Node::Value(Value::InlineTable(table)) => table.get(key).map(Node::Value),
            Node::Value(_) => None,
            Node::Table(table) => table.get(key).map(Node::Item),
        }
    }

    /// Element `index`, if this is an array or an array of tables.
    fn index(self, index: usize) -> Option<Node<'a>> {
        match self {
            Node::Item(Item::ArrayOfTables(array)) => array.get(index).map(Node::Table),
            Node::Item(Item::Value(Value::Array(array))) | Node::Value(Value::Array(array)) => {
                array.get(index).map(Node::Value)
            }
            _ => None,
        }
    }
}

/// The span of the value at `field` in `text`, or of the deepest part of the path that is
/// written (the enclosing table when the field was left to its default). `None` when the
/// text is not TOML or the path names nothing written.
pub(super) fn span_of(text: &str, field: &str) -> Option<Range<usize>> {
    let doc = Document::parse(text).ok()?;
    let mut node = Node::Item(doc.as_item());
    let mut best = None;
    for part in field.split('.') {
        let (key, indices) = match part.split_once('[') {
            Some((key, rest)) => (key, rest),
            None => (part, ""),
        };
        let Some(next) = node.get(key) else {
            break;
        };
        node = next;
        best = node.span().or(best);
        let mut stopped = false;
        for index in indices.split('[').filter(|s| !s.is_empty()) {
            let Some(next) = index
                .trim_end_matches(']')
                .parse()
                .ok()
                .and_then(|i| node.index(i))
            else {
                stopped = true;
                break;
            };
            node = next;
            best = node.span().or(best);
        }
        if stopped {
            break;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "[simulation]\nname = \"x\"\nduration = \"1m\"\n\
        [[senders]]\nname = \"a\"\nto = [{ domain = \"b\" }, { domain = \"c\", weight = 2 }]\n\
        [relay]\nretry = { policy = \"fixed\", schedule = [\"5m\", \"0s\"] }\n";

    fn at(field: &str) -> Option<&'static str> {
        span_of(TEXT, field).map(|span| &TEXT[span])
    }

    #[test]
    fn follows_tables_arrays_and_inline_tables() {
        assert_eq!(at("simulation.duration"), Some("\"1m\""));
        assert_eq!(at("senders[0].to[1].weight"), Some("2"));
        assert_eq!(at("senders[0].to[1].domain"), Some("\"c\""));
        assert_eq!(at("relay.retry.schedule[1]"), Some("\"0s\""));
        // Not written: the deepest part that is.
        assert_eq!(
            at("relay.retry.initial").map(|s| s.starts_with("{ policy")),
            Some(true)
        );
        assert_eq!(at("senders[0].name"), Some("\"a\""));
        assert_eq!(at("nothing.here"), None);
        assert_eq!(span_of("not toml [", "a"), None);
    }
}
