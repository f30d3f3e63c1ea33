//! `report.html`: one file, the charts inline, a small style sheet and a script that lists the
//! sections; nothing loaded from elsewhere, so it opens offline and can be mailed around.

use std::fmt::Write as _;

use super::Chart;

/// Text made safe to put in HTML.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A table: a header row and rows of cells, all escaped.
pub(crate) fn table(header: &[String], rows: &[Vec<String>]) -> String {
    // Wide tables scroll within their box on a narrow screen instead of widening the page,
    // their rows one line high.
    let mut out = String::from("<div class=\"table\"><table><thead><tr>");
    for h in header {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{}</td>", escape(cell));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>");
    out
}

/// A section of the page: a heading, HTML before the charts, and the charts.
pub(crate) struct Section<'a> {
    pub(crate) heading: String,
    pub(crate) html: String,
    pub(crate) charts: Vec<&'a Chart>,
}

const STYLE: &str = "body{font-family:sans-serif;margin:1em auto;padding:0 12px;max-width:1600px;color:#222;background:#fff}\
h1{font-size:1.6em}h2{margin-top:1.6em;border-bottom:1px solid #ccc}\
table{border-collapse:collapse;margin:1em 0;font-size:.9em}\
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}th{background:#f0f0f0}\
td:first-child,th:first-child{text-align:left}\
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,440px),1fr));gap:12px}\
.charts.small{grid-template-columns:repeat(auto-fit,minmax(min(100%,300px),1fr))}\
.chart{border:1px solid #ddd;min-width:0}.chart svg{display:block;width:100%;height:auto}\
.table{overflow-x:auto}.wide{overflow-x:auto;max-width:100%}\
nav a{margin-right:1em}p,h1,h2,nav{overflow-wrap:anywhere}\
@media (max-width:700px){td{white-space:nowrap}td:nth-child(2):last-child{white-space:normal}}";

/// Lists the sections at the top of the page.
const SCRIPT: &str = "document.addEventListener('DOMContentLoaded',function(){\
var nav=document.getElementById('contents');\
document.querySelectorAll('h2').forEach(function(h,i){\
h.id='section-'+i;var a=document.createElement('a');a.href='#'+h.id;\
a.textContent=h.textContent;nav.appendChild(a);});});";

/// The whole page.
pub(crate) fn page(title: &str, intro: &str, sections: &[Section<'_>]) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{t}</title><style>{STYLE}</style><script>{SCRIPT}</script></head>\n<body>\
<h1>{t}</h1><nav id=\"contents\"></nav>{intro}\n",
        t = escape(title)
    );
    for section in sections {
        // Small multiples get a grid of narrower cells.
        let small = !section.charts.is_empty() && section.charts.iter().all(|c| c.small);
        let _ = write!(
            out,
            "<h2>{}</h2>{}<div class=\"charts{}\">",
            escape(&section.heading),
            section.html,
            if small { " small" } else { "" }
        );
        for chart in &section.charts {
            let _ = write!(
                out,
                "<div class=\"chart\" id=\"chart-{}\">{}</div>",
                escape(&chart.name),
                chart.svg
            );
        }
        out.push_str("</div>\n");
    }
    out.push_str("</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_lays_out() {
        assert_eq!(escape("<a & 'b'>"), "&lt;a &amp; &#39;b&#39;&gt;");
        let chart = Chart::new("x", "<svg></svg>".into());
        let html = page(
            "t<1>",
            "<p>intro</p>",
            &[Section {
                heading: "Latency".into(),
                html: table(&["a".into()], &[vec!["<1>".into()]]),
                charts: vec![&chart],
            }],
        );
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("<title>t&lt;1&gt;</title>"));
        assert!(html.contains("<td>&lt;1&gt;</td>"));
        assert!(html.contains("<div class=\"chart\" id=\"chart-x\"><svg></svg></div>"));
        assert!(!html.contains("src="), "nothing loaded from elsewhere");
    }
}
