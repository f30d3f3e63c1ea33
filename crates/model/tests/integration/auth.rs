//! Sender authentication and placement on realistic DNS set-ups.

use std::net::IpAddr;

use smtpsim_model::auth::dkim::{DkimSignature, DkimVerdict};
use smtpsim_model::auth::dmarc::{Disposition, DmarcVerdict};
use smtpsim_model::auth::dns::{LookupError, StaticResolver};
use smtpsim_model::auth::spf::SpfVerdict;
use smtpsim_model::auth::{AuthInput, AuthOutcome, Placement, evaluate};
use smtpsim_proto::server::Decision;

const KEY: &str =
    "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAntvSKT1hkqhKe0xcaZ0x";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// Google's published SPF chain, in the shape it has in real DNS.
fn google() -> StaticResolver {
    StaticResolver::new()
        .with_txt("gmail.com", "v=spf1 redirect=_spf.google.com")
        .with_txt(
            "_spf.google.com",
            "v=spf1 include:_netblocks.google.com include:_netblocks2.google.com include:_netblocks3.google.com ~all",
        )
        .with_txt(
            "_netblocks.google.com",
            "v=spf1 ip4:35.190.247.0/24 ip4:64.233.160.0/19 ip4:66.102.0.0/20 ip4:66.249.80.0/20 ip4:72.14.192.0/18 ip4:74.125.0.0/16 ip4:108.177.8.0/21 ip4:173.194.0.0/16 ip4:209.85.128.0/17 ip4:216.58.192.0/19 ip4:216.239.32.0/19 ~all",
        )
        .with_txt(
            "_netblocks2.google.com",
            "v=spf1 ip6:2001:4860:4000::/36 ip6:2404:6800:4000::/36 ip6:2607:f8b0:4000::/36 ip6:2800:3f0:4000::/36 ip6:2a00:1450:4000::/36 ip6:2c0f:fb50:4000::/36 ~all",
        )
        .with_txt(
            "_netblocks3.google.com",
            "v=spf1 ip4:172.217.0.0/19 ip4:172.217.32.0/20 ip4:108.177.96.0/19 ip4:35.191.0.0/16 ip4:130.211.0.0/22 ~all",
        )
        .with_txt("_dmarc.gmail.com", "v=DMARC1; p=none; sp=quarantine; rua=mailto:mailauth-reports@google.com")
        .with_txt("20230601._domainkey.gmail.com", KEY)
}

fn assert_reasons(outcome: &AuthOutcome, expected: &[&str]) {
    for reason in expected {
        assert!(
            outcome.has_reason(reason),
            "missing {reason:?} in {:?}",
            outcome.reasons
        );
    }
}

#[test]
fn gmail_message_from_google_passes_everything() {
    let dns = google();
    let signature = DkimSignature::new("gmail.com", "20230601");
    let input = AuthInput::new(
        ip("209.85.220.41"),
        "mail-sor-f41.google.com",
        "alice@gmail.com",
        "gmail.com",
    )
    .with_dkim(&signature);
    let outcome = evaluate(&input, &dns);
    assert_eq!(outcome.spf.verdict, SpfVerdict::Pass);
    assert_eq!(
        outcome.spf.mechanism.as_deref(),
        Some("include:_netblocks.google.com")
    );
    assert!(
        outcome.spf.reason.starts_with("redirect=_spf.google.com:"),
        "{}",
        outcome.spf.reason
    );
    assert_eq!(outcome.spf.dns_terms, 2);
    assert_eq!(outcome.dkim.verdict, DkimVerdict::Pass);
    assert_eq!(outcome.dmarc.verdict, DmarcVerdict::Pass);
    assert!(outcome.dmarc.spf_aligned && outcome.dmarc.dkim_aligned);
    assert_eq!(outcome.placement, Placement::Inbox);
    assert_eq!(
        outcome.reasons,
        [
            "sender IP allowed by domain policy",
            "DKIM signature modelled as valid (domain key published)",
            "visible From aligns with SPF or DKIM",
            "placed in inbox",
        ]
    );
    assert_eq!(outcome.decision(), Decision::Accept);
    assert_eq!(
        outcome.authentication_results("mx.example.net"),
        "mx.example.net; spf=pass smtp.mailfrom=gmail.com; dkim=pass header.d=gmail.com; dmarc=pass header.from=gmail.com"
    );
    // Over IPv6 too, through the second netblock record.
    let input = AuthInput {
        client_ip: ip("2a00:1450:4864:20::42f"),
        ..input
    };
    let outcome = evaluate(&input, &dns);
    assert_eq!(
        outcome.spf.mechanism.as_deref(),
        Some("include:_netblocks2.google.com")
    );
    assert_eq!(outcome.spf.dns_terms, 3);
}

