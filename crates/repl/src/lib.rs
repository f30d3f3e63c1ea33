//! # smtpsim-repl: an SMTP session to type into
//!
//! The session behind `smtpsim repl`: a simulated telnet connection to smtpsim's own server
//! session, in memory. Lines typed by the user go in ([`Repl::input`]); the server's genuine
//! replies come out, each with a short explanation from the reply-code catalogue and a
//! suggested next command. There is no terminal code here: a driver reads lines, passes the
//! time, and prints the [`Line`]s it gets back (colouring them by [`Kind`] if it likes).
//!
//! The servers are a scenario's receiving domains, each with the recipient-MX behaviour the
//! simulator uses (greylisting, rate limits, unknown users, full mailboxes, random temporary
//! failures, outages, TLS required, size limits), or without a scenario one server that
//! accepts everything. Time is an argument: the driver passes the time elapsed on the wall
//! clock (or zero for a virtual clock), and `wait 5m` moves the clock forward so that a
//! greylisting delay can be seen passing.
//!
//! ```
//! use smtpsim_des::SimDuration;
//! use smtpsim_repl::{Config, Kind, Repl};
//!
//! let mut repl = Repl::new(Config::default()).unwrap();
//! let t = SimDuration::ZERO;
//! let lines = repl.input("connect", t);
//! assert!(lines.iter().any(|l| l.text.starts_with("S: 220 mx.example.net")));
//! let lines = repl.input("EHLO client.example.com", t);
//! assert!(lines.iter().any(|l| l.kind == Kind::Server && l.text == "S: 250-STARTTLS"));
//! assert!(lines.iter().any(|l| l.kind == Kind::Hint && l.text.contains("STARTTLS")));
//! ```

#![forbid(unsafe_code)]

mod draft;
mod help;
mod hint;
mod meta;
mod notes;
mod output;
mod world;

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use smtpsim_des::{SimDuration, SimTime};
use smtpsim_model::scenario::{OutageMode, Scenario};
use smtpsim_proto::command::{Command, ForwardPath};
use smtpsim_proto::reply::parse_reply;
use smtpsim_proto::server::{ServerEvent, ServerSession};

pub use output::{Kind, Line};
pub use world::Account;

use hint::{Progress, Sent, Situation};
use meta::Meta;
use output::Out;
use world::{ReplPolicy, World};

/// How to set up a [`Repl`].
#[derive(Debug, Clone)]
pub struct Config {
    /// The scenario whose receiving domains are the servers; `None` for one server,
    /// `mx.example.net`, that accepts everything.
    pub scenario: Option<Scenario>,
    /// The domain `connect` opens when not told otherwise; by default the first.
    pub domain: Option<String>,
    /// Explain every reply and suggest the next command.
    pub explain: bool,
    /// The account the servers accept for AUTH.
    pub account: Account,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            scenario: None,
            domain: None,
            explain: true,
            account: Account::default(),
        }
    }
}

/// Why a [`Repl`] could not be set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The scenario has no domain with MX hosts to connect to.
    NoServers,
    /// The domain asked for is not a receiving domain of the scenario.
    UnknownDomain {
        /// The domain asked for.
        domain: String,
        /// The domains there are.
        known: Vec<String>,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NoServers => f.write_str("the scenario has no domain with MX hosts"),
            Error::UnknownDomain { domain, known } => write!(
                f,
                "the scenario has no receiving domain {domain:?}; it has {}",
                known.join(", ")
            ),
        }
    }
}

impl std::error::Error for Error {}

/// What the server expects the next line to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// A command.
    Command,
    /// Message content (after 354), until a lone `.`.
    Data,
    /// A response to an AUTH challenge (after 334).
    Auth,
}

/// One open connection.
struct Connection {
    target: usize,
    host: usize,
    server: ServerSession<ReplPolicy>,
    outage: Option<OutageMode>,
    mode: Mode,
    progress: Progress,
}

/// The interactive session. See the [crate documentation](crate).
pub struct Repl {
    world: World,
    account: Account,
    explain: bool,
    default_target: usize,
    /// How far `wait` has moved the clock.
    offset: SimDuration,
    /// The elapsed time the driver last passed.
    elapsed: SimDuration,
    connection: Option<Connection>,
    finished: bool,
    /// The message `message` prepares.
    message: Option<draft::Draft>,
}

impl fmt::Debug for Repl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Repl")
            .field("explain", &self.explain)
            .field("now", &self.now())
            .field("connected", &self.connection.is_some())
            .finish_non_exhaustive()
    }
}

