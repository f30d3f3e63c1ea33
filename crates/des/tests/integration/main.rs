//! The integration tests of `smtpsim-des`, in one binary: a module per behaviour.

mod queue_model;
mod simulation;
mod streams;
mod time_text;
