//! `smtpsim blast`: load an SMTP server with many concurrent sessions and report messages per
//! second, latency percentiles and counts per reply code.

use std::fmt::Write as _;
use std::io::Write;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use smtpsim_proto::client::Credentials;
use smtpsim_server::blast::{self, BlastConfig, BlastReport, BlastTls};

/// Options of `smtpsim blast`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The server, as HOST:PORT.
    #[arg(long, default_value = "127.0.0.1:2525")]
    to: String,
    /// Messages to send in all (at least 1).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    messages: u64,
    /// Connections at once (1 to 100000).
    #[arg(long, default_value_t = 10, value_parser = ranged(blast::MAX_CONCURRENCY))]
    concurrency: usize,
    /// Size of each message in octets, headers included: from the headers' size (about 100)
    /// to 104857600 (100 MiB).
    #[arg(long, default_value_t = 1000)]
    size: usize,
    /// Recipients per message (1 to 1000).
    #[arg(long, default_value_t = 1, value_parser = ranged(blast::MAX_RECIPIENTS))]
    recipients: usize,
    /// Use STARTTLS on every connection (any certificate is accepted).
    #[arg(long, conflicts_with = "implicit_tls")]
    starttls: bool,
    /// Speak TLS from the first byte (port 465 style; any certificate is accepted).
    #[arg(long)]
    implicit_tls: bool,
    /// Authenticate as USER:PASSWORD; a server that does not offer AUTH stops the run before
    /// any message is sent.
    #[arg(long, value_name = "USER:PASSWORD")]
    auth: Option<String>,
    /// Keep each connection open for the next message instead of one connection per message.
    #[arg(long)]
    reuse: bool,
    /// Send MAIL, RCPT and DATA one at a time even if the server offers PIPELINING.
    #[arg(long)]
    no_pipelining: bool,
    /// The sender address.
    #[arg(long, default_value = "blast@example.com")]
    from: String,
    /// Recipients are rcptN@ this domain.
    #[arg(long, default_value = "example.net")]
    domain: String,
    /// Seconds to wait for the server at any step before giving up on a connection (1 to
    /// 86400).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    timeout: u64,
    /// Start this many messages a second, whether earlier ones are done or not (open load);
    /// latency then counts from when each message was due. Without it, each connection sends
    /// its next message as soon as the last is done. From 0.001 to 1000000, and the last
    /// message due within a year.
    #[arg(long, value_name = "PER_SECOND")]
    rate: Option<f64>,
    /// Also write the results as a one-row CSV file (with a header).
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    /// Print only the CSV row's figures, nothing else.
    #[arg(long, short)]
    quiet: bool,
}

/// A count from 1 to `max`.
fn ranged(max: usize) -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::<usize>::new().range(1..=max as u64)
}

/// The columns of `--csv`.
pub const CSV_HEADER: &str = "target,messages,concurrency,size,recipients,reuse,tls,elapsed_s,messages_per_s,accepted,connections,latency_p50_ms,latency_p90_ms,latency_p99_ms,latency_p999_ms,latency_max_ms,replies,rate_per_s";

fn resolve(to: &str) -> anyhow::Result<(SocketAddr, String)> {
    let addr = to
        .to_socket_addrs()
        .with_context(|| format!("--to {to}: not a HOST:PORT"))?
        .next()
        .with_context(|| format!("--to {to}: no address"))?;
    let host = to.rsplit_once(':').map_or(to, |(h, _)| h);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Ok((addr, host.to_string()))
}

