//! The exchange through the protocol core's client and server sessions, every line formatted
//! and parsed; and the application's submission to the relay, for traced messages.

use std::sync::Arc;

use smtpsim_proto::Reply;
use smtpsim_proto::client::{
    Capabilities, ClientConfig, ClientEvent, ClientSession, OutgoingMessage, Speaker, TlsMode,
};
use smtpsim_proto::loopback::converse;
use smtpsim_proto::server::{
    Decision, Policy, ServerConfig, ServerEvent, ServerSession, SessionInfo,
};

use super::{At, Attempt, Exchanged, Line, Resumed, Trips, reusable};

/// Runs the exchange through the client and server sessions; keeps the C:/S: lines if
/// `transcript` is set.
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
    let (client, mut server) = match attempt.resumed {
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
    let mut client = client.expect("the simulator's addresses are valid");
    let (trips, places) = drive(&mut client, &mut server, attempt.resumed.is_some());
    let recipients = client
        .outcome()
        .expect("a finished session has an outcome")
        .recipients;
    let transcript = client
        .transcript()
        .iter()
        .zip(places)
        .map(|(line, (trip, at))| Line {
            trip,
            at,
            speaker: line.speaker,
            text: line.text.clone(),
        })
        .collect();
    Exchanged {
        trips,
        transcript,
        reusable: !server.is_closed() && reusable(&recipients),
        state: Resumed {
            tls: server.info().tls,
            messages: server.info().messages,
        },
        recipients,
    }
}

/// Runs `client` against `server` as [`converse`] does, counting the round trips the client
/// waits for (the connection, each batch of commands but QUIT, the TLS handshake) and placing
/// each line of the client's transcript in one.
fn drive<P: Policy>(
    client: &mut ClientSession,
    server: &mut ServerSession<P>,
    resumed: bool,
) -> (Trips, Vec<(u32, At)>) {
    let mut trips = Trips::default();
    // The round trip whose replies are awaited: the connection and greeting, or on a
    // resumed connection the first batch, which the client has written already.
    let mut awaited = if resumed { 0 } else { trips.next() };
    let mut places = Vec::new();
    let mut first_batch_written = resumed;
    let mut wire = Vec::with_capacity(4096);
    while !client.is_finished() {
        server.drain_output_into(&mut wire);
        let (mut server_tls, mut server_closed) = (false, false);
        while let Some(event) = server.poll_event() {
            server_tls |= event == ServerEvent::StartTls;
            server_closed |= event == ServerEvent::Close;
        }
        let server_spoke = !wire.is_empty();
        client.feed(&wire);
        wire.clear();
        let replies_end = client.transcript().len();
        let mut client_tls = false;
        while let Some(event) = client.poll_event() {
            client_tls |= event == ClientEvent::StartTls;
        }
        let mut handshake = None;
        if server_tls && client_tls {
            handshake = Some(trips.next());
            server.tls_established();
            client.tls_established();
        }
        if server_closed && !client.is_finished() {
            client.connection_lost();
        }
        client.drain_output_into(&mut wire);
        let client_spoke = !wire.is_empty();
        let waits = client_spoke && !client.is_finished() && !client.awaits_quit_reply();
        // A batch not waited for (QUIT, or one the server will not read) is said at the end.
        let batch = if waits { trips.next() } else { trips.count };
        if waits && client.awaits_content_reply() {
            trips.content = Some(batch);
        }
        let lines = &client.transcript()[places.len()..];
        let sent_already = std::mem::take(&mut first_batch_written);
        place(
            lines,
            sent_already,
            replies_end - places.len(),
            &mut places,
            |is| match is {
                Said::Reply => (awaited, At::End),
                Said::Handshake => (handshake.unwrap_or(awaited), At::End),
                Said::Command => (batch, At::Start),
            },
        );
        if trips.content == Some(batch) {
            // The lone dot goes out once the content has.
            if let Some(last) = places.iter_mut().rev().find(|p| p.0 == batch) {
                last.1 = At::AfterContent;
            }
        }
        if client_spoke {
            awaited = batch;
        }
        server.feed(&wire);
        wire.clear();
        if !server_spoke && !client_spoke && !server_tls && !client.is_finished() {
            // Both wait for the other: the conversation is stuck.
            client.connection_lost();
        }
    }
    let rest = client.transcript().len() - places.len();
    places.extend(std::iter::repeat_n((awaited, At::End), rest));
    (trips, places)
}

/// What a line recorded in one turn of the conversation is.
enum Said {
    /// A reply to the batch awaited, or a note on it.
    Reply,
    /// A note on the TLS handshake.
    Handshake,
    /// A command of the next batch (or a note after one).
    Command,
}

/// Places the transcript lines recorded in one turn: replies and notes on them come first (the
/// first `replies` lines, then any handshake notes), then the commands the client wrote in
/// answer, and anything after them. With `sent_already`, every line is of the batch written
/// before the turn.
fn place(
    lines: &[smtpsim_proto::client::TranscriptLine],
    sent_already: bool,
    replies: usize,
    places: &mut Vec<(u32, At)>,
    mut at: impl FnMut(Said) -> (u32, At),
) {
    let mut commands = sent_already;
    for (i, line) in lines.iter().enumerate() {
        commands |= line.speaker == Speaker::Client;
        let said = if commands {
            Said::Command
        } else if i < replies {
            Said::Reply
        } else {
            Said::Handshake
        };
        places.push(at(said));
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
