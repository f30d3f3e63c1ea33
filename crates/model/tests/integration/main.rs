//! The integration tests of `smtpsim-model`, in one binary: a module per behaviour.

mod support;

mod auth;
mod auth_props;
mod journeys;
mod recipient_limit;
mod scenarios;
mod stories;
mod validation;
