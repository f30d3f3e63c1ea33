//! Maildir delivery: each message is written under `tmp/`, synced, renamed into `new/`, and the
//! directory synced, so that a message the server said yes to survives a crash (even `kill -9`
//! or a power cut right after the 250 reply).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A Maildir (`cur/`, `new/`, `tmp/` under one directory) that messages are delivered into.
#[derive(Debug)]
pub struct Maildir {
    root: PathBuf,
    host: String,
    next: AtomicU64,
}

impl Maildir {
    /// Opens the Maildir at `root`, creating it and its three folders if needed.
    pub fn open(root: &Path) -> io::Result<Maildir> {
        for sub in ["tmp", "new", "cur"] {
            fs::create_dir_all(root.join(sub))?;
        }
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|h| h.trim().replace(['/', ':'], "_"))
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".to_string());
        Ok(Maildir {
            root: root.to_path_buf(),
            host,
            next: AtomicU64::new(0),
        })
    }

    /// The Maildir's directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Delivers `content` exactly as given; returns the file's unique name (in `new/`). When
    /// this returns, the file and its directory entry are on disk.
    pub fn deliver(&self, content: &[u8]) -> io::Result<String> {
        let name = self.unique_name();
        let tmp = self.root.join("tmp").join(&name);
        let result = (|| {
            let mut file = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
            file.write_all(content)?;
            file.sync_all()?;
            drop(file);
            let new_dir = self.root.join("new");
            fs::rename(&tmp, new_dir.join(&name))?;
            File::open(&new_dir)?.sync_all()
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result.map(|()| name)
    }

    /// `SECONDS.M<micros>P<pid>Q<n>.HOST`: unique within this process (the counter) and across
    /// processes (the process id), as the Maildir convention asks.
    fn unique_name(&self) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        format!(
            "{}.M{}P{}Q{}.{}",
            now.as_secs(),
            now.subsec_micros(),
            std::process::id(),
            n,
            self.host
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivers_into_new_byte_for_byte() {
        let dir = tempfile::tempdir().unwrap();
        let maildir = Maildir::open(&dir.path().join("mail")).unwrap();
        let content = b"Subject: x\r\n\r\nbody\r\n.. not a dot line\r\n\x00\xff\r\n";
        let a = maildir.deliver(content).unwrap();
        let b = maildir.deliver(b"second\r\n").unwrap();
        assert_ne!(a, b);
        let stored = fs::read(maildir.root().join("new").join(&a)).unwrap();
        assert_eq!(stored, content);
        assert_eq!(fs::read_dir(maildir.root().join("tmp")).unwrap().count(), 0);
        assert!(maildir.root().join("cur").is_dir());
    }

    #[test]
    fn a_failed_delivery_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let maildir = Maildir::open(dir.path()).unwrap();
        fs::remove_dir(dir.path().join("new")).unwrap();
        assert!(maildir.deliver(b"x\r\n").is_err());
        assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
    }
}
