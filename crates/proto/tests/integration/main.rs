//! The integration tests of `smtpsim-proto`, in one binary: a module per behaviour.

mod common;

mod codes;
mod codes_wording;
mod command;
mod conversation;
mod data;
mod fuzz_corpus;
mod parse_allocations;
mod reply;
mod server;
mod server_junk;
mod server_props;
mod server_stream;
mod server_timers;
mod server_transcript;
