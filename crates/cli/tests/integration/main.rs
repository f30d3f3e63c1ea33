//! The integration tests of `smtpsim`, in one binary: a module per behaviour.

mod common;
mod support;

mod blast;
mod compare;
mod converse;
mod explain;
mod fit;
mod interrupt;
mod legends;
mod limits;
mod maillog;
mod maillog_import;
mod no_report;
mod pipe;
mod repl;
mod report;
mod run;
mod serve_console;
mod serve_curl;
mod serve_explain;
mod serve_ops;
mod serve_page;
mod serve_smtplib;
mod serve_swaks;
mod slurm;
mod sweep;
mod sweep_precision;
mod twin_exim;
mod twin_postfix;
mod walk;
mod walk_html;
