//! The terminal's own commands, told apart from SMTP commands by their first word (none of
//! them is an SMTP verb).

use smtpsim_des::SimDuration;

/// A command to the terminal rather than to the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Meta {
    /// `connect [DOMAIN]`: open a connection to the domain's MX.
    Connect(Option<String>),
    /// `disconnect`: drop the connection without QUIT.
    Disconnect,
    /// `wait DURATION`: move the clock forward.
    Wait(SimDuration),
    /// `time`: show the clock.
    Time,
    /// `explain on` / `explain off`.
    ExplainSwitch(bool),
    /// `explain CODE...`: the catalogue's full report on a code or reply line.
    ExplainCode(String),
    /// `hint`: the suggested next command.
    Hint,
    /// `auth-plain USER PASSWORD`: send AUTH PLAIN with the credentials in base64.
    AuthPlain { user: String, password: String },
    /// `base64 TEXT`: encode (and, during an AUTH exchange, send) the text.
    Base64(String),
    /// `domains`: the domains one can connect to.
    Domains,
    /// `?` (or `help` while not connected): what can be typed.
    Help,
    /// `exit` (or `quit` while not connected): leave.
    Exit,
    /// `message ...`: prepare, sign, change and send a message.
    Message(DraftCommand),
    /// A terminal command written wrongly: the message says how to write it.
    Invalid(String),
}

/// What `message` does to the message being prepared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DraftCommand {
    /// `message`: show it (writing a fresh one if there is none).
    Show,
    /// `message new`: start a fresh one.
    New,
    /// `message sign`: DKIM-sign it for real.
    Sign,
    /// `message header NAME: VALUE`: replace (or add) a header field.
    Header(String),
    /// `message body TEXT`: add a line to the body.
    Body(String),
    /// `message send`: DATA, the lines, and the final dot.
    Send,
}

/// How to write `message`.
const MESSAGE_USAGE: &str = "message, message new, message sign, message header NAME: VALUE, \
                             message body TEXT, or message send";

