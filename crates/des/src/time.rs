//! Virtual time: [`SimTime`] (an instant since the simulation started) and [`SimDuration`]
//! (a span), both whole microseconds in a `u64`.
//!
//! Integer time keeps runs exact and reproducible: no float rounding piles up as the clock
//! advances, and two events scheduled "at the same time" really are at the same time. A `u64`
//! of microseconds spans about 584,000 years.
//!
//! # Arithmetic
//!
//! The operators saturate instead of overflowing or wrapping: `SimTime::MAX + d` stays
//! `SimTime::MAX` (a convenient "never"), and `earlier - later` is zero, like
//! [`std::time::Instant::duration_since`]. The `checked_*` methods report overflow instead.
//!
//! # Text form
//!
//! [`SimDuration`] (and [`SimTime`], as an offset from the start) parse from and print to a
//! compact form: a non-negative decimal number followed by a unit, with no space between.
//!
//! | unit | meaning |
//! | --- | --- |
//! | `us` (or `µs`) | microseconds |
//! | `ms` | milliseconds |
//! | `s` | seconds |
//! | `m` | minutes |
//! | `h` | hours |
//! | `d` | days (24 hours) |
//!
//! Fractions are allowed as long as the value is a whole number of microseconds: `"1.5s"`,
//! `"0.25h"`, `"2.5ms"`. [`Display`](fmt::Display) picks the largest unit that prints the value
//! exactly, so whatever it prints parses back to the same value:
//!
//! ```
//! use smtpsim_des::SimDuration;
//!
//! let d: SimDuration = "90s".parse().unwrap();
//! assert_eq!(d, SimDuration::from_secs(90));
//! assert_eq!(d.to_string(), "90s");
//! assert_eq!("300s".parse::<SimDuration>().unwrap().to_string(), "5m");
//! assert_eq!(SimDuration::from_millis(1500).to_string(), "1.5s");
//! assert_eq!(SimDuration::from_millis(250).to_string(), "250ms");
//! assert!("5".parse::<SimDuration>().is_err()); // no unit
//! ```
//!
//! For CSV and reports, [`SimDuration::secs`] and [`SimTime::secs`] print seconds with a fixed
//! number of decimals (six, exact, unless a precision is given): `12.345000`.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Div, Mul, Sub, SubAssign};
use std::str::FromStr;

const MICROS_PER_MILLI: u64 = 1_000;
const MICROS_PER_SEC: u64 = 1_000_000;
const MICROS_PER_MIN: u64 = 60 * MICROS_PER_SEC;
const MICROS_PER_HOUR: u64 = 60 * MICROS_PER_MIN;
const MICROS_PER_DAY: u64 = 24 * MICROS_PER_HOUR;

/// A span of virtual time, in whole microseconds.
///
/// See the [module documentation](self) for arithmetic and the text form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SimDuration(u64);

/// An instant of virtual time: whole microseconds since the simulation started.
///
/// [`SimTime::ZERO`] is the start. See the [module documentation](self) for arithmetic and the
/// text form (an instant prints as its offset from the start: `"5m"` is five minutes in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SimTime(u64);

impl SimDuration {
    /// No time at all.
    pub const ZERO: SimDuration = SimDuration(0);
    /// One microsecond, the resolution of virtual time.
    pub const MICROSECOND: SimDuration = SimDuration(1);
    /// One millisecond.
    pub const MILLISECOND: SimDuration = SimDuration(MICROS_PER_MILLI);
    /// One second.
    pub const SECOND: SimDuration = SimDuration(MICROS_PER_SEC);
    /// One minute.
    pub const MINUTE: SimDuration = SimDuration(MICROS_PER_MIN);
    /// One hour.
    pub const HOUR: SimDuration = SimDuration(MICROS_PER_HOUR);
    /// One day (24 hours).
    pub const DAY: SimDuration = SimDuration(MICROS_PER_DAY);
    /// The longest duration, `u64::MAX` microseconds (about 584,000 years).
    pub const MAX: SimDuration = SimDuration(u64::MAX);

    /// A duration of `micros` microseconds.
    pub const fn from_micros(micros: u64) -> SimDuration {
        SimDuration(micros)
    }

