//! What `run` and `sweep` record about themselves, and where they write when no `--out` is
//! given.

use std::path::{Path, PathBuf};

use anyhow::Context;
use smtpsim_report::{Provenance, start_time};

/// The provenance of this command on `scenario` (whose bytes are `bytes`).
pub fn of(
    scenario: &Path,
    bytes: &[u8],
    seed: Option<u64>,
    set: Vec<String>,
) -> anyhow::Result<Provenance> {
    let started = start_time().map_err(anyhow::Error::msg)?;
    Ok(Provenance::new(
        env!("CARGO_PKG_VERSION"),
        std::env::args().collect(),
        &scenario.display().to_string(),
        bytes,
        seed,
        set,
        started,
    ))
}

/// Reads the scenario's bytes, for its hash.
pub fn read(scenario: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(scenario).with_context(|| format!("cannot read {}", scenario.display()))
}

/// Whether `dir` holds the output of an earlier run or sweep.
fn holds_output(dir: &Path) -> bool {
    ["summary.json", "sweep.json"]
        .iter()
        .any(|f| dir.join(f).exists())
}

/// The default output folder `default`, or, when an earlier output is there and `force` is
/// not given, the first of `default-2`, `default-3`, ... that holds none, so that a second
/// run does not replace the first.
pub fn fresh_default(default: PathBuf, force: bool) -> PathBuf {
    if force || !holds_output(&default) {
        return default;
    }
    let name = default
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    (2u32..)
        .map(|i| default.with_file_name(format!("{name}-{i}")))
        .find(|d| !holds_output(d))
        .expect("some numbered folder is free")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_earlier_output_gets_a_numbered_neighbour() {
        let dir = tempfile::tempdir().unwrap();
        let default = dir.path().join("greylisting");
        assert_eq!(fresh_default(default.clone(), false), default);
        std::fs::create_dir_all(&default).unwrap();
        std::fs::write(default.join("summary.json"), "{}").unwrap();
        let second = fresh_default(default.clone(), false);
        assert_eq!(second, dir.path().join("greylisting-2"));
        assert_eq!(fresh_default(default.clone(), true), default);
        std::fs::create_dir_all(&second).unwrap();
        std::fs::write(second.join("sweep.json"), "{}").unwrap();
        assert_eq!(
            fresh_default(default, false),
            dir.path().join("greylisting-3")
        );
    }
}
