//! Property tests of the command parser and formatter: arbitrary input never panics, every
//! valid command survives format → parse, and parse → format → parse is a fixpoint.

use std::net::{Ipv4Addr, Ipv6Addr};

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use smtpsim_proto::command::{
    Address, AuthMechanism, BodyType, Command, ForwardPath, Host, MailParams, Notify, RcptParams,
    Ret, ReversePath,
};

// ---- owned mirrors of the borrowed command types, for generating them ----

#[derive(Debug, Clone)]
enum OwnedHost {
    Domain(String),
    Ipv4(Ipv4Addr),
    Ipv6(Ipv6Addr),
    General(String, String),
}

impl OwnedHost {
    fn host(&self) -> Host<'_> {
        match self {
            OwnedHost::Domain(d) => Host::Domain(d),
            OwnedHost::Ipv4(ip) => Host::Ipv4(*ip),
            OwnedHost::Ipv6(ip) => Host::Ipv6(*ip),
            OwnedHost::General(tag, content) => Host::General { tag, content },
        }
    }
}

#[derive(Debug, Clone)]
struct OwnedAddress {
    local_part: String,
    domain: OwnedHost,
}

impl OwnedAddress {
    fn address(&self) -> Address<'_> {
        Address {
            local_part: &self.local_part,
            domain: self.domain.host(),
        }
    }
}

#[derive(Debug, Clone)]
struct OwnedMailParams {
    size: Option<u64>,
    body: Option<BodyType>,
    smtputf8: bool,
    ret: Option<Ret>,
    envid: Option<String>,
    auth: Option<String>,
}

#[derive(Debug, Clone)]
enum OwnedCommand {
    Helo(OwnedHost),
    Ehlo(OwnedHost),
    /// `None`: the null reverse-path.
    Mail(Option<OwnedAddress>, OwnedMailParams),
    /// `None`: Postmaster.
    Rcpt(Option<OwnedAddress>, Option<Notify>, Option<String>),
    Data,
    Bdat(u64, bool),
    Rset,
    Noop(Option<String>),
    Quit,
    Vrfy(String),
    Expn(String),
    Help(Option<String>),
    StartTls,
    /// Mechanism (`PLAIN`, `LOGIN` or another name) and initial response.
    Auth(String, Option<String>),
}

impl OwnedCommand {
    fn command(&self) -> Command<'_> {
        match self {
            OwnedCommand::Helo(h) => Command::Helo { domain: h.host() },
            OwnedCommand::Ehlo(h) => Command::Ehlo { domain: h.host() },
            OwnedCommand::Mail(from, p) => Command::Mail {
                from: from
                    .as_ref()
                    .map_or(ReversePath::Null, |a| ReversePath::Mailbox(a.address())),
                params: MailParams {
                    size: p.size,
                    body: p.body,
                    smtputf8: p.smtputf8,
                    ret: p.ret,
                    envid: p.envid.as_deref(),
                    auth: p.auth.as_deref(),
                },
            },
            OwnedCommand::Rcpt(to, notify, orcpt) => Command::Rcpt {
                to: to.as_ref().map_or(ForwardPath::Postmaster, |a| {
                    ForwardPath::Mailbox(a.address())
                }),
                params: RcptParams {
                    notify: *notify,
                    orcpt: orcpt.as_deref(),
                },
            },
            OwnedCommand::Data => Command::Data,
            OwnedCommand::Bdat(size, last) => Command::Bdat {
                size: *size,
                last: *last,
            },
            OwnedCommand::Rset => Command::Rset,
            OwnedCommand::Noop(arg) => Command::Noop {
                arg: arg.as_deref(),
            },
            OwnedCommand::Quit => Command::Quit,
            OwnedCommand::Vrfy(arg) => Command::Vrfy { arg },
            OwnedCommand::Expn(arg) => Command::Expn { arg },
            OwnedCommand::Help(topic) => Command::Help {
                topic: topic.as_deref(),
            },
            OwnedCommand::StartTls => Command::StartTls,
            OwnedCommand::Auth(mechanism, response) => Command::Auth {
                mechanism: match mechanism.as_str() {
                    "PLAIN" => AuthMechanism::Plain,
                    "LOGIN" => AuthMechanism::Login,
                    other => AuthMechanism::Other(other),
                },
                initial_response: response.as_deref(),
            },
        }
    }
}

