//! The header lines a delivering MTA puts before a stored message: `Return-Path:`, one
//! `X-Original-To:` and one `Delivered-To:` per recipient (one file per message, for all its
//! recipients; the server expands no aliases, so both name the recipient as given), and a
//! `Received:` line with the client's name and address, the TLS version and cipher, the AUTH
//! user and the time (RFC 5322 date).

use std::net::IpAddr;

use smtpsim_proto::server::{Envelope, SessionInfo};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;

/// The TLS of a connection, as rustls negotiated it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TlsDetails {
    /// Such as `TLSv1.3`.
    pub version: String,
    /// Such as `TLS13_AES_256_GCM_SHA384`.
    pub cipher: String,
}

impl TlsDetails {
    /// What a rustls server connection negotiated (`unknown` where it says nothing).
    pub fn of(connection: &rustls::ServerConnection) -> TlsDetails {
        let version = connection
            .protocol_version()
            .and_then(|v| v.as_str())
            .map_or_else(|| "unknown".to_string(), |v| v.replace('_', "."));
        let cipher = connection
            .negotiated_cipher_suite()
            .and_then(|s| s.suite().as_str())
            .unwrap_or("unknown")
            .to_string();
        TlsDetails { version, cipher }
    }
}

/// What the `Received:` line says about the connection.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hop<'a> {
    /// The server's host name.
    pub(crate) by: &'a str,
    /// The connection's number.
    pub(crate) id: u64,
    /// The TLS in force, if any.
    pub(crate) tls: Option<&'a TlsDetails>,
    /// The time of receipt.
    pub(crate) at: OffsetDateTime,
}

/// The header lines to put before the content of a message received in `session` with
/// `envelope` (each line ends in CRLF).
pub(crate) fn trace_headers(session: &SessionInfo, envelope: &Envelope, hop: Hop<'_>) -> Vec<u8> {
    let mut out = String::with_capacity(256);
    out.push_str(&format!("Return-Path: <{}>\r\n", envelope.from));
    for to in &envelope.recipients {
        out.push_str(&format!("X-Original-To: {to}\r\nDelivered-To: {to}\r\n"));
    }
    let helo = session.helo.as_deref().unwrap_or("unknown");
    let ip = session.client_ip.map(|ip| ip.to_canonical());
    let address = match ip {
        Some(IpAddr::V4(ip)) => format!("[{ip}]"),
        Some(IpAddr::V6(ip)) => format!("[IPv6:{ip}]"),
        None => "[unknown]".to_string(),
    };
    out.push_str(&format!("Received: from {helo} ({address})\r\n"));
    if let Some(tls) = hop.tls {
        out.push_str(&format!(
            "\t(using {} with cipher {})\r\n",
            tls.version, tls.cipher
        ));
    }
    if let Some(user) = &session.authenticated {
        out.push_str(&format!("\t(authenticated user {user})\r\n"));
    }
    out.push_str(&format!(
        "\tby {} (smtpsim) with {} id {}",
        hop.by,
        protocol(session, hop.tls.is_some()),
        hop.id
    ));
    if let [to] = envelope.recipients.as_slice() {
        out.push_str(&format!("\r\n\tfor <{to}>"));
    }
    let date = hop
        .at
        .format(&Rfc2822)
        .unwrap_or_else(|_| "Thu, 01 Jan 1970 00:00:00 +0000".to_string());
    out.push_str(&format!(";\r\n\t{date}\r\n"));
    out.into_bytes()
}

/// The `with` protocol of RFC 3848: `SMTP`, or `ESMTP` with `S` for TLS and `A` for AUTH.
fn protocol(session: &SessionInfo, tls: bool) -> String {
    if !session.esmtp {
        return "SMTP".to_string();
    }
    let mut p = "ESMTP".to_string();
    if tls {
        p.push('S');
    }
    if session.authenticated.is_some() {
        p.push('A');
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_mta_s_trace_headers() {
        let session = SessionInfo {
            client_ip: Some("::ffff:192.0.2.7".parse().unwrap()),
            helo: Some("client.example".to_string()),
            esmtp: true,
            tls: true,
            authenticated: Some("alice".to_string()),
            messages: 0,
        };
        let envelope = Envelope {
            from: "a@example.com".to_string(),
            recipients: vec!["b@example.net".to_string(), "c@example.net".to_string()],
            ..Envelope::default()
        };
        let tls = TlsDetails {
            version: "TLSv1.3".to_string(),
            cipher: "TLS13_AES_256_GCM_SHA384".to_string(),
        };
        let hop = Hop {
            by: "mx.example",
            id: 7,
            tls: Some(&tls),
            at: OffsetDateTime::from_unix_timestamp(1_796_443_567).unwrap(),
        };
        let text = String::from_utf8(trace_headers(&session, &envelope, hop)).unwrap();
        assert_eq!(
            text,
            "Return-Path: <a@example.com>\r\n\
             X-Original-To: b@example.net\r\nDelivered-To: b@example.net\r\n\
             X-Original-To: c@example.net\r\nDelivered-To: c@example.net\r\n\
             Received: from client.example ([192.0.2.7])\r\n\
             \t(using TLSv1.3 with cipher TLS13_AES_256_GCM_SHA384)\r\n\
             \t(authenticated user alice)\r\n\
             \tby mx.example (smtpsim) with ESMTPSA id 7;\r\n\
             \tSat, 05 Dec 2026 04:06:07 +0000\r\n"
        );
        let plain = SessionInfo {
            helo: None,
            esmtp: false,
            tls: false,
            authenticated: None,
            ..session
        };
        let one = Envelope {
            from: String::new(),
            recipients: vec!["b@example.net".to_string()],
            ..Envelope::default()
        };
        let hop = Hop { tls: None, ..hop };
        let text = String::from_utf8(trace_headers(&plain, &one, hop)).unwrap();
        assert!(text.starts_with("Return-Path: <>\r\n"), "{text}");
        assert!(
            text.contains(
                "Received: from unknown ([192.0.2.7])\r\n\tby mx.example (smtpsim) with SMTP id 7\r\n\tfor <b@example.net>;\r\n"
            ),
            "{text}"
        );
    }
}
