//! Magic addresses: with `--magic`, the local part of a sender or recipient says how the server
//! answers that message, for example `rcpt-550-5.1.1@example.com`. The grammar is the one
//! table [`GRAMMAR`]: the start-up listing ([`listing`]) and the README's table
//! ([`markdown_table`]) are made from it. A local part is magic when it starts with one of the
//! words `mail`, `rcpt`, `data`, `greylist`, `delay` or `drop` and a `-` (letters in any case);
//! a malformed one is refused with `501 5.5.4` and a text saying what is wrong.

use std::fmt;
use std::time::Duration;

use smtpsim_proto::{EnhancedCode, Reply, ReplyCode};

/// The longest greylisting or delay a magic address asks for.
pub const MAX_DURATION: Duration = Duration::from_secs(3600);

/// Where in a transaction a magic address acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// The reply to MAIL.
    Mail,
    /// The reply to RCPT.
    Rcpt,
    /// The reply after the content (for `drop`: the content ends and the server hangs up).
    Data,
}

impl Stage {
    fn parse(s: &str) -> Result<Stage, String> {
        match s {
            "mail" => Ok(Stage::Mail),
            "rcpt" => Ok(Stage::Rcpt),
            "data" => Ok(Stage::Data),
            _ => Err(format!("unknown stage {s:?}: use mail, rcpt or data")),
        }
    }

    /// `mail`, `rcpt` or `data`.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Mail => "mail",
            Stage::Rcpt => "rcpt",
            Stage::Data => "data",
        }
    }
}

/// What a magic address asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Magic {
    /// Reply `code` (with `enhanced`, if given) at `stage`; a 421 closes the connection.
    Reply {
        /// Where.
        stage: Stage,
        /// 400 to 599.
        code: u16,
        /// Its class is the first digit of `code`.
        enhanced: Option<EnhancedCode>,
    },
    /// Greylist the recipient for this long (1s to 1h), in whole seconds.
    Greylist(Duration),
    /// Wait this long (0s to 1h), in whole seconds, before the reply at `stage`.
    Delay(Stage, Duration),
    /// Hang up at `stage` without a reply.
    Drop(Stage),
}

/// The words that make a local part magic.
const WORDS: [&str; 6] = ["mail", "rcpt", "data", "greylist", "delay", "drop"];

impl Magic {
    /// Reads the local part of `address` (`local@domain`, angle brackets allowed): `None` when
    /// it is not magic, `Some(Err(why))` when it starts like a magic address but is malformed.
    pub fn of_address(address: &str) -> Option<Result<Magic, String>> {
        let address = address.trim_start_matches('<').trim_end_matches('>');
        let local = address.rsplit_once('@').map_or(address, |(l, _)| l);
        Magic::parse(local)
    }

    /// Reads a local part: see [`Magic::of_address`].
    pub fn parse(local: &str) -> Option<Result<Magic, String>> {
        let lower = local.to_ascii_lowercase();
        let (word, rest) = lower.split_once('-')?;
        if !WORDS.contains(&word) {
            return None;
        }
        let parts: Vec<&str> = rest.split('-').collect();
        let parsed = match (word, parts.as_slice()) {
            ("greylist", [d]) => duration(d, Duration::from_secs(1)).map(Magic::Greylist),
            ("greylist", _) => Err("greylist takes one duration: greylist-30s".to_string()),
            ("delay", [stage, d]) => {
                Stage::parse(stage).and_then(|s| Ok(Magic::Delay(s, duration(d, Duration::ZERO)?)))
            }
            ("delay", _) => Err("delay takes a stage and a duration: delay-rcpt-5s".to_string()),
            ("drop", [stage]) => Stage::parse(stage).map(Magic::Drop),
            ("drop", _) => Err("drop takes one stage: drop-data".to_string()),
            (stage, [code]) => reply(stage, code, None),
            (stage, [code, enhanced]) => reply(stage, code, Some(enhanced)),
            (stage, _) => Err(format!(
                "{stage} takes a code and an optional enhanced code: {stage}-550-5.1.1"
            )),
        };
        Some(parsed.map_err(|why| format!("magic address {local:?}: {why}")))
    }

    /// The stage this acts at (a greylist acts at RCPT).
    pub fn stage(&self) -> Stage {
        match self {
            Magic::Reply { stage, .. } | Magic::Delay(stage, _) | Magic::Drop(stage) => *stage,
            Magic::Greylist(_) => Stage::Rcpt,
        }
    }

    /// The reply of a [`Magic::Reply`], with a text that says where it comes from.
    pub fn reply(&self, address: &str) -> Option<Reply> {
        let Magic::Reply { code, enhanced, .. } = self else {
            return None;
        };
        let code = ReplyCode::new(*code)?;
        let text = format!("Reply chosen by the magic address {address}");
        Some(Reply::new(code, *enhanced, text))
    }
}

