//! Files that appear whole or not at all: written to a temporary file in the destination's
//! directory, then renamed into place.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Tells temporary files of the same process apart.
static NEXT: AtomicU64 = AtomicU64::new(0);

/// A temporary file that becomes `dest` on [`Staged::commit`] and is removed if dropped before.
#[derive(Debug)]
pub(crate) struct Staged {
    temp: PathBuf,
    dest: PathBuf,
    armed: bool,
}

impl Staged {
    /// Creates `.NAME.PID-N.tmp` in `dir`, to become `dir/NAME`.
    pub(crate) fn create(dir: &Path, name: &str) -> io::Result<(Staged, File)> {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let temp = dir.join(format!(".{name}.{}-{n}.tmp", std::process::id()));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        let staged = Staged {
            temp,
            dest: dir.join(name),
            armed: true,
        };
        Ok((staged, file))
    }

    /// The final path.
    pub(crate) fn dest(&self) -> &Path {
        &self.dest
    }

    /// Renames the temporary file into place, replacing any file already there.
    pub(crate) fn commit(mut self) -> io::Result<()> {
        fs::rename(&self.temp, &self.dest)?;
        self.armed = false;
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if self.armed {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// Flushes `file` to disk and closes it, so that a rename after it cannot expose a short file.
pub(crate) fn close(file: File) -> io::Result<()> {
    file.sync_all()
}

/// Writes `bytes` to `path` whole or not at all: into a temporary file beside it, synced, then
/// renamed into place.
pub fn write_whole(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
    let (staged, mut file) = Staged::create(dir, name)?;
    file.write_all(bytes)?;
    close(file)?;
    staged.commit()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn scratch(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "smtpsim-report-staged-{tag}-{}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn commit_renames_into_place() {
        let dir = scratch("commit");
        let (staged, mut file) = Staged::create(&dir, "out.csv").unwrap();
        file.write_all(b"a,b\n").unwrap();
        close(file).unwrap();
        assert_eq!(entries(&dir).len(), 1);
        assert!(!staged.dest().exists());
        staged.commit().unwrap();
        assert_eq!(entries(&dir), ["out.csv"]);
        assert_eq!(fs::read(dir.join("out.csv")).unwrap(), b"a,b\n");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn drop_removes_the_temporary_file() {
        let dir = scratch("drop");
        fs::write(dir.join("out.csv"), "old\n").unwrap();
        {
            let (_staged, mut file) = Staged::create(&dir, "out.csv").unwrap();
            file.write_all(b"half").unwrap();
        }
        assert_eq!(entries(&dir), ["out.csv"]);
        assert_eq!(fs::read(dir.join("out.csv")).unwrap(), b"old\n");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn temporary_names_differ() {
        let dir = scratch("names");
        let (a, _) = Staged::create(&dir, "x").unwrap();
        let (b, _) = Staged::create(&dir, "x").unwrap();
        assert_ne!(a.temp, b.temp);
        drop((a, b));
        assert!(entries(&dir).is_empty());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn write_whole_replaces_the_file() {
        let dir = scratch("whole");
        let path = dir.join("out.csv");
        write_whole(&path, b"a\n").unwrap();
        write_whole(&path, b"b\n").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"b\n");
        assert_eq!(entries(&dir), vec!["out.csv".to_string()]);
        let _ = fs::remove_dir_all(&dir);
    }
}
