//! The real checks agree with the simulator's: on every bundled story's journey, and on a
//! sample of the messages of every bundled scenario, the DKIM verdict of the message signed
//! and verified for real equals the modelled one; SPF and DMARC evaluated again against the
//! DNS with the real keys equal the run's.

use std::path::Path;

use smtpsim_mail::journey::{make_real, realize};
use smtpsim_mail::verify::verify;
use smtpsim_mail::zone::Zone;
use smtpsim_model::journey::{self, Place, stories::STORIES};
use smtpsim_model::scenario::Scenario;
use smtpsim_model::sim::{self, Note, Options, RecipientRecord, Recorder, TraceMode, TraceRecord};

#[test]
fn every_story_real_verdicts_equal_the_modelled_ones_and_show_lookups_and_the_message() {
    let mut signed_stories = 0;
    for story in STORIES {
        let scenario = story.scenario().unwrap();
        let modelled = journey::follow(&scenario, &Options::default(), 0).unwrap();
        let mut real = modelled.clone();
        let outcome = realize(&scenario, real.seed, &mut real);
        let json = serde_json::to_string(&real).unwrap();
        // Every story that reached the relay shows the message.
        if !real.carried.is_empty() {
            assert!(
                json.contains("\"message\""),
                "{}: no message panel",
                story.name
            );
        }
        let Some(v) = &modelled.verdicts else {
            continue;
        };
        let outcome = outcome.unwrap_or_else(|| panic!("{}: no checks", story.name));
        let r = real.verdicts.as_ref().unwrap();
        assert_eq!(r.dkim.result, v.dkim.result, "{}: DKIM", story.name);
        assert_eq!(
            outcome.spf.verdict.to_string(),
            v.spf.result,
            "{}: SPF",
            story.name
        );
        assert_eq!(
            outcome.dmarc.verdict.to_string(),
            v.dmarc.result,
            "{}: DMARC",
            story.name
        );
        if !r.signatures.is_empty() {
            signed_stories += 1;
            assert_eq!(r.signatures.len(), 2, "{}", story.name);
        }
        // The lookups are steps of their own, with the record text.
        let lookups: Vec<_> = real.steps.iter().filter(|s| s.record.is_some()).collect();
        assert!(
            lookups.iter().any(|s| s.title.contains("SPF record")),
            "{}: no SPF lookup",
            story.name
        );
        assert!(
            lookups
                .iter()
                .all(|s| s.from == Place::Mx && s.to == Place::Dns)
        );
        assert!(json.contains("\"record\""), "{}", story.name);
        let numbers: Vec<usize> = real.steps.iter().map(|s| s.number).collect();
        assert_eq!(numbers, (1..=real.steps.len()).collect::<Vec<_>>());
    }
    assert!(signed_stories >= 3, "only {signed_stories} signed stories");
}

/// Keeps each sampled message's content (last attempt) and the run's DKIM result.
#[derive(Default)]
struct Sampled {
    content: std::collections::BTreeMap<u64, Vec<u8>>,
    dkim: std::collections::BTreeMap<u64, String>,
}

impl Recorder for Sampled {
    fn recipient(&mut self, _: &RecipientRecord<'_>) {}

    fn content(&mut self, message: u64, _: u32, _: &str, content: &[u8]) {
        self.content.insert(message, content.to_vec());
    }

    fn trace(&mut self, t: &TraceRecord<'_>) {
        if let Some(Note::AuthenticationResults(header)) = t.line.note()
            && let Some(dkim) = header.split("; ").find_map(|p| p.strip_prefix("dkim="))
        {
            let result = dkim.split(' ').next().unwrap_or(dkim);
            self.dkim.insert(t.message_id, result.to_string());
        }
    }
}

#[test]
fn a_sample_of_each_scenario_real_dkim_equals_the_modelled() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    let mut scenarios: Vec<(String, Scenario, u64)> = [
        "dmarc",
        "greylisting",
        "mx-outage",
        "quickstart",
        "rate-limited",
    ]
    .into_iter()
    .map(|name| {
        let scenario = Scenario::load(&dir.join(format!("{name}.toml"))).unwrap();
        (name.to_string(), scenario, 250)
    })
    .collect();
    // No bundled scenario alters messages in transit: one that does, every message traced.
    scenarios.push((
        "altered".to_string(),
        Scenario::parse(ALTERED, "altered.toml").unwrap(),
        1,
    ));
    let mut compared = 0;
    let mut altered = 0;
    for (name, scenario, every) in scenarios {
        let options = Options {
            trace: TraceMode::Sample(every),
            ..Options::default()
        };
        let mut sampled = Sampled::default();
        sim::run(&scenario, &options, &mut sampled).unwrap();
        let seed = scenario.simulation.seed;
        let dns = Zone::for_seed(&scenario, seed);
        for (message, modelled) in &sampled.dkim {
            let content = &sampled.content[message];
            let real = make_real(content, "Received: by relay.example", dns.ring());
            let check = verify(&real.in_transit, &dns, &real.hashes);
            assert_eq!(
                check.verdict.as_str(),
                modelled,
                "{name} message {message}: {:?}",
                check.signatures
            );
            if check.signatures.iter().any(|s| s.broken.is_some()) {
                altered += 1;
            }
            compared += 1;
        }
    }
    assert!(compared >= 40, "only {compared} messages compared");
    assert!(
        altered >= 3,
        "only {altered} altered messages in the sample"
    );
}

const ALTERED: &str = r#"
[simulation]
name = "altered"
duration = "1m"
messages = 16
seed = 11

[[senders]]
name = "list"
domain = "lists.example"
arrivals = { process = "constant", rate = "1/s" }
to = [{ domain = "mail.example" }]
dkim = { sign = true, selector = "k1", altered_in_transit = 0.5 }

[relay]
ip = "192.0.2.25"
retry = { policy = "fixed", schedule = ["5m"] }

[[domains]]
name = "lists.example"
spf = "v=spf1 ip4:192.0.2.0/24 -all"
dmarc = "v=DMARC1; p=none"
dkim_keys = { k1 = true }

[[domains]]
name = "mail.example"
mx = [{ host = "mx1.mail.example" }]
"#;
