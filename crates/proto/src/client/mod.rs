//! The client side of an SMTP session as a sans-IO state machine: one delivery attempt.
//!
//! A [`ClientSession`] is created for one message when the connection is open. The driver
//! feeds it what the server sends ([`ClientSession::feed`]), sends what it produces
//! ([`ClientSession::take_output`]) and acts on its events ([`ClientSession::poll_event`]).
//! The session says EHLO (HELO when EHLO is refused), upgrades with STARTTLS when asked to,
//! authenticates when given credentials, then MAIL, each RCPT, DATA, the dot-stuffed content
//! and QUIT, pipelining MAIL/RCPT/DATA when the server offers PIPELINING. Its
//! [`Outcome`] says, per recipient, accepted, deferred or rejected, with the reply that said so.
//!
//! ```
//! use std::sync::Arc;
//! use smtpsim_proto::client::{ClientConfig, ClientSession, OutgoingMessage, Status};
//! use smtpsim_proto::server::{AcceptAll, ServerConfig, ServerSession};
//!
//! let message = OutgoingMessage::new("a@example.com", ["b@example.net"], b"Subject: hi\r\n\r\nHello\r\n".to_vec());
//! let mut client = ClientSession::new(ClientConfig::new("relay.example.com"), message).unwrap();
//! let mut server = ServerSession::new(Arc::new(ServerConfig::new("mx.example.net")), AcceptAll, None);
//! while !client.is_finished() {
//!     client.feed(&server.take_output());
//!     server.feed(&client.take_output());
//! }
//! let outcome = client.outcome().unwrap();
//! assert_eq!(outcome.recipients[0].status, Status::Accepted);
//! ```

mod capabilities;
mod outcome;

use std::sync::Arc;

use smallvec::SmallVec;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

pub use capabilities::Capabilities;
pub use outcome::{Outcome, RecipientOutcome, Stage, Status};

use crate::command::{
    Address, AuthMechanism, Command, CommandError, ForwardPath, Host, RcptParams, ReversePath,
};
use crate::data::write_dot_stuffed;
use crate::fifo::Fifo;
use crate::reply::{RawReply, Reply, ReplyError, parse_reply_raw};

/// When to use STARTTLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TlsMode {
    /// Never.
    Never,
    /// When the server offers it (the usual MTA-to-MTA behaviour).
    #[default]
    Opportunistic,
    /// Always; a server that does not offer it fails the attempt (the submission behaviour).
    Required,
}

/// A user name and password for AUTH PLAIN or LOGIN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user name (authentication identity).
    pub user: String,
    /// The password.
    pub password: String,
}

/// How the client behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// The name given in EHLO/HELO.
    pub helo_name: String,
    /// When to use STARTTLS.
    pub tls: TlsMode,
    /// Credentials to authenticate with, if any (PLAIN preferred, LOGIN otherwise).
    pub credentials: Option<Credentials>,
    /// Pipeline MAIL, RCPT and DATA when the server offers PIPELINING.
    pub pipelining: bool,
    /// Keep the C:/S: lines of the conversation ([`ClientSession::transcript`]).
    pub transcript: bool,
    /// Do not send QUIT when the transaction is over: the connection stays open for another
    /// message ([`ClientSession::resume`]).
    pub keep_open: bool,
}

impl ClientConfig {
    /// A client named `helo_name`: opportunistic TLS, no AUTH, pipelining when offered, no
    /// transcript.
    pub fn new(helo_name: impl Into<String>) -> ClientConfig {
        ClientConfig {
            helo_name: helo_name.into(),
            tls: TlsMode::Opportunistic,
            credentials: None,
            pipelining: true,
            transcript: false,
            keep_open: false,
        }
    }
}

/// The message one attempt delivers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMessage {
    /// The reverse-path without angle brackets; empty for the null path (bounces).
    pub from: String,
    /// The recipients, without angle brackets.
    pub recipients: Vec<String>,
    /// The content with CRLF line endings, not dot-stuffed (the session stuffs it).
    pub content: Arc<[u8]>,
    /// The size declared with `SIZE=` when the server offers it; the content's length if
    /// `None`. A simulator sends a short stand-in for a large message and declares the size
    /// the message stands for.
    pub declared_size: Option<u64>,
}

