//! `smtpsim serve`: a real SMTP server on a TCP port that behaves like a scenario's recipient
//! MX (or as the flags say), stores what it accepts in a Maildir and logs every session.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, bail};
use smtpsim_des::SimDuration;
use smtpsim_mail::records;
use smtpsim_mail::zone::Zone;
use smtpsim_model::auth::dns::StaticResolver;
use smtpsim_model::scenario::{
    self, CountBy, Duration as ScenarioDuration, FullMailboxes, Greylisting, Probability, Rate,
    Scenario,
};
use smtpsim_server::{Chaos, ServeConfig, Server, TlsSetup, shutdown_signal};

use crate::serve_explain;

/// Options of `smtpsim serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address of the main listener (plain SMTP with STARTTLS); port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:2525")]
    listen: SocketAddr,
    /// Address of a second listener that speaks TLS from the first byte (port 465 style).
    #[arg(long, value_name = "ADDR")]
    tls_listen: Option<SocketAddr>,
    /// The server's name in the greeting, the EHLO reply and the self-signed certificate.
    #[arg(long, default_value = "localhost")]
    hostname: String,
    /// Behave like the recipient MX of a domain in this scenario file.
    #[arg(long, value_name = "FILE")]
    scenario: Option<PathBuf>,
    /// The scenario's domain to behave like (default: the first domain with MX hosts).
    #[arg(long, requires = "scenario")]
    domain: Option<String>,
    /// Greylist: defer each new (client, sender, recipient) with 451 4.7.1 for this long
    /// (1s to 1d).
    #[arg(long, value_name = "DELAY", value_parser = parse_greylist)]
    greylist: Option<ScenarioDuration>,
    /// Fraction of addresses that do not exist (550 5.1.1), decided per address and seed (0
    /// to 1).
    #[arg(long, value_name = "FRACTION", value_parser = parse_probability)]
    unknown_users: Option<Probability>,
    /// An address that does not exist (550 5.1.1); repeat for several.
    #[arg(long = "unknown", value_name = "ADDRESS")]
    unknown: Vec<String>,
    /// Fraction of mailboxes that are full (452 4.2.2), decided per address and seed (0 to
    /// 1).
    #[arg(long, value_name = "FRACTION", value_parser = parse_probability)]
    full_mailboxes: Option<Probability>,
    /// Probability that a recipient is refused with 451 4.3.0 on an attempt (0 to 1).
    #[arg(long, value_name = "P", value_parser = parse_probability)]
    temp_failures: Option<Probability>,
    /// Messages per client address, such as "10/s" (over it: 451 4.7.28 at MAIL); above 0,
    /// at most 1000000/s.
    #[arg(long, value_name = "RATE", value_parser = parse_rate)]
    message_rate: Option<Rate>,
    /// New connections per client address, such as "5/s" (over it: 421 4.7.0); above 0, at
    /// most 1000000/s.
    #[arg(long, value_name = "RATE", value_parser = parse_rate)]
    connection_rate: Option<Rate>,
    /// What rate limits and greylisting count by: address, network (/24 or /64) or
    /// sender_domain.
    #[arg(long, value_name = "KEY", value_parser = parse_count_by)]
    count_by: Option<CountBy>,
    /// Refuse mail over a connection without TLS (530 5.7.0).
    #[arg(long)]
    require_tls: bool,
    /// The largest message accepted, such as "10MB" (552 5.3.4 above it); at least 1 octet.
    #[arg(long, value_name = "BYTES", value_parser = parse_size)]
    max_size: Option<scenario::Bytes>,
    /// Time the server takes to answer, such as "2s": each reply (or batch of replies to
    /// pipelined commands) waits this long, as a scenario's `latency` makes it wait (0s to
    /// 1h).
    #[arg(long, value_name = "DELAY", value_parser = parse_latency)]
    latency: Option<ScenarioDuration>,
    /// Hang up with 421 4.3.0 at random at a stage: STAGE=P with STAGE one of connect, helo,
    /// mail, rcpt, data, message, and P from 0 to 1; repeat for several stages.
    #[arg(long, value_name = "STAGE=P")]
    chaos: Vec<String>,
    /// Chaos hangs up without a reply instead of answering 421 (a crash or a lost connection,
    /// as the client sees it).
    #[arg(long, requires = "chaos")]
    chaos_drop: bool,
    /// Seed of the per-address decisions, temporary failures and chaos (default: the
    /// scenario's seed, or 1).
    #[arg(long)]
    seed: Option<u64>,
    /// A user for AUTH PLAIN and LOGIN, as USER:PASSWORD; repeat for several.
    #[arg(long = "user", value_name = "USER:PASSWORD")]
    users: Vec<String>,
    /// Offer AUTH before TLS too.
    #[arg(long)]
    auth_without_tls: bool,
    /// Refuse MAIL until the client has authenticated (530 5.7.0).
    #[arg(long)]
    require_auth: bool,
    /// No TLS at all: no STARTTLS, no implicit-TLS listener.
    #[arg(long, conflicts_with_all = ["cert", "key", "tls_listen"])]
    no_tls: bool,
    /// Certificate chain (PEM) instead of a self-signed certificate; needs --key.
    #[arg(long, requires = "key", value_name = "FILE")]
    cert: Option<PathBuf>,
    /// Private key (PEM) of --cert.
    #[arg(long, requires = "cert", value_name = "FILE")]
    key: Option<PathBuf>,
    /// Write the certificate the server presents (PEM) to this file, for clients to trust.
    #[arg(long, value_name = "FILE")]
    write_cert: Option<PathBuf>,
    /// Store each accepted message in this Maildir before answering 250 (otherwise: sink).
    #[arg(long, value_name = "DIR")]
    maildir: Option<PathBuf>,
    /// Append a JSON Lines session log to this file. While it cannot be written (a full
    /// disk), new transactions get 451 4.3.0.
    #[arg(long, value_name = "FILE")]
    log: Option<PathBuf>,
    /// Stop the server (exit 2) when the session log cannot be written, instead of refusing
    /// transactions until it can.
    #[arg(long, requires = "log")]
    log_required: bool,
    /// The time allowed for a whole command line (421 4.4.2 after it; 1s to 1d).
    #[arg(long, default_value = "5m", value_parser = parse_timeout)]
    command_timeout: ScenarioDuration,
    /// The time allowed for a message's whole content, before the allowance of
    /// --min-data-rate, and the longest wait for the next octet of it (1s to 1d).
    #[arg(long, default_value = "3m", value_parser = parse_timeout)]
    data_timeout: ScenarioDuration,
    /// Content slower than this is cut off: each octet adds 1/BYTES_PER_S seconds to the
    /// --data-timeout of its message; 0 to 4294967295, 0 turns it off.
    #[arg(long, default_value_t = 500, value_name = "BYTES_PER_S")]
    min_data_rate: u32,
    /// Most connections open at once (1 to 1000000).
    #[arg(long, default_value_t = 1000, value_parser = connections())]
    max_connections: usize,
    /// Most connections open at once from one client address (1 to 1000000); loopback
    /// clients are exempt unless --limit-loopback.
    #[arg(long, default_value_t = 100, value_parser = connections())]
    max_connections_per_ip: usize,
    /// Apply --max-connections-per-ip to loopback clients (127.0.0.0/8, ::1) too.
    #[arg(long)]
    limit_loopback: bool,
    /// Print each session's annotated transcript when it closes, and for each message
    /// accepted its SPF, DKIM and DMARC results checked for real against the DNS of
    /// --scenario (with its keys derived from the seed) and the records of --dns-txt and
    /// --dns-file.
    #[arg(long)]
    explain: bool,
    /// A TXT record for --explain, as NAME=TEXT; repeat for several.
    #[arg(long = "dns-txt", value_name = "NAME=TEXT", requires = "explain")]
    dns_txt: Vec<String>,
    /// A file of TXT records for --explain, one a line: NAME TXT "TEXT".
    #[arg(long, value_name = "FILE", requires = "explain")]
    dns_file: Option<PathBuf>,
    /// Link speed: each connection reads and writes at most this many bytes a second in
    /// each direction (1 to 1000000000).
    #[arg(long, value_name = "BYTES_PER_S", value_parser = clap::builder::RangedU64ValueParser::<u64>::new().range(1..=smtpsim_server::MAX_BANDWIDTH))]
    bandwidth: Option<u64>,
    /// Reply rules: a TOML file of [[rule]] tables (stage, a regular expression on an
    /// address, the EHLO name, the client address, the AUTH user or a header, an optional
    /// probability, count or time window, and the reply); the first that applies wins.
    #[arg(long, value_name = "FILE")]
    rules: Option<PathBuf>,
    /// Print no line for each session (the start-up and summary lines still are).
    #[arg(long)]
    quiet: bool,
    /// Read magic addresses: the local part of a sender or recipient picks the reply for
    /// that message, such as rcpt-550-5.1.1@any.example (listed at start-up).
    #[arg(long)]
    magic: bool,
    /// After SIGINT or SIGTERM, how long sessions may go on before they are closed (0s to
    /// 1d).
    #[arg(long, default_value = "10s", value_parser = parse_grace)]
    shutdown_grace: ScenarioDuration,
    /// Serve the HTTP control and capture API and its page on this address (PORT alone, or
    /// localhost:PORT, means 127.0.0.1:PORT; port 0 picks a free port).
    #[arg(long, value_name = "ADDR", value_parser = parse_http)]
    http: Option<SocketAddr>,
    /// Let --http listen on an address that is not loopback: anyone who reaches it can read
    /// the mail and change the behaviour.
    #[arg(long, requires = "http")]
    http_public: bool,
    /// Most messages the API keeps; the oldest go first (1 to 1000000).
    #[arg(long, default_value_t = 1000, requires = "http", value_parser = captured())]
    http_max_messages: usize,
    /// Most octets of message content the API keeps in memory without --maildir, such as
    /// "100MB"; the oldest messages go first (1 octet to 64GiB).
    #[arg(long, default_value = "100MiB", requires = "http", value_parser = parse_capture_bytes)]
    http_max_bytes: scenario::Bytes,
    /// Most sessions the API keeps with their transcripts; the oldest go first (1 to
    /// 1000000).
    #[arg(long, default_value_t = 200, requires = "http", value_parser = captured())]
    http_max_sessions: usize,
    /// Worker threads of the async runtime (1 to 1024; default: one per CPU core). With
    /// fewer workers than cores, the clients on the same machine keep a core to themselves.
    #[arg(long, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1024))]
    threads: Option<usize>,
}

