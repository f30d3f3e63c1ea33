//! `smtpsim walk` run as a real process: every bundled story's text and JSON output checked
//! against golden files (`UPDATE_GOLDEN=1` rewrites them), `--step`, and the errors.

use crate::support;

use std::process::Command;
use support::{golden, piped};

const STORIES: [&str; 10] = [
    "transactional",
    "greylisted",
    "unknown-user",
    "dmarc-reject",
    "spam-unsigned",
    "rate-limited",
    "wrong-password",
    "mailbox-full",
    "secondary-mx",
    "queue-expired",
];

#[test]
fn every_story_as_text_matches_its_golden_file() {
    for story in STORIES {
        let (code, out, err) = piped(&["walk", "--story", story], "");
        assert_eq!(code, 0, "{story}: {err}");
        assert!(
            !out.contains('\u{1b}'),
            "{story}: no colour when not a terminal"
        );
        golden(&format!("walk/{story}.txt"), &out);
    }
}

#[test]
fn every_story_as_json_matches_its_golden_file() {
    for story in STORIES {
        let (code, out, err) = piped(&["walk", "--story", story, "--format", "json"], "");
        assert_eq!(code, 0, "{story}: {err}");
        let json: serde_json::Value = serde_json::from_str(&out).unwrap();
        let steps = json["steps"].as_array().unwrap();
        assert!(!steps.is_empty());
        for (i, step) in steps.iter().enumerate() {
            assert_eq!(step["number"], i + 1);
        }
        assert_eq!(
            json["places"],
            serde_json::json!(["app", "relay", "dns", "mx", "mailbox"])
        );
        golden(&format!("walk/{story}.json"), &out);
    }
}

#[test]
fn the_text_has_a_counter_a_clock_a_note_and_the_landing() {
    let (_, out, _) = piped(&["walk", "--story", "unknown-user"], "");
    assert!(
        out.starts_with("unknown-user: message 0 (seed 1), 11 steps\n"),
        "{out}"
    );
    assert!(
        out.contains("\n[3/11] t=0:00:00.000  App -> SMTP relay  "),
        "{out}"
    );
    // Lines of an attempt carry the time they were said, as the steps do: the refusal a round
    // trip and the server's latency after the RCPT went out.
    assert!(out.contains("\n  0:00:00.250 C: RCPT TO:<"), "{out}");
    assert!(out.contains("\n  0:00:00.300 S: 550 5.1.1 "), "{out}");
    assert!(out.contains("  Why: "), "{out}");
    assert!(out.contains("Where it landed\n  user"), "{out}");
    assert!(out.contains(": bounced after "), "{out}");
    assert!(out.contains("a bounce notice went back to orders@shop.example"));
    let (_, out, _) = piped(&["walk", "--story", "dmarc-reject"], "");
    assert!(out.contains("Verdicts\n  SPF    fail      smtp.mailfrom=bank.example\n"));
    assert!(out.contains("  DMARC  fail      header.from=bank.example\n"));
}

#[test]
fn colour_is_forced_only_when_asked() {
    let out = Command::new(env!("CARGO_BIN_EXE_smtpsim"))
        .args(["walk", "--story", "greylisted"])
        .env("CLICOLOR_FORCE", "1")
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("\u{1b}[33mS: 451 4.7.1"), "the 4xx in yellow");
}

#[test]
fn step_mode_waits_for_enter_between_steps() {
    let (_, plain, _) = piped(&["walk", "--story", "transactional"], "");
    let enters = "\n".repeat(20);
    let (code, out, err) = piped(&["walk", "--story", "transactional", "--step"], &enters);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, plain, "the same steps");
    let total = plain.matches("\n[").count();
    assert!(out.contains(&format!("\n[{total}/{total}] t=")), "{out}");
    let prompts: Vec<String> = (1..total)
        .map(|shown| format!("[{shown}/{total}] Enter for the next step, q to quit"))
        .collect();
    assert_eq!(err.lines().collect::<Vec<_>>(), prompts);
    // When the input ends, the rest follows without waiting.
    let (code, out, err) = piped(&["walk", "--story", "transactional", "--step"], "\n\n");
    assert_eq!(code, 0);
    assert_eq!(out, plain);
    assert_eq!(err.lines().collect::<Vec<_>>(), prompts[..3]);
}

