//! Directory syncs shared by concurrent deliveries (group commit): a delivery that renamed its
//! file into `new/` needs a sync of the directory that starts after its rename. When one is
//! already running, it may have started before the rename, so the delivery waits for it to
//! end and then takes part in the next one, which covers every rename made meanwhile. Nothing
//! is reported on disk before a sync that began after its rename has finished.

use std::io;
use std::sync::{Condvar, Mutex, MutexGuard};

/// The directory syncs of one Maildir's `new/`.
#[derive(Debug, Default)]
pub(crate) struct DirSyncs {
    state: Mutex<State>,
    ended: Condvar,
}

#[derive(Debug, Default)]
struct State {
    /// Renames registered so far; each delivery's ticket is its number among them.
    renamed: u64,
    /// Every rename up to this ticket is on disk.
    durable: u64,
    /// The renames up to this ticket were covered by a sync that failed (and no later
    /// success covered them): their deliveries fail.
    failed_through: u64,
    /// The error of the last failed sync.
    error: Option<(io::ErrorKind, String)>,
    /// A sync is running.
    running: bool,
    /// Syncs done so far.
    syncs: u64,
}

impl DirSyncs {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Called after a rename into the directory: returns once a sync that began after it has
    /// succeeded (`sync` syncs the directory), or with the error of the one that failed.
    pub(crate) fn after_rename(&self, sync: impl Fn() -> io::Result<()>) -> io::Result<()> {
        let mut s = self.lock();
        s.renamed += 1;
        let ticket = s.renamed;
        loop {
            if s.durable >= ticket {
                return Ok(());
            }
            if s.failed_through >= ticket {
                let (kind, text) = s
                    .error
                    .clone()
                    .unwrap_or((io::ErrorKind::Other, String::new()));
                return Err(io::Error::new(kind, text));
            }
            if s.running {
                s = self.ended.wait(s).unwrap_or_else(|e| e.into_inner());
                continue;
            }
            s.running = true;
            let target = s.renamed;
            drop(s);
            let result = sync();
            s = self.lock();
            s.running = false;
            s.syncs += 1;
            match result {
                Ok(()) => s.durable = s.durable.max(target),
                Err(e) => {
                    s.failed_through = s.failed_through.max(target);
                    s.error = Some((e.kind(), e.to_string()));
                }
            }
            self.ended.notify_all();
        }
    }

    /// Directory syncs done so far.
    pub(crate) fn count(&self) -> u64 {
        self.lock().syncs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::mpsc;

    /// Renames made while a sync runs wait for a later sync, and one later sync covers them
    /// all; none returns before a sync that began after it.
    #[test]
    fn renames_during_a_sync_share_the_next_one() {
        let syncs = Arc::new(DirSyncs::default());
        let started = Arc::new(AtomicU64::new(0));
        let (release, hold) = mpsc::channel::<()>();
        let hold = Arc::new(Mutex::new(hold));
        let (entered, first_running) = mpsc::channel();
        let sync = {
            let (started, hold) = (started.clone(), hold.clone());
            move || {
                if started.fetch_add(1, Ordering::SeqCst) == 0 {
                    entered.send(()).unwrap();
                    hold.lock().unwrap().recv().unwrap();
                }
                Ok(())
            }
        };
        let sync = Arc::new(sync);
        let first = {
            let (syncs, sync) = (syncs.clone(), sync.clone());
            std::thread::spawn(move || syncs.after_rename(|| sync()))
        };
        first_running.recv().unwrap();
        let (done_tx, done) = mpsc::channel();
        let others: Vec<_> = (0..3)
            .map(|_| {
                let (syncs, sync, done_tx) = (syncs.clone(), sync.clone(), done_tx.clone());
                std::thread::spawn(move || {
                    let r = syncs.after_rename(|| sync());
                    done_tx.send(()).unwrap();
                    r
                })
            })
            .collect();
        // They registered while the first sync runs: none may return before it ends.
        while syncs.lock().renamed < 4 {
            std::thread::yield_now();
        }
        assert!(done.try_recv().is_err());
        release.send(()).unwrap();
        first.join().unwrap().unwrap();
        for other in others {
            other.join().unwrap().unwrap();
        }
        assert_eq!(
            syncs.count(),
            2,
            "one sync for the three that came during the first"
        );
    }

    #[test]
    fn a_failed_sync_fails_the_renames_it_covered_and_the_next_one_may_succeed() {
        let syncs = DirSyncs::default();
        let e = syncs.after_rename(|| Err(io::Error::other("disk full")));
        assert_eq!(e.unwrap_err().to_string(), "disk full");
        syncs.after_rename(|| Ok(())).unwrap();
        assert_eq!(syncs.count(), 2);
    }
}
