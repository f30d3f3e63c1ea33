//! The integration tests of `smtpsim-model`, in one binary: a module per behaviour.

mod support;

mod auth;
mod auth_props;
mod fuzz_corpus;
mod journeys;
mod limits;
mod scenarios;
mod stories;
mod validation;
