//! The integration tests of `smtpsim-proto`, in one binary: a module per behaviour.

mod common;

mod codes;
mod command;
mod conversation;
mod data;
mod fuzz_corpus;
mod parse_allocations;
mod reply;
mod server;
mod server_props;
mod server_transcript;
