//! Parser tests for [`super::SpfRecord`].

use std::net::Ipv4Addr;

use super::*;

fn one(text: &str) -> Directive<'_> {
    let record = SpfRecord::parse(text).unwrap();
    assert_eq!(record.directives.len(), 1, "{text}");
    record.directives[0]
}

#[test]
fn version_is_required_and_case_insensitive() {
    assert!(is_spf_record("v=spf1"));
    assert!(is_spf_record("V=SPF1 -all"));
    assert!(!is_spf_record("v=spf10 -all"));
    assert!(!is_spf_record("v=spf2.0/pra -all"));
    assert!(!is_spf_record("spf1 -all"));
    assert!(!is_spf_record("v=spf"));
    assert_eq!(SpfRecord::parse("-all"), Err(SpfParseError::NotSpf));
    assert!(SpfRecord::parse("v=spf1").unwrap().directives.is_empty());
}

#[test]
fn qualifiers() {
    assert_eq!(one("v=spf1 all").qualifier, Qualifier::Pass);
    assert_eq!(one("v=spf1 +all").qualifier, Qualifier::Pass);
    assert_eq!(one("v=spf1 -all").qualifier, Qualifier::Fail);
    assert_eq!(one("v=spf1 ~all").qualifier, Qualifier::SoftFail);
    assert_eq!(one("v=spf1 ?all").qualifier, Qualifier::Neutral);
    assert_eq!(one("v=spf1 -ALL").mechanism, Mechanism::All);
    assert_eq!(one("v=spf1 ~all").text, "~all");
}

#[test]
fn each_mechanism_parses() {
    assert_eq!(
        one("v=spf1 include:_spf.google.com").mechanism,
        Mechanism::Include("_spf.google.com")
    );
    assert_eq!(
        one("v=spf1 a").mechanism,
        Mechanism::A {
            domain: None,
            cidr4: 32,
            cidr6: 128
        }
    );
    assert_eq!(
        one("v=spf1 a:mail.example.com/24//64").mechanism,
        Mechanism::A {
            domain: Some("mail.example.com"),
            cidr4: 24,
            cidr6: 64
        }
    );
    assert_eq!(
        one("v=spf1 a//48").mechanism,
        Mechanism::A {
            domain: None,
            cidr4: 32,
            cidr6: 48
        }
    );
    assert_eq!(
        one("v=spf1 mx/30").mechanism,
        Mechanism::Mx {
            domain: None,
            cidr4: 30,
            cidr6: 128
        }
    );
    assert_eq!(
        one("v=spf1 mx:example.net").mechanism,
        Mechanism::Mx {
            domain: Some("example.net"),
            cidr4: 32,
            cidr6: 128
        }
    );
    assert_eq!(
        one("v=spf1 ip4:192.0.2.0/24").mechanism,
        Mechanism::Ip4 {
            addr: Ipv4Addr::new(192, 0, 2, 0),
            prefix: 24
        }
    );
    assert_eq!(
        one("v=spf1 ip4:192.0.2.7").mechanism,
        Mechanism::Ip4 {
            addr: Ipv4Addr::new(192, 0, 2, 7),
            prefix: 32
        }
    );
    assert_eq!(
        one("v=spf1 ip6:2001:db8::/32").mechanism,
        Mechanism::Ip6 {
            addr: "2001:db8::".parse().unwrap(),
            prefix: 32
        }
    );
    assert_eq!(one("v=spf1 ptr").mechanism, Mechanism::Ptr(None));
    assert_eq!(
        one("v=spf1 ptr:example.com").mechanism,
        Mechanism::Ptr(Some("example.com"))
    );
    assert_eq!(
        one("v=spf1 exists:%{i}._spf.example.com").mechanism,
        Mechanism::Exists("%{i}._spf.example.com")
    );
    assert!(Mechanism::Include("x").queries_dns());
    assert!(!Mechanism::All.queries_dns());
}

