//! Every bundled scenario loads, runs and gives sensible results; runs are reproducible; the
//! two ways of carrying out an exchange agree.

use crate::support;

use smtpsim_model::sim::{ExchangeMode, Fate, Options, TraceMode};

#[test]
fn quickstart_runs_with_every_kind_of_ending() {
    let scenario = support::load("quickstart.toml");
    let options = Options {
        messages: Some(20_000),
        ..Options::default()
    };
    let (memory, stats) = support::run(&scenario, &options);
    assert_eq!(stats.messages, 20_000);
    let count = |fate| memory.rows.iter().filter(|r| r.fate == fate).count();
    for fate in [
        Fate::Inbox,
        Fate::Spam,
        Fate::Bounced,
        Fate::RejectedAtSubmission,
    ] {
        assert!(count(fate) > 0, "{fate:?}: none");
    }
    // The spam is the unsigned, unaligned newsletter; the shop's signed mail is not spam.
    for row in memory.rows.iter().filter(|r| r.fate == Fate::Spam) {
        assert_eq!(row.sender, "newsletter", "{row:?}");
        assert!(
            row.reasons
                .contains("placed in spam: DMARC policy quarantine"),
            "{row:?}"
        );
    }
    let delivered = count(Fate::Inbox) + count(Fate::Spam);
    assert!(delivered as f64 > 0.9 * memory.rows.len() as f64);
    // The typo domain bounces with 5.1.2, the null MX with 556 5.1.10.
    let reply_of = |domain: &str| {
        memory
            .rows
            .iter()
            .find(|r| r.domain == domain)
            .and_then(|r| r.last_reply.clone())
            .unwrap()
    };
    assert!(reply_of("gmial.com").starts_with("550 5.1.2"));
    assert!(reply_of("nomail.example").starts_with("556 5.1.10"));
    // Greylisting makes smallco's first messages wait at least its delay.
    let smallco = memory
        .rows
        .iter()
        .find(|r| r.domain == "smallco.example" && r.fate == Fate::Inbox)
        .unwrap();
    assert!(smallco.attempts >= 2);
    assert!(smallco.finished - smallco.submitted >= 300_000_000);
    // SPF and DKIM pass and align: the inbox, with the reasons kept.
    let gmail = memory
        .rows
        .iter()
        .find(|r| r.domain == "gmail.com" && r.fate == Fate::Inbox)
        .unwrap();
    assert!(
        gmail.reasons.contains("sender IP allowed by domain policy"),
        "{}",
        gmail.reasons
    );
}

#[test]
fn same_seed_same_results_other_seed_other_results() {
    let scenario = support::load("quickstart.toml");
    let options = Options {
        messages: Some(3_000),
        ..Options::default()
    };
    let (a, _) = support::run(&scenario, &options);
    let (b, _) = support::run(&scenario, &options);
    assert_eq!(a.rows, b.rows);
    assert_eq!(a.samples, b.samples);
    let other = Options {
        seed: Some(7),
        ..options
    };
    let (c, _) = support::run(&scenario, &other);
    assert_ne!(a.rows, c.rows);
}

/// Every bundled scenario, run with every attempt carried out both ways: the verdicts, the
/// commands and replies with their round trips, and the connection states agree attempt by
/// attempt (the run fails on the first difference); and the fast path's rows are the
/// sessions' rows.
#[test]
fn sessions_and_decisions_agree_on_every_bundled_scenario() {
    for name in support::bundled_scenarios() {
        let scenario = support::load(&name);
        let fast = Options {
            messages: Some(1_500),
            ..Options::default()
        };
        let compare = Options {
            exchange: ExchangeMode::Compare,
            ..fast.clone()
        };
        let (a, _) = support::run(&scenario, &fast);
        let (b, _) = support::run(&scenario, &compare);
        assert_eq!(a.rows.len(), b.rows.len(), "{name}");
        for (x, y) in a.rows.iter().zip(&b.rows) {
            assert_eq!(x, y, "{name}");
        }
    }
}

#[test]
fn tracing_does_not_change_results() {
    let scenario = support::load("quickstart.toml");
    let plain = Options {
        messages: Some(2_000),
        ..Options::default()
    };
    let traced = Options {
        trace: TraceMode::Sample(10),
        ..plain.clone()
    };
    let (a, _) = support::run(&scenario, &plain);
    let (b, _) = support::run(&scenario, &traced);
    assert_eq!(a.rows, b.rows);
    assert!(a.trace.is_empty());
    assert!(
        b.trace
            .iter()
            .any(|l| l.contains(" relay-mx C MAIL FROM:<orders@shop.example>"))
    );
    assert!(
        b.trace
            .iter()
            .all(|l| l.split(' ').nth(1).unwrap().parse::<u64>().unwrap() % 10 == 0)
    );
}

#[test]
fn traces_file_only_what_was_accepted() {
    let scenario = support::load("dmarc.toml");
    let options = Options {
        messages: Some(400),
        trace: TraceMode::All,
        ..Options::default()
    };
    let (memory, _) = support::run(&scenario, &options);
    let filed = |id: u64| {
        memory.trace.iter().any(|line| {
            let mut parts = line.split(' ');
            parts.nth(1) == Some(id.to_string().as_str()) && line.contains(" mx-mailbox ")
        })
    };
    let mut seen = (0, 0);
    for row in &memory.rows {
        match row.fate {
            Fate::Bounced => {
                assert!(!filed(row.message_id), "{row:?}");
                seen.0 += 1;
            }
            Fate::Inbox | Fate::Spam => {
                assert!(filed(row.message_id), "{row:?}");
                seen.1 += 1;
            }
            _ => {}
        }
    }
    assert!(seen.0 > 50 && seen.1 > 50, "{seen:?}");
}

