//! DKIM verification for real, by the `mail-auth` crate, against a scenario's DNS: the key
//! records are handed to the verifier in a cache filled beforehand from the
//! [`Resolver`](smtpsim_model::auth::dns::Resolver), and the verifier's own resolver has no
//! name server, so nothing goes to the network.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;

use mail_auth::common::crypto::CryptoError;
use mail_auth::common::parse::TxtRecordParser;
use mail_auth::common::verify::DomainKey;
use mail_auth::dkim::DkimError;
use mail_auth::hickory_resolver::config::{ResolverConfig, ResolverOpts};
use mail_auth::hickory_resolver::proto::op::ResponseCode;
use mail_auth::{
    AuthenticatedMessage, DkimResult, DnsError, Error, MessageAuthenticator, Parameters,
    ResolverCache, Txt as TxtRecord,
};
use serde::Serialize;
use smtpsim_model::auth::dkim::DkimVerdict;
use smtpsim_model::auth::dns::{LookupError, Resolver};

use crate::canon;

/// Why a signature did not verify, with the two hashes that differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "which", rename_all = "snake_case")]
pub enum Broken {
    /// The body hash in `bh=` is not the hash of the body as it arrived.
    BodyHash {
        /// `bh=`, as signed.
        signed: String,
        /// The body's hash now.
        computed: String,
    },
    /// The body hash matches, but `b=` does not verify over the signed headers.
    Signature {
        /// The hash of the signed headers when signed, if known.
        signed: Option<String>,
        /// Their hash now.
        computed: String,
    },
}

/// What verifying one `DKIM-Signature` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignatureCheck {
    /// `a=`.
    pub algorithm: String,
    /// `d=`.
    pub domain: String,
    /// `s=`.
    pub selector: String,
    /// The result.
    #[serde(serialize_with = "verdict_name")]
    pub verdict: DkimVerdict,
    /// What broke, for a signature that failed on its hashes.
    pub broken: Option<Broken>,
    /// What happened, in a sentence.
    pub sentence: String,
}

fn verdict_name<S: serde::Serializer>(v: &DkimVerdict, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v.as_str())
}

/// What verifying a message's signatures found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DkimCheck {
    /// `pass` if one signature verifies, else the first signature's result; `none` when the
    /// message is not signed.
    #[serde(serialize_with = "verdict_name")]
    pub verdict: DkimVerdict,
    /// Each signature, top down.
    pub signatures: Vec<SignatureCheck>,
}

impl DkimCheck {
    /// The first signature with the overall verdict.
    pub fn deciding(&self) -> Option<&SignatureCheck> {
        self.signatures.iter().find(|s| s.verdict == self.verdict)
    }
}

/// Verifies every `DKIM-Signature` of `message` with the keys `dns` publishes.
/// `signed_header_hashes` gives, by `a=`, the header hash each signature had when it was made,
/// when the caller saw it made (a journey does; mail received from outside does not).
pub fn verify(
    message: &[u8],
    dns: &dyn Resolver,
    signed_header_hashes: &[(String, String)],
) -> DkimCheck {
    let fields: Vec<Vec<u8>> = canon::fields(canon::split(message).0)
        .into_iter()
        .filter(|f| {
            String::from_utf8_lossy(canon::name(f))
                .trim()
                .eq_ignore_ascii_case("dkim-signature")
        })
        .map(<[u8]>::to_vec)
        .collect();
    if fields.is_empty() {
        return DkimCheck {
            verdict: DkimVerdict::None,
            signatures: Vec::new(),
        };
    }
    let keys = KeyCache::from_signatures(&fields, dns);
    let results = run_verifier(message, &keys);
    let signatures: Vec<SignatureCheck> = fields
        .iter()
        .zip(results)
        .map(|(field, result)| explain(message, field, result, signed_header_hashes))
        .collect();
    let verdict = if signatures.iter().any(|s| s.verdict == DkimVerdict::Pass) {
        DkimVerdict::Pass
    } else {
        signatures[0].verdict
    };
    DkimCheck {
        verdict,
        signatures,
    }
}