#[test]
fn workspace_domain_including_google_and_forged_from_elsewhere() {
    let dns = google()
        .with_txt("example.com", "v=spf1 include:_spf.google.com ~all")
        .with_txt(
            "_dmarc.example.com",
            "v=DMARC1; p=reject; rua=mailto:dmarc@example.com",
        )
        .with_txt("google._domainkey.example.com", KEY);
    let signature = DkimSignature::new("example.com", "google");
    let genuine = AuthInput::new(
        ip("209.85.220.69"),
        "mail-sor-f69.google.com",
        "ceo@example.com",
        "example.com",
    )
    .with_dkim(&signature);
    let outcome = evaluate(&genuine, &dns);
    assert_eq!(
        outcome.spf.mechanism.as_deref(),
        Some("include:_spf.google.com")
    );
    assert_eq!(outcome.placement, Placement::Inbox);

    // The same From, sent from a host Google does not list: SPF softfail, no signature.
    let forged = AuthInput::new(
        ip("203.0.113.66"),
        "mail.invalid",
        "ceo@example.com",
        "example.com",
    );
    let outcome = evaluate(&forged, &dns);
    assert_eq!(outcome.spf.verdict, SpfVerdict::SoftFail);
    assert_eq!(outcome.dmarc.verdict, DmarcVerdict::Fail);
    assert!(matches!(outcome.placement, Placement::Reject(_)));
}

#[test]
fn misaligned_sender_with_p_reject_is_rejected_with_550_5_7_1() {
    // The attacker's own domain passes SPF, but the visible From is the bank's.
    let dns = StaticResolver::new()
        .with_txt("bank.example", "v=spf1 mx -all")
        .with_mx("bank.example", 10, "mx.bank.example")
        .with_a("mx.bank.example", [192, 0, 2, 25])
        .with_txt("_dmarc.bank.example", "v=DMARC1; p=reject; adkim=s; aspf=s")
        .with_txt("phish.example", "v=spf1 ip4:198.51.100.0/24 -all")
        .with_txt("s1._domainkey.phish.example", KEY);
    let signature = DkimSignature::new("phish.example", "s1");
    let input = AuthInput::new(
        ip("198.51.100.9"),
        "smtp.phish.example",
        "notice@phish.example",
        "bank.example",
    )
    .with_dkim(&signature);
    let outcome = evaluate(&input, &dns);
    assert_eq!(outcome.spf.verdict, SpfVerdict::Pass);
    assert_eq!(outcome.dkim.verdict, DkimVerdict::Pass);
    assert_eq!(outcome.dmarc.verdict, DmarcVerdict::Fail);
    assert!(!outcome.dmarc.spf_aligned && !outcome.dmarc.dkim_aligned);
    assert_eq!(outcome.dmarc.policy, Some(Disposition::Reject));
    assert_reasons(
        &outcome,
        &[
            "sender IP allowed by domain policy",
            "DKIM signature modelled as valid (domain key published)",
            "DMARC policy reject: visible From not aligned",
            "rejected at end of data: DMARC policy reject",
        ],
    );
    let Placement::Reject(reply) = &outcome.placement else {
        panic!("expected a rejection, got {:?}", outcome.placement);
    };
    assert_eq!(reply.code.get(), 550);
    let enhanced = reply.enhanced.unwrap();
    assert_eq!(
        (enhanced.class, enhanced.subject, enhanced.detail),
        (5, 7, 1)
    );
    let wire = String::from_utf8(reply.to_bytes()).unwrap();
    assert!(
        wire.starts_with("550 5.7.1 Message rejected: DMARC policy of bank.example is reject"),
        "{wire}"
    );
    assert_eq!(outcome.decision(), Decision::Refuse(reply.clone()));
}