    /// A duration of `millis` milliseconds, saturating at [`SimDuration::MAX`].
    pub const fn from_millis(millis: u64) -> SimDuration {
        SimDuration(millis.saturating_mul(MICROS_PER_MILLI))
    }

    /// A duration of `secs` seconds, saturating at [`SimDuration::MAX`].
    pub const fn from_secs(secs: u64) -> SimDuration {
        SimDuration(secs.saturating_mul(MICROS_PER_SEC))
    }

    /// A duration of `mins` minutes, saturating at [`SimDuration::MAX`].
    pub const fn from_mins(mins: u64) -> SimDuration {
        SimDuration(mins.saturating_mul(MICROS_PER_MIN))
    }

    /// A duration of `hours` hours, saturating at [`SimDuration::MAX`].
    pub const fn from_hours(hours: u64) -> SimDuration {
        SimDuration(hours.saturating_mul(MICROS_PER_HOUR))
    }

    /// A duration of `days` days of 24 hours, saturating at [`SimDuration::MAX`].
    pub const fn from_days(days: u64) -> SimDuration {
        SimDuration(days.saturating_mul(MICROS_PER_DAY))
    }

    /// The duration closest to `secs` seconds, rounded to the nearest microsecond.
    ///
    /// Meant for values drawn from continuous distributions, so it never panics: negative
    /// values and NaN give [`SimDuration::ZERO`], values too large (and +∞) give
    /// [`SimDuration::MAX`].
    pub fn from_secs_f64(secs: f64) -> SimDuration {
        SimDuration(round_to_u64(secs * MICROS_PER_SEC as f64))
    }

    /// The whole number of microseconds.
    pub const fn as_micros(self) -> u64 {
        self.0
    }

    /// The whole number of milliseconds, rounded down.
    pub const fn as_millis(self) -> u64 {
        self.0 / MICROS_PER_MILLI
    }

    /// The whole number of seconds, rounded down.
    pub const fn as_secs(self) -> u64 {
        self.0 / MICROS_PER_SEC
    }

    /// The duration in seconds as a float (exact up to about 285 years).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / MICROS_PER_SEC as f64
    }

    /// Whether this is [`SimDuration::ZERO`].
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// `self + other`, or `None` on overflow.
    pub const fn checked_add(self, other: SimDuration) -> Option<SimDuration> {
        match self.0.checked_add(other.0) {
            Some(micros) => Some(SimDuration(micros)),
            None => None,
        }
    }

    /// `self - other`, or `None` if `other` is longer.
    pub const fn checked_sub(self, other: SimDuration) -> Option<SimDuration> {
        match self.0.checked_sub(other.0) {
            Some(micros) => Some(SimDuration(micros)),
            None => None,
        }
    }

    /// `self * factor`, or `None` on overflow.
    pub const fn checked_mul(self, factor: u64) -> Option<SimDuration> {
        match self.0.checked_mul(factor) {
            Some(micros) => Some(SimDuration(micros)),
            None => None,
        }
    }

    /// `self + other`, saturating at [`SimDuration::MAX`] (the same as `+`).
    pub const fn saturating_add(self, other: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(other.0))
    }

    /// `self - other`, saturating at [`SimDuration::ZERO`] (the same as `-`).
    pub const fn saturating_sub(self, other: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_sub(other.0))
    }

    /// `self * factor`, saturating at [`SimDuration::MAX`] (the same as `*`).
    pub const fn saturating_mul(self, factor: u64) -> SimDuration {
        SimDuration(self.0.saturating_mul(factor))
    }

    /// Displays the duration in seconds with a fixed number of decimals, for CSV and reports:
    /// six by default (exact), or the formatter's precision (`{:.3}`), rounded half up.
    ///
    /// ```
    /// use smtpsim_des::SimDuration;
    ///
    /// let d = SimDuration::from_micros(12_345_000);
    /// assert_eq!(d.secs().to_string(), "12.345000");
    /// assert_eq!(format!("{:.2}", d.secs()), "12.35");
    /// assert_eq!(format!("{:.0}", d.secs()), "12");
    /// ```
    pub const fn secs(self) -> Secs {
        Secs(self.0)
    }

    /// The duration in seconds with six decimals, as a string: `"12.345000"`.
    ///
    /// Shorthand for `self.secs().to_string()`.
    pub fn fmt_secs(self) -> String {
        self.secs().to_string()
    }
}

