//! The server side of an SMTP session as a sans-IO state machine.
//!
//! A driver creates a [`ServerSession`] when a client connects, feeds it the bytes the client
//! sends ([`ServerSession::feed`]), sends the bytes it produces
//! ([`ServerSession::take_output`]) and acts on its events ([`ServerSession::poll_event`]):
//! a message was accepted, start the TLS handshake, close the connection. Every decision that
//! a real server makes about mail (greet or refuse, accept this sender, this recipient, this
//! message) is asked of a [`Policy`].
//!
//! ```
//! use std::sync::Arc;
//! use smtpsim_proto::server::{AcceptAll, ServerConfig, ServerEvent, ServerSession};
//!
//! let config = Arc::new(ServerConfig::new("mx.example.net"));
//! let mut server = ServerSession::new(config, AcceptAll, None);
//! assert!(server.take_output().starts_with(b"220 "));
//! server.feed(b"EHLO client.example\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n");
//! server.feed(b"Subject: hi\r\n\r\nHello\r\n.\r\nQUIT\r\n");
//! let mut messages = 0;
//! while let Some(event) = server.poll_event() {
//!     if let ServerEvent::MessageAccepted(m) = event {
//!         assert_eq!(m.content, b"Subject: hi\r\n\r\nHello\r\n");
//!         messages += 1;
//!     }
//! }
//! assert_eq!(messages, 1);
//! ```

mod auth;
mod content;
mod policy;
pub mod replies;
mod stream;
mod timers;
pub mod transaction;

use std::net::IpAddr;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

pub use policy::{AcceptAll, Decision, Envelope, Policy, SessionInfo};
pub use stream::HEAD_LIMIT;
pub use timers::Timeouts;

use crate::client::{Speaker, TranscriptLine};
use crate::command::format::decimal;
use crate::command::{
    AuthMechanism, Command, ForwardPath, Host, MailParams, RcptParams, ReversePath,
};
use crate::data::DataReader;
use crate::fifo::Fifo;
use crate::limits::Limits;
use crate::reply::Reply;

/// What a server offers and enforces. Build one with [`ServerConfig::new`] and adjust fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// The server's host name, used in the greeting and the EHLO reply.
    pub hostname: String,
    /// Text after the host name in the 220 greeting.
    pub banner: String,
    /// Size and count limits.
    pub limits: Limits,
    /// Deadlines for the client's command lines and content (see [`ServerSession::poll_timeout`]).
    pub timeouts: Timeouts,
    /// Hand message content to [`Policy::content`] piece by piece as it arrives, keeping only
    /// its head (the header section, at most [`HEAD_LIMIT`] octets) for [`Policy::message`] and
    /// [`ReceivedMessage::content`]: the memory of a session no longer grows with the message.
    /// Off by default: the whole content is kept and handed over at the end.
    pub stream_content: bool,
    /// Advertise and honour PIPELINING (RFC 2920).
    pub pipelining: bool,
    /// Advertise 8BITMIME (RFC 6152) and accept `BODY=8BITMIME`.
    pub eight_bit_mime: bool,
    /// Advertise ENHANCEDSTATUSCODES (RFC 2034) and put enhanced codes in replies.
    pub enhanced_status_codes: bool,
    /// Advertise SMTPUTF8 (RFC 6531) and accept non-ASCII addresses with it.
    pub smtputf8: bool,
    /// Advertise CHUNKING (RFC 3030) and accept BDAT.
    pub chunking: bool,
    /// Offer STARTTLS (the driver can perform a TLS handshake).
    pub starttls: bool,
    /// Offer AUTH PLAIN LOGIN; credentials are checked by [`Policy::auth`].
    pub auth: bool,
    /// Offer AUTH on a connection without TLS too (off by default: 538 5.7.11).
    pub auth_without_tls: bool,
    /// Refuse MAIL with 530 5.7.0 until STARTTLS has been done.
    pub require_tls: bool,
    /// Refuse MAIL with 530 5.7.0 until the client has authenticated.
    pub require_auth: bool,
    /// Keep the C:/S: lines of the conversation ([`ServerSession::take_transcript`]); message
    /// content is summarised and AUTH responses are masked.
    pub transcript: bool,
}

