//! `smtpsim converse`: one genuine SMTP conversation through the protocol core, in memory.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use smtpsim_proto::client::{
    ClientConfig, ClientSession, Credentials, OutgoingMessage, Speaker, Status, TlsMode,
};
use smtpsim_proto::command::{ForwardPath, RcptParams};
use smtpsim_proto::loopback::converse;
use smtpsim_proto::server::{Decision, Envelope, Policy, ServerConfig, ServerSession, SessionInfo};

/// What the exit status says, for `--help`.
const EXIT_STATUS_HELP: &str = "Exit status:
  0  the server answered every recipient as asked: accepted, refused as --unknown (550) or
     deferred as --greylist (451)
  1  the server answered some recipient otherwise than asked (such as a message refused for a
     line over 1000 octets)
  2  bad usage, such as --auth without a colon or an address that is not one";

/// Options of `smtpsim converse`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXIT_STATUS_HELP)]
pub struct Args {
    /// The sender (empty for the null reverse-path of a bounce).
    #[arg(long, default_value = "alice@example.com")]
    from: String,
    /// A recipient; repeat for several.
    #[arg(long = "to", default_values = ["bob@example.net"])]
    to: Vec<String>,
    /// Recipients the server does not know (answered 550 5.1.1); repeat for several.
    #[arg(long = "unknown")]
    unknown: Vec<String>,
    /// Recipients the server greylists (answered 451 4.7.1); repeat for several.
    #[arg(long = "greylist")]
    greylist: Vec<String>,
    /// Upgrade the connection with STARTTLS (pretended in memory) before anything else.
    #[arg(long)]
    starttls: bool,
    /// Authenticate as USER:PASSWORD (the server knows exactly this user); implies --starttls.
    #[arg(long, value_name = "USER:PASSWORD")]
    auth: Option<String>,
    /// Send MAIL, RCPT and DATA one at a time even though the server offers PIPELINING.
    #[arg(long)]
    no_pipelining: bool,
    /// The message content (headers, blank line, body); CRLF line endings are added.
    #[arg(long, default_value = "Subject: Hello\n\nHello from smtpsim.\n")]
    content: String,
}

/// A server policy built from the options: a user, unknown and greylisted recipients.
struct Behaviour {
    user: Option<(String, String)>,
    unknown: Vec<String>,
    greylist: Vec<String>,
}

impl Behaviour {
    /// What the options ask the server to answer for `address`: refused when it is listed
    /// with `--unknown`, else deferred when listed with `--greylist`, else accepted.
    fn asked(&self, address: &str) -> Status {
        let listed = |list: &[String]| list.iter().any(|a| a.eq_ignore_ascii_case(address));
        if listed(&self.unknown) {
            Status::Rejected
        } else if listed(&self.greylist) {
            Status::Deferred
        } else {
            Status::Accepted
        }
    }
}

impl Policy for Behaviour {
    fn auth(&mut self, _: &SessionInfo, identity: &str, password: &str) -> Decision {
        match &self.user {
            Some((u, p)) if u == identity && p == password => Decision::Accept,
            _ => Decision::refuse(535, (5, 7, 8), "Authentication credentials invalid"),
        }
    }

    fn rcpt(
        &mut self,
        _: &SessionInfo,
        _: &Envelope,
        to: &ForwardPath<'_>,
        _: &RcptParams<'_>,
    ) -> Decision {
        let ForwardPath::Mailbox(address) = to else {
            return Decision::Accept;
        };
        let address = address.to_string();
        match self.asked(&address) {
            Status::Rejected => Decision::refuse(
                550,
                (5, 1, 1),
                format!("<{address}>: Recipient address rejected: User unknown"),
            ),
            Status::Deferred => Decision::refuse(
                451,
                (4, 7, 1),
                format!("<{address}>: Recipient address rejected: Greylisted, try again later"),
            ),
            Status::Accepted => Decision::Accept,
        }
    }
}

/// Runs the conversation and prints it; exits 0 when the server answered every recipient as
/// the options asked (accepted, refused as unknown or deferred as greylisted), 1 otherwise.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let credentials = match &args.auth {
        Some(pair) => {
            let (user, password) = pair.split_once(':').context("--auth takes USER:PASSWORD")?;
            Some(Credentials {
                user: user.to_string(),
                password: password.to_string(),
            })
        }
        None => None,
    };
    let mut server_config = ServerConfig::new("mx.example.net");
    server_config.starttls = true;
    server_config.auth = credentials.is_some();
    let mut client_config = ClientConfig::new("relay.example.com");
    client_config.transcript = true;
    client_config.pipelining = !args.no_pipelining;
    client_config.tls = if args.starttls || credentials.is_some() {
        TlsMode::Required
    } else {
        TlsMode::Never
    };
    let behaviour = Behaviour {
        user: credentials
            .as_ref()
            .map(|c| (c.user.clone(), c.password.clone())),
        unknown: args.unknown.clone(),
        greylist: args.greylist.clone(),
    };
    client_config.credentials = credentials;
    let mut recipients = args.to.clone();
    for extra in args.unknown.iter().chain(&args.greylist) {
        if !recipients.iter().any(|r| r.eq_ignore_ascii_case(extra)) {
            recipients.push(extra.clone());
        }
    }
    let asked: Vec<Status> = recipients.iter().map(|r| behaviour.asked(r)).collect();
    let content = args.content.replace("\r\n", "\n").replace('\n', "\r\n");
    let message = OutgoingMessage::new(args.from.clone(), recipients, content.into_bytes());
    let mut client = ClientSession::new(client_config, message)?;
    let mut server = ServerSession::new(Arc::new(server_config), behaviour, None);
    let messages = converse(&mut client, &mut server);

    let mut out = std::io::stdout().lock();
    for line in client.transcript() {
        let who = match line.speaker {
            Speaker::Client => "C:",
            Speaker::Server => "S:",
            Speaker::Note => "  ",
        };
        writeln!(out, "{who} {}", line.text)?;
    }
    writeln!(out)?;
    let outcome = client
        .outcome()
        .context("the conversation ended without a verdict")?;
    for (recipient, result) in client.message().recipients.iter().zip(&outcome.recipients) {
        let status = match result.status {
            Status::Accepted => "accepted",
            Status::Deferred => "deferred (retry later)",
            Status::Rejected => "rejected (bounce)",
        };
        let why = match (&result.reply, result.note) {
            (Some(reply), _) => format!(
                "{} at {}",
                reply.to_string().replace('\n', " / "),
                result.stage.name()
            ),
            (None, Some(note)) => note.to_string(),
            (None, None) => String::new(),
        };
        writeln!(out, "{recipient}: {status}: {why}")?;
    }
    writeln!(out, "messages stored by the server: {}", messages.len())?;
    let as_asked = outcome
        .recipients
        .iter()
        .map(|result| result.status)
        .eq(asked.iter().copied());
    Ok(if as_asked {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
