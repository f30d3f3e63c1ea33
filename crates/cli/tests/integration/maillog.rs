//! `smtpsim run --maillog` read by the real pflogsumm (Debian's `pflogsumm` package), and
//! `--hdr-log` read back with HdrHistogram's interval log reader.

use std::path::{Path, PathBuf};
use std::process::Command;

use hdrhistogram::Histogram;
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};

fn out_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn run(out: &Path, extra: &[&str]) {
    let scenario = format!(
        "{}/../../scenarios/quickstart.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut args = vec![
        "run",
        &scenario,
        "--messages",
        "4000",
        "--quiet",
        "--no-report",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(extra);
    let status = Command::new(env!("CARGO_BIN_EXE_smtpsim"))
        .args(&args)
        .status()
        .expect("smtpsim runs");
    assert!(status.success());
}

fn summary(out: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap()
}

/// The number before `label` on a line of pflogsumm's "Grand Totals".
fn total(report: &str, label: &str) -> u64 {
    report
        .lines()
        .find_map(|line| {
            let mut words = line.split_whitespace();
            let n = words.next()?;
            (words.next() == Some(label)).then(|| n.parse().ok())?
        })
        .unwrap_or_else(|| panic!("no {label} in\n{report}"))
}

#[test]
fn pflogsumm_counts_what_the_summary_counts() {
    let out = out_dir("maillog-pflogsumm");
    let log = out.join("mail.log");
    run(&out, &["--maillog", log.to_str().unwrap()]);
    let report = Command::new("pflogsumm")
        .arg(&log)
        .output()
        .expect("pflogsumm is installed (Debian package pflogsumm)");
    assert!(report.status.success());
    let report = String::from_utf8(report.stdout).unwrap();

    let s = summary(&out);
    let outcome = |k: &str| s["outcomes"][k].as_u64().unwrap();
    assert_eq!(
        total(&report, "delivered"),
        outcome("inbox") + outcome("spam"),
        "{report}"
    );
    assert_eq!(total(&report, "bounced"), outcome("bounced"), "{report}");
    assert_eq!(
        total(&report, "rejected"),
        outcome("rejected_at_submission"),
        "{report}"
    );

    // Deferrals: smtpsim's running total of recipient deferrals at the end of the run.
    let timeseries = std::fs::read_to_string(out.join("timeseries.csv")).unwrap();
    let last = timeseries.lines().last().unwrap();
    let deferrals: u64 = last.split(',').nth(5).unwrap().parse().unwrap();
    let line = report
        .lines()
        .find(|l| l.contains(" deferred"))
        .expect("a deferred line");
    let counted: u64 = line
        .split('(')
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no deferral count in {line}"));
    assert_eq!(counted, deferrals, "{line}");
    // Messages deferred at least once: those whose queue ID has a deferral in the log.
    let text = std::fs::read_to_string(&log).unwrap();
    let mut deferred: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("status=deferred"))
        .map(|l| l.split(": ").nth(1).unwrap())
        .collect();
    deferred.sort_unstable();
    deferred.dedup();
    assert!(!deferred.is_empty());
    assert_eq!(total(&report, "deferred"), deferred.len() as u64);

    // Messages received: all but those refused at submission.
    let messages = std::fs::read_to_string(out.join("messages.csv")).unwrap();
    let mut refused: Vec<&str> = messages
        .lines()
        .filter(|l| l.contains(",rejected_at_submission,"))
        .map(|l| l.split(',').next().unwrap())
        .collect();
    refused.dedup();
    let generated = s["run"]["messages"].as_u64().unwrap();
    assert_eq!(total(&report, "received"), generated - refused.len() as u64);

    // Lines are in time order and every queued message is removed in the end.
    let queued = text
        .lines()
        .filter(|l| l.contains("(queue active)"))
        .count();
    let removed = text.lines().filter(|l| l.ends_with(": removed")).count();
    assert_eq!(queued, removed);
    assert_eq!(queued as u64, total(&report, "received"));
}