/// `mail-auth`'s results, one per signature, top down.
fn run_verifier(message: &[u8], keys: &KeyCache) -> Vec<DkimResult> {
    let Some(parsed) = AuthenticatedMessage::parse(message) else {
        return Vec::new();
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime starts");
    runtime.block_on(async {
        // No name server: every key comes from the cache.
        let authenticator = MessageAuthenticator::new(
            ResolverConfig::from_parts(None, vec![], vec![]),
            ResolverOpts::default(),
        )
        .expect("a resolver without name servers builds");
        authenticator
            .verify_dkim(Parameters::new(&parsed).with_txt_cache(&keys.txt))
            .await
            .into_iter()
            .map(|output| output.result().clone())
            .collect()
    })
}

/// One signature's result, in the model's terms and in words.
fn explain(
    message: &[u8],
    field: &[u8],
    result: DkimResult,
    signed_header_hashes: &[(String, String)],
) -> SignatureCheck {
    let text = String::from_utf8_lossy(field);
    let get = |name| canon::tag(&text, name).unwrap_or_default();
    let (algorithm, domain, selector) = (get("a"), get("d"), get("s"));
    let key_name = format!("{selector}._domainkey.{domain}");
    let mut broken = None;
    let (verdict, sentence) = match result {
        DkimResult::Pass => (
            DkimVerdict::Pass,
            format!("DKIM signature ({algorithm}) verified with the key at {key_name}"),
        ),
        DkimResult::Neutral(Error::Dkim(DkimError::FailedBodyHashMatch)) => {
            let (signed, computed) = (get("bh"), canon::body_hash(message));
            let sentence = format!(
                "DKIM fails because the body changed after signing: bh= says {signed}, \
                 the body now hashes to {computed}"
            );
            broken = Some(Broken::BodyHash { signed, computed });
            (DkimVerdict::Fail, sentence)
        }
        DkimResult::Fail(Error::Crypto(CryptoError::FailedVerification)) => {
            let computed = canon::header_hash(message, field);
            let signed = signed_header_hashes
                .iter()
                .find(|(a, _)| *a == algorithm)
                .map(|(_, h)| h.clone());
            let sentence = match &signed {
                Some(signed) => format!(
                    "DKIM fails because a signed header changed after signing: the body hash \
                     matches, but b= does not verify; the signed headers hashed to {signed}, \
                     they now hash to {computed}"
                ),
                None => format!(
                    "DKIM fails because b= does not verify over the signed headers (they now \
                     hash to {computed}): a signed header changed after signing, or the key \
                     is not the signer's"
                ),
            };
            broken = Some(Broken::Signature { signed, computed });
            (DkimVerdict::Fail, sentence)
        }
        DkimResult::Fail(err) => (
            DkimVerdict::Fail,
            format!("DKIM signature ({algorithm}) fails: {err}"),
        ),
        DkimResult::PermError(Error::Dkim(DkimError::RevokedPublicKey)) => (
            DkimVerdict::PermError,
            format!("DKIM key at {key_name} is revoked (p= empty)"),
        ),
        DkimResult::PermError(err) => (
            DkimVerdict::PermError,
            format!(
                "DKIM signature ({algorithm}) cannot be verified: no usable key at {key_name} ({err})"
            ),
        ),
        DkimResult::TempError(err) => (
            DkimVerdict::TempError,
            format!("DKIM key at {key_name} could not be fetched for now ({err})"),
        ),
        DkimResult::Neutral(err) => (
            DkimVerdict::PermError,
            format!("DKIM signature ({algorithm}) cannot be evaluated: {err}"),
        ),
        DkimResult::None => (DkimVerdict::None, "not signed".to_string()),
    };
    SignatureCheck {
        algorithm,
        domain,
        selector,
        verdict,
        broken,
        sentence,
    }
}

/// The key records the signatures name, looked up in the scenario's DNS beforehand and
/// parsed, by fully qualified name.
struct KeyCache {
    txt: TxtMap,
}

struct TxtMap(HashMap<Box<str>, TxtRecord>);

impl KeyCache {
    fn from_signatures(fields: &[Vec<u8>], dns: &dyn Resolver) -> KeyCache {
        let mut map = HashMap::new();
        for field in fields {
            let text = String::from_utf8_lossy(field);
            let (Some(d), Some(s)) = (canon::tag(&text, "d"), canon::tag(&text, "s")) else {
                continue;
            };
            let name = format!("{s}._domainkey.{d}").to_ascii_lowercase();
            let record = match dns.txt(&name) {
                Ok(records) => {
                    let raw: Vec<Vec<u8>> = records.iter().map(|r| r.as_bytes().to_vec()).collect();
                    if raw.is_empty() {
                        TxtRecord::Error(Error::Dns(DnsError::RecordNotFound(
                            ResponseCode::NoError,
                        )))
                    } else {
                        let mut parsed = Err(Error::Dns(DnsError::InvalidRecordType));
                        for record in &raw {
                            parsed = DomainKey::parse(record);
                            if parsed.is_ok() {
                                break;
                            }
                        }
                        TxtRecord::from(parsed)
                    }
                }
                Err(LookupError::NxDomain) => {
                    TxtRecord::Error(Error::Dns(DnsError::RecordNotFound(ResponseCode::NXDomain)))
                }
                Err(err) => TxtRecord::Error(Error::Dns(DnsError::Resolver(err.to_string()))),
            };
            map.insert(format!("{name}.").into_boxed_str(), record);
        }
        KeyCache { txt: TxtMap(map) }
    }
}

impl ResolverCache<Box<str>, TxtRecord> for TxtMap {
    fn get<Q>(&self, name: &Q) -> Option<TxtRecord>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.0.get(name).cloned()
    }

    fn remove<Q>(&self, name: &Q) -> Option<TxtRecord>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.0.get(name).cloned()
    }

    fn insert(&self, _: Box<str>, _: TxtRecord, _: std::time::Instant) {}
}
