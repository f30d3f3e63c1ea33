//! The texts of the terminal itself: the welcome, `?` and `domains`.

use smtpsim_model::scenario::Behaviour;

use crate::Repl;
use crate::output::{Kind, Line, Out};

/// The lines printed when the session starts.
pub(crate) fn welcome(repl: &Repl) -> Vec<Line> {
    let mut out = Out::default();
    out.info(
        "smtpsim repl: type SMTP commands to smtpsim's own server, as you would over telnet. \
         Every reply is the engine's genuine answer.",
    );
    let targets = &repl.world.targets;
    let first = &targets[repl.default_target];
    if targets.len() == 1 {
        out.info(format!(
            "The server is {}, the MX of {}: {}.",
            first.hosts[0].name,
            first.domain,
            describe(first.behaviour.borrow().config())
        ));
    } else {
        out.info(format!(
            "{} receiving domains: connect DOMAIN picks one (connect alone opens {}); domains \
             lists them with their behaviour.",
            targets.len(),
            first.domain
        ));
    }
    out.info(format!(
        "AUTH accepts the user {} with the password {} (auth-plain {} {} sends it).",
        repl.account.user, repl.account.password, repl.account.user, repl.account.password
    ));
    if repl.explain {
        out.info(
            "Each reply is explained and the next command suggested; explain off turns that \
             off. ? lists what you can type.",
        );
        out.push(Kind::Hint, "next: connect");
    } else {
        out.info("? lists what you can type; explain on explains each reply.");
    }
    out.lines
}

/// `?`: what can be typed.
pub(crate) fn help(repl: &Repl, out: &mut Out) {
    let lines = [
        "Terminal commands (anything else is sent to the server as an SMTP command):",
        "  connect [DOMAIN]       open a connection to the domain's MX host (220 greeting)",
        "  disconnect             drop the connection without QUIT",
        "  wait DURATION          move the clock forward: wait 90s, wait 5m, wait 2h",
        "  time                   show the clock",
        "  auth-plain USER PASS   send AUTH PLAIN with the credentials in base64",
        "  base64 TEXT            base64 of TEXT (\\0 is a NUL byte); during AUTH, sends it",
        "  explain on|off         explain each reply and suggest the next command, or not",
        "  explain CODE           everything the catalogue says about a code or reply line",
        "  hint                   suggest the next command",
        "  domains                the domains you can connect to, and how they behave",
        "  message                show the message message send types (written for you)",
        "  message sign           DKIM-sign it for real with the scenario's keys",
        "  message header F: V    replace (or add) a header field, after signing or not",
        "  message body TEXT      add a line to its body",
        "  message send           DATA, its lines and the final dot: the server verifies it",
        "  message new            start a fresh message",
        "  ? (or help when not connected)   this list",
        "  exit (or quit when not connected), Ctrl-D   leave",
        "SMTP, in the usual order: EHLO name, STARTTLS, EHLO name again, AUTH (optional),",
        "  MAIL FROM:<address>, RCPT TO:<address> (one per recipient), DATA, the message",
        "  ending with . alone on a line, QUIT. Also RSET, NOOP, VRFY, HELP, BDAT.",
    ];
    for line in lines {
        out.info(line);
    }
    if repl.connected() {
        out.info("While connected, HELP and QUIT go to the server; ? and exit stay here.");
    }
}

/// `domains`: every receiving domain with its MX hosts and behaviour.
pub(crate) fn domains(repl: &Repl, out: &mut Out) {
    for (i, t) in repl.world.targets.iter().enumerate() {
        let hosts: Vec<&str> = t.hosts.iter().map(|h| h.name.as_str()).collect();
        let default = if i == repl.default_target {
            " (connect opens this one)"
        } else {
            ""
        };
        out.info(format!(
            "{}{default}: MX {}; {}.",
            t.domain,
            hosts.join(", "),
            describe(t.behaviour.borrow().config())
        ));
    }
}

/// A behaviour in a few words: `greylisting 5m, 1% unknown users`.
fn describe(b: &Behaviour) -> String {
    let mut parts = Vec::new();
    if let Some(g) = &b.greylisting {
        parts.push(format!("greylisting {}", g.delay));
    }
    if let Some(r) = &b.rate_limits.connections {
        parts.push(format!(
            "{} connections/s per address (burst {})",
            r.rate.per_second, r.burst
        ));
    }
    if let Some(r) = &b.rate_limits.messages {
        parts.push(format!(
            "{} messages/s per address (burst {})",
            r.rate.per_second, r.burst
        ));
    }
    if b.unknown_users.0 > 0.0 {
        parts.push(format!("{} unknown users", percent(b.unknown_users.0)));
    }
    if let Some(f) = &b.full_mailboxes {
        let kind = if f.permanent { "552" } else { "452" };
        parts.push(format!("{} full mailboxes ({kind})", percent(f.fraction.0)));
    }
    if b.temp_failures.0 > 0.0 {
        parts.push(format!("{} temporary failures", percent(b.temp_failures.0)));
    }
    if b.require_tls {
        parts.push("TLS required".to_string());
    }
    if let Some(limit) = b.size_limit {
        parts.push(format!("messages up to {} bytes", limit.0));
    }
    if parts.is_empty() {
        "accepts everything".to_string()
    } else {
        parts.join(", ")
    }
}

fn percent(p: f64) -> String {
    format!("{}%", (p * 10_000.0).round() / 100.0)
}
