//! Stopping `run` and `sweep` with Ctrl-C or SIGTERM: the signal sets the run's
//! [`Cancel`] flag, the run stops at its next look at it, the writers are dropped (their
//! temporary files with them), and `main` prints "interrupted" and exits 130.

use anyhow::Context;
use smtpsim_model::sim::Cancel;

/// The exit status of a command stopped by a signal, as shells report SIGINT.
pub const EXIT_STATUS: u8 = 130;

/// The error a stopped command returns.
#[derive(Debug)]
pub struct Interrupted;

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("interrupted")
    }
}

impl std::error::Error for Interrupted {}

/// Sets the returned flag on SIGINT, SIGTERM or SIGHUP instead of ending the process.
pub fn on_signal() -> anyhow::Result<Cancel> {
    let cancel = Cancel::new();
    let flag = cancel.clone();
    ctrlc::set_handler(move || flag.cancel()).context("cannot install the signal handler")?;
    Ok(cancel)
}

/// `Err(Interrupted)` once `cancel` is set.
pub fn check(cancel: &Cancel) -> anyhow::Result<()> {
    if cancel.is_cancelled() {
        Err(Interrupted.into())
    } else {
        Ok(())
    }
}

/// Whether `error` comes from a write to a pipe whose reader has gone (`smtpsim codes |
/// head -1`): then the command ends quietly.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
