//! The table of three-digit reply codes, sorted by code.

use super::{CodeInfo, Retry};

const RFC5321: &str = "RFC 5321, section 4.2.3";

pub(super) static REPLY_CODES: &[CodeInfo] = &[
    CodeInfo {
        code: 211,
        name: "System status",
        meaning: "System status, or a system help reply.",
        causes: &[
            "A reply to HELP on servers that report status this way.",
            "A reply to a status query by a management tool.",
        ],
        retry: Retry::NotNeeded,
        advice: "Informational only; nothing to do. Do not parse the text, it is meant for people.",
        rfc: RFC5321,
        common_enhanced: &[],
    },
    CodeInfo {
        code: 214,
        name: "Help message",
        meaning: "Help for a human user: how to use the server, or what a command does.",
        causes: &["A reply to HELP."],
        retry: Retry::NotNeeded,
        advice: "Informational only; nothing to do. Use the EHLO reply, not HELP, to learn which \
                 extensions the server supports.",
        rfc: RFC5321,
        common_enhanced: &[(0, 0)],
    },
    CodeInfo {
        code: 220,
        name: "Service ready",
        meaning: "The server is ready: the greeting when a connection opens, or the go-ahead \
                  for the TLS handshake after STARTTLS.",
        causes: &[
            "The greeting on connect, usually `220 <host name> ESMTP ...`.",
            "A reply to STARTTLS (`220 2.0.0 Ready to start TLS`).",
        ],
        retry: Retry::NotNeeded,
        advice: "After the greeting, send EHLO. After STARTTLS, start the TLS handshake at once \
                 and send EHLO again: everything learned before TLS (the extension list) must \
                 be discarded.",
        rfc: "RFC 5321, section 4.2; RFC 3207",
        common_enhanced: &[(0, 0)],
    },
    CodeInfo {
        code: 221,
        name: "Service closing transmission channel",
        meaning: "The server is closing the connection in an orderly way.",
        causes: &[
            "A reply to QUIT.",
            "Some servers say 221 before closing a session they ended themselves (idle \
             timeout, too many errors), usually with text saying why.",
        ],
        retry: Retry::NotNeeded,
        advice: "Close the connection. Messages already acknowledged with 250 are delivered; \
                 anything not yet acknowledged is still the sender's to deliver.",
        rfc: RFC5321,
        common_enhanced: &[(0, 0)],
    },
    CodeInfo {
        code: 235,
        name: "Authentication successful",
        meaning: "The AUTH exchange succeeded; the session is now authenticated.",
        causes: &[
            "A reply to AUTH with valid credentials (`235 2.7.0 Authentication successful`).",
        ],
        retry: Retry::NotNeeded,
        advice: "Go on with MAIL FROM. AUTH may not be repeated in the same session.",
        rfc: "RFC 4954",
        common_enhanced: &[(7, 0)],
    },
    CodeInfo {
        code: 250,
        name: "Requested mail action okay, completed",
        meaning: "The command was carried out. After the end of the message data it means the \
                  server has taken responsibility for delivering the message.",
        causes: &[
            "A reply to EHLO (followed by the extension list), MAIL, RCPT, RSET or NOOP.",
            "The final reply after DATA or the last BDAT chunk: the message was accepted, \
             often with a queue id in the text.",
        ],
        retry: Retry::NotNeeded,
        advice: "Go on. After the message data, remove the message from the queue for the \
                 recipients that were accepted and log the queue id from the text; it is what \
                 the receiving postmaster needs to trace the message.",
        rfc: RFC5321,
        common_enhanced: &[(0, 0), (1, 0), (1, 5)],
    },
    CodeInfo {
        code: 251,
        name: "User not local; will forward",
        meaning: "The recipient is not local, but the server accepts the message and will \
                  forward it.",
        causes: &["A reply to RCPT for an address the server forwards elsewhere."],
        retry: Retry::NotNeeded,
        advice: "Nothing to do: the recipient is accepted. If the text names the new address, \
                 the sender may update its records.",
        rfc: RFC5321,
        common_enhanced: &[],
    },
    CodeInfo {
        code: 252,
        name: "Cannot VRFY user, but will accept message",
        meaning: "The server will not confirm whether the address exists, but will accept mail \
                  for it and attempt delivery.",
        causes: &[
            "A reply to VRFY on servers that disable address verification to stop address \
             harvesting (almost all of them).",
        ],
        retry: Retry::NotNeeded,
        advice: "VRFY is not a way to check addresses: send the message; if the address does \
                 not exist, a delivery status notification says so later.",
        rfc: RFC5321,
        common_enhanced: &[(5, 0)],
    },
    CodeInfo {
        code: 334,
        name: "Server challenge",
        meaning: "The AUTH exchange continues: the text is a base64-encoded challenge (possibly \
                  empty) and the server waits for the client's response.",
        causes: &[
            "A reply to AUTH: LOGIN asks for the user name (`334 VXNlcm5hbWU6`, \"Username:\") \
             and then the password (`334 UGFzc3dvcmQ6`).",
            "AUTH PLAIN without an initial response (`334 ` with empty text).",
        ],
        retry: Retry::Continue,
        advice: "Send the base64-encoded response on one line, or `*` to cancel. Never send \
                 credentials this way before STARTTLS has protected the connection.",
        rfc: "RFC 4954",
        common_enhanced: &[],
    },
    CodeInfo {
        code: 354,
        name: "Start mail input",
        meaning: "The server is ready for the message: send it, ending with <CRLF>.<CRLF>.",
        causes: &["A reply to DATA when at least one recipient was accepted."],
        retry: Retry::Continue,
        advice: "Send the message with dot-stuffing (a line starting with `.` gets another `.`) \
                 and CRLF line endings, then `.` alone on a line. The server takes the message \
                 only with the final 250: if the connection is lost before it, the message is \
                 still the sender's to deliver (and may arrive twice).",
        rfc: RFC5321,
        common_enhanced: &[],
    },
    CodeInfo {
        code: 421,
        name: "Service not available, closing transmission channel",
        meaning: "The server cannot serve this session now and is closing the connection. It \
                  can come as the greeting or as the reply to any command.",
        causes: &[
            "Too many connections or messages from the sending IP, or too high a rate \
             (Gmail: `421 4.7.0` and `421 4.7.28`; Microsoft: `421 4.7.0`).",
            "The server is shutting down, restarting or overloaded (`421 4.3.2`).",
            "Temporary blocks because of the sending IP's reputation, or a missing or \
             mismatching PTR record.",
            "The session broke a limit: too many errors, an idle timeout, too many commands.",
        ],
        retry: Retry::Later,
        advice: "Close the connection, keep every recipient that was not yet accepted queued, \
                 and reconnect later with backoff. Lower the number of parallel connections and \
                 the message rate to that destination. If it persists, check the enhanced code \
                 and text: rate and reputation problems need slower sending, authenticated mail \
                 (SPF, DKIM, DMARC) and a PTR record that matches the HELO name.",
        rfc: RFC5321,
        common_enhanced: &[(7, 0), (7, 28), (3, 2), (4, 2), (4, 5)],
    },
    CodeInfo {
        code: 432,
        name: "A password transition is needed",
        meaning: "The user must authenticate once with the PLAIN mechanism before the requested \
                  mechanism can work.",
        causes: &[
            "The server stores credentials that the requested mechanism cannot use yet \
             (`432 4.7.12`).",
        ],
        retry: Retry::Later,
        advice: "Authenticate once with AUTH PLAIN over TLS; later sessions can use the \
                 requested mechanism.",
        rfc: "RFC 4954",
        common_enhanced: &[(7, 12)],
    },
    CodeInfo {
        code: 450,
        name: "Requested mail action not taken: mailbox unavailable",
        meaning: "The action failed for now, usually because of the mailbox or a temporary \
                  policy decision; a later attempt may succeed.",
        causes: &[
            "Greylisting: a first attempt from an unknown client is deferred (`450 4.2.0` \
             from postgrey, `450 4.7.1`).",
            "The recipient receives mail too fast (Gmail: `450 4.2.1`).",
            "The mailbox is locked or busy, or recipient verification could not complete.",
            "Temporary policy rejections, such as the client's host name not resolving \
             (Postfix `450 4.7.1 Client host rejected: cannot find your hostname`) or the \
             sender's domain not found in DNS (`450 4.1.8`).",
        ],
        retry: Retry::Later,
        advice: "Keep the message queued and retry; greylisting clears on a retry from the same \
                 IP after a few minutes. If it never clears, check the enhanced code: DNS \
                 problems (PTR, sender domain) are on the sending side.",
        rfc: RFC5321,
        common_enhanced: &[(2, 0), (7, 1), (2, 1), (1, 1), (1, 8)],
    },
    CodeInfo {
        code: 451,
        name: "Requested action aborted: local error in processing",
        meaning: "The server hit a problem of its own, or a temporary policy condition, and \
                  aborted the command; a later attempt may succeed.",
        causes: &[
            "A fault on the receiving side: a full queue disk, a database or content filter \
             (spam or virus scanner) down, a configuration error (`451 4.3.0`, `451 4.3.5`).",
            "A DNS lookup that failed temporarily, for the sender's domain or the client's IP \
             (`451 4.4.3`, `451 4.1.8`), or an SPF check that could not complete \
             (`451 4.7.24`).",
            "Greylisting (`451 4.7.1 Greylisted, please try again later`).",
            "Too many recipients or messages in this session (`451 4.5.3`).",
        ],
        retry: Retry::Later,
        advice: "Keep the message queued and retry later. If it persists for one destination \
                 only, the problem is most likely theirs; tell their postmaster. Check that \
                 your sender domain and sending IP resolve in DNS.",
        rfc: RFC5321,
        common_enhanced: &[(7, 1), (3, 0), (4, 3), (3, 5), (7, 24), (5, 3)],
    },
    CodeInfo {
        code: 452,
        name: "Requested action not taken: insufficient system storage",
        meaning: "The server cannot accept this now for lack of space, or because a limit for \
                  this transaction was reached.",
        causes: &[
            "Too many recipients in one transaction (`452 4.5.3`).",
            "The recipient's mailbox is over quota (Gmail: `452 4.2.2`).",
            "The server's disk or queue is full (`452 4.3.1`).",
            "The SIZE announced in MAIL FROM is more than the server has room for right now.",
        ],
        retry: Retry::Later,
        advice: "For too many recipients, deliver to the accepted ones and send the rest in \
                 another transaction right away instead of waiting (RFC 5321, section \
                 4.5.3.1.10). Otherwise keep the message queued and retry later; a mailbox that \
                 stays full eventually bounces.",
        rfc: RFC5321,
        common_enhanced: &[(5, 3), (2, 2), (3, 1)],
    },
    CodeInfo {
        code: 454,
        name: "TLS not available or temporary authentication failure",
        meaning: "STARTTLS or AUTH failed for a temporary reason, or (Postfix) a relay attempt \
                  was deferred.",
        causes: &[
            "A reply to STARTTLS when the server's TLS setup is broken (missing key or \
             certificate, an entropy or library error).",
            "A reply to AUTH when the authentication back end (directory, database) is \
             unreachable (`454 4.7.0 Temporary authentication failure`).",
            "Postfix `454 4.7.1 Relay access denied`: relaying through a server without \
             authenticating, when it defers instead of rejecting.",
        ],
        retry: Retry::Later,
        advice: "Retry later. After a failed STARTTLS, continue without TLS only if your policy \
                 allows it (MTA-STS or DANE forbid it). For relay access denied, authenticate \
                 (AUTH on port 587) or send to a server that is responsible for the recipient.",
        rfc: "RFC 3207; RFC 4954",
        common_enhanced: &[(7, 0), (7, 1)],
    },
    CodeInfo {
        code: 455,
        name: "Server unable to accommodate parameters",
        meaning: "The server understands the MAIL FROM or RCPT TO parameters but cannot honour \
                  them at the moment.",
        causes: &[
            "An extension parameter (SIZE, DSN, a priority) the server supports but cannot \
             satisfy right now.",
        ],
        retry: Retry::Later,
        advice: "Retry later; if it persists, retry without the optional parameters.",
        rfc: RFC5321,
        common_enhanced: &[],
    },
    CodeInfo {
        code: 500,
        name: "Syntax error, command unrecognized",
        meaning: "The server did not understand the command, or the command line was too long.",
        causes: &[
            "A misspelled or unknown command, or an extension command the server does not \
             know.",
            "A command line over 512 octets, or an AUTH response longer than the server \
             accepts (`500 5.5.6`).",
            "The wrong protocol on the port: TLS bytes sent to a plain-text port (implicit TLS \
             is port 465; 25 and 587 use STARTTLS), or a non-SMTP client.",
            "A firewall with an SMTP \"fixup\" rewriting commands it does not know (EHLO \
             turned into XXXX).",
        ],
        retry: Retry::Never,
        advice: "Fix the client: check the command, the port and whether it expects implicit \
                 TLS or STARTTLS, and look for middleboxes that rewrite SMTP.",
        rfc: RFC5321,
        common_enhanced: &[(5, 2), (5, 1), (5, 6)],
    },
    CodeInfo {
        code: 501,
        name: "Syntax error in parameters or arguments",
        meaning: "The command is known but its arguments are malformed.",
        causes: &[
            "A malformed address: missing angle brackets, spaces, an unquoted special \
             character (`501 5.1.3`, `501 5.1.7`).",
            "A HELO or EHLO argument that is not a valid host name or bracketed address \
             literal (`501 5.5.4`).",
            "Base64 the server cannot decode in an AUTH response (`501 5.5.2`), or AUTH \
             cancelled with `*` (`501 5.7.0`).",
        ],
        retry: Retry::Never,
        advice: "Fix what the client sends: `MAIL FROM:<user@example.com>` with angle brackets \
                 and no spaces, a fully-qualified host name or an address literal such as \
                 `[192.0.2.1]` in EHLO.",
        rfc: RFC5321,
        common_enhanced: &[(5, 4), (5, 2), (1, 3), (1, 7), (7, 0)],
    },
    CodeInfo {
        code: 502,
        name: "Command not implemented",
        meaning: "The server recognises the command but does not implement it.",
        causes: &[
            "VRFY, EXPN, TURN or ETRN on servers that disable them.",
            "An extension command (STARTTLS, AUTH, BDAT) that the server did not advertise.",
        ],
        retry: Retry::Never,
        advice: "Do not use the command with this server. Only use extensions that the EHLO \
                 reply lists.",
        rfc: RFC5321,
        common_enhanced: &[(5, 1)],
    },
    CodeInfo {
        code: 503,
        name: "Bad sequence of commands",
        meaning: "The command is valid but not at this point of the session.",
        causes: &[
            "MAIL before EHLO, RCPT before MAIL, DATA before an accepted RCPT, a second MAIL \
             inside a transaction (`503 5.5.1`).",
            "AUTH when already authenticated, or during a mail transaction.",
            "DATA after every RCPT was rejected, or pipelining commands to a server that did \
             not advertise PIPELINING.",
            "Some servers answer MAIL with 503 when authentication is required first.",
        ],
        retry: Retry::Never,
        advice: "Fix the client's state machine; send RSET to return to a known state. With \
                 PIPELINING, check the replies to MAIL and RCPT before relying on DATA.",
        rfc: RFC5321,
        common_enhanced: &[(5, 1)],
    },
    CodeInfo {
        code: 504,
        name: "Command parameter not implemented",
        meaning: "The command is known but a parameter or argument value is not supported.",
        causes: &[
            "An AUTH mechanism the server does not offer (`504 5.5.4 Unrecognized \
             authentication type`).",
            "Postfix `504 5.5.2`: a HELO name or address that is not fully qualified, under \
             `reject_non_fqdn_*` restrictions.",
        ],
        retry: Retry::Never,
        advice: "Use only AUTH mechanisms listed in the EHLO reply; use a fully-qualified host \
                 name in HELO/EHLO and fully-qualified addresses.",
        rfc: RFC5321,
        common_enhanced: &[(5, 4), (5, 2), (7, 4)],
    },
    CodeInfo {
        code: 521,
        name: "Host does not accept mail",
        meaning: "This host never accepts mail; it is not a mail server for anyone.",
        causes: &[
            "A greeting from a host that answers on port 25 only to refuse (`521 5.3.2`).",
            "The domain's MX or address records point at a host that does not handle mail.",
        ],
        retry: Retry::Never,
        advice: "Do not retry this host. Check the recipient domain's MX records; if the \
                 domain has no working mail host, the address is undeliverable.",
        rfc: "RFC 7504",
        common_enhanced: &[(3, 2)],
    },
    CodeInfo {
        code: 530,
        name: "Authentication or encryption required",
        meaning: "The server refuses the command until the client has issued STARTTLS or \
                  authenticated.",
        causes: &[
            "`530 5.7.0 Must issue a STARTTLS command first`: the server requires TLS (Gmail \
             and most submission servers).",
            "`530 5.7.0 Authentication required`: a submission server (port 587) requires \
             AUTH before MAIL.",
            "The client skipped STARTTLS because it was disabled or certificate verification \
             failed.",
        ],
        retry: Retry::Never,
        advice: "Enable STARTTLS (or implicit TLS on port 465) and SMTP authentication in the \
                 client, then send again.",
        rfc: "RFC 3207; RFC 4954",
        common_enhanced: &[(7, 0), (5, 1)],
    },
    CodeInfo {
        code: 534,
        name: "Authentication mechanism is too weak",
        meaning: "The server's policy does not allow the chosen AUTH mechanism for this user.",
        causes: &[
            "PLAIN or LOGIN where the account requires something stronger (`534 5.7.9`).",
            "Gmail: an application-specific password or OAuth is required \
             (`534 5.7.9 Application-specific password required`), or the sign-in needs a \
             browser (`534 5.7.14`).",
        ],
        retry: Retry::Never,
        advice: "Use a stronger mechanism from the EHLO list, an application password, or OAuth \
                 (XOAUTH2) as the provider requires.",
        rfc: "RFC 4954",
        common_enhanced: &[(7, 9), (7, 14)],
    },
    CodeInfo {
        code: 535,
        name: "Authentication credentials invalid",
        meaning: "AUTH failed: the user name or password (or token) was not accepted.",
        causes: &[
            "A wrong user name or password; many providers want the full email address as the \
             user name (`535 5.7.8`).",
            "Two-factor authentication is on and an application password is needed (Gmail: \
             `535 5.7.8 Username and Password not accepted`).",
            "Password authentication is disabled for the account or the tenant (Microsoft \
             365: `535 5.7.139`).",
            "The account is locked or disabled (`535 5.7.13`).",
        ],
        retry: Retry::Never,
        advice: "Fix the credentials before trying again. Do not retry in a loop: repeated \
                 failures get the sending IP blocked by tools such as fail2ban.",
        rfc: "RFC 4954",
        common_enhanced: &[(7, 8), (7, 13)],
    },
    CodeInfo {
        code: 538,
        name: "Encryption required for requested authentication mechanism",
        meaning: "The chosen AUTH mechanism may only be used over an encrypted connection.",
        causes: &["AUTH PLAIN or LOGIN sent before STARTTLS (`538 5.7.11`)."],
        retry: Retry::Never,
        advice: "Issue STARTTLS (or use implicit TLS on port 465) and authenticate after the \
                 handshake.",
        rfc: "RFC 4954",
        common_enhanced: &[(7, 11)],
    },
    CodeInfo {
        code: 550,
        name: "Mailbox unavailable",
        meaning: "The action was refused for good: the mailbox does not exist or cannot be \
                  used, or policy forbids the command.",
        causes: &[
            "The recipient does not exist (`550 5.1.1`; Gmail: `550-5.1.1 The email account \
             that you tried to reach does not exist`).",
            "The mailbox is disabled (`550 5.2.1`).",
            "Relaying denied: the server is not responsible for the recipient and the client \
             did not authenticate (`550 5.7.1`).",
            "The sending IP is on a blocklist or has a poor reputation, or the message was \
             judged to be spam (`550 5.7.1`).",
            "The message failed SPF, DKIM or DMARC checks (`550 5.7.23`, `550 5.7.26`; \
             Gmail: `550-5.7.26 ... sender is unauthenticated`).",
        ],
        retry: Retry::Never,
        advice: "Read the enhanced code and text. For an unknown or disabled mailbox, treat it \
                 as a hard bounce and stop sending to the address. For policy refusals, check \
                 blocklists, the PTR record, and SPF, DKIM and DMARC alignment, and use the \
                 receiver's delisting or postmaster process.",
        rfc: RFC5321,
        common_enhanced: &[(1, 1), (7, 1), (2, 1), (1, 2), (7, 26), (7, 23), (7, 25)],
    },
    CodeInfo {
        code: 551,
        name: "User not local; please try another path",
        meaning: "The recipient is not local and the server will not forward; the text may \
                  give another address.",
        causes: &[
            "The recipient moved and the server tells the new address instead of forwarding.",
            "Some servers use 551 for relaying denied (`551 5.7.1`).",
        ],
        retry: Retry::Never,
        advice: "Send to the address given in the text, if any, and update the records.",
        rfc: RFC5321,
        common_enhanced: &[(1, 6), (7, 1)],
    },
    CodeInfo {
        code: 552,
        name: "Requested mail action aborted: exceeded storage allocation",
        meaning: "The message or mailbox is over a size limit.",
        causes: &[
            "The message is larger than the server accepts (`552 5.3.4`); the EHLO reply's \
             SIZE keyword gives the limit.",
            "The mailbox is over quota (Gmail: `552 5.2.2`), or a per-mailbox size limit is \
             exceeded (`552 5.2.3`).",
            "Too many recipients (an old use; RFC 5321 asks clients to treat a 552 to RCPT as \
             temporary).",
        ],
        retry: Retry::Never,
        advice: "Make the message smaller: base64 makes attachments about a third larger, so \
                 share large files by link. Check the server's SIZE before sending. For a full \
                 mailbox, reach the recipient some other way.",
        rfc: RFC5321,
        common_enhanced: &[(3, 4), (2, 2), (2, 3)],
    },
    CodeInfo {
        code: 553,
        name: "Requested action not taken: mailbox name not allowed",
        meaning: "The address is not acceptable, typically because of its syntax or because \
                  the sender may not use it.",
        causes: &[
            "Bad address syntax (`553 5.1.3`, `553 5.1.7`), or a sender domain that does not \
             exist (`553 5.1.8`).",
            "The authenticated user may not send as this address (Postfix \
             `553 5.7.1 Sender address rejected: not owned by user`).",
            "A non-ASCII address without SMTPUTF8 (`553 5.6.7`).",
        ],
        retry: Retry::Never,
        advice: "Fix the address, or send from an address the account is allowed to use.",
        rfc: RFC5321,
        common_enhanced: &[(1, 3), (1, 7), (1, 8), (7, 1), (6, 7)],
    },
    CodeInfo {
        code: 554,
        name: "Transaction failed",
        meaning: "The transaction failed for good. As a greeting it means there is no SMTP \
                  service for this client.",
        causes: &[
            "A greeting of 554: the server refuses the client's IP outright, usually because \
             of a blocklist (`554 5.7.1 ... blocked using zen.spamhaus.org`).",
            "The message was rejected after DATA as spam, malware or by content policy \
             (`554 5.7.1`).",
            "No valid recipients when DATA was sent (`554 5.5.1`).",
            "A mail loop: too many Received headers (Postfix `554 5.4.0 Error: too many \
             hops`; Microsoft `554 5.4.14 Hop count exceeded`).",
        ],
        retry: Retry::Never,
        advice: "Read the text. For a refused IP, look it up on public blocklists and request \
                 delisting; for content, check the links and attachments against blocklists. \
                 Do not retry unchanged.",
        rfc: RFC5321,
        common_enhanced: &[(7, 1), (5, 1), (3, 4), (6, 0), (4, 6)],
    },
    CodeInfo {
        code: 555,
        name: "MAIL FROM/RCPT TO parameters not recognized or not implemented",
        meaning: "The MAIL FROM or RCPT TO command carries a parameter the server does not \
                  support.",
        causes: &[
            "A parameter for an extension the server did not advertise: SIZE, BODY=8BITMIME, \
             SMTPUTF8, RET, ENVID, NOTIFY or ORCPT (DSN), REQUIRETLS (`555 5.5.4`).",
            "A misspelled parameter.",
        ],
        retry: Retry::Never,
        advice: "Send only parameters for extensions listed in the EHLO reply.",
        rfc: RFC5321,
        common_enhanced: &[(5, 4), (5, 2)],
    },
    CodeInfo {
        code: 556,
        name: "Domain does not accept mail",
        meaning: "The recipient's domain has declared that it accepts no mail at all.",
        causes: &[
            "The domain publishes a null MX (`MX 0 .`, RFC 7505) (`556 5.1.10`).",
            "An intermediate relay learned that the domain accepts no mail.",
        ],
        retry: Retry::Never,
        advice: "The address is undeliverable; remove it. Check for a typing error in the \
                 domain.",
        rfc: "RFC 7504",
        common_enhanced: &[(1, 10)],
    },
];
