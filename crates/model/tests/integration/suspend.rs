//! `relay.suspend_unreachable`: after an attempt that reached no MX host, the domain's other
//! deliveries are deferred without trying until the suspension ends, as Postfix's qmgr does
//! with a dead destination for `minimal_backoff_time`.

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
    let text = format!(
        r#"[simulation]
name = "suspend"
duration = "1h"

[[senders]]
name = "app"
domain = "app.example"
arrivals = {{ process = "bursts", bursts = [{{ at = "0s", count = 1 }}, {{ at = "5s", count = 1 }}, {{ at = "12s", count = 1 }}, {{ at = "30s", count = 1 }}] }}
to = [{{ domain = "dest.example" }}]

[relay]
attempt_duration = "0s"
{suspend}
retry = {{ policy = "fixed", schedule = ["100s"] }}

[[domains]]
name = "dest.example"
mx = [{{ host = "mx.dest.example", outages = [{{ start = "0s", end = "8s" }}] }}]
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
    let lines = run(r#"suspend_unreachable = "20s""#);
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
