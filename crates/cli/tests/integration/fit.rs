//! `smtpsim fit`: a scenario fitted from the log `run --maillog` writes gives back the values
//! that made the log, and a run of it agrees with the log (`smtpsim compare --check`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn out_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn smtpsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_smtpsim"))
        .args(args)
        .output()
        .expect("smtpsim runs")
}

fn ok(args: &[&str]) -> String {
    let out = smtpsim(args);
    assert!(
        out.status.success(),
        "{args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Greylisting for 25 s, 20 % random deferrals, 5 % unknown users at one domain, none at the
/// other; the postfix policy at 10 s / 10 s / 80 s.
const ORIGINAL: &str = r#"
[simulation]
name = "original"
duration = "400s"
seed = SEED

[[senders]]
name = "app"
domain = "app.example"
arrivals = { process = "poisson", rate = "5/s" }
to = [{ domain = "grey.example", weight = 3 }, { domain = "plain.example", weight = 1 }]

[relay]
queue_lifetime = "10m"
retry = { policy = "postfix", queue_run_delay = "10s", minimal_backoff = "10s", maximal_backoff = "80s" }

[[domains]]
name = "grey.example"
mx = [{ host = "mx.grey.example" }]
behaviour = { greylisting = { delay = "25s" }, temp_failures = 0.2, unknown_users = 0.05 }

[[domains]]
name = "plain.example"
mx = [{ host = "mx.plain.example" }]
behaviour = { temp_failures = 0.1 }
"#;

/// The value of `key = ...` on the fitted line that contains `key`, as text.
fn value<'a>(toml: &'a str, line_with: &str, key: &str) -> &'a str {
    let line = toml
        .lines()
        .find(|l| !l.starts_with('#') && l.contains(line_with))
        .unwrap_or_else(|| panic!("no line with {line_with} in\n{toml}"));
    let start = line.find(&format!("{key} = ")).unwrap() + key.len() + 3;
    let rest = &line[start..];
    let end = rest.find([',', ' ', '}']).unwrap_or(rest.len());
    rest[..end].trim_matches('"')
}

fn secs(text: &str) -> f64 {
    text.trim_end_matches('s').parse().unwrap()
}

#[test]
fn a_fitted_scenario_gives_back_its_values_and_reproduces_the_log() {
    for seed in [1, 2, 3] {
        let dir = out_dir(&format!("fit-{seed}"));
        let original = dir.join("original.toml");
        std::fs::write(&original, ORIGINAL.replace("SEED", &seed.to_string())).unwrap();
        let log = dir.join("mail.log");
        let p = |p: &Path| p.to_str().unwrap().to_owned();
        let run_a = dir.join("a");
        ok(&[
            "run",
            &p(&original),
            "--out",
            &p(&run_a),
            "--maillog",
            &p(&log),
            "-q",
            "--no-report",
        ]);
        let fitted = dir.join("fitted.toml");
        ok(&["fit", &p(&log), "--out", &p(&fitted), "-q"]);
        let toml = std::fs::read_to_string(&fitted).unwrap();
        // Every fitted value says where it came from.
        assert!(toml.contains("from 1"), "{toml}");
        let retry = |key| secs(value(&toml, "policy = \"postfix\"", key));
        assert_eq!(retry("queue_run_delay"), 10.0, "{toml}");
        assert_eq!(retry("minimal_backoff"), 10.0, "{toml}");
        // Clamped waits come a whole number of runs after a failure: 80 s is the only
        // multiple of 10 that retries as 80 s does.
        assert_eq!(retry("maximal_backoff"), 80.0, "{toml}");
        let grey = secs(value(&toml, "greylisting", "delay"));
        assert!(
            (21.0..=30.0).contains(&grey),
            "greylisting {grey} s\n{toml}"
        );
        let temp: f64 = value(&toml, "greylisting", "temp_failures")
            .parse()
            .unwrap();
        assert!((temp - 0.2).abs() < 0.04, "temp_failures {temp}\n{toml}");
        let unknown: f64 = value(&toml, "greylisting", "unknown_users")
            .parse()
            .unwrap();
        assert!(
            (unknown - 0.05).abs() < 0.025,
            "unknown_users {unknown}\n{toml}"
        );
        let plain = &toml[toml.find("name = \"plain.example\"").unwrap()..];
        let plain_temp: f64 = value(plain, "behaviour", "temp_failures").parse().unwrap();
        assert!(
            (plain_temp - 0.1).abs() < 0.04,
            "plain {plain_temp}\n{toml}"
        );
        assert!(
            !plain.contains("greylisting ="),
            "plain.example does not greylist\n{toml}"
        );
        // The fitted scenario, run with another seed, agrees with the log it came from.
        let imported = dir.join("imported");
        ok(&[
            "maillog",
            &p(&log),
            "--out",
            &p(&imported),
            "-q",
            "--no-report",
        ]);
        // Both sides are read through their logs: the log rounds latencies of 10 s and more
        // to whole seconds, which alone would part the distributions.
        let run_b = dir.join("b");
        let log_b = dir.join("fitted.log");
        ok(&[
            "run",
            &p(&fitted),
            "--seed",
            &(seed + 100).to_string(),
            "--out",
            &p(&run_b),
            "--maillog",
            &p(&log_b),
            "-q",
            "--no-report",
        ]);
        let imported_b = dir.join("imported-b");
        ok(&[
            "maillog",
            &p(&log_b),
            "--out",
            &p(&imported_b),
            "-q",
            "--no-report",
        ]);
        let compared = smtpsim(&[
            "compare",
            &p(&imported),
            &p(&imported_b),
            "--out",
            &p(&dir.join("compare")),
            "--no-report",
            "--check",
        ]);
        assert!(
            compared.status.success(),
            "seed {seed}: the fitted run disagrees with the log\n{}\n{toml}",
            String::from_utf8_lossy(&compared.stdout)
        );
    }
}

