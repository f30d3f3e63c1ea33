//! What the MX's rate limits and greylisting count by (`count_by`): each client address, its
//! /24 or /64 network, or the sending domain; and the configured replies.

use std::net::IpAddr;

use smtpsim_des::{SimRng, SimTime};
use smtpsim_model::behaviour::{MxBehaviour, NoChecks};
use smtpsim_model::scenario::Behaviour;
use smtpsim_proto::command::{Address, ForwardPath, Host, MailParams, RcptParams, ReversePath};
use smtpsim_proto::server::{Decision, Envelope, Policy, SessionInfo};

fn behaviour(toml_text: &str) -> MxBehaviour {
    let config: Behaviour = toml::from_str(toml_text).unwrap_or_else(|e| panic!("{e}"));
    MxBehaviour::new(config, 1, SimRng::from_state([1, 2, 3, 4]), NoChecks)
}

fn session(ip: &str) -> SessionInfo {
    SessionInfo {
        client_ip: Some(ip.parse::<IpAddr>().unwrap()),
        ..SessionInfo::default()
    }
}

fn from(domain: &str) -> ReversePath<'_> {
    ReversePath::Mailbox(Address {
        local_part: "news",
        domain: Host::Domain(domain),
    })
}

/// The reply code of MAIL from `ip` with a sender at `domain`, at time 0.
fn mail(b: &mut MxBehaviour, ip: &str, domain: &str) -> Option<u16> {
    b.begin(SimTime::ZERO, None);
    match b.mail(&session(ip), &from(domain), &MailParams::default()) {
        Decision::Accept | Decision::AcceptWith(_) => None,
        Decision::Refuse(r) | Decision::Disconnect(r) => Some(r.code.get()),
    }
}

/// The reply of RCPT for `rcpt@b.example` from `ip` with a sender at `domain`, at `secs`.
fn rcpt(b: &mut MxBehaviour, secs: u64, ip: &str, domain: &str) -> Option<String> {
    b.begin(SimTime::from_secs(secs), None);
    let envelope = Envelope {
        from: format!("news@{domain}"),
        ..Envelope::default()
    };
    let to = ForwardPath::Mailbox(Address {
        local_part: "rcpt",
        domain: Host::Domain("b.example"),
    });
    match b.rcpt(&session(ip), &envelope, &to, &RcptParams::default()) {
        Decision::Accept | Decision::AcceptWith(_) => None,
        Decision::Refuse(r) | Decision::Disconnect(r) => Some(r.to_string()),
    }
}

const ONE_MESSAGE: &str = "rate_limits.messages = { rate = \"1/h\", burst = 1 }\n";

#[test]
fn message_limit_counts_each_address_by_default() {
    let mut b = behaviour(ONE_MESSAGE);
    assert_eq!(mail(&mut b, "198.51.100.1", "s.example"), None);
    assert_eq!(mail(&mut b, "198.51.100.1", "s.example"), Some(451));
    // Another address of the same /24 has its own bucket.
    assert_eq!(mail(&mut b, "198.51.100.2", "s.example"), None);
}

#[test]
fn message_limit_counts_each_network() {
    let mut b = behaviour(&format!("count_by = \"network\"\n{ONE_MESSAGE}"));
    assert_eq!(mail(&mut b, "198.51.100.1", "s.example"), None);
    // Same /24: the same bucket, already empty.
    assert_eq!(mail(&mut b, "198.51.100.200", "t.example"), Some(451));
    // Another /24 starts full.
    assert_eq!(mail(&mut b, "198.51.101.1", "s.example"), None);
    // IPv6: the /64 counts.
    assert_eq!(mail(&mut b, "2001:db8:0:1::1", "s.example"), None);
    assert_eq!(mail(&mut b, "2001:db8:0:1:ffff::9", "s.example"), Some(451));
    assert_eq!(mail(&mut b, "2001:db8:0:2::1", "s.example"), None);
}

#[test]
fn message_limit_counts_each_sending_domain() {
    let mut b = behaviour(&format!("count_by = \"sender_domain\"\n{ONE_MESSAGE}"));
    assert_eq!(mail(&mut b, "198.51.100.1", "s.example"), None);
    // The same domain from an unrelated address: the same bucket.
    assert_eq!(mail(&mut b, "203.0.113.7", "S.Example"), Some(451));
    // Another domain from the first address: its own bucket.
    assert_eq!(mail(&mut b, "198.51.100.1", "t.example"), None);
}

