//! The integration tests of `smtpsim-server`, in one binary: a module per behaviour.

mod common;

mod bandwidth;
mod behaviour;
mod blast;
mod http;
mod limits;
mod magic;
mod operation;
mod robustness;
mod rules;
mod threads;
mod trace;