/// The range of `--http-max-messages` and `--http-max-sessions`.
fn captured() -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::<usize>::new()
        .range(1..=smtpsim_server::MAX_CAPTURED as u64)
}

/// `PORT` or `localhost:PORT` (on 127.0.0.1), or `ADDR:PORT`.
fn parse_http(s: &str) -> Result<SocketAddr, String> {
    if let Ok(port) = s.strip_prefix("localhost:").unwrap_or(s).parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    s.parse::<SocketAddr>()
        .map_err(|_| format!("{s:?} is neither a port nor an address such as 127.0.0.1:8025"))
}

fn parse_capture_bytes(s: &str) -> Result<scenario::Bytes, String> {
    let size: scenario::Bytes = s.parse()?;
    if size.0 == 0 || size.0 > smtpsim_server::MAX_CAPTURED_BYTES {
        return Err(format!("{s} is not between 1 octet and 64GiB"));
    }
    Ok(size)
}

/// The range of `--max-connections` and `--max-connections-per-ip`.
fn connections() -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::<usize>::new()
        .range(1..=smtpsim_server::MAX_CONNECTIONS as u64)
}

/// A duration between `min` and `max` (written as the flags take them, such as "1s").
fn parse_duration_in(s: &str, min: &str, max: &str) -> Result<ScenarioDuration, String> {
    let d = s.parse::<SimDuration>().map_err(|e| e.to_string())?;
    let (lo, hi) = (
        min.parse::<SimDuration>().expect("a valid bound"),
        max.parse::<SimDuration>().expect("a valid bound"),
    );
    if d < lo || d > hi {
        return Err(format!("{s} is not between {min} and {max}"));
    }
    Ok(ScenarioDuration(d))
}