impl SimTime {
    /// The start of the simulation.
    pub const ZERO: SimTime = SimTime(0);
    /// The last representable instant; as a deadline it means "never".
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// The instant `micros` microseconds after the start.
    pub const fn from_micros(micros: u64) -> SimTime {
        SimTime(micros)
    }

    /// The instant `millis` milliseconds after the start, saturating at [`SimTime::MAX`].
    pub const fn from_millis(millis: u64) -> SimTime {
        SimTime(SimDuration::from_millis(millis).0)
    }

    /// The instant `secs` seconds after the start, saturating at [`SimTime::MAX`].
    pub const fn from_secs(secs: u64) -> SimTime {
        SimTime(SimDuration::from_secs(secs).0)
    }

    /// The instant `offset` after the start.
    pub const fn from_offset(offset: SimDuration) -> SimTime {
        SimTime(offset.0)
    }

    /// Microseconds since the start.
    pub const fn as_micros(self) -> u64 {
        self.0
    }

    /// Seconds since the start, as a float.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / MICROS_PER_SEC as f64
    }

    /// The time elapsed since the start.
    pub const fn since_start(self) -> SimDuration {
        SimDuration(self.0)
    }

    /// The time from `earlier` to `self`, or zero if `earlier` is later (the same as `-`).
    pub const fn saturating_duration_since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }

    /// The time from `earlier` to `self`, or `None` if `earlier` is later.
    pub const fn checked_duration_since(self, earlier: SimTime) -> Option<SimDuration> {
        match self.0.checked_sub(earlier.0) {
            Some(micros) => Some(SimDuration(micros)),
            None => None,
        }
    }

    /// `self + d`, or `None` past [`SimTime::MAX`].
    pub const fn checked_add(self, d: SimDuration) -> Option<SimTime> {
        match self.0.checked_add(d.0) {
            Some(micros) => Some(SimTime(micros)),
            None => None,
        }
    }

    /// `self - d`, or `None` before the start.
    pub const fn checked_sub(self, d: SimDuration) -> Option<SimTime> {
        match self.0.checked_sub(d.0) {
            Some(micros) => Some(SimTime(micros)),
            None => None,
        }
    }

    /// `self + d`, saturating at [`SimTime::MAX`] (the same as `+`).
    pub const fn saturating_add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }

    /// `self - d`, saturating at [`SimTime::ZERO`] (the same as `-`).
    pub const fn saturating_sub(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_sub(d.0))
    }

    /// Displays seconds since the start with fixed decimals; see [`SimDuration::secs`].
    pub const fn secs(self) -> Secs {
        Secs(self.0)
    }

    /// Seconds since the start with six decimals, as a string: `"12.345000"`.
    pub fn fmt_secs(self) -> String {
        self.secs().to_string()
    }
}

impl From<SimDuration> for std::time::Duration {
    fn from(d: SimDuration) -> std::time::Duration {
        std::time::Duration::from_micros(d.0)
    }
}

impl TryFrom<std::time::Duration> for SimDuration {
    type Error = std::num::TryFromIntError;

    /// Converts a [`std::time::Duration`], truncating below one microsecond; fails if it is
    /// longer than [`SimDuration::MAX`].
    fn try_from(d: std::time::Duration) -> Result<SimDuration, Self::Error> {
        u64::try_from(d.as_micros()).map(SimDuration)
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, rhs: SimDuration) -> SimDuration {
        self.saturating_add(rhs)
    }
}

impl Sub for SimDuration {
    type Output = SimDuration;
    fn sub(self, rhs: SimDuration) -> SimDuration {
        self.saturating_sub(rhs)
    }
}

impl AddAssign for SimDuration {
    fn add_assign(&mut self, rhs: SimDuration) {
        *self = *self + rhs;
    }
}

impl SubAssign for SimDuration {
    fn sub_assign(&mut self, rhs: SimDuration) {
        *self = *self - rhs;
    }
}

