//! `[[relay.providers]]`: groups of recipient domains that share MX hosts (all Google
//! Workspace domains share Google's), with queue limits that apply to the group as a whole.

use serde::Deserialize;

use super::Scenario;
use super::units::Rate;
use super::validate::{Problem, problem};

/// A provider: the domains whose MX hosts match its patterns, and the relay's limits towards
/// all of them together. Each limit applies on top of the per-domain ones.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provider {
    /// A name, for reports and errors.
    pub name: String,
    /// MX host name patterns: a host name (`mx.example.net`) or `*.` and a suffix
    /// (`*.google.com` matches `aspmx.l.google.com`, not `google.com`). Case-insensitive.
    pub mx: Vec<String>,
    /// Connections open at once to all of the provider's domains together.
    #[serde(default)]
    pub connection_limit: Option<u32>,
    /// New connections per unit of time (a token bucket holding one).
    #[serde(default)]
    pub max_connection_rate: Option<Rate>,
    /// Messages (transactions) per unit of time, new and reused connections alike (a token
    /// bucket holding one).
    #[serde(default)]
    pub max_message_rate: Option<Rate>,
    /// The most messages sent over one connection (with `relay.connection_reuse`; the
    /// smaller of this and `relay.messages_per_connection` applies).
    #[serde(default)]
    pub max_deliveries_per_connection: Option<u32>,
    /// With `relay.connection_reuse`, how long a connection to one of its domains with
    /// nothing to send stays open for the next delivery to that domain.
    #[serde(default)]
    pub idle_timeout: Option<super::units::Duration>,
}

impl Provider {
    /// Its shaping values.
    pub fn shaping(&self) -> super::shaping::Shaping {
        super::shaping::Shaping {
            connection_limit: self.connection_limit,
            max_connection_rate: self.max_connection_rate,
            max_message_rate: self.max_message_rate,
            max_deliveries_per_connection: self.max_deliveries_per_connection,
            idle_timeout: self.idle_timeout,
        }
    }
}

/// An MX host name pattern of a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPattern {
    /// Exactly this name (lower case, no trailing dot).
    Exact(String),
    /// Any name ending in `.` and this suffix (lower case).
    Suffix(String),
}

impl HostPattern {
    /// Reads `*.suffix` or a host name; `None` for an empty name, an empty label, or a `*`
    /// anywhere but in front.
    pub fn parse(text: &str) -> Option<HostPattern> {
        let text = text.trim_end_matches('.').to_ascii_lowercase();
        let (wild, name) = match text.strip_prefix("*.") {
            Some(rest) => (true, rest.to_string()),
            None => (false, text),
        };
        let labels_ok = !name.is_empty()
            && name.split('.').all(|label| {
                !label.is_empty()
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            });
        if !labels_ok {
            return None;
        }
        Some(if wild {
            HostPattern::Suffix(name)
        } else {
            HostPattern::Exact(name)
        })
    }

    /// Whether `host` (any case, an optional trailing dot) matches.
    pub fn matches(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.');
        match self {
            HostPattern::Exact(name) => host.eq_ignore_ascii_case(name),
            HostPattern::Suffix(suffix) => ends_with_label(host, suffix),
        }
    }

    /// Whether some host name matches both patterns.
    pub fn overlaps(&self, other: &HostPattern) -> bool {
        use HostPattern::{Exact, Suffix};
        match (self, other) {
            (Exact(a), Exact(b)) => a == b,
            (Exact(name), Suffix(_)) => other.matches(name),
            (Suffix(_), Exact(name)) => self.matches(name),
            // `x.a.b` matches both `*.a.b` and `*.b`; equal suffixes overlap too.
            (Suffix(a), Suffix(b)) => a == b || ends_with_label(a, b) || ends_with_label(b, a),
        }
    }
}

