//! `[[relay.domains]]`: shaping towards one domain (connections at once, connection and
//! message rates, messages per connection, idle timeout of kept connections); the other
//! domains keep the relay-wide values.

use crate::support;

use smtpsim_model::scenario::Scenario;
use smtpsim_model::sim::{ExchangeMode, Options, TraceMode};

/// Messages to `a.example` and `b.example` at `rate`, every attempt taking 10 s (unless
/// `relay` sets its own timing), with `relay` added to `[relay]`.
fn scenario(relay: &str, arrivals: &str, seed: u64) -> Scenario {
    let text = format!(
        r#"
[simulation]
name = "shaping"
duration = "200s"
seed = {seed}
[[senders]]
name = "app"
domain = "shop.example"
arrivals = {arrivals}
to = [{{ domain = "a.example" }}, {{ domain = "b.example" }}]
[relay]
retry = {{ policy = "fixed", schedule = ["5m"] }}
{relay}
[[domains]]
name = "a.example"
mx = [{{ host = "mx.a.example" }}]
[[domains]]
name = "b.example"
mx = [{{ host = "mx.b.example" }}]
"#
    );
    Scenario::parse(&text, "shaping.toml").unwrap_or_else(|e| panic!("{e}"))
}

const POISSON: &str = r#"{ process = "poisson", rate = "10/s" }"#;

/// The most attempts under way at once, from `[start, start + 10 s)` intervals.
fn most_at_once(starts: &[u64]) -> usize {
    let mut edges: Vec<(u64, i32)> = starts
        .iter()
        .flat_map(|&s| [(s, 1), (s + 10_000_000, -1)])
        .collect();
    edges.sort();
    let (mut now, mut most) = (0i32, 0i32);
    for (_, step) in edges {
        now += step;
        most = most.max(now);
    }
    most as usize
}

fn starts(memory: &support::Memory, domain: &str) -> Vec<u64> {
    memory
        .rows
        .iter()
        .filter(|r| r.domain == domain)
        .filter_map(|r| r.first_attempt)
        .collect()
}

#[test]
fn a_domain_connection_limit_replaces_the_relay_default_for_that_domain_only() {
    let relay =
        "attempt_duration = \"10s\"\n[[relay.domains]]\nname = \"A.example\"\nconnection_limit = 2";
    let (memory, _) = support::run(&scenario(relay, POISSON, 1), &Options::default());
    assert_eq!(most_at_once(&starts(&memory, "a.example")), 2);
    // b.example keeps the relay's 20 at once, and 5/s for 10 s needs about 50.
    assert_eq!(most_at_once(&starts(&memory, "b.example")), 20);
}

/// Attempts started per second in `[20 s, 180 s)` for `domain`.
fn steady_rate(memory: &support::Memory, domain: &str) -> f64 {
    let (from, to) = (20_000_000, 180_000_000);
    let n = starts(memory, domain)
        .into_iter()
        .filter(|t| (from..to).contains(t))
        .count();
    n as f64 / ((to - from) as f64 / 1e6)
}

#[test]
fn domain_message_and_connection_rates_are_their_steady_rates_within_half_a_percent() {
    // 5/s arrive for each domain against limits of 2/s and 0.5/s: the queues never empty,
    // so the token buckets set the pace.
    let relay = "attempt_duration = \"1s\"\n\
                 [[relay.domains]]\nname = \"a.example\"\nmax_message_rate = \"2/s\"\n\
                 [[relay.domains]]\nname = \"b.example\"\nmax_connection_rate = \"30/min\"";
    for seed in 1..=4 {
        let (memory, _) = support::run(&scenario(relay, POISSON, seed), &Options::default());
        let a = steady_rate(&memory, "a.example");
        let b = steady_rate(&memory, "b.example");
        assert!((a / 2.0 - 1.0).abs() < 0.005, "seed {seed}: a at {a}/s");
        assert!((b / 0.5 - 1.0).abs() < 0.005, "seed {seed}: b at {b}/s");
    }
}

#[test]
fn a_domain_message_rate_replaces_rate_per_domain_for_that_domain() {
    let relay = "attempt_duration = \"1s\"\nrate_per_domain = \"1/s\"\n\
                 [[relay.domains]]\nname = \"a.example\"\nmax_message_rate = \"3/s\"";
    let (memory, _) = support::run(&scenario(relay, POISSON, 2), &Options::default());
    let a = steady_rate(&memory, "a.example");
    let b = steady_rate(&memory, "b.example");
    assert!((a / 3.0 - 1.0).abs() < 0.005, "a at {a}/s");
    assert!((b - 1.0).abs() < 0.005, "b at {b}/s");
}

/// Connections opened and reused for `domain`'s traced attempts.
fn connections(memory: &support::Memory, domain: &str) -> (usize, usize) {
    let host = format!("mx.{domain}");
    let opened = memory
        .trace
        .iter()
        .filter(|l| l.contains(&format!("connected to {host}")))
        .count();
    let reused = memory
        .trace
        .iter()
        .filter(|l| l.contains(&format!("reusing the connection to {host}")))
        .count();
    (opened, reused)
}

