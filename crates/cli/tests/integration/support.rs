//! What the tests of the `smtpsim` commands share: running the binary (with or without
//! input), golden files, naming a bundled scenario, a fresh output folder.

#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Runs `smtpsim ARGS` from the crate's folder: the exit code, stdout and stderr.
pub fn smtpsim<S: AsRef<OsStr>>(args: &[S]) -> (i32, String, String) {
    let out = command(args).output().expect("smtpsim runs");
    outcome(out)
}

/// Runs `smtpsim ARGS` with `input` on its standard input (not a terminal, so no colour
/// unless forced, and `CLICOLOR_FORCE` is cleared).
pub fn piped<S: AsRef<OsStr>>(args: &[S], input: &str) -> (i32, String, String) {
    let mut child = command(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("smtpsim runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    outcome(child.wait_with_output().unwrap())
}

fn command<S: AsRef<OsStr>>(args: &[S]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_smtpsim"));
    command
        .args(args)
        .env_remove("CLICOLOR_FORCE")
        // A fixed start time in the provenance, so that outputs compare byte for byte.
        .env("SMTPSIM_START_TIME", "2026-01-01T00:00:00Z")
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    command
}

fn outcome(out: Output) -> (i32, String, String) {
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Checks `actual` against `tests/golden/NAME`; with `UPDATE_GOLDEN=1` in the environment,
/// writes it there first.
pub fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).expect("golden file (UPDATE_GOLDEN=1 writes it)");
    assert_eq!(actual, expected, "output differs from {}", path.display());
}

/// The path of a bundled scenario, `name` relative to `scenarios/`.
pub fn scenario(name: &str) -> String {
    format!("{}/../../scenarios/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A sweep of `greylisting.toml` with its report into `out`: 3 × 2 points, 3 replications
/// of 150 messages.
pub fn greylisting_sweep(out: &Path) {
    let (code, _, err) = smtpsim(&[
        "sweep",
        &scenario("greylisting.toml"),
        "--set",
        "relay.retry.initial=60s,240s,600s",
        "--set",
        "relay.retry.multiplier=1.5,2",
        "--replications",
        "3",
        "--messages",
        "150",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
}

/// An empty output folder `name` under the test target's temporary folder.
pub fn out_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The bytes of an output file with its provenance left out (the command line names the
/// output folder and `--jobs`, which differ between outputs that must otherwise be equal):
/// the `provenance` rows of `summary.csv`, the `provenance` member of a JSON file.
pub fn without_provenance(file: &str, bytes: &[u8]) -> Vec<u8> {
    if file.ends_with(".json") {
        let mut value: serde_json::Value = serde_json::from_slice(bytes).expect("valid JSON");
        let object = value.as_object_mut().expect("a JSON object");
        assert!(
            object.remove("provenance").is_some(),
            "{file} has a provenance"
        );
        return serde_json::to_vec_pretty(&value).unwrap();
    }
    let text = String::from_utf8(bytes.to_vec()).expect("UTF-8");
    text.lines()
        .filter(|l| !l.starts_with("provenance,"))
        .flat_map(|l| [l, "\n"])
        .collect::<String>()
        .into_bytes()
}