impl Repl {
    /// A session with nothing connected yet.
    ///
    /// # Errors
    ///
    /// [`Error::NoServers`] if the scenario has no domain with MX hosts,
    /// [`Error::UnknownDomain`] if `config.domain` is not one of them.
    pub fn new(config: Config) -> Result<Repl, Error> {
        let world = World::new(config.scenario.as_ref());
        if world.targets.is_empty() {
            return Err(Error::NoServers);
        }
        let default_target = match &config.domain {
            None => 0,
            Some(domain) => world.find(domain).ok_or_else(|| Error::UnknownDomain {
                domain: domain.clone(),
                known: world.targets.iter().map(|t| t.domain.clone()).collect(),
            })?,
        };
        Ok(Repl {
            world,
            account: config.account,
            explain: config.explain,
            default_target,
            offset: SimDuration::ZERO,
            elapsed: SimDuration::ZERO,
            connection: None,
            finished: false,
            message: None,
        })
    }

    /// What to print when the session starts.
    pub fn welcome(&self) -> Vec<Line> {
        help::welcome(self)
    }

    /// The prompt for the next line: `C: ` while connected, `smtpsim> ` otherwise.
    pub fn prompt(&self) -> &'static str {
        if self.connection.is_some() {
            "C: "
        } else {
            "smtpsim> "
        }
    }

    /// Whether the user asked to leave (`exit`, or `quit` while not connected).
    pub fn finished(&self) -> bool {
        self.finished
    }

    /// Whether a connection is open.
    pub fn connected(&self) -> bool {
        self.connection.is_some()
    }

    /// Whether replies are explained.
    pub fn explaining(&self) -> bool {
        self.explain
    }

    /// The session's clock: the elapsed time last passed plus what `wait` added.
    pub fn now(&self) -> SimTime {
        SimTime::from_offset(self.elapsed.saturating_add(self.offset))
    }

    /// Takes one typed line (without its line ending) at `elapsed` since the session started
    /// (pass zero for a clock that only `wait` moves), and returns what to print.
    pub fn input(&mut self, line: &str, elapsed: SimDuration) -> Vec<Line> {
        self.elapsed = self.elapsed.max(elapsed);
        let line = line.trim_end_matches(['\r', '\n']);
        let mut out = Out::default();
        let mode = self.connection.as_ref().map(|c| c.mode);
        if mode == Some(Mode::Data) {
            let sent = if line == "." {
                Sent::EndOfData
            } else {
                Sent::Other
            };
            self.send(line, sent, &mut out);
            return out.lines;
        }
        match meta::parse(line, mode.is_some()) {
            Some(meta) => self.meta(meta, &mut out),
            None if mode.is_none() && line.trim().is_empty() => {}
            None if mode.is_none() => out.error(
                "Not connected: type connect to open a connection (? lists what you can type).",
            ),
            None if mode == Some(Mode::Command) && line.trim().is_empty() => {}
            None => {
                let sent = if mode == Some(Mode::Auth) {
                    Sent::AuthResponse
                } else {
                    classify(line)
                };
                self.send(line, sent, &mut out);
                if sent == Sent::Rcpt {
                    self.note_recipient(line);
                }
            }
        }
        out.lines
    }

    fn meta(&mut self, meta: Meta, out: &mut Out) {
        match meta {
            Meta::Connect(domain) => self.connect(domain.as_deref(), out),
            Meta::Disconnect => match self.connection.take() {
                Some(_) => out.info("Connection closed (without QUIT)."),
                None => out.error("Not connected."),
            },
            Meta::Wait(d) => {
                self.offset = self.offset.saturating_add(d);
                out.info(format!(
                    "The clock moves {d} forward; it is now {}.",
                    self.clock()
                ));
            }
            Meta::Time => out.info(format!("It is {} since the session started.", self.clock())),
            Meta::ExplainSwitch(on) => {
                self.explain = on;
                out.info(if on {
                    "Explanations on: each reply is explained and the next command suggested."
                } else {
                    "Explanations off (explain on brings them back; hint suggests a command)."
                });
            }
            Meta::ExplainCode(input) => match smtpsim_proto::codes::explain(&input) {
                Ok(explanation) => {
                    for line in explanation.to_string().lines() {
                        out.push(Kind::Explain, line);
                    }
                }
                Err(error) => out.error(error.to_string()),
            },
            Meta::Hint => {
                let hint = self.hint();
                out.push(Kind::Hint, format!("next: {hint}"));
            }
            Meta::AuthPlain { user, password } => {
                if !self.expects(Mode::Command, out) {
                    return;
                }
                let response = BASE64.encode(format!("\0{user}\0{password}"));
                let line = format!("AUTH PLAIN {response}");
                out.push(Kind::Client, format!("C: {line}"));
                self.send(&line, Sent::Auth, out);
            }
            Meta::Base64(text) => {
                let text = text.replace("\\0", "\0");
                let encoded = BASE64.encode(&text);
                if self.connection.as_ref().map(|c| c.mode) == Some(Mode::Auth) {
                    out.push(Kind::Client, format!("C: {encoded}"));
                    self.send(&encoded, Sent::AuthResponse, out);
                } else {
                    out.info(format!("{text:?} in base64 is {encoded}"));
                }
            }
            Meta::Message(command) => self.draft(command, out),
            Meta::Domains => help::domains(self, out),
            Meta::Help => help::help(self, out),
            Meta::Exit => {
                if self.connection.take().is_some() {
                    out.info("Connection closed.");
                }
                self.finished = true;
            }
            Meta::Invalid(message) => out.error(message),
        }
    }

    /// Whether a connection is open and waiting for `mode`; says why not if it is not.
    fn expects(&self, mode: Mode, out: &mut Out) -> bool {
        match self.connection.as_ref().map(|c| c.mode) {
            None => {
                out.error("Not connected: type connect first.");
                false
            }
            Some(m) if m != mode => {
                out.error("The server is in the middle of an AUTH exchange: answer it or send *.");
                false
            }
            Some(_) => true,
        }
    }

    fn connect(&mut self, domain: Option<&str>, out: &mut Out) {
        if let Some(c) = &self.connection {
            let host = &self.world.targets[c.target].hosts[c.host].name;
            out.error(format!(
                "Already connected to {host}: QUIT (or disconnect) first."
            ));
            return;
        }
        let target = match domain {
            None => self.default_target,
            Some(domain) => match self.world.find(domain) {
                Some(t) => t,
                None => {
                    out.error(format!(
                        "No receiving domain {domain:?} here; domains lists them."
                    ));
                    return;
                }
            },
        };
        let now = self.now();
        let clock = self.clock();
        let t = &self.world.targets[target];
        for (index, host) in t.hosts.iter().enumerate() {
            let outage = host.outage_at(now);
            if let Some(o) = outage {
                let what = match o.mode {
                    OutageMode::Refuse => "connection refused",
                    OutageMode::Timeout => "no answer, the connection timed out",
                    OutageMode::Reply421 => "",
                };
                if !what.is_empty() {
                    out.info(format!(
                        "Trying {}... {what} (the host is down until {}).",
                        host.name, o.end
                    ));
                    continue;
                }
            }
            let outage = outage.map(|o| o.mode);
            match host.ip {
                Some(ip) => out.info(format!("Trying {} ({ip})...", host.name)),
                None => out.info(format!("Trying {}...", host.name)),
            }
            out.info(format!(
                "Connected to {}, an MX host of {}, at {clock}, from {}.",
                host.name, t.domain, self.world.client_ip
            ));
            let policy = ReplPolicy {
                behaviour: t.behaviour.clone(),
                account: self.account.clone(),
            };
            policy.begin(now, outage);
            let server =
                ServerSession::new(host.config.clone(), policy, Some(self.world.client_ip));
            self.connection = Some(Connection {
                target,
                host: index,
                server,
                outage,
                mode: Mode::Command,
                progress: Progress::default(),
            });
            self.pump(Sent::Other, out);
            return;
        }
        out.error(format!("No MX host of {} answers at {clock}.", t.domain));
    }

    /// Sends one line to the server and prints what comes back.
    /// Keeps the address of an accepted RCPT as the transaction's first recipient, the one a
    /// message written afterwards (`message`) is addressed to.
    fn note_recipient(&mut self, line: &str) {
        if let (Some(c), Some(address)) = (self.connection.as_mut(), rcpt_address(line)) {
            c.progress.accepted(address);
        }
    }

    fn send(&mut self, line: &str, sent: Sent, out: &mut Out) {
        let now = self.now();
        let Some(c) = self.connection.as_mut() else {
            return;
        };
        c.server.policy().begin(now, c.outage);
        let mut bytes = Vec::with_capacity(line.len() + 2);
        bytes.extend_from_slice(line.as_bytes());
        bytes.extend_from_slice(b"\r\n");
        c.server.feed(&bytes);
        self.pump(sent, out);
    }

    /// Prints the server's output (replies, explained) and acts on its events.
    fn pump(&mut self, sent: Sent, out: &mut Out) {
        let explain = self.explain;
        let Some(c) = self.connection.as_mut() else {
            return;
        };
        let bytes = c.server.take_output();
        let printed = out.lines.len();
        let mut rest = &bytes[..];
        while !rest.is_empty() {
            match parse_reply(rest) {
                Ok(Some((reply, used))) => {
                    print_raw(&rest[..used], out);
                    rest = &rest[used..];
                    c.progress.record(sent, &reply);
                    c.mode = match reply.code.get() {
                        354 => Mode::Data,
                        334 => Mode::Auth,
                        _ => Mode::Command,
                    };
                    if explain {
                        for line in notes::explain(&reply) {
                            out.push(Kind::Explain, format!("   {line}"));
                        }
                    }
                }
                _ => {
                    print_raw(rest, out);
                    break;
                }
            }
        }
        // The end-of-data check's findings, after the reply they led to.
        let found = self.world.checks.borrow_mut().found.take();
        for sentence in found.iter().flat_map(|checked| checked.sentences()) {
            out.push(Kind::Info, format!("   {sentence}"));
        }
        let mut closed = c.server.is_closed();
        while let Some(event) = c.server.poll_event() {
            match event {
                ServerEvent::StartTls => {
                    c.server.tls_established();
                    c.progress.reset();
                    out.info(
                        "   (TLS handshake done, pretended in memory. The session starts over: \
                         say EHLO again.)",
                    );
                }
                ServerEvent::MessageAccepted(message) => out.info(format!(
                    "   (The server took the message: {} bytes from <{}> for {}.)",
                    message.content.len(),
                    message.envelope.from,
                    message
                        .envelope
                        .recipients
                        .iter()
                        .map(|r| format!("<{r}>"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
                ServerEvent::Close => closed = true,
            }
        }
        if closed {
            self.connection = None;
            out.info("Connection closed by foreign host.");
        }
        // Content lines in DATA mode get no reply, and no new suggestion either.
        if explain && out.lines.len() > printed {
            let hint = self.hint();
            out.push(Kind::Hint, format!("   next: {hint}"));
        }
    }

    /// The suggested next command.
    fn hint(&self) -> String {
        let empty = Progress::default();
        let (connected, mode, info, config, progress, target) = match &self.connection {
            Some(c) => {
                let t = &self.world.targets[c.target];
                (
                    true,
                    c.mode,
                    Some(c.server.info()),
                    Some(&t.hosts[c.host].config),
                    &c.progress,
                    t,
                )
            }
            None => (
                false,
                Mode::Command,
                None,
                None,
                &empty,
                &self.world.targets[self.default_target],
            ),
        };
        let tls = info.is_some_and(|i| i.tls);
        let recipient = format!("bob@{}", target.domain);
        let greylist_delay = target
            .behaviour
            .borrow()
            .config()
            .greylisting
            .as_ref()
            .map(|g| g.delay.0);
        hint::next(&Situation {
            connected,
            in_data: mode == Mode::Data,
            in_auth: mode == Mode::Auth,
            greeted: info.is_some_and(|i| i.helo.is_some()),
            tls,
            starttls_offered: config.is_some_and(|c| c.starttls) && !tls,
            authenticated: info.is_some_and(|i| i.authenticated.is_some()),
            auth_offered: config.is_some_and(|c| c.offers_auth(tls)),
            progress,
            client_name: &self.world.client_name,
            sender: &self.world.sender,
            recipient: &recipient,
            user: &self.account.user,
            password: &self.account.password,
            greylist_delay,
        })
    }

    /// The clock in whole seconds, as `5m` or `317s`.
    fn clock(&self) -> String {
        SimDuration::from_secs(self.now().as_micros() / 1_000_000).to_string()
    }
}

/// Prints server bytes as `S: ` lines, exactly as sent (without the line endings).
fn print_raw(bytes: &[u8], out: &mut Out) {
    let text = String::from_utf8_lossy(bytes);
    for line in text.split_terminator('\n') {
        out.push(Kind::Server, format!("S: {}", line.trim_end_matches('\r')));
    }
}

/// The address of a `RCPT TO:` line (`Postmaster` for `<Postmaster>`), as the protocol core
/// parses it.
fn rcpt_address(line: &str) -> Option<String> {
    match Command::parse(line.as_bytes()) {
        Ok(Command::Rcpt { to, .. }) => Some(match to {
            ForwardPath::Postmaster => "Postmaster".to_string(),
            ForwardPath::Mailbox(address) => address.to_string(),
        }),
        _ => None,
    }
}

/// What a command line is, as the protocol core parses it.
fn classify(line: &str) -> Sent {
    match Command::parse(line.as_bytes()) {
        Ok(Command::Helo { .. } | Command::Ehlo { .. }) => Sent::Helo,
        Ok(Command::Mail { .. }) => Sent::Mail,
        Ok(Command::Rcpt { .. }) => Sent::Rcpt,
        Ok(Command::Data) => Sent::Data,
        Ok(Command::Bdat { last: true, .. }) => Sent::EndOfData,
        Ok(Command::Rset) => Sent::Rset,
        Ok(Command::StartTls) => Sent::StartTls,
        Ok(Command::Auth { .. }) => Sent::Auth,
        Ok(Command::Quit) => Sent::Quit,
        _ => Sent::Other,
    }
}
