//! Sender authentication (SPF, DKIM, DMARC) and inbox/spam placement.
//!
//! When a message's data has ended, the receiving server knows the relay's address, its HELO
//! name, the envelope sender, the visible `From:` domain and the message's DKIM signature.
//! [`evaluate`] turns those into a verdict, looking everything up in DNS through a
//! [`Resolver`](dns::Resolver):
//!
//! - [`spf`]: the envelope sender's domain's real SPF record, evaluated against the relay's
//!   address (RFC 7208);
//! - [`dkim`]: the signature modelled (signed or not, body or headers altered in transit), its
//!   key really looked up at `<selector>._domainkey.<d=>` (RFC 6376);
//! - [`dmarc`]: the From domain's real DMARC record, with relaxed or strict alignment
//!   (RFC 7489);
//! - [`dns`]: the lookups, and [`StaticResolver`](dns::StaticResolver), an in-memory answer
//!   book.
//!
//! Everything is a pure function of its inputs: no clock, no network, no randomness (the DMARC
//! `pct=` draw is passed in).
//!
//! # The placement rule
//!
//! Taken in order, the first that applies decides:
//!
//! 1. DMARC fails and the policy to apply is `reject`: **reject** at end of data with
//!    `550 5.7.1`.
//! 2. DMARC fails and the policy to apply is `quarantine`: **spam**.
//! 3. DMARC passes: **inbox**. A pass means SPF or DKIM passed for a domain aligned with From,
//!    so an SPF `fail` alongside a DMARC pass is a message whose DKIM signature vouched for it
//!    (the forwarded-message case) and it is trusted.
//! 4. Otherwise (no DMARC record, `p=none` or a policy lowered to none by `pct=`, or a DMARC
//!    temporary or permanent error), SPF and DKIM decide on their own:
//!    - SPF `fail`: **spam** (the domain says this address may not send for it);
//!    - SPF `softfail` without a passing DKIM signature: **spam**;
//!    - anything else: **inbox**.
//!
//! "The policy to apply" is `p=` for the domain that published the record, `sp=` (when given)
//! for a subdomain covered by its organisational domain's record, lowered one step for a
//! message outside `pct=`. Temporary errors never defer the message here: a receiver that
//! wants `451 4.7.x` on DNS trouble can look at the results itself.
//!
//! The outcome keeps one plain sentence for each check and one for the placement, such as
//! "sender IP allowed by domain policy", "DKIM signature modelled as valid (domain key
//! published)", "visible From aligns with SPF or DKIM", "DMARC policy reject: visible From not
//! aligned"; each result also carries a more technical `reason`. What is modelled rather than
//! computed (the DKIM signature) says so.
//!
//! # Limits
//!
//! One DKIM signature per message; SPF checks the MAIL FROM identity (or HELO for a null
//! sender), not HELO separately; `ptr` never matches; the organisational domain comes from a
//! short built-in suffix list rather than the Public Suffix List. Each module documents its own
//! choices.

pub mod dkim;
pub mod dmarc;
pub mod dns;
mod placement;
pub mod spf;
mod tags;

pub use placement::{
    AuthInput, AuthOutcome, Placement, REJECT_CODE, REJECT_ENHANCED, evaluate, evaluate_with_dkim,
};