#[test]
fn a_log_without_deliveries_is_refused_with_a_reason() {
    let dir = out_dir("fit-empty");
    let log = dir.join("mail.log");
    std::fs::write(&log, "Dec  5 03:10:13 mx dovecot: imap-login: Login\n").unwrap();
    let out = smtpsim(&[
        "fit",
        log.to_str().unwrap(),
        "--out",
        dir.join("s.toml").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no message with a delivery attempt"), "{err}");
    assert!(!dir.join("s.toml").exists());
}

/// The header's counts: "N messages (K bounce notifications and U unsettled ...".
fn header_counts(toml: &str) -> (u64, u64, u64) {
    let header = toml.lines().next().unwrap();
    let number_before = |word: &str| -> u64 {
        let at = header
            .find(word)
            .unwrap_or_else(|| panic!("{word} in {header}"));
        let words: Vec<&str> = header[..at].split_whitespace().collect();
        words
            .last()
            .unwrap()
            .trim_start_matches('(')
            .parse()
            .unwrap()
    };
    (
        number_before(" messages ("),
        number_before(" bounce notifications"),
        number_before(" unsettled"),
    )
}

#[test]
fn the_bounce_notices_of_a_run_log_are_counted_once_each() {
    let dir = out_dir("fit-notices");
    let original = dir.join("original.toml");
    std::fs::write(&original, ORIGINAL.replace("SEED", "4")).unwrap();
    let log = dir.join("mail.log");
    let p = |p: &Path| p.to_str().unwrap().to_owned();
    ok(&[
        "run",
        &p(&original),
        "--out",
        &p(&dir.join("run")),
        "--maillog",
        &p(&log),
        "-q",
        "--no-report",
    ]);
    let text = std::fs::read_to_string(&log).unwrap();
    let notices = text.matches("sender non-delivery notification").count() as u64;
    let removed = text.matches(": removed").count() as u64;
    // 5 % unknown users at three quarters of about 2,000 messages.
    assert!(notices > 30, "{notices} notices");
    let fitted = dir.join("fitted.toml");
    ok(&["fit", &p(&log), "--out", &p(&fitted), "-q"]);
    let toml = std::fs::read_to_string(&fitted).unwrap();
    let (messages, counted, unsettled) = header_counts(&toml);
    assert_eq!(counted, notices, "{}", toml.lines().next().unwrap());
    // Every message of the run left the queue within its lifetime: none unsettled, and no
    // notice counted as a message.
    assert_eq!(
        (messages, unsettled),
        (removed, 0),
        "{}",
        toml.lines().next().unwrap()
    );
}

/// In Postfix's own log the notification is a message with its own lines (`from=<>`): it is
/// one notice, not a message and not a second notice.
#[test]
fn a_postfix_notification_with_its_own_lines_is_one_notice() {
    let dir = out_dir("fit-postfix-notice");
    let log = dir.join("mail.log");
    std::fs::write(
        &log,
        "\
Dec  5 03:10:13 mx postfix/qmgr[10]: AAA111: from=<app@a.example>, size=300, nrcpt=1 (queue active)
Dec  5 03:10:13 mx postfix/smtp[11]: AAA111: to=<x@b.example>, relay=mx.b.example[192.0.2.1]:25, delay=0.2, delays=0.1/0/0.05/0.05, dsn=5.1.1, status=bounced (host mx.b.example[192.0.2.1] said: 550 5.1.1 no such user (in reply to RCPT TO command))
Dec  5 03:10:13 mx postfix/cleanup[12]: BBB222: message-id=<n@mx>
Dec  5 03:10:13 mx postfix/bounce[13]: AAA111: sender non-delivery notification: BBB222
Dec  5 03:10:13 mx postfix/qmgr[10]: BBB222: from=<>, size=2000, nrcpt=1 (queue active)
Dec  5 03:10:13 mx postfix/qmgr[10]: AAA111: removed
Dec  5 03:10:14 mx postfix/smtp[11]: BBB222: to=<app@a.example>, relay=mx.a.example[192.0.2.2]:25, delay=0.3, delays=0.1/0/0.1/0.1, dsn=2.0.0, status=sent (250 2.0.0 Ok)
Dec  5 03:10:14 mx postfix/qmgr[10]: BBB222: removed
Dec  5 03:10:20 mx postfix/qmgr[10]: CCC333: from=<app@a.example>, size=300, nrcpt=1 (queue active)
Dec  5 03:10:20 mx postfix/smtp[11]: CCC333: to=<y@b.example>, relay=mx.b.example[192.0.2.1]:25, delay=0.2, delays=0.1/0/0.05/0.05, dsn=2.0.0, status=sent (250 2.0.0 Ok)
Dec  5 03:10:20 mx postfix/qmgr[10]: CCC333: removed
",
    )
    .unwrap();
    let fitted = dir.join("fitted.toml");
    ok(&[
        "fit",
        log.to_str().unwrap(),
        "--out",
        fitted.to_str().unwrap(),
        "-q",
    ]);
    let toml = std::fs::read_to_string(&fitted).unwrap();
    assert_eq!(header_counts(&toml), (2, 1, 0), "{toml}");
}
