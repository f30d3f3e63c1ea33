//! The twin experiment, short: `benches/twin/postfix.sh` runs a private Postfix (Debian's
//! package) relaying to `smtpsim serve`, then `smtpsim run` on the same scenario, and exits 1
//! when the two disagree beyond the statistical tolerance. Postfix must be installed (`.ci/run`
//! installs it) and the test run as root (Postfix's master needs it): otherwise it fails,
//! saying so, rather than passing without having compared anything.

use std::net::TcpListener;
use std::path::Path;
use std::process::Command;

/// Two free loopback ports in a row (Postfix's and serve's), found by binding them.
pub(crate) fn free_port_pair() -> u16 {
    for _ in 0..200 {
        let first = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = first.local_addr().unwrap().port();
        if port < u16::MAX && TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
    panic!("no two free loopback ports in a row");
}

pub(crate) fn is_root() -> bool {
    let id = Command::new("id").arg("-u").output().expect("id runs");
    String::from_utf8_lossy(&id.stdout).trim() == "0"
}

/// The significance level of the comparisons here. Each of the six or so tests of a correct
/// model fails by chance with this probability, so the test as a whole rarely fails by chance,
/// while the error the twin was built to find (attempts a queue run late for a third of the
/// messages: 79%/16% against 57%/35% at the third and fourth attempt) gives p far below it
/// at 300 messages.
const ALPHA: &str = "0.001";

#[test]
fn postfix_and_the_simulation_agree_on_a_short_twin() {
    let found = Command::new("sh")
        .args(["-c", "PATH=$PATH:/usr/sbin command -v postfix"])
        .output()
        .expect("sh runs");
    assert!(
        found.status.success(),
        "the twin test needs Postfix: apt-get install postfix (then `postfix stop`), as .ci/run does"
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = tempfile::tempdir().unwrap();
    let port = free_port_pair().to_string();
    let script = root.join("benches/twin/postfix.sh");
    let vars = [
        ("SMTPSIM", env!("CARGO_BIN_EXE_smtpsim")),
        ("TWIN_MESSAGES", "300"),
        ("TWIN_RATE", "10"),
        ("TWIN_SEED", "7"),
        ("TWIN_MAX_BACKOFF", "40s"),
        ("TWIN_LIFETIME", "150s"),
        ("TWIN_ALPHA", ALPHA),
        ("TWIN_PORT", &port),
        ("TWIN_OUT", out.path().to_str().unwrap()),
    ];
    // Postfix's master runs as root: through password-less sudo for another user.
    let mut command = if is_root() {
        Command::new("env")
    } else {
        let mut sudo = Command::new("sudo");
        sudo.args(["-n", "env"]);
        sudo
    };
    command.arg("PATH=/usr/sbin:/usr/bin:/sbin:/bin");
    command.args(vars.iter().map(|(k, v)| format!("{k}={v}")));
    let status = command.arg("bash").arg(&script).status().expect("env runs");
    let table = std::fs::read_to_string(out.path().join("table.md")).unwrap_or_default();
    assert!(
        status.success(),
        "benches/twin/postfix.sh exited with {status} (2: Postfix could not run; 1: disagreement)\n{table}"
    );
    // The comparison ran on both sides: 300 messages each, every test reported.
    assert!(
        table.contains("| messages | 300 | 300 |"),
        "table:\n{table}"
    );
    let tests: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("tests.json")).unwrap())
            .unwrap();
    let tests = tests.as_object().unwrap();
    assert_eq!(tests.len(), 3, "{tests:?}");
    assert!(tests.values().all(|t| t["agree"] == true), "{tests:?}");
    fitted_from_postfix_reproduces_it(out.path());
}

/// `smtpsim fit` on Postfix's log, a run of the fitted scenario read back through its log, and
/// `compare --check` against the import of Postfix's log.
fn fitted_from_postfix_reproduces_it(out: &Path) {
    let smtpsim = |args: &[&Path]| {
        let output = Command::new(env!("CARGO_BIN_EXE_smtpsim"))
            .args(args)
            .output()
            .expect("smtpsim runs");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    };
    let p = |s: &str| out.join(s);
    let fitted = p("fitted.toml");
    let (ok, text) = smtpsim(&[
        Path::new("fit"),
        &p("postfix.log"),
        Path::new("--out"),
        &fitted,
    ]);
    assert!(ok, "fit: {text}");
    let toml = std::fs::read_to_string(&fitted).unwrap();
    assert!(
        toml.contains("policy = \"postfix\", queue_run_delay = \"10s\", minimal_backoff = \"10s\""),
        "{toml}"
    );
    let (ok, text) = smtpsim(&[
        Path::new("run"),
        &fitted,
        Path::new("--out"),
        &p("fitted-run"),
        Path::new("--maillog"),
        &p("fitted.log"),
        Path::new("--no-report"),
    ]);
    assert!(ok, "run: {text}");
    let (ok, text) = smtpsim(&[
        Path::new("maillog"),
        &p("fitted.log"),
        Path::new("--out"),
        &p("fitted-import"),
        Path::new("--no-report"),
    ]);
    assert!(ok, "maillog: {text}");
    let (ok, text) = smtpsim(&[
        Path::new("compare"),
        &p("postfix"),
        &p("fitted-import"),
        Path::new("--out"),
        &p("fitted-compare"),
        Path::new("--no-report"),
        Path::new("--check"),
        Path::new("--alpha"),
        Path::new(ALPHA),
    ]);
    assert!(
        ok,
        "the fitted scenario does not reproduce Postfix's log:\n{text}\n{toml}"
    );
}
