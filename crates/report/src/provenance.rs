//! Where an output came from: the smtpsim version, the command line, the scenario file and its
//! SHA-256, the seed, every `--set` and the start time, written into `summary.json`,
//! `summary.csv`, `sweep.json` and `report.html`.
//!
//! The start time is the only figure that differs between two runs of the same command; the
//! environment variable [`START_TIME_ENV`] fixes it (RFC 3339), so that whole outputs can be
//! compared byte for byte.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The environment variable that, when set to an RFC 3339 time, is used as the start time.
pub const START_TIME_ENV: &str = "SMTPSIM_START_TIME";

/// Where an output came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// The smtpsim version.
    pub version: String,
    /// The full command line, program name first.
    pub command: Vec<String>,
    /// The scenario file as given.
    pub scenario: String,
    /// The SHA-256 of the scenario file's bytes, hex.
    pub scenario_sha256: String,
    /// The seed given on the command line (none: each scenario's own).
    pub seed: Option<u64>,
    /// Every `--set`, as given.
    pub set: Vec<String>,
    /// When the command started, RFC 3339 in UTC (or [`START_TIME_ENV`]).
    pub started: String,
}

/// The SHA-256 of `bytes`, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The start time: [`START_TIME_ENV`] if it is set, or now, in RFC 3339 (UTC, seconds).
pub fn start_time() -> Result<String, String> {
    if let Ok(fixed) = std::env::var(START_TIME_ENV) {
        OffsetDateTime::parse(fixed.trim(), &Rfc3339).map_err(|e| {
            format!("{START_TIME_ENV}={fixed:?} is not an RFC 3339 time such as 2026-01-01T00:00:00Z: {e}")
        })?;
        return Ok(fixed.trim().to_string());
    }
    let now = OffsetDateTime::now_utc();
    let now = now.replace_nanosecond(0).unwrap_or(now);
    now.format(&Rfc3339).map_err(|e| e.to_string())
}

impl Provenance {
    /// The provenance of a command on the scenario `scenario` whose bytes are `text`.
    pub fn new(
        version: &str,
        command: Vec<String>,
        scenario: &str,
        text: &[u8],
        seed: Option<u64>,
        set: Vec<String>,
        started: String,
    ) -> Provenance {
        Provenance {
            version: version.to_string(),
            command,
            scenario: scenario.to_string(),
            scenario_sha256: sha256_hex(text),
            seed,
            set,
            started,
        }
    }

    /// The `(key, value)` rows of the `provenance` section of `summary.csv`; the command
    /// line and the `--set`s joined by spaces.
    pub fn rows(&self) -> Vec<(&'static str, String)> {
        vec![
            ("version", self.version.clone()),
            ("command", self.command.join(" ")),
            ("scenario", self.scenario.clone()),
            ("scenario_sha256", self.scenario_sha256.clone()),
            ("seed", self.seed.map(|s| s.to_string()).unwrap_or_default()),
            ("set", self.set.join(" ")),
            ("started", self.started.clone()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_known_text() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
