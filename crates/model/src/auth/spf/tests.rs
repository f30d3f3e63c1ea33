use super::*;
use crate::auth::dns::StaticResolver;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn run(dns: &StaticResolver, client: &str) -> SpfResult {
    check_host(ip(client), "example.com", "alice@example.com", dns)
}

fn spf(record: &str) -> StaticResolver {
    StaticResolver::new().with_txt("example.com", record)
}

#[test]
fn ip4_and_ip6_with_cidr() {
    let dns = spf("v=spf1 ip4:192.0.2.0/24 ip6:2001:db8:10::/48 -all");
    let pass = run(&dns, "192.0.2.200");
    assert_eq!(pass.verdict, SpfVerdict::Pass);
    assert_eq!(pass.mechanism.as_deref(), Some("ip4:192.0.2.0/24"));
    assert_eq!(pass.domain, "example.com");
    assert_eq!(run(&dns, "2001:db8:10:ffff::1").verdict, SpfVerdict::Pass);
    let fail = run(&dns, "192.0.3.1");
    assert_eq!(fail.verdict, SpfVerdict::Fail);
    assert_eq!(fail.mechanism.as_deref(), Some("-all"));
    assert_eq!(run(&dns, "2001:db8:11::1").verdict, SpfVerdict::Fail);
    // An IPv4-mapped IPv6 client is checked as IPv4.
    assert_eq!(run(&dns, "::ffff:192.0.2.9").verdict, SpfVerdict::Pass);
    // A /0 matches everything of its family only.
    let dns = spf("v=spf1 ip4:0.0.0.0/0 -all");
    assert_eq!(run(&dns, "203.0.113.1").verdict, SpfVerdict::Pass);
    assert_eq!(run(&dns, "2001:db8::1").verdict, SpfVerdict::Fail);
}

#[test]
fn qualifiers_give_their_results() {
    for (record, verdict) in [
        ("v=spf1 +all", SpfVerdict::Pass),
        ("v=spf1 all", SpfVerdict::Pass),
        ("v=spf1 -all", SpfVerdict::Fail),
        ("v=spf1 ~all", SpfVerdict::SoftFail),
        ("v=spf1 ?all", SpfVerdict::Neutral),
        ("v=spf1", SpfVerdict::Neutral),
        ("v=spf1 ip4:198.51.100.1", SpfVerdict::Neutral),
    ] {
        let result = run(&spf(record), "192.0.2.1");
        assert_eq!(result.verdict, verdict, "{record}");
    }
    let none = run(&spf("v=spf1"), "192.0.2.1");
    assert_eq!(none.mechanism, None);
    assert!(none.reason.contains("default neutral"), "{}", none.reason);
}

#[test]
fn a_mechanism_with_domain_and_cidr() {
    let dns = spf("v=spf1 a a:relay.example.net/28 a:v6.example.net//64 -all")
        .with_a("example.com", [192, 0, 2, 1])
        .with_a("relay.example.net", [198, 51, 100, 16])
        .with_a(
            "v6.example.net",
            "2001:db8:1:2::1".parse::<IpAddr>().unwrap(),
        );
    assert_eq!(run(&dns, "192.0.2.1").mechanism.as_deref(), Some("a"));
    assert_eq!(run(&dns, "192.0.2.2").verdict, SpfVerdict::Fail);
    assert_eq!(
        run(&dns, "198.51.100.31").mechanism.as_deref(),
        Some("a:relay.example.net/28")
    );
    assert_eq!(run(&dns, "198.51.100.32").verdict, SpfVerdict::Fail);
    assert_eq!(
        run(&dns, "2001:db8:1:2:ffff::9").mechanism.as_deref(),
        Some("a:v6.example.net//64")
    );
    assert_eq!(run(&dns, "2001:db8:1:3::1").verdict, SpfVerdict::Fail);
}

#[test]
fn mx_mechanism_looks_at_each_exchange() {
    let dns = spf("v=spf1 mx mx:other.example/30 -all")
        .with_mx("example.com", 10, "mx1.example.com")
        .with_mx("example.com", 20, "mx2.example.com")
        .with_a("mx1.example.com", [192, 0, 2, 10])
        .with_a("mx2.example.com", [192, 0, 2, 20])
        .with_mx("other.example", 5, "mail.other.example")
        .with_a("mail.other.example", [203, 0, 113, 4]);
    assert_eq!(run(&dns, "192.0.2.20").mechanism.as_deref(), Some("mx"));
    assert_eq!(
        run(&dns, "203.0.113.7").mechanism.as_deref(),
        Some("mx:other.example/30")
    );
    assert_eq!(run(&dns, "203.0.113.8").verdict, SpfVerdict::Fail);
}

