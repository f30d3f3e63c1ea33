//! Helpers shared by the session tests.
#![allow(dead_code)]

use std::sync::Arc;

use smtpsim_proto::command::{ForwardPath, RcptParams};
use smtpsim_proto::server::{
    Decision, Envelope, Policy, ReceivedMessage, ServerConfig, ServerEvent, ServerSession,
    SessionInfo,
};

/// A policy for tests: one user, recipients refused by the start of their local part.
#[derive(Debug, Default, Clone)]
pub struct TestPolicy {
    pub user: Option<(String, String)>,
}

impl TestPolicy {
    pub fn with_user(user: &str, password: &str) -> TestPolicy {
        TestPolicy {
            user: Some((user.to_string(), password.to_string())),
        }
    }
}

impl Policy for TestPolicy {
    fn auth(&mut self, _: &SessionInfo, identity: &str, password: &str) -> Decision {
        match &self.user {
            Some((u, p)) if u == identity && p == password => Decision::Accept,
            _ => Decision::refuse(535, (5, 7, 8), "Authentication credentials invalid"),
        }
    }

    fn rcpt(
        &mut self,
        _: &SessionInfo,
        _: &Envelope,
        to: &ForwardPath<'_>,
        _: &RcptParams<'_>,
    ) -> Decision {
        let ForwardPath::Mailbox(address) = to else {
            return Decision::Accept;
        };
        let local = address.local_part;
        if local.starts_with("unknown") {
            Decision::refuse(550, (5, 1, 1), "User unknown")
        } else if local.starts_with("grey") {
            Decision::refuse(451, (4, 7, 1), "Greylisted, try again later")
        } else if local.starts_with("closing") {
            Decision::disconnect(421, (4, 3, 2), "System shutting down")
        } else {
            Decision::Accept
        }
    }
}

pub fn server(config: ServerConfig, policy: TestPolicy) -> ServerSession<TestPolicy> {
    ServerSession::new(Arc::new(config), policy, None)
}

/// Feeds `input` and returns the server's reply bytes as text.
pub fn talk<P: Policy>(server: &mut ServerSession<P>, input: &[u8]) -> String {
    server.feed(input);
    String::from_utf8(server.take_output()).expect("replies are UTF-8")
}

/// The reply codes (first three characters of each final reply line) in `output`.
pub fn codes(output: &str) -> Vec<&str> {
    output
        .split("\r\n")
        .filter(|l| l.len() >= 4 && l.as_bytes()[3] == b' ')
        .map(|l| &l[..3])
        .collect()
}

pub fn accepted<P: Policy>(server: &mut ServerSession<P>) -> Vec<ReceivedMessage> {
    let mut out = Vec::new();
    while let Some(event) = server.poll_event() {
        if let ServerEvent::MessageAccepted(m) = event {
            out.push(m);
        }
    }
    out
}

#[allow(unused_imports)]
pub use smtpsim_proto::loopback::converse;
