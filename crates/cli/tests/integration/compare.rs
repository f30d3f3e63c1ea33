//! `smtpsim compare`: two runs of one scenario with different seeds agree; runs of different
//! scenarios do not, and `--check` says so with its exit status.

use crate::support;

use std::path::Path;
use support::{out_dir, scenario, smtpsim};

fn run(file: &str, seed: &str, out: &Path) {
    let (code, _, err) = smtpsim(&[
        "run",
        &scenario(file),
        "--messages",
        "3000",
        "--seed",
        seed,
        "--quiet",
        "--no-report",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
}

fn compare(a: &Path, b: &Path, out: &Path) -> (i32, String, serde_json::Value) {
    let (code, stdout, err) = smtpsim(&[
        "compare",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--check",
    ]);
    assert!(code == 0 || code == 1, "{err}");
    let json = std::fs::read_to_string(out.join("compare.json")).unwrap();
    (code, stdout, serde_json::from_str(&json).unwrap())
}

#[test]
fn two_seeds_of_one_scenario_agree_and_two_scenarios_do_not() {
    let dir = out_dir("compare");
    let (a, b, c) = (dir.join("a"), dir.join("b"), dir.join("c"));
    run("quickstart.toml", "1", &a);
    run("quickstart.toml", "2", &b);
    run("greylisting.toml", "1", &c);

    let (code, stdout, json) = compare(&a, &b, &dir.join("ab"));
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(json["agree"], true);
    assert_eq!(json["alpha"], 0.01);
    assert!(json["ks"]["p_value"].as_f64().unwrap() >= 0.01);
    assert!(json["chi_square"]["p_value"].as_f64().unwrap() >= 0.01);
    assert!(stdout.contains("agree: no test has p < 0.01"), "{stdout}");
    let csv = std::fs::read_to_string(dir.join("ab/compare.csv")).unwrap();
    assert!(csv.starts_with("metric,a,a_low,a_high,b,b_low,b_high,statistic,p_value,agree\n"));
    for metric in [
        "rate.delivered",
        "latency.p50_s",
        "latency.ks",
        "attempts.chi_square",
    ] {
        assert!(csv.contains(&format!("\n{metric},")), "{metric}");
    }
    let html = std::fs::read_to_string(dir.join("ab/report.html")).unwrap();
    assert_eq!(html.matches("<svg").count(), 3);
    // The verdict names the significance level it was reached at.
    let (code, stdout, _) = smtpsim(&[
        "compare",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--out",
        dir.join("ab-strict").to_str().unwrap(),
        "--alpha",
        "0.001",
        "--no-report",
    ]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("agree: no test has p < 0.001"), "{stdout}");

    let (code, stdout, json) = compare(&a, &c, &dir.join("ac"));
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(json["agree"], false);
    let disagreements = json["disagreements"].as_array().unwrap();
    assert!(
        disagreements.iter().any(|d| d == "latency.ks"),
        "{disagreements:?}"
    );
    assert!(stdout.contains("disagree: "), "{stdout}");
}

#[test]
fn compare_refuses_a_folder_that_is_not_an_output() {
    let dir = out_dir("compare-bad");
    std::fs::create_dir_all(&dir).unwrap();
    let (code, _, err) = smtpsim(&[
        "compare",
        dir.to_str().unwrap(),
        dir.to_str().unwrap(),
        "--out",
        dir.join("out").to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("summary.json"), "{err}");
    for alpha in ["0", "1", "nan", "1.5"] {
        let (code, _, err) = smtpsim(&[
            "compare",
            dir.to_str().unwrap(),
            dir.to_str().unwrap(),
            "--out",
            dir.join("out").to_str().unwrap(),
            "--alpha",
            alpha,
        ]);
        assert_eq!(code, 2, "{alpha}");
        assert!(
            err.contains(&format!("above 0 and below 1, not {alpha}")),
            "{err}"
        );
    }
}
