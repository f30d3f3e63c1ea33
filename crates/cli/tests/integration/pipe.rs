//! Output into a pipe whose reader has gone (`smtpsim codes | head -1`): the command ends
//! quietly, without a panic or an error message.

use crate::support::{out_dir, scenario};

use std::process::{Command, Stdio};

/// Runs `smtpsim ARGS` with stdout a pipe that nobody reads: exit code and stderr.
fn into_closed_pipe(args: &[&str]) -> (Option<i32>, String) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_smtpsim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn commands_end_quietly_when_the_reader_has_gone() {
    let dir = out_dir("closed-pipe-run");
    let commands: [&[&str]; 5] = [
        &["codes"],
        &["explain", "451", "5.7.1"],
        &["walk", "--story", "greylisted"],
        &["walk", "--story", "greylisted", "--format", "json"],
        &[
            "run",
            &scenario("quickstart.toml"),
            "--messages",
            "100",
            "--no-report",
            "--out",
            dir.to_str().unwrap(),
        ],
    ];
    for args in commands {
        let (code, stderr) = into_closed_pipe(args);
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
        assert_eq!(stderr, "", "{args:?}");
    }
    assert!(dir.join("summary.json").exists());
}
