use super::*;
use crate::auth::dns::StaticResolver;

fn spf(verdict: SpfVerdict, domain: &str) -> SpfResult {
    SpfResult {
        verdict,
        domain: domain.to_owned(),
        mechanism: None,
        matched: Vec::new(),
        reason: String::new(),
        dns_terms: 0,
        void_lookups: 0,
    }
}

fn dkim(verdict: DkimVerdict, domain: Option<&str>) -> DkimResult {
    DkimResult {
        verdict,
        domain: domain.map(str::to_owned),
        selector: domain.map(|_| "sel".to_owned()),
        reason: String::new(),
    }
}

fn unsigned() -> DkimResult {
    dkim(DkimVerdict::None, None)
}

#[test]
fn parse_defaults_and_tags() {
    let record = DmarcRecord::parse("v=DMARC1; p=reject").unwrap();
    assert_eq!(
        record,
        DmarcRecord {
            policy: Disposition::Reject,
            subdomain_policy: None,
            adkim: Alignment::Relaxed,
            aspf: Alignment::Relaxed,
            pct: 100,
        }
    );
    let record = DmarcRecord::parse("V=dmarc1;P=Quarantine;SP=none;ADKIM=S;ASPF=s;PCT=0;").unwrap();
    assert_eq!(record.policy, Disposition::Quarantine);
    assert_eq!(record.subdomain_policy, Some(Disposition::None));
    assert_eq!(record.adkim, Alignment::Strict);
    assert_eq!(record.aspf, Alignment::Strict);
    assert_eq!(record.pct, 0);
}

#[test]
fn parse_errors() {
    assert_eq!(
        DmarcRecord::parse("v=DMARC1; rua=mailto:x@example.com"),
        Err(DmarcParseError::MissingPolicy)
    );
    assert_eq!(
        DmarcRecord::parse("v=DMARC1; p=block"),
        Err(DmarcParseError::InvalidPolicy("block".into()))
    );
    assert_eq!(
        DmarcRecord::parse("v=DMARC1; p=none; sp=maybe"),
        Err(DmarcParseError::InvalidSubdomainPolicy("maybe".into()))
    );
    for bad_version in [
        "v=DMARC2; p=reject",
        "p=reject; v=DMARC1",
        "v=spf1 -all",
        "",
        "DMARC1",
    ] {
        assert_eq!(
            DmarcRecord::parse(bad_version),
            Err(DmarcParseError::NotDmarc),
            "{bad_version}"
        );
    }
}

#[test]
fn invalid_optional_values_fall_back_to_defaults() {
    let record =
        DmarcRecord::parse("v=DMARC1; p=none; adkim=x; aspf=; pct=150; junk; fo=1").unwrap();
    assert_eq!(record.adkim, Alignment::Relaxed);
    assert_eq!(record.aspf, Alignment::Relaxed);
    assert_eq!(record.pct, 100);
    assert_eq!(
        DmarcRecord::parse("v=DMARC1; p=none; pct=-5").unwrap().pct,
        100
    );
    assert_eq!(
        DmarcRecord::parse("v=DMARC1; p=none; pct=50").unwrap().pct,
        50
    );
    // The first of a repeated tag counts.
    assert_eq!(
        DmarcRecord::parse("v=DMARC1; p=none; p=reject")
            .unwrap()
            .policy,
        Disposition::None
    );
}

#[test]
fn organisational_domains() {
    for (name, org) in [
        ("example.com", "example.com"),
        ("mail.example.com", "example.com"),
        ("a.b.c.example.org.", "example.org"),
        ("Example.COM", "Example.COM"),
        ("shop.example.co.uk", "example.co.uk"),
        ("example.co.uk", "example.co.uk"),
        ("co.uk", "co.uk"),
        ("news.Example.CO.UK", "Example.CO.UK"),
        ("mail.example.com.au", "example.com.au"),
        ("www.example.co.jp", "example.co.jp"),
        ("example.uk", "example.uk"),
        ("com", "com"),
        ("", ""),
    ] {
        assert_eq!(organizational_domain(name), org, "{name}");
    }
}

#[test]
fn suffix_list_is_sorted_lower_case_and_two_labels() {
    assert!(MULTI_LABEL_SUFFIXES.windows(2).all(|w| w[0] < w[1]));
    for suffix in MULTI_LABEL_SUFFIXES {
        assert_eq!(suffix.to_ascii_lowercase(), *suffix);
        assert_eq!(suffix.matches('.').count(), 1, "{suffix}");
    }
}