fn parse_timeout(s: &str) -> Result<ScenarioDuration, String> {
    parse_duration_in(s, "1s", "1d")
}

fn parse_grace(s: &str) -> Result<ScenarioDuration, String> {
    parse_duration_in(s, "0s", "1d")
}

fn parse_greylist(s: &str) -> Result<ScenarioDuration, String> {
    parse_duration_in(s, "1s", "1d")
}

fn parse_latency(s: &str) -> Result<ScenarioDuration, String> {
    parse_duration_in(s, "0s", "1h")
}

fn parse_size(s: &str) -> Result<scenario::Bytes, String> {
    let size: scenario::Bytes = s.parse()?;
    if size.0 == 0 {
        return Err("the largest message must be at least 1 octet".to_string());
    }
    Ok(size)
}

fn parse_probability(s: &str) -> Result<Probability, String> {
    let p: f64 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number between 0 and 1"))?;
    if (0.0..=1.0).contains(&p) {
        Ok(Probability(p))
    } else {
        Err(format!("a probability must be between 0 and 1, not {p}"))
    }
}

/// A `--message-rate` or `--connection-rate`: a scenario rate, within the scenario's range
/// (1e-9/s to 1e6/s).
fn parse_rate(s: &str) -> Result<Rate, String> {
    s.parse()
}

