//! DKIM keys derived from a scenario's seed: the same seed, domain and selector give the same
//! keys on every machine, so a journey's signatures are the same bytes every time.
//!
//! Each signing domain and selector of a scenario gets two keys: an RSA key (2048 bits,
//! `rsa-sha256`) published at `<selector>._domainkey.<domain>`, and an Ed25519 key
//! (`ed25519-sha256`, RFC 8463) published at `<selector>-ed25519._domainkey.<domain>`.
//!
//! The Ed25519 key costs a hash; the RSA key costs a search for two primes, so it is derived
//! only when something signs with it or asks for its record, and then kept.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};

use base64::Engine as _;
use mail_auth::common::crypto::{Ed25519Key, RsaKey, Sha256};
use rand_chacha_03::ChaCha20Rng;
use rand_chacha_03::rand_core::SeedableRng;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::EncodePublicKey;
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs1KeyDer};
use sha2::Digest;

/// Bits of the derived RSA keys.
pub const RSA_BITS: usize = 2048;

/// A signature algorithm the teaching tools sign with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum Algorithm {
    /// `ed25519-sha256` (RFC 8463).
    #[serde(rename = "ed25519-sha256")]
    Ed25519Sha256,
    /// `rsa-sha256` (RFC 6376).
    #[serde(rename = "rsa-sha256")]
    RsaSha256,
}

impl Algorithm {
    /// Both, in the order signatures are added.
    pub const ALL: [Algorithm; 2] = [Algorithm::Ed25519Sha256, Algorithm::RsaSha256];

    /// The `a=` value.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Ed25519Sha256 => "ed25519-sha256",
            Algorithm::RsaSha256 => "rsa-sha256",
        }
    }

    /// The selector this algorithm's key is published under, for the scenario's `selector`.
    pub fn selector(self, selector: &str) -> String {
        match self {
            Algorithm::Ed25519Sha256 => format!("{selector}-ed25519"),
            Algorithm::RsaSha256 => selector.to_string(),
        }
    }
}

/// The private keys of one signing domain and selector, and their public records.
pub struct SigningKeys {
    /// The signing domain, `d=`.
    pub domain: String,
    /// The scenario's selector (the RSA key's; the Ed25519 key's is [`Algorithm::selector`]).
    pub selector: String,
    pub(crate) ed25519: Ed25519Key,
    ed25519_public: Vec<u8>,
    rsa_seed: [u8; 32],
    rsa: OnceLock<RsaPair>,
}

/// The RSA key, once derived.
struct RsaPair {
    private: RsaKey<Sha256>,
    public: Vec<u8>,
}

impl SigningKeys {
    /// Derives the keys of `domain` and `selector` from `seed` (the RSA key when first used).
    pub fn derive(seed: u64, domain: &str, selector: &str) -> SigningKeys {
        let domain = domain.to_ascii_lowercase();
        let ed_seed = key_seed(seed, &domain, selector, Algorithm::Ed25519Sha256);
        let dalek = ed25519_dalek::SigningKey::from_bytes(&ed_seed);
        let ed25519_public = dalek.verifying_key().to_bytes().to_vec();
        let ed25519 = Ed25519Key::from_seed_and_public_key(&ed_seed, &ed25519_public)
            .expect("a derived seed makes a valid Ed25519 key");
        let rsa_seed = key_seed(seed, &domain, selector, Algorithm::RsaSha256);
        SigningKeys {
            domain,
            selector: selector.to_string(),
            ed25519,
            ed25519_public,
            rsa_seed,
            rsa: OnceLock::new(),
        }
    }

    /// The RSA key, derived on first use.
    fn rsa_pair(&self) -> &RsaPair {
        self.rsa.get_or_init(|| {
            let mut rng = ChaCha20Rng::from_seed(self.rsa_seed);
            let private =
                rsa::RsaPrivateKey::new(&mut rng, RSA_BITS).expect("RSA key generation succeeds");
            let public = private
                .to_public_key()
                .to_public_key_der()
                .expect("an RSA public key encodes")
                .as_bytes()
                .to_vec();
            let der = private
                .to_pkcs1_der()
                .expect("an RSA private key encodes")
                .as_bytes()
                .to_vec();
            let private =
                RsaKey::<Sha256>::from_key_der(PrivateKeyDer::Pkcs1(PrivatePkcs1KeyDer::from(der)))
                    .expect("a generated RSA key loads");
            RsaPair { private, public }
        })
    }