/// example.org signs its mail and publishes a strict SPF record and p=reject.
fn example_org() -> StaticResolver {
    StaticResolver::new()
        .with_txt("example.org", "v=spf1 ip4:192.0.2.0/24 -all")
        .with_txt("_dmarc.example.org", "v=DMARC1; p=reject")
        .with_txt("mail2024._domainkey.example.org", KEY)
}

#[test]
fn forwarded_message_is_saved_by_dkim() {
    // A university forwarder re-sends alice's message from its own address, keeping her MAIL
    // FROM: SPF fails, but the intact signature is aligned with From.
    let dns = example_org();
    let signature = DkimSignature::new("example.org", "mail2024");
    let input = AuthInput::new(
        ip("198.51.100.20"),
        "forwarder.uni.example",
        "alice@example.org",
        "example.org",
    )
    .with_dkim(&signature);
    let outcome = evaluate(&input, &dns);
    assert_eq!(outcome.spf.verdict, SpfVerdict::Fail);
    assert_eq!(outcome.spf.mechanism.as_deref(), Some("-all"));
    assert_eq!(outcome.dmarc.verdict, DmarcVerdict::Pass);
    assert!(!outcome.dmarc.spf_aligned && outcome.dmarc.dkim_aligned);
    assert_eq!(outcome.placement, Placement::Inbox);
    assert_reasons(
        &outcome,
        &[
            "sender IP not allowed by domain policy",
            "DKIM signature modelled as valid (domain key published)",
            "visible From aligns with SPF or DKIM",
            "placed in inbox",
        ],
    );
}

#[test]
fn mailing_list_footer_breaks_dkim_and_dmarc_rejects() {
    let dns = example_org();
    let signature = DkimSignature::new("example.org", "mail2024").with_body_altered();
    let input = AuthInput::new(
        ip("198.51.100.20"),
        "lists.example.net",
        "alice@example.org",
        "example.org",
    )
    .with_dkim(&signature);
    let outcome = evaluate(&input, &dns);
    assert_eq!(outcome.dkim.verdict, DkimVerdict::Fail);
    assert!(outcome.has_reason("DKIM signature modelled as broken: body altered in transit"));
    assert!(matches!(outcome.placement, Placement::Reject(_)));
    // A list that rewrites the envelope to its own domain passes SPF, but not aligned.
    let dns = dns.with_txt("lists.example.net", "v=spf1 ip4:198.51.100.20 -all");
    let input = AuthInput {
        mail_from: "list-bounces@lists.example.net",
        ..input
    };
    let outcome = evaluate(&input, &dns);
    assert_eq!(outcome.spf.verdict, SpfVerdict::Pass);
    assert!(matches!(outcome.placement, Placement::Reject(_)));
}

#[test]
fn spf_softfail_without_dmarc_goes_to_spam() {
    let dns = StaticResolver::new()
        .with_txt("shop.example", "v=spf1 a mx ~all")
        .with_a("shop.example", [203, 0, 113, 10])
        .with_txt("k1._domainkey.shop.example", KEY);
    let input = AuthInput::new(
        ip("192.0.2.200"),
        "cloud-vm.example.net",
        "orders@shop.example",
        "shop.example",
    );
    let outcome = evaluate(&input, &dns);
    assert_eq!(outcome.spf.verdict, SpfVerdict::SoftFail);
    assert_eq!(outcome.dmarc.verdict, DmarcVerdict::None);
    assert_eq!(outcome.placement, Placement::Spam);
    assert_reasons(
        &outcome,
        &[
            "sender IP discouraged by domain policy (SPF softfail)",
            "not signed",
            "From domain publishes no DMARC policy",
            "placed in spam: SPF softfail and no DKIM pass",
        ],
    );
    // A valid signature rescues it; the listed address passes anyway.
    let signature = DkimSignature::new("shop.example", "k1");
    assert_eq!(
        evaluate(&input.with_dkim(&signature), &dns).placement,
        Placement::Inbox
    );
    let listed = AuthInput {
        client_ip: ip("203.0.113.10"),
        ..input
    };
    assert_eq!(evaluate(&listed, &dns).placement, Placement::Inbox);
}