fn reply(stage: &str, code: &str, enhanced: Option<&str>) -> Result<Magic, String> {
    let stage = Stage::parse(stage)?;
    let code: u16 = code
        .parse()
        .ok()
        .filter(|_| code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| format!("{code:?} is not a three-digit reply code"))?;
    match code {
        400..=599 => {}
        200..=399 => {
            return Err(format!(
                "the code must be 4xx or 5xx, not {code}: a magic address only refuses, and any \
                 other address is accepted"
            ));
        }
        _ => return Err(format!("the code must be 4xx or 5xx, not {code}")),
    }
    let enhanced = match enhanced {
        None => None,
        Some(e) => {
            let parsed = EnhancedCode::parse(e)
                .filter(|p| p.to_string() == e)
                .ok_or_else(|| format!("{e:?} is not an enhanced code such as 5.1.1"))?;
            if u16::from(parsed.class) != code / 100 {
                return Err(format!(
                    "the enhanced code {e} must start with {}, as the code {code} does",
                    code / 100
                ));
            }
            Some(parsed)
        }
    };
    Ok(Magic::Reply {
        stage,
        code,
        enhanced,
    })
}

/// `N` followed by `s`, `m` or `h`, between `min` and [`MAX_DURATION`].
fn duration(s: &str, min: Duration) -> Result<Duration, String> {
    let bad = || format!("{s:?} is not a duration such as 30s, 5m or 1h");
    let unit = s.len().checked_sub(1).ok_or_else(bad)?;
    let (number, unit) = s.split_at(unit);
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) || number.len() > 7 {
        return Err(bad());
    }
    let n: u64 = number.parse().map_err(|_| bad())?;
    let seconds = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => return Err(bad()),
    };
    let d = Duration::from_secs(seconds);
    if d < min || d > MAX_DURATION {
        return Err(format!("{s} is not between {}s and 1h", min.as_secs()));
    }
    Ok(d)
}

impl fmt::Display for Magic {
    /// The local part that asks for this.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Magic::Reply {
                stage,
                code,
                enhanced: None,
            } => write!(f, "{}-{code}", stage.name()),
            Magic::Reply {
                stage,
                code,
                enhanced: Some(e),
            } => write!(f, "{}-{code}-{e}", stage.name()),
            Magic::Greylist(d) => write!(f, "greylist-{}s", d.as_secs()),
            Magic::Delay(stage, d) => write!(f, "delay-{}-{}s", stage.name(), d.as_secs()),
            Magic::Drop(stage) => write!(f, "drop-{}", stage.name()),
        }
    }
}

/// One form of magic address: how it is written, an example, and what it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Form {
    /// The local part's form, such as `STAGE-CODE[-ENHANCED]`.
    pub form: &'static str,
    /// An example local part.
    pub example: &'static str,
    /// What it does, with the accepted ranges.
    pub effect: &'static str,
}

/// The grammar of magic addresses, one row per form. STAGE is `mail` (the reply to MAIL),
/// `rcpt` (to RCPT) or `data` (to the end of the content); DURATION is a whole number of
/// seconds, minutes or hours (`30s`, `5m`, `1h`).
pub const GRAMMAR: [Form; 6] = [
    Form {
        form: "STAGE-CODE[-ENHANCED]",
        example: "rcpt-550-5.1.1",
        effect: "reply CODE at STAGE: CODE 400 to 599 (a 2xx or 3xx is refused: any other address is accepted), ENHANCED of CODE's class",
    },
    Form {
        form: "data-CODE[-ENHANCED]",
        example: "data-451-4.3.0",
        effect: "reply CODE after the content; nothing is stored",
    },
    Form {
        form: "STAGE-421[-ENHANCED]",
        example: "mail-421",
        effect: "reply 421 at STAGE, then close the connection",
    },
    Form {
        form: "greylist-DURATION",
        example: "greylist-30s",
        effect: "451 4.7.1 at RCPT until the same client, sender and recipient come back DURATION (1s to 1h) later, within 4h",
    },
    Form {
        form: "delay-STAGE-DURATION",
        example: "delay-rcpt-5s",
        effect: "the reply at STAGE waits DURATION (0s to 1h)",
    },
    Form {
        form: "drop-STAGE",
        example: "drop-data",
        effect: "hang up at STAGE without a reply (drop-data: when the content ends; nothing is stored)",
    },
];

/// Where a magic address acts when it is the sender rather than a recipient.
pub const AS_SENDER: &str =
    "local part @ any domain; as the sender, it acts on every recipient of the message";

/// The magic addresses, one a line, for the start-up listing.
pub fn listing() -> String {
    let mut text = format!("magic addresses ({AS_SENDER}):");
    for row in GRAMMAR {
        text.push_str(&format!("\n  {:<16} {}", row.example, row.effect));
    }
    text
}

