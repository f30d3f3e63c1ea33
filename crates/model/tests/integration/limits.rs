//! The simulator's bounds: what validation refuses, the engine's guards for what gets past it,
//! and a property over random scenarios: each is refused or runs to its end.

use proptest::prelude::*;
use proptest::sample::select;
use smtpsim_des::SimDuration;
use smtpsim_model::scenario::{Duration, Jitter, RetryConfig, Scenario};
use smtpsim_model::sim::{self, Options, RecipientRecord, Recorder, Sample, TraceRecord};

/// A recorder that only counts.
#[derive(Default)]
struct Count {
    recipients: u64,
    samples: u64,
}

impl Recorder for Count {
    fn recipient(&mut self, _: &RecipientRecord<'_>) {
        self.recipients += 1;
    }
    fn trace(&mut self, _: &TraceRecord<'_>) {}
    fn sample(&mut self, _: &Sample) {
        self.samples += 1;
    }
}

/// A valid scenario in which nothing takes time; `arrivals` and `behaviour` are inserted.
fn instant(arrivals: &str, behaviour: &str) -> Scenario {
    let text = format!(
        "[simulation]\nname = \"t\"\nduration = \"1h\"\nmessages = 5\n\
         [[senders]]\nname = \"a\"\ndomain = \"a.example\"\narrivals = {arrivals}\n\
         to = [{{ domain = \"b.example\" }}]\n\
         [relay]\nretry = {{ policy = \"fixed\", schedule = [\"1m\"] }}\n\
         [[domains]]\nname = \"b.example\"\nmx = [{{ host = \"mx.b.example\" }}]\n\
         behaviour = {{ {behaviour} }}\n"
    );
    Scenario::parse(&text, "t.toml").unwrap_or_else(|e| panic!("{e}"))
}

fn zero_retry() -> RetryConfig {
    RetryConfig::Exponential {
        initial: Duration::default(),
        multiplier: 2.0,
        cap: Duration::default(),
        jitter: Jitter::None,
    }
}

#[test]
fn validation_refuses_retries_that_let_no_time_pass() {
    let text = "[simulation]\nname = \"t\"\nduration = \"1h\"\n\
        [[senders]]\nname = \"a\"\ndomain = \"a.example\"\n\
        arrivals = { process = \"constant\", rate = \"1/s\" }\n\
        to = [{ domain = \"b.example\" }]\n\
        [relay]\nretry = { policy = \"exponential\", initial = \"0s\", cap = \"0s\" }\n\
        [[domains]]\nname = \"b.example\"\nmx = [{ host = \"mx.b.example\" }]\n";
    let err = Scenario::parse(text, "t.toml").unwrap_err();
    assert_eq!(err.field, "relay.retry");
    assert_eq!(err.line, Some(10));
    assert!(err.message.contains("more than 1000000"), "{err}");
}

#[test]
fn time_that_stops_advancing_ends_the_run_with_an_error() {
    // Every attempt is refused for the moment, takes no time, and is retried at once: past
    // validation only because the policy is set after it.
    let mut scenario = instant(
        "{ process = \"constant\", rate = \"1/s\" }",
        "temp_failures = 1.0",
    );
    scenario.relay.retry = zero_retry();
    let options = Options {
        stall_limit: Some(100_000),
        ..Options::default()
    };
    let err = sim::run(&scenario, &options, &mut Count::default()).unwrap_err();
    assert!(
        err.0.contains("simulated time stopped advancing at 0s"),
        "{err}"
    );
    assert!(err.0.contains("relay.retry"), "{err}");
}

#[test]
fn many_deliveries_at_one_instant_are_not_a_stall() {
    // 3000 messages at once and nothing takes time: many events at one instant, but each
    // delivery brings its own allowance.
    let scenario = instant(
        "{ process = \"bursts\", bursts = [{ at = \"0s\", count = 3000 }] }",
        "",
    );
    let options = Options {
        messages: Some(3000),
        stall_limit: Some(1000),
        ..Options::default()
    };
    let mut count = Count::default();
    let stats = sim::run(&scenario, &options, &mut count).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stats.messages, 3000);
    assert_eq!(count.recipients, 3000);
}

#[test]
fn a_run_that_outlasts_its_samples_stops_with_an_error() {
    let mut scenario = instant(
        "{ process = \"constant\", rate = \"1/s\" }",
        "latency = \"1s\"",
    );
    scenario.simulation.timeseries_interval = Duration::from_micros(1);
    let options = Options {
        sample_limit: Some(1000),
        ..Options::default()
    };
    let err = sim::run(&scenario, &options, &mut Count::default()).unwrap_err();
    assert!(
        err.0.contains("1000 samples") && err.0.contains("timeseries_interval"),
        "{err}"
    );
}