#[test]
fn spf_fail_without_dmarc_goes_to_spam() {
    let dns = StaticResolver::new().with_txt("strict.example", "v=spf1 ip4:192.0.2.1 -all");
    let input = AuthInput::new(
        ip("192.0.2.2"),
        "h.example",
        "a@strict.example",
        "strict.example",
    );
    let outcome = evaluate(&input, &dns);
    assert_eq!(outcome.placement, Placement::Spam);
    assert!(outcome.has_reason("placed in spam: sender IP not allowed by domain policy"));
}

#[test]
fn quarantine_and_pct() {
    let dns = StaticResolver::new()
        .with_txt("news.example", "v=spf1 ip4:192.0.2.0/24 -all")
        .with_txt("_dmarc.news.example", "v=DMARC1; p=reject; pct=20");
    let input = AuthInput::new(
        ip("198.51.100.1"),
        "x.example",
        "n@news.example",
        "news.example",
    );
    // Inside the 20% sample: reject; outside it: quarantine (spam).
    assert!(matches!(
        evaluate(&input.with_pct_draw(0.1), &dns).placement,
        Placement::Reject(_)
    ));
    let outside = evaluate(&input.with_pct_draw(0.5), &dns);
    assert_eq!(outside.placement, Placement::Spam);
    assert!(outside.has_reason("DMARC policy quarantine: visible From not aligned"));
    assert!(outside.has_reason("placed in spam: DMARC policy quarantine"));
}

#[test]
fn p_none_only_monitors() {
    let dns = StaticResolver::new()
        .with_txt("relaxed.example", "v=spf1 ?all")
        .with_txt("_dmarc.relaxed.example", "v=DMARC1; p=none");
    let input = AuthInput::new(
        ip("198.51.100.1"),
        "x.example",
        "n@relaxed.example",
        "relaxed.example",
    );
    let outcome = evaluate(&input, &dns);
    assert_eq!(outcome.dmarc.verdict, DmarcVerdict::Fail);
    assert_eq!(outcome.placement, Placement::Inbox);
    assert!(outcome.has_reason("DMARC policy none: visible From not aligned"));
}

#[test]
fn subdomain_mail_follows_sp() {
    let dns = StaticResolver::new()
        .with_txt("_dmarc.corp.example", "v=DMARC1; p=none; sp=reject")
        .with_txt("alerts.corp.example", "v=spf1 ip4:192.0.2.5 -all");
    let forged = AuthInput::new(ip("198.51.100.1"), "x.example", "", "alerts.corp.example");
    let outcome = evaluate(&forged, &dns);
    assert_eq!(outcome.dmarc.policy_domain.as_deref(), Some("corp.example"));
    assert!(matches!(outcome.placement, Placement::Reject(_)));
    // Genuine mail from the subdomain: SPF passes and aligns (relaxed).
    let genuine = AuthInput::new(
        ip("192.0.2.5"),
        "h.example",
        "bot@alerts.corp.example",
        "corp.example",
    );
    assert_eq!(evaluate(&genuine, &dns).placement, Placement::Inbox);
}

