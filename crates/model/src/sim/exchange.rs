//! One SMTP exchange between the relay and an MX host, in either of two ways that give the
//! same answers:
//!
//! - [`sessions`]: the protocol core's client session against its server session, every line
//!   formatted and parsed, with the MX behaviour as the server's policy. Traces come from here.
//! - [`decisions`]: the same policy asked the same questions in the same order, with the replies
//!   the sessions would send, but no text. Untraced messages take this path.
//!
//! A test runs whole scenarios both ways and compares the results.

use std::net::IpAddr;
use std::sync::Arc;

use super::content::FactsRef;
use super::placement::AuthCheck;
use crate::behaviour::MxBehaviour;
use smtpsim_proto::Reply;
use smtpsim_proto::client::{
    Capabilities, ClientConfig, ClientSession, OutgoingMessage, RecipientOutcome, Speaker, Stage,
    Status, TlsMode,
};
use smtpsim_proto::command::{Address, ForwardPath, Host, MailParams, RcptParams, ReversePath};
use smtpsim_proto::loopback::converse;
use smtpsim_proto::server::{
    Decision, Envelope, Policy, ServerConfig, ServerSession, SessionInfo, replies,
};

/// What the relay sends in one attempt.
pub(crate) struct Attempt<'a> {
    pub client_ip: IpAddr,
    pub helo: &'a str,
    pub starttls: bool,
    pub pipelining: bool,
    pub from: &'a str,
    pub recipients: &'a [&'a str],
    /// Builds the content, when a session exchange gets that far.
    pub content: &'a dyn Fn() -> Vec<u8>,
    /// What the content shows the end-of-data check (the fast path hands over these instead
    /// of the content; a test checks both ways agree).
    pub facts: FactsRef<'a>,
    pub size: u64,
    /// Leave the connection open at the end (no QUIT), for another message.
    pub keep_open: bool,
    /// Go on with a connection that is open already, rather than opening one.
    pub resumed: Option<Resumed>,
}

/// Where an open connection stands between messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Resumed {
    /// TLS is on.
    pub tls: bool,
    /// Messages the server accepted on it so far.
    pub messages: u32,
}

/// What came of it.
pub(crate) struct Exchanged {
    /// One verdict per recipient, in order.
    pub recipients: Vec<RecipientOutcome>,
    /// Command round trips the exchange took (greeting and QUIT included as the client waits
    /// for them).
    pub round_trips: u32,
    /// The C:/S: lines, when run through the sessions.
    pub transcript: Vec<(Speaker, String)>,
    /// The connection can carry another message: it got past EHLO and nobody closed it.
    pub reusable: bool,
    /// Where the connection stands after this exchange.
    pub state: Resumed,
}

impl Exchanged {
    /// The greeting failed (421 or a refusal): another MX host may do better.
    pub fn refused_at_greeting(&self) -> bool {
        self.recipients.iter().all(|r| r.stage == Stage::Greeting)
    }
}

/// Round trips of an exchange that got as far as `stages` say; a resumed connection skips
/// the greeting, EHLO and STARTTLS, and a connection kept open after a failed transaction
/// takes one more for RSET.
fn round_trips(
    stages: &[RecipientOutcome],
    tls: bool,
    pipelining: bool,
    resumed: bool,
    keep_open: bool,
) -> u32 {
    let n = stages.len() as u32;
    let furthest = stages
        .iter()
        .map(|r| r.stage)
        .max()
        .unwrap_or(Stage::Greeting);
    let mut trips = 0;
    if !resumed {
        trips += 1; // connect and greeting
        if furthest == Stage::Greeting {
            return trips;
        }
        trips += 1; // EHLO
        if tls {
            trips += 3; // STARTTLS, handshake, EHLO again
        }
    }
    let any_accepted = stages.iter().any(|r| r.stage >= Stage::Data);
    trips += match (furthest, pipelining) {
        (Stage::Mail, _) => 1,
        // MAIL, RCPT... and DATA in one batch, then the content.
        (_, true) => 1 + u32::from(any_accepted),
        (Stage::Rcpt, false) => 1 + n,
        (_, false) => 1 + n + 1 + u32::from(any_accepted),
    };
    // MAIL was accepted but no content was answered: the client resets the transaction
    // before it leaves the connection for the next message.
    if keep_open && matches!(furthest, Stage::Rcpt | Stage::Data) && reusable(stages) {
        trips += 1;
    }
    trips
}