#[test]
fn alignment_relaxed_vs_strict() {
    assert!(aligned("example.com", "example.com", Alignment::Strict));
    assert!(aligned("EXAMPLE.com.", "example.com", Alignment::Strict));
    assert!(!aligned(
        "bounce.example.com",
        "example.com",
        Alignment::Strict
    ));
    assert!(aligned(
        "bounce.example.com",
        "example.com",
        Alignment::Relaxed
    ));
    assert!(aligned(
        "mail.example.com",
        "news.example.com",
        Alignment::Relaxed
    ));
    assert!(!aligned("example.net", "example.com", Alignment::Relaxed));
    assert!(!aligned("a.co.uk", "b.co.uk", Alignment::Relaxed));
    assert!(aligned("x.shop.co.uk", "shop.co.uk", Alignment::Relaxed));
    assert!(!aligned("", "example.com", Alignment::Relaxed));
}

#[test]
fn pass_with_aligned_spf_or_dkim() {
    let dns = StaticResolver::new().with_txt("_dmarc.example.com", "v=DMARC1; p=reject");
    let by_spf = evaluate(
        "example.com",
        &spf(SpfVerdict::Pass, "bounce.example.com"),
        &unsigned(),
        0.5,
        &dns,
    );
    assert_eq!(by_spf.verdict, DmarcVerdict::Pass);
    assert!(by_spf.spf_aligned && !by_spf.dkim_aligned);
    assert_eq!(by_spf.policy, None);
    assert_eq!(by_spf.policy_domain.as_deref(), Some("example.com"));
    let by_dkim = evaluate(
        "example.com",
        &spf(SpfVerdict::Fail, "forwarder.example.net"),
        &dkim(DkimVerdict::Pass, Some("example.com")),
        0.5,
        &dns,
    );
    assert_eq!(by_dkim.verdict, DmarcVerdict::Pass);
    assert!(!by_dkim.spf_aligned && by_dkim.dkim_aligned);
    assert!(
        by_dkim.reason.contains("DKIM d=example.com"),
        "{}",
        by_dkim.reason
    );
}

#[test]
fn passing_but_unaligned_is_a_fail() {
    let dns = StaticResolver::new().with_txt("_dmarc.example.com", "v=DMARC1; p=quarantine");
    let result = evaluate(
        "example.com",
        &spf(SpfVerdict::Pass, "esp.example.net"),
        &dkim(DkimVerdict::Pass, Some("esp.example.net")),
        0.0,
        &dns,
    );
    assert_eq!(result.verdict, DmarcVerdict::Fail);
    assert_eq!(result.policy, Some(Disposition::Quarantine));
    assert!(
        result.reason.contains("aligns with neither"),
        "{}",
        result.reason
    );
}

#[test]
fn strict_modes_need_exact_names() {
    let dns =
        StaticResolver::new().with_txt("_dmarc.example.com", "v=DMARC1; p=reject; aspf=s; adkim=s");
    let sub_spf = spf(SpfVerdict::Pass, "bounce.example.com");
    let sub_dkim = dkim(DkimVerdict::Pass, Some("mail.example.com"));
    let result = evaluate("example.com", &sub_spf, &sub_dkim, 0.0, &dns);
    assert_eq!(result.verdict, DmarcVerdict::Fail);
    assert_eq!(result.policy, Some(Disposition::Reject));
    let relaxed = StaticResolver::new().with_txt("_dmarc.example.com", "v=DMARC1; p=reject");
    assert_eq!(
        evaluate("example.com", &sub_spf, &sub_dkim, 0.0, &relaxed).verdict,
        DmarcVerdict::Pass
    );
}

#[test]
fn failed_dkim_or_spf_does_not_align() {
    let dns = StaticResolver::new().with_txt("_dmarc.example.com", "v=DMARC1; p=reject");
    let result = evaluate(
        "example.com",
        &spf(SpfVerdict::SoftFail, "example.com"),
        &dkim(DkimVerdict::Fail, Some("example.com")),
        0.0,
        &dns,
    );
    assert_eq!(result.verdict, DmarcVerdict::Fail);
    assert!(!result.spf_aligned && !result.dkim_aligned);
}

