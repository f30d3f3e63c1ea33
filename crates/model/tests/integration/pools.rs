//! `[relay.pool]`: each message goes out from one address of the pool, and the MX's rate
//! limits, greylisting, reputation and SPF see that address; each address's results are
//! reported.

use smtpsim_model::scenario::Scenario;
use smtpsim_model::sim::{Fate, Options};

use crate::support::run;

/// 100 messages, one a second, to b.example, sent from four addresses of 198.51.100.0/24 in
/// turn; one attempt each. `behaviour` is b.example's.
fn scenario(selection: &str, behaviour: &str) -> Scenario {
    let text = format!(
        "[simulation]\nname = \"pool\"\nduration = \"100s\"\nseed = 3\n\
         [[senders]]\nname = \"app\"\ndomain = \"a.example\"\n\
         arrivals = {{ process = \"constant\", rate = \"1/s\" }}\n\
         to = [{{ domain = \"b.example\" }}]\n\
         [relay]\nmax_attempts = 1\nretry = {{ policy = \"fixed\", schedule = [\"1h\"] }}\n\
         [relay.pool]\nselection = \"{selection}\"\naddresses = [\n\
           {{ ip = \"198.51.100.1\" }}, {{ ip = \"198.51.100.2\" }},\n\
           {{ ip = \"198.51.100.3\" }}, {{ ip = \"198.51.100.4\" }},\n]\n\
         [[domains]]\nname = \"a.example\"\nspf = \"v=spf1 ip4:198.51.100.1 -all\"\n\
         [[domains]]\nname = \"b.example\"\nmx = [{{ host = \"mx.b.example\" }}]\n\
         [domains.behaviour]\n{behaviour}\n"
    );
    Scenario::parse(&text, "pool.toml").unwrap_or_else(|e| panic!("{e}"))
}

const TEN_MESSAGES: &str = "rate_limits.messages = { rate = \"1/d\", burst = 10 }";

#[test]
fn the_mx_counts_each_pool_address_apart() {
    let (memory, _) = run(&scenario("round_robin", TEN_MESSAGES), &Options::default());
    assert_eq!(memory.sources.len(), 4);
    for s in &memory.sources {
        // 25 messages each: 10 pass the bucket, 15 are throttled and expire.
        assert_eq!(
            (s.attempts, s.deliveries, s.deferrals, s.throttled),
            (25, 10, 15, 15),
            "{s:?}"
        );
    }
    let delivered = memory
        .rows
        .iter()
        .filter(|r| r.fate != Fate::Expired)
        .count();
    assert_eq!(delivered, 40);
}

#[test]
fn counted_by_network_the_pool_shares_one_limit() {
    let behaviour = format!("count_by = \"network\"\n{TEN_MESSAGES}");
    let (memory, _) = run(&scenario("round_robin", &behaviour), &Options::default());
    let deliveries: u64 = memory.sources.iter().map(|s| s.deliveries).sum();
    let throttled: u64 = memory.sources.iter().map(|s| s.throttled).sum();
    assert_eq!((deliveries, throttled), (10, 90));
}

#[test]
fn spf_sees_the_chosen_address() {
    // a.example authorises only 198.51.100.1: round robin sends message m from address
    // m mod 4, so exactly the messages 0, 4, 8, ... pass SPF and reach the inbox.
    let (memory, _) = run(&scenario("round_robin", ""), &Options::default());
    assert_eq!(memory.rows.len(), 100);
    for row in &memory.rows {
        let expected = if row.message_id % 4 == 0 {
            Fate::Inbox
        } else {
            Fate::Spam
        };
        assert_eq!(row.fate, expected, "message {}", row.message_id);
    }
}

