//! `--no-report` into a folder that holds the report of an earlier output: the old charts
//! and report.html are removed, since they describe another run; other files stay.

use crate::support::{out_dir, scenario, smtpsim};

use std::path::Path;

fn run(dir: &Path, extra: &[&str]) {
    let mut args = vec![
        "run".to_string(),
        scenario("quickstart.toml"),
        "--messages".into(),
        "200".into(),
        "--out".into(),
        dir.to_str().unwrap().into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let (code, _, err) = smtpsim(&args);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn run_without_a_report_removes_the_old_one() {
    let dir = out_dir("no-report-run");
    run(&dir, &[]);
    assert!(dir.join("report.html").is_file());
    assert!(dir.join("charts").read_dir().unwrap().next().is_some());
    run(&dir, &["--no-report", "--seed", "7"]);
    assert!(!dir.join("report.html").exists());
    assert!(!dir.join("charts").exists());
    assert!(dir.join("summary.json").is_file());
}

#[test]
fn sweep_without_a_report_removes_the_old_one_and_keeps_other_charts() {
    let dir = out_dir("no-report-sweep");
    let file = scenario("quickstart.toml");
    let sweep = |extra: &[&str]| {
        let mut args = vec![
            "sweep",
            file.as_str(),
            "--replications",
            "2",
            "--messages",
            "100",
            "--out",
            dir.to_str().unwrap(),
        ];
        args.extend(extra);
        let (code, _, err) = smtpsim(&args);
        assert_eq!(code, 0, "{err}");
    };
    sweep(&[]);
    assert!(dir.join("report.html").is_file());
    std::fs::write(dir.join("charts").join("mine.png"), "not a chart of ours").unwrap();
    sweep(&["--no-report"]);
    assert!(!dir.join("report.html").exists());
    let left: Vec<_> = std::fs::read_dir(dir.join("charts"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(left, ["mine.png"]);
}
