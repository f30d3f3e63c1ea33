//! Sets of files written whole: each one under a temporary name first, all renamed into place
//! once every one of them is complete.

use std::io::Write;
use std::path::Path;

use crate::ReportError;
use crate::staged::{self, Staged};

/// Writes `files` (name and content) into `dir`, creating it if needed. Each file is written
/// and synced under a temporary name; only when all are complete are they renamed into place,
/// in the order given. On error no temporary file remains. Temporary files that stopped runs
/// left in `dir` are removed first.
pub fn write_files(dir: &Path, files: &[(&str, &[u8])]) -> Result<(), ReportError> {
    let io = |name: &str| {
        let path = dir.join(name);
        move |source| ReportError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(""))?;
    staged::remove_stale(dir).map_err(io(""))?;
    let mut ready: Vec<Staged> = Vec::with_capacity(files.len());
    for (name, content) in files {
        let (staged, mut file) = Staged::create(dir, name).map_err(io(name))?;
        file.write_all(content).map_err(io(name))?;
        staged::close(file).map_err(io(name))?;
        ready.push(staged);
    }
    for staged in ready {
        let path = staged.dest().to_owned();
        staged
            .commit()
            .map_err(|source| ReportError::Io { path, source })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_every_file() {
        let dir = std::env::temp_dir().join(format!("smtpsim-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        write_files(&dir, &[("a.txt", b"a\n"), ("b.txt", b"b\n")]).unwrap();
        assert_eq!(std::fs::read(dir.join("a.txt")).unwrap(), b"a\n");
        assert_eq!(std::fs::read(dir.join("b.txt")).unwrap(), b"b\n");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