#[test]
fn esp_signing_for_the_customer_passes_through_dkim() {
    // The ESP's bounce domain passes SPF but is not aligned; the customer's d= is.
    let dns = StaticResolver::new()
        .with_txt("bounces.esp.example", "v=spf1 ip4:198.51.100.0/24 -all")
        .with_txt("_dmarc.brand.example", "v=DMARC1; p=reject")
        .with_txt("esp1._domainkey.brand.example", KEY);
    let signature = DkimSignature::new("brand.example", "esp1");
    let input = AuthInput::new(
        ip("198.51.100.77"),
        "o1.esp.example",
        "bounce-123@bounces.esp.example",
        "brand.example",
    )
    .with_dkim(&signature);
    let outcome = evaluate(&input, &dns);
    assert!(!outcome.dmarc.spf_aligned && outcome.dmarc.dkim_aligned);
    assert_eq!(outcome.placement, Placement::Inbox);
    // If the customer forgets to publish the key, the message is rejected.
    let dns = StaticResolver::new()
        .with_txt("bounces.esp.example", "v=spf1 ip4:198.51.100.0/24 -all")
        .with_txt("_dmarc.brand.example", "v=DMARC1; p=reject");
    let outcome = evaluate(&input, &dns);
    assert_eq!(outcome.dkim.verdict, DkimVerdict::PermError);
    assert!(outcome.has_reason("signing key not published or revoked"));
    assert!(matches!(outcome.placement, Placement::Reject(_)));
}

#[test]
fn bounce_with_null_sender_is_checked_by_helo() {
    let dns = StaticResolver::new()
        .with_txt("mx.example.org", "v=spf1 a -all")
        .with_a("mx.example.org", [192, 0, 2, 30])
        .with_txt("_dmarc.example.org", "v=DMARC1; p=reject");
    let input = AuthInput::new(ip("192.0.2.30"), "mx.example.org", "", "example.org");
    let outcome = evaluate(&input, &dns);
    assert_eq!(outcome.spf.domain, "mx.example.org");
    assert_eq!(outcome.spf.verdict, SpfVerdict::Pass);
    assert_eq!(outcome.dmarc.verdict, DmarcVerdict::Pass);
    assert_eq!(outcome.placement, Placement::Inbox);
}

#[test]
fn nothing_published_means_inbox() {
    let input = AuthInput::new(
        ip("192.0.2.1"),
        "h.example",
        "a@quiet.example",
        "quiet.example",
    );
    let outcome = evaluate(&input, &StaticResolver::new());
    assert_eq!(outcome.placement, Placement::Inbox);
    assert_eq!(
        outcome.reasons,
        [
            "sender domain publishes no SPF policy",
            "not signed",
            "From domain publishes no DMARC policy",
            "placed in inbox",
        ]
    );
}

#[test]
fn dns_trouble_does_not_defer_or_punish() {
    let dns = StaticResolver::new()
        .with_failure("flaky.example", LookupError::Timeout)
        .with_failure("_dmarc.flaky.example", LookupError::ServFail);
    let input = AuthInput::new(
        ip("192.0.2.1"),
        "h.example",
        "a@flaky.example",
        "flaky.example",
    );
    let outcome = evaluate(&input, &dns);
    assert_eq!(outcome.spf.verdict, SpfVerdict::TempError);
    assert_eq!(outcome.dmarc.verdict, DmarcVerdict::TempError);
    assert_eq!(outcome.placement, Placement::Inbox);
    assert_reasons(
        &outcome,
        &[
            "SPF check failed for now (DNS error)",
            "DMARC policy lookup failed for now (DNS error)",
        ],
    );
}

#[test]
fn broken_spf_record_is_reported() {
    let dns = StaticResolver::new()
        .with_txt(
            "typo.example",
            "v=spf1 ip4:192.0.2.0/24 inclde:_spf.example.net -all",
        )
        .with_txt("_dmarc.typo.example", "v=DMARC1; p=quarantine");
    let input = AuthInput::new(
        ip("192.0.2.1"),
        "h.example",
        "a@typo.example",
        "typo.example",
    );
    let outcome = evaluate(&input, &dns);
    assert_eq!(outcome.spf.verdict, SpfVerdict::PermError);
    assert!(
        outcome.spf.reason.contains("unknown mechanism 'inclde'"),
        "{}",
        outcome.spf.reason
    );
    assert!(outcome.has_reason("sender domain's SPF record is broken"));
    assert_eq!(outcome.placement, Placement::Spam);
}
