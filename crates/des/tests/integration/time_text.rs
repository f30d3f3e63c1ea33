//! The text form of durations and instants: parse and display round trips; the rounding of
//! drawn durations.

use proptest::prelude::*;
use smtpsim_des::{ParseDurationError, SimDuration, SimTime, round_to_u64};

const UNITS: [(&str, u64); 7] = [
    ("us", 1),
    ("µs", 1),
    ("ms", 1_000),
    ("s", 1_000_000),
    ("m", 60_000_000),
    ("h", 3_600_000_000),
    ("d", 86_400_000_000),
];

proptest! {
    /// Whatever `Display` prints parses back to the same value.
    #[test]
    fn display_parses_back(micros in any::<u64>()) {
        let d = SimDuration::from_micros(micros);
        let text = d.to_string();
        prop_assert_eq!(text.parse::<SimDuration>(), Ok(d), "{}", text);
        let t = SimTime::from_micros(micros);
        prop_assert_eq!(t.to_string().parse::<SimTime>(), Ok(t));
    }

    /// Same, over values made of whole units, where `Display` picks the larger units.
    #[test]
    fn display_of_round_values_parses_back(n in 0u64..1_000_000, unit in 0usize..7) {
        let d = SimDuration::from_micros(n * UNITS[unit].1);
        prop_assert_eq!(d.to_string().parse::<SimDuration>(), Ok(d));
        prop_assert!(d.to_string().len() <= 10);
    }

    /// `N<unit>` parses to N units, exactly, or reports overflow.
    #[test]
    fn whole_numbers_with_units(n in any::<u64>(), unit in 0usize..7) {
        let (suffix, micros) = UNITS[unit];
        let parsed = format!("{n}{suffix}").parse::<SimDuration>();
        match n.checked_mul(micros) {
            Some(total) => prop_assert_eq!(parsed, Ok(SimDuration::from_micros(total))),
            None => prop_assert!(matches!(parsed, Err(ParseDurationError::Overflow(_)))),
        }
    }

    /// `W.F<unit>` parses exactly when it is a whole number of microseconds.
    #[test]
    fn fractions_with_units(whole in 0u64..100_000, frac in 0u64..1_000_000, unit in 2usize..7) {
        let (suffix, micros) = UNITS[unit];
        let text = format!("{whole}.{frac:06}{suffix}");
        let scaled = u128::from(frac) * u128::from(micros);
        let parsed = text.parse::<SimDuration>();
        if scaled % 1_000_000 == 0 {
            let expected = u128::from(whole) * u128::from(micros) + scaled / 1_000_000;
            prop_assert_eq!(parsed, Ok(SimDuration::from_micros(expected as u64)));
        } else {
            prop_assert!(matches!(parsed, Err(ParseDurationError::TooPrecise(_))));
        }
    }

    /// Seconds with fixed decimals print the exact value.
    #[test]
    fn fixed_decimal_seconds(micros in any::<u64>()) {
        let text = SimDuration::from_micros(micros).fmt_secs();
        let (whole, frac) = text.split_once('.').unwrap();
        prop_assert_eq!(frac.len(), 6);
        prop_assert_eq!(whole.parse::<u64>().unwrap(), micros / 1_000_000);
        prop_assert_eq!(frac.parse::<u64>().unwrap(), micros % 1_000_000);
    }

    /// Arbitrary text never panics the parser.
    #[test]
    fn parser_never_panics(text in "\\PC{0,12}") {
        let _ = text.parse::<SimDuration>();
    }
}

#[test]
fn issue_examples() {
    let cases = [
        ("250ms", SimDuration::from_millis(250), "250ms"),
        ("300s", SimDuration::from_secs(300), "5m"),
        ("5m", SimDuration::from_mins(5), "5m"),
        ("2h", SimDuration::from_hours(2), "2h"),
        ("5d", SimDuration::from_days(5), "5d"),
        ("1.5s", SimDuration::from_millis(1500), "1.5s"),
        ("10us", SimDuration::from_micros(10), "10us"),
    ];
    for (text, value, shown) in cases {
        assert_eq!(text.parse::<SimDuration>(), Ok(value), "{text}");
        assert_eq!(value.to_string(), shown);
    }
    for bad in ["", "-5s", "5", "5x", "99999999999999999999d", "1.5us"] {
        let error = bad.parse::<SimDuration>().unwrap_err();
        assert!(!error.to_string().is_empty());
    }
}

proptest! {
    #[test]
    fn round_to_u64_is_round_then_cast(x in prop_oneof![
        any::<f64>(),
        -10.0f64..1e7,
        (0u64..1_000_000).prop_map(|n| n as f64 + 0.5),
        (0u64..1_000_000).prop_map(|n| n as f64 + 0.49999999999999994),
    ]) {
        prop_assert_eq!(round_to_u64(x), x.round() as u64, "{}", x);
    }
}

#[test]
fn round_to_u64_at_the_edges() {
    for x in [
        0.0,
        -0.0,
        0.5,
        -0.5,
        -0.7,
        0.49999999999999994,
        2.5,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        9007199254740993.0,
        9.2e18,
        9.3e18,
        1.8446744073709552e19,
        1e300,
    ] {
        assert_eq!(round_to_u64(x), x.round() as u64, "{x}");
    }
}