/// Whether `host` is `something.suffix` (case-insensitive; `suffix` in lower case).
fn ends_with_label(host: &str, suffix: &str) -> bool {
    host.len() > suffix.len() + 1
        && host.as_bytes()[host.len() - suffix.len() - 1] == b'.'
        && host[host.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

/// Checks `relay.providers`: unique names, valid patterns that no two providers share,
/// valid shaping values, and every domain's MX hosts within one provider at most.
pub(super) fn check(s: &Scenario) -> Result<(), Problem> {
    let providers = &s.relay.providers;
    let mut patterns: Vec<(usize, usize, HostPattern)> = Vec::new();
    for (i, provider) in providers.iter().enumerate() {
        let at = |f: &str| format!("relay.providers[{i}].{f}");
        if provider.name.trim().is_empty() {
            return Err(problem(at("name"), "a provider needs a name"));
        }
        if let Some(j) = providers[..i].iter().position(|p| p.name == provider.name) {
            return Err(problem(
                at("name"),
                format!(
                    "{:?} is also the name of relay.providers[{j}]",
                    provider.name
                ),
            ));
        }
        if provider.mx.is_empty() {
            return Err(problem(
                at("mx"),
                "give at least one MX host pattern, such as \"*.google.com\"",
            ));
        }
        for (k, text) in provider.mx.iter().enumerate() {
            let field = format!("relay.providers[{i}].mx[{k}]");
            let Some(pattern) = HostPattern::parse(text) else {
                return Err(problem(
                    field,
                    format!(
                        "{text:?} is not an MX host pattern: write a host name \
                         (\"mx.example.net\") or \"*.\" and a domain (\"*.google.com\")"
                    ),
                ));
            };
            let clash = patterns
                .iter()
                .find(|(j, _, other)| *j != i && other.overlaps(&pattern));
            if let Some((j, l, _)) = clash {
                return Err(problem(
                    field,
                    format!(
                        "{text:?} of provider {:?} overlaps {:?} of provider {:?} \
                         (relay.providers[{j}].mx[{l}]): a host name could match both",
                        provider.name, providers[*j].mx[*l], providers[*j].name
                    ),
                ));
            }
            patterns.push((i, k, pattern));
        }
        provider.shaping().check(&at)?;
    }
    domain_providers(s).map(|_| ())
}

/// The provider of each of the scenario's domains (by index into `relay.providers`): the
/// one whose patterns match its MX hosts. An error when a domain's hosts match two.
pub(crate) fn domain_providers(s: &Scenario) -> Result<Vec<Option<u32>>, Problem> {
    let providers = &s.relay.providers;
    let patterns: Vec<Vec<HostPattern>> = providers
        .iter()
        .map(|p| p.mx.iter().filter_map(|m| HostPattern::parse(m)).collect())
        .collect();
    let provider_of_host = |host: &str| {
        patterns
            .iter()
            .position(|list| list.iter().any(|p| p.matches(host)))
    };
    let mut result = Vec::with_capacity(s.domains.len());
    for (i, domain) in s.domains.iter().enumerate() {
        let mut found: Option<(usize, usize)> = None;
        for (h, mx) in domain.mx.iter().enumerate() {
            let Some(p) = provider_of_host(&mx.host) else {
                continue;
            };
            match found {
                Some((q, g)) if q != p => {
                    return Err(problem(
                        format!("domains[{i}].mx[{h}].host"),
                        format!(
                            "{:?} belongs to provider {:?}, but {:?} (mx[{g}]) to provider \
                             {:?}: a domain's MX hosts belong to one provider at most",
                            mx.host, providers[p].name, domain.mx[g].host, providers[q].name
                        ),
                    ));
                }
                Some(_) => {}
                None => found = Some((p, h)),
            }
        }
        result.push(found.map(|(p, _)| p as u32));
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> HostPattern {
        HostPattern::parse(text).unwrap()
    }

    #[test]
    fn patterns_match_names_and_suffixes() {
        assert!(p("*.google.com").matches("aspmx.l.google.com"));
        assert!(p("*.google.com").matches("ALT1.Google.COM."));
        assert!(!p("*.google.com").matches("google.com"));
        assert!(!p("*.google.com").matches("notgoogle.com"));
        assert!(p("mx.example.net").matches("MX.example.net"));
        assert!(!p("mx.example.net").matches("a.mx.example.net"));
        for bad in ["", "*.", "*", "a..b", "a.*.b", "*.*.b", "a b"] {
            assert!(HostPattern::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn overlaps_are_found_both_ways() {
        assert!(p("*.google.com").overlaps(&p("*.l.google.com")));
        assert!(p("*.l.google.com").overlaps(&p("*.google.com")));
        assert!(p("*.google.com").overlaps(&p("*.google.com")));
        assert!(p("mx.google.com").overlaps(&p("*.google.com")));
        assert!(p("*.google.com").overlaps(&p("MX.google.com")));
        assert!(!p("*.google.com").overlaps(&p("*.outlook.com")));
        assert!(!p("*.google.com").overlaps(&p("google.com")));
        assert!(!p("*.oogle.com").overlaps(&p("*.google.com")));
    }
}
