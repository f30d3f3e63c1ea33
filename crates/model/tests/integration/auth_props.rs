//! Properties of sender authentication that must hold for any record and any address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;
use smtpsim_model::auth::dkim::DkimSignature;
use smtpsim_model::auth::dmarc::{DmarcRecord, organizational_domain};
use smtpsim_model::auth::dns::StaticResolver;
use smtpsim_model::auth::spf::{
    MAX_DNS_TERMS, MAX_VOID_LOOKUPS, SpfRecord, SpfVerdict, check_host,
};
use smtpsim_model::auth::{AuthInput, Placement, evaluate};

fn any_ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<u32>().prop_map(|n| IpAddr::V4(Ipv4Addr::from(n))),
        any::<u128>().prop_map(|n| IpAddr::V6(Ipv6Addr::from(n))),
        // Near the networks the records below name, so that terms match now and then.
        (0u8..4, any::<u8>()).prop_map(|(c, d)| IpAddr::V4(Ipv4Addr::new(192, 0, 2 + c, d))),
        any::<u16>().prop_map(|n| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, n))),
    ]
}

/// SPF-shaped terms, broken ones included, and noise.
fn term() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        Just("example.com"),
        Just("a.example"),
        Just("b.example"),
        Just("loop.example"),
        Just("gone.example"),
        Just("%{d}"),
        Just("%{ir}.%{v}._spf.%{d2}"),
        Just("%{l1r-}.x.example"),
        Just("%{z}.example"),
        Just(""),
    ];
    let qualifier = prop_oneof![Just(""), Just("+"), Just("-"), Just("~"), Just("?")];
    let mechanism = prop_oneof![
        Just("all".to_owned()),
        name.clone().prop_map(|n| format!("include:{n}")),
        name.clone().prop_map(|n| format!("exists:{n}")),
        (name.clone(), 0u8..40, 0u8..140).prop_map(|(n, c4, c6)| format!("a:{n}/{c4}//{c6}")),
        (name.clone(), 0u8..40).prop_map(|(n, c)| format!("mx:{n}/{c}")),
        Just("a".to_owned()),
        Just("mx".to_owned()),
        Just("ptr".to_owned()),
        (any::<u32>(), 0u8..40).prop_map(|(a, l)| format!("ip4:{}/{l}", Ipv4Addr::from(a))),
        (any::<u128>(), 0u8..140).prop_map(|(a, l)| format!("ip6:{}/{l}", Ipv6Addr::from(a))),
        Just("ip4:192.0.2.0/24".to_owned()),
        "[a-z0-9:/.%{}=_-]{0,12}",
    ];
    prop_oneof![
        4 => (qualifier, mechanism).prop_map(|(q, m)| format!("{q}{m}")),
        1 => name.clone().prop_map(|n| format!("redirect={n}")),
        1 => name.prop_map(|n| format!("exp={n}")),
        1 => "\\PC{0,10}",
    ]
}

fn record() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => proptest::collection::vec(term(), 0..14).prop_map(|terms| {
            let mut record = String::from("v=spf1");
            for t in terms {
                record.push(' ');
                record.push_str(&t);
            }
            record
        }),
        1 => "\\PC{0,40}",
        1 => any::<String>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn spf_parser_never_panics(text in any::<String>()) {
        let _ = SpfRecord::parse(&text);
        let _ = SpfRecord::parse(&format!("v=spf1 {text}"));
    }

    #[test]
    fn spf_check_never_panics_and_respects_the_limits(
        top in record(),
        a in record(),
        b in record(),
        client in any_ip(),
        sender in prop_oneof![Just("alice@example.com".to_owned()), Just(String::new()), "\\PC{0,20}"],
    ) {
        let dns = StaticResolver::new()
            .with_txt("example.com", top)
            .with_txt("a.example", a)
            .with_txt("b.example", b)
            .with_txt("loop.example", "v=spf1 include:loop.example")
            .with_a("example.com", [192, 0, 2, 1])
            .with_a("a.example", Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1))
            .with_mx("example.com", 10, "a.example")
            .with_mx("b.example", 0, ".");
        let result = check_host(client, "example.com", &sender, &dns);
        prop_assert!(result.dns_terms <= MAX_DNS_TERMS + 1);
        prop_assert!(result.void_lookups <= MAX_VOID_LOOKUPS + 1);
        if result.dns_terms > MAX_DNS_TERMS || result.void_lookups > MAX_VOID_LOOKUPS {
            prop_assert_eq!(result.verdict, SpfVerdict::PermError);
        }
        if result.mechanism.is_some() {
            prop_assert!(matches!(
                result.verdict,
                SpfVerdict::Pass | SpfVerdict::Fail | SpfVerdict::SoftFail | SpfVerdict::Neutral
            ));
        }
        // Deterministic: the same question gets the same answer.
        prop_assert_eq!(check_host(client, "example.com", &sender, &dns), result);
    }

    #[test]
    fn spf_check_of_any_domain_never_panics(domain in "\\PC{0,30}", client in any_ip()) {
        let dns = StaticResolver::new().with_txt(&domain, "v=spf1 a mx include:%{d} -all");
        let _ = check_host(client, &domain, "x@y.example", &dns);
    }

    #[test]
    fn dmarc_parser_and_org_domain_never_panic(text in any::<String>(), name in "\\PC{0,40}") {
        let _ = DmarcRecord::parse(&text);
        let _ = DmarcRecord::parse(&format!("v=DMARC1; {text}"));
        let org = organizational_domain(&name);
        prop_assert!(name.strip_suffix('.').unwrap_or(&name).ends_with(org));
    }

    #[test]
    fn placement_never_panics(
        spf in record(),
        dmarc in prop_oneof!["v=DMARC1; p=(none|quarantine|reject|x)(; sp=reject)?(; pct=[0-9]{1,3})?(; adkim=s)?", any::<String>()],
        key in prop_oneof![Just("v=DKIM1; p=abc".to_owned()), Just("v=DKIM1; p=".to_owned()), any::<String>()],
        client in any_ip(),
        signed in any::<bool>(),
        altered in any::<bool>(),
        from in prop_oneof![Just("example.com"), Just("sub.example.com"), Just("other.example"), Just("")],
        draw in any::<f64>(),
    ) {
        let dns = StaticResolver::new()
            .with_txt("example.com", spf)
            .with_txt("_dmarc.example.com", dmarc)
            .with_txt("s._domainkey.example.com", key);
        let mut signature = DkimSignature::new("example.com", "s");
        signature.body_altered = altered;
        let mut input = AuthInput::new(client, "h.example", "bob@example.com", from).with_pct_draw(draw);
        if signed {
            input = input.with_dkim(&signature);
        }
        let outcome = evaluate(&input, &dns);
        prop_assert_eq!(outcome.reasons.len(), 4);
        if let Placement::Reject(reply) = &outcome.placement {
            prop_assert_eq!(reply.code.get(), 550);
        }
    }
}