    /// The RSA private key, derived on first use.
    pub(crate) fn rsa(&self) -> &RsaKey<Sha256> {
        &self.rsa_pair().private
    }

    /// Derives the RSA key now, if it is not yet.
    pub fn derive_rsa(&self) {
        self.rsa_pair();
    }

    /// Whether the RSA key has been derived.
    pub fn rsa_derived(&self) -> bool {
        self.rsa.get().is_some()
    }

    /// The name the key of `algorithm` is published at: `<selector>._domainkey.<domain>`.
    pub fn key_name(&self, algorithm: Algorithm) -> String {
        format!(
            "{}._domainkey.{}",
            algorithm.selector(&self.selector),
            self.domain
        )
    }

    /// The TXT record that publishes the public key of `algorithm`.
    pub fn record(&self, algorithm: Algorithm) -> String {
        let b64 = base64::engine::general_purpose::STANDARD;
        match algorithm {
            Algorithm::Ed25519Sha256 => {
                format!("v=DKIM1; k=ed25519; p={}", b64.encode(&self.ed25519_public))
            }
            Algorithm::RsaSha256 => {
                format!("v=DKIM1; k=rsa; p={}", b64.encode(&self.rsa_pair().public))
            }
        }
    }
}

/// 32 bytes for one key: SHA-256 over a label, the seed, the domain, the selector and the
/// algorithm.
fn key_seed(seed: u64, domain: &str, selector: &str, algorithm: Algorithm) -> [u8; 32] {
    let mut hasher = sha2::Sha256::new();
    hasher.update(b"smtpsim dkim key\0");
    hasher.update(seed.to_le_bytes());
    hasher.update(domain.as_bytes());
    hasher.update([0]);
    hasher.update(selector.as_bytes());
    hasher.update([0]);
    hasher.update(algorithm.name().as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(&hasher.finalize());
    out
}

/// The keys of a run, derived once per domain and selector and kept; shared by the signer
/// and the DNS that publishes the public keys.
#[derive(Default)]
pub struct KeyRing {
    seed: u64,
    keys: Mutex<BTreeMap<(String, String), Arc<SigningKeys>>>,
}

impl KeyRing {
    /// An empty ring for `seed`.
    pub fn new(seed: u64) -> KeyRing {
        KeyRing {
            seed,
            keys: Mutex::new(BTreeMap::new()),
        }
    }

    /// The seed the keys derive from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The keys of `domain` and `selector`, derived on first use.
    pub fn keys(&self, domain: &str, selector: &str) -> Arc<SigningKeys> {
        let key = (domain.to_ascii_lowercase(), selector.to_string());
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        keys.entry(key)
            .or_insert_with(|| Arc::new(SigningKeys::derive(self.seed, domain, selector)))
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_a_function_of_seed_domain_and_selector() {
        let a = SigningKeys::derive(7, "Example.com", "s1");
        let b = SigningKeys::derive(7, "example.com", "s1");
        let c = SigningKeys::derive(8, "example.com", "s1");
        for algorithm in Algorithm::ALL {
            assert_eq!(a.record(algorithm), b.record(algorithm));
            assert_ne!(a.record(algorithm), c.record(algorithm));
        }
        assert_eq!(
            a.key_name(Algorithm::Ed25519Sha256),
            "s1-ed25519._domainkey.example.com"
        );
        assert_eq!(
            a.key_name(Algorithm::RsaSha256),
            "s1._domainkey.example.com"
        );
        assert!(
            a.record(Algorithm::RsaSha256)
                .starts_with("v=DKIM1; k=rsa; p=MII")
        );
    }
}