#[test]
fn a_huge_burst_is_generated_as_it_goes() {
    // A billion messages announced, five taken: nothing is listed in advance.
    let scenario = instant(
        "{ process = \"bursts\", bursts = [{ at = \"1s\", count = 1000000000, over = \"1d\" }] }",
        "",
    );
    let (stats, count) = {
        let mut count = Count::default();
        let stats = sim::run(&scenario, &Options::default(), &mut count).unwrap();
        (stats, count)
    };
    assert_eq!(stats.messages, 5);
    assert_eq!(count.recipients, 5);
}

#[test]
fn a_run_replacing_the_window_is_checked_again() {
    let scenario = instant("{ process = \"constant\", rate = \"1/s\" }", "");
    let options = Options {
        duration: Some(SimDuration::from_secs(86_400 * 1_000_000)),
        ..Options::default()
    };
    let err = sim::run(&scenario, &options, &mut Count::default()).unwrap_err();
    assert!(
        err.0.starts_with("simulation.timeseries_interval: "),
        "{err}"
    );
    assert!(err.0.contains("an arrival window of"), "{err}");
    let options = Options {
        messages: Some(u64::MAX),
        ..Options::default()
    };
    let err = sim::run(&scenario, &options, &mut Count::default()).unwrap_err();
    assert!(err.0.starts_with("simulation.messages: "), "{err}");
}

/// Mostly values from `usual`, now and then one from `wild`: each field is wild in about one
/// scenario in twelve, so that both refused and running scenarios come up.
fn mostly(
    usual: Vec<&'static str>,
    wild: Vec<&'static str>,
) -> impl Strategy<Value = &'static str> + Clone {
    prop_oneof![11 => select(usual), 1 => select(wild)]
}

/// Numbers over wide ranges: zero, tiny, usual, huge, negative, not a number.
fn number() -> impl Strategy<Value = &'static str> + Clone {
    mostly(
        vec!["0.5", "1", "2", "1000"],
        vec![
            "0", "1e-300", "1e-9", "1e6", "1e12", "1e308", "-1", "nan", "inf",
        ],
    )
}

fn duration() -> impl Strategy<Value = &'static str> + Clone {
    mostly(
        vec!["\"0s\"", "\"10ms\"", "\"1s\"", "\"1m\"", "\"1h\""],
        vec!["\"1us\"", "\"100000000d\"", "0", "5", "\"-1s\""],
    )
}

fn count() -> impl Strategy<Value = &'static str> + Clone {
    mostly(
        vec!["0", "1", "3"],
        vec!["1000", "1001", "1000000000000", "-1"],
    )
}

fn rate() -> impl Strategy<Value = String> {
    prop_oneof![
        number().prop_map(str::to_string),
        number().prop_map(|n| format!("\"{n}/s\"")),
    ]
}

fn arrivals() -> impl Strategy<Value = String> {
    prop_oneof![
        rate().prop_map(|r| format!("{{ process = \"poisson\", rate = {r} }}")),
        rate().prop_map(|r| format!("{{ process = \"constant\", rate = {r} }}")),
        (duration(), count(), duration()).prop_map(|(at, count, over)| format!(
            "{{ process = \"bursts\", bursts = [{{ at = {at}, count = {count}, over = {over} }}] }}"
        )),
    ]
}

fn retry() -> impl Strategy<Value = String> {
    prop_oneof![
        (duration(), number(), duration()).prop_map(|(initial, multiplier, cap)| format!(
            "{{ policy = \"exponential\", initial = {initial}, multiplier = {multiplier}, \
             cap = {cap}, jitter = \"full\" }}"
        )),
        (duration(), duration()).prop_map(|(run, min)| format!(
            "{{ policy = \"postfix\", queue_run_delay = {run}, minimal_backoff = {min} }}"
        )),
        (duration(), duration(), number()).prop_map(|(until, interval, m)| format!(
            "{{ policy = \"exim\", rules = [{{ kind = \"G\", until = {until}, \
             interval = {interval}, multiplier = {m} }}] }}"
        )),
        proptest::collection::vec(duration(), 1..4)
            .prop_map(|d| format!("{{ policy = \"fixed\", schedule = [{}] }}", d.join(", "))),
        (duration(), duration()).prop_map(|(run, max)| format!(
            "{{ policy = \"exim\", queue_run = {run}, retry_interval_max = {max} }}"
        )),
        (duration(), duration()).prop_map(|(interval, max)| format!(
            "{{ policy = \"kumomta\", retry_interval = {interval}, max_retry_interval = {max} }}"
        )),
        (count(), proptest::collection::vec(duration(), 0..4)).prop_map(|(n, list)| format!(
            "{{ policy = \"haraka\", max_temp_failures = {n}, temp_fail_intervals = [{}] }}",
            list.join(", ")
        )),
        (count(), duration(), duration()).prop_map(|(n, quick, slow)| format!(
            "{{ policy = \"exchange\", transient_failure_retry_count = {n}, \
             transient_failure_retry_interval = {quick}, message_retry_interval = {slow} }}"
        )),
        (duration(), duration()).prop_map(|(run, age)| format!(
            "{{ policy = \"sendmail\", queue_interval = {run}, min_queue_age = {age} }}"
        )),
    ]
}

