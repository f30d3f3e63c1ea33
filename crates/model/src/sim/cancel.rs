//! [`Cancel`]: a flag that stops a run early, set from outside it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A shared flag that asks runs to stop early. Clones share the flag: give one to the run
/// (in [`Options::cancel`](super::Options::cancel)) and keep one to [`Cancel::cancel`] from
/// another thread, such as a signal handler's or a user interface's.
///
/// A run looks at the flag every [`Cancel::CHECK_EVERY`] events; once it is set the run
/// stops and returns what it has counted so far with
/// [`RunStats::cancelled`](super::RunStats::cancelled) set. The default flag is never set.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// How many events a run processes between two looks at the flag.
    pub const CHECK_EVERY: u64 = 4096;

    /// A flag that is not set.
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Sets the flag: runs that share it stop at their next look.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether the flag is set.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::Cancel;

    #[test]
    fn clones_share_the_flag() {
        let flag = Cancel::new();
        let run = flag.clone();
        assert!(!run.is_cancelled());
        flag.cancel();
        assert!(run.is_cancelled());
        assert!(!Cancel::default().is_cancelled());
    }
}