#[test]
fn the_mail_log_is_reproducible_and_starts_at_the_scenario_start() {
    let a = out_dir("maillog-a");
    let b = out_dir("maillog-b");
    for dir in [&a, &b] {
        run(dir, &["--maillog", dir.join("mail.log").to_str().unwrap()]);
    }
    let text = std::fs::read(a.join("mail.log")).unwrap();
    assert_eq!(text, std::fs::read(b.join("mail.log")).unwrap());
    // quickstart.toml gives no start: Monday 6 January 2025, midnight UTC.
    assert!(text.starts_with(b"Jan  6 00:00:00 mta1 postfix/smtpd["));
}

#[test]
fn a_refused_submission_is_logged_with_the_reply_the_relay_gave() {
    let out = out_dir("maillog-refused-submission");
    let log = out.join("mail.log");
    let scenario = format!(
        "{}/../../scenarios/stories/wrong-password.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let status = Command::new(env!("CARGO_BIN_EXE_smtpsim"))
        .args(["run", &scenario, "--quiet", "--no-report", "--out"])
        .arg(&out)
        .arg("--maillog")
        .arg(&log)
        .status()
        .expect("smtpsim runs");
    assert!(status.success());
    let text = std::fs::read_to_string(&log).unwrap();
    let messages = std::fs::read_to_string(out.join("messages.csv")).unwrap();
    let header: Vec<&str> = messages.lines().next().unwrap().split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (recipient, outcome) = (column("recipient"), column("outcome"));
    let (code, enhanced) = (column("last_reply_code"), column("last_enhanced_code"));
    let mut refused = 0;
    for row in messages.lines().skip(1) {
        let fields: Vec<&str> = row.split(',').collect();
        if fields[outcome] != "rejected_at_submission" {
            continue;
        }
        refused += 1;
        let reply = format!("{} {}", fields[code], fields[enhanced]);
        assert_eq!(reply, "535 5.7.8", "{row}");
        let to = format!("to=<{}>", fields[recipient]);
        let line = text
            .lines()
            .find(|l| l.contains("NOQUEUE: reject: ") && l.contains(&to))
            .unwrap_or_else(|| panic!("no reject line for {to} in\n{text}"));
        assert!(
            line.contains(&format!("from localhost[127.0.0.1]: {reply} ")),
            "{line}"
        );
    }
    assert!(refused > 0, "{messages}");
    assert!(!text.contains("Relay access denied"), "{text}");
}

#[test]
fn the_interval_log_holds_every_delivered_latency() {
    let out = out_dir("maillog-hdr");
    let log = out.join("latency.hlog");
    run(&out, &["--hdr-log", log.to_str().unwrap()]);
    let bytes = std::fs::read(&log).unwrap();
    let mut merged: Histogram<u64> = Histogram::new(3).unwrap();
    let mut intervals = 0;
    let mut previous = None;
    for entry in IntervalLogIterator::new(&bytes) {
        match entry.expect("a valid interval log") {
            LogEntry::StartTime(t) | LogEntry::BaseTime(t) => {
                assert_eq!(t.as_secs(), 1_736_121_600);
            }
            LogEntry::Interval(interval) => {
                intervals += 1;
                assert_eq!(interval.tag().unwrap().as_str(), "latency");
                assert!(previous.is_none_or(|p| p <= interval.start_timestamp()));
                previous = Some(interval.start_timestamp());
                let encoded = base64_decode(interval.encoded_histogram());
                let h: Histogram<u64> = Deserializer::new()
                    .deserialize(&mut encoded.as_slice())
                    .unwrap();
                merged.add(&h).unwrap();
            }
        }
    }
    assert!(intervals > 10);
    let s = summary(&out);
    assert_eq!(merged.len(), s["latency"]["count"].as_u64().unwrap());
    let p99 = merged.value_at_quantile(0.99) as f64 / 1e6;
    assert_eq!(p99, s["latency"]["p99_s"].as_f64().unwrap());
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}