const EVERY_5S: &str = r#"{ process = "constant", rate = "12/min" }"#;

fn traced(exchange: ExchangeMode) -> Options {
    Options {
        trace: TraceMode::All,
        exchange,
        ..Options::default()
    }
}

/// The connections a domain whose messages start at `starts` (attempts taking no time)
/// needs with idle connections kept for `idle`: one, and another after each longer gap.
fn needed(starts: &[u64], idle: u64) -> usize {
    1 + starts.windows(2).filter(|w| w[1] - w[0] > idle).count()
}

#[test]
fn an_idle_timeout_keeps_a_connection_for_the_next_delivery_in_both_exchange_paths() {
    // One message every 5 s to a.example or b.example at random: a.example's connections
    // wait idle and carry the next message unless the gap is longer; b.example's close.
    let mut counts = Vec::new();
    for (idle, micros) in [("32s", 32_000_000), ("12s", 12_000_000)] {
        let relay = format!(
            "connection_reuse = true\n[[relay.domains]]\nname = \"a.example\"\nidle_timeout = \"{idle}\""
        );
        for exchange in [ExchangeMode::Auto, ExchangeMode::Compare] {
            let (memory, _) = support::run(&scenario(&relay, EVERY_5S, 1), &traced(exchange));
            let mut a = starts(&memory, "a.example");
            a.sort();
            let opened = needed(&a, micros);
            assert!(opened < a.len() / 2, "{opened} for {}", a.len());
            counts.push(opened);
            assert_eq!(
                connections(&memory, "a.example"),
                (opened, a.len() - opened)
            );
            let b = starts(&memory, "b.example").len();
            assert_eq!(connections(&memory, "b.example"), (b, 0));
        }
    }
    // The shorter timeout lets more connections close between messages.
    assert!(counts[2] > counts[0], "{counts:?}");
}

#[test]
fn idle_connections_count_as_open_and_close_after_their_timeout() {
    let relay = "connection_reuse = true\n\
                 [[relay.domains]]\nname = \"a.example\"\nidle_timeout = \"10m\"";
    let (memory, stats) = support::run(&scenario(relay, EVERY_5S, 1), &Options::default());
    let a = starts(&memory, "a.example");
    let (first, last) = (*a.iter().min().unwrap(), *a.iter().max().unwrap());
    // The run lasts until the idle connection's timeout, 10 minutes after the last delivery.
    assert!(stats.end.as_micros() >= last + 600_000_000);
    for s in &memory.samples {
        let t = s.time.as_micros();
        if t > first && t < last + 600_000_000 {
            assert!(s.connections >= 1, "at {t}");
        } else if t > last + 600_000_000 {
            assert_eq!(s.connections, 0, "at {t}");
        }
    }
}

#[test]
fn messages_per_connection_of_a_domain_bound_its_reuse() {
    // Messages every 5 s to a.example or b.example: with idle connections kept 10 minutes,
    // 3 messages a connection.
    let relay = "connection_reuse = true\n\
                 [[relay.domains]]\nname = \"a.example\"\nidle_timeout = \"10m\"\n\
                 max_deliveries_per_connection = 3";
    let (memory, _) = support::run(&scenario(relay, EVERY_5S, 1), &traced(ExchangeMode::Auto));
    let messages = starts(&memory, "a.example").len();
    let (opened, reused) = connections(&memory, "a.example");
    assert_eq!(opened, messages.div_ceil(3));
    assert_eq!(opened + reused, messages);
}

#[test]
fn domain_shaping_mistakes_are_named_with_their_place() {
    let parse = |relay: &str| support::mistake(relay, support::ONE_MX);
    let unknown = parse("[[relay.domains]]\nname = \"c.example\"\nconnection_limit = 2");
    assert!(unknown.contains("relay.domains[0].name"), "{unknown}");
    assert!(
        unknown.contains("no [[domains]] entry named \"c.example\""),
        "{unknown}"
    );
    let twice =
        parse("[[relay.domains]]\nname = \"a.example\"\n[[relay.domains]]\nname = \"A.EXAMPLE\"");
    assert!(twice.contains("relay.domains[1].name"), "{twice}");
    let zero = parse("[[relay.domains]]\nname = \"a.example\"\nidle_timeout = \"0s\"");
    assert!(zero.starts_with("bad.toml:"), "{zero}");
    assert!(
        zero.contains("relay.domains[0].idle_timeout: must be above 0"),
        "{zero}"
    );
    let limit = parse("[[relay.domains]]\nname = \"a.example\"\nconnection_limit = 0");
    assert!(
        limit.contains("relay.domains[0].connection_limit: must be at least 1"),
        "{limit}"
    );
}
