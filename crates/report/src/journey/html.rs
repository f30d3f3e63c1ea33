//! The journey as one self-contained HTML page: inline CSS and JavaScript, the journey itself
//! as JSON inside the page, nothing fetched from the network.
//!
//! The page draws the places left to right and moves the message between them one step at a
//! time, filling in the transcript; Play, Pause, Step and Restart buttons drive it, and the
//! SPF, DKIM and DMARC verdicts appear when the message reaches the end of data.
//!
//! Two address fragments help tests and links: `#step=N` opens the page at step N, and
//! `#selftest`, as soon as the page loads, tries Play, Pause and Restart, then goes through
//! every step with the Step button, and writes what it saw into `data-selftest` on `<body>`
//! (`ok steps=N lines=M`, or `fail: ...`).

use smtpsim_model::journey::Journey;

/// The page, with `/*JOURNEY*/` where the journey's JSON goes.
const TEMPLATE: &str = include_str!("page.html");

/// The page for `journey`.
pub fn html(journey: &Journey) -> String {
    let data = serde_json::to_string(journey).expect("a journey serialises");
    // Inside <script>, "</" could close the element and "<!--" open a comment: escape the
    // slash and the bang the JSON way, which leaves the data unchanged.
    let data = data.replace("</", "<\\/").replace("<!--", "<\\u0021--");
    let title = escape(&format!(
        "{}: message {} - smtpsim walk",
        journey.scenario, journey.message
    ));
    TEMPLATE
        .replace("/*TITLE*/", &title)
        .replace("/*JOURNEY*/", &data)
}

/// Escapes text for HTML content.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_has_its_placeholders_once() {
        assert_eq!(TEMPLATE.matches("/*JOURNEY*/").count(), 1);
        assert_eq!(TEMPLATE.matches("/*TITLE*/").count(), 1);
    }

    #[test]
    fn the_page_fetches_nothing() {
        for needle in ["http://", "https://", "src=", "@import", "url("] {
            assert!(!TEMPLATE.contains(needle), "the page refers to {needle}");
        }
    }

    #[test]
    fn escaping() {
        assert_eq!(escape("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
    }
}
