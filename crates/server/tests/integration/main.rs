//! The integration tests of `smtpsim-server`, in one binary: a module per behaviour.

mod common;

mod behaviour;
mod blast;
mod http;
mod limits;
mod operation;
mod robustness;