#[test]
fn subdomains_use_sp_from_the_organisational_record() {
    let dns =
        StaticResolver::new().with_txt("_dmarc.example.com", "v=DMARC1; p=reject; sp=quarantine");
    let fail = spf(SpfVerdict::Fail, "other.example");
    let sub = evaluate("news.example.com", &fail, &unsigned(), 0.0, &dns);
    assert_eq!(sub.verdict, DmarcVerdict::Fail);
    assert_eq!(sub.policy_domain.as_deref(), Some("example.com"));
    assert_eq!(sub.policy, Some(Disposition::Quarantine));
    let top = evaluate("example.com", &fail, &unsigned(), 0.0, &dns);
    assert_eq!(top.policy, Some(Disposition::Reject));
    // Without sp=, subdomains get p=.
    let dns = StaticResolver::new().with_txt("_dmarc.example.com", "v=DMARC1; p=reject");
    assert_eq!(
        evaluate("a.b.example.com", &fail, &unsigned(), 0.0, &dns).policy,
        Some(Disposition::Reject)
    );
    // A record at the subdomain itself wins over the organisational one, and its p= applies.
    let dns = dns.with_txt("_dmarc.news.example.com", "v=DMARC1; p=none; sp=reject");
    let own = evaluate("news.example.com", &fail, &unsigned(), 0.0, &dns);
    assert_eq!(own.policy_domain.as_deref(), Some("news.example.com"));
    assert_eq!(own.policy, Some(Disposition::None));
}

#[test]
fn pct_lowers_the_policy_for_messages_outside_the_sample() {
    let dns = StaticResolver::new().with_txt("_dmarc.example.com", "v=DMARC1; p=reject; pct=30");
    let fail = spf(SpfVerdict::Fail, "example.com");
    assert_eq!(
        evaluate("example.com", &fail, &unsigned(), 0.29, &dns).policy,
        Some(Disposition::Reject)
    );
    let out = evaluate("example.com", &fail, &unsigned(), 0.30, &dns);
    assert_eq!(out.policy, Some(Disposition::Quarantine));
    assert!(out.reason.contains("outside pct=30"), "{}", out.reason);
    let dns = StaticResolver::new().with_txt("_dmarc.example.com", "v=DMARC1; p=quarantine; pct=0");
    assert_eq!(
        evaluate("example.com", &fail, &unsigned(), 0.0, &dns).policy,
        Some(Disposition::None)
    );
    let dns = StaticResolver::new().with_txt("_dmarc.example.com", "v=DMARC1; p=reject");
    for draw in [0.0, 0.999_999, 1.0, 7.0, -1.0, f64::NAN] {
        assert_eq!(
            evaluate("example.com", &fail, &unsigned(), draw, &dns).policy,
            Some(Disposition::Reject),
            "{draw}"
        );
    }
}

#[test]
fn no_record_broken_records_and_dns_failures() {
    let fail = spf(SpfVerdict::Fail, "example.com");
    let none = evaluate(
        "example.com",
        &fail,
        &unsigned(),
        0.0,
        &StaticResolver::new(),
    );
    assert_eq!(none.verdict, DmarcVerdict::None);
    assert_eq!(none.policy, None);
    assert_eq!(none.reason, "no DMARC record for example.com");
    let only_other_txt = StaticResolver::new().with_txt("_dmarc.example.com", "hello");
    assert_eq!(
        evaluate("mail.example.com", &fail, &unsigned(), 0.0, &only_other_txt).verdict,
        DmarcVerdict::None
    );
    let two = StaticResolver::new()
        .with_txt("_dmarc.example.com", "v=DMARC1; p=reject")
        .with_txt("_dmarc.example.com", "v=DMARC1; p=none");
    assert_eq!(
        evaluate("example.com", &fail, &unsigned(), 0.0, &two).verdict,
        DmarcVerdict::PermError
    );
    let no_p =
        StaticResolver::new().with_txt("_dmarc.example.com", "v=DMARC1; rua=mailto:x@example.com");
    let result = evaluate("example.com", &fail, &unsigned(), 0.0, &no_p);
    assert_eq!(result.verdict, DmarcVerdict::PermError);
    assert!(result.reason.contains("no p= tag"), "{}", result.reason);
    let down = StaticResolver::new().with_failure("_dmarc.example.com", LookupError::ServFail);
    assert_eq!(
        evaluate("example.com", &fail, &unsigned(), 0.0, &down).verdict,
        DmarcVerdict::TempError
    );
    assert_eq!(
        evaluate("", &fail, &unsigned(), 0.0, &down).verdict,
        DmarcVerdict::PermError
    );
}

#[test]
fn alignment_is_reported_without_a_record() {
    let result = evaluate(
        "example.com",
        &spf(SpfVerdict::Pass, "mail.example.com"),
        &unsigned(),
        0.0,
        &StaticResolver::new(),
    );
    assert_eq!(result.verdict, DmarcVerdict::None);
    assert!(result.spf_aligned);
}

#[test]
fn names() {
    assert_eq!(Disposition::Quarantine.to_string(), "quarantine");
    assert_eq!(DmarcVerdict::PermError.to_string(), "permerror");
    assert_eq!(Disposition::Reject.lowered(), Disposition::Quarantine);
    assert_eq!(Disposition::None.lowered(), Disposition::None);
}
