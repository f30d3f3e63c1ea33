//! The `shape` action: for its duration the rule's shaping values are in force on the domain
//! or provider, then the configured values come back at once or in the steps of a ramp; each
//! step is a row of its own.

use crate::support;

use smtpsim_model::scenario::Scenario;
use smtpsim_model::sim::Options;

/// Two messages a second for 30 minutes to one domain shaped to 1 message a second, whose MX
/// host greets with `421 4.3.2` during the first second; each message gets one attempt. A
/// rule shapes `target` (the domain, or its provider) to 1 message a minute for 10 minutes
/// on that reply, then `ramp`.
fn scenario(target: &str, ramp: &str) -> Scenario {
    let text = format!(
        r#"
[simulation]
name = "shape"
duration = "30m"
[[senders]]
name = "app"
domain = "shop.example"
arrivals = {{ process = "constant", rate = "2/s" }}
to = [{{ domain = "a.example" }}]
[relay]
retry = {{ policy = "fixed", schedule = ["5m"] }}
max_attempts = 1
[[relay.domains]]
name = "a.example"
max_message_rate = "1/s"
[[relay.providers]]
name = "bigmail"
mx = ["*.bigmail.example"]
max_message_rate = "1/s"
[[relay.automation]]
name = "slow-down"
code = 421
target = "{target}"
action = "shape"
shape = {{ max_message_rate = "1/min" }}
duration = "10m"
{ramp}
[[domains]]
name = "a.example"
mx = [{{ host = "mx.a.bigmail.example", outages = [{{ start = "0s", end = "1s", mode = "421" }}] }}]
"#
    );
    Scenario::parse(&text, "shape.toml").unwrap_or_else(|e| panic!("{e}"))
}

/// The attempts' start times, in order.
fn attempts(memory: &support::Memory) -> Vec<u64> {
    let mut starts: Vec<u64> = memory.rows.iter().filter_map(|r| r.first_attempt).collect();
    starts.sort();
    starts
}

/// The microseconds between tokens at `per_second`, as the token bucket counts them.
fn period(per_second: f64) -> u64 {
    (1e6 / per_second).round() as u64
}

/// Every gap between attempts that start in `[from + one period, to)` is exactly the period
/// of `per_second`, and there are as many as the window holds.
fn assert_pace(starts: &[u64], from: u64, to: u64, per_second: f64) {
    let p = period(per_second);
    let inside: Vec<u64> = starts
        .iter()
        .copied()
        .filter(|&t| t >= from + p && t < to)
        .collect();
    assert!(!inside.is_empty(), "no attempts in [{from}, {to})");
    for pair in inside.windows(2) {
        assert_eq!(pair[1] - pair[0], p, "at {} for {per_second}/s", pair[0]);
    }
    let expected = (to - from - p) as f64 / p as f64;
    assert!(
        (inside.len() as f64 - expected).abs() <= 1.0,
        "{} in [{from}, {to})",
        inside.len()
    );
}

#[test]
fn a_shape_holds_its_rate_then_a_ramp_returns_stepwise_to_the_configured_rate() {
    for target in ["domain", "provider"] {
        let ramp = "ramp = { steps = 4, every = \"5m\" }";
        let (memory, _) = support::run(&scenario(target, ramp), &Options::default());
        let rows: Vec<&(u64, String)> = memory.automation.iter().collect();
        assert_eq!(rows.len(), 5, "{rows:?}");
        let fired = rows[0].0;
        assert!(rows[0].1.contains("fired: shapes"), "{}", rows[0].1);
        let minute = 60_000_000;
        for (k, row) in rows[1..].iter().enumerate() {
            let step = k as u64 + 1;
            assert_eq!(
                row.0,
                fired + 10 * minute + (step - 1) * 5 * minute,
                "{}",
                row.1
            );
            assert!(
                row.1
                    .contains(&format!("ramp step {step} of 4 on {target}")),
                "{}",
                row.1
            );
        }
        assert!(rows[4].1.ends_with("the configured shaping is back"));
        let starts = attempts(&memory);
        // During the shape: one a minute; each step a quarter of the way back to 1/s.
        assert_pace(&starts, fired, fired + 10 * minute, 1.0 / 60.0);
        let rate = |k: f64| 1.0 / 60.0 + (1.0 - 1.0 / 60.0) * (k / 4.0);
        for k in 1..4u64 {
            let from = fired + 10 * minute + (k - 1) * 5 * minute;
            assert_pace(&starts, from, from + 5 * minute, rate(k as f64));
        }
        // After the last step the configured rate, while arrivals outpace it.
        assert_pace(&starts, fired + 25 * minute, 30 * minute, 1.0);
    }
}

