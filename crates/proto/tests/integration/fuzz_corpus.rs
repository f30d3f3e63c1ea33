//! The fuzz targets' functions over the seed corpus in `fuzz/corpus/`: every seed passes their
//! checks, so the targets start from inputs that work.

use std::path::PathBuf;

/// The files of `fuzz/corpus/TARGET/`, in name order.
fn seeds(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    paths.sort();
    assert!(paths.len() >= 5, "{}: a few seeds", dir.display());
    paths
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path).unwrap();
            (path, bytes)
        })
        .collect()
}

#[test]
fn command_seeds() {
    for (_, bytes) in seeds("command") {
        smtpsim_proto::fuzzing::command(&bytes);
    }
}

#[test]
fn reply_seeds() {
    let mut parsed = 0;
    for (_, bytes) in seeds("reply") {
        smtpsim_proto::fuzzing::reply(&bytes);
        parsed += usize::from(matches!(
            smtpsim_proto::reply::parse_reply(&bytes),
            Ok(Some(_))
        ));
    }
    assert!(parsed >= 5, "most seeds are replies");
}

#[test]
fn data_reader_seeds() {
    for (path, bytes) in seeds("data_reader") {
        smtpsim_proto::fuzzing::data_reader(&bytes);
        // Every seed but the unfinished one reaches its end of data.
        let mut reader = smtpsim_proto::data::DataReader::new(1000, 4096);
        let ended = reader.feed(&bytes[1..]).is_some();
        assert_eq!(ended, !path.ends_with("unfinished"), "{}", path.display());
    }
}
