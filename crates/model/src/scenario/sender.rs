//! `[[senders]]`: the applications that submit mail, how often, to whom, and how big.

use std::path::PathBuf;

use serde::Deserialize;

use super::dist::{Count, Dist};
use super::units::{Bytes, Duration, Probability, Rate};

/// One sending application.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sender {
    /// A name for reports.
    pub name: String,
    /// The envelope sender's domain (`MAIL FROM:<local@domain>`), whose SPF record is checked.
    pub domain: String,
    /// The visible `From:` domain that DMARC aligns against; the envelope domain if absent.
    #[serde(default)]
    pub from_domain: Option<String>,
    /// The envelope sender's local part.
    #[serde(default = "default_local_part")]
    pub local_part: String,
    /// When messages arrive.
    pub arrivals: Arrivals,
    /// Recipients per message (at least 1 is used).
    #[serde(default = "one_recipient")]
    pub recipients: Dist<Count>,
    /// Message size.
    #[serde(default = "default_size")]
    pub size: Dist<Bytes>,
    /// Where recipients live: domains with relative weights.
    pub to: Vec<Destination>,
    /// DKIM signing.
    #[serde(default)]
    pub dkim: DkimSigning,
    /// Submission from the application to the relay (port 587, STARTTLS, AUTH).
    #[serde(default)]
    pub submission: Submission,
}

fn default_local_part() -> String {
    "noreply".to_string()
}

fn one_recipient() -> Dist<Count> {
    Dist::constant(Count(1))
}

fn default_size() -> Dist<Bytes> {
    Dist::constant(Bytes(10_000))
}

/// How messages arrive, selected by `process`.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "ArrivalsTable")]
pub enum Arrivals {
    /// A Poisson process: exponential gaps with mean `1 / rate`.
    Poisson {
        /// Mean arrivals per unit of time.
        rate: Rate,
    },
    /// Evenly spaced arrivals at `rate`.
    Constant {
        /// Arrivals per unit of time.
        rate: Rate,
    },
    /// Campaigns: `count` messages spread evenly over `over`, starting `at`.
    Bursts {
        /// The campaigns.
        bursts: Vec<Burst>,
    },
    /// Arrival times read from a CSV file (path relative to the scenario file) with a column
    /// `time` holding durations such as `"90s"` or seconds as numbers.
    Csv {
        /// The CSV file.
        file: PathBuf,
    },
}

/// `arrivals` as written: read as a plain table (not a tagged enum) so that an error in a
/// field names the field, such as `senders[0].arrivals.rate`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ArrivalsTable {
    process: Process,
    #[serde(default)]
    rate: Option<Rate>,
    #[serde(default)]
    bursts: Option<Vec<Burst>>,
    #[serde(default)]
    file: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Process {
    Poisson,
    Constant,
    Bursts,
    Csv,
}

impl TryFrom<ArrivalsTable> for Arrivals {
    type Error = String;

    fn try_from(t: ArrivalsTable) -> Result<Arrivals, String> {
        let name = format!("{:?}", t.process).to_lowercase();
        let given = [
            ("rate", t.rate.is_some()),
            ("bursts", t.bursts.is_some()),
            ("file", t.file.is_some()),
        ];
        let wanted = match t.process {
            Process::Poisson | Process::Constant => "rate",
            Process::Bursts => "bursts",
            Process::Csv => "file",
        };
        if let Some((extra, _)) = given.iter().find(|(key, is)| *is && *key != wanted) {
            return Err(format!(
                "unknown field `{extra}` for process \"{name}\", expected `{wanted}`"
            ));
        }
        let missing = || format!("missing field `{wanted}` for process \"{name}\"");
        Ok(match t.process {
            Process::Poisson => Arrivals::Poisson {
                rate: t.rate.ok_or_else(missing)?,
            },
            Process::Constant => Arrivals::Constant {
                rate: t.rate.ok_or_else(missing)?,
            },
            Process::Bursts => Arrivals::Bursts {
                bursts: t.bursts.ok_or_else(missing)?,
            },
            Process::Csv => Arrivals::Csv {
                file: t.file.ok_or_else(missing)?,
            },
        })
    }
}

/// One campaign of [`Arrivals::Bursts`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Burst {
    /// When it starts.
    pub at: Duration,
    /// How many messages.
    pub count: u64,
    /// How long it takes to submit them all (0: all at once).
    #[serde(default)]
    pub over: Duration,
}

/// A recipient domain and its share of recipients.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Destination {
    /// The recipient domain (it should have a `[[domains]]` entry).
    pub domain: String,
    /// Relative weight.
    #[serde(default = "unit_weight")]
    pub weight: f64,
}

fn unit_weight() -> f64 {
    1.0
}

/// `[senders.dkim]`: how the relay signs this sender's mail.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DkimSigning {
    /// Whether messages are signed.
    #[serde(default)]
    pub sign: bool,
    /// The signing domain (`d=`); the sender's `from_domain` if absent.
    #[serde(default)]
    pub domain: Option<String>,
    /// The selector (`s=`); its key is looked up at `selector._domainkey.domain`.
    #[serde(default = "default_selector")]
    pub selector: String,
    /// Probability that a message's body is altered in transit, breaking its signature.
    #[serde(default)]
    pub altered_in_transit: Probability,
}

impl Default for DkimSigning {
    fn default() -> Self {
        DkimSigning {
            sign: false,
            domain: None,
            selector: default_selector(),
            altered_in_transit: Probability(0.0),
        }
    }
}

fn default_selector() -> String {
    "s1".to_string()
}

/// `[senders.submission]`: the application's own SMTP session with the relay.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Submission {
    /// Time the submission takes (connection, STARTTLS, AUTH, transfer).
    #[serde(default)]
    pub latency: Dist<Duration>,
    /// Probability that the application's credentials are refused (535 5.7.8): the message
    /// fails at submission and is counted apart.
    #[serde(default)]
    pub auth_failure: Probability,
}