#[test]
fn modifiers() {
    let record =
        SpfRecord::parse("v=spf1 mx redirect=_spf.example.com exp=explain.%{d} foo=bar").unwrap();
    assert_eq!(record.redirect, Some("_spf.example.com"));
    assert_eq!(record.explanation, Some("explain.%{d}"));
    assert_eq!(record.directives.len(), 1);
    assert_eq!(
        SpfRecord::parse("v=spf1 redirect=a.example redirect=b.example"),
        Err(SpfParseError::DuplicateModifier("redirect".into()))
    );
    assert!(matches!(
        SpfRecord::parse("v=spf1 9x=y"),
        Err(SpfParseError::BadModifier(_))
    ));
    assert!(matches!(
        SpfRecord::parse("v=spf1 -redirect=x.example"),
        Err(SpfParseError::BadModifier(_))
    ));
    assert!(matches!(
        SpfRecord::parse("v=spf1 redirect="),
        Err(SpfParseError::BadDomain(_))
    ));
}

#[test]
fn syntax_errors_say_what() {
    let err = |text| SpfRecord::parse(text).unwrap_err();
    assert_eq!(
        err("v=spf1 foo -all"),
        SpfParseError::UnknownMechanism("foo".into())
    );
    assert_eq!(
        err("v=spf1 ip4:192.0.2.0/33"),
        SpfParseError::BadCidr("ip4:192.0.2.0/33".into())
    );
    assert_eq!(
        err("v=spf1 ip6:2001:db8::/129"),
        SpfParseError::BadCidr("ip6:2001:db8::/129".into())
    );
    assert_eq!(err("v=spf1 a/024"), SpfParseError::BadCidr("a/024".into()));
    assert_eq!(err("v=spf1 a/"), SpfParseError::BadCidr("a/".into()));
    assert_eq!(err("v=spf1 mx//"), SpfParseError::BadCidr("mx//".into()));
    assert_eq!(
        err("v=spf1 ip4:192.0.2"),
        SpfParseError::BadAddress("ip4:192.0.2".into())
    );
    assert_eq!(
        err("v=spf1 ip4:2001:db8::1"),
        SpfParseError::BadAddress("ip4:2001:db8::1".into())
    );
    assert_eq!(
        err("v=spf1 ip6:192.0.2.1"),
        SpfParseError::BadAddress("ip6:192.0.2.1".into())
    );
    assert_eq!(err("v=spf1 ip4"), SpfParseError::BadArgument("ip4".into()));
    assert_eq!(
        err("v=spf1 all:x"),
        SpfParseError::BadArgument("all:x".into())
    );
    assert_eq!(
        err("v=spf1 include"),
        SpfParseError::BadArgument("include".into())
    );
    assert_eq!(
        err("v=spf1 include:"),
        SpfParseError::BadDomain("include:".into())
    );
    assert_eq!(
        err("v=spf1 a:example.123"),
        SpfParseError::BadDomain("a:example.123".into())
    );
    assert_eq!(
        err("v=spf1 a:com"),
        SpfParseError::BadDomain("a:com".into())
    );
    assert!(matches!(
        err("v=spf1 include:%{z}.example.com"),
        SpfParseError::BadMacro { .. }
    ));
    assert!(
        err("v=spf1 a:example.com/24/")
            .to_string()
            .contains("a:example.com/24/")
    );
}

#[test]
fn macro_domains_may_end_in_a_macro() {
    assert_eq!(
        one("v=spf1 exists:%{ir}.%{v}._spf.%{d}").mechanism,
        Mechanism::Exists("%{ir}.%{v}._spf.%{d}")
    );
    assert_eq!(
        one("v=spf1 a:example.com.").mechanism,
        Mechanism::A {
            domain: Some("example.com."),
            cidr4: 32,
            cidr6: 128
        }
    );
}

#[test]
fn extra_spaces_are_harmless() {
    let record = SpfRecord::parse("v=spf1  a   -all ").unwrap();
    assert_eq!(record.directives.len(), 2);
}
