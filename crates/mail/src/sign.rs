//! Real DKIM signatures (RFC 6376, relaxed/relaxed): one `ed25519-sha256` and one
//! `rsa-sha256` signature, added on top of the message's header.
//!
//! The signature carries no `t=` (signing time), so that the same message, seed and keys
//! always give the same bytes.

use base64::Engine as _;
use mail_auth::common::crypto::SigningKey;

use crate::canon;
use crate::keys::{Algorithm, SigningKeys};

/// The header fields signed, when the message has them.
pub const SIGNED: [&str; 5] = ["from", "to", "subject", "date", "message-id"];

/// `message` with a `DKIM-Signature` field of each algorithm added on top.
pub fn sign(message: &[u8], keys: &SigningKeys) -> Vec<u8> {
    let mut signed = message.to_vec();
    for algorithm in Algorithm::ALL {
        let mut field = signature_field(&signed, keys, algorithm);
        field.extend_from_slice(&signed);
        signed = field;
    }
    signed
}

/// The `DKIM-Signature` field of `algorithm` for `message`, ending in CRLF.
pub fn signature_field(message: &[u8], keys: &SigningKeys, algorithm: Algorithm) -> Vec<u8> {
    let (headers, _) = canon::split(message);
    let present: Vec<&str> = SIGNED
        .into_iter()
        .filter(|wanted| {
            canon::fields(headers).iter().any(|f| {
                String::from_utf8_lossy(canon::name(f))
                    .trim()
                    .eq_ignore_ascii_case(wanted)
            })
        })
        .collect();
    let unsigned = format!(
        "DKIM-Signature: v=1; a={}; c=relaxed/relaxed; d={}; s={};\r\n\th={};\r\n\tbh={};\r\n\tb=;\r\n",
        algorithm.name(),
        keys.domain,
        algorithm.selector(&keys.selector),
        present.join(":"),
        canon::body_hash(message),
    );
    let data = canon::signed_data(message, unsigned.as_bytes());
    let signature = match algorithm {
        Algorithm::Ed25519Sha256 => keys.ed25519.sign(data.as_slice()),
        Algorithm::RsaSha256 => keys.rsa().sign(data.as_slice()),
    }
    .expect("signing with a derived key succeeds");
    let b = base64::engine::general_purpose::STANDARD.encode(signature);
    let mut field = unsigned
        .strip_suffix("b=;\r\n")
        .expect("the field ends with an empty b=")
        .to_string();
    field.push_str("b=");
    for (i, chunk) in b.as_bytes().chunks(70).enumerate() {
        if i > 0 {
            field.push_str("\r\n\t ");
        }
        field.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
    }
    field.push_str(";\r\n");
    field.into_bytes()
}