impl OutgoingMessage {
    /// A message from `from` to `recipients`.
    pub fn new<R: Into<String>>(
        from: impl Into<String>,
        recipients: impl IntoIterator<Item = R>,
        content: impl Into<Arc<[u8]>>,
    ) -> OutgoingMessage {
        OutgoingMessage {
            from: from.into(),
            recipients: recipients.into_iter().map(Into::into).collect(),
            content: content.into(),
            declared_size: None,
        }
    }
}

/// Why a message could not be handed to a client session.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// The sender address does not parse.
    #[error("bad sender address {address:?}: {error}")]
    Sender {
        /// The address as given.
        address: String,
        /// What is wrong with it.
        error: CommandError,
    },
    /// A recipient address does not parse.
    #[error("bad recipient address {address:?}: {error}")]
    Recipient {
        /// The address as given.
        address: String,
        /// What is wrong with it.
        error: CommandError,
    },
    /// The message has no recipients.
    #[error("the message has no recipients")]
    NoRecipients,
}

/// Who said a transcript line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speaker {
    /// The client (`C:`).
    Client,
    /// The server (`S:`).
    Server,
    /// A note from the session, not sent on the wire.
    Note,
}

/// One line of a conversation, as the client saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptLine {
    /// Who said it.
    pub speaker: Speaker,
    /// The line without CRLF (message content is summarised, not copied).
    pub text: String,
}

/// What the client session asks its driver to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientEvent {
    /// The server accepted STARTTLS: perform the TLS handshake, then call
    /// [`ClientSession::tls_established`].
    StartTls,
    /// The attempt is over: send the remaining output, then close the connection.
    Close,
}

/// A reply the session is waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Greeting,
    Ehlo,
    Helo,
    StartTls,
    AuthUser,
    AuthPassword,
    AuthResult,
    Mail,
    Rcpt(usize),
    Data,
    Content,
    /// RSET, ending a failed transaction on a connection kept open.
    Rset,
    Quit,
}

/// The client side of one delivery attempt. See the [module documentation](self).
#[derive(Debug)]
pub struct ClientSession {
    config: ClientConfig,
    message: OutgoingMessage,
    input: Vec<u8>,
    output: Vec<u8>,
    events: Fifo<ClientEvent, 2>,
    expect: Fifo<Expect, 8>,
    capabilities: Capabilities,
    tls: bool,
    authenticated: bool,
    pipelined: bool,
    /// The server accepted MAIL and has not yet answered the content: a transaction is open
    /// on its side.
    in_transaction: bool,
    /// The attempt ended with the connection ready for another message.
    kept_open: bool,
    /// Per recipient: the RCPT reply, once it came.
    rcpt: SmallVec<[Option<bool>; 4]>,
    /// Per recipient: the final verdict, once known.
    results: SmallVec<[Option<RecipientOutcome>; 1]>,
    /// Every address is a plain `local-part@domain`, which the commands carry as written: no
    /// need to parse it again to write MAIL and RCPT.
    verbatim_paths: bool,
    transcript: Vec<TranscriptLine>,
    finished: bool,
}

impl ClientSession {
    /// Starts an attempt to deliver `message` on a freshly opened connection (the first thing
    /// expected is the server's greeting). Addresses are checked here.
    pub fn new(config: ClientConfig, message: OutgoingMessage) -> Result<Self, MessageError> {
        if message.recipients.is_empty() {
            return Err(MessageError::NoRecipients);
        }
        let mut verbatim_paths = true;
        if !message.from.is_empty() {
            let from = Address::parse(&message.from).map_err(|error| MessageError::Sender {
                address: message.from.clone(),
                error,
            })?;
            verbatim_paths &= matches!(from.domain, Host::Domain(_));
        }
        for recipient in &message.recipients {
            let to = parse_forward_path(recipient).map_err(|error| MessageError::Recipient {
                address: recipient.clone(),
                error,
            })?;
            verbatim_paths &= matches!(
                to,
                ForwardPath::Mailbox(Address {
                    domain: Host::Domain(_),
                    ..
                })
            );
        }
        let n = message.recipients.len();
        // Room for the commands and the dot-stuffed content, so the buffer does not grow.
        let output = Vec::with_capacity(256 + message.content.len() + message.content.len() / 16);
        let mut expect = Fifo::default();
        expect.push_back(Expect::Greeting);
        Ok(ClientSession {
            config,
            message,
            input: Vec::new(),
            output,
            events: Fifo::default(),
            expect,
            capabilities: Capabilities::default(),
            tls: false,
            authenticated: false,
            pipelined: false,
            in_transaction: false,
            kept_open: false,
            rcpt: smallvec::smallvec![None; n],
            results: smallvec::smallvec![None; n],
            verbatim_paths,
            transcript: Vec::new(),
            finished: false,
        })
    }

