//! Out-of-range values of the MTA-named retry policies are refused with the file, the line
//! and column of the key, the dotted field and the accepted range; an unknown policy lists
//! the accepted ones.

use smtpsim_model::scenario::{Scenario, ScenarioError};

fn parse(retry: &str) -> Result<Scenario, ScenarioError> {
    let text = format!(
        r#"[simulation]
name = "ranges"
duration = "1h"

[[senders]]
name = "app"
domain = "app.example"
arrivals = {{ process = "poisson", rate = "1/s" }}
to = [{{ domain = "dest.example" }}]

[relay]
[relay.retry]
{retry}

[[domains]]
name = "dest.example"
mx = [{{ host = "mx.dest.example" }}]
"#
    );
    Scenario::parse(&text, "ranges.toml")
}

/// The line (1-based) of the first line inside `[relay.retry]`.
const RETRY_LINE: usize = 13;

/// `retry` is refused at line `RETRY_LINE + offset`, pointed at the first `value` written on
/// that line, for `field`, with a message containing `message`.
fn refused(retry: &str, offset: usize, value: &str, field: &str, message: &str) {
    let line = retry.lines().nth(offset).expect("the line");
    let column = line.find(value).expect("the value is on the line") + 1;
    let err = parse(retry).expect_err(retry);
    assert_eq!(err.file, "ranges.toml");
    assert_eq!(
        (err.line, err.column),
        (Some(RETRY_LINE + offset), Some(column)),
        "{err}"
    );
    assert_eq!(err.field, field, "{err}");
    assert!(err.message.contains(message), "{err}");
    let shown = err.to_string();
    assert!(
        shown.starts_with(&format!(
            "ranges.toml:{}:{column}: {field}: ",
            RETRY_LINE + offset
        )),
        "{shown}"
    );
}

#[test]
fn every_policy_loads_with_its_defaults() {
    for policy in [
        "postfix", "exim", "kumomta", "haraka", "exchange", "sendmail",
    ] {
        parse(&format!("policy = \"{policy}\"")).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn an_unknown_policy_lists_the_accepted_ones() {
    let err = parse("policy = \"qmail\"").unwrap_err();
    assert_eq!(err.field, "relay.retry.policy");
    assert_eq!(err.line, Some(RETRY_LINE), "{err}");
    for name in [
        "exponential",
        "postfix",
        "exim",
        "fixed",
        "kumomta",
        "haraka",
        "exchange",
        "sendmail",
    ] {
        assert!(err.message.contains(&format!("`{name}`")), "{err}");
    }
    assert!(err.message.contains("unknown variant `qmail`"), "{err}");
}

#[test]
fn an_unknown_field_of_a_policy_is_named() {
    let err = parse("policy = \"kumomta\"\nretry_intervall = \"5m\"").unwrap_err();
    assert_eq!(err.line, Some(RETRY_LINE + 1), "{err}");
    assert!(
        err.message.contains("unknown field `retry_intervall`"),
        "{err}"
    );
    assert!(err.message.contains("`max_retry_interval`"), "{err}");
}

#[test]
fn kumomta_ranges() {
    let p = "policy = \"kumomta\"\n";
    let f = "relay.retry.";
    let range = "must be from 1s to 7d";
    refused(
        &format!("{p}retry_interval = \"0s\""),
        1,
        "\"0s\"",
        &format!("{f}retry_interval"),
        range,
    );
    refused(
        &format!("{p}retry_interval = \"8d\""),
        1,
        "\"8d\"",
        &format!("{f}retry_interval"),
        range,
    );
    refused(
        &format!("{p}retry_interval = \"5m\"\nmax_retry_interval = \"31d\""),
        2,
        "\"31d\"",
        &format!("{f}max_retry_interval"),
        "must be from 1s to 30d, not 31d",
    );
}

#[test]
fn haraka_ranges() {
    let p = "policy = \"haraka\"\n";
    let field = "relay.retry.max_temp_failures";
    refused(
        &format!("{p}max_temp_failures = 0"),
        1,
        "0",
        field,
        "must be from 1 to 30, not 0",
    );
    refused(
        &format!("{p}max_temp_failures = 31"),
        1,
        "31",
        field,
        "must be from 1 to 30, not 31",
    );
    refused(
        &format!("{p}temp_fail_intervals = [\"1m\", \"4s\"]"),
        1,
        "\"4s\"",
        "relay.retry.temp_fail_intervals[1]",
        "must be from 5s to 30d, not 4s",
    );
    let long = vec!["\"1m\""; 1001].join(", ");
    refused(
        &format!("{p}temp_fail_intervals = [{long}]"),
        1,
        "[",
        "relay.retry.temp_fail_intervals",
        "at most 1000 entries, not 1001",
    );
}

#[test]
fn exchange_ranges() {
    let p = "policy = \"exchange\"\n";
    let f = "relay.retry.";
    refused(
        &format!("{p}transient_failure_retry_count = 16"),
        1,
        "16",
        &format!("{f}transient_failure_retry_count"),
        "must be from 0 to 15, not 16",
    );
    refused(
        &format!("{p}transient_failure_retry_interval = \"13h\""),
        1,
        "\"13h\"",
        &format!("{f}transient_failure_retry_interval"),
        "must be from 1s to 12h, not 13h",
    );
    refused(
        &format!("{p}message_retry_interval = \"0s\""),
        1,
        "\"0s\"",
        &format!("{f}message_retry_interval"),
        "must be from 1s to 1d, not 0s",
    );
}

#[test]
fn sendmail_ranges() {
    let p = "policy = \"sendmail\"\n";
    refused(
        &format!("{p}queue_interval = \"2d\""),
        1,
        "\"2d\"",
        "relay.retry.queue_interval",
        "must be from 1s to 1d, not 2d",
    );
    refused(
        &format!("{p}queue_interval = \"1h\"\n  min_queue_age = \"8d\""),
        2,
        "\"8d\"",
        "relay.retry.min_queue_age",
        "must be from 0s to 7d, not 8d",
    );
}

#[test]
fn exim_ranges() {
    let p = "policy = \"exim\"\n";
    let f = "relay.retry.";
    refused(
        &format!("{p}queue_run = \"0s\""),
        1,
        "\"0s\"",
        &format!("{f}queue_run"),
        "must be from 1s to 1d, not 0s",
    );
    refused(
        &format!("{p}retry_interval_max = \"25h\""),
        1,
        "\"25h\"",
        &format!("{f}retry_interval_max"),
        "must be from 1s to 1d, not 25h",
    );
    refused(
        &format!("{p}rules = [{{ kind = \"F\", until = \"2h\", interval = \"0s\" }}]"),
        1,
        "\"0s\"",
        &format!("{f}rules[0].interval"),
        "must be from 1s to 365d, not 0s",
    );
    refused(
        &format!("{p}queue_run = \"10m\"\nqueue_run_spread = \"20m\""),
        2,
        "\"20m\"",
        &format!("{f}queue_run_spread"),
        "to 10m, not 20m",
    );
    refused(
        &format!("{p}queue_run_spread = \"5s\""),
        1,
        "\"5s\"",
        &format!("{f}queue_run_spread"),
        "needs queue_run",
    );
}
