//! Providers: domains grouped by MX host share the provider's connection limit and rates;
//! domains of no provider behave as before.

use crate::support;

use smtpsim_model::scenario::Scenario;
use smtpsim_model::sim::Options;

/// Five domains whose MX hosts are `mx.dN.bigmail.example`, one outside (`other.example`),
/// a steady stream of messages to all six, every attempt taking 10 s.
fn scenario(providers: &str, rate: &str, seed: u64) -> Scenario {
    let mut text = format!(
        r#"
[simulation]
name = "providers"
duration = "200s"
seed = {seed}
[[senders]]
name = "app"
domain = "shop.example"
arrivals = {{ process = "poisson", rate = "{rate}" }}
to = [{{ domain = "d1.example" }}, {{ domain = "d2.example" }}, {{ domain = "d3.example" }},
      {{ domain = "d4.example" }}, {{ domain = "d5.example" }}, {{ domain = "other.example" }}]
[relay]
retry = {{ policy = "fixed", schedule = ["5m"] }}
attempt_duration = "10s"
{providers}
"#
    );
    for d in ["d1", "d2", "d3", "d4", "d5"] {
        text.push_str(&format!(
            "[[domains]]\nname = \"{d}.example\"\nmx = [{{ host = \"mx.{d}.bigmail.example\" }}]\n"
        ));
    }
    text.push_str(
        "[[domains]]\nname = \"other.example\"\nmx = [{ host = \"mx.other.example\" }]\n",
    );
    Scenario::parse(&text, "providers.toml").unwrap_or_else(|e| panic!("{e}"))
}

const PROVIDER: &str = r#"[[relay.providers]]
name = "bigmail"
mx = ["*.bigmail.example"]"#;

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

#[test]
fn a_provider_connection_limit_holds_for_its_domains_together() {
    let providers = format!("{PROVIDER}\nconnection_limit = 3");
    let (memory, _) = support::run(&scenario(&providers, "5/s", 1), &Options::default());
    let starts = |inside: bool| -> Vec<u64> {
        memory
            .rows
            .iter()
            .filter(|r| (r.domain != "other.example") == inside)
            .filter_map(|r| r.first_attempt)
            .collect()
    };
    // Five domains at the relay's default of 20 connections each would take far more; the
    // provider lets three at a time go, and keeps them busy.
    assert_eq!(most_at_once(&starts(true)), 3);
    // The domain outside the provider is not held back by it.
    assert!(most_at_once(&starts(false)) > 3);
}

#[test]
fn a_provider_message_rate_is_its_steady_rate_within_half_a_percent() {
    // Arrivals at 20/s for the provider's domains (5/6 of 24/s) against a limit of 4/s: the
    // queue never empties, so the provider's token bucket sets the pace.
    let providers = format!("{PROVIDER}\nmax_message_rate = \"4/s\"");
    for seed in 1..=5 {
        let (memory, _) = support::run(&scenario(&providers, "24/s", seed), &Options::default());
        let (from, to) = (20_000_000, 180_000_000);
        let started = memory
            .rows
            .iter()
            .filter(|r| r.domain != "other.example")
            .filter_map(|r| r.first_attempt)
            .filter(|t| (from..to).contains(t))
            .count();
        let rate = started as f64 / ((to - from) as f64 / 1e6);
        assert!((rate / 4.0 - 1.0).abs() < 0.005, "seed {seed}: {rate}/s");
    }
}

#[test]
fn a_provider_that_matches_no_domain_changes_nothing() {
    let none = "[[relay.providers]]\nname = \"elsewhere\"\nmx = [\"*.elsewhere.example\"]\n\
                connection_limit = 1\nmax_message_rate = \"1/h\"";
    let options = Options::default();
    let (with, _) = support::run(&scenario(none, "5/s", 3), &options);
    let (without, _) = support::run(&scenario("", "5/s", 3), &options);
    assert_eq!(with.rows, without.rows);
    assert!(!with.rows.is_empty());
}

fn error_of(providers: &str, domains: &str) -> String {
    support::mistake(providers, domains)
}

#[test]
fn provider_mistakes_are_named_with_their_place() {
    let one_host = r#"mx = [{ host = "mx.a.example" }]"#;
    let overlap = r#"[[relay.providers]]
name = "google"
mx = ["*.google.com"]
[[relay.providers]]
name = "workspace"
mx = ["aspmx.l.google.com"]"#;
    let error = error_of(overlap, one_host);
    assert!(
        error.starts_with("bad.toml:16:7: relay.providers[1].mx[0]: "),
        "{error}"
    );
    assert!(
        error.contains("\"google\"") && error.contains("\"workspace\""),
        "{error}"
    );

    let bad = "[[relay.providers]]\nname = \"p\"\nmx = [\"mx.*.example\"]";
    let error = error_of(bad, one_host);
    assert!(
        error.starts_with("bad.toml:13:7: relay.providers[0].mx[0]: "),
        "{error}"
    );

    let zero = "[[relay.providers]]\nname = \"p\"\nmx = [\"*.a.example\"]\nconnection_limit = 0";
    let error = error_of(zero, one_host);
    assert!(
        error.starts_with("bad.toml:14:20: relay.providers[0].connection_limit: "),
        "{error}"
    );

    let two = "[[relay.providers]]\nname = \"p\"\nmx = [\"*.p.example\"]\n\
               [[relay.providers]]\nname = \"q\"\nmx = [\"*.q.example\"]";
    let hosts = r#"mx = [{ host = "mx.p.example" }, { host = "mx.q.example" }]"#;
    let error = error_of(two, hosts);
    assert!(error.contains("domains[0].mx[1].host: "), "{error}");
    assert!(error.contains("one provider at most"), "{error}");
}
