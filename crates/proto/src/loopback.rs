//! Wires a client session to a server session in memory: no sockets, no clock.
//!
//! TLS is pretended: when both sides ask for the handshake after STARTTLS, both are told it
//! completed. This is what the interactive tools, the tests and the benchmarks use to run a
//! genuine conversation through the engine.

use crate::client::{ClientEvent, ClientSession};
use crate::server::{Policy, ReceivedMessage, ServerEvent, ServerSession};

/// Runs `client` against `server` until the client is finished; returns the messages the
/// server accepted. A server that closes, or a conversation where neither side has anything
/// more to say, ends the client's attempt as a lost connection.
pub fn converse<P: Policy>(
    client: &mut ClientSession,
    server: &mut ServerSession<P>,
) -> Vec<ReceivedMessage> {
    let mut messages = Vec::new();
    let mut wire = Vec::with_capacity(4096);
    while !client.is_finished() {
        server.drain_output_into(&mut wire);
        let mut server_tls = false;
        let mut server_closed = false;
        while let Some(event) = server.poll_event() {
            match event {
                ServerEvent::MessageAccepted(m) => messages.push(m),
                ServerEvent::StartTls => server_tls = true,
                ServerEvent::Close => server_closed = true,
            }
        }
        let server_spoke = !wire.is_empty();
        client.feed(&wire);
        wire.clear();
        let mut client_tls = false;
        while let Some(event) = client.poll_event() {
            client_tls |= event == ClientEvent::StartTls;
        }
        if server_tls && client_tls {
            server.tls_established();
            client.tls_established();
        }
        if server_closed && !client.is_finished() {
            client.connection_lost();
        }
        client.drain_output_into(&mut wire);
        let client_spoke = !wire.is_empty();
        server.feed(&wire);
        wire.clear();
        if !server_spoke && !client_spoke && !server_tls && !client.is_finished() {
            // Both wait for the other: the conversation is stuck.
            client.connection_lost();
        }
    }
    while let Some(event) = server.poll_event() {
        if let ServerEvent::MessageAccepted(m) = event {
            messages.push(m);
        }
    }
    messages
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::client::{ClientConfig, OutgoingMessage};
    use crate::server::{AcceptAll, ServerConfig};

    #[test]
    fn delivers_one_message() {
        let message = OutgoingMessage::new("a@example.com", ["b@example.net"], b"hi\r\n".to_vec());
        let mut client = ClientSession::new(ClientConfig::new("c.example"), message).unwrap();
        let mut server =
            ServerSession::new(Arc::new(ServerConfig::new("mx.example")), AcceptAll, None);
        let messages = converse(&mut client, &mut server);
        assert_eq!(messages.len(), 1);
        assert!(client.outcome().unwrap().all_accepted());
    }
}
