//! Messages signed, altered and verified for real: the verdict and the words that say why.

use smtpsim_mail::canon;
use smtpsim_mail::keys::{Algorithm, SigningKeys};
use smtpsim_mail::sign::sign;
use smtpsim_mail::verify::{Broken, verify};
use smtpsim_model::auth::dkim::DkimVerdict;
use smtpsim_model::auth::dns::{LookupError, StaticResolver};

const MESSAGE: &[u8] = b"From: <news@club.example>\r\nTo: <ann@mail.example>\r\n\
Subject: Meeting on Friday\r\nMessage-ID: <1@club.example>\r\n\r\nSee you at  eight.\r\n";

fn published(keys: &SigningKeys) -> StaticResolver {
    let mut dns = StaticResolver::new();
    for algorithm in Algorithm::ALL {
        dns = dns.with_txt(&keys.key_name(algorithm), keys.record(algorithm));
    }
    dns
}

#[test]
fn an_intact_message_passes_with_both_algorithms_on_several_seeds() {
    for seed in [1, 2, 3] {
        let keys = SigningKeys::derive(seed, "club.example", "s1");
        let signed = sign(MESSAGE, &keys);
        let check = verify(&signed, &published(&keys), &[]);
        assert_eq!(check.verdict, DkimVerdict::Pass);
        let algorithms: Vec<&str> = check
            .signatures
            .iter()
            .map(|s| s.algorithm.as_str())
            .collect();
        assert_eq!(algorithms, ["rsa-sha256", "ed25519-sha256"]);
        assert!(
            check
                .signatures
                .iter()
                .all(|s| s.verdict == DkimVerdict::Pass)
        );
        // Same seed, same bytes.
        assert_eq!(
            signed,
            sign(MESSAGE, &SigningKeys::derive(seed, "club.example", "s1"))
        );
    }
}

#[test]
fn a_body_changed_in_transit_fails_on_the_body_hash() {
    let keys = SigningKeys::derive(4, "club.example", "s1");
    let signed = sign(MESSAGE, &keys);
    let altered = String::from_utf8(signed.clone())
        .unwrap()
        .replace("eight", "nine")
        .into_bytes();
    let check = verify(&altered, &published(&keys), &[]);
    assert_eq!(check.verdict, DkimVerdict::Fail);
    for signature in &check.signatures {
        let Some(Broken::BodyHash {
            signed: bh,
            computed,
        }) = &signature.broken
        else {
            panic!("expected a body hash failure: {signature:?}");
        };
        assert_eq!(*bh, canon::body_hash(&signed));
        assert_eq!(*computed, canon::body_hash(&altered));
        assert_ne!(bh, computed);
        assert!(
            signature
                .sentence
                .contains("the body changed after signing")
        );
        assert!(signature.sentence.contains(&format!("bh= says {bh}")));
        assert!(signature.sentence.contains(computed.as_str()));
    }
    // Whitespace changes are what relaxed canonicalization forgives.
    let respaced = String::from_utf8(signed)
        .unwrap()
        .replace("See you at  eight.", "See  you at eight. \t")
        .into_bytes();
    assert_eq!(
        verify(&respaced, &published(&keys), &[]).verdict,
        DkimVerdict::Pass
    );
}

#[test]
fn a_signed_header_changed_in_transit_fails_on_b() {
    let keys = SigningKeys::derive(5, "club.example", "s1");
    let signed = sign(MESSAGE, &keys);
    let before = canon::signature_hashes(&signed);
    assert_eq!(before.len(), 2);
    let altered = String::from_utf8(signed)
        .unwrap()
        .replace("Subject: Meeting on Friday", "Subject: Meeting on Saturday")
        .into_bytes();
    let check = verify(&altered, &published(&keys), &before);
    assert_eq!(check.verdict, DkimVerdict::Fail);
    for signature in &check.signatures {
        let Some(Broken::Signature { signed, computed }) = &signature.broken else {
            panic!("expected a b= failure: {signature:?}");
        };
        let signed = signed.as_ref().expect("the hash at signing is known");
        assert_ne!(signed, computed);
        assert!(
            signature
                .sentence
                .contains("a signed header changed after signing")
        );
        assert!(signature.sentence.contains("b= does not verify"));
        assert!(signature.sentence.contains(signed.as_str()));
    }
}

#[test]
fn keys_missing_revoked_or_unreachable_give_the_dkim_errors() {
    let keys = SigningKeys::derive(6, "club.example", "s1");
    let signed = sign(MESSAGE, &keys);
    let nothing = StaticResolver::new();
    assert_eq!(
        verify(&signed, &nothing, &[]).verdict,
        DkimVerdict::PermError
    );
    let mut revoked = StaticResolver::new();
    for algorithm in Algorithm::ALL {
        revoked = revoked.with_txt(&keys.key_name(algorithm), "v=DKIM1; k=rsa; p=");
    }
    let check = verify(&signed, &revoked, &[]);
    assert_eq!(check.verdict, DkimVerdict::PermError);
    assert!(check.signatures[0].sentence.contains("revoked"));
    let failing = StaticResolver::new()
        .with_failure("s1._domainkey.club.example", LookupError::ServFail)
        .with_failure("s1-ed25519._domainkey.club.example", LookupError::ServFail);
    assert_eq!(
        verify(&signed, &failing, &[]).verdict,
        DkimVerdict::TempError
    );
    // Another seed's keys do not verify this seed's signatures.
    let other = SigningKeys::derive(7, "club.example", "s1");
    assert_eq!(
        verify(&signed, &published(&other), &[]).verdict,
        DkimVerdict::Fail
    );
    assert_eq!(
        verify(MESSAGE, &published(&keys), &[]).verdict,
        DkimVerdict::None
    );
}
