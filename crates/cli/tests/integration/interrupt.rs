//! Stopped runs: SIGINT or SIGTERM during `run` or `sweep` removes the temporary files,
//! prints "interrupted" and exits 130; a later run removes temporary files that an earlier,
//! killed run left, and nothing else.

use crate::common::signal;
use crate::support::{out_dir, scenario, smtpsim};

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process that is killed if the test fails before it ends.
struct Running(Option<Child>);

impl Running {
    fn start(args: &[&str]) -> Running {
        let child = Command::new(env!("CARGO_BIN_EXE_smtpsim"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("smtpsim runs");
        Running(Some(child))
    }

    /// Sends `name`, waits for the end: exit code and stderr.
    fn stop(mut self, name: &str) -> (Option<i32>, String) {
        let child = self.0.take().unwrap();
        signal(&child, name);
        let out = child.wait_with_output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into(),
        )
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Every file under `dir`, at any depth, by its path relative to `dir`.
fn files(dir: &Path) -> Vec<String> {
    fn walk(dir: &Path, base: &Path, found: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, base, found);
            } else {
                let name = path.strip_prefix(base).unwrap();
                found.push(name.to_string_lossy().into_owned());
            }
        }
    }
    let mut found = Vec::new();
    walk(dir, dir, &mut found);
    found.sort();
    found
}

fn temporary(dir: &Path) -> Vec<String> {
    files(dir)
        .into_iter()
        .filter(|f| f.ends_with(".tmp"))
        .collect()
}

/// Waits until the run has opened its temporary files (it is then running, its signal
/// handler installed). Panics if none appear within a minute or the child ends first.
fn wait_for_temporary_files(run: &mut Running, dir: &Path) {
    let started = Instant::now();
    while temporary(dir).is_empty() {
        let child = run.0.as_mut().unwrap();
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no temporary file appeared in {}",
            dir.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Far more messages than a test waits for.
const ENDLESS: &str = "50000000";

#[test]
fn sigint_stops_a_run_and_removes_its_temporary_files() {
    let dir = out_dir("interrupt-run");
    let mut run = Running::start(&[
        "run",
        &scenario("quickstart.toml"),
        "--messages",
        ENDLESS,
        "--maillog",
        dir.join("mail.log").to_str().unwrap(),
        "--out",
        dir.to_str().unwrap(),
    ]);
    wait_for_temporary_files(&mut run, &dir);
    let (code, stderr) = run.stop("INT");
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(files(&dir), Vec::<String>::new());
}

#[test]
fn sigterm_stops_a_sweep_and_removes_its_temporary_files() {
    let dir = out_dir("interrupt-sweep");
    let mut sweep = Running::start(&[
        "sweep",
        &scenario("quickstart.toml"),
        "--set",
        "relay.max_connections=1,2",
        "--replications",
        "2",
        "--jobs",
        "2",
        "--run-files",
        "--messages",
        ENDLESS,
        "--out",
        dir.to_str().unwrap(),
    ]);
    wait_for_temporary_files(&mut sweep, &dir);
    let (code, stderr) = sweep.stop("TERM");
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert_eq!(temporary(&dir), Vec::<String>::new());
    assert!(!dir.join("sweep.json").exists());
}

/// Plants a temporary file as a killed run (process id no process has) leaves it, and
/// files that are not ours.
fn plant(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let stale = dir.join(format!(".messages.csv.smtpsim-{}-0.tmp", u32::MAX));
    std::fs::write(&stale, "half a file").unwrap();
    for foreign in [".notes.tmp", "draft.smtpsim-1-0.tmp", "notes.txt"] {
        std::fs::write(dir.join(foreign), "not smtpsim's").unwrap();
    }
    stale
}

#[test]
fn a_run_removes_the_temporary_files_of_a_killed_run_and_nothing_else() {
    let dir = out_dir("interrupt-stale");
    let stale = plant(&dir);
    let stale_charts = plant(&dir.join("charts"));
    let (code, _, err) = smtpsim(&[
        "run",
        &scenario("quickstart.toml"),
        "--messages",
        "200",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(!stale.exists());
    assert!(!stale_charts.exists());
    let left = files(&dir);
    for foreign in [".notes.tmp", "draft.smtpsim-1-0.tmp", "notes.txt"] {
        assert!(left.contains(&foreign.to_string()), "{foreign}: {left:?}");
        assert!(
            left.contains(&format!("charts/{foreign}")),
            "{foreign}: {left:?}"
        );
    }
    assert!(left.contains(&"summary.json".to_string()), "{left:?}");
}

#[test]
fn a_sweep_removes_the_temporary_files_of_a_killed_sweep() {
    let dir = out_dir("interrupt-stale-sweep");
    let stale = plant(&dir);
    let (code, _, err) = smtpsim(&[
        "sweep",
        &scenario("quickstart.toml"),
        "--replications",
        "2",
        "--messages",
        "100",
        "--no-report",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(!stale.exists());
    assert!(dir.join(".notes.tmp").exists());
    assert!(dir.join("sweep.json").exists());
}