/// Runs the exchange through the client and server sessions.
pub(crate) fn sessions<P: Policy>(
    attempt: &Attempt<'_>,
    server_config: &Arc<ServerConfig>,
    policy: P,
    transcript: bool,
) -> Exchanged {
    let mut config = ClientConfig::new(attempt.helo);
    config.tls = if attempt.starttls {
        TlsMode::Opportunistic
    } else {
        TlsMode::Never
    };
    config.pipelining = attempt.pipelining;
    config.transcript = transcript;
    config.keep_open = attempt.keep_open;
    let mut message = OutgoingMessage::new(
        attempt.from,
        attempt.recipients.iter().copied(),
        Arc::<[u8]>::from((attempt.content)()),
    );
    message.declared_size = Some(attempt.size);
    let (mut client, mut server) = match attempt.resumed {
        None => (
            ClientSession::new(config, message),
            ServerSession::new(server_config.clone(), policy, Some(attempt.client_ip)),
        ),
        Some(open) => {
            // The server stands where the earlier message left it; the client knows what its
            // EHLO offered.
            let info = SessionInfo {
                client_ip: Some(attempt.client_ip),
                helo: Some(attempt.helo.to_string()),
                esmtp: true,
                tls: open.tls,
                authenticated: None,
                messages: open.messages,
            };
            let ehlo = Reply::new_static(250, None, "")
                .with_text(server_config.ehlo_text(open.tls, attempt.helo));
            let capabilities = Capabilities::from_ehlo(&ehlo);
            (
                ClientSession::resume(config, message, capabilities, open.tls),
                ServerSession::resume(server_config.clone(), policy, info),
            )
        }
    };
    let client = client
        .as_mut()
        .expect("the simulator's addresses are valid");
    converse(client, &mut server);
    let tls = server.info().tls;
    let recipients = client
        .outcome()
        .expect("a finished session has an outcome")
        .recipients;
    let pipelining = attempt.pipelining && client.capabilities().pipelining;
    let reusable = !server.is_closed() && reusable(&recipients);
    Exchanged {
        round_trips: round_trips(
            &recipients,
            tls,
            pipelining,
            attempt.resumed.is_some(),
            attempt.keep_open,
        ),
        transcript: client
            .transcript()
            .iter()
            .map(|line| (line.speaker, line.text.clone()))
            .collect(),
        reusable,
        state: Resumed {
            tls,
            messages: server.info().messages,
        },
        recipients,
    }
}

/// Whether a connection can carry another message after an exchange that ended so: it got past
/// EHLO, and no 421 closed it.
fn reusable(recipients: &[RecipientOutcome]) -> bool {
    recipients.iter().all(|r| {
        r.stage >= Stage::Mail && r.reply.as_ref().is_none_or(|reply| reply.code.get() != 421)
    })
}

/// A policy that can judge a message from the facts its content shows, without the content.
pub(crate) trait FactsPolicy: Policy {
    /// The end-of-data decision, as [`Policy::message`] would give it for content showing
    /// `facts`.
    fn message_facts(
        &mut self,
        session: &SessionInfo,
        envelope: &Envelope,
        facts: &FactsRef<'_>,
    ) -> Decision;
}

impl FactsPolicy for &mut MxBehaviour<AuthCheck> {
    fn message_facts(
        &mut self,
        session: &SessionInfo,
        envelope: &Envelope,
        facts: &FactsRef<'_>,
    ) -> Decision {
        self.end_of_data_mut().check(session, envelope, facts)
    }
}