#[test]
fn mx_with_more_than_ten_names_is_a_permerror() {
    let mut dns = spf("v=spf1 mx -all");
    for n in 0..11 {
        dns = dns.with_mx("example.com", n, &format!("mx{n}.example.com"));
    }
    let result = run(&dns, "192.0.2.1");
    assert_eq!(result.verdict, SpfVerdict::PermError);
    assert!(
        result.reason.contains("more than 10 MX"),
        "{}",
        result.reason
    );
}

#[test]
fn include_pass_matches_and_other_results_do_not() {
    let dns = spf("v=spf1 include:a.example include:b.example ~all")
        .with_txt("a.example", "v=spf1 ip4:192.0.2.0/24 -all")
        .with_txt("b.example", "v=spf1 ip4:198.51.100.0/24 ?all");
    let pass = run(&dns, "198.51.100.5");
    assert_eq!(pass.verdict, SpfVerdict::Pass);
    assert_eq!(pass.mechanism.as_deref(), Some("include:b.example"));
    assert_eq!(pass.reason, "matched include:b.example in example.com");
    // Fail inside a.example and neutral inside b.example are no match: ~all decides.
    let soft = run(&dns, "203.0.113.1");
    assert_eq!(soft.verdict, SpfVerdict::SoftFail);
    assert_eq!(soft.mechanism.as_deref(), Some("~all"));
    assert_eq!(soft.dns_terms, 2);
}

#[test]
fn include_of_a_domain_without_record_is_a_permerror() {
    let dns = spf("v=spf1 include:gone.example -all");
    let result = run(&dns, "192.0.2.1");
    assert_eq!(result.verdict, SpfVerdict::PermError);
    assert!(
        result.reason.starts_with("include:gone.example:"),
        "{}",
        result.reason
    );
    let dns = spf("v=spf1 include:empty.example -all").with_txt("empty.example", "hello");
    assert_eq!(run(&dns, "192.0.2.1").verdict, SpfVerdict::PermError);
}

#[test]
fn include_temperror_and_permerror_propagate() {
    let dns = spf("v=spf1 include:slow.example include:broken.example -all")
        .with_failure("slow.example", LookupError::Timeout)
        .with_txt("broken.example", "v=spf1 bogus");
    assert_eq!(run(&dns, "192.0.2.1").verdict, SpfVerdict::TempError);
    let dns = spf("v=spf1 include:broken.example -all").with_txt("broken.example", "v=spf1 bogus");
    let result = run(&dns, "192.0.2.1");
    assert_eq!(result.verdict, SpfVerdict::PermError);
    assert!(
        result.reason.contains("unknown mechanism 'bogus'"),
        "{}",
        result.reason
    );
}

#[test]
fn include_chains_resolve_through_several_levels() {
    let dns = spf("v=spf1 include:_spf.provider.example -all")
        .with_txt(
            "_spf.provider.example",
            "v=spf1 include:_netblocks.provider.example include:_netblocks2.provider.example ~all",
        )
        .with_txt(
            "_netblocks.provider.example",
            "v=spf1 ip4:198.51.100.0/24 ~all",
        )
        .with_txt(
            "_netblocks2.provider.example",
            "v=spf1 ip6:2001:db8:f00::/40 ~all",
        );
    let result = run(&dns, "2001:db8:f00:1::5");
    assert_eq!(result.verdict, SpfVerdict::Pass);
    assert_eq!(
        result.mechanism.as_deref(),
        Some("include:_spf.provider.example")
    );
    assert_eq!(result.dns_terms, 3);
    // The term that decided in each record on the way, the included ones too.
    let matched: Vec<(&str, &str)> = result
        .matched
        .iter()
        .map(|(d, t)| (d.as_str(), t.as_str()))
        .collect();
    assert_eq!(
        matched,
        [
            ("example.com", "include:_spf.provider.example"),
            (
                "_spf.provider.example",
                "include:_netblocks2.provider.example"
            ),
            ("_netblocks2.provider.example", "ip6:2001:db8:f00::/40")
        ]
    );
    let fail = run(&dns, "203.0.113.1");
    assert_eq!(fail.verdict, SpfVerdict::Fail);
    assert_eq!(
        fail.matched,
        [("example.com".to_string(), "-all".to_string())]
    );
}