impl ServerConfig {
    /// A server named `hostname` offering PIPELINING, SIZE, 8BITMIME, ENHANCEDSTATUSCODES,
    /// SMTPUTF8 and CHUNKING, without STARTTLS or AUTH, with RFC 5321 limits.
    pub fn new(hostname: impl Into<String>) -> ServerConfig {
        ServerConfig {
            hostname: hostname.into(),
            banner: "ESMTP smtpsim".to_string(),
            limits: Limits::default(),
            timeouts: Timeouts::default(),
            stream_content: false,
            pipelining: true,
            eight_bit_mime: true,
            enhanced_status_codes: true,
            smtputf8: true,
            chunking: true,
            starttls: false,
            auth: false,
            auth_without_tls: false,
            require_tls: false,
            require_auth: false,
            transcript: false,
        }
    }

    /// Whether AUTH is on offer on a connection whose TLS state is `tls`.
    pub fn offers_auth(&self, tls: bool) -> bool {
        self.auth && (tls || self.auth_without_tls)
    }

    /// The EHLO reply text (one capability a line), as it stands for a connection whose TLS
    /// state is `tls`.
    pub fn ehlo_text(&self, tls: bool, client: &str) -> String {
        let mut text = String::with_capacity(160);
        text.push_str(&self.hostname);
        text.push_str(" greets ");
        text.push_str(client);
        self.each_capability(tls, |keyword| {
            text.push('\n');
            text.push_str(keyword);
        });
        text
    }

    /// Appends the EHLO reply in wire format, as [`Reply::write_to`] writes a 250 reply with
    /// [`ServerConfig::ehlo_text`], without building the text first.
    pub fn write_ehlo_reply(&self, tls: bool, client: &str, out: &mut Vec<u8>) {
        if self.hostname.contains('\n') || client.contains('\n') {
            // Text that spans lines of its own: let the reply writer split it.
            let text = self.ehlo_text(tls, client);
            return Reply::new_static(250, None, "")
                .with_text(text)
                .write_to(out);
        }
        let mut last = out.len();
        out.extend_from_slice(b"250-");
        out.extend_from_slice(self.hostname.as_bytes());
        out.extend_from_slice(b" greets ");
        out.extend_from_slice(client.as_bytes());
        out.extend_from_slice(b"\r\n");
        self.each_capability(tls, |keyword| {
            last = out.len();
            out.extend_from_slice(b"250-");
            out.extend_from_slice(keyword.as_bytes());
            out.extend_from_slice(b"\r\n");
        });
        // The last line says `250 `.
        out[last + 3] = b' ';
    }

    /// Calls `f` with each EHLO keyword line on offer, in order.
    fn each_capability(&self, tls: bool, mut f: impl FnMut(&str)) {
        if self.pipelining {
            f("PIPELINING");
        }
        match self.limits.message_size {
            Some(n) => {
                let mut keyword = [0; 25];
                keyword[..5].copy_from_slice(b"SIZE ");
                let mut buf = [0; 20];
                let digits = decimal(n, &mut buf).as_bytes();
                keyword[5..5 + digits.len()].copy_from_slice(digits);
                f(std::str::from_utf8(&keyword[..5 + digits.len()]).unwrap_or("SIZE"));
            }
            None => f("SIZE"),
        }
        if self.eight_bit_mime {
            f("8BITMIME");
        }
        if self.enhanced_status_codes {
            f("ENHANCEDSTATUSCODES");
        }
        if self.starttls && !tls {
            f("STARTTLS");
        }
        if self.offers_auth(tls) {
            f("AUTH PLAIN LOGIN");
        }
        if self.smtputf8 {
            f("SMTPUTF8");
        }
        if self.chunking {
            f("CHUNKING");
        }
    }
}