/// Buffers the fast path reuses from one attempt to the next, so that an attempt allocates
/// little more than its result.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    info: SessionInfo,
    envelope: Envelope,
    /// Recipient strings kept for reuse.
    spare: Vec<String>,
    /// Indices of the recipients accepted at RCPT.
    accepted: Vec<usize>,
}

/// Runs the exchange as policy decisions only. `offers_starttls` says whether the server
/// offers STARTTLS.
pub(crate) fn decisions<P: FactsPolicy>(
    attempt: &Attempt<'_>,
    offers_starttls: bool,
    mut policy: P,
    scratch: &mut Scratch,
) -> Exchanged {
    debug_assert_eq!(
        super::content::facts_ref(&(attempt.content)()),
        attempt.facts,
        "the facts handed over are the content's"
    );
    let tls = match attempt.resumed {
        Some(open) => open.tls,
        None => attempt.starttls && offers_starttls,
    };
    let resumed = attempt.resumed.is_some();
    let earlier = attempt.resumed.map_or(0, |open| open.messages);
    let n = attempt.recipients.len();
    let finish = |recipients: Vec<RecipientOutcome>| {
        let accepted = recipients.iter().any(|r| r.status == Status::Accepted);
        Exchanged {
            round_trips: round_trips(
                &recipients,
                tls,
                attempt.pipelining,
                resumed,
                attempt.keep_open,
            ),
            reusable: reusable(&recipients),
            state: Resumed {
                tls,
                messages: earlier + u32::from(accepted),
            },
            recipients,
            transcript: Vec::new(),
        }
    };
    let all = |stage: Stage, reply| vec![RecipientOutcome::from_reply(stage, reply); n];

    let Scratch {
        info,
        envelope,
        spare,
        accepted,
    } = scratch;
    let mut helo_name = info.helo.take().unwrap_or_default();
    *info = SessionInfo {
        client_ip: Some(attempt.client_ip),
        messages: earlier,
        ..SessionInfo::default()
    };
    // A resumed connection was greeted and said EHLO with an earlier message.
    if !resumed {
        match policy.connect(info) {
            Decision::Accept | Decision::AcceptWith(_) => {}
            Decision::Refuse(reply) | Decision::Disconnect(reply) => {
                return finish(all(Stage::Greeting, &reply));
            }
        }
        let helo = Host::Domain(attempt.helo);
        match policy.helo(info, &helo) {
            Decision::Accept | Decision::AcceptWith(_) => {}
            Decision::Refuse(reply) | Decision::Disconnect(reply) => {
                return finish(all(Stage::Hello, &reply));
            }
        }
    }
    helo_name.clear();
    helo_name.push_str(attempt.helo);
    info.helo = Some(helo_name);
    info.esmtp = true;
    info.tls = tls;

    let from = split(attempt.from);
    let params = MailParams {
        size: Some(attempt.size),
        ..MailParams::default()
    };
    envelope.from.clear();
    envelope.from.push_str(attempt.from);
    spare.append(&mut envelope.recipients);
    envelope.declared_size = Some(attempt.size);
    envelope.eight_bit = false;
    envelope.smtputf8 = false;
    match policy.mail(info, &ReversePath::Mailbox(from), &params) {
        Decision::Accept | Decision::AcceptWith(_) => {}
        Decision::Refuse(reply) | Decision::Disconnect(reply) => {
            return finish(all(Stage::Mail, &reply));
        }
    }
    // Accepted recipients hold a placeholder until the end of data decides for them.
    let mut outcomes: Vec<RecipientOutcome> = Vec::with_capacity(n);
    accepted.clear();
    for (i, rcpt) in attempt.recipients.iter().enumerate() {
        let to = ForwardPath::Mailbox(split(rcpt));
        match policy.rcpt(info, envelope, &to, &RcptParams::default()) {
            Decision::Accept | Decision::AcceptWith(_) => {
                let mut kept = spare.pop().unwrap_or_default();
                kept.clear();
                kept.push_str(rcpt);
                envelope.recipients.push(kept);
                accepted.push(i);
                outcomes.push(RecipientOutcome::deferred(Stage::Rcpt, "accepted at RCPT"));
            }
            Decision::Refuse(reply) if reply.code.get() != 421 => {
                outcomes.push(RecipientOutcome::from_reply(Stage::Rcpt, &reply));
            }
            // A 421 is the server closing (the client takes it so, even as a mere refusal):
            // this recipient and every one still undecided fail with it.
            Decision::Refuse(reply) | Decision::Disconnect(reply) => {
                let closing = RecipientOutcome::from_reply(Stage::Rcpt, &reply);
                for &j in accepted.iter() {
                    outcomes[j] = closing.clone();
                }
                outcomes.resize(n, closing);
                return finish(outcomes);
            }
        }
    }
    if !accepted.is_empty() {
        let verdict = match policy.data(info, envelope) {
            Decision::Accept | Decision::AcceptWith(_) => {
                let verdict = match policy.message_facts(info, envelope, &attempt.facts) {
                    Decision::Accept => replies::MESSAGE_ACCEPTED,
                    Decision::AcceptWith(reply)
                    | Decision::Refuse(reply)
                    | Decision::Disconnect(reply) => reply,
                };
                RecipientOutcome::from_reply(Stage::Content, &verdict)
            }
            Decision::Refuse(reply) | Decision::Disconnect(reply) => {
                RecipientOutcome::from_reply(Stage::Data, &reply)
            }
        };
        for &i in accepted.iter() {
            outcomes[i] = verdict.clone();
        }
    }
    finish(outcomes)
}

