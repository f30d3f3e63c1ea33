//! The latency of a run's delivered recipients as complementary CDFs: one for all, and one
//! per recipient domain on the same axes (small multiples, the largest domains only when
//! there are many).

use hdrhistogram::Histogram;

use super::charts::{self, Ccdf, CcdfAxes};
use super::html::escape;
use super::{Chart, PageError};
use crate::summary::{Summary, decode_histogram};

/// At most this many domains get a latency chart of their own: those with the most
/// recipients.
pub(super) const MAX_DOMAIN_CHARTS: usize = 12;

/// A domain name longer than this is shortened in a chart's title.
const LONGEST_TITLE_NAME: usize = 24;

/// The retry times' legend text.
const RETRIES: &str = "retry times of the policy";

/// The steps of the CCDF of a histogram of microseconds, in seconds, and its observations.
fn steps_of(histogram: &Histogram<u64>, floor: f64) -> Vec<(f64, f64)> {
    let buckets: Vec<(f64, u64)> = histogram
        .iter_recorded()
        .map(|v| {
            let micros = histogram.highest_equivalent(v.value_iterated_to()).max(1);
            (micros as f64 / 1e6, v.count_since_last_iteration())
        })
        .collect();
    charts::ccdf_steps(&buckets, floor)
}

/// The complementary CDF of the delivered recipients' latency, from the histogram itself,
/// with the retry policy's retry times marked.
pub(super) fn latency_chart(
    s: &Summary,
    bad: impl Fn(&str) -> PageError,
) -> Result<Chart, PageError> {
    let histogram = s.latency.decode().map_err(|e| bad(&e.to_string()))?;
    let floor = charts::ccdf_floor(histogram.len());
    Ok(Chart::new(
        "latency_ccdf",
        charts::ccdf(
            "Latency of delivered recipients",
            "submission to mailbox, seconds",
            "fraction delivered later than x",
            &steps_of(&histogram, floor),
            floor,
            (&format!("{RETRIES} (numbered)"), &s.retry_times_s),
        )?,
    ))
}

/// The domains with the most recipients (ties by name), at most `most`.
pub(super) fn largest_domains(s: &Summary, most: usize) -> Vec<&str> {
    let mut domains: Vec<(&str, u64)> = s
        .domains
        .iter()
        .map(|(name, f)| (name.as_str(), f.recipients))
        .collect();
    domains.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    domains.into_iter().take(most).map(|d| d.0).collect()
}

