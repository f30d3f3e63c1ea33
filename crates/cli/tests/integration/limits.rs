//! Values a run cannot carry out are refused before anything is simulated: exit status 2 and
//! one line naming the file, the line and column of the value, the field and the range.

use crate::support;

use std::path::PathBuf;
use support::{out_dir, scenario, smtpsim};

/// A small scenario with `replace` applied: each pair is (text in the base, its replacement).
fn scenario_with(replace: &[(&str, &str)]) -> String {
    let mut text = String::from(
        "[simulation]\nname = \"limits\"\nduration = \"1h\"\nmessages = 20\n\
         timeseries_interval = \"5m\"\n\n\
         [[senders]]\nname = \"app\"\ndomain = \"app.example\"\n\
         arrivals = { process = \"poisson\", rate = \"1/s\" }\n\
         recipients = 1\nsize = \"10KB\"\nto = [{ domain = \"dest.example\" }]\n\n\
         [relay]\nbandwidth = 1000000\nround_trip = \"20ms\"\n\
         retry = { policy = \"exponential\", initial = \"4m\", cap = \"1h\" }\n\n\
         [[domains]]\nname = \"dest.example\"\nmx = [{ host = \"mx.dest.example\" }]\n\
         behaviour = { latency = \"50ms\" }\n",
    );
    for (from, to) in replace {
        assert!(text.contains(from), "{from} is not in the base scenario");
        text = text.replacen(from, to, 1);
    }
    text
}

