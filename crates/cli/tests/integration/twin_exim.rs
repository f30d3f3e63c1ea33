//! The twin experiment with Exim, short: `benches/twin/exim.sh` runs a private Exim (Debian's
//! exim4-daemon-light, extracted rather than installed, as it conflicts with Postfix's
//! package) relaying to `smtpsim serve`, then `smtpsim run` with the `exim` retry policy and
//! the same rules, and `smtpsim compare --check` on Exim's imported log and the run. It needs
//! root (Exim's daemon with its own configuration); `.ci/run` extracts Exim and installs the
//! libraries it links. Without Exim the script fails, saying so, rather than passing without
//! having compared anything.

use std::path::Path;
use std::process::Command;

use super::twin_postfix::{free_port_pair, is_root};

/// As in the Postfix twin: each test of a correct model fails by chance this rarely.
const ALPHA: &str = "0.001";

#[test]
fn exim_and_the_simulation_agree_on_a_short_twin() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = tempfile::tempdir().unwrap();
    let port = free_port_pair().to_string();
    let vars = [
        ("SMTPSIM", env!("CARGO_BIN_EXE_smtpsim")),
        ("TWIN_MESSAGES", "150"),
        ("TWIN_RATE", "10"),
        ("TWIN_SEED", "7"),
        ("TWIN_ALPHA", ALPHA),
        ("TWIN_PORT", &port),
        ("TWIN_OUT", out.path().to_str().unwrap()),
    ];
    let mut command = if is_root() {
        Command::new("env")
    } else {
        let mut sudo = Command::new("sudo");
        sudo.args(["-n", "env"]);
        sudo
    };
    command.arg("PATH=/usr/sbin:/usr/bin:/sbin:/bin");
    command.args(vars.iter().map(|(k, v)| format!("{k}={v}")));
    let output = command
        .arg("bash")
        .arg(root.join("benches/twin/exim.sh"))
        .output()
        .expect("env runs");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "benches/twin/exim.sh exited with {} (2: Exim could not run; 1: disagreement)\n{said}",
        output.status
    );
    // Both sides had the 150 messages, Exim's log was read whole, and the tests ran.
    let json = |path: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(out.path().join(path)).unwrap()).unwrap()
    };
    let compared = json("compare/compare.json");
    let messages = &compared["rows"][0];
    assert_eq!(messages["metric"], "messages", "{compared}");
    assert_eq!(messages["a"][0], 150.0, "{compared}");
    assert_eq!(messages["b"][0], 150.0, "{compared}");
    assert!(
        compared["ks"]["p_value"].as_f64().unwrap() >= 0.001,
        "{compared}"
    );
    assert!(
        compared["chi_square"]["df"].as_u64().unwrap() >= 1,
        "{compared}"
    );
    assert_eq!(compared["agree"], true, "{said}");
    let import = json("exim/import.json");
    assert_eq!(import["malformed_lines"], 0, "{import}");
    assert_eq!(import["messages"], 150, "{import}");
    assert_eq!(import["open_at_end"], 0, "{import}");
}