/// The terminal command in `line`, if it is one. `connected` decides whether `help` and
/// `quit` are the terminal's (not connected) or SMTP's (connected).
pub(crate) fn parse(line: &str, connected: bool) -> Option<Meta> {
    let trimmed = line.trim();
    let (word, rest) = match trimmed.split_once(char::is_whitespace) {
        Some((word, rest)) => (word, rest.trim()),
        None => (trimmed, ""),
    };
    let word = word.to_ascii_lowercase();
    let meta = match word.as_str() {
        "connect" => match rest.split_whitespace().count() {
            0 => Meta::Connect(None),
            1 => Meta::Connect(Some(rest.to_string())),
            _ => Meta::Invalid("connect takes at most one domain: connect example.net".into()),
        },
        "disconnect" => Meta::Disconnect,
        "wait" => match rest.parse::<SimDuration>() {
            Ok(d) => Meta::Wait(d),
            Err(_) => Meta::Invalid(format!(
                "wait takes a duration with a unit, such as wait 5m, wait 90s or wait 2h{}",
                if rest.is_empty() {
                    String::new()
                } else {
                    format!(" (not {rest:?})")
                }
            )),
        },
        "time" if rest.is_empty() => Meta::Time,
        "explain" => match rest.to_ascii_lowercase().as_str() {
            "on" => Meta::ExplainSwitch(true),
            "off" => Meta::ExplainSwitch(false),
            "" => Meta::Invalid(
                "explain on, explain off, or explain CODE (such as explain 451 4.7.1)".into(),
            ),
            _ => Meta::ExplainCode(rest.to_string()),
        },
        "hint" if rest.is_empty() => Meta::Hint,
        "auth-plain" => {
            let mut words = rest.split_whitespace();
            match (words.next(), words.next(), words.next()) {
                (Some(user), Some(password), None) => Meta::AuthPlain {
                    user: user.to_string(),
                    password: password.to_string(),
                },
                _ => Meta::Invalid(
                    "auth-plain takes a user name and a password: auth-plain alice secret".into(),
                ),
            }
        }
        "base64" => {
            // The text as typed after one space, so leading spaces can be encoded too.
            let text = line.trim_start()[word.len()..]
                .strip_prefix(' ')
                .unwrap_or("");
            Meta::Base64(text.to_string())
        }
        "message" => {
            let (sub, text) = match rest.split_once(char::is_whitespace) {
                Some((sub, text)) => (sub.to_ascii_lowercase(), text.trim()),
                None => (rest.to_ascii_lowercase(), ""),
            };
            match (sub.as_str(), text.is_empty()) {
                ("" | "show", true) => Meta::Message(DraftCommand::Show),
                ("new", true) => Meta::Message(DraftCommand::New),
                ("sign", true) => Meta::Message(DraftCommand::Sign),
                ("send", true) => Meta::Message(DraftCommand::Send),
                ("header", false) => Meta::Message(DraftCommand::Header(text.to_string())),
                ("body", false) => Meta::Message(DraftCommand::Body(text.to_string())),
                _ => Meta::Invalid(format!("message takes one of: {MESSAGE_USAGE}")),
            }
        }
        "domains" if rest.is_empty() => Meta::Domains,
        "?" => Meta::Help,
        "help" if !connected => Meta::Help,
        "exit" if rest.is_empty() => Meta::Exit,
        "quit" if !connected => Meta::Exit,
        _ => return None,
    };
    Some(meta)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_commands() {
        assert_eq!(parse("connect", false), Some(Meta::Connect(None)));
        assert_eq!(
            parse("  CONNECT gmail.com ", false),
            Some(Meta::Connect(Some("gmail.com".into())))
        );
        assert_eq!(
            parse("wait 5m", true),
            Some(Meta::Wait(SimDuration::from_mins(5)))
        );
        assert_eq!(parse("explain off", true), Some(Meta::ExplainSwitch(false)));
        assert_eq!(
            parse("explain 550 5.1.1", true),
            Some(Meta::ExplainCode("550 5.1.1".into()))
        );
        assert_eq!(
            parse("auth-plain alice secret", true),
            Some(Meta::AuthPlain {
                user: "alice".into(),
                password: "secret".into()
            })
        );
        assert_eq!(parse("base64 a b", true), Some(Meta::Base64("a b".into())));
        assert_eq!(parse("base64", true), Some(Meta::Base64(String::new())));
        assert_eq!(parse("?", true), Some(Meta::Help));
        assert_eq!(
            parse("message", true),
            Some(Meta::Message(DraftCommand::Show))
        );
        assert_eq!(
            parse("message SIGN", true),
            Some(Meta::Message(DraftCommand::Sign))
        );
        assert_eq!(
            parse("message header Subject: Win  big", true),
            Some(Meta::Message(DraftCommand::Header(
                "Subject: Win  big".into()
            )))
        );
        assert_eq!(
            parse("message body PS: one more line", true),
            Some(Meta::Message(DraftCommand::Body(
                "PS: one more line".into()
            )))
        );
    }

    #[test]
    fn help_and_quit_belong_to_smtp_while_connected() {
        assert_eq!(parse("help", false), Some(Meta::Help));
        assert_eq!(parse("HELP", true), None);
        assert_eq!(parse("quit", false), Some(Meta::Exit));
        assert_eq!(parse("QUIT", true), None);
        assert_eq!(parse("exit", true), Some(Meta::Exit));
    }

    #[test]
    fn smtp_commands_are_not_terminal_commands() {
        for line in [
            "EHLO x",
            "MAIL FROM:<a@b>",
            "RCPT TO:<a@b>",
            "DATA",
            "NOOP",
            "",
            "time x",
        ] {
            assert_eq!(parse(line, true), None, "{line}");
        }
    }

    #[test]
    fn mistakes_say_how_to_write_the_command() {
        for line in [
            "wait",
            "wait soon",
            "wait 5",
            "auth-plain alice",
            "explain",
            "connect a b",
            "message body",
            "message sign now",
            "message frobnicate",
        ] {
            assert!(
                matches!(parse(line, true), Some(Meta::Invalid(_))),
                "{line}"
            );
        }
    }
}
