//! The integration tests of `smtpsim-report`, in one binary: a module per behaviour.

mod common;

mod files;
mod summary;
mod sweep;