#[test]
fn reused_connections_skip_the_greeting_and_agree_both_ways() {
    let mut scenario = support::load("quickstart.toml");
    assert!(scenario.relay.connection_reuse);
    // A burst, so that deliveries queue up behind each other and connections get reused.
    scenario.relay.max_connections_per_domain = 2;
    let traced = Options {
        messages: Some(3_000),
        trace: TraceMode::All,
        ..Options::default()
    };
    let (with_reuse, _) = support::run(&scenario, &traced);
    let reused: Vec<&String> = with_reuse
        .trace
        .iter()
        .filter(|l| l.contains("reusing the connection to"))
        .collect();
    assert!(reused.len() > 100, "{}", reused.len());
    // A reused connection goes straight to MAIL: no greeting, no EHLO. (Its lines follow the
    // note, the first ones at its time.)
    let at = with_reuse
        .trace
        .iter()
        .position(|l| l == reused[0])
        .unwrap();
    let lines: Vec<&String> = with_reuse.trace[at + 1..]
        .iter()
        .take_while(|l| l.contains(" relay-mx "))
        .filter(|l| l.contains(" relay-mx C ") || l.contains(" relay-mx S "))
        .collect();
    assert!(lines[0].contains(" C MAIL FROM:"), "{lines:?}");
    assert_eq!(lines[0].split(' ').next(), reused[0].split(' ').next());
    assert!(
        !lines
            .iter()
            .any(|l| l.contains(" EHLO ") || l.contains(" S 220 "))
    );

    // The fast path gives the same rows with reuse too.
    let fast = Options {
        messages: Some(3_000),
        ..Options::default()
    };
    let (plain, _) = support::run(&scenario, &fast);
    assert_eq!(plain.rows, with_reuse.rows);

    // Without reuse every delivery pays for its own greeting and EHLO: slower.
    scenario.relay.connection_reuse = false;
    let (no_reuse, _) = support::run(&scenario, &fast);
    let mean = |rows: &[support::Row]| {
        let delivered: Vec<f64> = rows
            .iter()
            .filter(|r| r.fate == Fate::Inbox)
            .map(|r| (r.finished - r.submitted) as f64)
            .collect();
        delivered.iter().sum::<f64>() / delivered.len() as f64
    };
    assert!(mean(&plain.rows) < mean(&no_reuse.rows));
}

#[test]
fn a_refused_submission_is_a_real_conversation_and_goes_no_further() {
    let mut scenario = support::load("quickstart.toml");
    for sender in &mut scenario.senders {
        sender.submission.auth_failure = smtpsim_model::scenario::Probability(1.0);
    }
    let options = Options {
        messages: Some(20),
        trace: TraceMode::All,
        ..Options::default()
    };
    let (memory, stats) = support::run(&scenario, &options);
    assert_eq!(stats.attempts, 0);
    assert!(
        memory
            .rows
            .iter()
            .all(|r| r.fate == Fate::RejectedAtSubmission && r.attempts == 0)
    );
    assert!(
        memory
            .trace
            .iter()
            .any(|l| l.ends_with(" app-relay C AUTH PLAIN <base64 credentials>"))
    );
    assert!(
        memory
            .trace
            .iter()
            .any(|l| l.contains(" app-relay S 535 5.7.8 "))
    );
    assert!(!memory.trace.iter().any(|l| l.contains(" relay-mx ")));
}

/// The peak queue depth a run reports is the most deliveries (message × domain) that were
/// between submission and their end at one instant, worked out here from the recipient rows.
#[test]
fn peak_queue_depth_is_exact() {
    use std::collections::BTreeMap;

    for name in [
        "quickstart.toml",
        "validation/mm4.toml",
        "validation/greylist.toml",
    ] {
        let scenario = support::load(name);
        let options = Options {
            messages: Some(5_000),
            ..Options::default()
        };
        let (memory, stats) = support::run(&scenario, &options);
        // Each delivery lasts from its message's submission to its last recipient's end.
        let mut deliveries: BTreeMap<(u64, &str), (u64, u64)> = BTreeMap::new();
        for row in memory
            .rows
            .iter()
            .filter(|r| r.fate != Fate::RejectedAtSubmission)
        {
            let span = deliveries
                .entry((row.message_id, row.domain.as_str()))
                .or_insert((row.submitted, row.finished));
            span.1 = span.1.max(row.finished);
        }
        // Sweep the starts and ends in time order; at equal times the order of events is the
        // engine's, so both orders bound the answer.
        let sweep = |ends_first: bool| {
            let mut points: Vec<(u64, bool)> = deliveries
                .values()
                .flat_map(|&(start, end)| [(start, true), (end, false)])
                .collect();
            points.sort_by_key(|&(t, start)| (t, start == ends_first));
            let (mut depth, mut peak) = (0i64, 0i64);
            for (_, start) in points {
                depth += if start { 1 } else { -1 };
                peak = peak.max(depth);
            }
            peak as u64
        };
        let (low, high) = (sweep(true), sweep(false));
        assert!(
            (low..=high).contains(&stats.peak_queue_depth),
            "{name}: peak {} outside {low}..={high}",
            stats.peak_queue_depth
        );
        let sampled = memory
            .samples
            .iter()
            .map(|s| s.active + s.deferred)
            .max()
            .unwrap_or(0);
        assert!(stats.peak_queue_depth >= sampled, "{name}");
        assert!(
            stats.peak_queue_depth > 1,
            "{name}: the queue never held two deliveries"
        );
    }
}