// ---- strategies for valid pieces ----

fn label() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z0-9]([a-zA-Z0-9-]{0,12}[a-zA-Z0-9])?",
        1 => "[a-z\u{e0}-\u{ff}\u{4e00}-\u{4e20}]{1,8}",
    ]
}

fn domain() -> impl Strategy<Value = String> {
    vec(label(), 1..4).prop_map(|labels| labels.join("."))
}

fn host() -> impl Strategy<Value = OwnedHost> {
    prop_oneof![
        4 => domain().prop_map(OwnedHost::Domain),
        1 => any::<[u8; 4]>().prop_map(|o| OwnedHost::Ipv4(Ipv4Addr::from(o))),
        1 => any::<[u16; 8]>().prop_map(|s| OwnedHost::Ipv6(Ipv6Addr::from(s))),
        1 => (
            "[a-zA-Z0-9]([a-zA-Z0-9-]{0,6}[a-zA-Z0-9])?"
                .prop_filter("IPv6 is not a general tag", |t| !t.eq_ignore_ascii_case("ipv6")),
            "[!-Z^-~]{1,12}",
        )
            .prop_map(|(tag, content)| OwnedHost::General(tag, content)),
    ]
}

fn local_part() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => vec("[a-zA-Z0-9!#$%&'*+/=?^_`{|}~\u{e9}-]{1,8}", 1..4)
            .prop_map(|atoms| atoms.join(".")),
        1 => r#"([ !#-\[\]-~\u{e9}]|\\[ -~]){0,12}"#.prop_map(|s| format!("\"{s}\"")),
    ]
}

fn address() -> impl Strategy<Value = OwnedAddress> {
    (local_part(), host()).prop_map(|(local_part, domain)| OwnedAddress { local_part, domain })
}

fn xtext() -> impl Strategy<Value = String> {
    "([!-*,-<>-~]|\\+[0-9A-F]{2}){1,30}"
}

fn mail_params() -> impl Strategy<Value = OwnedMailParams> {
    (
        option::of(any::<u64>()),
        option::of(prop_oneof![
            Just(BodyType::SevenBit),
            Just(BodyType::EightBitMime),
            Just(BodyType::BinaryMime),
        ]),
        any::<bool>(),
        option::of(prop_oneof![Just(Ret::Full), Just(Ret::Headers)]),
        option::of(xtext()),
        option::of(prop_oneof![Just("<>".to_string()), xtext()]),
    )
        .prop_map(|(size, body, smtputf8, ret, envid, auth)| OwnedMailParams {
            size,
            body,
            smtputf8,
            ret,
            envid,
            auth,
        })
}

fn notify() -> impl Strategy<Value = Notify> {
    prop_oneof![
        Just(Notify {
            never: true,
            ..Notify::default()
        }),
        (any::<bool>(), any::<bool>(), any::<bool>())
            .prop_filter("at least one", |(s, f, d)| *s || *f || *d)
            .prop_map(|(success, failure, delay)| Notify {
                never: false,
                success,
                failure,
                delay,
            }),
    ]
}

/// Free text for NOOP, VRFY, EXPN and HELP: printable, no leading or trailing space.
fn text() -> impl Strategy<Value = String> {
    "[!-~\u{e9}\u{4e2d}]([ -~\u{e9}]{0,20}[!-~])?"
}

fn mechanism() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("PLAIN".to_string()),
        Just("LOGIN".to_string()),
        "[A-Za-z0-9_-]{1,20}".prop_filter("not PLAIN or LOGIN", |m| {
            !m.eq_ignore_ascii_case("plain") && !m.eq_ignore_ascii_case("login")
        }),
    ]
}

fn initial_response() -> impl Strategy<Value = String> {
    prop_oneof![Just("=".to_string()), "[A-Za-z0-9+/]{1,40}={0,2}"]
}

