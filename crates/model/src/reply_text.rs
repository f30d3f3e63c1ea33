//! Replies written in a scenario file, such as `"421 4.7.28 Too many messages, slow down"`,
//! read with the protocol core's reply parser.

use smtpsim_proto::Reply;
use smtpsim_proto::reply::parse_reply;

/// Parses a one-line reply; it must be a refusal (4xx or 5xx).
pub fn parse(text: &str) -> Result<Reply, String> {
    let mut bytes = text.trim().as_bytes().to_vec();
    bytes.extend_from_slice(b"\r\n");
    match parse_reply(&bytes) {
        Ok(Some((reply, used))) if used == bytes.len() => {
            if reply.code.is_transient() || reply.code.is_permanent() {
                Ok(reply)
            } else {
                Err(format!("{text:?} is not a refusal: use a 4xx or 5xx code"))
            }
        }
        Ok(_) => Err(format!("{text:?} is not a one-line reply")),
        Err(e) => Err(format!(
            "{text:?} is not a reply such as \"421 4.7.0 Try later\": {e}"
        )),
    }
}
