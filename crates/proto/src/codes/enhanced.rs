//! The table of enhanced status codes, keyed by subject and detail and sorted by them.

use super::{EnhancedInfo, Wording};

const SUCCESS: &[u8] = &[2];
const TRANSIENT: &[u8] = &[4];
const PERMANENT: &[u8] = &[5];
const FAILURE: &[u8] = &[4, 5];
const SUCCESS_OR_PERMANENT: &[u8] = &[2, 5];
const ANY: &[u8] = &[2, 4, 5];

const RFC3463: &str = "RFC 3463";

pub(super) static ENHANCED_CODES: &[EnhancedInfo] = &[
    // X.0.Z: other or undefined status.
    EnhancedInfo {
        subject: 0,
        detail: 0,
        name: "Other undefined status",
        meaning: "Only the class is known: a transient or a permanent failure, with no more \
                  specific status.",
        causes: &["Generic failures (`451 4.0.0`, `550 5.0.0`)."],
        advice: "The code adds nothing to the reply code: act on the class and read the text.",
        rfc: RFC3463,
        classes: ANY,
        typical_replies: &[214, 220, 221, 250, 421, 451, 550, 554],
        class_notes: &[],
        success: Some(Wording {
            meaning: "Success, with no more specific status: the code adds nothing to the \
                      reply code.",
            causes: &[
                "Servers that put an enhanced code on every reply but have nothing more \
                 specific to say (`250 2.0.0 Ok`, `221 2.0.0 Bye`, `220 2.0.0 Ready to start \
                 TLS`).",
            ],
            advice: "Nothing to do: go on as the reply code says.",
        }),
    },
    // X.1.Z: addressing.
    EnhancedInfo {
        subject: 1,
        detail: 0,
        name: "Other address status",
        meaning: "Something about the sender or recipient address caused this status, with no \
                  more detail.",
        causes: &["An address problem that no more specific detail describes."],
        advice: "Check both the envelope sender and the recipient address.",
        rfc: RFC3463,
        classes: ANY,
        typical_replies: &[250, 451, 550, 553],
        class_notes: &[],
        success: Some(Wording {
            meaning: "The address was accepted; the code says only that the status concerns an \
                      address, usually the sender's after MAIL FROM.",
            causes: &["`250 2.1.0 Ok` or `250 2.1.0 Sender OK` after MAIL FROM."],
            advice: "Nothing to do: go on with the next command (RCPT TO after MAIL FROM).",
        }),
    },
    EnhancedInfo {
        subject: 1,
        detail: 1,
        name: "Bad destination mailbox address",
        meaning: "The recipient mailbox does not exist: the part left of the `@` is not known \
                  at the destination.",
        causes: &[
            "The recipient does not exist: a typing error, a deleted account, an old list \
             entry (Gmail: `550-5.1.1 The email account that you tried to reach does not \
             exist`; Microsoft: `550 5.1.1 RESOLVER.ADR.RecipNotFound`).",
            "Address verification that has not completed yet (Postfix: `450 4.1.1 ... \
             Recipient address rejected: unverified address`).",
        ],
        advice: "Check the address for typing errors. If it is right, the mailbox is gone: \
                 stop sending to it, since repeated mail to unknown users damages the sender's \
                 reputation.",
        rfc: RFC3463,
        classes: FAILURE,
        typical_replies: &[450, 451, 550],
        class_notes: &[
            (
                4,
                "transient: recipient verification could not finish or the directory was \
                 unreachable; retry.",
            ),
            (
                5,
                "a hard bounce: remove or suppress the address on every list that has it.",
            ),
        ],
        success: None,
    },
    EnhancedInfo {
        subject: 1,
        detail: 2,
        name: "Bad destination system address",
        meaning: "The recipient's domain (right of the `@`) does not exist or cannot receive \
                  mail.",
        causes: &[
            "A typing error in the domain (gmial.com), or a domain that expired or was never \
             registered.",
            "The domain has no MX or address records.",
            "A temporary DNS failure at the receiver (Postfix: `450 4.1.2 ... Recipient \
             address rejected: Domain not found`).",
        ],
        advice: "Check the spelling of the domain and look up its MX records. A domain that \
                 does not resolve is undeliverable; remove the address.",
        rfc: RFC3463,
        classes: FAILURE,
        typical_replies: &[450, 550, 554],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 1,
        detail: 3,
        name: "Bad destination mailbox address syntax",
        meaning: "The recipient address is not a syntactically valid address.",
        causes: &[
            "Missing angle brackets, spaces, two `@`, an unquoted special character or a \
             trailing dot (Postfix: `501 5.1.3 Bad recipient address syntax`).",
            "An address copied with surrounding text or a display name.",
        ],
        advice: "Fix the address: RCPT TO takes `<local-part@domain>` and nothing else.",
        rfc: RFC3463,
        classes: PERMANENT,
        typical_replies: &[501, 553],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 1,
        detail: 4,
        name: "Destination mailbox address ambiguous",
        meaning: "The address matches more than one mailbox at the destination.",
        causes: &["Fuzzy or heuristic address matching (by name) that found several candidates."],
        advice: "Use the recipient's exact address.",
        rfc: RFC3463,
        classes: FAILURE,
        typical_replies: &[550, 553],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 1,
        detail: 5,
        name: "Destination address valid",
        meaning: "The recipient address is valid and accepted.",
        causes: &["`250 2.1.5 Ok` or `250 2.1.5 Recipient OK` after RCPT TO."],
        advice: "Nothing to do.",
        rfc: RFC3463,
        classes: SUCCESS,
        typical_replies: &[250],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 1,
        detail: 6,
        name: "Destination mailbox has moved, no forwarding address",
        meaning: "The address was valid once, but mail for it is no longer accepted and there \
                  is no forwarding address.",
        causes: &["The person left the organisation or closed the account."],
        advice: "Remove the address; find the person's new address another way.",
        rfc: RFC3463,
        classes: PERMANENT,
        typical_replies: &[550, 551],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 1,
        detail: 7,
        name: "Bad sender's mailbox address syntax",
        meaning: "The sender address (MAIL FROM) is not a syntactically valid address.",
        causes: &[
            "A malformed envelope sender from an application or script (Postfix: `501 5.1.7 \
             Bad sender address syntax`).",
            "A bare local part without a domain in MAIL FROM.",
        ],
        advice: "Fix the sending application's envelope sender: `MAIL FROM:<user@example.com>`, \
                 or `MAIL FROM:<>` for bounces.",
        rfc: RFC3463,
        classes: FAILURE,
        typical_replies: &[501, 553],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 1,
        detail: 8,
        name: "Bad sender's system address",
        meaning: "The sender's domain does not exist or cannot receive mail, so bounces could \
                  not be returned.",
        causes: &[
            "The envelope sender's domain has no MX or address records (Postfix \
             `reject_unknown_sender_domain`: `450 4.1.8 ... Sender address rejected: Domain \
             not found`; sendmail: `553 5.1.8 ... Domain of sender address does not exist`).",
            "An internal-only or made-up sender domain (such as `example.local` or a server's \
             own host name) in MAIL FROM.",
            "A temporary DNS failure at the receiver.",
        ],
        advice: "Send with an envelope sender in a domain that resolves in public DNS and can \
                 receive bounces.",
        rfc: RFC3463,
        classes: FAILURE,
        typical_replies: &[450, 451, 501, 550, 553],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 1,
        detail: 9,
        name: "Message relayed to non-compliant mailer",
        meaning: "The address was valid, but the message went on to a system that cannot \
                  report delivery status, so no further status will come.",
        causes: &["A delivery status notification from a relay whose next hop lacks DSN support."],
        advice: "Nothing to do; the message was passed on, but final delivery cannot be \
                 confirmed.",
        rfc: "RFC 3886",
        classes: SUCCESS,
        typical_replies: &[],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 1,
        detail: 10,
        name: "Recipient address has null MX",
        meaning: "The recipient's domain publishes a null MX (`MX 0 .`): it accepts no mail at \
                  all.",
        causes: &[
            "A domain used only for the web or as a sending domain, marked with a null MX.",
            "A typing error that lands on such a domain.",
        ],
        advice: "The address is undeliverable; remove it and check the domain for typing \
                 errors.",
        rfc: "RFC 7505",
        classes: PERMANENT,
        typical_replies: &[550, 556],
        class_notes: &[],
        success: None,
    },
    // X.2.Z: mailbox.
    EnhancedInfo {
        subject: 2,
        detail: 0,
        name: "Other or undefined mailbox status",
        meaning: "The mailbox exists, but something about it caused this status.",
        causes: &[
            "Greylisting (postgrey: `450 4.2.0 Greylisted`).",
            "A mailbox problem that no more specific detail describes.",
        ],
        advice: "Retry a transient failure; for a permanent one, read the text.",
        rfc: RFC3463,
        classes: FAILURE,
        typical_replies: &[450, 550, 552],
        class_notes: &[(
            4,
            "often greylisting: retry from the same IP after a few minutes.",
        )],
        success: None,
    },
    EnhancedInfo {
        subject: 2,
        detail: 1,
        name: "Mailbox disabled, not accepting messages",
        meaning: "The mailbox exists but is not accepting messages, for now or for good.",
        causes: &[
            "The account was suspended or disabled (Gmail: `550 5.2.1 The email account that \
             you tried to reach is disabled`).",
            "The recipient receives mail too fast (Gmail: `450 4.2.1 The user you are trying \
             to contact is receiving mail at a rate that prevents additional messages from \
             being delivered`).",
        ],
        advice: "Retry a transient failure at a lower rate. Treat a permanent one as a hard \
                 bounce unless you know the account will come back.",
        rfc: RFC3463,
        classes: FAILURE,
        typical_replies: &[450, 550],
        class_notes: &[
            (
                4,
                "usually a per-recipient rate limit or a temporary suspension; send to this \
                 recipient less often.",
            ),
            (5, "the account is disabled: suppress the address."),
        ],
        success: None,
    },
    EnhancedInfo {
        subject: 2,
        detail: 2,
        name: "Mailbox full",
        meaning: "The recipient's mailbox is over its quota; the recipient could free space.",
        causes: &[
            "The mailbox is over quota (Gmail: `452-4.2.2 The email account that you tried to \
             reach is over quota` or `552-5.2.2 ...`).",
            "An abandoned mailbox that nobody empties.",
        ],
        advice: "Reach the recipient some other way. A mailbox that stays full for weeks is \
                 usually abandoned: suppress it.",
        rfc: RFC3463,
        classes: FAILURE,
        typical_replies: &[450, 452, 552],
        class_notes: &[
            (
                4,
                "keep retrying: the recipient may free space before the queue lifetime runs \
                 out.",
            ),
            (
                5,
                "RFC 3463 meant X.2.2 as a transient condition, so some senders retry even \
                 5.2.2 for a while; most bounce at once.",
            ),
        ],
        success: None,
    },
    EnhancedInfo {
        subject: 2,
        detail: 3,
        name: "Message length exceeds administrative limit",
        meaning: "The message is over a size limit set for this mailbox, which is lower than \
                  the system-wide limit.",
        causes: &["A per-mailbox or per-user size limit (`552 5.2.3`)."],
        advice: "Send a smaller message; share large files by link.",
        rfc: RFC3463,
        classes: PERMANENT,
        typical_replies: &[552],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 2,
        detail: 4,
        name: "Mailing list expansion problem",
        meaning: "The address is a mailing list that could not be expanded to its members.",
        causes: &[
            "The list's membership source (a directory or database) is unavailable.",
            "A list configuration error.",
        ],
        advice: "Retry a transient failure; report a permanent one to the list owner.",
        rfc: RFC3463,
        classes: FAILURE,
        typical_replies: &[450, 452, 550],
        class_notes: &[],
        success: None,
    },
    // X.3.Z: mail system.
    EnhancedInfo {
        subject: 3,
        detail: 0,
        name: "Other or undefined mail system status",
        meaning: "The destination system normally accepts mail, but something about it caused \
                  this status.",
        causes: &[
            "A temporary fault at the receiver (Gmail: `451 4.3.0 Mail server temporarily \
             rejected message`; Postfix: `451 4.3.0 Error: queue file write error`).",
            "A content filter or milter that failed or timed out.",
        ],
        advice: "Retry a transient failure; the problem is on the receiving side. If it lasts, \
                 tell their postmaster with the full reply text.",
        rfc: RFC3463,
        classes: ANY,
        typical_replies: &[221, 250, 421, 451, 550, 554],
        class_notes: &[],
        success: Some(Wording {
            meaning: "Success; the status concerns the destination mail system, with no more \
                      detail.",
            causes: &["A server that reports success with this subject instead of `2.0.0`."],
            advice: "Nothing to do: go on as the reply code says.",
        }),
    },
    EnhancedInfo {
        subject: 3,
        detail: 1,
        name: "Mail system full",
        meaning: "The receiving system is out of storage; the recipient cannot fix it by \
                  deleting mail.",
        causes: &[
            "The receiver's queue or spool disk is full (`452 4.3.1 Insufficient system \
                   storage`).",
        ],
        advice: "Retry later; the receiver's administrator must free space.",
        rfc: RFC3463,
        classes: TRANSIENT,
        typical_replies: &[452],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 3,
        detail: 2,
        name: "System not accepting network messages",
        meaning: "The host is not accepting mail: shutdown, overload, maintenance, or (as a \
                  permanent code) never.",
        causes: &[
            "The server is shutting down or in maintenance (`421 4.3.2 Service shutting \
             down`).",
            "A connection limit (Microsoft: `421 4.3.2 The maximum number of concurrent \
             connections has exceeded a limit, closing transmission channel`).",
            "A host that never accepts mail (`521 5.3.2`, RFC 7504).",
        ],
        advice: "Retry a transient failure later with fewer parallel connections; do not retry \
                 a host that said 5.3.2.",
        rfc: RFC3463,
        classes: FAILURE,
        typical_replies: &[421, 521, 554],
        class_notes: &[
            (
                4,
                "retry later and open fewer connections to this host at once.",
            ),
            (5, "this host never accepts mail; do not retry it."),
        ],
        success: None,
    },
    EnhancedInfo {
        subject: 3,
        detail: 3,
        name: "System not capable of selected features",
        meaning: "The message asks for features the destination does not support.",
        causes: &[
            "A gateway that cannot map a feature of one mail system onto another.",
            "Extensions such as DSN or delivery-by requested where the next hop lacks them.",
        ],
        advice: "Send without the features the destination does not support.",
        rfc: RFC3463,
        classes: FAILURE,
        typical_replies: &[554],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 3,
        detail: 4,
        name: "Message too big for system",
        meaning: "The message is larger than the system's per-message size limit.",
        causes: &[
            "The message exceeds the SIZE limit the server advertises in EHLO (Postfix: `552 \
             5.3.4 Message size exceeds fixed limit`).",
            "Attachments grow by about a third in base64, so a 20 MB file needs more than \
             26 MB.",
        ],
        advice: "Send a smaller message and share large files by link. Compare the message size \
                 with the SIZE value in the server's EHLO reply before sending.",
        rfc: RFC3463,
        classes: PERMANENT,
        typical_replies: &[552, 554],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 3,
        detail: 5,
        name: "System incorrectly configured",
        meaning: "The receiving system is not configured in a way that lets it accept this \
                  message.",
        causes: &[
            "A configuration error at the receiver (Postfix: `451 4.3.5 Server \
                   configuration error`).",
        ],
        advice: "Nothing to fix on the sending side; retry, and tell the receiver's postmaster \
                 if it lasts.",
        rfc: RFC3463,
        classes: FAILURE,
        typical_replies: &[451, 554],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 3,
        detail: 6,
        name: "Requested priority was changed",
        meaning: "The message was accepted, but with a different priority than requested.",
        causes: &["The MT-PRIORITY extension: the server lowered (or raised) the priority."],
        advice: "Nothing to do.",
        rfc: "RFC 6710",
        classes: SUCCESS,
        typical_replies: &[250],
        class_notes: &[],
        success: None,
    },
    // X.4.Z: network and routing.
    EnhancedInfo {
        subject: 4,
        detail: 0,
        name: "Other or undefined network or routing status",
        meaning: "Something went wrong with the network or routing, with no more detail.",
        causes: &["A network or routing problem no more specific detail describes."],
        advice: "Retry a transient failure; for a permanent one, check the recipient domain's \
                 DNS records.",
        rfc: RFC3463,
        classes: FAILURE,
        typical_replies: &[451, 550, 554],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 4,
        detail: 1,
        name: "No answer from host",
        meaning: "The connection attempt to the next host was not answered.",
        causes: &[
            "Reported by the sending MTA itself: the connection to the MX timed out or was \
             refused (the host is down, or a firewall drops port 25).",
            "Many hosting and cloud providers block outgoing connections to port 25.",
            "Microsoft 365: `550 5.4.1 Recipient address rejected: Access denied` \
             (directory-based edge blocking: the recipient does not exist in that tenant).",
        ],
        advice: "From the sending host, test that port 25 of the recipient's MX is reachable; \
                 ask the hosting provider to open outgoing port 25 or relay through a \
                 smarthost.",
        rfc: RFC3463,
        classes: FAILURE,
        typical_replies: &[451, 550],
        class_notes: &[(
            5,
            "from Microsoft 365 this means the recipient does not exist; treat it like \
             5.1.1.",
        )],
        success: None,
    },
    EnhancedInfo {
        subject: 4,
        detail: 2,
        name: "Bad connection",
        meaning: "The connection was made but the transaction could not be completed: a \
                  time-out or a broken connection.",
        causes: &[
            "A time-out in the middle of the session (Postfix: `421 4.4.2 ... Error: timeout \
             exceeded`).",
            "The connection was reset, or the TLS handshake failed.",
            "Large messages that stall: a path MTU problem or a firewall inspecting SMTP.",
        ],
        advice: "Retry. If it happens again with large messages or after STARTTLS, look at MTU, \
                 firewalls and TLS versions and ciphers on the path.",
        rfc: RFC3463,
        classes: TRANSIENT,
        typical_replies: &[421, 451],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 4,
        detail: 3,
        name: "Directory server failure",
        meaning: "A directory service needed for the delivery, usually DNS, was unavailable.",
        causes: &[
            "The receiver could not look up the sender's domain or the client's IP in DNS.",
            "The sending MTA's own resolver failed (`4.4.3 Host or domain name not found. \
             Name service error ... try again`).",
            "An LDAP or other directory used for recipient lookup is down.",
        ],
        advice: "Retry. Check that your own resolver works, and that your domain's \
                 authoritative name servers answer for MX, A and PTR records from outside.",
        rfc: RFC3463,
        classes: FAILURE,
        typical_replies: &[451, 550],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 4,
        detail: 4,
        name: "Unable to route",
        meaning: "The next hop could not be determined: the routing information (MX or address \
                  records) is missing.",
        causes: &[
            "The recipient domain exists but has no MX and no address records (DNS returns \
             only an SOA).",
            "A misconfigured transport or relay map on the sending side.",
        ],
        advice: "Look up the recipient domain's MX and A/AAAA records; if there are none, the \
                 domain cannot receive mail.",
        rfc: RFC3463,
        classes: FAILURE,
        typical_replies: &[550, 554],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 4,
        detail: 5,
        name: "Mail system congestion",
        meaning: "The mail system is too busy to deliver the message now.",
        causes: &["Overload at the receiver or an intermediate relay."],
        advice: "Retry later with fewer parallel connections.",
        rfc: RFC3463,
        classes: TRANSIENT,
        typical_replies: &[421, 451, 452],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 4,
        detail: 6,
        name: "Routing loop detected",
        meaning: "The message was forwarded too many times (too many Received headers).",
        causes: &[
            "An MX or relay configuration that sends mail back to where it came from.",
            "Forwarding rules between two mailboxes that point at each other.",
            "Some servers say 5.4.0 for this (Postfix: `554 5.4.0 Error: too many hops`; \
             Microsoft: `554 5.4.14 Hop count exceeded`).",
        ],
        advice: "Look at the Received headers of the bounced message to find the loop, then fix \
                 the MX, relay or forwarding configuration.",
        rfc: RFC3463,
        classes: FAILURE,
        typical_replies: &[550, 554],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 4,
        detail: 7,
        name: "Delivery time expired",
        meaning: "The message stayed in a queue too long and delivery attempts were given up \
                  (or, as a transient code, are delayed).",
        causes: &[
            "Reported by an MTA, usually the sender's own, in a delay warning (4.4.7) or in \
             the final bounce (5.4.7) after the queue lifetime (Postfix \
             `maximal_queue_lifetime`, 5 days by default).",
            "The real cause is whatever made the earlier attempts fail.",
        ],
        advice: "Find the deferral reasons logged for the earlier attempts; they say what \
                 actually failed.",
        rfc: RFC3463,
        classes: FAILURE,
        typical_replies: &[],
        class_notes: &[],
        success: None,
    },
    // X.5.Z: mail delivery protocol.
    EnhancedInfo {
        subject: 5,
        detail: 0,
        name: "Other or undefined protocol status",
        meaning: "Something was wrong with the SMTP exchange, with no more detail.",
        causes: &["Generic protocol replies (`554 5.5.0 No recipients have been specified`)."],
        advice: "Read the text; a protocol failure usually means the client must change what it \
                 sends.",
        rfc: RFC3463,
        classes: ANY,
        typical_replies: &[250, 252, 451, 452, 454, 501, 502, 503, 554],
        class_notes: &[],
        success: Some(Wording {
            meaning: "The command was accepted; the status concerns the SMTP exchange, with no \
                      more detail.",
            causes: &["`250 2.5.0` acknowledgements on some servers, and `252 2.5.0` for VRFY."],
            advice: "Nothing to do: go on with the next command.",
        }),
    },
    EnhancedInfo {
        subject: 5,
        detail: 1,
        name: "Invalid command",
        meaning: "A command was out of sequence or is not supported.",
        causes: &[
            "Commands in the wrong order: RCPT before MAIL, DATA before an accepted RCPT \
             (Postfix: `503 5.5.1 Error: need MAIL command`).",
            "DATA after every recipient was refused (`554 5.5.1 Error: no valid \
             recipients`).",
            "MAIL without authenticating on a submission server (Gmail: `530-5.5.1 \
             Authentication Required`).",
            "A command the server does not implement (`502 5.5.1`).",
        ],
        advice: "Fix the client's command sequence; authenticate first where required.",
        rfc: RFC3463,
        classes: PERMANENT,
        typical_replies: &[500, 501, 502, 503, 530, 550, 554, 555],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 5,
        detail: 2,
        name: "Syntax error",
        meaning: "A command could not be interpreted: wrong syntax or unknown command.",
        causes: &[
            "A misspelled command or wrong argument syntax.",
            "Undecodable base64 in an AUTH response (`501 5.5.2`).",
            "A HELO name that is not fully qualified (Postfix: `504 5.5.2 ... Helo command \
             rejected: need fully-qualified hostname`).",
        ],
        advice: "Fix the command the client sends.",
        rfc: RFC3463,
        classes: PERMANENT,
        typical_replies: &[500, 501, 502, 504, 550, 555],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 5,
        detail: 3,
        name: "Too many recipients",
        meaning: "More recipients were given than the server takes in one transaction.",
        causes: &[
            "A per-message recipient limit (Postfix `smtpd_recipient_limit`, 1000 by \
             default; providers often allow far fewer).",
            "A per-session or per-hour recipient limit for the client.",
        ],
        advice: "Deliver to the accepted recipients, then send the remaining ones in another \
                 transaction. Lower the number of recipients per message in the sending MTA's \
                 configuration.",
        rfc: RFC3463,
        classes: FAILURE,
        typical_replies: &[451, 452, 552],
        class_notes: &[
            (
                4,
                "send the remaining recipients in a new transaction right away; this is not \
                 a reason to wait (RFC 5321, section 4.5.3.1.10).",
            ),
            (5, "split the message into batches with fewer recipients."),
        ],
        success: None,
    },
    EnhancedInfo {
        subject: 5,
        detail: 4,
        name: "Invalid command arguments",
        meaning: "A valid command was given arguments that are out of range or name unsupported \
                  features.",
        causes: &[
            "An AUTH mechanism the server does not offer (`504 5.5.4`).",
            "A MAIL FROM or RCPT TO parameter for an extension the server did not advertise \
             (`555 5.5.4`).",
            "An invalid HELO or EHLO argument (`501 5.5.4`).",
        ],
        advice: "Only use mechanisms and parameters listed in the server's EHLO reply.",
        rfc: RFC3463,
        classes: FAILURE,
        typical_replies: &[501, 504, 550, 555],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 5,
        detail: 5,
        name: "Wrong protocol version",
        meaning: "The two systems could not agree on a protocol version.",
        causes: &["A client and server that share no protocol version or mode."],
        advice: "Check client and server configuration for the protocol they are set to use.",
        rfc: RFC3463,
        classes: FAILURE,
        typical_replies: &[],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 5,
        detail: 6,
        name: "Authentication exchange line is too long",
        meaning: "An AUTH response was longer than the server accepts for that mechanism.",
        causes: &[
            "Large tokens (OAuth bearer tokens, Kerberos tickets) sent as one line \
             (`500 5.5.6 Authentication Exchange line is too long`).",
            "Some servers use it for any over-long line.",
        ],
        advice: "Use the initial-response form less, or a mechanism with shorter responses; \
                 check the server's line length limit.",
        rfc: "RFC 4954",
        classes: FAILURE,
        typical_replies: &[500],
        class_notes: &[],
        success: None,
    },
    // X.6.Z: message content or media.
    EnhancedInfo {
        subject: 6,
        detail: 0,
        name: "Other or undefined media error",
        meaning: "Something about the message content made it undeliverable, with no more \
                  detail.",
        causes: &[
            "Malformed MIME structure or headers.",
            "Bare CR or LF line endings instead of CRLF (`554 5.6.0`).",
        ],
        advice: "Check the message for standards conformance: CRLF line endings, valid MIME, \
                 required headers (From, Date).",
        rfc: RFC3463,
        classes: FAILURE,
        typical_replies: &[550, 554],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 6,
        detail: 1,
        name: "Media not supported",
        meaning: "The message's media type is not supported by the delivery protocol or the \
                  next system.",
        causes: &["Attachment types blocked by policy (executables, some archives)."],
        advice: "Send the content in another form or share it by link.",
        rfc: RFC3463,
        classes: PERMANENT,
        typical_replies: &[550, 554],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 6,
        detail: 2,
        name: "Conversion required and prohibited",
        meaning: "The content had to be converted for delivery, but conversion is not allowed.",
        causes: &["The sender or the sending host's policy forbids the conversion needed."],
        advice: "Send the content in a form the destination accepts as is.",
        rfc: RFC3463,
        classes: PERMANENT,
        typical_replies: &[554],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 6,
        detail: 3,
        name: "Conversion required but not supported",
        meaning: "The content must be converted to be forwarded, but no host on the path can \
                  do it.",
        causes: &[
            "8-bit content (BODY=8BITMIME) for a next hop without 8BITMIME, through a gateway \
             that cannot downgrade it to 7 bits.",
            "Internationalised (UTF-8) headers for a next hop without SMTPUTF8.",
        ],
        advice: "Send the message in 7-bit MIME (quoted-printable or base64), or with ASCII \
                 addresses and headers.",
        rfc: RFC3463,
        classes: FAILURE,
        typical_replies: &[554],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 6,
        detail: 4,
        name: "Conversion with loss performed",
        meaning: "The message could only be carried with a conversion that loses content, and \
                  the sender prohibited such a conversion, so it was not delivered.",
        causes: &[
            "A gateway that cannot carry the content intact, for a message whose sender \
             prohibited conversion with loss (`554 5.6.4`).",
        ],
        advice: "Send the content in a form that needs no conversion, such as 7-bit MIME with \
                 quoted-printable or base64.",
        rfc: RFC3463,
        classes: SUCCESS_OR_PERMANENT,
        typical_replies: &[250, 554],
        class_notes: &[],
        success: Some(Wording {
            meaning: "The message was delivered, but a conversion lost some of its content.",
            causes: &[
                "A gateway downgraded content it could not carry intact (`250 2.6.4 MIME header \
                 conversion with loss performed`).",
            ],
            advice: "Usually nothing; if exact content matters, send in a form that needs no \
                     conversion.",
        }),
    },
    EnhancedInfo {
        subject: 6,
        detail: 5,
        name: "Conversion failed",
        meaning: "A required conversion of the content did not succeed.",
        causes: &["Malformed content that a converting gateway could not process."],
        advice: "Check the message encoding and MIME structure.",
        rfc: RFC3463,
        classes: FAILURE,
        typical_replies: &[554],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 6,
        detail: 6,
        name: "Message content not available",
        meaning: "The message content could not be fetched from a remote system.",
        causes: &[
            "BURL: the submission server could not fetch the message from the IMAP URL \
             (`554 5.6.6 IMAP URL resolution failed`).",
        ],
        advice: "Check the IMAP URL and the trust between submission and IMAP servers.",
        rfc: "RFC 4468",
        classes: FAILURE,
        typical_replies: &[554],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 6,
        detail: 7,
        name: "Non-ASCII addresses not permitted for that sender/recipient",
        meaning: "An address with non-ASCII characters was used where it is not allowed.",
        causes: &[
            "A UTF-8 address in MAIL FROM or RCPT TO without the SMTPUTF8 parameter, or to a \
             server that does not support SMTPUTF8 (`553 5.6.7`).",
        ],
        advice: "Send with SMTPUTF8 to servers that advertise it, or use an ASCII address.",
        rfc: "RFC 6531",
        classes: PERMANENT,
        typical_replies: &[550, 553],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 6,
        detail: 8,
        name: "UTF-8 string reply is required, but not permitted by the SMTP client",
        meaning: "The server would have to reply with UTF-8 (to show a mailbox name), but the \
                  client did not allow UTF-8 replies.",
        causes: &["VRFY or EXPN for an internationalised mailbox without SMTPUTF8."],
        advice: "Use SMTPUTF8 when working with internationalised addresses.",
        rfc: "RFC 6531",
        classes: PERMANENT,
        typical_replies: &[550, 553],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 6,
        detail: 9,
        name: "UTF-8 header message cannot be transferred",
        meaning: "The message has UTF-8 headers and cannot be transferred to one or more \
                  recipients, so it is rejected.",
        causes: &["A message needing SMTPUTF8 on a path where a hop does not support it."],
        advice: "Send with ASCII headers and addresses to recipients whose servers lack \
                 SMTPUTF8.",
        rfc: "RFC 6531",
        classes: PERMANENT,
        typical_replies: &[550, 554],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 6,
        detail: 10,
        name: "UTF-8 string reply is required (duplicate of X.6.8)",
        meaning: "Registered with the same meaning as X.6.8 and deprecated; servers should send \
                  X.6.8.",
        causes: &["An older SMTPUTF8 implementation."],
        advice: "Treat it as X.6.8.",
        rfc: "RFC 6531",
        classes: PERMANENT,
        typical_replies: &[550, 553],
        class_notes: &[],
        success: None,
    },
    // X.7.Z: security or policy.
    EnhancedInfo {
        subject: 7,
        detail: 0,
        name: "Other or undefined security status",
        meaning: "Something about security or policy caused this status, with no more detail \
                  (sometimes on purpose, so as not to reveal the policy).",
        causes: &[
            "`530 5.7.0 Must issue a STARTTLS command first` or `530 5.7.0 Authentication \
             required`.",
            "`454 4.7.0 Temporary authentication failure`.",
            "Rate or reputation limits (Gmail: `421-4.7.0 Try again later, closing \
             connection`), or a session closed after too many errors.",
        ],
        advice: "Read the text. For STARTTLS or authentication requirements, enable them in the \
                 client; for rate limits, slow down.",
        rfc: RFC3463,
        classes: ANY,
        typical_replies: &[235, 421, 450, 451, 454, 501, 530, 550, 554],
        class_notes: &[
            (
                4,
                "usually rate limiting or a temporary reputation block: retry later with \
                 fewer connections and a lower rate.",
            ),
            (
                5,
                "a policy refusal; the text normally says which requirement (TLS, \
                 authentication) was not met.",
            ),
        ],
        success: Some(Wording {
            meaning: "Success; the status concerns security or policy, with no more detail.",
            causes: &["`235 2.7.0 Authentication successful` after AUTH."],
            advice: "Nothing to do: go on (after 235, with MAIL FROM).",
        }),
    },
    EnhancedInfo {
        subject: 7,
        detail: 1,
        name: "Delivery not authorized, message refused",
        meaning: "The sender is not allowed to send to this destination: per-host or \
                  per-recipient filtering, relaying rules or reputation.",
        causes: &[
            "Relaying denied: mail for a domain the server is not responsible for, without \
             authenticating (`550 5.7.1 Relaying denied`; Postfix: `454 4.7.1 Relay access \
             denied`).",
            "The sending IP is on a DNS blocklist (`554 5.7.1 Service unavailable; Client host \
             [192.0.2.1] blocked using zen.spamhaus.org`).",
            "The message was classified as spam or matched a content rule (Gmail: \
             `550-5.7.1 ... likely unsolicited mail`; rules of a Google Workspace domain end \
             in `gcdp`).",
            "Greylisting (`451 4.7.1 Greylisted, please try again later`).",
            "The client's IP has no resolvable host name (Postfix: `450 4.7.1 Client host \
             rejected: cannot find your hostname`).",
        ],
        advice: "For relaying, authenticate or deliver to the recipient's own MX. For \
                 blocklists, look up the sending IP (Spamhaus, Barracuda, SpamCop), fix the \
                 cause and request delisting. For content, check links, attachments and \
                 SPF/DKIM/DMARC results. Give the receiver's postmaster the full reply text.",
        rfc: RFC3463,
        classes: FAILURE,
        typical_replies: &[450, 451, 454, 550, 551, 553, 554],
        class_notes: &[
            (
                4,
                "usually greylisting: retry after the greylist delay, typically 1 to 15 \
                 minutes, from the same IP (a pool that rotates IPs starts the delay over). \
                 Otherwise a temporary reputation or DNS check.",
            ),
            (
                5,
                "a policy refusal (relaying, blocklist, content, sender or recipient rules); \
                 do not retry unchanged.",
            ),
        ],
        success: None,
    },
    EnhancedInfo {
        subject: 7,
        detail: 2,
        name: "Mailing list expansion prohibited",
        meaning: "The sender may not send to this mailing list.",
        causes: &["A list that accepts posts only from members or moderators."],
        advice: "Subscribe, send from the subscribed address, or contact the list owner.",
        rfc: RFC3463,
        classes: PERMANENT,
        typical_replies: &[550],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 7,
        detail: 3,
        name: "Security conversion required but not possible",
        meaning: "Delivery needed a conversion from one secure messaging protocol to another, \
                  which was not possible.",
        causes: &["A gateway between secure messaging systems without the needed conversion."],
        advice: "Send in a security format the destination supports.",
        rfc: RFC3463,
        classes: PERMANENT,
        typical_replies: &[554],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 7,
        detail: 4,
        name: "Security features not supported",
        meaning: "The message asked for security features the delivery protocol cannot \
                  provide.",
        causes: &["A security feature requested that the path does not support."],
        advice: "Send without the unsupported feature, or by another route.",
        rfc: RFC3463,
        classes: PERMANENT,
        typical_replies: &[504],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 7,
        detail: 5,
        name: "Cryptographic failure",
        meaning: "A system that should validate or decrypt the message (or the connection) \
                  could not, because a key or certificate was missing or invalid.",
        causes: &[
            "A TLS certificate that fails verification when policy requires it (DANE, \
             MTA-STS, a `verify` security level); Postfix logs `dsn=4.7.5` with `Server \
             certificate not verified`.",
            "An S/MIME or PGP gateway without the key it needs.",
        ],
        advice: "Check the certificate chain, host names and expiry of the server's \
                 certificate, and that MTA-STS policies and TLSA records match the certificate \
                 in use.",
        rfc: RFC3463,
        classes: FAILURE,
        typical_replies: &[],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 7,
        detail: 6,
        name: "Cryptographic algorithm not supported",
        meaning: "The algorithm needed to validate or decrypt the message is not supported.",
        causes: &["A signature or encryption algorithm the receiving system does not implement."],
        advice: "Use a widely supported algorithm.",
        rfc: RFC3463,
        classes: FAILURE,
        typical_replies: &[],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 7,
        detail: 7,
        name: "Message integrity failure",
        meaning: "The message could not be validated because it was corrupted or altered in \
                  transit.",
        causes: &["Content changed after signing, by a relay, a list or a filter."],
        advice: "Find the hop that changes the message and stop it from doing so.",
        rfc: RFC3463,
        classes: FAILURE,
        typical_replies: &[],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 7,
        detail: 8,
        name: "Authentication credentials invalid",
        meaning: "AUTH failed because the credentials are wrong or insufficient.",
        causes: &[
            "A wrong user name or password; many providers want the full email address as \
             user name.",
            "An account with two-factor authentication that needs an application password \
             (Gmail: `535-5.7.8 Username and Password not accepted`).",
            "An expired OAuth token.",
        ],
        advice: "Fix the credentials; the client should ask the user for new ones. Do not retry \
                 in a loop: repeated failures get the IP blocked.",
        rfc: "RFC 4954",
        classes: PERMANENT,
        typical_replies: &[535, 554],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 7,
        detail: 9,
        name: "Authentication mechanism is too weak",
        meaning: "The chosen AUTH mechanism is weaker than the server's policy for this user \
                  allows.",
        causes: &[
            "Password mechanisms where the provider requires application passwords or OAuth \
             (Gmail: `534-5.7.9 Application-specific password required`).",
        ],
        advice: "Use a stronger mechanism, an application password or OAuth (XOAUTH2).",
        rfc: "RFC 4954",
        classes: PERMANENT,
        typical_replies: &[534],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 7,
        detail: 10,
        name: "Encryption needed",
        meaning: "A strong privacy layer such as TLS is needed to use the requested \
                  authentication mechanism.",
        causes: &["A clear-text mechanism (PLAIN, LOGIN) used without TLS."],
        advice: "Issue STARTTLS before AUTH, or use a stronger mechanism.",
        rfc: "RFC 5248",
        classes: PERMANENT,
        typical_replies: &[],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 7,
        detail: 11,
        name: "Encryption required for requested authentication mechanism",
        meaning: "The chosen AUTH mechanism may only be used over an encrypted connection.",
        causes: &["AUTH PLAIN or LOGIN sent before STARTTLS (`538 5.7.11`)."],
        advice: "Issue STARTTLS (or use implicit TLS on port 465) and authenticate after the \
                 handshake.",
        rfc: "RFC 4954",
        classes: PERMANENT,
        typical_replies: &[538],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 7,
        detail: 12,
        name: "A password transition is needed",
        meaning: "The user must authenticate once with PLAIN before the requested mechanism \
                  works.",
        causes: &["Credentials stored in a form the requested mechanism cannot use yet."],
        advice: "Authenticate once with AUTH PLAIN over TLS.",
        rfc: "RFC 4954",
        classes: TRANSIENT,
        typical_replies: &[432],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 7,
        detail: 13,
        name: "User account disabled",
        meaning: "Authentication succeeded, but the account is disabled; the failure lasts \
                  until an administrator re-enables it.",
        causes: &[
            "An account disabled for non-payment, abuse or a suspected break-in.",
            "Some receivers use it for a disabled recipient mailbox.",
        ],
        advice: "Contact the provider or administrator; retyping the password will not help. \
                 For a recipient, treat it as a hard bounce.",
        rfc: "RFC 5248",
        classes: PERMANENT,
        typical_replies: &[535, 550],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 7,
        detail: 14,
        name: "Trust relationship required",
        meaning: "The submission server needs a configured trust relationship with a \
                  third-party server to get the message content.",
        causes: &[
            "BURL without trust between the submission and IMAP servers (`554 5.7.14`).",
            "Gmail uses `534-5.7.14 Please log in via your web browser` when a sign-in needs \
             interactive confirmation.",
        ],
        advice: "Configure the trust between the servers; for Gmail, sign in through a browser \
                 or use an application password or OAuth.",
        rfc: "RFC 5248",
        classes: PERMANENT,
        typical_replies: &[534, 535, 554],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 7,
        detail: 15,
        name: "Priority level is too low",
        meaning: "The requested priority is below the lowest the server accepts, possibly only \
                  for now.",
        causes: &["MT-PRIORITY: the server is accepting only higher-priority mail."],
        advice: "Retry later, or with a higher priority if entitled to it.",
        rfc: "RFC 6710",
        classes: FAILURE,
        typical_replies: &[450, 550],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 7,
        detail: 16,
        name: "Message is too big for the specified priority",
        meaning: "The message is too large for the requested priority level.",
        causes: &["MT-PRIORITY with size limits per priority."],
        advice: "Send with a lower priority, or a smaller message.",
        rfc: "RFC 6710",
        classes: FAILURE,
        typical_replies: &[452, 552],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 7,
        detail: 17,
        name: "Mailbox owner has changed",
        meaning: "The recipient mailbox has not had the same owner since the date the sender \
                  gave (RRVS).",
        causes: &["An address that was reassigned to someone else."],
        advice: "Do not send; confirm the recipient's current address.",
        rfc: "RFC 7293",
        classes: PERMANENT,
        typical_replies: &[550],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 7,
        detail: 18,
        name: "Domain owner has changed",
        meaning: "The recipient's domain changed owner since the date the sender gave (RRVS).",
        causes: &["A domain that expired and was registered by someone else."],
        advice: "Do not send; confirm the recipient's current address.",
        rfc: "RFC 7293",
        classes: PERMANENT,
        typical_replies: &[550],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 7,
        detail: 19,
        name: "RRVS test cannot be completed",
        meaning: "The receiver cannot check the RRVS date because it did not record the needed \
                  time.",
        causes: &["RRVS requested from a system without ownership history."],
        advice: "Decide whether to send again without RRVS protection.",
        rfc: "RFC 7293",
        classes: PERMANENT,
        typical_replies: &[550],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 7,
        detail: 20,
        name: "No passing DKIM signature found",
        meaning: "The message has no DKIM signature that verifies, and local policy requires \
                  one.",
        causes: &[
            "The message is not signed.",
            "The signature broke: a relay, list or filter changed the signed headers or body, \
             or the public key in DNS does not match the signing key.",
        ],
        advice: "Sign with DKIM and check the selector's DNS record; send a test message and \
                 read its Authentication-Results header.",
        rfc: "RFC 7372",
        classes: PERMANENT,
        typical_replies: &[550],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 7,
        detail: 21,
        name: "No acceptable DKIM signature found",
        meaning: "DKIM signatures verify, but none is acceptable to local policy.",
        causes: &[
            "A weak key (such as RSA shorter than 1024 bits) or a signature by a domain the \
             receiver does not accept.",
        ],
        advice: "Sign with a 2048-bit RSA key by the domain in the From header.",
        rfc: "RFC 7372",
        classes: PERMANENT,
        typical_replies: &[550],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 7,
        detail: 22,
        name: "No valid author-matched DKIM signature found",
        meaning: "DKIM signatures verify, but none is by the domain of the author (the From \
                  header).",
        causes: &[
            "An email service provider that signs with its own domain instead of the \
             sender's.",
        ],
        advice: "Have the provider sign with your domain (publish their selector's key under \
                 your domain).",
        rfc: "RFC 7372",
        classes: PERMANENT,
        typical_replies: &[550],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 7,
        detail: 23,
        name: "SPF validation failed",
        meaning: "The SPF check produced `fail`: the sending IP is not authorised by the \
                  envelope sender's domain.",
        causes: &[
            "A new sending service or relay not added to the domain's SPF record.",
            "Forwarding: the forwarder's IP sends with the original envelope sender.",
            "An SPF record ending in `-all` that misses some of the domain's own servers.",
        ],
        advice: "Add every IP or service that sends for the domain to its SPF record; \
                 forwarders should rewrite the envelope sender (SRS).",
        rfc: "RFC 7372; RFC 7208",
        classes: PERMANENT,
        typical_replies: &[550],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 7,
        detail: 24,
        name: "SPF validation error",
        meaning: "Evaluating SPF ended in an error: a temporary DNS failure or a broken record.",
        causes: &[
            "A DNS time-out while evaluating SPF (temperror).",
            "A broken SPF record (permerror): a syntax error, more than one SPF record, or \
             more than 10 DNS-querying terms (include, a, mx, ptr, exists, redirect).",
        ],
        advice: "Check the SPF record with a validator; flatten includes to stay under 10 \
                 lookups; publish exactly one `v=spf1` record.",
        rfc: "RFC 7372; RFC 7208",
        classes: FAILURE,
        typical_replies: &[451, 550],
        class_notes: &[
            (4, "a temporary DNS failure; retry."),
            (5, "the record is broken; fix it before sending again."),
        ],
        success: None,
    },
    EnhancedInfo {
        subject: 7,
        detail: 25,
        name: "Reverse DNS validation failed",
        meaning: "The sending IP failed a reverse DNS check: no PTR record, or a PTR name that \
                  does not resolve back to the IP.",
        causes: &[
            "No PTR record for the sending IP (Gmail: `550-5.7.25 The IP address sending this \
             message does not have a PTR record setup`).",
            "A PTR name that does not resolve back to the same IP, or a generic name of a \
             dynamic range.",
        ],
        advice: "Have whoever controls the IP (the hosting provider) set a PTR record to a host \
                 name that resolves back to the IP, and use that name in HELO.",
        rfc: "RFC 7372",
        classes: PERMANENT,
        typical_replies: &[550],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 7,
        detail: 26,
        name: "Multiple authentication checks failed",
        meaning: "The message failed more than one authentication check (SPF, DKIM, DMARC), \
                  against local policy.",
        causes: &[
            "Gmail: `550-5.7.26 This mail has been blocked because the sender is \
             unauthenticated. Gmail requires all senders to authenticate with either SPF or \
             DKIM.`",
            "Gmail: `550-5.7.26 Unauthenticated email from example.com is not accepted due to \
             domain's DMARC policy`: DMARC failed and the From domain publishes `p=reject` \
             or `p=quarantine`.",
            "Forwarding or mailing lists that break DKIM and SPF at the same time.",
        ],
        advice: "Publish SPF for every sending IP, sign with DKIM by the From domain (or an \
                 aligned one), and publish DMARC. Check the Authentication-Results header of a \
                 test message to a Gmail account. Forwarders should use SRS and ARC.",
        rfc: "RFC 7372",
        classes: PERMANENT,
        typical_replies: &[550],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 7,
        detail: 27,
        name: "Sender address has null MX",
        meaning: "The envelope sender's domain publishes a null MX, so it could not receive a \
                  bounce; the receiver refuses such mail.",
        causes: &[
            "A sending domain marked as accepting no mail.",
            "Gmail uses 4.7.27 and 5.7.27 with another meaning: SPF did not pass for the \
             sending domain under its bulk sender rules.",
        ],
        advice: "Send with an envelope sender whose domain accepts mail. For Gmail, fix SPF for \
                 the envelope sender's domain.",
        rfc: "RFC 7505",
        classes: FAILURE,
        typical_replies: &[421, 550],
        class_notes: &[(
            4,
            "Gmail: rate limited because SPF did not pass; fix SPF and the rate recovers.",
        )],
        success: None,
    },
    EnhancedInfo {
        subject: 7,
        detail: 28,
        name: "Mail flood detected",
        meaning: "The message looks like part of a flood of similar abusive messages; \
                  providers use it for rate limiting by sending IP or domain.",
        causes: &[
            "Gmail: `421-4.7.28 Our system has detected an unusual rate of unsolicited mail \
             originating from your IP address` (or from your DKIM or SPF domain): the sending \
             IP or domain exceeded the rate Gmail accepts for its reputation.",
            "A sudden volume spike, or a new IP or domain sending in bulk without warming up.",
            "Many complaints (a spam rate above 0.3% in Google Postmaster Tools), or a \
             compromised account or web form sending spam.",
        ],
        advice: "Slow down: lower the rate and the parallel connections to that provider, \
                 spread large sends over hours, and warm new IPs up gradually. Check that SPF, \
                 DKIM and DMARC pass and align, watch reputation and spam rate in the \
                 provider's postmaster tools, and stop mailing recipients who never engage.",
        rfc: "IANA SMTP Enhanced Status Codes registry",
        classes: FAILURE,
        typical_replies: &[421, 450, 550],
        class_notes: &[
            (
                4,
                "rate limited: deferred mail is accepted later if the rate drops; retry with \
                 longer intervals, not faster.",
            ),
            (
                5,
                "blocked: fix the reputation problem before sending more to this provider.",
            ),
        ],
        success: None,
    },
    EnhancedInfo {
        subject: 7,
        detail: 29,
        name: "ARC validation failure",
        meaning: "The message's ARC (Authenticated Received Chain) headers failed validation.",
        causes: &["An intermediary that broke or mis-signed the ARC chain."],
        advice: "Intermediaries that modify messages (lists, forwarders) should add valid ARC \
                 headers.",
        rfc: "RFC 8617",
        classes: PERMANENT,
        typical_replies: &[550],
        class_notes: &[],
        success: None,
    },
    EnhancedInfo {
        subject: 7,
        detail: 30,
        name: "REQUIRETLS support required",
        meaning: "The message requires REQUIRETLS, but the next hop does not support it, so it \
                  cannot be forwarded.",
        causes: &[
            "A message sent with REQUIRETLS to a path without REQUIRETLS and TLS with a \
             verified certificate.",
            "Gmail uses 4.7.30 and 5.7.30 with another meaning: DKIM did not pass for the \
             sending domain under its bulk sender rules.",
        ],
        advice: "Send without REQUIRETLS, or over a path that supports it. For Gmail, sign \
                 with DKIM by the From domain.",
        rfc: "RFC 8689",
        classes: FAILURE,
        typical_replies: &[421, 550],
        class_notes: &[(
            4,
            "Gmail: rate limited because DKIM did not pass; fix DKIM signing.",
        )],
        success: None,
    },
];
