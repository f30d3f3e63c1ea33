//! `smtpsim explain` and `smtpsim codes`: the reply-code catalogue of the protocol core, read
//! out. Everything printed comes from `smtpsim_proto::codes`; nothing is written here but the
//! layout.

use std::io::Write;
use std::process::ExitCode;

use smtpsim_proto::codes::{self, ExplainError};

/// Options of `smtpsim explain`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to explain: a reply code (`451`), an enhanced status code (`5.7.1`), or a whole
    /// reply line in quotes (`"550 5.1.1 user unknown"`); several are explained in turn.
    #[arg(required = true, value_name = "CODE")]
    codes: Vec<String>,
}

/// Options of `smtpsim codes`.
#[derive(Debug, clap::Args)]
pub struct CodesArgs {}

/// Explains each code in turn; exits 2 if any input was not a code (the others are still
/// explained).
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    let mut failed = false;
    let mut first = true;
    for input in &args.codes {
        match codes::explain(input) {
            Ok(explanation) => {
                if !first {
                    writeln!(out)?;
                }
                first = false;
                writeln!(out, "{explanation}")?;
            }
            Err(error) => {
                failed = true;
                eprintln!("smtpsim explain: {}", describe(&error));
            }
        }
    }
    Ok(if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// The error, with a word on quoting when a reply line was probably split into words.
fn describe(error: &ExplainError) -> String {
    match error {
        ExplainError::NotACode(_) => format!(
            "{error}. To explain a whole reply line, quote it: smtpsim explain \"550 5.1.1 user \
             unknown\""
        ),
        _ => error.to_string(),
    }
}

/// Prints both tables of the catalogue.
pub fn run_codes(_: &CodesArgs) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    out.write_all(table().as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// The whole catalogue as text: the reply codes with their retry behaviour, then the enhanced
/// status codes with the classes they are used with.
pub fn table() -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Reply codes (RFC 5321 and extensions). Retry: what a sender does after the reply."
    );
    let _ = writeln!(s);
    let _ = writeln!(s, "code  retry       name");
    for info in codes::reply_codes() {
        let _ = writeln!(
            s,
            "{:<5} {:<11} {}",
            info.code,
            info.retry.label(),
            info.name
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "Enhanced status codes (RFC 3463, IANA registry). X is the class: 2 success, \
         4 transient, 5 permanent."
    );
    let _ = writeln!(s);
    let _ = writeln!(s, "code       classes  name");
    for info in codes::enhanced_codes() {
        let classes = info
            .classes
            .iter()
            .map(u8::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let code = format!("X.{}.{}", info.subject, info.detail);
        let _ = writeln!(s, "{code:<10} {classes:<8} {}", info.name);
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "smtpsim explain CODE tells what a code means, its usual causes, whether to retry and \
         what to do."
    );
    s
}
