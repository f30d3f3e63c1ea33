//! `smtpsim run` as a real process: the files it writes, reproducibility, and errors.

use crate::support;

use std::path::Path;
use support::{out_dir, scenario, smtpsim};

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

#[test]
fn writes_every_report_and_repeats_itself_byte_for_byte() {
    let a = out_dir("run-a");
    let b = out_dir("run-b");
    for dir in [&a, &b] {
        let (code, out, err) = smtpsim(&[
            "run",
            &scenario("quickstart.toml"),
            "--messages",
            "500",
            "--trace",
            "sample:50",
            "--out",
            dir.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("quickstart: 500 messages"), "{out}");
    }
    for file in [
        "messages.csv",
        "events.csv",
        "timeseries.csv",
        "summary.csv",
    ] {
        assert_eq!(
            support::without_provenance(file, read(&a, file).as_bytes()),
            support::without_provenance(file, read(&b, file).as_bytes()),
            "{file} differs between runs"
        );
    }
    let messages = read(&a, "messages.csv");
    assert!(messages.starts_with(
        "message_id,recipient,domain,submitted_s,first_attempt_s,final_s,outcome,attempts,latency_s,last_reply_code,last_enhanced_code,reasons"
    ));
    let events = read(&a, "events.csv");
    assert!(
        events.contains(",relay-mx,C,MAIL FROM:<orders@shop.example>"),
        "{events}"
    );
    assert!(events.contains(",app-relay,"));
    let summary: serde_json::Value = serde_json::from_str(&read(&a, "summary.json")).unwrap();
    assert_eq!(summary["run"]["messages"], 500);
    assert!(summary["performance"]["wall_s"].as_f64().unwrap() > 0.0);
    // No temporary files are left behind.
    for entry in std::fs::read_dir(&a).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(!name.ends_with(".tmp"), "{name}");
    }
}

#[test]
fn another_seed_gives_other_numbers() {
    let a = out_dir("seed-a");
    let b = out_dir("seed-b");
    for (dir, seed) in [(&a, "1"), (&b, "2")] {
        let (code, _, err) = smtpsim(&[
            "run",
            &scenario("quickstart.toml"),
            "--messages",
            "300",
            "--seed",
            seed,
            "--out",
            dir.to_str().unwrap(),
            "--quiet",
        ]);
        assert_eq!(code, 0, "{err}");
    }
    assert_ne!(read(&a, "messages.csv"), read(&b, "messages.csv"));
}

#[test]
fn a_typo_names_file_line_and_field_and_writes_nothing() {
    let dir = out_dir("typo");
    let file = Path::new(env!("CARGO_TARGET_TMPDIR")).join("typo.toml");
    let text = std::fs::read_to_string(scenario("validation/mm1.toml"))
        .unwrap()
        .replace("max_connections = 1\n", "max_conections = 1\n");
    let line = text
        .lines()
        .position(|l| l.starts_with("max_conections"))
        .unwrap()
        + 1;
    std::fs::write(&file, text).unwrap();
    let (code, _, err) = smtpsim(&[
        "run",
        file.to_str().unwrap(),
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains(&format!(
            "typo.toml:{line}:1: relay.max_conections: unknown field `max_conections`"
        )),
        "{err}"
    );
    assert!(!dir.exists());
}

#[test]
fn bad_options_are_refused() {
    let (code, _, err) = smtpsim(&["run", &scenario("quickstart.toml"), "--trace", "sample:0"]);
    assert_eq!(code, 2);
    assert!(err.contains("sample:N"), "{err}");
    let (code, _, err) = smtpsim(&["run", "no-such-file.toml"]);
    assert_eq!(code, 2);
    assert!(err.contains("no-such-file.toml: cannot read"), "{err}");
}

#[test]
fn a_pool_reports_each_address_in_every_summary() {
    let dir = out_dir("run-pool");
    let (code, out, err) = smtpsim(&[
        "run",
        &scenario("ip-warmup.toml"),
        "--messages",
        "400",
        "--no-report",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    // 400 messages in turn over four addresses: 100 each, under the first day's limit of 200.
    for last in 10..=13 {
        let line = format!(
            "  from 198.51.100.{last}: 100 attempts, 100 delivered, 0 deferred, 0 bounced, 0 throttled"
        );
        assert!(out.contains(&line), "{out}");
        let csv = read(&dir, "summary.csv");
        assert!(
            csv.contains(&format!("source,198.51.100.{last} deliveries,100\n")),
            "{csv}"
        );
    }
    let json = read(&dir, "summary.json");
    assert!(json.contains("\"sources\": ["), "{json}");
}