/// What the session asks its driver to do, or tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerEvent {
    /// A message was accepted (the policy said yes and the 250 reply is in the output).
    MessageAccepted(ReceivedMessage),
    /// The 220 reply to STARTTLS is in the output: send it, then perform the TLS handshake and
    /// call [`ServerSession::tls_established`]. Input fed before that is discarded.
    StartTls,
    /// Send the remaining output, then close the connection.
    Close,
}

/// A message the server accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    /// Sender and accepted recipients.
    pub envelope: Envelope,
    /// The content, dot-unstuffed, with CRLF line endings; with
    /// [`ServerConfig::stream_content`], only its head (the rest went to [`Policy::content`]).
    pub content: Vec<u8>,
    /// Octets of the whole content.
    pub size: u64,
}

#[derive(Debug)]
enum State {
    /// Reading commands.
    Command,
    /// The greeting was a refusal (554): only QUIT is answered (RFC 5321 section 3.1).
    Refused,
    /// Skipping the rest of an over-long command line.
    DiscardLine,
    /// Reading DATA content.
    Data(DataReader),
    /// Reading `remaining` octets of a BDAT chunk, to be answered with `refusal` if set.
    Bdat {
        remaining: u64,
        last: bool,
        refusal: Option<ChunkRefusal>,
    },
    /// Waiting for a SASL response line.
    Auth(AuthStep),
    /// STARTTLS accepted; waiting for the driver's handshake.
    TlsPending,
    /// The connection is over.
    Closed,
}

#[derive(Debug)]
enum AuthStep {
    Plain,
    LoginUser,
    LoginPassword { user: String },
}

/// A BDAT transfer in progress.
#[derive(Debug, Default)]
struct Chunks {
    content: Vec<u8>,
    size: u64,
    /// The first chunk was refused: the rest of the transfer is read and dropped.
    refused: bool,
}

/// Why a BDAT chunk is read and dropped.
#[derive(Debug)]
enum ChunkRefusal {
    /// A protocol error (counts as a bad command).
    Bad(Reply),
    /// The policy refused the content.
    Policy(Reply),
}

/// The server side of one SMTP connection. See the [module documentation](self).
#[derive(Debug)]
pub struct ServerSession<P> {
    config: Arc<ServerConfig>,
    policy: P,
    info: SessionInfo,
    state: State,
    input: Vec<u8>,
    output: Vec<u8>,
    events: Fifo<ServerEvent, 2>,
    envelope: Option<Envelope>,
    rcpt_attempts: usize,
    chunks: Option<Chunks>,
    bad_commands: u32,
    junk_commands: u32,
    clock: timers::Clock,
    stream: stream::Stream,
    transcript: Vec<TranscriptLine>,
}

impl<P: Policy> ServerSession<P> {
    /// Starts a session for a client that just connected from `client_ip`; the greeting (or
    /// the policy's refusal) is in the output at once.
    pub fn new(config: Arc<ServerConfig>, policy: P, client_ip: Option<IpAddr>) -> Self {
        let info = SessionInfo {
            client_ip,
            ..SessionInfo::default()
        };
        ServerSession::greet(config, policy, info)
    }

    /// Starts a session for a client that just connected, on a connection described by `info`
    /// (a connection with TLS from the start, as on an implicit-TLS port, has `info.tls`
    /// set); the greeting (or the policy's refusal) is in the output at once.
    pub fn greet(config: Arc<ServerConfig>, policy: P, info: SessionInfo) -> Self {
        let mut session = ServerSession::resume(config, policy, info);
        match session.policy.connect(&session.info) {
            Decision::Accept => session.send_greeting(),
            Decision::AcceptWith(reply) => session.send(&reply),
            Decision::Refuse(reply) if closes(&reply) => session.close_with(&reply),
            Decision::Refuse(reply) => {
                session.send(&reply);
                session.state = State::Refused;
            }
            Decision::Disconnect(reply) => session.close_with(&reply),
        }
        session
    }

