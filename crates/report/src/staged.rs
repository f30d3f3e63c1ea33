//! Files that appear whole or not at all: written to a temporary file in the destination's
//! directory, then renamed into place.
//!
//! A temporary file is named `.NAME.smtpsim-PID-N.tmp`: the marker and the process id let a
//! later run tell the temporary files of a process that was stopped before it could remove
//! them ([`remove_stale`]) from anyone else's files.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Tells temporary files of the same process apart.
static NEXT: AtomicU64 = AtomicU64::new(0);

/// What sets our temporary files apart from other files: `.NAME` + this + `PID-N` + `.tmp`.
const MARKER: &str = ".smtpsim-";
const SUFFIX: &str = ".tmp";

/// A temporary file that becomes `dest` on [`Staged::commit`] and is removed if dropped before.
#[derive(Debug)]
pub(crate) struct Staged {
    temp: PathBuf,
    dest: PathBuf,
    armed: bool,
}

impl Staged {
    /// Creates `.NAME.smtpsim-PID-N.tmp` in `dir`, to become `dir/NAME`.
    pub(crate) fn create(dir: &Path, name: &str) -> io::Result<(Staged, File)> {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let pid = std::process::id();
        let temp = dir.join(format!(".{name}{MARKER}{pid}-{n}{SUFFIX}"));
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

/// The process that made the temporary file called `name`, if `name` is one of ours.
fn owner(name: &str) -> Option<u32> {
    let rest = name.strip_prefix('.')?.strip_suffix(SUFFIX)?;
    let (_, tail) = rest.rsplit_once(MARKER)?;
    let (pid, n) = tail.split_once('-')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(n) {
        return None;
    }
    pid.parse().ok().filter(|_| digits(pid))
}

/// Whether process `pid` may still be writing its temporary files: this process, and on
/// systems with `/proc`, any process that is still running.
fn may_be_running(pid: u32) -> bool {
    let proc = Path::new("/proc");
    pid == std::process::id() || (proc.join("self").exists() && proc.join(pid.to_string()).exists())
}

/// Removes from `dir` the temporary files of earlier runs that were stopped before they could
/// remove them (killed, or the machine went down): files named as [`Staged`] names them,
/// made by a process that is no longer running. Other files are left alone, and so is a
/// missing `dir`. Returns how many files were removed.
pub(crate) fn remove_stale(dir: &Path) -> io::Result<usize> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut removed = 0;
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(owner) else {
            continue;
        };
        if may_be_running(pid) || !entry.file_type()?.is_file() {
            continue;
        }
        match fs::remove_file(entry.path()) {
            Ok(()) => removed += 1,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(removed)
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
    fn temporary_names_carry_the_marker_and_the_process() {
        let dir = scratch("marker");
        let (a, _) = Staged::create(&dir, "messages.csv").unwrap();
        let name = a.temp.file_name().unwrap().to_str().unwrap().to_owned();
        assert!(name.starts_with(".messages.csv.smtpsim-"), "{name}");
        assert_eq!(owner(&name), Some(std::process::id()));
        drop(a);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn only_our_names_have_an_owner() {
        assert_eq!(owner(".a.csv.smtpsim-12-0.tmp"), Some(12));
        assert_eq!(owner(".a.smtpsim-1.csv.smtpsim-12-3.tmp"), Some(12));
        for foreign in [
            "a.csv.smtpsim-12-0.tmp",
            ".a.csv.12-0.tmp",
            ".a.csv.smtpsim-12-0.temp",
            ".a.csv.smtpsim-12.tmp",
            ".a.csv.smtpsim--0.tmp",
            ".a.csv.smtpsim-12-.tmp",
            ".a.csv.smtpsim-x-0.tmp",
            ".a.csv.smtpsim-+1-0.tmp",
            ".a.csv.smtpsim-99999999999-0.tmp",
            ".tmp",
        ] {
            assert_eq!(owner(foreign), None, "{foreign}");
        }
    }

    #[test]
    fn remove_stale_removes_only_ours_of_stopped_processes() {
        let dir = scratch("stale");
        // No process has this id (ids stop well below u32::MAX).
        let stale = format!(".messages.csv{MARKER}{}-0{SUFFIX}", u32::MAX);
        fs::write(dir.join(&stale), "half").unwrap();
        fs::write(dir.join(".notes.tmp"), "theirs").unwrap();
        fs::write(dir.join("summary.json"), "{}").unwrap();
        let (live, _file) = Staged::create(&dir, "events.csv").unwrap();
        assert_eq!(remove_stale(&dir).unwrap(), 1);
        let mut expected = vec![
            ".notes.tmp".to_string(),
            live.temp.file_name().unwrap().to_str().unwrap().to_owned(),
            "summary.json".to_string(),
        ];
        expected.sort();
        assert_eq!(entries(&dir), expected);
        assert_eq!(remove_stale(&dir.join("missing")).unwrap(), 0);
        drop(live);
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
