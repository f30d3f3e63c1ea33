//! The scenario fuzz target's function over its seed corpus in `fuzz/corpus/scenario/`:
//! bundled scenarios, each of which loads and runs briefly.

use std::path::PathBuf;

use smtpsim_model::scenario::Scenario;

#[test]
fn scenario_seeds() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/scenario");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    paths.sort();
    assert!(paths.len() >= 5);
    for path in paths {
        let bytes = std::fs::read(&path).unwrap();
        smtpsim_model::fuzzing::scenario(&bytes);
        let text = String::from_utf8(bytes).unwrap();
        Scenario::parse(&text, "seed.toml").unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}