/// The grammar as a Markdown table, as the README shows it.
pub fn markdown_table() -> String {
    let mut table = String::from("| local part | example | effect |\n| --- | --- | --- |\n");
    for row in GRAMMAR {
        table.push_str(&format!(
            "| `{}` | `{}@any.example` | {} |\n",
            row.form, row.example, row.effect
        ));
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ok(local: &str) -> Magic {
        Magic::parse(local).unwrap().unwrap()
    }

    fn err(local: &str) -> String {
        Magic::parse(local).unwrap().unwrap_err()
    }

    #[test]
    fn the_examples_parse() {
        assert_eq!(
            ok("rcpt-550-5.1.1"),
            Magic::Reply {
                stage: Stage::Rcpt,
                code: 550,
                enhanced: Some(EnhancedCode::new(5, 1, 1))
            }
        );
        assert_eq!(
            ok("MAIL-421"),
            Magic::Reply {
                stage: Stage::Mail,
                code: 421,
                enhanced: None
            }
        );
        assert_eq!(ok("greylist-30s"), Magic::Greylist(Duration::from_secs(30)));
        assert_eq!(
            ok("delay-rcpt-5s"),
            Magic::Delay(Stage::Rcpt, Duration::from_secs(5))
        );
        assert_eq!(
            ok("delay-data-2m"),
            Magic::Delay(Stage::Data, Duration::from_secs(120))
        );
        assert_eq!(ok("drop-data"), Magic::Drop(Stage::Data));
        assert_eq!(
            Magic::of_address("<data-451-4.3.0@any.example>"),
            Some(Ok(Magic::Reply {
                stage: Stage::Data,
                code: 451,
                enhanced: Some(EnhancedCode::new(4, 3, 0))
            }))
        );
    }

    #[test]
    fn ordinary_addresses_are_not_magic() {
        for local in [
            "alice",
            "data",
            "rcpt",
            "mailer-daemon",
            "drop",
            "x-rcpt-550",
            "",
        ] {
            assert_eq!(Magic::parse(local), None, "{local}");
        }
    }

    #[test]
    fn malformed_ones_say_what_is_wrong() {
        assert!(err("rcpt-250").contains("4xx or 5xx, not 250"));
        assert!(err("rcpt-250").contains("only refuses"));
        assert!(err("rcpt-650").contains("4xx or 5xx"));
        assert!(err("rcpt-55").contains("three-digit"));
        assert!(err("rcpt-550-4.1.1").contains("must start with 5"));
        assert!(err("rcpt-550-5.1").contains("enhanced code"));
        assert!(err("greylist-2h").contains("between 1s and 1h"));
        assert!(err("greylist-0s").contains("between 1s and 1h"));
        assert!(err("greylist-30").contains("duration"));
        assert!(err("delay-quit-5s").contains("unknown stage"));
        assert!(err("delay-rcpt").contains("a stage and a duration"));
        assert!(err("drop-data-now").contains("one stage"));
        assert!(err("rcpt-550-5.1.1-x").contains("optional enhanced code"));
        assert!(err("greylist-99999999999h").contains("duration"));
    }

    fn magic() -> impl Strategy<Value = Magic> {
        let stage = prop_oneof![Just(Stage::Mail), Just(Stage::Rcpt), Just(Stage::Data)];
        let seconds = 0u64..=3600;
        prop_oneof![
            (
                stage.clone(),
                400u16..=599,
                proptest::option::of((0u16..1000, 0u16..1000))
            )
                .prop_map(|(stage, code, e)| Magic::Reply {
                    stage,
                    code,
                    enhanced: e.map(|(s, d)| EnhancedCode::new((code / 100) as u8, s, d)),
                }),
            (1u64..=3600).prop_map(|s| Magic::Greylist(Duration::from_secs(s))),
            (stage.clone(), seconds).prop_map(|(st, s)| Magic::Delay(st, Duration::from_secs(s))),
            stage.prop_map(Magic::Drop),
        ]
    }

    proptest! {
        #[test]
        fn never_panics(local in "\\PC{0,40}") {
            let _ = Magic::parse(&local);
            let _ = Magic::of_address(&local);
        }

        #[test]
        fn near_misses_never_panic(local in "(mail|rcpt|data|greylist|delay|drop)-[-0-9a-z.]{0,20}") {
            prop_assert!(Magic::parse(&local).is_some());
        }

        #[test]
        fn round_trips(m in magic()) {
            let local = m.to_string();
            prop_assert_eq!(Magic::parse(&local), Some(Ok(m.clone())));
            prop_assert_eq!(Magic::of_address(&format!("<{local}@x.example>")), Some(Ok(m)));
        }
    }

    /// Every example of the grammar reads as the form says, and the README shows the table
    /// made from it.
    #[test]
    fn the_grammar_is_one_table() {
        for row in GRAMMAR {
            let magic = ok(row.example);
            assert_eq!(magic.to_string(), row.example);
            assert!(listing().contains(row.example));
        }
        let readme = include_str!("../../../README.md");
        assert!(
            readme.contains(&markdown_table()),
            "README.md must contain the table of magic::markdown_table():\n{}",
            markdown_table()
        );
    }
}