#[test]
fn connection_limit_counts_by_network_or_address() {
    let connect = |b: &mut MxBehaviour, ip: &str| {
        b.begin(SimTime::ZERO, None);
        matches!(b.connect(&session(ip)), Decision::Accept)
    };
    let limit = "rate_limits.connections = { rate = \"1/h\", burst = 1 }\n";
    let mut by_network = behaviour(&format!("count_by = \"network\"\n{limit}"));
    assert!(connect(&mut by_network, "198.51.100.1"));
    assert!(!connect(&mut by_network, "198.51.100.2"));
    // By sending domain, connections still count per address (no sender at the greeting).
    let mut by_domain = behaviour(&format!("count_by = \"sender_domain\"\n{limit}"));
    assert!(connect(&mut by_domain, "198.51.100.1"));
    assert!(connect(&mut by_domain, "198.51.100.2"));
    assert!(!connect(&mut by_domain, "198.51.100.1"));
}

#[test]
fn greylisting_counts_by_the_key() {
    let grey = "greylisting = { delay = \"5m\" }\n";
    // By address: a retry from another address of the /24 is a new triplet.
    let mut b = behaviour(grey);
    assert!(rcpt(&mut b, 0, "198.51.100.1", "s.example").is_some());
    assert!(rcpt(&mut b, 400, "198.51.100.2", "s.example").is_some());
    assert!(rcpt(&mut b, 400, "198.51.100.1", "s.example").is_none());
    // By network (postgrey's default): it is the same triplet.
    let mut b = behaviour(&format!("count_by = \"network\"\n{grey}"));
    assert!(rcpt(&mut b, 0, "198.51.100.1", "s.example").is_some());
    assert!(rcpt(&mut b, 400, "198.51.100.2", "s.example").is_none());
    assert!(rcpt(&mut b, 400, "198.51.101.2", "s.example").is_some());
    // By sending domain: any address retrying for the domain passes.
    let mut b = behaviour(&format!("count_by = \"sender_domain\"\n{grey}"));
    assert!(rcpt(&mut b, 0, "198.51.100.1", "s.example").is_some());
    assert!(rcpt(&mut b, 400, "203.0.113.9", "s.example").is_none());
    assert!(rcpt(&mut b, 400, "203.0.113.9", "t.example").is_some());
}

#[test]
fn greylisting_reply_is_configurable() {
    let mut b = behaviour("greylisting = { delay = \"5m\" }\n");
    assert_eq!(
        rcpt(&mut b, 0, "198.51.100.1", "s.example").as_deref(),
        Some("451 4.7.1 Greylisted, please try again in 300 seconds")
    );
    let mut b = behaviour(
        "greylisting = { delay = \"5m\", reply = \"450 4.2.0 Greylisted, see \
         https://postgrey.schweikert.ch/help/b.example.html ({seconds} s)\" }\n",
    );
    assert_eq!(
        rcpt(&mut b, 60, "198.51.100.1", "s.example").as_deref(),
        Some(
            "450 4.2.0 Greylisted, see https://postgrey.schweikert.ch/help/b.example.html (300 s)"
        )
    );
    assert_eq!(
        rcpt(&mut b, 100, "198.51.100.1", "s.example").as_deref(),
        Some(
            "450 4.2.0 Greylisted, see https://postgrey.schweikert.ch/help/b.example.html (260 s)"
        )
    );
}

#[test]
fn recipient_limit_counts_each_recipient_from_any_client() {
    let mut b = behaviour("rate_limits.recipients = { rate = \"1/h\", burst = 2 }\n");
    assert_eq!(rcpt(&mut b, 0, "198.51.100.1", "s.example"), None);
    assert_eq!(rcpt(&mut b, 0, "203.0.113.1", "t.example"), None);
    let third = rcpt(&mut b, 0, "192.0.2.1", "u.example").unwrap();
    assert!(
        third.starts_with("450 4.2.1 The user you are trying to contact"),
        "{third}"
    );
    assert_eq!(b.throttled(), 1);
    // An hour later the bucket has earned a token.
    assert_eq!(rcpt(&mut b, 3600, "192.0.2.1", "u.example"), None);
}