#[test]
fn weighted_choice_is_the_same_on_every_run_and_reported_per_address() {
    let s = scenario("weighted", "");
    let (a, _) = run(&s, &Options::default());
    let (b, _) = run(&s, &Options::default());
    assert_eq!(a.rows, b.rows);
    assert_eq!(a.sources, b.sources);
    let total: u64 = a.sources.iter().map(|s| s.deliveries).sum();
    assert_eq!(total, 100);
    assert!(
        a.sources.iter().all(|s| s.deliveries > 0),
        "{:?}",
        a.sources
    );
    // Another seed draws other addresses.
    let other = Options {
        seed: Some(4),
        ..Options::default()
    };
    let (c, _) = run(&s, &other);
    assert_ne!(a.sources, c.sources);
}

#[test]
fn a_pool_error_names_the_field() {
    let bad = |pool: &str| {
        let text = format!(
            "[simulation]\nname = \"x\"\nduration = \"1m\"\n\
             [[senders]]\nname = \"a\"\ndomain = \"a.example\"\n\
             arrivals = {{ process = \"constant\", rate = \"1/s\" }}\n\
             to = [{{ domain = \"b.example\" }}]\n\
             [relay]\nretry = {{ policy = \"fixed\", schedule = [\"5m\"] }}\n{pool}\n\
             [[domains]]\nname = \"b.example\"\nmx = [{{ host = \"mx.b.example\" }}]\n"
        );
        Scenario::parse(&text, "x.toml").unwrap_err().to_string()
    };
    assert_eq!(
        bad("pool = { addresses = [] }"),
        "x.toml:11:22: relay.pool.addresses: a pool has 1 to 4096 addresses, not 0"
    );
    let e = bad("pool = { addresses = [{ ip = \"192.0.2.1\", weight = 0 }] }");
    assert!(e.starts_with("x.toml:11:"), "{e}");
    assert!(
        e.contains("relay.pool.addresses[0].weight: must be from 1 to 1000000, not 0"),
        "{e}"
    );
    let e = bad("pool = { addresses = [{ ip = \"192.0.2.1\" }, { ip = \"192.0.2.1\" }] }");
    assert!(
        e.contains("relay.pool.addresses[1].ip: 192.0.2.1 is already in the pool"),
        "{e}"
    );
    let e = bad("ip = \"192.0.2.7\"\npool = { addresses = [{ ip = \"192.0.2.1\" }] }");
    assert!(
        e.contains("relay.ip: give the relay's addresses either as ip or as pool"),
        "{e}"
    );
    let e = bad("pool = { selection = \"random\", addresses = [{ ip = \"192.0.2.1\" }] }");
    assert!(e.contains("relay.pool.selection"), "{e}");
}

#[test]
fn ip_warmup_delivers_the_pools_doubling_limit_each_day() {
    // Four addresses, each allowed 200 messages on day 1 and 200 plus everything it sent
    // before on each later day: while the backlog lasts the pool delivers 4 × 200 × 2^(d-1)
    // on day d, exactly.
    let scenario = crate::support::load("ip-warmup.toml");
    let (memory, stats) = run(&scenario, &Options::default());
    let day = 86_400_000_000u64;
    let delivered_by = |t: u64| {
        let s = memory
            .samples
            .iter()
            .find(|s| s.time.as_micros() == t)
            .unwrap_or_else(|| panic!("a sample at {t}"));
        (s.delivered, s.deferred)
    };
    let mut before = 0;
    for (d, expected) in [(1, 800), (2, 1600), (3, 3200), (4, 6400)] {
        let (delivered, deferred) = delivered_by(d * day);
        assert_eq!(delivered - before, expected, "day {d}");
        assert!(deferred > 0, "day {d}: the backlog lasts");
        before = delivered;
    }
    // The backlog is gone by the end of day 5, and nothing expires.
    assert_eq!(delivered_by(5 * day).1, 0);
    assert!(memory.rows.iter().all(|r| r.fate == Fate::Inbox));
    assert_eq!(memory.sources.len(), 4);
    let throttled: u64 = memory.sources.iter().map(|s| s.throttled).sum();
    let attempts: u64 = memory.sources.iter().map(|s| s.attempts).sum();
    assert_eq!(attempts, stats.attempts);
    assert!(throttled > attempts / 2, "{throttled} of {attempts}");
}
