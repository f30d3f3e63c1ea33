//! `[simulation] start`: the wall-clock date and time at which simulated time 0 falls, for
//! logs with real timestamps.

use serde::Deserialize;
use serde::de::{self, Deserializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// An RFC 3339 date and time with an offset, such as `2026-03-02T08:00:00Z`, written as a TOML
/// date-time or as a string. Seconds since the Unix epoch, whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StartTime(OffsetDateTime);

impl StartTime {
    /// Monday 6 January 2025, midnight UTC: the start of a scenario that gives none.
    pub const DEFAULT: StartTime = StartTime(time::macros::datetime!(2025-01-06 00:00:00 UTC));

    /// The date and time.
    pub fn datetime(self) -> OffsetDateTime {
        self.0
    }

    /// Seconds since the Unix epoch.
    pub fn unix_seconds(self) -> i64 {
        self.0.unix_timestamp()
    }
}

impl Default for StartTime {
    fn default() -> Self {
        StartTime::DEFAULT
    }
}

impl std::str::FromStr for StartTime {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OffsetDateTime::parse(s.trim(), &Rfc3339)
            .map(StartTime)
            .map_err(|e| {
                format!("invalid start {s:?}: {e}; write an RFC 3339 date and time such as 2026-03-02T08:00:00Z")
            })
    }
}

impl<'de> Deserialize<'de> for StartTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written {
            Native(toml::value::Datetime),
            Text(String),
        }
        let text = match Written::deserialize(deserializer).map_err(|_| {
            de::Error::custom("expected a date and time such as 2026-03-02T08:00:00Z")
        })? {
            Written::Native(datetime) => datetime.to_string(),
            Written::Text(text) => text,
        };
        text.parse().map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rfc3339_only() {
        let s: StartTime = "2026-03-02T08:00:00Z".parse().unwrap();
        assert_eq!(s.unix_seconds(), 1_772_438_400);
        let s: StartTime = "2026-03-02T09:00:00+01:00".parse().unwrap();
        assert_eq!(s.unix_seconds(), 1_772_438_400);
        assert!("2026-03-02".parse::<StartTime>().is_err());
        assert!("yesterday".parse::<StartTime>().is_err());
        assert_eq!(StartTime::default().unix_seconds(), 1_736_121_600);
    }
}
