//! `smtpsim maillog`: the log `run --maillog` writes, read back into the run's figures; the
//! same log rotated and compressed, and spoiled with malformed lines.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn out_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn smtpsim(args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_smtpsim"))
        .args(args)
        .output()
        .expect("smtpsim runs");
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A quickstart run of 3000 messages with its mail log in `dir/run/mail.log`.
fn simulated(dir: &Path) -> PathBuf {
    let scenario = format!(
        "{}/../../scenarios/quickstart.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let run = dir.join("run");
    let log = run.join("mail.log");
    smtpsim(&[
        "run",
        &scenario,
        "--messages",
        "3000",
        "--quiet",
        "--no-report",
        "--out",
        run.to_str().unwrap(),
        "--maillog",
        log.to_str().unwrap(),
    ]);
    log
}

fn import(files: &[&Path], out: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["maillog", "--quiet", "--out", out.to_str().unwrap()];
    args.extend(files.iter().map(|f| f.to_str().unwrap()));
    args.extend(extra);
    smtpsim(&args);
    json(&out.join("summary.json"))
}

/// The summary without its wall-clock figures.
fn figures(mut summary: Value) -> Value {
    summary.as_object_mut().unwrap().remove("performance");
    summary
}

#[test]
fn the_import_counts_what_the_run_counted() {
    let dir = out_dir("import-counts");
    let log = simulated(&dir);
    let imported = import(&[&log], &dir.join("import"), &["--no-report"]);
    let run = json(&dir.join("run/summary.json"));
    // A log cannot tell the spam folder: the run's spam is the import's inbox.
    let mut outcomes = run["outcomes"].clone();
    let delivered = outcomes["inbox"].as_u64().unwrap() + outcomes["spam"].as_u64().unwrap();
    outcomes["inbox"] = delivered.into();
    outcomes["spam"] = 0.into();
    assert!(run["outcomes"]["spam"].as_u64().unwrap() > 0);
    assert_eq!(imported["outcomes"], outcomes);
    for key in ["messages", "recipients"] {
        assert_eq!(imported["run"][key], run["run"][key], "{key}");
    }
    // Recipients by attempts: the same for all who ended within two attempts.
    for attempts in ["0", "1", "2"] {
        assert_eq!(imported["attempts"][attempts], run["attempts"][attempts]);
    }
    assert!(run["attempts"]["0"].as_u64().unwrap() > 0);
    // Latencies from the log's `delay=` (hundredths, whole seconds above 10 s).
    for key in ["p50_s", "p90_s"] {
        let (a, b) = (
            imported["latency"][key].as_f64().unwrap(),
            run["latency"][key].as_f64().unwrap(),
        );
        assert!((a - b).abs() <= 0.01 + b * 0.002, "{key}: {a} vs {b}");
    }
    assert_eq!(imported["latency"]["count"], run["latency"]["count"]);
    assert_eq!(
        imported["failures"]["by_reply_code"]["550"],
        run["failures"]["by_reply_code"]["550"]
    );
    let counts = json(&dir.join("import/import.json"));
    assert_eq!(counts["malformed_lines"], 0);
    assert_eq!(counts["open_at_end"], 0);
    let header = std::fs::read_to_string(dir.join("import/messages.csv")).unwrap();
    assert!(header.starts_with("message_id,recipient,domain,submitted_s,"));
    assert!(header.lines().next().unwrap().ends_with(",queue_id,relay"));
    assert_eq!(
        header.lines().count() as u64,
        run["run"]["recipients"].as_u64().unwrap() + 1
    );
}

/// The number before `label` on a line of pflogsumm's "Grand Totals".
fn pflogsumm_total(report: &str, label: &str) -> u64 {
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
fn the_import_agrees_with_pflogsumm() {
    let dir = out_dir("import-pflogsumm");
    let log = simulated(&dir);
    let imported = import(&[&log], &dir.join("import"), &["--no-report"]);
    let report = Command::new("pflogsumm")
        .arg(&log)
        .output()
        .expect("pflogsumm is installed (Debian package pflogsumm)");
    let report = String::from_utf8(report.stdout).unwrap();
    let outcome = |k: &str| imported["outcomes"][k].as_u64().unwrap();
    assert_eq!(pflogsumm_total(&report, "delivered"), outcome("inbox"));
    assert_eq!(pflogsumm_total(&report, "bounced"), outcome("bounced"));
    assert_eq!(
        pflogsumm_total(&report, "rejected"),
        outcome("rejected_at_submission")
    );
    let counts = json(&dir.join("import/import.json"));
    assert_eq!(
        pflogsumm_total(&report, "received"),
        counts["messages"].as_u64().unwrap()
    );
    // pflogsumm's deferrals are the last value of the deferral running total.
    let timeseries = std::fs::read_to_string(dir.join("import/timeseries.csv")).unwrap();
    let last = timeseries.lines().last().unwrap();
    let deferrals: u64 = last.split(',').nth(5).unwrap().parse().unwrap();
    let line = report.lines().find(|l| l.contains(" deferred")).unwrap();
    let counted: u64 = line
        .split('(')
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert_eq!(counted, deferrals, "{line}");
}

fn gzip(path: &Path, text: &str) {
    let file = std::fs::File::create(path).unwrap();
    let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
    gz.write_all(text.as_bytes()).unwrap();
    gz.finish().unwrap();
}

#[test]
fn rotated_and_compressed_files_read_as_the_whole_log() {
    let dir = out_dir("import-rotated");
    let log = simulated(&dir);
    let whole = import(&[&log], &dir.join("whole"), &["--no-report"]);
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let third = lines.len() / 3;
    let part = |range: std::ops::Range<usize>| lines[range].join("\n") + "\n";
    let rotated = dir.join("rotated");
    std::fs::create_dir_all(&rotated).unwrap();
    let (oldest, older, newest) = (
        rotated.join("mail.log.2.gz"),
        rotated.join("mail.log.1"),
        rotated.join("mail.log"),
    );
    gzip(&oldest, &part(0..third));
    std::fs::write(&older, part(third..2 * third)).unwrap();
    std::fs::write(&newest, part(2 * third..lines.len())).unwrap();
    // Given newest first: read oldest first all the same.
    let pieces = import(
        &[&newest, &older, &oldest],
        &dir.join("pieces"),
        &["--no-report"],
    );
    assert_eq!(figures(pieces), figures(whole));
    let a = std::fs::read(dir.join("whole/messages.csv")).unwrap();
    let b = std::fs::read(dir.join("pieces/messages.csv")).unwrap();
    assert!(a == b, "messages.csv differs");
}

#[test]
fn malformed_truncated_and_foreign_lines_are_counted_not_fatal() {
    let dir = out_dir("import-malformed");
    let log = simulated(&dir);
    let clean = import(&[&log], &dir.join("clean"), &["--no-report"]);
    let text = std::fs::read_to_string(&log).unwrap();
    let mut spoiled = String::new();
    for (i, line) in text.lines().enumerate() {
        spoiled.push_str(line);
        spoiled.push('\n');
        if i % 500 == 7 {
            spoiled.push_str("Jan  6 00:00:01 relay dovecot[12]: imap-login: Login: user=<ann>\n");
            spoiled.push_str("garbage without a timestamp\n");
            spoiled.push_str(
                "Jan  6 00:00:01 relay postfix/smtp[9]: 0123456789AB: to=<x@y>, relay=no\n",
            );
        }
    }
    // A file that breaks off in the middle of a line, and a gzip file cut short.
    spoiled.push_str("Jan  6 00:00:01 rel");
    let spoiled_path = dir.join("spoiled.log");
    std::fs::write(&spoiled_path, &spoiled).unwrap();
    let broken = dir.join("broken.log.gz");
    gzip(&broken, &text[..2000]);
    let bytes = std::fs::read(&broken).unwrap();
    std::fs::write(&broken, &bytes[..bytes.len() / 2]).unwrap();
    let out = dir.join("spoiled");
    let output = smtpsim(&[
        "maillog",
        "--no-report",
        "--out",
        out.to_str().unwrap(),
        spoiled_path.to_str().unwrap(),
        broken.to_str().unwrap(),
    ]);
    let counts = json(&out.join("import.json"));
    let inserted = text
        .lines()
        .enumerate()
        .filter(|(i, _)| i % 500 == 7)
        .count() as u64;
    assert_eq!(counts["other_lines"].as_u64().unwrap(), inserted);
    assert_eq!(
        counts["malformed_lines"].as_u64().unwrap(),
        2 * inserted + 1
    );
    assert_eq!(counts["malformed_examples"].as_array().unwrap().len(), 10);
    assert_eq!(counts["broken_files"].as_array().unwrap().len(), 1);
    let printed = String::from_utf8(output.stdout).unwrap();
    assert!(
        printed.contains(&format!("{} malformed", 2 * inserted + 1)),
        "{printed}"
    );
    // The cut gzip file comes after the spoiled log (neither has a rotation number); its few
    // lines settle no recipient.
    let spoiled = json(&out.join("summary.json"));
    assert_eq!(spoiled["outcomes"], clean["outcomes"]);
}

#[test]
fn memory_is_bounded_by_max_open() {
    let dir = out_dir("import-max-open");
    let log = simulated(&dir);
    let out = dir.join("import");
    import(&[&log], &out, &["--no-report", "--max-open", "3"]);
    let counts = json(&out.join("import.json"));
    assert!(counts["peak_open"].as_u64().unwrap() <= 4);
    assert!(counts["evicted_messages"].as_u64().unwrap() > 0);
}

#[test]
fn the_report_of_an_import_speaks_of_a_log() {
    let dir = out_dir("import-report");
    let log = simulated(&dir);
    let out = dir.join("import");
    import(&[&log], &out, &[]);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("smtpsim maillog: import"));
    assert!(html.contains("peak queue depth (messages)"));
    assert!(html.contains("hours since the log"));
    assert!(!html.contains("simulated time"));
}
