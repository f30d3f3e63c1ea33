//! A message with more recipients at one domain than the server takes in one transaction
//! (RFC 5321's 100): the server answers `452 4.5.3` past its limit and the relay sends the rest
//! in another transaction at once; the fast path and the sessions agree on it, with and
//! without pipelining, with and without connection reuse.

use smtpsim_model::scenario::Scenario;
use smtpsim_model::sim::{ExchangeMode, Fate, Options, TraceMode};

use crate::support;

/// Messages of `recipients` recipients, all at `big.example`.
fn scenario(recipients: u32, pipelining: bool, reuse: bool, starttls: bool) -> Scenario {
    let text = format!(
        r#"
[simulation]
name = "many-recipients"
duration = "1h"
messages = 40

[[senders]]
name = "newsletter"
domain = "news.example"
arrivals = {{ process = "constant", rate = "10/s" }}
recipients = {recipients}
size = "8KB"
to = [{{ domain = "big.example" }}]

[relay]
hostname = "relay.news.example"
round_trip = "40ms"
bandwidth = 1000000
pipelining = {pipelining}
starttls = {starttls}
connection_reuse = {reuse}
max_connections_per_domain = 2
retry = {{ policy = "exponential", initial = "5m", cap = "1h" }}

[[domains]]
name = "news.example"
mx = [{{ host = "mx.news.example" }}]

[[domains]]
name = "big.example"
mx = [{{ host = "mx.big.example" }}]
behaviour = {{ latency = {{ dist = "uniform", min = "5ms", max = "50ms" }}, unknown_users = 0.05 }}
"#
    );
    Scenario::parse(&text, "many-recipients.toml").unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_recipients_past_the_limit_go_in_another_transaction_at_once() {
    let scenario = scenario(150, true, false, true);
    let options = Options {
        messages: Some(1),
        trace: TraceMode::All,
        ..Options::default()
    };
    let (memory, _) = support::run(&scenario, &options);
    assert_eq!(memory.rows.len(), 150);
    let attempt_lines = |attempt: &str, needle: &str| {
        memory
            .trace
            .iter()
            .filter(|l| l.split(' ').nth(2) == Some(attempt) && l.contains(needle))
            .count()
    };
    // The first transaction: 150 RCPTs; past the 100th accepted (a few are unknown users),
    // the rest answered 452 4.5.3.
    assert_eq!(attempt_lines("1", " relay-mx C RCPT TO:"), 150);
    let over = attempt_lines("1", " relay-mx S 452 4.5.3 ");
    assert!((40..=50).contains(&over), "{over}");
    // The second: those others, none over the limit.
    assert_eq!(attempt_lines("2", " relay-mx C RCPT TO:"), over);
    assert_eq!(attempt_lines("2", " relay-mx S 452 "), 0);
    assert_eq!(attempt_lines("3", " relay-mx "), 0);
    // None waited for the retry schedule (5 minutes): all done within seconds.
    for row in &memory.rows {
        assert!(row.attempts <= 2, "{row:?}");
        assert!(row.finished - row.submitted < 10_000_000, "{row:?}");
        assert!(matches!(row.fate, Fate::Inbox | Fate::Bounced), "{row:?}");
    }
    assert_eq!(memory.rows.iter().filter(|r| r.attempts == 2).count(), over);
}

#[test]
fn sessions_and_decisions_agree_past_the_recipient_limit() {
    for recipients in [1, 3, 100, 101, 150, 250] {
        for (pipelining, reuse, starttls) in [
            (true, false, true),
            (false, false, true),
            (true, true, true),
            (false, true, false),
        ] {
            let scenario = scenario(recipients, pipelining, reuse, starttls);
            let what = format!("{recipients} recipients, pipelining {pipelining}, reuse {reuse}");
            let fast = Options::default();
            let compare = Options {
                exchange: ExchangeMode::Compare,
                ..Options::default()
            };
            let sessions = Options {
                exchange: ExchangeMode::Sessions,
                ..Options::default()
            };
            let (a, sa) = support::run(&scenario, &fast);
            let (b, sb) = support::run(&scenario, &compare);
            let (c, _) = support::run(&scenario, &sessions);
            assert_eq!(a.rows, b.rows, "{what}");
            assert_eq!(a.rows, c.rows, "{what}");
            assert_eq!(sa.attempts, sb.attempts, "{what}");
            assert!(a.rows.len() >= 40 * recipients as usize * 9 / 10, "{what}");
        }
    }
}

/// Microseconds from a trace line's time (`seconds.micros`).
fn micros(line: &str) -> u64 {
    let (secs, frac) = line.split(' ').next().unwrap().split_once('.').unwrap();
    secs.parse::<u64>().unwrap() * 1_000_000 + frac.parse::<u64>().unwrap()
}

#[test]
fn each_line_of_a_trace_carries_the_time_it_was_said() {
    for (pipelining, starttls) in [(true, true), (false, false)] {
        let scenario = scenario(3, pipelining, false, starttls);
        let options = Options {
            messages: Some(1),
            trace: TraceMode::All,
            ..Options::default()
        };
        let (memory, _) = support::run(&scenario, &options);
        let lines: Vec<&String> = memory
            .trace
            .iter()
            .filter(|l| l.contains(" relay-mx C ") || l.contains(" relay-mx S "))
            .collect();
        let times: Vec<u64> = lines.iter().map(|l| micros(l)).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "{lines:#?}");
        // Each reply reaches the relay a round trip (40 ms) and the server's latency (at least
        // 5 ms) after the command it answers went out.
        for pair in lines.windows(2) {
            if pair[0].contains(" C ") && !pair[0].contains(" C QUIT") && pair[1].contains(" S ") {
                let waited = micros(pair[1]) - micros(pair[0]);
                assert!(waited >= 45_000, "{pair:#?}");
            }
        }
        // The greeting comes a round trip after the connection; the attempt ends with the
        // reply to the content (QUIT is not waited for), when the engine ends the attempt.
        let connected = memory
            .trace
            .iter()
            .find(|l| l.contains(" relay-mx note connected to "))
            .unwrap();
        assert!(micros(lines[0]) >= micros(connected) + 45_000);
        assert!(lines[lines.len() - 2].contains(" C QUIT"), "{lines:#?}");
        let last_reply = lines.iter().rev().find(|l| l.contains(" S 250 ")).unwrap();
        let finished = memory.rows.iter().map(|r| r.finished).max().unwrap();
        assert_eq!(micros(last_reply), finished, "{lines:#?}");
        assert_eq!(micros(lines[lines.len() - 1]), finished);
        // Rounds: greeting, EHLO, (STARTTLS, handshake, EHLO), MAIL batch or each command,
        // content; the distinct times of replies count them.
        let mut replies: Vec<u64> = lines
            .iter()
            .filter(|l| l.contains(" S ") && !l.contains(" S 221 "))
            .map(|l| micros(l))
            .collect();
        replies.dedup();
        let expected = match (pipelining, starttls) {
            (true, true) => 1 + 1 + 2 + 1 + 1,
            _ => 1 + 1 + (1 + 3 + 1) + 1,
        };
        assert_eq!(replies.len(), expected, "{lines:#?}");
    }
}