impl Mul<u64> for SimDuration {
    type Output = SimDuration;
    fn mul(self, rhs: u64) -> SimDuration {
        self.saturating_mul(rhs)
    }
}

impl Div<u64> for SimDuration {
    type Output = SimDuration;
    /// Divides, rounding down.
    ///
    /// # Panics
    ///
    /// If `rhs` is zero.
    fn div(self, rhs: u64) -> SimDuration {
        SimDuration(self.0 / rhs)
    }
}

impl Sum for SimDuration {
    fn sum<I: Iterator<Item = SimDuration>>(iter: I) -> SimDuration {
        iter.fold(SimDuration::ZERO, Add::add)
    }
}

impl<'a> Sum<&'a SimDuration> for SimDuration {
    fn sum<I: Iterator<Item = &'a SimDuration>>(iter: I) -> SimDuration {
        iter.copied().sum()
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, rhs: SimDuration) -> SimTime {
        self.saturating_add(rhs)
    }
}

impl Sub<SimDuration> for SimTime {
    type Output = SimTime;
    fn sub(self, rhs: SimDuration) -> SimTime {
        self.saturating_sub(rhs)
    }
}

impl Sub for SimTime {
    type Output = SimDuration;
    fn sub(self, rhs: SimTime) -> SimDuration {
        self.saturating_duration_since(rhs)
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, rhs: SimDuration) {
        *self = *self + rhs;
    }
}

impl SubAssign<SimDuration> for SimTime {
    fn sub_assign(&mut self, rhs: SimDuration) {
        *self = *self - rhs;
    }
}

/// Seconds with fixed decimals, made by [`SimDuration::secs`] and [`SimTime::secs`].
///
/// Prints six decimals (exact) unless the formatter gives a precision, in which case the
/// value is rounded half up to that many decimals (at most six are meaningful; more are
/// padded with zeros). Width, fill and alignment are honoured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Secs(u64);

impl fmt::Display for Secs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let decimals = f.precision().unwrap_or(6);
        let text = if decimals >= 6 {
            let whole = self.0 / MICROS_PER_SEC;
            let frac = self.0 % MICROS_PER_SEC;
            format!("{whole}.{frac:06}{:0<pad$}", "", pad = decimals - 6)
        } else {
            // Round half up at the requested digit, in integers (u128: no overflow near MAX).
            let unit = 10u128.pow(6 - decimals as u32);
            let scaled = (u128::from(self.0) + unit / 2) / unit;
            let per_sec = 10u128.pow(decimals as u32);
            let whole = scaled / per_sec;
            if decimals == 0 {
                format!("{whole}")
            } else {
                let frac = scaled % per_sec;
                format!("{whole}.{frac:0decimals$}")
            }
        };
        f.pad_integral(true, "", &text)
    }
}

impl fmt::Display for SimDuration {
    /// The compact form: the largest unit that shows the value exactly (`"5m"`, `"2h"`,
    /// `"250ms"`), or seconds or milliseconds with a fraction (`"1.5s"`, `"2.5ms"`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let us = self.0;
        let text = if us == 0 {
            "0s".to_string()
        } else if us.is_multiple_of(MICROS_PER_DAY) {
            format!("{}d", us / MICROS_PER_DAY)
        } else if us.is_multiple_of(MICROS_PER_HOUR) {
            format!("{}h", us / MICROS_PER_HOUR)
        } else if us.is_multiple_of(MICROS_PER_MIN) {
            format!("{}m", us / MICROS_PER_MIN)
        } else if us >= MICROS_PER_SEC {
            with_fraction(us, MICROS_PER_SEC, 6, "s")
        } else if us.is_multiple_of(MICROS_PER_MILLI) {
            format!("{}ms", us / MICROS_PER_MILLI)
        } else if us >= MICROS_PER_MILLI {
            with_fraction(us, MICROS_PER_MILLI, 3, "ms")
        } else {
            format!("{us}us")
        };
        // Width, fill and alignment apply; a precision would cut the text, so it is ignored.
        f.pad_integral(true, "", &text)
    }
}