    /// Goes on with a connection an earlier session object served: no greeting is sent and the
    /// policy is not asked about the connection again. `info` says where the conversation
    /// stands (the HELO name, TLS, messages so far), as [`ServerSession::info`] gave it when
    /// that session was between transactions. A driver that keeps connections open between
    /// messages (connection reuse) resumes them with this.
    pub fn resume(config: Arc<ServerConfig>, policy: P, info: SessionInfo) -> Self {
        ServerSession {
            config,
            policy,
            info,
            state: State::Command,
            input: Vec::new(),
            output: Vec::with_capacity(256),
            events: Fifo::default(),
            envelope: None,
            rcpt_attempts: 0,
            chunks: None,
            bad_commands: 0,
            junk_commands: 0,
            clock: timers::Clock::default(),
            stream: stream::Stream::default(),
            transcript: Vec::new(),
        }
    }

    /// What the session knows of the connection.
    pub fn info(&self) -> &SessionInfo {
        &self.info
    }

    /// The policy.
    pub fn policy(&self) -> &P {
        &self.policy
    }

    /// The policy, for a driver that tells it the time or reads its counters.
    pub fn policy_mut(&mut self) -> &mut P {
        &mut self.policy
    }

    /// Whether the connection is over (after QUIT, a 421, or a disconnecting policy).
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed)
    }

    /// Takes the bytes to send to the client.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.output)
    }

    /// Appends the bytes to send to `out` and clears them here (keeping both allocations).
    pub fn drain_output_into(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.output);
        self.output.clear();
    }

    /// Takes the lines of the conversation so far, if [`ServerConfig::transcript`] is on:
    /// commands as the client sent them ([`Speaker::Client`]), replies line by line
    /// ([`Speaker::Server`]), message content and AUTH responses as a summary
    /// ([`Speaker::Note`]).
    pub fn take_transcript(&mut self) -> Vec<TranscriptLine> {
        std::mem::take(&mut self.transcript)
    }

    fn record(&mut self, speaker: Speaker, text: String) {
        self.transcript.push(TranscriptLine { speaker, text });
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.events.pop_front()
    }

    /// The TLS handshake that followed STARTTLS completed: the session starts over (RFC 3207
    /// section 4.2), the client must say EHLO again, and STARTTLS is no longer offered.
    pub fn tls_established(&mut self) {
        if matches!(self.state, State::TlsPending) {
            self.info.tls = true;
            self.info.helo = None;
            self.info.esmtp = false;
            self.info.authenticated = None;
            self.reset_transaction();
            self.state = State::Command;
            self.clock.line_starts();
        }
    }

    /// Feeds bytes received from the client, processing every complete command (pipelined
    /// commands are answered in order) and any DATA or BDAT content.
    pub fn feed(&mut self, bytes: &[u8]) {
        if matches!(self.state, State::Closed | State::TlsPending) {
            return;
        }
        if self.input.is_empty() {
            let used = self.process(bytes);
            self.keep_unprocessed(&bytes[used..]);
        } else {
            let mut input = std::mem::take(&mut self.input);
            input.extend_from_slice(bytes);
            let used = self.process(&input);
            input.drain(..used);
            if self.input.is_empty() && !matches!(self.state, State::Closed | State::TlsPending) {
                self.input = input;
            }
        }
    }

    fn keep_unprocessed(&mut self, rest: &[u8]) {
        if !rest.is_empty() && !matches!(self.state, State::Closed | State::TlsPending) {
            self.input.extend_from_slice(rest);
        }
    }

    /// Processes as much of `data` as possible; returns how many bytes were used. Bytes that
    /// arrive after STARTTLS or after the connection closed count as used (discarded).
    fn process(&mut self, data: &[u8]) -> usize {
        let mut pos = 0;
        while pos < data.len() {
            let rest = &data[pos..];
            match &mut self.state {
                State::Closed | State::TlsPending => return data.len(),
                State::Data(reader) => {
                    let end = reader.feed(rest);
                    self.clock.content_arrived(end.unwrap_or(rest.len()));
                    self.stream_data();
                    match end {
                        Some(n) => {
                            pos += n;
                            self.end_of_data();
                        }
                        None => return data.len(),
                    }
                }
                State::Bdat { remaining, .. } => {
                    let take = (*remaining).min(rest.len() as u64) as usize;
                    *remaining -= take as u64;
                    let done = *remaining == 0;
                    self.clock.content_arrived(take);
                    self.chunk_bytes(&rest[..take]);
                    pos += take;
                    if done {
                        self.end_of_chunk();
                    }
                }
                State::DiscardLine => match memchr::memchr(b'\n', rest) {
                    Some(lf) => {
                        pos += lf + 1;
                        self.state = State::Command;
                        self.clock.line_starts();
                    }
                    None => return data.len(),
                },
                State::Command | State::Refused | State::Auth(_) => {
                    let limit = self.config.limits.command_line;
                    match memchr::memchr(b'\n', rest) {
                        Some(lf) => {
                            let line = &rest[..lf];
                            let line = line.strip_suffix(b"\r").unwrap_or(line);
                            pos += lf + 1;
                            self.clock.line_starts();
                            if self.config.transcript {
                                self.record_line(line);
                            }
                            if line.len() + 2 > limit {
                                self.bad(&crate::command::CommandError::LineTooLong.reply());
                            } else {
                                self.line(line);
                            }
                        }
                        None if rest.len() + 1 > limit => {
                            self.bad(&crate::command::CommandError::LineTooLong.reply());
                            if !matches!(self.state, State::Closed) {
                                self.state = State::DiscardLine;
                            }
                            return data.len();
                        }
                        None => return pos,
                    }
                }
            }
        }
        pos
    }

    fn record_line(&mut self, line: &[u8]) {
        let (speaker, text) = match self.state {
            State::Auth(_) => (Speaker::Note, "<AUTH response>".to_string()),
            _ => {
                let limit = self.config.limits.command_line;
                let mut text = if line.len() > limit {
                    let head = String::from_utf8_lossy(&line[..limit]);
                    format!("{head}... <{} octets in all>", line.len())
                } else {
                    String::from_utf8_lossy(line).into_owned()
                };
                // AUTH PLAIN <initial response> carries the password: keep only the mechanism.
                if text
                    .get(..5)
                    .is_some_and(|p| p.eq_ignore_ascii_case("AUTH "))
                {
                    let mechanism_end = text[5..].find(' ').map(|i| i + 5);
                    if let Some(end) = mechanism_end {
                        text.truncate(end);
                        text.push_str(" <initial response>");
                    }
                }
                (Speaker::Client, text)
            }
        };
        self.record(speaker, text);
    }

    fn line(&mut self, line: &[u8]) {
        match std::mem::replace(&mut self.state, State::Command) {
            State::Auth(step) => self.auth_response(step, line),
            State::Refused => {
                self.state = State::Refused;
                match Command::parse(line) {
                    Ok(Command::Quit) => self.close_with(&replies::BYE),
                    _ => self.bad(&replies::REFUSED_AT_GREETING),
                }
            }
            _ => match Command::parse(line) {
                Ok(command) => self.command(command),
                Err(error) => self.bad(&error.reply()),
            },
        }
    }

    fn command(&mut self, command: Command<'_>) {
        match command {
            Command::Helo { domain } => self.helo(domain, false),
            Command::Ehlo { domain } => self.helo(domain, true),
            Command::Mail { from, params } => self.mail(from, params),
            Command::Rcpt { to, params } => self.rcpt(to, params),
            Command::Data => self.data(),
            Command::Bdat { size, last } => self.bdat(size, last),
            Command::Rset => {
                self.reset_transaction();
                self.junk(&replies::OK);
            }
            Command::Noop { .. } => self.junk(&replies::OK),
            Command::Quit => self.close_with(&replies::BYE),
            Command::Vrfy { .. } => self.junk(&replies::VRFY),
            Command::Expn { .. } => self.junk(&replies::EXPN),
            Command::Help { .. } => self.junk(&replies::HELP),
            Command::StartTls => self.starttls(),
            Command::Auth {
                mechanism,
                initial_response,
            } => self.auth(mechanism, initial_response),
        }
    }

    fn helo(&mut self, domain: Host<'_>, esmtp: bool) {
        let decision = self.policy.helo(&self.info, &domain);
        let name = domain.render();
        let accepted = self.answer_with(decision, |session| {
            if esmtp {
                let start = session.output.len();
                let config = &session.config;
                config.write_ehlo_reply(session.info.tls, &name, &mut session.output);
                session.record_sent(start);
            } else {
                let hostname = session.config.hostname.clone();
                session.send(&Reply::new_static(250, None, "").with_text(hostname));
            }
        });
        if accepted {
            self.reset_transaction();
            self.info.helo = Some(name);
            self.info.esmtp = esmtp;
        }
    }

    /// The 220 greeting: the host name and the banner.
    fn send_greeting(&mut self) {
        let config = &self.config;
        if config.hostname.contains('\n') || config.banner.contains('\n') {
            let text = format!("{} {}", config.hostname, config.banner);
            return self.send(&Reply::new_static(220, None, "").with_text(text));
        }
        let start = self.output.len();
        self.output.extend_from_slice(b"220 ");
        self.output.extend_from_slice(config.hostname.as_bytes());
        self.output.push(b' ');
        self.output.extend_from_slice(config.banner.as_bytes());
        self.output.extend_from_slice(b"\r\n");
        self.record_sent(start);
    }

    fn mail(&mut self, from: ReversePath<'_>, params: MailParams<'_>) {
        let (config, open) = (&self.config, self.envelope.is_some());
        let answer = transaction::mail(config, &self.info, open, &from, &params, &mut self.policy);
        if self.respond(answer, &replies::SENDER_OK) {
            self.envelope = Some(Envelope {
                from: match from {
                    ReversePath::Null => String::new(),
                    ReversePath::Mailbox(address) => address.render(),
                },
                recipients: Vec::new(),
                declared_size: params.size,
                eight_bit: transaction::eight_bit(&params),
                smtputf8: params.smtputf8,
            });
            self.rcpt_attempts = 0;
        }
    }

    fn rcpt(&mut self, to: ForwardPath<'_>, params: RcptParams<'_>) {
        if self.envelope.is_some() {
            self.rcpt_attempts += 1;
        }
        let envelope = self.envelope.as_ref();
        let answer = transaction::rcpt(
            &self.config,
            &self.info,
            envelope,
            &to,
            &params,
            &mut self.policy,
        );
        if self.respond(answer, &replies::RECIPIENT_OK) {
            let recipient = match to {
                ForwardPath::Postmaster => "Postmaster".to_string(),
                ForwardPath::Mailbox(address) => address.render(),
            };
            if let Some(envelope) = &mut self.envelope {
                envelope.recipients.push(recipient);
            }
        }
    }

    /// Sends the reply a transaction step's answer calls for; returns whether the step was
    /// accepted.
    fn respond(&mut self, answer: transaction::Answer, accepted: &Reply) -> bool {
        let settled = answer.settle(&mut self.bad_commands, &self.config.limits);
        let reply = settled.reply.as_ref().unwrap_or(accepted);
        if settled.closes {
            self.close_with(reply);
        } else {
            self.send(reply);
        }
        settled.accepted
    }

    /// Sends the reply a decision calls for; returns whether the step was accepted.
    fn answer(&mut self, decision: Decision, accepted: &Reply) -> bool {
        self.answer_with(decision, |session| session.send(accepted))
    }

    /// [`ServerSession::answer`], with `accept` writing the positive reply.
    fn answer_with(&mut self, decision: Decision, accept: impl FnOnce(&mut Self)) -> bool {
        match decision {
            Decision::Accept => {
                accept(self);
                true
            }
            Decision::AcceptWith(reply) => {
                self.send(&reply);
                true
            }
            Decision::Refuse(reply) => {
                self.refuse(&reply);
                false
            }
            Decision::Disconnect(reply) => {
                self.close_with(&reply);
                false
            }
        }
    }

    /// Sends a refusal; a 421 closes the connection, as the code says (RFC 5321 section 3.8),
    /// whether the policy asked to disconnect or not.
    fn refuse(&mut self, reply: &Reply) {
        if closes(reply) {
            self.close_with(reply);
        } else {
            self.send(reply);
        }
    }

    /// Answers a bad command, counting it; past the limit the session answers 421 and closes.
    fn bad(&mut self, reply: &Reply) {
        let limits = &self.config.limits;
        match transaction::bad_command(&mut self.bad_commands, limits, reply.clone()) {
            (reply, true) => self.close_with(&reply),
            (reply, false) => self.send(&reply),
        }
    }

    /// Answers a command that moves no transaction forward (NOOP, RSET, VRFY, EXPN, HELP);
    /// past the junk-command limit each one also counts as a bad command.
    fn junk(&mut self, reply: &Reply) {
        self.junk_commands = self.junk_commands.saturating_add(1);
        if self.junk_commands > self.config.limits.junk_commands {
            self.bad(reply);
        } else {
            self.send(reply);
        }
    }

    fn close_with(&mut self, reply: &Reply) {
        self.send(reply);
        self.state = State::Closed;
        self.input.clear();
        self.discard_streamed();
        self.events.push_back(ServerEvent::Close);
    }

    fn reset_transaction(&mut self) {
        self.envelope = None;
        self.rcpt_attempts = 0;
        self.chunks = None;
        self.discard_streamed();
    }

    fn send(&mut self, reply: &Reply) {
        let start = self.output.len();
        if self.config.enhanced_status_codes || reply.enhanced.is_none() {
            reply.write_to(&mut self.output);
        } else {
            let mut plain = reply.clone();
            plain.enhanced = None;
            plain.write_to(&mut self.output);
        }
        self.record_sent(start);
    }

    /// Records the reply lines written to the output from `start` on, if a transcript is
    /// kept.
    fn record_sent(&mut self, start: usize) {
        if self.config.transcript {
            let written = String::from_utf8_lossy(&self.output[start..]).into_owned();
            for line in written.split_terminator("\r\n") {
                self.record(Speaker::Server, line.to_string());
            }
        }
    }
}

