//! Automation rules: a suspension holds every delivery due in it until it ends, exactly; a
//! spread release puts them back within its window; bounce and expire actions settle what
//! waits; mistakes in a rule are named with their place.

use crate::support;

use smtpsim_model::scenario::Scenario;
use smtpsim_model::sim::{Fate, Options};

/// One message a minute for 30 minutes to one domain whose only MX host greets with
/// `421 4.3.2` during the first second; nothing takes any time. A rule suspends the domain
/// for `suspension` on that reply.
fn scenario(suspension: &str, release: &str, seed: u64) -> Scenario {
    let text = format!(
        r#"
[simulation]
name = "suspension"
duration = "30m"
seed = {seed}
[[senders]]
name = "app"
domain = "shop.example"
arrivals = {{ process = "constant", rate = "1/min" }}
to = [{{ domain = "idle.example" }}]
[relay]
retry = {{ policy = "fixed", schedule = ["5m"] }}
[[relay.automation]]
name = "greeting-421"
code = 421
action = "suspend"
duration = "{suspension}"
{release}
[[domains]]
name = "idle.example"
mx = [{{ host = "mx.idle.example", outages = [{{ start = "0s", end = "1s", mode = "421" }}] }}]
"#
    );
    Scenario::parse(&text, "suspension.toml").unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn a_suspension_delays_every_delivery_due_in_it_by_exactly_its_remaining_time() {
    for (suspension, micros) in [("10m", 600_000_000u64), ("450s", 450_000_000)] {
        let (memory, _) = support::run(&scenario(suspension, "", 1), &Options::default());
        let fired: Vec<u64> = memory
            .automation
            .iter()
            .filter(|(_, text)| text.contains("fired"))
            .map(|(t, _)| *t)
            .collect();
        assert_eq!(fired.len(), 1, "{:?}", memory.automation);
        let end = fired[0] + micros;
        let mut held = 0;
        for row in &memory.rows {
            assert_eq!(row.fate, Fate::Inbox, "{row:?}");
            let due = row.submitted;
            let first = row.first_attempt.expect("tried");
            if row.message_id == 0 {
                // Its retry (5 minutes later) fell in the suspension too.
                assert_eq!(row.finished, end.max(fired[0] + 300_000_000));
            } else if due < end {
                held += 1;
                assert_eq!(first - due, end - due, "message {}", row.message_id);
                assert_eq!(row.queue_wait, end - due);
            } else {
                assert_eq!(
                    first, due,
                    "message {} after the suspension",
                    row.message_id
                );
            }
        }
        assert!(held >= 7, "{held} deliveries fell in the suspension");
    }
}

#[test]
fn a_spread_release_puts_the_held_deliveries_back_within_its_window() {
    let spread = "release = \"spread\"\nrelease_window = \"5m\"";
    let (memory, _) = support::run(&scenario("10m", spread, 1), &Options::default());
    let (again, _) = support::run(&scenario("10m", spread, 1), &Options::default());
    assert_eq!(
        memory.rows, again.rows,
        "the same seed gives the same release times"
    );
    let fired = memory.automation[0].0;
    let end = fired + 600_000_000;
    let released: Vec<u64> = memory
        .rows
        .iter()
        .filter(|r| r.submitted < end)
        .map(|r| r.finished)
        .collect();
    assert!(
        released
            .iter()
            .all(|&t| (end..end + 300_000_000).contains(&t))
    );
    let mut distinct = released.clone();
    distinct.sort();
    distinct.dedup();
    assert!(distinct.len() * 2 > released.len(), "{released:?}");
    let text = &memory.automation[1].1;
    assert!(text.contains("released over 5m"), "{text}");
    let (other_seed, _) = support::run(&scenario("10m", spread, 2), &Options::default());
    assert_ne!(memory.rows, other_seed.rows);
}

#[test]
fn a_bounce_action_settles_the_deliveries_waiting_for_the_domain() {
    let text = scenario("10m", "", 1);
    let mut bounce = text.clone();
    bounce.relay.automation[0].action = smtpsim_model::scenario::Action::Bounce;
    let (memory, _) = support::run(&bounce, &Options::default());
    let fired = memory.automation[0].0;
    let bounced: Vec<_> = memory
        .rows
        .iter()
        .filter(|r| r.fate == Fate::Bounced)
        .collect();
    assert!(bounced.len() >= 8, "{}", bounced.len());
    for row in bounced {
        assert!(row.finished >= fired && row.finished < fired + 600_000_000);
        assert_eq!(row.reasons, "bounced by automation rule greeting-421");
    }
}

fn error_of(rule: &str) -> String {
    let relay = format!(
        "[[relay.providers]]\nname = \"google\"\nmx = [\"*.google.com\"]\n\
         [[relay.automation]]\nname = \"r\"\naction = \"suspend\"\nduration = \"10m\"\n{rule}"
    );
    support::mistake(&relay, support::ONE_MX)
}

#[test]
fn rule_mistakes_are_named_with_their_place() {
    let error = error_of("text = \"rate (limited\"");
    assert!(
        error.starts_with("bad.toml:18:8: relay.automation[0].text: "),
        "{error}"
    );
    assert!(error.contains("not a regular expression"), "{error}");

    let error = error_of("provider = \"yahoo\"");
    assert!(
        error.starts_with("bad.toml:18:12: relay.automation[0].provider: "),
        "{error}"
    );
    assert!(
        error.contains("\"yahoo\"") && error.contains("google"),
        "{error}"
    );

    let error = error_of("trigger = { matches = 0, within = \"1m\" }");
    assert!(
        error.contains("relay.automation[0].trigger.matches: "),
        "{error}"
    );

    let error = error_of("release = \"spread\"");
    assert!(
        error.starts_with("bad.toml:18:11: relay.automation[0].release: "),
        "{error}"
    );
    assert!(error.contains("release_window"), "{error}");

    let error = error_of("enhanced_code = \"4.7\"");
    assert!(
        error.starts_with("bad.toml:18:17: relay.automation[0].enhanced_code: "),
        "{error}"
    );
}

/// 200 messages in the first minutes to a domain whose MX host answers `421 4.3.2` for ever;
/// each such reply suspends the domain for a day, released spread over an hour; the queue
/// lifetime is 2 days.
fn endless_storm(release: &str) -> Scenario {
    let text = format!(
        r#"
[simulation]
name = "endless-storm"
duration = "200m"
messages = 200
timeseries_interval = "1h"
[[senders]]
name = "app"
domain = "shop.example"
arrivals = {{ process = "constant", rate = "1/min" }}
to = [{{ domain = "down.example" }}]
[relay]
retry = {{ policy = "exponential", initial = "5m", multiplier = 1.0, cap = "5m", jitter = "none" }}
queue_lifetime = "2d"
[[relay.automation]]
name = "greeting-421"
code = 421
action = "suspend"
duration = "1d"
{release}
[[domains]]
name = "down.example"
mx = [{{ host = "mx.down.example", outages = [{{ start = "0s", end = "1000d", mode = "421" }}] }}]
"#
    );
    Scenario::parse(&text, "endless.toml").unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn deliveries_held_past_their_lifetime_expire_so_repeated_suspensions_end() {
    // Each release lets a delivery or two try, whose 421 suspends the domain again: without
    // the lifetime, 200 deliveries would take some 200 days of suspensions to drain.
    let day = 86_400_000_000u64;
    for release in ["", "release = \"spread\"\nrelease_window = \"1h\""] {
        let (memory, stats) = support::run(&endless_storm(release), &Options::default());
        assert_eq!(memory.rows.len(), 200);
        assert!(memory.rows.iter().all(|r| r.fate == Fate::Expired));
        // Submitted within 200 minutes, expired at the first release after 2 days.
        assert!(
            stats.end.as_micros() < 3 * day + 4 * 3_600_000_000,
            "{}",
            stats.end
        );
        for row in &memory.rows {
            assert!(row.finished >= row.submitted + 2 * day, "{row:?}");
            assert!(
                row.finished < row.submitted + 3 * day + 3_600_000_000,
                "{row:?}"
            );
        }
        let fired = memory
            .automation
            .iter()
            .filter(|(_, t)| t.contains("fired"))
            .count();
        assert!(fired <= 3, "{fired} suspensions");
        // The samples stop with the run: bounded by its length, not the held deliveries.
        assert!(
            memory.samples.len() <= 4 * 24 + 2,
            "{}",
            memory.samples.len()
        );
    }
}
