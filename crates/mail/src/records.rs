//! DNS TXT records given by hand, for checking mail against a DNS that no scenario describes:
//! `NAME=TEXT` on a command line, or a file with one record a line, `NAME TXT "TEXT"` (the
//! quotes optional, `#` starting a comment line), as a zone file writes them.

use smtpsim_model::auth::dns::StaticResolver;

/// Why a record could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}:{line}:{column}: {message}")]
pub struct RecordError {
    /// The file name, or `--dns-txt` for a command-line record.
    pub origin: String,
    /// From 1.
    pub line: usize,
    /// From 1.
    pub column: usize,
    /// What is wrong and what is accepted.
    pub message: String,
}

/// `NAME=TEXT`, as `--dns-txt` takes it.
pub fn parse_assignment(text: &str) -> Result<(String, String), RecordError> {
    match text.split_once('=') {
        Some((name, record)) if valid_name(name.trim()) => {
            Ok((name.trim().to_string(), record.trim().to_string()))
        }
        _ => Err(RecordError {
            origin: "--dns-txt".to_string(),
            line: 1,
            column: 1,
            message: format!(
                "{text:?} is not NAME=TEXT with NAME a domain name (such as \
                 _dmarc.example.com=\"v=DMARC1; p=reject\")"
            ),
        }),
    }
}

/// Every record of a records file.
pub fn parse_file(text: &str, origin: &str) -> Result<Vec<(String, String)>, RecordError> {
    let mut records = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let error = |column: usize, message: String| RecordError {
            origin: origin.to_string(),
            line: index + 1,
            column,
            message,
        };
        let indent = raw.len() - raw.trim_start().len();
        let mut words = line.splitn(2, char::is_whitespace);
        let name = words.next().unwrap_or_default();
        if !valid_name(name) {
            return Err(error(indent + 1, format!("{name:?} is not a domain name")));
        }
        let rest = words.next().unwrap_or_default().trim_start();
        let rest = rest.strip_prefix("IN ").map_or(rest, str::trim_start);
        let Some(text) = rest
            .strip_prefix("TXT")
            .filter(|t| t.is_empty() || t.starts_with(char::is_whitespace))
        else {
            let column = raw.find(rest).unwrap_or(indent) + 1;
            return Err(error(
                column,
                format!(
                    "expected TXT after the name, found {rest:?}; the accepted form is NAME TXT \"TEXT\""
                ),
            ));
        };
        let text = text.trim();
        let text = match text.strip_prefix('"') {
            Some(inner) => match inner.strip_suffix('"') {
                Some(inner) => inner.to_string(),
                None => {
                    let column = raw.rfind('"').unwrap_or(0) + 1;
                    return Err(error(
                        column,
                        "the record's opening quote is not closed".to_string(),
                    ));
                }
            },
            None => text.to_string(),
        };
        records.push((name.to_string(), text));
    }
    Ok(records)
}

/// A resolver that answers `records` and nothing else.
pub fn resolver(records: &[(String, String)]) -> StaticResolver {
    records
        .iter()
        .fold(StaticResolver::new(), |dns, (name, text)| {
            dns.with_txt(name, text.clone())
        })
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.trim_end_matches('.').split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_of_records_with_comments_and_quotes() {
        let file = "# the sender's domain\nexample.com TXT \"v=spf1 ip4:127.0.0.0/8 -all\"\n\
                    _dmarc.example.com IN TXT v=DMARC1; p=reject\n";
        let records = parse_file(file, "dns.txt").unwrap();
        assert_eq!(
            records,
            [
                (
                    "example.com".to_string(),
                    "v=spf1 ip4:127.0.0.0/8 -all".to_string()
                ),
                (
                    "_dmarc.example.com".to_string(),
                    "v=DMARC1; p=reject".to_string()
                ),
            ]
        );
    }

    #[test]
    fn errors_name_the_place() {
        let e = parse_file("ok.example TXT x\n  bad..name TXT y\n", "dns.txt").unwrap_err();
        assert_eq!((e.line, e.column), (2, 3));
        assert!(e.to_string().starts_with("dns.txt:2:3: "), "{e}");
        let e = parse_file("a.example MX 10 mx\n", "dns.txt").unwrap_err();
        assert_eq!((e.line, e.column), (1, 11));
        assert!(e.message.contains("NAME TXT"));
        let e = parse_file("a.example TXT \"open\n", "f").unwrap_err();
        assert!(e.message.contains("quote"));
        assert!(parse_assignment("no-equals").is_err());
        assert_eq!(
            parse_assignment("a.example=v=spf1 -all").unwrap(),
            ("a.example".to_string(), "v=spf1 -all".to_string())
        );
    }
}