    /// Starts an attempt on a connection that is already open and greeted, between
    /// transactions: the server offered `capabilities`, TLS is `tls`, and any AUTH was done by
    /// an earlier message. The first bytes out are MAIL FROM (and, with PIPELINING, the RCPTs
    /// and DATA).
    pub fn resume(
        config: ClientConfig,
        message: OutgoingMessage,
        capabilities: Capabilities,
        tls: bool,
    ) -> Result<Self, MessageError> {
        let mut session = ClientSession::new(config, message)?;
        session.expect.clear();
        session.capabilities = capabilities;
        session.tls = tls;
        session.authenticated = session.config.credentials.is_some();
        session.note("connection reused for another message");
        session.mail();
        Ok(session)
    }

    /// Takes the bytes to send to the server.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.output)
    }

    /// Appends the bytes to send to `out` and clears them here (keeping both allocations).
    pub fn drain_output_into(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.output);
        self.output.clear();
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    /// Whether the attempt is over (QUIT answered, the server closed, or the connection broke).
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// The verdict for every recipient, once all are known (at the latest when finished).
    pub fn outcome(&self) -> Option<Outcome> {
        self.results
            .iter()
            .cloned()
            .collect::<Option<Vec<_>>>()
            .map(|recipients| Outcome { recipients })
    }

    /// Whether the attempt is over with the connection ready for another message
    /// ([`ClientConfig::keep_open`]): no QUIT was sent, the server did not close it, and a
    /// failed transaction was reset. Resume it with [`ClientSession::resume`].
    pub fn kept_open(&self) -> bool {
        self.kept_open
    }

    /// Whether the reply awaited next is the one to the message content (the content went
    /// out with the last commands).
    pub fn awaits_content_reply(&self) -> bool {
        self.expect.front() == Some(&Expect::Content)
    }

    /// Whether the only reply awaited is the one to QUIT.
    pub fn awaits_quit_reply(&self) -> bool {
        self.expect.front() == Some(&Expect::Quit)
    }

    /// What the server offered in its last EHLO reply.
    pub fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    /// The lines of the conversation, if [`ClientConfig::transcript`] is on.
    pub fn transcript(&self) -> &[TranscriptLine] {
        &self.transcript
    }

    /// The message this attempt delivers.
    pub fn message(&self) -> &OutgoingMessage {
        &self.message
    }

    /// The TLS handshake after STARTTLS completed: say EHLO again.
    pub fn tls_established(&mut self) {
        if self.finished || self.tls {
            return;
        }
        self.tls = true;
        self.note("TLS handshake completed");
        self.hello(Expect::Ehlo);
    }

    /// The connection broke (or could not be used any more): every recipient without a
    /// verdict is deferred.
    pub fn connection_lost(&mut self) {
        if self.finished {
            return;
        }
        let stage = self.current_stage();
        self.decide_all(stage, None, Some("connection lost"));
        self.note("connection lost");
        self.finish();
    }

    /// Feeds bytes received from the server.
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.finished {
            return;
        }
        if self.input.is_empty() {
            // The usual case: whole replies arrive together and are read where they lie; only
            // an unfinished reply at the end is kept for the next bytes.
            let used = self.take_replies(bytes);
            if !self.finished {
                self.input.extend_from_slice(&bytes[used..]);
            }
            return;
        }
        let mut input = std::mem::take(&mut self.input);
        input.extend_from_slice(bytes);
        let used = self.take_replies(&input);
        input.drain(..used);
        self.input = input;
    }

    /// Acts on every complete reply at the start of `input`; returns the bytes they took (all
    /// of `input` when it ended the session).
    fn take_replies(&mut self, input: &[u8]) -> usize {
        let mut used = 0;
        while !self.finished {
            match parse_reply_raw(&input[used..]) {
                Ok(Some((reply, n))) => {
                    used += n;
                    self.reply(&reply);
                }
                Ok(None) => return used,
                Err(error) => {
                    self.malformed(&error);
                    return input.len();
                }
            }
        }
        input.len()
    }

    fn malformed(&mut self, error: &ReplyError) {
        let stage = self.current_stage();
        self.note(&format!("malformed reply: {error}"));
        self.decide_all(stage, None, Some("malformed reply"));
        self.finish();
    }

    fn current_stage(&self) -> Stage {
        self.expect.front().map_or(Stage::Quit, |e| stage_of(*e))
    }

    /// Acts on one reply. The owned text ([`RawReply::to_reply`]) is made only where it is
    /// kept: in a verdict or the transcript.
    fn reply(&mut self, raw: &RawReply<'_>) {
        if self.config.transcript {
            for line in raw.to_reply().to_string().lines() {
                self.transcript.push(TranscriptLine {
                    speaker: Speaker::Server,
                    text: line.to_string(),
                });
            }
        }
        let code = raw.code;
        let Some(expect) = self.expect.pop_front() else {
            // Unsolicited (for example a 421 while idle): the server is going away.
            self.decide_all(Stage::Quit, Some(&raw.to_reply()), None);
            self.finish();
            return;
        };
        if code.get() == 421 && expect != Expect::Quit {
            // The server is closing the connection (RFC 5321 section 3.8).
            self.decide_all(stage_of(expect), Some(&raw.to_reply()), None);
            self.finish();
            return;
        }
        let ok = code.is_positive();
        match expect {
            Expect::Greeting if ok => self.hello(Expect::Ehlo),
            Expect::Ehlo if ok => {
                self.capabilities = Capabilities::from_raw_ehlo(raw);
                self.after_hello();
            }
            Expect::Ehlo if code.is_permanent() => self.hello(Expect::Helo),
            Expect::Helo if ok => {
                self.capabilities = Capabilities::default();
                self.after_hello();
            }
            Expect::StartTls if ok => self.events.push_back(ClientEvent::StartTls),
            Expect::StartTls if self.config.tls != TlsMode::Required => {
                self.note("STARTTLS refused; going on without TLS");
                self.authenticate_or_mail();
            }
            Expect::AuthUser | Expect::AuthPassword if code.get() == 334 => {
                let credentials = self
                    .config
                    .credentials
                    .clone()
                    .unwrap_or_else(|| Credentials {
                        user: String::new(),
                        password: String::new(),
                    });
                let secret = if expect == Expect::AuthUser {
                    self.expect.push_back(Expect::AuthPassword);
                    credentials.user
                } else {
                    self.expect.push_back(Expect::AuthResult);
                    credentials.password
                };
                let line = BASE64.encode(secret.as_bytes());
                self.send_raw_line(&line, "<base64 credential>");
            }
            Expect::AuthResult if ok => {
                self.authenticated = true;
                self.mail();
            }
            Expect::Mail if ok => {
                self.in_transaction = true;
                if !self.pipelined {
                    self.send_rcpt(0);
                }
            }
            Expect::Rcpt(i) => {
                self.rcpt[i] = Some(ok);
                if !ok && self.results[i].is_none() {
                    self.results[i] =
                        Some(RecipientOutcome::from_reply(Stage::Rcpt, &raw.to_reply()));
                }
                if !self.pipelined {
                    if i + 1 < self.message.recipients.len() {
                        self.send_rcpt(i + 1);
                    } else if self.any_accepted() {
                        self.send(&Command::Data);
                        self.expect.push_back(Expect::Data);
                    } else {
                        self.quit();
                    }
                }
            }
            Expect::Data if code.get() == 354 => {
                if self.any_accepted() {
                    self.send_content();
                } else {
                    // Pipelined DATA accepted with no valid recipient: send an empty message
                    // so the transaction ends, and ignore its result.
                    self.output.extend_from_slice(b".\r\n");
                    self.record(Speaker::Client, ".");
                }
                self.expect.push_back(Expect::Content);
            }
            Expect::Data => {
                let reply = raw.to_reply();
                self.decide_accepted(Stage::Data, reply.clone());
                self.decide_all(Stage::Data, Some(&reply), None);
                self.quit();
            }
            Expect::Content => {
                self.in_transaction = false;
                self.decide_accepted(Stage::Content, raw.to_reply());
                self.quit();
            }
            Expect::Quit => self.finish(),
            Expect::Rset if ok => {
                self.in_transaction = false;
                self.keep_for_next_message();
            }
            Expect::Rset => {
                // The transaction could not be ended: the connection is no use any more.
                self.note("RSET refused; closing the connection");
                self.send(&Command::Quit);
                self.expect.push_back(Expect::Quit);
            }
            Expect::Mail if self.pipelined => {
                // The RCPT and DATA replies still come (503s); every recipient fails here.
                self.decide_all(Stage::Mail, Some(&raw.to_reply()), None);
            }
            other => {
                // Greeting, EHLO (4xx), HELO, STARTTLS (required), AUTH or MAIL refused.
                self.decide_all(stage_of(other), Some(&raw.to_reply()), None);
                self.quit();
            }
        }
    }

    fn hello(&mut self, expect: Expect) {
        let domain = Host::Domain(&self.config.helo_name);
        let command = if expect == Expect::Helo {
            Command::Helo { domain }
        } else {
            Command::Ehlo { domain }
        };
        let start = self.output.len();
        command.write_to(&mut self.output);
        self.record_sent(start);
        self.expect.push_back(expect);
    }

    fn after_hello(&mut self) {
        let wants_tls = self.config.tls != TlsMode::Never && !self.tls;
        if wants_tls && self.capabilities.starttls {
            self.send(&Command::StartTls);
            self.expect.push_back(Expect::StartTls);
        } else if self.config.tls == TlsMode::Required && !self.tls {
            self.decide_all(
                Stage::StartTls,
                None,
                Some("TLS required but the server does not offer STARTTLS"),
            );
            self.quit();
        } else {
            self.authenticate_or_mail();
        }
    }

    fn authenticate_or_mail(&mut self) {
        let Some(credentials) = self.config.credentials.clone() else {
            return self.mail();
        };
        if self.authenticated {
            return self.mail();
        }
        if self.capabilities.auth_plain {
            let mut response = Vec::with_capacity(credentials.user.len() * 2 + 8);
            response.push(0);
            response.extend_from_slice(credentials.user.as_bytes());
            response.push(0);
            response.extend_from_slice(credentials.password.as_bytes());
            let encoded = BASE64.encode(response);
            let mut line = Vec::new();
            Command::Auth {
                mechanism: AuthMechanism::Plain,
                initial_response: Some(&encoded),
            }
            .write_to(&mut line);
            self.output.extend_from_slice(&line);
            self.record(Speaker::Client, "AUTH PLAIN <base64 credentials>");
            self.expect.push_back(Expect::AuthResult);
        } else if self.capabilities.auth_login {
            self.send(&Command::Auth {
                mechanism: AuthMechanism::Login,
                initial_response: None,
            });
            self.expect.push_back(Expect::AuthUser);
        } else {
            self.decide_all(
                Stage::Auth,
                None,
                Some("the server does not offer AUTH PLAIN or LOGIN"),
            );
            self.quit();
        }
    }

    fn mail(&mut self) {
        let content = &self.message.content;
        let utf8 =
            !self.message.from.is_ascii() || self.message.recipients.iter().any(|r| !r.is_ascii());
        let size = self.message.declared_size.unwrap_or(content.len() as u64);
        let params = self
            .capabilities
            .mail_params(size, !content.is_ascii(), utf8);
        self.pipelined = self.config.pipelining && self.capabilities.pipelining;
        let start = self.output.len();
        if self.verbatim_paths {
            self.output.extend_from_slice(b"MAIL FROM:<");
            self.output.extend_from_slice(self.message.from.as_bytes());
            self.output.push(b'>');
            params.write_to(&mut self.output);
            self.output.extend_from_slice(b"\r\n");
        } else {
            let from = if self.message.from.is_empty() {
                ReversePath::Null
            } else {
                ReversePath::Mailbox(Address::parse(&self.message.from).expect("checked in new"))
            };
            Command::Mail { from, params }.write_to(&mut self.output);
        }
        self.record_sent(start);
        self.expect.push_back(Expect::Mail);
        if self.pipelined {
            for i in 0..self.message.recipients.len() {
                self.send_rcpt(i);
            }
            self.send(&Command::Data);
            self.expect.push_back(Expect::Data);
        }
    }

    fn send_rcpt(&mut self, i: usize) {
        let start = self.output.len();
        let recipient = &self.message.recipients[i];
        if self.verbatim_paths {
            self.output.extend_from_slice(b"RCPT TO:<");
            self.output.extend_from_slice(recipient.as_bytes());
            self.output.extend_from_slice(b">\r\n");
        } else {
            let to = parse_forward_path(recipient).expect("checked in new");
            let command = Command::Rcpt {
                to,
                params: RcptParams::default(),
            };
            command.write_to(&mut self.output);
        }
        self.record_sent(start);
        self.expect.push_back(Expect::Rcpt(i));
    }

    /// Records the command written to the output from `start` on, if a transcript is kept.
    fn record_sent(&mut self, start: usize) {
        if self.config.transcript {
            let line = &self.output[start..];
            let text = String::from_utf8_lossy(line.strip_suffix(b"\r\n").unwrap_or(line));
            self.transcript.push(TranscriptLine {
                speaker: Speaker::Client,
                text: text.into_owned(),
            });
        }
    }

    fn send_content(&mut self) {
        write_dot_stuffed(&self.message.content, &mut self.output);
        if self.config.transcript {
            let summary = format!("<{} octets of message content>", self.message.content.len());
            self.record(Speaker::Client, &summary);
            self.record(Speaker::Client, ".");
        }
    }

    /// Ends the attempt: QUIT, or, when the connection is kept for another message, nothing
    /// more than RSET if a failed transaction is still open on the server (RFC 5321 section
    /// 4.1.1.5), so the next MAIL starts afresh.
    fn quit(&mut self) {
        if self.config.keep_open {
            if self.in_transaction {
                self.send(&Command::Rset);
                self.expect.push_back(Expect::Rset);
                return;
            }
            self.keep_for_next_message();
            return;
        }
        self.send(&Command::Quit);
        self.expect.push_back(Expect::Quit);
    }

    /// Ends the attempt leaving the connection open and clean for the next message.
    fn keep_for_next_message(&mut self) {
        self.note("connection kept open for another message");
        self.kept_open = true;
        self.finish();
    }

    fn finish(&mut self) {
        if !self.finished {
            self.finished = true;
            self.expect.clear();
            let stage = Stage::Quit;
            self.decide_all(stage, None, Some("the session ended without a verdict"));
            self.events.push_back(ClientEvent::Close);
        }
    }

    fn any_accepted(&self) -> bool {
        self.rcpt.contains(&Some(true))
    }

    /// Gives recipients accepted at RCPT the verdict of `reply` (DATA refused, or the reply
    /// to the content).
    fn decide_accepted(&mut self, stage: Stage, reply: Reply) {
        let waiting = |(rcpt, result): (&Option<bool>, &Option<RecipientOutcome>)| {
            *rcpt == Some(true) && result.is_none()
        };
        let Some(last) = self.rcpt.iter().zip(&self.results).rposition(waiting) else {
            return;
        };
        for i in 0..last {
            if waiting((&self.rcpt[i], &self.results[i])) {
                self.results[i] = Some(RecipientOutcome::from_reply(stage, &reply));
            }
        }
        self.results[last] = Some(RecipientOutcome::from_owned_reply(stage, reply));
    }

    /// Gives every recipient still without a verdict this one.
    fn decide_all(&mut self, stage: Stage, reply: Option<&Reply>, note: Option<&'static str>) {
        for result in &mut self.results {
            if result.is_none() {
                *result = Some(match reply {
                    Some(reply) => RecipientOutcome::from_reply(stage, reply),
                    None => RecipientOutcome::deferred(stage, note.unwrap_or("no reply")),
                });
            }
        }
    }

    fn send(&mut self, command: &Command<'_>) {
        let start = self.output.len();
        command.write_to(&mut self.output);
        self.record_sent(start);
    }

    /// Sends a SASL response line (not a command), recording `shown` instead of the secret.
    fn send_raw_line(&mut self, line: &str, shown: &str) {
        self.output.extend_from_slice(line.as_bytes());
        self.output.extend_from_slice(b"\r\n");
        self.record(Speaker::Client, shown);
    }

    fn note(&mut self, text: &str) {
        self.record(Speaker::Note, text);
    }

    fn record(&mut self, speaker: Speaker, text: &str) {
        if self.config.transcript {
            self.transcript.push(TranscriptLine {
                speaker,
                text: text.to_string(),
            });
        }
    }
}

fn stage_of(expect: Expect) -> Stage {
    match expect {
        Expect::Greeting => Stage::Greeting,
        Expect::Ehlo | Expect::Helo => Stage::Hello,
        Expect::StartTls => Stage::StartTls,
        Expect::AuthUser | Expect::AuthPassword | Expect::AuthResult => Stage::Auth,
        Expect::Mail => Stage::Mail,
        Expect::Rcpt(_) => Stage::Rcpt,
        Expect::Data => Stage::Data,
        Expect::Content => Stage::Content,
        Expect::Rset | Expect::Quit => Stage::Quit,
    }
}

fn parse_forward_path(recipient: &str) -> Result<ForwardPath<'_>, CommandError> {
    if recipient.eq_ignore_ascii_case("postmaster") {
        Ok(ForwardPath::Postmaster)
    } else {
        Address::parse(recipient).map(ForwardPath::Mailbox)
    }
}
