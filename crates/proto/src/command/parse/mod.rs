//! The command-line parser: [`Command::parse`] and [`Address::parse`].
//!
//! The verb is recognised from its first four (or, for `STARTTLS`, eight) bytes loaded as one
//! integer and lower-cased with a single OR, so the common commands cost a length check, a load
//! and a compare before their arguments are looked at. Arguments are checked once for UTF-8 and
//! control characters (eight bytes at a time when they are plain ASCII) and then scanned byte
//! by byte with class tables; nothing is copied and nothing is allocated unless an error needs
//! a message.

mod params;
mod path;
mod scan;

use path::Path;
use scan::{BASE64, MECH, is, skip_spaces, trim_end_spaces};

use crate::command::{
    Address, AuthMechanism, Command, CommandError, ForwardPath, Host, ReversePath,
};

/// Longest command line without its CRLF: RFC 5321's 512 octets
/// ([`crate::limits::Limits::command_line`]) less two.
const MAX_LINE: usize = 510;
/// Longest SASL mechanism name (RFC 4954).
const MAX_MECHANISM: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verb {
    Helo,
    Ehlo,
    Mail,
    Rcpt,
    Data,
    Bdat,
    Rset,
    Noop,
    Quit,
    Vrfy,
    Expn,
    Help,
    StartTls,
    Auth,
}

const fn verb4(s: &[u8; 4]) -> u32 {
    u32::from_le_bytes(*s)
}

const HELO: u32 = verb4(b"helo");
const EHLO: u32 = verb4(b"ehlo");
const MAIL: u32 = verb4(b"mail");
const RCPT: u32 = verb4(b"rcpt");
const DATA: u32 = verb4(b"data");
const BDAT: u32 = verb4(b"bdat");
const RSET: u32 = verb4(b"rset");
const NOOP: u32 = verb4(b"noop");
const QUIT: u32 = verb4(b"quit");
const VRFY: u32 = verb4(b"vrfy");
const EXPN: u32 = verb4(b"expn");
const HELP: u32 = verb4(b"help");
const AUTH: u32 = verb4(b"auth");
const STARTTLS: u64 = u64::from_le_bytes(*b"starttls");

/// Recognises the verb at the start of `line`; returns it and its length. A verb is followed
/// by a space or the end of the line.
#[inline(always)]
fn verb(line: &[u8]) -> Result<(Verb, usize), CommandError> {
    // OR-ing 0x20 into every byte lower-cases letters; a byte that is not a letter can only
    // turn into a letter if it was that letter's upper-case form, so no false matches.
    if let Some((head, rest)) = line.split_first_chunk::<4>()
        && matches!(rest.first(), None | Some(b' '))
    {
        let verb = match u32::from_le_bytes(*head) | 0x2020_2020 {
            MAIL => Verb::Mail,
            RCPT => Verb::Rcpt,
            EHLO => Verb::Ehlo,
            DATA => Verb::Data,
            QUIT => Verb::Quit,
            RSET => Verb::Rset,
            NOOP => Verb::Noop,
            HELO => Verb::Helo,
            AUTH => Verb::Auth,
            BDAT => Verb::Bdat,
            VRFY => Verb::Vrfy,
            EXPN => Verb::Expn,
            HELP => Verb::Help,
            _ => return Err(CommandError::UnknownCommand),
        };
        return Ok((verb, 4));
    }
    if let Some((head, rest)) = line.split_first_chunk::<8>()
        && matches!(rest.first(), None | Some(b' '))
        && u64::from_le_bytes(*head) | 0x2020_2020_2020_2020 == STARTTLS
    {
        return Ok((Verb::StartTls, 8));
    }
    Err(CommandError::UnknownCommand)
}

impl<'a> Command<'a> {
    /// Parses one command line given without its terminating CRLF.
    ///
    /// See the [module documentation](crate::command) for the grammar, the leniencies and
    /// which [`CommandError`] each kind of mistake gives.
    pub fn parse(line: &'a [u8]) -> Result<Command<'a>, CommandError> {
        if line.len() > MAX_LINE {
            return Err(CommandError::LineTooLong);
        }
        let (verb, len) = verb(line)?;
        let rest = trim_end_spaces(&line[len..]);
        if rest.is_empty() {
            return without_argument(verb);
        }
        let arg = scan::text(&rest[skip_spaces(rest, 0)..])?;
        match verb {
            Verb::Mail => mail(arg),
            Verb::Rcpt => rcpt(arg),
            Verb::Ehlo => Ok(Command::Ehlo {
                domain: hello(arg)?,
            }),
            Verb::Helo => Ok(Command::Helo {
                domain: hello(arg)?,
            }),
            Verb::Noop => Ok(Command::Noop { arg: Some(arg) }),
            Verb::Help => Ok(Command::Help { topic: Some(arg) }),
            Verb::Vrfy => Ok(Command::Vrfy { arg }),
            Verb::Expn => Ok(Command::Expn { arg }),
            Verb::Bdat => bdat(arg),
            Verb::Auth => auth(arg),
            Verb::Data | Verb::Rset | Verb::Quit | Verb::StartTls => {
                Err(CommandError::Syntax("no argument expected"))
            }
        }
    }
}

/// A verb alone on its line.
#[inline]
fn without_argument<'a>(verb: Verb) -> Result<Command<'a>, CommandError> {
    Ok(match verb {
        Verb::Data => Command::Data,
        Verb::Rset => Command::Rset,
        Verb::Quit => Command::Quit,
        Verb::StartTls => Command::StartTls,
        Verb::Noop => Command::Noop { arg: None },
        Verb::Help => Command::Help { topic: None },
        Verb::Helo | Verb::Ehlo => return Err(CommandError::Syntax("missing domain")),
        Verb::Mail => return Err(CommandError::Syntax("missing FROM:<reverse-path>")),
        Verb::Rcpt => return Err(CommandError::Syntax("missing TO:<forward-path>")),
        Verb::Bdat => return Err(CommandError::Syntax("missing chunk size")),
        Verb::Auth => return Err(CommandError::Syntax("missing mechanism")),
        Verb::Vrfy | Verb::Expn => return Err(CommandError::Syntax("missing argument")),
    })
}

/// The argument of HELO or EHLO: a domain or an address literal, and nothing else.
#[inline]
fn hello(arg: &str) -> Result<Host<'_>, CommandError> {
    match path::host(arg, 0) {
        Ok((host, end)) if end == arg.len() => Ok(host),
        Ok(_) => Err(CommandError::Syntax(
            "expected one domain or address literal",
        )),
        Err(reason) => Err(CommandError::Syntax(reason)),
    }
}