/// Splits a simulator-made address (`local@domain`, plain dot-atoms) without parsing. Addresses
/// are short: a plain loop beats setting up a vectorised search.
fn split(address: &str) -> Address<'_> {
    let at = address.bytes().rposition(|b| b == b'@');
    let (local_part, domain) = match at {
        Some(at) => (&address[..at], &address[at + 1..]),
        None => (address, ""),
    };
    Address {
        local_part,
        domain: Host::Domain(domain),
    }
}

/// The relay's submission service as a policy: the credentials were drawn good or bad before
/// the session, and every recipient is taken for relaying.
struct Submission {
    credentials_ok: bool,
}

impl Policy for Submission {
    fn auth(&mut self, _: &SessionInfo, _: &str, _: &str) -> Decision {
        if self.credentials_ok {
            Decision::Accept
        } else {
            Decision::refuse(535, (5, 7, 8), "Authentication credentials invalid")
        }
    }
}

/// The application's submission to the relay (port 587: STARTTLS, then AUTH), run through the
/// client and server sessions for a traced message; returns the conversation.
pub(crate) fn submission(
    relay_hostname: &str,
    user: &str,
    credentials_ok: bool,
    from: &str,
    recipients: &[&str],
    content: Vec<u8>,
    size: u64,
) -> Vec<(Speaker, String)> {
    let mut server_config = ServerConfig::new(relay_hostname);
    server_config.starttls = true;
    server_config.auth = true;
    server_config.require_auth = true;
    server_config.limits.message_size = None;
    let mut config = ClientConfig::new("app.internal");
    config.tls = TlsMode::Required;
    config.credentials = Some(smtpsim_proto::client::Credentials {
        user: user.to_string(),
        password: "app-password".to_string(),
    });
    config.transcript = true;
    let mut message = OutgoingMessage::new(from, recipients.iter().copied(), content);
    message.declared_size = Some(size);
    let mut client =
        ClientSession::new(config, message).expect("the simulator's addresses are valid");
    let mut server =
        ServerSession::new(Arc::new(server_config), Submission { credentials_ok }, None);
    converse(&mut client, &mut server);
    client
        .transcript()
        .iter()
        .map(|line| (line.speaker, line.text.clone()))
        .collect()
}