/// A scenario text whose numeric fields are drawn over wide ranges.
fn scenario_text() -> impl Strategy<Value = String> {
    let simulation = (
        duration(),
        mostly(
            vec!["", "messages = 4"],
            vec!["messages = 0", "messages = 10000000000"],
        ),
        duration(),
    );
    let sender = (
        arrivals(),
        count(),
        mostly(vec!["0", "\"10KB\""], vec!["\"2GiB\"", "-1", "\"1e30GB\""]),
    );
    let relay = (
        mostly(
            vec!["0", "1000", "1e6"],
            vec!["0.5", "1e-300", "1e13", "-1", "nan", "inf"],
        ),
        prop_oneof![
            Just(String::new()),
            rate().prop_map(|r| format!("rate_per_domain = {r}"))
        ],
        duration(),
        mostly(
            vec!["", "max_attempts = 3"],
            vec!["max_attempts = 0", "max_attempts = 10000000"],
        ),
        select(vec!["\"0s\"", "\"1m\"", "\"1h\""]),
        retry(),
    );
    let domain = (
        duration(),
        mostly(vec!["0", "0.5", "1"], vec!["nan", "2", "-0.1"]),
        rate(),
        mostly(vec!["1", "100"], vec!["0"]),
    );
    (simulation, sender, relay, domain).prop_map(|(sim, sender, relay, domain)| {
        let (window, messages, interval) = sim;
        let (arrivals, recipients, size) = sender;
        let (bandwidth, shaping, round_trip, attempts, lifetime, retry) = relay;
        let (latency, temp, limit, burst) = domain;
        format!(
            "[simulation]\nname = \"p\"\nduration = {window}\n{messages}\n\
             timeseries_interval = {interval}\n\
             [[senders]]\nname = \"a\"\ndomain = \"a.example\"\narrivals = {arrivals}\n\
             recipients = {recipients}\nsize = {size}\nto = [{{ domain = \"b.example\" }}]\n\
             [relay]\nbandwidth = {bandwidth}\n{shaping}\nround_trip = {round_trip}\n\
             {attempts}\nqueue_lifetime = {lifetime}\nretry = {retry}\n\
             [[domains]]\nname = \"b.example\"\nmx = [{{ host = \"mx.b.example\" }}]\n\
             [domains.behaviour]\nlatency = {latency}\ntemp_failures = {temp}\n\
             rate_limits.messages = {{ rate = {limit}, burst = {burst} }}\n"
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Every scenario is refused with a located error, or runs to its end: no panic, no
    /// stall, no endless samples.
    #[test]
    fn random_scenarios_are_refused_or_run_to_the_end(text in scenario_text()) {
        match Scenario::parse(&text, "p.toml") {
            Err(e) => {
                prop_assert!(!e.message.is_empty());
                prop_assert!(e.line.is_some() || e.field.is_empty() || e.field == "senders", "{e}");
            }
            Ok(scenario) => {
                // Few messages, whatever the scenario says, so that the property stays quick.
                let options = Options {
                    messages: Some(scenario.simulation.messages.unwrap_or(4).min(4)),
                    stall_limit: Some(200_000),
                    ..Options::default()
                };
                // The count given for the run is checked like the scenario's own.
                if let Err(e) = sim::check_with(&scenario, &options) {
                    prop_assert!(e.0.contains("messages given for the run)"), "{e}");
                    return Ok(());
                }
                let mut count = Count::default();
                let stats = sim::run(&scenario, &options, &mut count);
                let stats = stats.map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
                prop_assert!(stats.messages <= 4);
                prop_assert!(count.samples <= smtpsim_model::limits::MAX_SAMPLES);
            }
        }
    }
}
