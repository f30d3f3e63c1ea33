//! `smtpsim converse`: one genuine SMTP conversation through the protocol core, in memory.
//! With `--sign` the message is DKIM-signed for real before it is sent (and changed after
//! signing with `--alter-body` or `--alter-header`), and the server verifies it for real
//! against a DNS that publishes the signing keys, saying which hash broke.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use std::cell::RefCell;
use std::rc::Rc;

use anyhow::Context;
use smtpsim_mail::canon;
use smtpsim_mail::edit;
use smtpsim_mail::keys::{Algorithm, SigningKeys};
use smtpsim_mail::received::{CheckSlot, RealCheck};
use smtpsim_mail::sign::sign;
use smtpsim_model::auth::dns::StaticResolver;
use smtpsim_model::behaviour::EndOfData;
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
  2  bad usage, such as --auth without a colon or an address that is not one
With --sign, a signature that fails to verify is what the server found, not a failure of the
command: it does not change the exit status.";

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
    /// The message content (headers, blank line, body); CRLF line endings are added. By
    /// default a short message From: the sender To: the first recipient.
    #[arg(long)]
    content: Option<String>,
    /// DKIM-sign the message for real (ed25519-sha256 and rsa-sha256) with keys derived from
    /// --seed for the From: domain (a From: of the --from address is added to content that
    /// has none), selector --selector; the server publishes the public keys and verifies.
    #[arg(long)]
    sign: bool,
    /// The seed the signing keys derive from.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The selector of the signing keys (`s=`; the Ed25519 key's is SELECTOR-ed25519).
    #[arg(long, default_value = "s1")]
    selector: String,
    /// After signing, add this line to the end of the body (as a mailing list footer would).
    #[arg(long, value_name = "TEXT", requires = "sign")]
    alter_body: Option<String>,
    /// After signing, replace (or add) this header field, such as "Subject: Changed".
    #[arg(long, value_name = "FIELD", requires = "sign")]
    alter_header: Option<String>,
}

/// A server policy built from the options: a user, unknown and greylisted recipients, and
/// the end-of-data check of signed mail.
struct Behaviour {
    user: Option<(String, String)>,
    unknown: Vec<String>,
    greylist: Vec<String>,
    checks: Option<RealCheck>,
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
    fn message(&mut self, session: &SessionInfo, envelope: &Envelope, content: &[u8]) -> Decision {
        match &mut self.checks {
            Some(checks) => checks.message(session, envelope, content),
            None => Decision::Accept,
        }
    }

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
        checks: None,
    };
    client_config.credentials = credentials;
    let mut recipients = args.to.clone();
    for extra in args.unknown.iter().chain(&args.greylist) {
        if !recipients.iter().any(|r| r.eq_ignore_ascii_case(extra)) {
            recipients.push(extra.clone());
        }
    }
    let asked: Vec<Status> = recipients.iter().map(|r| behaviour.asked(r)).collect();
    let content = args.content.clone().unwrap_or_else(|| {
        format!(
            "From: <{}>\nTo: <{}>\nSubject: Hello\n\nHello from smtpsim.\n",
            args.from,
            args.to.first().map_or("", String::as_str)
        )
    });
    let content = content.replace("\r\n", "\n").replace('\n', "\r\n");
    let mut behaviour = behaviour;
    let slot = Rc::new(RefCell::new(CheckSlot::default()));
    let (content, dns) = if args.sign {
        let signed = signed(args, content.into_bytes())?;
        slot.borrow_mut().signed_header_hashes = signed.hashes;
        (signed.sent, signed.dns)
    } else {
        // Nothing signed, no key to publish: the checks find no signature.
        (content.into_bytes(), StaticResolver::new())
    };
    behaviour.checks = Some(RealCheck::new(Arc::new(dns), slot.clone()));
    let message = OutgoingMessage::new(args.from.clone(), recipients, content);
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
    if let Some(checked) = slot.borrow_mut().found.take() {
        writeln!(out, "the server's checks (DKIM verified for real):")?;
        for sentence in checked.sentences() {
            writeln!(out, "  {sentence}")?;
        }
    }
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

/// The message signed for real, as sent, and the DNS that publishes the keys.
struct Signed {
    /// The content as sent: signed, then changed when asked.
    sent: Vec<u8>,
    /// The header hash of each signature when made, by `a=`.
    hashes: Vec<(String, String)>,
    /// The key records.
    dns: StaticResolver,
}

/// `content` signed for real (a From: added first when it has none), then changed after
/// signing as the options ask.
fn signed(args: &Args, content: Vec<u8>) -> anyhow::Result<Signed> {
    let mut content = content;
    let has_from = canon::fields(canon::split(&content).0).iter().any(|f| {
        String::from_utf8_lossy(canon::name(f))
            .trim()
            .eq_ignore_ascii_case("from")
    });
    if !has_from {
        let mut with = format!("From: <{}>\r\n", args.from).into_bytes();
        with.extend_from_slice(&content);
        content = with;
    }
    let domain = smtpsim_model::sim::content::facts_ref(&content)
        .owned()
        .from_domain
        .context("--sign needs a From: address with a domain")?;
    let keys = SigningKeys::derive(args.seed, &domain, &args.selector);
    let signed = sign(&content, &keys);
    let mut sent = signed.clone();
    if let Some(line) = &args.alter_body {
        sent = edit::add_body_line(&sent, line);
    }
    if let Some(field) = &args.alter_header {
        sent =
            edit::set_header(&sent, field).map_err(|e| anyhow::anyhow!("--alter-header: {e}"))?;
    }
    let dns = Algorithm::ALL
        .into_iter()
        .fold(StaticResolver::new(), |dns, algorithm| {
            dns.with_txt(&keys.key_name(algorithm), keys.record(algorithm))
        });
    Ok(Signed {
        sent,
        hashes: canon::signature_hashes(&signed),
        dns,
    })
}
