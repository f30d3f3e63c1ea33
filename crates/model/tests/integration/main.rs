//! The integration tests of `smtpsim-model`, in one binary: a module per behaviour.

mod support;

mod auth;
mod auth_props;
mod automation;
mod cancel;
mod counting;
mod domain_shaping;
mod fuzz_corpus;
mod includes;
mod journeys;
mod limits;
mod pools;
mod providers;
mod recipient_limit;
mod retry_defaults;
mod retry_props;
mod retry_ranges;
mod scenarios;
mod shape;
mod stories;
mod suspend;
mod validation;