/// A domain's name as a chart's file name: letters, digits, `.` and `-` kept, the rest `_`.
fn file_name(domain: &str) -> String {
    domain
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A name cut to `LONGEST_TITLE_NAME` characters, `…` marking the cut.
fn shortened(name: &str) -> String {
    if name.chars().count() <= LONGEST_TITLE_NAME {
        name.to_string()
    } else {
        let kept: String = name.chars().take(LONGEST_TITLE_NAME - 1).collect();
        format!("{kept}…")
    }
}

/// One latency CCDF per recipient domain on the same axes, for the [`MAX_DOMAIN_CHARTS`]
/// domains with the most recipients, and the words above them; none for a run with one
/// domain (the chart of all says it).
pub(super) fn domain_charts(
    s: &Summary,
    bad: impl Fn(&str) -> PageError,
) -> Result<Option<(String, Vec<Chart>)>, PageError> {
    if s.domains.len() < 2 {
        return Ok(None);
    }
    let shown = largest_domains(s, MAX_DOMAIN_CHARTS);
    let mut histograms = Vec::with_capacity(shown.len());
    for name in &shown {
        let histogram = match s.domain_latency.get(*name) {
            Some(encoded) => Some(decode_histogram(encoded).map_err(|e| bad(&e.to_string()))?),
            None => None,
        };
        histograms.push(histogram);
    }
    let most = histograms.iter().flatten().map(Histogram::len).max();
    let floor = charts::ccdf_floor(most.unwrap_or(1));
    let steps: Vec<Vec<(f64, f64)>> = histograms
        .iter()
        .map(|h| h.as_ref().map(|h| steps_of(h, floor)).unwrap_or_default())
        .collect();
    let axes = CcdfAxes::holding(steps.iter().map(Vec::as_slice), floor);
    let mut drawn = Vec::with_capacity(shown.len());
    for (name, steps) in shown.iter().zip(&steps) {
        let delivered = s.domains[*name].delivered;
        let title = format!(
            "{}: {} delivered",
            shortened(name),
            charts::thousands(delivered as i64)
        );
        let svg = charts::small_ccdf(&Ccdf {
            title: &title,
            x_desc: "latency, seconds",
            y_desc: "fraction later than x",
            steps,
            axes,
            marks: (RETRIES, &s.retry_times_s),
        })?;
        drawn.push(Chart::small(
            format!("latency_domain_{}", file_name(name)),
            svg,
        ));
    }
    let which = if shown.len() < s.domains.len() {
        format!(
            "the {} domains with the most recipients, of {} (the table below lists them all)",
            shown.len(),
            charts::thousands(s.domains.len() as i64)
        )
    } else {
        "each recipient domain, the most recipients first".to_string()
    };
    let html = format!(
        "<p>The latency of {}: the fraction of its delivered recipients delivered later \
         than x, on the same axes.</p>",
        escape(&which)
    );
    Ok(Some((html, drawn)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Stats;
    use smtpsim_des::{SimDuration, SimTime};
    use smtpsim_model::sim::{Fate, RecipientRecord, RunStats};

    /// A summary of `domains` (name, recipients, latency in seconds or none for bounced).
    fn summary(domains: &[(&str, u64, Option<u64>)]) -> Summary {
        let mut stats = Stats::new();
        for &(domain, n, latency) in domains {
            for _ in 0..n {
                stats.record(&RecipientRecord {
                    message_id: 1,
                    sender: "app",
                    recipient: "a@x",
                    domain,
                    submitted: SimTime::ZERO,
                    first_attempt: Some(SimTime::ZERO),
                    finished: SimTime::ZERO + SimDuration::from_secs(latency.unwrap_or(5)),
                    fate: if latency.is_some() {
                        Fate::Inbox
                    } else {
                        Fate::Bounced
                    },
                    attempts: 1,
                    queue_wait: SimDuration::ZERO,
                    last_reply: None,
                    reasons: "",
                });
            }
        }
        stats.summary(&RunStats::default()).unwrap()
    }

    /// The texts of an SVG's tick labels: lines that are numbers (`k` and `M` for thousands
    /// and millions).
    fn ticks(svg: &str) -> Vec<String> {
        svg.lines()
            .map(str::trim)
            .filter(|l| {
                let digits = l
                    .trim_end_matches(['k', 'M'])
                    .replace([',', '.', 'e', '-'], "");
                !digits.is_empty() && digits.parse::<u64>().is_ok()
            })
            .map(String::from)
            .collect()
    }

    #[test]
    fn the_largest_domains_get_charts_on_the_same_axes() {
        let names: Vec<String> = (0..MAX_DOMAIN_CHARTS + 2)
            .map(|i| format!("d{i:02}.example"))
            .collect();
        let mut domains: Vec<(&str, u64, Option<u64>)> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), 3 + i as u64, Some(60 * (i as u64 + 1))))
            .collect();
        // The largest domain delivers nothing.
        domains.push(("bounces.example", 100, None));
        let s = summary(&domains);
        let bad = |m: &str| PageError::Chart(m.to_string());
        let (html, charts) = domain_charts(&s, bad).unwrap().unwrap();
        assert_eq!(charts.len(), MAX_DOMAIN_CHARTS);
        assert!(
            html.contains("the 12 domains with the most recipients, of 15"),
            "{html}"
        );
        assert_eq!(charts[0].name, "latency_domain_bounces.example");
        assert!(charts[0].svg.contains("none delivered"));
        // Then by recipients: the two smallest are left out.
        assert_eq!(charts[1].name, "latency_domain_d13.example");
        assert_eq!(charts[11].name, "latency_domain_d03.example");
        assert!(charts.iter().all(|c| c.small));
        let first = ticks(&charts[1].svg);
        assert!(first.contains(&"1k".to_string()), "{first:?}");
        for c in &charts {
            assert_eq!(ticks(&c.svg), first, "{} on other axes", c.name);
        }
        // One domain: the chart of all says it.
        assert!(
            domain_charts(&summary(&[("a", 3, Some(1))]), bad)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn names_become_file_names_and_titles() {
        assert_eq!(file_name("mail.example.com"), "mail.example.com");
        assert_eq!(file_name("a/b c"), "a_b_c");
        assert_eq!(shortened("gmail.com"), "gmail.com");
        let long = "a-very-long-subdomain.of-a-long-domain.example";
        let short = shortened(long);
        assert_eq!(short.chars().count(), LONGEST_TITLE_NAME);
        assert!(short.ends_with('…'));
    }
}