#[test]
fn a_shape_without_a_ramp_snaps_back_when_it_ends() {
    let (memory, _) = support::run(&scenario("domain", ""), &Options::default());
    assert_eq!(memory.automation.len(), 2, "{:?}", memory.automation);
    let (fired, ended) = (memory.automation[0].0, memory.automation[1].0);
    assert_eq!(ended, fired + 600_000_000);
    assert!(
        memory.automation[1]
            .1
            .contains("action on domain a.example ended")
    );
    let starts = attempts(&memory);
    assert_pace(&starts, fired, ended, 1.0 / 60.0);
    assert_pace(&starts, ended, 30 * 60_000_000, 1.0);
}

#[test]
fn shape_mistakes_are_named_with_their_place() {
    let error = |rule: &str| {
        let relay =
            format!("[[relay.automation]]\nname = \"r\"\ncode = 421\nduration = \"10m\"\n{rule}");
        support::mistake(&relay, support::ONE_MX)
    };
    let no_steps = error(
        "action = \"shape\"\nshape = { connection_limit = 1 }\nramp = { steps = 0, every = \"5m\" }",
    );
    assert!(no_steps.starts_with("bad.toml:17:"), "{no_steps}");
    assert!(
        no_steps.contains("relay.automation[0].ramp.steps: a ramp has 1 to 1000 steps, not 0"),
        "{no_steps}"
    );
    let no_shape = error("action = \"shape\"");
    assert!(
        no_shape.contains("relay.automation[0].action: action = \"shape\" needs shape"),
        "{no_shape}"
    );
    let empty = error("action = \"shape\"\nshape = {}");
    assert!(
        empty.contains("relay.automation[0].shape: give at least one"),
        "{empty}"
    );
    let zero = error("action = \"shape\"\nshape = { connection_limit = 0 }");
    assert!(
        zero.contains("relay.automation[0].shape.connection_limit: must be at least 1"),
        "{zero}"
    );
    let stray = error("action = \"suspend\"\nramp = { steps = 2, every = \"5m\" }");
    assert!(
        stray.contains("relay.automation[0].ramp: ramp applies to action = \"shape\" only"),
        "{stray}"
    );
    let every = error(
        "action = \"shape\"\nshape = { connection_limit = 1 }\nramp = { steps = 2, every = \"0s\" }",
    );
    assert!(
        every.contains("relay.automation[0].ramp.every: must be above 0"),
        "{every}"
    );
}

#[test]
fn each_ramp_step_is_noted_on_the_traced_deliveries_waiting_then() {
    let options = Options {
        trace: smtpsim_model::sim::TraceMode::All,
        ..Options::default()
    };
    let ramp = "ramp = { steps = 2, every = \"5m\" }";
    let (memory, _) = support::run(&scenario("domain", ramp), &options);
    for step in 1..=2 {
        let text = format!("ramp step {step} of 2 on domain a.example");
        let (time, _) = memory
            .automation
            .iter()
            .find(|(_, row)| row.contains(&text))
            .expect("a row for the step");
        let notes: Vec<&String> = memory.trace.iter().filter(|l| l.contains(&text)).collect();
        // Arrivals outpace the shaped rate, so deliveries wait at every step.
        assert!(notes.len() > 100, "{} notes of step {step}", notes.len());
        let secs = format!("{}.{:06} ", time / 1_000_000, time % 1_000_000);
        assert!(
            notes.iter().all(|l| l.starts_with(&secs)),
            "{secs} {:?}",
            notes[0]
        );
    }
}