/// `value / unit` in decimal with trailing zeros of the fraction removed, then `suffix`.
fn with_fraction(value: u64, unit: u64, digits: usize, suffix: &str) -> String {
    let whole = value / unit;
    let frac = value % unit;
    if frac == 0 {
        return format!("{whole}{suffix}");
    }
    let frac = format!("{frac:0digits$}");
    format!("{whole}.{}{suffix}", frac.trim_end_matches('0'))
}

impl fmt::Display for SimTime {
    /// The offset from the start in the compact form of [`SimDuration`]: `"5m"`, `"1.5s"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.since_start(), f)
    }
}

/// Why a duration (or an instant) did not parse.
///
/// Each variant carries the input as given, so the message can quote it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseDurationError {
    /// The input was empty (or only spaces).
    #[error("empty duration: expected a number and a unit, such as \"250ms\", \"30s\" or \"5m\"")]
    Empty,
    /// The input had a minus sign.
    #[error("invalid duration \"{0}\": durations cannot be negative")]
    Negative(String),
    /// The input did not start with a decimal number.
    #[error(
        "invalid duration \"{0}\": expected a number and a unit, such as \"250ms\", \"30s\" or \"5m\""
    )]
    InvalidNumber(String),
    /// The number had no unit after it.
    #[error(
        "invalid duration \"{0}\": missing unit; add one of us, ms, s, m, h, d (as in \"{0}s\")"
    )]
    MissingUnit(String),
    /// The unit was not one of `us`, `µs`, `ms`, `s`, `m`, `h`, `d`.
    #[error(
        "invalid duration \"{input}\": unknown unit \"{unit}\"; expected one of us, ms, s, m, h, d"
    )]
    UnknownUnit {
        /// The whole input.
        input: String,
        /// The text after the number.
        unit: String,
    },
    /// The value was not a whole number of microseconds (`"1.5us"`, `"0.0000001s"`).
    #[error("invalid duration \"{0}\": finer than one microsecond, the resolution of virtual time")]
    TooPrecise(String),
    /// The value was longer than [`SimDuration::MAX`].
    #[error(
        "invalid duration \"{0}\": too long; the longest is 18446744073709.551615s (about 584,000 years)"
    )]
    Overflow(String),
}

impl FromStr for SimDuration {
    type Err = ParseDurationError;

    /// Parses the compact form: a non-negative decimal number and a unit with no space
    /// between (`"250ms"`, `"1.5s"`, `"5m"`). Spaces around the whole are ignored.
    fn from_str(input: &str) -> Result<SimDuration, ParseDurationError> {
        let s = input.trim();
        let owned = || s.to_string();
        if s.is_empty() {
            return Err(ParseDurationError::Empty);
        }
        if s.starts_with('-') {
            return Err(ParseDurationError::Negative(owned()));
        }
        let s_body = s.strip_prefix('+').unwrap_or(s);
        let number_len = s_body
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(s_body.len());
        let (number, unit) = s_body.split_at(number_len);
        let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
        let valid_number = !number.is_empty()
            && !frac.contains('.')
            && (!whole.is_empty() || !frac.is_empty())
            && !number.ends_with('.');
        if !valid_number {
            return Err(ParseDurationError::InvalidNumber(owned()));
        }
        let unit_micros = match unit {
            "" => return Err(ParseDurationError::MissingUnit(owned())),
            "us" | "µs" => 1,
            "ms" => MICROS_PER_MILLI,
            "s" => MICROS_PER_SEC,
            "m" => MICROS_PER_MIN,
            "h" => MICROS_PER_HOUR,
            "d" => MICROS_PER_DAY,
            other => {
                return Err(ParseDurationError::UnknownUnit {
                    input: owned(),
                    unit: other.to_string(),
                });
            }
        };
        let unit_micros = u128::from(unit_micros);
        let overflow = || ParseDurationError::Overflow(owned());

        // Whole part, in u128 so one step of `* 10 + d` cannot overflow before the check.
        let mut micros: u128 = 0;
        for digit in whole.bytes() {
            let value = micros * 10 + u128::from(digit - b'0');
            if value > u128::from(u64::MAX) {
                return Err(overflow());
            }
            micros = value;
        }
        micros = micros.checked_mul(unit_micros).ok_or_else(overflow)?;

        // Fraction: exact, or an error if it does not land on a whole microsecond.
        let frac = frac.trim_end_matches('0');
        if !frac.is_empty() {
            // The largest unit is 8.64e10 us, so more than 11 significant decimals can never
            // be a whole number of microseconds.
            if frac.len() > 11 {
                return Err(ParseDurationError::TooPrecise(owned()));
            }
            let numerator: u128 = frac
                .bytes()
                .fold(0, |acc, digit| acc * 10 + u128::from(digit - b'0'));
            let scaled = numerator * unit_micros;
            let denominator = 10u128.pow(frac.len() as u32);
            if !scaled.is_multiple_of(denominator) {
                return Err(ParseDurationError::TooPrecise(owned()));
            }
            micros += scaled / denominator;
        }
        u64::try_from(micros)
            .map(SimDuration)
            .map_err(|_| overflow())
    }
}