fn parse_count_by(s: &str) -> Result<CountBy, String> {
    s.parse()
}

fn std_duration(d: ScenarioDuration) -> std::time::Duration {
    d.0.into()
}

/// Builds the server's configuration from the options.
fn config(args: &Args) -> anyhow::Result<ServeConfig> {
    let mut config = ServeConfig::new(args.listen);
    config.tls_listen = args.tls_listen;
    config.hostname = args.hostname.clone();
    if let Some(path) = &args.scenario {
        let scenario = Scenario::load(path)?;
        let domain = match &args.domain {
            Some(name) => scenario.domain(name).with_context(|| {
                let names: Vec<&str> = scenario.domains.iter().map(|d| d.name.as_str()).collect();
                format!(
                    "{}: no domain {name:?}; its domains: {}",
                    path.display(),
                    names.join(", ")
                )
            })?,
            None => scenario
                .domains
                .iter()
                .find(|d| !d.mx.is_empty())
                .with_context(|| format!("{}: no domain has MX hosts", path.display()))?,
        };
        config.seed = scenario.simulation.seed;
        config.behaviour = domain.behaviour.clone();
        config.starttls = domain.behaviour.starttls;
        if let Some(first) = domain.mx.iter().min_by_key(|m| m.preference) {
            config.outages = first.outages.clone();
        }
    }
    if let Some(seed) = args.seed {
        config.seed = seed;
    }
    let b = &mut config.behaviour;
    if let Some(delay) = args.greylist {
        b.greylisting = Some(Greylisting {
            delay,
            window: "4h".parse().map_err(anyhow::Error::msg)?,
            whitelist_after: 0,
            reply: None,
        });
    }
    if let Some(p) = args.unknown_users {
        b.unknown_users = p;
    }
    if let Some(fraction) = args.full_mailboxes {
        b.full_mailboxes = Some(FullMailboxes {
            fraction,
            permanent: false,
        });
    }
    if let Some(p) = args.temp_failures {
        b.temp_failures = p;
    }
    let bucket = |rate: Rate| scenario::TokenBucket {
        rate,
        burst: 1,
        reply: None,
    };
    if let Some(rate) = args.message_rate {
        b.rate_limits.messages = Some(bucket(rate));
    }
    if let Some(rate) = args.connection_rate {
        b.rate_limits.connections = Some(bucket(rate));
    }
    if let Some(by) = args.count_by {
        b.count_by = by;
    }
    b.require_tls |= args.require_tls;
    if args.max_size.is_some() {
        b.size_limit = args.max_size;
    }
    if let Some(latency) = args.latency {
        b.latency = scenario::Dist::constant(latency);
    }
    config.unknown = args.unknown.clone();
    let mut chaos = Chaos::default();
    for item in &args.chaos {
        let (stage, p) = item
            .split_once('=')
            .with_context(|| format!("--chaos takes STAGE=P, not {item:?}"))?;
        let p = parse_probability(p).map_err(anyhow::Error::msg)?;
        chaos
            .set(stage.trim(), p.0)
            .map_err(anyhow::Error::msg)
            .with_context(|| format!("--chaos {item}"))?;
    }
    chaos.drop = args.chaos_drop;
    config.chaos = chaos;
    for user in &args.users {
        let (name, password) = user
            .split_once(':')
            .with_context(|| format!("--user takes USER:PASSWORD, not {user:?}"))?;
        config.users.push((name.to_string(), password.to_string()));
    }
    config.auth_without_tls = args.auth_without_tls;
    config.require_auth = args.require_auth;
    config.tls = match (&args.cert, &args.key) {
        _ if args.no_tls => TlsSetup::Off,
        (Some(cert), Some(key)) => TlsSetup::Files {
            cert: cert.clone(),
            key: key.clone(),
        },
        _ => TlsSetup::SelfSigned,
    };
    if args.require_tls && args.no_tls {
        bail!("--require-tls needs TLS, and --no-tls switches it off");
    }
    config.maildir = args.maildir.clone();
    config.log = args.log.clone();
    config.timeouts.command = std_duration(args.command_timeout);
    config.timeouts.data = std_duration(args.data_timeout);
    config.timeouts.min_data_rate = u64::from(args.min_data_rate);
    config.max_connections = args.max_connections;
    config.max_connections_per_ip = args.max_connections_per_ip;
    config.limit_loopback = args.limit_loopback;
    config.log_required = args.log_required;
    config.shutdown_grace = std_duration(args.shutdown_grace);
    config.magic = args.magic;
    // --explain prints each session in full instead of its one line.
    config.console = !args.quiet && !args.explain;
    config.bandwidth = args.bandwidth;
    if let Some(path) = &args.rules {
        config.rules = std::sync::Arc::new(smtpsim_server::RuleSet::load(path)?);
    }
    config.http = args.http.map(|listen| smtpsim_server::http::HttpSetup {
        listen,
        public: args.http_public,
        bounds: smtpsim_server::CaptureBounds {
            max_messages: args.http_max_messages,
            max_bytes: args.http_max_bytes.0,
            max_sessions: args.http_max_sessions,
        },
    });
    Ok(config)
}

