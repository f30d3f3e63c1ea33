//! Helpers to drive a session line by line and look at what it printed.

#![allow(dead_code)]

use smtpsim_des::SimDuration;
use smtpsim_model::scenario::Scenario;
use smtpsim_repl::{Config, Kind, Line, Repl};

/// A small world: a domain whose users do not exist, one whose mailboxes are full, one that
/// wants TLS, one that greylists for five minutes, one that allows a single message per
/// address, one whose primary MX is down for the first hour, and one that takes a connection
/// a minute and answers 421 during its outage in the second hour.
pub const SCENARIO: &str = r#"
[simulation]
name = "repl-test"
seed = 9
duration = "1h"

[[senders]]
name = "app"
domain = "app.example"
local_part = "notify"
arrivals = { process = "poisson", rate = "1/s" }
to = [{ domain = "nobody.example" }]

[relay]
hostname = "mta.app.example"
ip = "192.0.2.77"
retry = { policy = "postfix" }

[[domains]]
name = "nobody.example"
mx = [{ host = "mx.nobody.example" }]
behaviour = { unknown_users = 1.0 }

[[domains]]
name = "full.example"
mx = [{ host = "mx.full.example" }]
behaviour = { full_mailboxes = { fraction = 1.0 } }

[[domains]]
name = "tls.example"
mx = [{ host = "mx.tls.example" }]
behaviour = { require_tls = true }

[[domains]]
name = "grey.example"
mx = [{ host = "mx.grey.example" }]
behaviour = { greylisting = { delay = "5m" } }

[[domains]]
name = "slow.example"
mx = [{ host = "mx.slow.example" }]
behaviour = { rate_limits = { messages = { rate = "1/h", burst = 1 } } }

[[domains]]
name = "down.example"
mx = [
  { host = "mx1.down.example", preference = 10, outages = [{ start = "0s", end = "1h", mode = "refuse" }] },
  { host = "mx2.down.example", preference = 20 },
]

[[domains]]
name = "busy.example"
mx = [{ host = "mx.busy.example", outages = [{ start = "1h", end = "2h", mode = "421" }] }]
behaviour = { rate_limits = { connections = { rate = "1/m", burst = 1 } } }
"#;

/// A session with the test scenario.
pub fn with_scenario() -> Session {
    let scenario = Scenario::parse(SCENARIO, "repl-test.toml").expect("the test scenario is valid");
    Session::new(Config {
        scenario: Some(scenario),
        ..Config::default()
    })
}

/// A session without a scenario.
pub fn plain() -> Session {
    Session::new(Config::default())
}

/// A session on a virtual clock that records everything it printed.
pub struct Session {
    pub repl: Repl,
    pub all: Vec<Line>,
}

impl Session {
    pub fn new(config: Config) -> Session {
        let repl = Repl::new(config).expect("the session starts");
        let all = repl.welcome();
        Session { repl, all }
    }

    /// Types one line; returns what it printed.
    pub fn say(&mut self, line: &str) -> Vec<Line> {
        let lines = self.repl.input(line, SimDuration::ZERO);
        self.all.extend(lines.iter().cloned());
        lines
    }

    /// Types one line; returns the server's lines (without `S: `).
    pub fn server(&mut self, line: &str) -> Vec<String> {
        server_lines(&self.say(line))
    }

    /// Types one line; returns the last server line, which carries the reply's final code.
    pub fn reply(&mut self, line: &str) -> String {
        let lines = self.server(line);
        lines
            .last()
            .unwrap_or_else(|| panic!("no reply to {line:?}"))
            .clone()
    }
}

/// The server's lines among `lines`, without `S: `.
pub fn server_lines(lines: &[Line]) -> Vec<String> {
    lines
        .iter()
        .filter(|l| l.kind == Kind::Server)
        .map(|l| {
            l.text
                .strip_prefix("S: ")
                .expect("server lines start with S:")
                .to_string()
        })
        .collect()
}

/// The texts of the lines of `kind`.
pub fn of_kind(lines: &[Line], kind: Kind) -> Vec<String> {
    lines
        .iter()
        .filter(|l| l.kind == kind)
        .map(|l| l.text.clone())
        .collect()
}

/// Whether any line of `kind` contains `needle`.
pub fn has(lines: &[Line], kind: Kind, needle: &str) -> bool {
    lines
        .iter()
        .any(|l| l.kind == kind && l.text.contains(needle))
}
