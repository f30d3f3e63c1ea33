//! The relay's shaping values towards one destination (a domain or a provider): connections
//! at once, new connections and messages per unit of time, messages per connection, and how
//! long a kept connection waits idle for the next message. `[[relay.domains]]` gives them
//! per domain, `[[relay.providers]]` per provider, and an automation rule's `shape` action
//! replaces them for a while.

use serde::Deserialize;

use super::Scenario;
use super::units::{Duration, Rate};
use super::validate::{Problem, problem};

/// Shaping values; an absent one leaves the value in force as it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shaping {
    /// Connections open at once.
    #[serde(default)]
    pub connection_limit: Option<u32>,
    /// New connections per unit of time (a token bucket holding one).
    #[serde(default)]
    pub max_connection_rate: Option<Rate>,
    /// Messages (transactions) per unit of time, new and reused connections alike (a token
    /// bucket holding one).
    #[serde(default)]
    pub max_message_rate: Option<Rate>,
    /// The most messages sent over one connection (with `relay.connection_reuse`).
    #[serde(default)]
    pub max_deliveries_per_connection: Option<u32>,
    /// With `relay.connection_reuse`, how long a connection with nothing to send stays open
    /// for a delivery that becomes ready meanwhile; it closes at once if absent.
    #[serde(default)]
    pub idle_timeout: Option<Duration>,
}

impl Shaping {
    /// Whether no value is given.
    pub fn is_empty(&self) -> bool {
        *self == Shaping::default()
    }

    /// Checks the values given: counts of at least 1, an idle timeout above 0. `at` names
    /// a field for the error.
    pub(super) fn check(&self, at: &dyn Fn(&str) -> String) -> Result<(), Problem> {
        let at_least_one = |value: Option<u32>, name: &str| match value {
            Some(0) => Err(problem(at(name), "must be at least 1, not 0")),
            _ => Ok(()),
        };
        at_least_one(self.connection_limit, "connection_limit")?;
        at_least_one(
            self.max_deliveries_per_connection,
            "max_deliveries_per_connection",
        )?;
        if self.idle_timeout.is_some_and(|d| d.0.is_zero()) {
            return Err(problem(
                at("idle_timeout"),
                "must be above 0 (leave it out to close an idle connection at once)",
            ));
        }
        Ok(())
    }
}

/// `[[relay.domains]]`: the relay's shaping towards one recipient domain, in place of the
/// relay-wide `max_connections_per_domain` and `rate_per_domain`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainShaping {
    /// The domain, as named in `[[domains]]`.
    pub name: String,
    /// Connections open at once to the domain (in place of
    /// `relay.max_connections_per_domain`).
    #[serde(default)]
    pub connection_limit: Option<u32>,
    /// New connections per unit of time (a token bucket holding one).
    #[serde(default)]
    pub max_connection_rate: Option<Rate>,
    /// Messages per unit of time (in place of `relay.rate_per_domain`).
    #[serde(default)]
    pub max_message_rate: Option<Rate>,
    /// The most messages sent over one connection (the smaller of this and
    /// `relay.messages_per_connection` applies).
    #[serde(default)]
    pub max_deliveries_per_connection: Option<u32>,
    /// How long a kept connection with nothing to send waits for the next delivery.
    #[serde(default)]
    pub idle_timeout: Option<Duration>,
}

impl DomainShaping {
    /// Its values.
    pub fn shaping(&self) -> Shaping {
        Shaping {
            connection_limit: self.connection_limit,
            max_connection_rate: self.max_connection_rate,
            max_message_rate: self.max_message_rate,
            max_deliveries_per_connection: self.max_deliveries_per_connection,
            idle_timeout: self.idle_timeout,
        }
    }
}

/// Checks `relay.domains`: each names a domain of `[[domains]]` once, with valid values.
pub(super) fn check(s: &Scenario) -> Result<(), Problem> {
    let entries = &s.relay.domains;
    for (i, entry) in entries.iter().enumerate() {
        let at = |f: &str| format!("relay.domains[{i}].{f}");
        let known = s
            .domains
            .iter()
            .any(|d| d.name.eq_ignore_ascii_case(&entry.name));
        if !known {
            return Err(problem(
                at("name"),
                format!("no [[domains]] entry named {:?}", entry.name),
            ));
        }
        if let Some(j) = entries[..i]
            .iter()
            .position(|e| e.name.eq_ignore_ascii_case(&entry.name))
        {
            return Err(problem(
                at("name"),
                format!("{:?} is also shaped by relay.domains[{j}]", entry.name),
            ));
        }
        entry.shaping().check(&at)?;
    }
    Ok(())
}
