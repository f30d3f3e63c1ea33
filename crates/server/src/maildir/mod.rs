//! Maildir delivery: each message is written under `tmp/` (piece by piece as it arrives, with
//! [`Delivery`]), synced, renamed into `new/`, and the directory synced, so that a message the
//! server said yes to survives a crash (even `kill -9` or a power cut right after the 250
//! reply). A message that is not committed leaves nothing behind: its `tmp/` file is removed.
//! Each delivery syncs the directory itself: making concurrent deliveries wait to share one
//! directory sync measured no faster (see the README's performance table).

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A Maildir (`cur/`, `new/`, `tmp/` under one directory) that messages are delivered into.
#[derive(Debug)]
pub struct Maildir {
    root: PathBuf,
    host: String,
    next: AtomicU64,
    /// Syncs of message files and of `new/` so far.
    syncs: Arc<Syncs>,
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
            syncs: Arc::default(),
        })
    }

    /// The syncs done so far: of message files, and of the `new/` directory.
    pub fn syncs(&self) -> (u64, u64) {
        let s = &self.syncs;
        (
            s.files.load(Ordering::Relaxed),
            s.dirs.load(Ordering::Relaxed),
        )
    }

    /// The Maildir's directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Delivers `content` exactly as given; returns the file's unique name (in `new/`). When
    /// this returns, the file and its directory entry are on disk.
    pub fn deliver(&self, content: &[u8]) -> io::Result<String> {
        let mut delivery = self.begin()?;
        delivery.write(content)?;
        delivery.commit()
    }

    /// Starts a message: a new file under `tmp/`, written by [`Delivery::write`].
    pub fn begin(&self) -> io::Result<Delivery> {
        let name = self.unique_name();
        let tmp = self.root.join("tmp").join(&name);
        let file = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        Ok(Delivery {
            file: Some(BufWriter::with_capacity(WRITE_BUFFER, file)),
            tmp,
            new_dir: self.root.join("new"),
            name,
            syncs: self.syncs.clone(),
        })
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

/// Octets a [`Delivery`] gathers before it writes them to its file.
const WRITE_BUFFER: usize = 64 * 1024;

/// A message being written into a Maildir's `tmp/`. [`Delivery::commit`] moves it into `new/`;
/// dropped without that (refused, cut short, failed), it removes its `tmp/` file.
#[derive(Debug)]
pub struct Delivery {
    /// `None` once committed.
    file: Option<BufWriter<File>>,
    tmp: PathBuf,
    new_dir: PathBuf,
    name: String,
    syncs: Arc<Syncs>,
}

/// Counts of syncs.
#[derive(Debug, Default)]
struct Syncs {
    files: AtomicU64,
    dirs: AtomicU64,
}

impl Delivery {
    /// Appends `piece` to the message.
    pub fn write(&mut self, piece: &[u8]) -> io::Result<()> {
        match &mut self.file {
            Some(file) => file.write_all(piece),
            None => Err(io::Error::other("the message was already committed")),
        }
    }

    /// Syncs the file, renames it into `new/` and syncs the directory; returns its unique
    /// name. When this returns, the message is on disk.
    pub fn commit(mut self) -> io::Result<String> {
        let Some(file) = self.file.take() else {
            return Err(io::Error::other("the message was already committed"));
        };
        let result = (|| {
            let file = file.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()?;
            self.syncs.files.fetch_add(1, Ordering::Relaxed);
            drop(file);
            fs::rename(&self.tmp, self.new_dir.join(&self.name))?;
            File::open(&self.new_dir)?.sync_all()?;
            self.syncs.dirs.fetch_add(1, Ordering::Relaxed);
            Ok(())
        })();
        match result {
            Ok(()) => Ok(std::mem::take(&mut self.name)),
            Err(e) => {
                let _ = fs::remove_file(&self.tmp);
                Err(e)
            }
        }
    }
}

/// The message in progress on a connection that streams content into a Maildir: its
/// [`Delivery`] is begun with the first piece, and a failure is remembered until the end.
#[derive(Debug, Default)]
pub(crate) struct Incoming {
    delivery: Option<Delivery>,
    failed: Option<io::Error>,
}

impl Incoming {
    /// Writes the next piece of the message into `maildir`'s `tmp/`; a new file starts with
    /// the lines `head` makes.
    pub(crate) fn write(
        &mut self,
        maildir: &Maildir,
        piece: &[u8],
        head: impl FnOnce() -> Vec<u8>,
    ) {
        if self.failed.is_some() {
            return;
        }
        let written = match &mut self.delivery {
            Some(delivery) => delivery.write(piece),
            None => maildir.begin().and_then(|mut delivery| {
                delivery.write(&head())?;
                delivery.write(piece)?;
                self.delivery = Some(delivery);
                Ok(())
            }),
        };
        if let Err(e) = written {
            // Its tmp/ file goes with it.
            self.delivery = None;
            self.failed = Some(e);
        }
    }

    /// Forgets the message in progress and removes its `tmp/` file.
    pub(crate) fn discard(&mut self) {
        *self = Incoming::default();
    }

    /// Stores the message: the pieces written so far, or the lines `head` makes and `content`
    /// whole if there were none (a driver that does not stream, or an empty message). Returns
    /// the file's name.
    pub(crate) fn commit(
        self,
        maildir: &Maildir,
        content: &[u8],
        head: impl FnOnce() -> Vec<u8>,
    ) -> io::Result<String> {
        match (self.failed, self.delivery) {
            (Some(e), _) => Err(e),
            (None, Some(delivery)) => delivery.commit(),
            (None, None) => {
                let mut delivery = maildir.begin()?;
                delivery.write(&head())?;
                delivery.write(content)?;
                delivery.commit()
            }
        }
    }
}

impl Drop for Delivery {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
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
        assert_eq!(
            maildir.syncs(),
            (2, 2),
            "one after the other, each has its own syncs"
        );
    }

    #[test]
    fn concurrent_deliveries_are_all_on_disk_with_two_syncs_each() {
        let dir = tempfile::tempdir().unwrap();
        let maildir = Arc::new(Maildir::open(dir.path()).unwrap());
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let maildir = maildir.clone();
                std::thread::spawn(move || {
                    (0..20)
                        .map(|i| maildir.deliver(format!("{t} {i}\r\n").as_bytes()).unwrap())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let names: Vec<String> = threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect();
        assert_eq!(names.len(), 160);
        assert_eq!(fs::read_dir(dir.path().join("new")).unwrap().count(), 160);
        let (files, dirs) = maildir.syncs();
        assert_eq!((files, dirs), (160, 160));
    }

    #[test]
    fn a_message_written_in_pieces_is_stored_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let maildir = Maildir::open(dir.path()).unwrap();
        let count = |sub: &str| fs::read_dir(dir.path().join(sub)).unwrap().count();
        let mut delivery = maildir.begin().unwrap();
        let piece = vec![b'x'; 50_000];
        for _ in 0..5 {
            delivery.write(&piece).unwrap();
        }
        assert_eq!((count("tmp"), count("new")), (1, 0));
        let name = delivery.commit().unwrap();
        let stored = fs::read(dir.path().join("new").join(&name)).unwrap();
        assert_eq!(stored, piece.repeat(5));
        let mut dropped = maildir.begin().unwrap();
        dropped.write(b"half a message").unwrap();
        drop(dropped);
        assert_eq!((count("tmp"), count("new")), (0, 1));
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
