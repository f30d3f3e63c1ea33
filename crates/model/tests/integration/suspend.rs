//! `relay.suspend_unreachable`: once attempts that reached no MX host have declared the
//! domain dead (`relay.failed_cohort_limit`, `relay.initial_destination_concurrency`), its
//! other deliveries are deferred without trying until the suspension ends, as Postfix's qmgr
//! does with a dead destination for `minimal_backoff_time`.

use smtpsim_model::scenario::Scenario;
use smtpsim_model::sim::{self, Options, RecipientRecord, Recorder, StatusRecord};

/// Each status line: (time, message, reached a server, reasons).
#[derive(Default)]
struct Lines(Vec<(f64, u64, bool, String)>);

impl Recorder for Lines {
    fn recipient(&mut self, _: &RecipientRecord<'_>) {}

    fn wants_attempts(&self) -> bool {
        true
    }

    fn status(&mut self, r: &StatusRecord<'_>) {
        let t = r.time.as_micros() as f64 / 1e6;
        self.0
            .push((t, r.message_id, r.relay.is_some(), r.reasons.to_owned()));
    }
}

/// Messages at 0, 5, 12 and 30 s; the only MX host refuses connections from 0 to 8 s; retries
/// every 100 s.
fn run(suspend: &str) -> Vec<(f64, u64, bool, String)> {
    run_with(
        suspend,
        r#"[{ at = "0s", count = 1 }, { at = "5s", count = 1 }, { at = "12s", count = 1 }, { at = "30s", count = 1 }]"#,
        "8s",
    )
}

/// `bursts` of arrivals, the only MX host refusing connections from 0 s to `outage_end`.
fn run_with(suspend: &str, bursts: &str, outage_end: &str) -> Vec<(f64, u64, bool, String)> {
    let text = format!(
        r#"[simulation]
name = "suspend"
duration = "1h"

[[senders]]
name = "app"
domain = "app.example"
arrivals = {{ process = "bursts", bursts = {bursts} }}
to = [{{ domain = "dest.example" }}]

[relay]
attempt_duration = "0s"
{suspend}
retry = {{ policy = "fixed", schedule = ["100s"] }}

[[domains]]
name = "dest.example"
mx = [{{ host = "mx.dest.example", outages = [{{ start = "0s", end = "{outage_end}" }}] }}]
"#
    );
    let scenario = Scenario::parse(&text, "suspend.toml").unwrap_or_else(|e| panic!("{e}"));
    let mut lines = Lines::default();
    sim::run(&scenario, &Options::default(), &mut lines).unwrap_or_else(|e| panic!("{e}"));
    lines.0
}

fn first_line_of(lines: &[(f64, u64, bool, String)], message: u64) -> (f64, bool, String) {
    let l = lines.iter().find(|l| l.1 == message).expect("a line");
    (l.0, l.2, l.3.clone())
}

#[test]
fn an_unreachable_domain_is_suspended_for_the_time_given() {
    // A window of one: the first failure declares the domain dead.
    let lines = run("suspend_unreachable = \"20s\"\ninitial_destination_concurrency = 1");
    // Message 0 meets the outage at 0 s: suspended until 20 s.
    let (t, reached, why) = first_line_of(&lines, 0);
    assert_eq!((t, reached), (0.0, false));
    assert!(why.contains("no MX host accepted a connection"), "{why}");
    assert!(!why.contains("suspended"), "{why}");
    // Messages 1 (5 s, in the outage) and 2 (12 s, after it) are not tried at all.
    for (m, at) in [(1, 5.0), (2, 12.0)] {
        let (t, reached, why) = first_line_of(&lines, m);
        assert_eq!((t, reached), (at, false), "message {m}");
        assert!(why.starts_with("delivery temporarily suspended"), "{why}");
    }
    // Message 3 at 30 s, after the suspension, is delivered; the others at their retry.
    assert_eq!(
        first_line_of(&lines, 3),
        (30.0, true, first_line_of(&lines, 3).2)
    );
    for (m, retry) in [(0, 100.0), (1, 105.0), (2, 112.0)] {
        let last = lines.iter().rev().find(|l| l.1 == m).unwrap();
        assert_eq!((last.0, last.2), (retry, true), "message {m}");
    }
}

#[test]
fn without_a_suspension_each_delivery_tries_for_itself() {
    let lines = run("");
    let (_, reached, why) = first_line_of(&lines, 1);
    assert!(
        !reached && why.contains("no MX host accepted a connection"),
        "{why}"
    );
    // Message 2 at 12 s, after the outage, gets through at once.
    assert_eq!(first_line_of(&lines, 2).0, 12.0);
    assert!(first_line_of(&lines, 2).1);
    assert!(lines.iter().all(|l| !l.3.contains("suspended")));
}

#[test]
fn a_suspension_out_of_range_is_refused_at_its_field() {
    let text = r#"[simulation]
name = "s"
duration = "1h"
[[senders]]
name = "app"
domain = "app.example"
arrivals = { process = "poisson", rate = "1/s" }
to = [{ domain = "dest.example" }]
[relay]
suspend_unreachable = "0s"
retry = { policy = "postfix" }
[[domains]]
name = "dest.example"
mx = [{ host = "mx.dest.example" }]
"#;
    let err = Scenario::parse(text, "s.toml").unwrap_err().to_string();
    assert!(err.contains("relay.suspend_unreachable"), "{err}");
    assert!(err.contains("1s to 30d"), "{err}");
}

/// A burst of 10 messages at 0 s (messages 0 to 9), then one every 2 s from 2 to 30 s
/// (messages 10 to 24); the MX host refuses connections until 50 s.
fn burst_then_trickle(relay: &str) -> Vec<(f64, u64, bool, String)> {
    let trickle: Vec<String> = (1..=15)
        .map(|k| format!("{{ at = \"{}s\", count = 1 }}", 2 * k))
        .collect();
    let bursts = format!("[{{ at = \"0s\", count = 10 }}, {}]", trickle.join(", "));
    run_with(relay, &bursts, "50s")
}

/// The messages whose first attempt was tried rather than suspended.
fn tried(lines: &[(f64, u64, bool, String)]) -> Vec<u64> {
    (0..25)
        .filter(|&m| !first_line_of(lines, m).2.contains("suspended"))
        .collect()
}

#[test]
fn postfix_declares_a_destination_dead_after_five_failures_in_a_row() {
    let lines = burst_then_trickle(r#"suspend_unreachable = "15s""#);
    // Window 5: 0.2, 0.45, 0.7, 0.95, 1.28 failed cohorts, so the burst's fifth failure
    // declares the domain dead until 15 s (the sixth attempt was under way on the second
    // connection): the rest of the burst and the messages of 2 to 14 s are suspended. From
    // 16 s each message finds the domain idle, forgotten and given a fresh window, so one
    // failure at a time never kills it.
    let mut expected: Vec<u64> = (0..6).collect();
    expected.extend(17..25);
    assert_eq!(tried(&lines), expected);
}

#[test]
fn the_cohort_limit_and_the_window_are_the_scenarios() {
    let never = burst_then_trickle("suspend_unreachable = \"15s\"\nfailed_cohort_limit = 0");
    assert_eq!(tried(&never), (0..25).collect::<Vec<u64>>());
    let three =
        burst_then_trickle("suspend_unreachable = \"15s\"\ninitial_destination_concurrency = 3");
    assert_eq!(tried(&three)[..5], [0, 1, 2, 3, 17]);
    let two = burst_then_trickle("suspend_unreachable = \"15s\"\nfailed_cohort_limit = 2");
    let burst = tried(&two).iter().filter(|&&m| m < 10).count();
    assert!((7..10).contains(&burst), "{:?}", tried(&two));
}

#[test]
fn a_window_out_of_range_is_refused_at_its_field() {
    for (field, value) in [
        ("initial_destination_concurrency", "0"),
        ("initial_destination_concurrency", "1001"),
        ("failed_cohort_limit", "1001"),
    ] {
        let text = format!(
            "[simulation]\nname = \"s\"\nduration = \"1h\"\n[[senders]]\nname = \"app\"\n\
             domain = \"app.example\"\narrivals = {{ process = \"poisson\", rate = \"1/s\" }}\n\
             to = [{{ domain = \"dest.example\" }}]\n[relay]\n{field} = {value}\n\
             retry = {{ policy = \"postfix\" }}\n[[domains]]\nname = \"dest.example\"\n\
             mx = [{{ host = \"mx.dest.example\" }}]\n"
        );
        let err = Scenario::parse(&text, "s.toml").unwrap_err().to_string();
        assert!(err.contains(&format!("relay.{field}")), "{err}");
        assert!(err.contains("1000"), "{err}");
    }
}