use transaction::closes;

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A configuration whose options are bits 0 to 8 of `bits`: PIPELINING, 8BITMIME,
    /// ENHANCEDSTATUSCODES, STARTTLS, AUTH, AUTH without TLS, SMTPUTF8, CHUNKING and SIZE.
    pub(crate) fn config_of_bits(name: &str, bits: u32) -> ServerConfig {
        let on = |bit: u32| bits & (1 << bit) != 0;
        let mut config = ServerConfig::new(name);
        config.pipelining = on(0);
        config.eight_bit_mime = on(1);
        config.enhanced_status_codes = on(2);
        config.starttls = on(3);
        config.auth = on(4);
        config.auth_without_tls = on(5);
        config.smtputf8 = on(6);
        config.chunking = on(7);
        config.limits.message_size = on(8).then_some(u64::from(bits) * 1_000_003);
        config
    }

    /// The EHLO reply written in place is the reply the text would give, for every mix of
    /// options.
    #[test]
    fn ehlo_reply_written_in_place_matches_the_reply_of_its_text() {
        for bits in 0u32..1 << 10 {
            let name = if bits & (1 << 9) != 0 {
                "mx\nsecond"
            } else {
                "mx.example"
            };
            let config = config_of_bits(name, bits);
            for tls in [false, true] {
                let mut written = b"before".to_vec();
                config.write_ehlo_reply(tls, "client.example", &mut written);
                let text = config.ehlo_text(tls, "client.example");
                let mut expected = b"before".to_vec();
                Reply::new_static(250, None, "")
                    .with_text(text)
                    .write_to(&mut expected);
                assert_eq!(
                    String::from_utf8_lossy(&written),
                    String::from_utf8_lossy(&expected)
                );
            }
        }
    }

    #[test]
    fn size_keyword_carries_the_limit() {
        let mut config = ServerConfig::new("mx");
        for (limit, keyword) in [
            (Some(0), "SIZE 0"),
            (Some(u64::MAX), "SIZE 18446744073709551615"),
            (None, "SIZE"),
        ] {
            config.limits.message_size = limit;
            assert!(config.ehlo_text(false, "c").lines().any(|l| l == keyword));
        }
    }
}