#[test]
fn step_mode_quits_on_q() {
    let (_, plain, _) = piped(&["walk", "--story", "transactional"], "");
    let total = plain.matches("\n[").count();
    let (code, out, err) = piped(
        &["walk", "--story", "transactional", "--step"],
        "\n\n q \n\n\n",
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("\n[3/{total}] t=")), "{out}");
    assert!(!out.contains(&format!("\n[4/{total}] t=")), "{out}");
    assert!(
        plain.starts_with(&out),
        "the first three steps, then nothing"
    );
    assert!(
        err.ends_with(&format!("[3/{total}] Enter for the next step, q to quit\n")),
        "{err}"
    );
    let (code, out, _) = piped(&["walk", "--story", "transactional", "--step"], "QUIT\n");
    assert_eq!(code, 0);
    assert!(!out.contains(&format!("\n[2/{total}] t=")), "{out}");
    let (_, help, _) = piped(&["walk", "--help"], "");
    assert!(help.contains("q then Enter quits"), "{help}");
}

#[test]
fn a_scenario_file_and_a_message_number() {
    let scenario = format!(
        "{}/../../scenarios/greylisting.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let (code, out, err) = piped(
        &["walk", &scenario, "--message", "7", "--format", "json"],
        "",
    );
    assert_eq!(code, 0, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["scenario"], "greylisting");
    assert_eq!(json["message"], 7);
    assert!(!json["landed"].as_array().unwrap().is_empty());
}

#[test]
fn mistakes_are_explained() {
    let (code, _, err) = piped(&["walk", "--story", "nope"], "");
    assert_eq!(code, 2);
    assert!(err.contains("there is no story \"nope\"; the stories are: transactional, "));
    let (code, _, err) = piped(&["walk", "--story", "greylisted", "--message", "9"], "");
    assert_eq!(code, 2);
    assert!(
        err.contains("there is no message 9: the run has 1"),
        "{err}"
    );
    let (code, _, err) = piped(&["walk"], "");
    assert_eq!(code, 2);
    assert!(err.contains("--story"), "{err}");
    let (code, _, err) = piped(&["walk", "missing.toml"], "");
    assert_eq!(code, 2);
    assert!(err.contains("missing.toml: cannot read"), "{err}");
    let (code, _, err) = piped(&["walk", "--story", "greylisted", "--format", "xml"], "");
    assert_eq!(code, 2);
    assert!(err.contains("xml"), "{err}");
    let (code, _, err) = piped(
        &[
            "walk",
            "--story",
            "greylisted",
            "--step",
            "--format",
            "json",
        ],
        "",
    );
    assert_eq!(code, 2);
    assert!(err.contains("--step"), "{err}");
    let (code, _, err) = piped(
        &[
            "walk",
            "--story",
            "greylisted",
            "--format",
            "json",
            "--html",
            "x.html",
        ],
        "",
    );
    assert_eq!(code, 2, "{err}");
    let (code, out, _) = piped(&["walk", "--help"], "");
    assert_eq!(code, 0);
    for story in STORIES {
        assert!(out.contains(story), "--help lists {story}");
    }
}

#[test]
fn a_story_runs_with_smtpsim_run_and_its_bounce_notice_is_traced() {
    let dir = std::env::temp_dir().join(format!("smtpsim-walk-run-{}", std::process::id()));
    let story = format!(
        "{}/../../scenarios/stories/unknown-user.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let out_dir = dir.to_str().unwrap();
    let (code, out, err) = piped(
        &["run", &story, "--trace", "message:0", "--out", out_dir],
        "",
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("bounce notices: 1"), "{out}");
    let summary = std::fs::read_to_string(dir.join("summary.csv")).unwrap();
    assert!(summary.contains("run,bounce_notices,1\n"), "{summary}");
    let events = std::fs::read_to_string(dir.join("events.csv")).unwrap();
    assert!(
        events.contains(",0,1,relay-sender,C,MAIL FROM:<> SIZE="),
        "{events}"
    );
    assert!(events.contains(",0,1,relay-sender,C,RCPT TO:<orders@shop.example>"));
    std::fs::remove_dir_all(&dir).unwrap();
}
