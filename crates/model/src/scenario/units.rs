//! The quantities a scenario file writes as strings: durations (`"300s"`), rates (`"10/s"`),
//! sizes (`"25MiB"`) and probabilities, each with an error that says what was expected.

use std::fmt;
use std::str::FromStr;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use smtpsim_des::SimDuration;

use crate::limits::{MAX_BANDWIDTH, MAX_RATE, MIN_BANDWIDTH, MIN_RATE};

/// A duration written as a string with a unit: `"250ms"`, `"300s"`, `"5m"`, `"2h"`, `"5d"`.
/// The number `0` is accepted too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(pub SimDuration);

impl Duration {
    /// The duration in microseconds.
    pub fn micros(self) -> u64 {
        self.0.as_micros()
    }

    /// The duration in seconds.
    pub fn secs(self) -> f64 {
        self.0.as_micros() as f64 / 1e6
    }

    /// A duration of `micros` microseconds.
    pub fn from_micros(micros: u64) -> Duration {
        Duration(SimDuration::from_micros(micros))
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for Duration {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // The error already quotes the input and says what was expected.
        s.trim()
            .parse::<SimDuration>()
            .map(Duration)
            .map_err(|e| e.to_string())
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Duration;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration such as \"300s\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
                if v == 0 {
                    Ok(Duration::default())
                } else {
                    Err(E::custom(format!(
                        "a duration needs a unit: write \"{v}s\" for seconds, \"{v}ms\" for milliseconds"
                    )))
                }
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
                self.visit_i64(i64::try_from(v).unwrap_or(i64::MAX))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Duration, E> {
                if v.is_finite() && v >= 0.0 {
                    Err(E::custom(format!(
                        "a duration needs a unit: write \"{v}s\""
                    )))
                } else {
                    Err(E::custom(format!(
                        "{v} is not a duration: write a string such as \"250ms\" or \"300s\""
                    )))
                }
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// A rate: events per second, written `"10/s"`, `"600/min"`, `"100/h"`, `"2000/d"` or as a
/// plain number of events per second; from [`MIN_RATE`] to [`MAX_RATE`] per second.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Rate {
    /// Events per second, from [`MIN_RATE`] to [`MAX_RATE`].
    pub per_second: f64,
}

impl FromStr for Rate {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            format!(
                "invalid rate {s:?}: write it like \"10/s\", \"600/min\", \"100/h\" or \"2000/d\""
            )
        };
        let (count, unit) = s.trim().split_once('/').ok_or_else(bad)?;
        let count: f64 = count.trim().parse().map_err(|_| bad())?;
        let per = match unit.trim() {
            "s" | "sec" | "second" => 1.0,
            "m" | "min" | "minute" => 60.0,
            "h" | "hour" => 3600.0,
            "d" | "day" => 86400.0,
            _ => return Err(bad()),
        };
        // The input is quoted once; the range is all the message adds.
        Rate::per_second(count / per).map_err(|_| {
            format!("invalid rate {s:?}: a rate must be between {MIN_RATE:e}/s and {MAX_RATE:e}/s")
        })
    }
}

impl Rate {
    /// A rate of `value` per second; refuses values outside [`MIN_RATE`]..=[`MAX_RATE`]
    /// (zero, negative and not-a-number among them).
    pub fn per_second(value: f64) -> Result<Rate, String> {
        if (MIN_RATE..=MAX_RATE).contains(&value) {
            Ok(Rate { per_second: value })
        } else {
            Err(format!(
                "a rate must be between {MIN_RATE:e}/s and {MAX_RATE:e}/s, not {}",
                per_second_text(value)
            ))
        }
    }
}

/// A number of events per second as an error message shows it.
fn per_second_text(value: f64) -> String {
    if value.is_finite() {
        format!("{}/s", number_text(value))
    } else {
        number_text(value)
    }
}

/// A number as an error message shows it: plainly when it is of a usual size, in scientific
/// notation when it is tiny or huge.
pub(crate) fn number_text(value: f64) -> String {
    let magnitude = value.abs();
    if value == 0.0 || (1e-4..1e9).contains(&magnitude) || !value.is_finite() {
        format!("{value}")
    } else {
        format!("{value:e}")
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Rate;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a rate such as \"10/s\" or a number per second")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Rate, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Rate, E> {
                Rate::per_second(v).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Rate, E> {
                self.visit_f64(v as f64)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Rate, E> {
                self.visit_f64(v as f64)
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// A size in bytes: a number, or a string with a unit: `"10KB"` (10,000), `"25MiB"`
/// (25 × 1,048,576), `"1.5MB"`, `"512B"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Bytes(pub u64);

impl FromStr for Bytes {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(t.len());
        let (number, unit) = t.split_at(split);
        let bad =
            || format!("invalid size {s:?}: write it like 2048, \"10KB\", \"1.5MB\" or \"25MiB\"");
        let number: f64 = number.parse().map_err(|_| bad())?;
        let factor: f64 = match unit.trim() {
            "" | "B" => 1.0,
            "KB" | "kB" => 1e3,
            "MB" => 1e6,
            "GB" => 1e9,
            "KiB" => 1024.0,
            "MiB" => 1024.0 * 1024.0,
            "GiB" => 1024.0 * 1024.0 * 1024.0,
            _ => return Err(bad()),
        };
        let bytes = number * factor;
        if !bytes.is_finite() || bytes >= u64::MAX as f64 {
            return Err(format!("invalid size {s:?}: too large for 64 bits"));
        }
        Ok(Bytes(bytes.round() as u64))
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Bytes;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a size such as 2048 or \"10KB\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Bytes, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Bytes, E> {
                u64::try_from(v)
                    .map(Bytes)
                    .map_err(|_| E::custom("a size cannot be negative"))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Bytes, E> {
                Ok(Bytes(v))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// A transfer rate in bytes per second: 0 (instantaneous) or from [`MIN_BANDWIDTH`] to
/// [`MAX_BANDWIDTH`].
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct Bandwidth(f64);

impl Bandwidth {
    /// A bandwidth of `bytes_per_second`, or why it is out of range.
    pub fn new(bytes_per_second: f64) -> Result<Bandwidth, String> {
        let ok =
            bytes_per_second == 0.0 || (MIN_BANDWIDTH..=MAX_BANDWIDTH).contains(&bytes_per_second);
        if ok {
            Ok(Bandwidth(bytes_per_second))
        } else {
            Err(format!(
                "a bandwidth is 0 (instantaneous) or between {MIN_BANDWIDTH:e} and \
                 {MAX_BANDWIDTH:e} bytes per second, not {}",
                number_text(bytes_per_second)
            ))
        }
    }

    /// Bytes per second (0: instantaneous).
    pub fn bytes_per_second(self) -> f64 {
        self.0
    }
}

impl<'de> Deserialize<'de> for Bandwidth {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let v = f64::deserialize(deserializer)?;
        Bandwidth::new(v).map_err(de::Error::custom)
    }
}

/// A probability in `[0, 1]`.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct Probability(pub f64);

impl<'de> Deserialize<'de> for Probability {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let p = f64::deserialize(deserializer)?;
        if (0.0..=1.0).contains(&p) {
            Ok(Probability(p))
        } else {
            Err(de::Error::custom(format!(
                "a probability must be between 0 and 1, not {p}"
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates() {
        assert_eq!("10/s".parse::<Rate>().unwrap().per_second, 10.0);
        assert_eq!("600/min".parse::<Rate>().unwrap().per_second, 10.0);
        assert_eq!("3600/h".parse::<Rate>().unwrap().per_second, 1.0);
        assert!("10".parse::<Rate>().is_err());
        assert!("-1/s".parse::<Rate>().is_err());
        assert!("1/week".parse::<Rate>().is_err());
        assert!("0/s".parse::<Rate>().is_err());
        assert!("1e-14/s".parse::<Rate>().is_err());
        assert!("2e6/s".parse::<Rate>().is_err());
        let nan = Rate::per_second(f64::NAN).unwrap_err();
        assert!(
            nan.contains("not NaN") && !nan.contains("negative"),
            "{nan}"
        );
        assert!(Rate::per_second(f64::INFINITY).is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!("10KB".parse::<Bytes>().unwrap(), Bytes(10_000));
        assert_eq!("25MiB".parse::<Bytes>().unwrap(), Bytes(25 * 1024 * 1024));
        assert_eq!("1.5MB".parse::<Bytes>().unwrap(), Bytes(1_500_000));
        assert_eq!("512".parse::<Bytes>().unwrap(), Bytes(512));
        assert!("10 parsecs".parse::<Bytes>().is_err());
        assert!("".parse::<Bytes>().is_err());
    }

    #[test]
    fn bandwidths() {
        assert!(Bandwidth::new(0.0).is_ok());
        assert!(Bandwidth::new(5e6).is_ok());
        for bad in [1e-300, -1.0, f64::NAN, f64::INFINITY, 2e12] {
            let err = Bandwidth::new(bad).unwrap_err();
            assert!(err.contains("between 1e0 and 1e12"), "{err}");
        }
    }

    #[test]
    fn errors_say_things_once() {
        for (text, quoted) in [("3 min", "\"3 min\""), ("x", "\"x\""), ("-5s", "\"-5s\"")] {
            let err = text.parse::<Duration>().unwrap_err();
            assert_eq!(err.matches(quoted).count(), 1, "{err}");
            assert_eq!(err.matches("invalid").count(), 1, "{err}");
        }
        for text in ["x/s", "0/s", "nan/s", "1e-14/s"] {
            let err = text.parse::<Rate>().unwrap_err();
            assert_eq!(err.matches("invalid").count(), 1, "{err}");
            assert_eq!(err.matches(text).count(), 1, "{err}");
        }
        let err = "1e30GB".parse::<Bytes>().unwrap_err();
        assert_eq!(err.matches("invalid").count(), 1, "{err}");
    }

    #[test]
    fn durations() {
        assert_eq!("5m".parse::<Duration>().unwrap().micros(), 300_000_000);
        let err = "5 minutes".parse::<Duration>().unwrap_err();
        assert_eq!(err.matches("5 minutes").count(), 1, "{err}");
        assert!(err.contains("expected one of"), "{err}");
    }
}
