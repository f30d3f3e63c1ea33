//! The DNS steps of a journey made real: the SPF record of the sender's domain and the one
//! it includes each get a step, and each step marks the term of its own record that decided
//! (the `include:` in the sender's, the `ip4:` that matched in the included one).

use smtpsim_mail::journey::realize;
use smtpsim_model::journey::{self, Place};
use smtpsim_model::scenario::Scenario;
use smtpsim_model::sim::Options;

const INCLUDED: &str = r#"
[simulation]
name = "included"
duration = "1m"
messages = 1

[[senders]]
name = "shop"
domain = "shop.example"
local_part = "orders"
arrivals = { process = "constant", rate = "1/s" }
to = [{ domain = "mail.example" }]
dkim = { sign = true, selector = "s1" }

[relay]
hostname = "relay.esp.example"
ip = "192.0.2.25"
retry = { policy = "fixed", schedule = ["5m"] }

[[domains]]
name = "shop.example"
spf = "v=spf1 ip4:198.51.100.0/24 include:_spf.esp.example -all"
dmarc = "v=DMARC1; p=reject; aspf=s"
dkim_keys = { s1 = true }
records = { "_spf.esp.example" = ["v=spf1 ip4:203.0.113.0/24 ip4:192.0.2.0/24 ~all"] }

[[domains]]
name = "mail.example"
mx = [{ host = "mx1.mail.example" }]
"#;

#[test]
fn the_matching_ip4_of_an_included_record_is_marked_on_its_own_step() {
    let scenario = Scenario::parse(INCLUDED, "included.toml").unwrap();
    for seed in [1, 2, 3] {
        let options = Options {
            seed: Some(seed),
            ..Options::default()
        };
        let mut journey = journey::follow(&scenario, &options, 0).unwrap();
        let outcome = realize(&scenario, journey.seed, &mut journey).expect("checked at the MX");
        assert_eq!(outcome.spf.verdict.to_string(), "pass");
        let spf: Vec<_> = journey
            .steps
            .iter()
            .filter(|s| s.from == Place::Mx && s.title.contains("SPF record"))
            .map(|s| s.record.as_ref().unwrap())
            .collect();
        let names: Vec<&str> = spf.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["shop.example", "_spf.esp.example"]);
        assert_eq!(spf[0].deciding, ["include:_spf.esp.example"]);
        assert_eq!(spf[1].deciding, ["ip4:192.0.2.0/24"]);
        let dmarc = journey
            .steps
            .iter()
            .find_map(|s| {
                s.record
                    .as_ref()
                    .filter(|r| r.name == "_dmarc.shop.example")
            })
            .expect("a DMARC step");
        assert_eq!(dmarc.deciding, ["p=reject", "aspf=s"]);
    }
}