fn command() -> impl Strategy<Value = OwnedCommand> {
    prop_oneof![
        1 => host().prop_map(OwnedCommand::Helo),
        1 => host().prop_map(OwnedCommand::Ehlo),
        3 => (option::of(address()), mail_params()).prop_map(|(a, p)| OwnedCommand::Mail(a, p)),
        3 => (
            option::weighted(0.9, address()),
            option::of(notify()),
            option::of(xtext().prop_map(|x| format!("rfc822;{x}"))),
        )
            .prop_map(|(a, n, o)| OwnedCommand::Rcpt(a, n, o)),
        1 => Just(OwnedCommand::Data),
        1 => (any::<u64>(), any::<bool>()).prop_map(|(s, l)| OwnedCommand::Bdat(s, l)),
        1 => Just(OwnedCommand::Rset),
        1 => option::of(text()).prop_map(OwnedCommand::Noop),
        1 => Just(OwnedCommand::Quit),
        1 => text().prop_map(OwnedCommand::Vrfy),
        1 => text().prop_map(OwnedCommand::Expn),
        1 => option::of(text()).prop_map(OwnedCommand::Help),
        1 => Just(OwnedCommand::StartTls),
        1 => (mechanism(), option::of(initial_response()))
            .prop_map(|(m, r)| OwnedCommand::Auth(m, r)),
    ]
}

// ---- helpers ----

/// The command as `write_to` writes it, with its CRLF checked and removed.
fn format(command: &Command<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    command.write_to(&mut out);
    assert!(out.ends_with(b"\r\n"), "{out:?}");
    out.truncate(out.len() - 2);
    assert_eq!(
        out,
        command.to_string().into_bytes(),
        "Display matches write_to"
    );
    out
}

/// A formatted valid command with random case changes and extra spaces: still mostly valid.
fn mutated_line() -> impl Strategy<Value = Vec<u8>> {
    (command(), vec(any::<u8>(), 0..64), 0usize..4).prop_map(|(c, noise, trailing)| {
        let line = format(&c.command());
        let mut out = Vec::with_capacity(line.len() + 8);
        for (i, &b) in line.iter().enumerate() {
            let n = noise.get(i).copied().unwrap_or(0);
            match n {
                0..=40 if b.is_ascii_alphabetic() => out.push(b ^ 0x20),
                41..=44 if b == b' ' || b == b':' => {
                    out.push(b);
                    out.push(b' ');
                }
                45..=47 => {}
                _ => out.push(b),
            }
        }
        out.extend(std::iter::repeat_n(b' ', trailing));
        out
    })
}

/// Lines built from the characters that matter to the grammar, behind real verbs.
fn command_like() -> impl Strategy<Value = Vec<u8>> {
    (
        prop_oneof![
            Just("MAIL FROM:"),
            Just("RCPT TO:"),
            Just("EHLO "),
            Just("HELO "),
            Just("AUTH "),
            Just("BDAT "),
            Just("NOOP "),
            Just("VRFY "),
            Just("DATA"),
            Just("STARTTLS"),
        ],
        r#"[<>@\[\]:.,;"\\ =+/a-zA-Z0-9\u{e9}\t-]{0,80}"#,
    )
        .prop_map(|(verb, rest)| format!("{verb}{rest}").into_bytes())
}

fn any_line() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![vec(any::<u8>(), 0..600), command_like(), mutated_line(),]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// (a) Arbitrary bytes never make the parser panic.
    #[test]
    fn arbitrary_bytes_never_panic(line in vec(any::<u8>(), 0..700)) {
        let _ = Command::parse(&line);
    }

    /// (a) Nor do lines close to the grammar.
    #[test]
    fn command_like_lines_never_panic(line in command_like()) {
        let _ = Command::parse(&line);
    }

    /// (b) Every valid command round-trips through format and parse.
    #[test]
    fn valid_commands_round_trip(owned in command()) {
        let command = owned.command();
        let line = format(&command);
        prop_assert_eq!(Command::parse(&line), Ok(command));
    }

    /// (c) Whatever parses formats to a line that parses to the same command.
    #[test]
    fn parse_format_parse_is_a_fixpoint(line in any_line()) {
        if let Ok(command) = Command::parse(&line) {
            let formatted = format(&command);
            prop_assert_eq!(Command::parse(&formatted), Ok(command));
        }
    }

    /// Most mutated lines still parse, so the fixpoint property is exercised.
    #[test]
    fn mutated_lines_never_panic(line in mutated_line()) {
        let _ = Command::parse(&line);
    }
}

#[test]
fn mutations_mostly_parse() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = mutated_line();
    let parsed = (0..1000)
        .filter(|_| {
            let line = strategy.new_tree(&mut runner).expect("tree").current();
            Command::parse(&line).is_ok()
        })
        .count();
    assert!(parsed > 300, "only {parsed} of 1000 mutated lines parse");
}