#[test]
fn redirect_applies_when_nothing_matched() {
    let dns = spf("v=spf1 ip4:203.0.113.1 redirect=_spf.example.net")
        .with_txt("_spf.example.net", "v=spf1 ip4:192.0.2.0/24 -all");
    let pass = run(&dns, "192.0.2.5");
    assert_eq!(pass.verdict, SpfVerdict::Pass);
    assert_eq!(pass.mechanism.as_deref(), Some("ip4:192.0.2.0/24"));
    assert!(
        pass.reason.starts_with("redirect=_spf.example.net:"),
        "{}",
        pass.reason
    );
    assert_eq!(run(&dns, "198.51.100.1").verdict, SpfVerdict::Fail);
    // A match in the record itself wins, and the redirect is not looked at.
    let early = run(&dns, "203.0.113.1");
    assert_eq!(early.verdict, SpfVerdict::Pass);
    assert_eq!(early.dns_terms, 0);
}

#[test]
fn redirect_is_ignored_when_all_is_present() {
    let dns =
        spf("v=spf1 ?all redirect=_spf.example.net").with_txt("_spf.example.net", "v=spf1 -all");
    let result = run(&dns, "192.0.2.5");
    assert_eq!(result.verdict, SpfVerdict::Neutral);
    assert_eq!(result.mechanism.as_deref(), Some("?all"));
}

#[test]
fn redirect_to_a_domain_without_record_is_a_permerror() {
    let dns = spf("v=spf1 redirect=nothing.example");
    assert_eq!(run(&dns, "192.0.2.5").verdict, SpfVerdict::PermError);
}

#[test]
fn include_loops_stop_at_the_lookup_limit() {
    let dns = spf("v=spf1 include:example.com -all");
    let result = run(&dns, "192.0.2.1");
    assert_eq!(result.verdict, SpfVerdict::PermError);
    assert!(
        result.reason.contains("more than 10 DNS-querying terms"),
        "{}",
        result.reason
    );
    assert_eq!(result.dns_terms, 11);
    let dns = StaticResolver::new()
        .with_txt("example.com", "v=spf1 redirect=loop.example")
        .with_txt("loop.example", "v=spf1 redirect=example.com");
    assert_eq!(run(&dns, "192.0.2.1").verdict, SpfVerdict::PermError);
}

