//! Properties of the MTA-named retry policies: a value loads exactly when it is in its
//! documented range, and every retry comes strictly later than the failure, on a queue run
//! when the policy waits for one.

use proptest::prelude::*;
use smtpsim_des::{RandomStreams, SimDuration, SimTime};
use smtpsim_model::retry::{History, RetryPolicy};
use smtpsim_model::scenario::{RetryConfig, Scenario};

fn with_retry(retry: &str) -> Result<Scenario, String> {
    let text = format!(
        r#"[simulation]
name = "props"
duration = "1h"
# Haraka's longest lists retry for decades: a sample a day keeps the run within its samples.
timeseries_interval = "1d"

[[senders]]
name = "app"
domain = "app.example"
arrivals = {{ process = "poisson", rate = "1/s" }}
to = [{{ domain = "dest.example" }}]

[relay]
retry = {{ {retry} }}

[[domains]]
name = "dest.example"
mx = [{{ host = "mx.dest.example" }}]
"#
    );
    Scenario::parse(&text, "props.toml").map_err(|e| e.to_string())
}

/// A policy with its fields drawn within their ranges.
fn policy() -> impl Strategy<Value = String> {
    let secs = |low: u64, high: u64| (low..=high).prop_map(|s| format!("\"{s}s\""));
    prop_oneof![
        (
            secs(1, 7 * 86_400),
            proptest::option::of(secs(1, 30 * 86_400)),
            any::<bool>()
        )
            .prop_map(|(interval, max, jitter)| {
                let max = max.map_or(String::new(), |m| format!(", max_retry_interval = {m}"));
                format!("policy = \"kumomta\", retry_interval = {interval}{max}, jitter = {jitter}")
            }),
        (1u32..=30).prop_map(|n| format!("policy = \"haraka\", max_temp_failures = {n}")),
        (0u32..=15, secs(1, 43_200), secs(1, 86_400)).prop_map(|(count, quick, slow)| format!(
            "policy = \"exchange\", transient_failure_retry_count = {count}, \
             transient_failure_retry_interval = {quick}, message_retry_interval = {slow}"
        )),
        (secs(1, 86_400), secs(0, 7 * 86_400)).prop_map(|(run, age)| format!(
            "policy = \"sendmail\", queue_interval = {run}, min_queue_age = {age}"
        )),
        (secs(1, 86_400), secs(1, 86_400)).prop_map(|(run, max)| format!(
            "policy = \"exim\", queue_run = {run}, retry_interval_max = {max}"
        )),
    ]
}

/// The queue-run interval a policy rounds its attempts to, if any.
fn queue_run(config: &RetryConfig) -> Option<SimDuration> {
    match config {
        RetryConfig::Exim { queue_run, .. } => queue_run.map(|d| d.0),
        RetryConfig::Sendmail(s) => Some(s.queue_interval.0),
        _ => None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn an_integer_loads_exactly_in_its_range(n in 0u32..100) {
        let haraka = with_retry(&format!("policy = \"haraka\", max_temp_failures = {n}"));
        prop_assert_eq!(haraka.is_ok(), (1..=30).contains(&n));
        let exchange = with_retry(&format!(
            "policy = \"exchange\", transient_failure_retry_count = {n}"
        ));
        prop_assert_eq!(exchange.is_ok(), n <= 15);
    }

    #[test]
    fn a_duration_loads_exactly_in_its_range(s in 0u64..1_000_000) {
        for (field, low, high) in [
            ("policy = \"kumomta\", retry_interval", 1, 7 * 86_400),
            ("policy = \"exchange\", transient_failure_retry_interval", 1, 43_200),
            ("policy = \"exchange\", message_retry_interval", 1, 86_400),
            ("policy = \"sendmail\", queue_interval", 1, 86_400),
            ("policy = \"sendmail\", min_queue_age", 0, 7 * 86_400),
            ("policy = \"exim\", queue_run", 1, 86_400),
            ("policy = \"exim\", retry_interval_max", 1, 86_400),
        ] {
            let loaded = with_retry(&format!("{field} = \"{s}s\""));
            prop_assert_eq!(loaded.is_ok(), (low..=high).contains(&s), "{} {}", field, s);
        }
    }

    #[test]
    fn every_retry_comes_strictly_later(retry in policy(), seed in any::<u64>(), gaps in proptest::collection::vec(0u64..100_000, 1..40)) {
        let scenario = with_retry(&retry).map_err(TestCaseError::fail)?;
        let config = scenario.relay.retry.clone();
        let run = queue_run(&config);
        let policy = RetryPolicy::new(config);
        let mut rng = RandomStreams::new(seed).stream("retry", 0);
        let arrived = SimTime::from_secs(7);
        let mut now = arrived;
        let mut history = History { arrived, first_failure: now, failures: 0, previous: None };
        for gap in gaps {
            history.failures += 1;
            let Some(next) = policy.next(now, &history, &mut rng) else { break };
            prop_assert!(next.at > now, "{}: {:?} at {:?}", retry, next, now);
            if let Some(run) = run {
                prop_assert_eq!(next.at.as_micros() % run.as_micros(), 0);
            }
            history.previous = Some(next.remember(now));
            // The attempt fails some time after it starts (waiting for a connection, say).
            now = next.at + SimDuration::from_millis(gap);
        }
    }
}