/// Writes `text` as `NAME.toml` in a fresh folder and runs it.
fn run_text(name: &str, text: &str, extra: &[&str]) -> (i32, String, String, PathBuf) {
    let dir = out_dir(&format!("limits-{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("{name}.toml"));
    std::fs::write(&file, text).unwrap();
    let out = dir.join("out");
    let mut args = vec![
        "run".to_string(),
        file.display().to_string(),
        "--out".to_string(),
        out.display().to_string(),
        "--no-report".to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let (code, stdout, stderr) = smtpsim(&args);
    (code, stdout, stderr, file)
}

/// The 1-based line and column of the first `needle` in `text`.
fn position(text: &str, needle: &str) -> (usize, usize) {
    let at = text.find(needle).expect("needle in text");
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = at - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, column)
}

/// Runs the base scenario with `replace` and checks the refusal: exit 2, one line, the file,
/// the line and column where `value` stands, `field` and `range`.
fn refused(name: &str, replace: &[(&str, &str)], value: &str, field: &str, range: &str) {
    let text = scenario_with(replace);
    let (code, stdout, stderr, file) = run_text(name, &text, &[]);
    assert_eq!(code, 2, "{name}: {stdout}{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{name}: {stderr}");
    let (line, column) = position(&text, value);
    let place = format!("{}:{line}:{column}: {field}: ", file.display());
    assert!(
        stderr.contains(&place),
        "{name}: expected {place} in {stderr}"
    );
    assert!(
        stderr.contains(range),
        "{name}: expected {range} in {stderr}"
    );
    assert!(
        !file.with_file_name("out").exists(),
        "{name}: nothing is written"
    );
}

#[test]
fn the_base_scenario_runs() {
    let (code, stdout, stderr, _) = run_text("base", &scenario_with(&[]), &["-q"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
}

#[test]
fn timeseries_intervals_that_write_without_end() {
    let field = "simulation.timeseries_interval";
    refused(
        "interval-zero",
        &[("\"5m\"", "\"0s\"")],
        "\"0s\"",
        field,
        "above 0",
    );
    refused(
        "interval-tiny",
        &[("\"5m\"", "\"1us\""), ("\"1h\"", "\"1d\"")],
        "\"1us\"",
        field,
        "at most 10000000",
    );
}

#[test]
fn bandwidths_that_are_not_finite_and_positive() {
    for (name, value) in [
        ("tiny", "1e-300"),
        ("negative", "-1"),
        ("nan", "nan"),
        ("inf", "inf"),
    ] {
        refused(
            &format!("bandwidth-{name}"),
            &[("1000000", value)],
            value,
            "relay.bandwidth",
            "0 (instantaneous) or between 1e0 and 1e12 bytes per second",
        );
    }
}

#[test]
fn arrivals_beyond_what_a_run_holds() {
    refused(
        "rate-huge",
        &[("rate = \"1/s\"", "rate = 1e308")],
        "1e308",
        "senders[0].arrivals.rate",
        "between 1e-9/s and 1e6/s",
    );
    let bursts = "{ process = \"bursts\", bursts = [{ at = \"0s\", count = 1000000000000 }] }";
    refused(
        "burst-huge",
        &[("{ process = \"poisson\", rate = \"1/s\" }", bursts)],
        "1000000000000",
        "senders[0].arrivals.bursts[0].count",
        "at most 1000000000",
    );
    refused(
        "rate-times-window",
        &[
            ("messages = 20\n", ""),
            ("rate = \"1/s\"", "rate = \"1000000/s\""),
            ("\"1h\"", "\"1d\""),
        ],
        "\"1000000/s\"",
        "senders[0].arrivals.rate",
        "at most 1000000000",
    );
    refused(
        "messages-huge",
        &[("messages = 20", "messages = 10000000000")],
        "10000000000",
        "simulation.messages",
        "from 0 to 1000000000",
    );
}

#[test]
fn rate_limits_of_zero_or_next_to_it() {
    for (name, value) in [("zero", "\"0/s\""), ("tiny", "\"1e-14/s\"")] {
        refused(
            &format!("shaping-{name}"),
            &[(
                "bandwidth",
                &format!("rate_per_domain = {value}\nbandwidth"),
            )],
            value,
            "relay.rate_per_domain",
            "between 1e-9/s and 1e6/s",
        );
        refused(
            &format!("bucket-{name}"),
            &[(
                "behaviour = { latency = \"50ms\" }",
                &format!("behaviour = {{ rate_limits.messages = {{ rate = {value} }} }}"),
            )],
            value,
            "domains[0].behaviour.rate_limits.messages.rate",
            "between 1e-9/s and 1e6/s",
        );
    }
}

#[test]
fn retries_that_never_let_time_pass() {
    refused(
        "zero-retry",
        &[
            (
                "initial = \"4m\", cap = \"1h\"",
                "initial = \"0s\", cap = \"0s\"",
            ),
            ("round_trip = \"20ms\"", "round_trip = \"0s\""),
            ("latency = \"50ms\"", "latency = \"0s\""),
        ],
        "{ policy = \"exponential\"",
        "relay.retry",
        "more than 1000000 times",
    );
    refused(
        "attempts-zero",
        &[("bandwidth", "max_attempts = 0\nbandwidth")],
        "0\nbandwidth",
        "relay.max_attempts",
        "from 1 to 1000000",
    );
}

#[test]
fn recipients_and_sizes_beyond_their_bounds() {
    refused(
        "recipients",
        &[("recipients = 1", "recipients = 1000000000000")],
        "1000000000000",
        "senders[0].recipients",
        "from 0 to 1000 recipients",
    );
    refused(
        "size",
        &[(
            "\"10KB\"",
            "{ dist = \"uniform\", min = \"1KB\", max = \"2GiB\" }",
        )],
        "{ dist = \"uniform\"",
        "senders[0].size",
        "from 0 to 1073741824 bytes",
    );
}

#[test]
fn error_texts_name_what_is_wrong_once() {
    let text = scenario_with(&[("messages = 20\n", "messages = 20\nname = \"again\"\n")]);
    let (code, _, stderr, file) = run_text("duplicate", &text, &[]);
    assert_eq!(code, 2);
    let (line, _) = position(&text, "name = \"again\"");
    assert!(
        stderr.contains(&format!("{}:{line}:", file.display())),
        "{stderr}"
    );
    assert!(stderr.contains("duplicate key `name`"), "{stderr}");

    let mut bytes = scenario_with(&[]).into_bytes();
    let at = bytes.windows(3).position(|w| w == b"app").unwrap();
    bytes[at] = 0xff;
    let dir = out_dir("limits-utf8");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("utf8.toml");
    std::fs::write(&file, &bytes).unwrap();
    let (code, _, stderr) = smtpsim(&["run", file.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stderr.contains(&format!("byte {at}")), "{stderr}");

    let text = scenario_with(&[("rate = \"1/s\"", "rate = nan")]);
    let (code, _, stderr, _) = run_text("rate-nan", &text, &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("not NaN"), "{stderr}");
    assert!(!stderr.contains("negative"), "{stderr}");

    let text = scenario_with(&[("\"1h\"", "\"3 min\"")]);
    let (code, _, stderr, _) = run_text("duration-repeat", &text, &[]);
    assert_eq!(code, 2);
    assert_eq!(stderr.matches("\"3 min\"").count(), 1, "{stderr}");
    assert_eq!(stderr.matches("invalid duration").count(), 1, "{stderr}");
}

#[test]
fn run_options_are_bounded_too() {
    let quickstart = scenario("quickstart.toml");
    let out = out_dir("limits-options");
    let (code, _, stderr) = smtpsim(&[
        "run",
        &quickstart,
        "--duration",
        "1000000d",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("simulation.timeseries_interval"),
        "{stderr}"
    );
    assert!(stderr.contains("an arrival window of 1000000d"), "{stderr}");
    assert!(!out.exists(), "nothing is written");
    let (code, _, stderr) = smtpsim(&[
        "run",
        &quickstart,
        "--messages",
        "2000000000",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("from 0 to 1000000000"), "{stderr}");
}

#[test]
fn tracing_a_message_past_the_last_warns() {
    let text = scenario_with(&[]);
    let (code, _, stderr, _) = run_text("trace-past", &text, &["--trace", "message:500", "-q"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("warning: --trace message:500 traced nothing"),
        "{stderr}"
    );
    assert!(stderr.contains("numbered 0 to 19"), "{stderr}");
    let (code, _, stderr, _) = run_text("trace-within", &text, &["--trace", "message:5", "-q"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("warning"), "{stderr}");
}

#[test]
fn sweeps_are_bounded_before_they_start() {
    let text = scenario_with(&[]);
    let dir = out_dir("limits-sweep");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("sweep.toml");
    std::fs::write(&file, &text).unwrap();
    let values: Vec<String> = (1..=1000).map(|s| s.to_string()).collect();
    let set = format!("simulation.seed={}", values.join(","));
    let set2 = format!("relay.max_connections={}", values.join(","));
    let (code, _, stderr) = smtpsim(&[
        "sweep",
        file.to_str().unwrap(),
        "--set",
        &set,
        "--set",
        &set2,
        "--replications",
        "1000",
        "--out",
        dir.join("out").to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("at most 100000 runs"), "{stderr}");
    assert!(!dir.join("out").exists());

    let (code, _, stderr) = smtpsim(&["sweep", file.to_str().unwrap(), "--jobs", "100000"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("1..=1024"), "{stderr}");

    let (code, stdout, stderr) = smtpsim(&[
        "sweep",
        file.to_str().unwrap(),
        "--replications",
        "2",
        "--jobs",
        "1024",
        "--no-report",
        "--out",
        dir.join("small").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("2 runs in") && stdout.contains("on 2 threads"),
        "{stdout}"
    );
}
