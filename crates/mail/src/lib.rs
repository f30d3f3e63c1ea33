//! Real mail for the teaching tools.
//!
//! The simulator models DKIM (no signature is computed for millions of messages); where a
//! person watches one message (`walk`, the journey page, `repl`, `converse`), this crate makes
//! the message real: it is signed for real with keys derived from the scenario's seed
//! ([`keys`]), altered in transit by changing its bytes, and verified for real by the
//! `mail-auth` crate against the scenario's DNS ([`verify`]), whose key records are the
//! derived public keys ([`zone`]), each derived when first needed.
//!
//! ```
//! use smtpsim_mail::{keys::SigningKeys, sign::sign, verify::verify};
//! use smtpsim_model::auth::dkim::DkimVerdict;
//! use smtpsim_model::auth::dns::StaticResolver;
//!
//! let keys = SigningKeys::derive(1, "example.com", "s1");
//! let mut dns = StaticResolver::new();
//! for algorithm in smtpsim_mail::keys::Algorithm::ALL {
//!     dns = dns.with_txt(&keys.key_name(algorithm), keys.record(algorithm));
//! }
//! let message = b"From: <a@example.com>\r\nTo: <b@example.net>\r\nSubject: Hi\r\n\r\nHello.\r\n";
//! let signed = sign(message, &keys);
//! assert_eq!(verify(&signed, &dns, &[]).verdict, DkimVerdict::Pass);
//!
//! let mut altered = signed.clone();
//! altered.extend_from_slice(b"-- \r\nSent through a mailing list\r\n");
//! let check = verify(&altered, &dns, &[]);
//! assert_eq!(check.verdict, DkimVerdict::Fail);
//! assert!(check.signatures[0].sentence.starts_with("DKIM fails because the body changed"));
//! ```

pub mod canon;
pub mod edit;
pub mod explain;
pub mod journey;
pub mod keys;
pub mod lookups;
pub mod received;
pub mod records;
pub mod sign;
pub mod verify;
pub mod zone;