/// The log to follow and the printer of `--explain`, with the server's log and Maildir set
/// (in `scratch` unless given).
fn explainer(
    args: &Args,
    config: &mut ServeConfig,
    scratch: &Path,
) -> anyhow::Result<(PathBuf, serve_explain::Explainer)> {
    let log = config
        .log
        .get_or_insert_with(|| scratch.join("sessions.jsonl"))
        .clone();
    let maildir = config
        .maildir
        .get_or_insert_with(|| scratch.join("maildir"))
        .clone();
    let mut records = Vec::new();
    for text in &args.dns_txt {
        records.push(records::parse_assignment(text)?);
    }
    if let Some(path) = &args.dns_file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        records.extend(records::parse_file(&text, &path.display().to_string())?);
    }
    let mut dns = explain_zone(args)?;
    for (name, text) in records {
        dns = dns.with_txt(&name, text);
    }
    // The --http page explains the sessions it shows against the same DNS.
    config.explain = Some(Arc::new(dns.clone()));
    Ok((log, serve_explain::Explainer::new(dns, maildir)))
}

/// The DNS `--explain` checks mail against: the scenario's, with its keys derived from the
/// seed, or no records at all.
fn explain_zone(args: &Args) -> anyhow::Result<Zone> {
    Ok(match &args.scenario {
        Some(path) => {
            let scenario = Scenario::load(path)?;
            let seed = args.seed.unwrap_or(scenario.simulation.seed);
            Zone::for_seed(&scenario, seed)
        }
        None => Zone::from(StaticResolver::new()),
    })
}

/// Serves until SIGINT or SIGTERM; prints where it listens on stdout at once.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let mut config = config(args)?;
    // --explain reads what the server logs and stores: in a scratch folder unless given.
    let scratch = tempfile::tempdir().context("cannot make a scratch folder")?;
    let explain = match args.explain {
        true => Some(explainer(args, &mut config, scratch.path())?),
        false => None,
    };
    let describe = config.describe();
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(threads) = args.threads {
        runtime.worker_threads(threads);
    }
    let runtime = runtime
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let server = Server::bind(config).await?;
        if let (Some(path), Some(cert)) = (&args.write_cert, server.certificate()) {
            std::fs::write(path, &cert.cert_pem)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "smtpsim serve: {describe}; listening on {}",
            server.local_addr()
        )?;
        if let Some(addr) = server.tls_local_addr() {
            writeln!(out, "smtpsim serve: implicit TLS on {addr}")?;
        }
        if let Some(addr) = server.http_local_addr() {
            writeln!(out, "smtpsim serve: HTTP API and page on http://{addr}/")?;
        }
        if args.magic {
            writeln!(out, "smtpsim serve: {}", smtpsim_server::magic_listing())?;
        }
        out.flush()?;
        drop(out);
        let stop = Arc::new(AtomicBool::new(false));
        let follower = explain.map(|(log, explainer)| {
            let stop = stop.clone();
            std::thread::spawn(move || serve_explain::follow(&log, explainer, stop))
        });
        let summary = server.run(shutdown_signal()).await?;
        stop.store(true, Ordering::Release);
        if let Some(follower) = follower {
            follower
                .join()
                .map_err(|_| anyhow::anyhow!("the --explain printer failed"))??;
        }
        println!(
            "smtpsim serve: stopped after {} connections ({} refused at the limits), {} messages accepted",
            summary.connections, summary.refused, summary.messages
        );
        Ok(ExitCode::SUCCESS)
    })
}