/// Strips a case-insensitive `keyword` (such as `from:`) and any spaces after it.
#[inline(always)]
fn after_keyword<'a>(arg: &'a str, keyword: &[u8]) -> Option<&'a str> {
    let b = arg.as_bytes();
    if b.len() >= keyword.len() && b[..keyword.len()].eq_ignore_ascii_case(keyword) {
        Some(&arg[skip_spaces(b, keyword.len())..])
    } else {
        None
    }
}

/// `FROM:<reverse-path> [params]`
fn mail(arg: &str) -> Result<Command<'_>, CommandError> {
    let rest =
        after_keyword(arg, b"from:").ok_or(CommandError::Syntax("expected FROM:<reverse-path>"))?;
    if rest.is_empty() {
        return Err(CommandError::Syntax("missing reverse-path"));
    }
    let (path, end) = path::path(rest).map_err(CommandError::BadSender)?;
    let from = match path {
        Path::Null => ReversePath::Null,
        Path::Mailbox(address) => ReversePath::Mailbox(address),
        Path::Postmaster => return Err(CommandError::BadSender("missing @domain")),
    };
    let params = params::mail(&rest[end..])?;
    Ok(Command::Mail { from, params })
}

/// `TO:<forward-path> [params]`
fn rcpt(arg: &str) -> Result<Command<'_>, CommandError> {
    let rest =
        after_keyword(arg, b"to:").ok_or(CommandError::Syntax("expected TO:<forward-path>"))?;
    if rest.is_empty() {
        return Err(CommandError::Syntax("missing forward-path"));
    }
    let (path, end) = path::path(rest).map_err(CommandError::BadRecipient)?;
    let to = match path {
        Path::Mailbox(address) => ForwardPath::Mailbox(address),
        Path::Postmaster => ForwardPath::Postmaster,
        Path::Null => return Err(CommandError::BadRecipient("null forward-path")),
    };
    let params = params::rcpt(&rest[end..])?;
    Ok(Command::Rcpt { to, params })
}

/// Splits `arg` at its first space: the first word and what follows the spaces after it.
#[inline]
fn first_word(arg: &str) -> (&str, Option<&str>) {
    // The first word (a chunk size or a mechanism name) is short: no vectorised search.
    match arg.bytes().position(|c| c == b' ') {
        Some(space) => (
            &arg[..space],
            Some(&arg[skip_spaces(arg.as_bytes(), space)..]),
        ),
        None => (arg, None),
    }
}

/// `size [LAST]`
fn bdat(arg: &str) -> Result<Command<'_>, CommandError> {
    let (size, last) = first_word(arg);
    let size = scan::number(size.as_bytes()).map_err(|overflow| {
        CommandError::Syntax(if overflow {
            "chunk size too large"
        } else {
            "chunk size is not a number"
        })
    })?;
    let last = match last {
        None => false,
        Some(word) if word.eq_ignore_ascii_case("LAST") => true,
        Some(_) => return Err(CommandError::Syntax("expected LAST after the chunk size")),
    };
    Ok(Command::Bdat { size, last })
}

/// `mechanism [initial-response]`
fn auth(arg: &str) -> Result<Command<'_>, CommandError> {
    let (name, response) = first_word(arg);
    if name.len() > MAX_MECHANISM || !name.bytes().all(|c| is(c, MECH)) {
        return Err(CommandError::Syntax("invalid mechanism name"));
    }
    let mechanism = if name.eq_ignore_ascii_case("PLAIN") {
        AuthMechanism::Plain
    } else if name.eq_ignore_ascii_case("LOGIN") {
        AuthMechanism::Login
    } else {
        AuthMechanism::Other(name)
    };
    if let Some(response) = response
        && !is_initial_response(response)
    {
        return Err(CommandError::Syntax("initial response is not base64"));
    }
    Ok(Command::Auth {
        mechanism,
        initial_response: response,
    })
}

/// `=` (an empty response) or base64: the alphabet, then at most two `=` of padding.
fn is_initial_response(s: &str) -> bool {
    if s == "=" {
        return true;
    }
    let b = s.as_bytes();
    let data = b.iter().take_while(|&&c| is(c, BASE64)).count();
    let padding = b.len() - data;
    data > 0 && padding <= 2 && b[data..].iter().all(|&c| c == b'=')
}

impl<'a> Address<'a> {
    /// Parses `local-part@domain` without angle brackets, as configured for a client: a
    /// dot-string or quoted local part, and a domain or address literal. Errors are
    /// [`CommandError::Syntax`].
    pub fn parse(s: &'a str) -> Result<Address<'a>, CommandError> {
        path::mailbox(s).map_err(CommandError::Syntax)
    }
}