/// Runs the load and prints the report; exits 0 when every message was accepted.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let (target, host) = resolve(&args.to)?;
    let mut config = BlastConfig::new(target);
    config.tls_name = if host.parse::<std::net::IpAddr>().is_ok() {
        "localhost".to_string()
    } else {
        host
    };
    config.messages = args.messages;
    config.concurrency = args.concurrency;
    config.size = args.size;
    config.recipients = args.recipients;
    config.tls = match (args.starttls, args.implicit_tls) {
        (true, _) => BlastTls::StartTls,
        (_, true) => BlastTls::Implicit,
        _ => BlastTls::Off,
    };
    config.credentials = match &args.auth {
        Some(pair) => {
            let (user, password) = pair.split_once(':').context("--auth takes USER:PASSWORD")?;
            Some(Credentials {
                user: user.to_string(),
                password: password.to_string(),
            })
        }
        None => None,
    };
    config.reuse = args.reuse;
    config.pipelining = !args.no_pipelining;
    config.from = args.from.clone();
    config.domain = args.domain.clone();
    config.timeout = Duration::from_secs(args.timeout);
    config.rate = args.rate;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let report = runtime.block_on(blast::run(config.clone()))?;
    if !args.quiet {
        write!(std::io::stdout(), "{}", text(&config, &report))?;
    }
    let row = csv_row(&args.to, &config, &report);
    if args.quiet {
        writeln!(std::io::stdout(), "{row}")?;
    }
    if let Some(path) = &args.csv {
        let body = format!("{CSV_HEADER}\n{row}\n");
        smtpsim_report::write_whole(path, body.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(if report.accepted == report.messages {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn ms(report: &BlastReport, quantile: f64) -> f64 {
    report.latency.value_at_quantile(quantile) as f64 / 1000.0
}

fn tls_name(tls: BlastTls) -> &'static str {
    match tls {
        BlastTls::Off => "none",
        BlastTls::StartTls => "starttls",
        BlastTls::Implicit => "implicit",
    }
}

fn replies(report: &BlastReport) -> String {
    let mut out = String::new();
    for (code, n) in &report.replies {
        if !out.is_empty() {
            out.push(' ');
        }
        let _ = write!(out, "{code}={n}");
    }
    out
}

fn text(config: &BlastConfig, report: &BlastReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "smtpsim blast: {} messages to {} in {:.3} s; {} at once, {} octets, {} recipient(s), {}, TLS {}",
        report.messages,
        config.target,
        report.elapsed.as_secs_f64(),
        config.concurrency,
        config.size,
        config.recipients,
        if config.reuse {
            "connections reused"
        } else {
            "a new connection per message"
        },
        tls_name(config.tls),
    );
    if let Some(rate) = config.rate {
        let _ = writeln!(
            out,
            "  open load: a message due every {:.3} ms ({rate} a second); latency counts from when each was due",
            1000.0 / rate
        );
    }
    let _ = writeln!(
        out,
        "  {:.0} messages/s; accepted {} ({:.0}/s), not accepted {}; {} connections",
        report.messages_per_second(),
        report.accepted,
        report.accepted_per_second(),
        report.messages - report.accepted,
        report.connections,
    );
    let _ = writeln!(
        out,
        "  latency: p50 {:.2}ms  p90 {:.2}ms  p99 {:.2}ms  p99.9 {:.2}ms  max {:.2}ms",
        ms(report, 0.5),
        ms(report, 0.9),
        ms(report, 0.99),
        ms(report, 0.999),
        report.latency.max() as f64 / 1000.0,
    );
    let _ = writeln!(out, "  replies per recipient: {}", replies(report));
    out
}

fn csv_row(target: &str, config: &BlastConfig, report: &BlastReport) -> String {
    format!(
        "{},{},{},{},{},{},{},{:.6},{:.1},{},{},{:.3},{:.3},{:.3},{:.3},{:.3},{},{}",
        target.replace(',', " "),
        report.messages,
        config.concurrency,
        config.size,
        config.recipients,
        config.reuse,
        tls_name(config.tls),
        report.elapsed.as_secs_f64(),
        report.messages_per_second(),
        report.accepted,
        report.connections,
        ms(report, 0.5),
        ms(report, 0.9),
        ms(report, 0.99),
        ms(report, 0.999),
        report.latency.max() as f64 / 1000.0,
        replies(report),
        config.rate.map(|r| r.to_string()).unwrap_or_default(),
    )
}
