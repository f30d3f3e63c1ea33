//! Integration tests of smtpsim-mail: one binary, a module per behaviour.

mod agreement;
mod lookups;
mod signatures;