#[test]
fn ten_dns_terms_are_allowed_and_the_eleventh_is_not() {
    let mut dns = StaticResolver::new();
    for n in 0..11 {
        dns = dns.with_a(&format!("h{n}.example.com"), [198, 51, 100, n]);
    }
    let terms = |count: u8| {
        (0..count)
            .map(|n| format!("a:h{n}.example.com"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let ten = dns
        .clone()
        .with_txt("example.com", format!("v=spf1 {} -all", terms(10)));
    let result = run(&ten, "192.0.2.1");
    assert_eq!(result.verdict, SpfVerdict::Fail);
    assert_eq!(result.dns_terms, 10);
    let eleven = dns.with_txt("example.com", format!("v=spf1 {} -all", terms(11)));
    assert_eq!(run(&eleven, "192.0.2.1").verdict, SpfVerdict::PermError);
    // Terms are counted as they are evaluated: an early match is fine.
    assert_eq!(run(&eleven, "198.51.100.0").verdict, SpfVerdict::Pass);
    // ip4, ip6 and all cost nothing.
    let cheap = (0..30)
        .map(|n| format!("ip4:10.0.0.{n}"))
        .collect::<Vec<_>>()
        .join(" ");
    let dns = spf(&format!("v=spf1 {cheap} -all"));
    assert_eq!(run(&dns, "192.0.2.1").verdict, SpfVerdict::Fail);
}

#[test]
fn more_than_two_void_lookups_is_a_permerror() {
    let two = spf("v=spf1 a:gone1.example a:gone2.example -all");
    let result = run(&two, "192.0.2.1");
    assert_eq!(result.verdict, SpfVerdict::Fail);
    assert_eq!(result.void_lookups, 2);
    let three = spf("v=spf1 a:gone1.example mx:gone2.example exists:gone3.example -all");
    let result = run(&three, "192.0.2.1");
    assert_eq!(result.verdict, SpfVerdict::PermError);
    assert!(result.reason.contains("void"), "{}", result.reason);
}

#[test]
fn record_selection() {
    let none = StaticResolver::new().with_txt("example.com", "google-site-verification=abc");
    let result = run(&none, "192.0.2.1");
    assert_eq!(result.verdict, SpfVerdict::None);
    assert!(result.reason.contains("no SPF record"), "{}", result.reason);
    assert_eq!(
        run(&StaticResolver::new(), "192.0.2.1").verdict,
        SpfVerdict::None
    );
    let two = spf("v=spf1 -all").with_txt("example.com", "v=spf1 +all");
    let result = run(&two, "192.0.2.1");
    assert_eq!(result.verdict, SpfVerdict::PermError);
    assert!(
        result.reason.contains("more than one SPF record"),
        "{}",
        result.reason
    );
    let other = spf("v=spf1 -all")
        .with_txt("example.com", "v=spf10 +all")
        .with_txt("example.com", "spf2.0/pra +all");
    assert_eq!(run(&other, "192.0.2.1").verdict, SpfVerdict::Fail);
    let upper = spf("V=SPF1 IP4:192.0.2.1 -ALL");
    assert_eq!(run(&upper, "192.0.2.1").verdict, SpfVerdict::Pass);
}

#[test]
fn dns_failures_are_temperrors() {
    let dns = StaticResolver::new().with_failure("example.com", LookupError::ServFail);
    let result = run(&dns, "192.0.2.1");
    assert_eq!(result.verdict, SpfVerdict::TempError);
    assert!(result.reason.contains("SERVFAIL"), "{}", result.reason);
    let dns = spf("v=spf1 a:slow.example -all").with_failure("slow.example", LookupError::Timeout);
    assert_eq!(run(&dns, "192.0.2.1").verdict, SpfVerdict::TempError);
    let dns = spf("v=spf1 mx -all")
        .with_mx("example.com", 10, "mx.example.com")
        .with_failure("mx.example.com", LookupError::ServFail);
    assert_eq!(run(&dns, "192.0.2.1").verdict, SpfVerdict::TempError);
}

#[test]
fn syntax_errors_are_permerrors_even_after_a_match() {
    let dns = spf("v=spf1 ip4:192.0.2.1 ip4:192.0.2.0/40 -all");
    let result = run(&dns, "192.0.2.1");
    assert_eq!(result.verdict, SpfVerdict::PermError);
    assert!(
        result
            .reason
            .contains("bad CIDR length in 'ip4:192.0.2.0/40'"),
        "{}",
        result.reason
    );
}

#[test]
fn ptr_never_matches_but_counts() {
    let dns = spf("v=spf1 ptr ~all");
    let result = run(&dns, "192.0.2.1");
    assert_eq!(result.verdict, SpfVerdict::SoftFail);
    assert_eq!(result.dns_terms, 1);
}

#[test]
fn exists_with_macros() {
    let dns = spf("v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d} -all")
        .with_a("1.2.0.192.alice._spf.example.com", [127, 0, 0, 2]);
    assert_eq!(run(&dns, "192.0.2.1").verdict, SpfVerdict::Pass);
    assert_eq!(run(&dns, "192.0.2.2").verdict, SpfVerdict::Fail);
    // exists wants an A record: AAAA alone does not match.
    let dns = spf("v=spf1 exists:v6only.example -all")
        .with_a("v6only.example", "2001:db8::1".parse::<IpAddr>().unwrap());
    assert_eq!(run(&dns, "192.0.2.1").verdict, SpfVerdict::Fail);
}

#[test]
fn bad_macros_are_permerrors() {
    let dns = spf("v=spf1 exists:%{c}.example.com -all");
    assert_eq!(run(&dns, "192.0.2.1").verdict, SpfVerdict::PermError);
}

#[test]
fn unusable_domains_give_none() {
    let dns = spf("v=spf1 +all");
    for domain in ["", "com", "a..example", "exa mple.com"] {
        let result = check_host(ip("192.0.2.1"), domain, "x@y.example", &dns);
        assert_eq!(result.verdict, SpfVerdict::None, "{domain:?}");
    }
    let long = format!("{}.example.com", "a".repeat(64));
    assert_eq!(
        check_host(ip("192.0.2.1"), &long, "x", &dns).verdict,
        SpfVerdict::None
    );
}

#[test]
fn null_sender_checks_the_helo_name() {
    let dns = StaticResolver::new()
        .with_txt("mail.example.org", "v=spf1 exists:%{l}.%{o}.x.example -all")
        .with_a("postmaster.mail.example.org.x.example", [127, 0, 0, 2]);
    let query = SpfQuery::for_mail_from(ip("192.0.2.1"), "", "mail.example.org");
    assert_eq!(query.domain, "mail.example.org");
    let result = check(&query, &dns);
    assert_eq!(result.verdict, SpfVerdict::Pass);
    assert_eq!(result.domain, "mail.example.org");
    let query = SpfQuery::for_mail_from(
        ip("192.0.2.1"),
        "bounce+x@lists.example.net",
        "mx.example.org",
    );
    assert_eq!(query.domain, "lists.example.net");
}

#[test]
fn verdict_names() {
    assert_eq!(SpfVerdict::SoftFail.to_string(), "softfail");
    assert_eq!(SpfVerdict::PermError.as_str(), "permerror");
    assert_eq!(SpfVerdict::from(Qualifier::Neutral), SpfVerdict::Neutral);
}