impl FromStr for SimTime {
    type Err = ParseDurationError;

    /// Parses an offset from the start in the compact form of [`SimDuration`].
    fn from_str(s: &str) -> Result<SimTime, ParseDurationError> {
        s.parse().map(SimTime::from_offset)
    }
}

/// `x.round() as u64` (halves away from zero; negative numbers and NaN give 0, numbers too
/// large give `u64::MAX`), without calling `round`, which on the baseline x86-64 target is a
/// library call: drawn durations are rounded several times per simulated message. The
/// conversions go through `i64`, one instruction each way.
pub fn round_to_u64(x: f64) -> u64 {
    // Zero, negative numbers and NaN.
    if x.is_nan() || x <= 0.0 {
        return 0;
    }
    if x >= 9.2e18 {
        return x.round() as u64;
    }
    let whole = x as i64;
    // `x - whole` is exact.
    let up = x - whole as f64 >= 0.5;
    whole as u64 + u64::from(up)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<SimDuration, ParseDurationError> {
        s.parse()
    }

    #[test]
    fn parses_every_unit() {
        assert_eq!(parse("10us").unwrap(), SimDuration::from_micros(10));
        assert_eq!(parse("10µs").unwrap(), SimDuration::from_micros(10));
        assert_eq!(parse("250ms").unwrap(), SimDuration::from_millis(250));
        assert_eq!(parse("300s").unwrap(), SimDuration::from_secs(300));
        assert_eq!(parse("5m").unwrap(), SimDuration::from_mins(5));
        assert_eq!(parse("2h").unwrap(), SimDuration::from_hours(2));
        assert_eq!(parse("5d").unwrap(), SimDuration::from_days(5));
        assert_eq!(parse("0s").unwrap(), SimDuration::ZERO);
        assert_eq!(parse(" 7s ").unwrap(), SimDuration::from_secs(7));
        assert_eq!(parse("+7s").unwrap(), SimDuration::from_secs(7));
    }

    #[test]
    fn parses_fractions_exactly() {
        assert_eq!(parse("1.5s").unwrap(), SimDuration::from_millis(1500));
        assert_eq!(parse(".5s").unwrap(), SimDuration::from_millis(500));
        assert_eq!(parse("0.25h").unwrap(), SimDuration::from_mins(15));
        assert_eq!(parse("2.5ms").unwrap(), SimDuration::from_micros(2500));
        assert_eq!(
            parse("1.000001s").unwrap(),
            SimDuration::from_micros(1_000_001)
        );
        assert_eq!(
            parse("1.50000000000000000000s").unwrap(),
            SimDuration::from_millis(1500)
        );
        assert_eq!(parse("3.0us").unwrap(), SimDuration::from_micros(3));
        assert_eq!(
            parse("0.00001d").unwrap(),
            SimDuration::from_micros(864_000)
        );
    }

    #[test]
    fn rejects_bad_input_with_the_right_reason() {
        assert_eq!(parse(""), Err(ParseDurationError::Empty));
        assert_eq!(parse("   "), Err(ParseDurationError::Empty));
        assert!(matches!(parse("-5s"), Err(ParseDurationError::Negative(_))));
        assert!(matches!(
            parse("5"),
            Err(ParseDurationError::MissingUnit(_))
        ));
        assert!(matches!(
            parse("1.5"),
            Err(ParseDurationError::MissingUnit(_))
        ));
        assert!(matches!(
            parse("s"),
            Err(ParseDurationError::InvalidNumber(_))
        ));
        assert!(matches!(
            parse("."),
            Err(ParseDurationError::InvalidNumber(_))
        ));
        assert!(matches!(
            parse("1.s"),
            Err(ParseDurationError::InvalidNumber(_))
        ));
        assert!(matches!(
            parse("1.2.3s"),
            Err(ParseDurationError::InvalidNumber(_))
        ));
        assert!(matches!(
            parse("5 m"),
            Err(ParseDurationError::UnknownUnit { .. })
        ));
        assert!(matches!(
            parse("5min"),
            Err(ParseDurationError::UnknownUnit { .. })
        ));
        assert!(matches!(
            parse("5M"),
            Err(ParseDurationError::UnknownUnit { .. })
        ));
        assert!(matches!(
            parse("1.5us"),
            Err(ParseDurationError::TooPrecise(_))
        ));
        assert!(matches!(
            parse("0.0000001s"),
            Err(ParseDurationError::TooPrecise(_))
        ));
        assert!(matches!(
            parse("0.000000000001d"),
            Err(ParseDurationError::TooPrecise(_))
        ));
        assert!(matches!(
            parse("18446744073709551616us"),
            Err(ParseDurationError::Overflow(_))
        ));
        assert!(matches!(
            parse("213503982335d"),
            Err(ParseDurationError::Overflow(_))
        ));
        assert!(matches!(
            parse("99999999999999999999999999999999999999999s"),
            Err(ParseDurationError::Overflow(_))
        ));
        assert_eq!(parse("18446744073709551615us").unwrap(), SimDuration::MAX);
        assert_eq!(parse("18446744073709.551615s").unwrap(), SimDuration::MAX);
        assert!(matches!(
            parse("18446744073709.551616s"),
            Err(ParseDurationError::Overflow(_))
        ));
    }

    #[test]
    fn error_messages_say_what_was_wrong() {
        assert_eq!(
            parse("5").unwrap_err().to_string(),
            "invalid duration \"5\": missing unit; add one of us, ms, s, m, h, d (as in \"5s\")"
        );
        assert_eq!(
            parse("5min").unwrap_err().to_string(),
            "invalid duration \"5min\": unknown unit \"min\"; expected one of us, ms, s, m, h, d"
        );
        assert!(parse("-1s").unwrap_err().to_string().contains("negative"));
        assert!(
            parse("")
                .unwrap_err()
                .to_string()
                .starts_with("empty duration")
        );
    }

    #[test]
    fn displays_compactly() {
        let cases = [
            (0, "0s"),
            (1, "1us"),
            (999, "999us"),
            (1_000, "1ms"),
            (1_500, "1.5ms"),
            (250_000, "250ms"),
            (1_000_000, "1s"),
            (1_500_000, "1.5s"),
            (1_000_001, "1.000001s"),
            (90_000_000, "90s"),
            (300_000_000, "5m"),
            (5_400_000_000, "90m"),
            (7_200_000_000, "2h"),
            (5 * MICROS_PER_DAY, "5d"),
            (MICROS_PER_DAY + 1_000_000, "86401s"),
            (u64::MAX, "18446744073709.551615s"),
        ];
        for (micros, text) in cases {
            assert_eq!(SimDuration::from_micros(micros).to_string(), text);
            assert_eq!(parse(text).unwrap().as_micros(), micros, "{text}");
        }
        assert_eq!(format!("{:>6}", SimDuration::from_mins(5)), "    5m");
        assert_eq!(format!("{:<7}|", SimDuration::from_millis(250)), "250ms  |");
        assert_eq!(format!("{:.1}", SimDuration::from_millis(250)), "250ms");
        assert_eq!(SimTime::from_secs(300).to_string(), "5m");
        assert_eq!("5m".parse::<SimTime>().unwrap(), SimTime::from_secs(300));
    }

    #[test]
    fn seconds_with_fixed_decimals() {
        let d = SimDuration::from_micros(12_345_000);
        assert_eq!(d.fmt_secs(), "12.345000");
        assert_eq!(format!("{:.3}", d.secs()), "12.345");
        assert_eq!(format!("{:.2}", d.secs()), "12.35");
        assert_eq!(format!("{:.0}", d.secs()), "12");
        assert_eq!(format!("{:.8}", d.secs()), "12.34500000");
        assert_eq!(format!("{:>12}", d.secs()), "   12.345000");
        assert_eq!(SimDuration::ZERO.fmt_secs(), "0.000000");
        assert_eq!(SimTime::from_micros(7).fmt_secs(), "0.000007");
        assert_eq!(format!("{:.0}", SimDuration::from_millis(2500).secs()), "3");
        assert_eq!(
            format!("{:.1}", SimDuration::from_micros(999_950).secs()),
            "1.0"
        );
        assert_eq!(SimDuration::MAX.fmt_secs(), "18446744073709.551615");
        assert_eq!(format!("{:.0}", SimDuration::MAX.secs()), "18446744073710");
    }

    #[test]
    fn arithmetic_saturates() {
        let t = SimTime::from_secs(10);
        let d = SimDuration::from_secs(3);
        assert_eq!(t + d, SimTime::from_secs(13));
        assert_eq!(t - d, SimTime::from_secs(7));
        assert_eq!(SimTime::from_secs(13) - t, d);
        assert_eq!(t - SimTime::from_secs(13), SimDuration::ZERO);
        assert_eq!(SimTime::MAX + d, SimTime::MAX);
        assert_eq!(SimTime::ZERO - d, SimTime::ZERO);
        assert_eq!(SimDuration::MAX + d, SimDuration::MAX);
        assert_eq!(d - SimDuration::from_secs(5), SimDuration::ZERO);
        assert_eq!(d * 4, SimDuration::from_secs(12));
        assert_eq!(SimDuration::MAX * 2, SimDuration::MAX);
        assert_eq!(d / 2, SimDuration::from_millis(1500));
        assert_eq!(SimTime::MAX.checked_add(d), None);
        assert_eq!(SimTime::ZERO.checked_sub(d), None);
        assert_eq!(t.checked_duration_since(SimTime::from_secs(11)), None);
        assert_eq!(SimDuration::MAX.checked_add(d), None);
        assert_eq!(d.checked_sub(SimDuration::from_secs(4)), None);
        assert_eq!(d.checked_mul(u64::MAX), None);
        let mut u = t;
        u += d;
        u -= SimDuration::from_secs(1);
        assert_eq!(u, SimTime::from_secs(12));
        let total: SimDuration = [d, d, d].iter().sum();
        assert_eq!(total, SimDuration::from_secs(9));
    }

    #[test]
    fn conversions() {
        assert_eq!(SimDuration::from_secs(2).as_micros(), 2_000_000);
        assert_eq!(SimDuration::from_micros(2_999_999).as_secs(), 2);
        assert_eq!(SimDuration::from_micros(2_999_999).as_millis(), 2_999);
        assert_eq!(SimDuration::from_millis(1500).as_secs_f64(), 1.5);
        assert_eq!(SimTime::from_millis(1500).as_secs_f64(), 1.5);
        assert_eq!(SimDuration::from_secs(u64::MAX), SimDuration::MAX);
        assert_eq!(
            SimDuration::from_secs_f64(1.5),
            SimDuration::from_millis(1500)
        );
        assert_eq!(
            SimDuration::from_secs_f64(0.0000014),
            SimDuration::from_micros(1)
        );
        assert_eq!(SimDuration::from_secs_f64(-1.0), SimDuration::ZERO);
        assert_eq!(SimDuration::from_secs_f64(f64::NAN), SimDuration::ZERO);
        assert_eq!(SimDuration::from_secs_f64(f64::INFINITY), SimDuration::MAX);
        assert_eq!(SimDuration::from_secs_f64(1e300), SimDuration::MAX);
        let std = std::time::Duration::from_millis(1500);
        assert_eq!(
            SimDuration::try_from(std).unwrap(),
            SimDuration::from_millis(1500)
        );
        assert_eq!(
            std::time::Duration::from(SimDuration::from_millis(1500)),
            std
        );
        assert!(SimDuration::try_from(std::time::Duration::MAX).is_err());
        assert_eq!(
            SimTime::from_secs(5).since_start(),
            SimDuration::from_secs(5)
        );
    }
}
