//! The integration tests of `smtpsim-repl`, in one binary: a module per behaviour.

mod common;

mod dkim;
mod props;
mod session;
