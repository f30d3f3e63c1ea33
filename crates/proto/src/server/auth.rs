//! STARTTLS and AUTH (PLAIN and LOGIN).

use super::*;

impl<P: Policy> ServerSession<P> {
    pub(super) fn starttls(&mut self) {
        if !self.config.starttls {
            return self.bad(&replies::TLS_NOT_AVAILABLE);
        }
        if self.info.tls {
            return self.bad(&replies::TLS_ACTIVE);
        }
        self.send(&replies::READY_TLS);
        self.state = State::TlsPending;
        self.input.clear();
        self.events.push_back(ServerEvent::StartTls);
    }

    pub(super) fn auth(&mut self, mechanism: AuthMechanism<'_>, initial: Option<&str>) {
        if !self.config.auth {
            return self.bad(&replies::AUTH_NOT_AVAILABLE);
        }
        if !self.config.offers_auth(self.info.tls) {
            return self.bad(&replies::AUTH_NEEDS_TLS);
        }
        if self.info.helo.is_none() {
            return self.bad(&replies::NEED_HELO);
        }
        if self.info.authenticated.is_some() {
            return self.bad(&replies::AUTH_ALREADY);
        }
        if self.envelope.is_some() {
            return self.bad(&replies::AUTH_IN_TRANSACTION);
        }
        match (mechanism, initial) {
            (AuthMechanism::Plain, Some(response)) => {
                self.auth_response(AuthStep::Plain, response.as_bytes())
            }
            (AuthMechanism::Plain, None) => {
                self.send(&Reply::new_static(334, None, ""));
                self.state = State::Auth(AuthStep::Plain);
            }
            (AuthMechanism::Login, Some(response)) => {
                self.auth_response(AuthStep::LoginUser, response.as_bytes())
            }
            (AuthMechanism::Login, None) => {
                // "Username:"
                self.send(&Reply::new_static(334, None, "VXNlcm5hbWU6"));
                self.state = State::Auth(AuthStep::LoginUser);
            }
            (AuthMechanism::Other(_), _) => self.bad(&replies::AUTH_MECHANISM),
        }
    }

    pub(super) fn auth_response(&mut self, step: AuthStep, line: &[u8]) {
        if line == b"*" {
            return self.bad(&replies::AUTH_CANCELLED);
        }
        let decoded = if line == b"=" {
            Ok(Vec::new())
        } else {
            BASE64.decode(line)
        };
        let Ok(decoded) = decoded else {
            return self.bad(&replies::AUTH_MALFORMED);
        };
        match step {
            AuthStep::Plain => {
                let mut parts = decoded.split(|&b| b == 0);
                let (Some(authz), Some(authc), Some(password), None) =
                    (parts.next(), parts.next(), parts.next(), parts.next())
                else {
                    return self.bad(&replies::AUTH_MALFORMED);
                };
                if !authz.is_empty() && authz != authc {
                    return self.bad(&replies::AUTH_INVALID);
                }
                let identity = String::from_utf8_lossy(authc).into_owned();
                let password = String::from_utf8_lossy(password).into_owned();
                self.check_credentials(identity, &password);
            }
            AuthStep::LoginUser => {
                let user = String::from_utf8_lossy(&decoded).into_owned();
                // "Password:"
                self.send(&Reply::new_static(334, None, "UGFzc3dvcmQ6"));
                self.state = State::Auth(AuthStep::LoginPassword { user });
            }
            AuthStep::LoginPassword { user } => {
                let password = String::from_utf8_lossy(&decoded).into_owned();
                self.check_credentials(user, &password);
            }
        }
    }

    pub(super) fn check_credentials(&mut self, identity: String, password: &str) {
        match self.policy.auth(&self.info, &identity, password) {
            Decision::Accept => {
                self.send(&replies::AUTH_OK);
                self.info.authenticated = Some(identity);
            }
            Decision::AcceptWith(reply) => {
                self.send(&reply);
                self.info.authenticated = Some(identity);
            }
            Decision::Refuse(reply) if closes(&reply) => self.close_with(&reply),
            Decision::Refuse(reply) => self.bad(&reply),
            Decision::Disconnect(reply) => self.close_with(&reply),
        }
    }
}
