//! The dashboard's HTML: a grid of panels, each with its graph and legend, or a line saying
//! why it has none. No script: the page reloads itself every 30 s.

use std::fmt::Write;

use todo_config::dashboard::Panel;

use super::{chart, prometheus::Range};

/// What one panel shows.
pub enum Content {
    /// The graph and the legend's names, in the series' order.
    Graph { svg: String, names: Vec<String> },
    /// Every query answered, with no series.
    Empty,
    /// A query failed; the message says how.
    Failed(String),
}

/// Everything the page says besides the panels.
pub struct Header<'a> {
    pub namespace: &'a str,
    pub namespaces: &'a [String],
    pub minutes: u32,
    pub range: Range,
}

/// The ranges a reader can switch to, in minutes.
const RANGES: [(u32, &str); 4] = [(15, "15 min"), (60, "1 h"), (360, "6 h"), (1440, "24 h")];

pub fn render(header: &Header<'_>, panels: &[(&Panel, Content)]) -> String {
    let mut html = String::with_capacity(64 * 1024);
    let _ = write!(
        html,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta http-equiv=\"refresh\" content=\"30\">\
         <title>Todo Chatbot · dashboard</title><style>{STYLE}</style></head><body>\
         <header><h1>Todo Chatbot · operator dashboard</h1><p>namespace <b>{}</b> · the last \
         {} · drawn at {} UTC, again every 30 s</p><nav>",
        escape(header.namespace),
        RANGES
            .iter()
            .find(|(m, _)| *m == header.minutes)
            .map_or_else(
                || format!("{} min", header.minutes),
                |(_, l)| (*l).to_owned()
            ),
        chart::clock(header.range.end),
    );
    for (minutes, label) in RANGES {
        let _ = write!(
            html,
            "<a href=\"?namespace={}&amp;minutes={minutes}\">{label}</a> ",
            escape(header.namespace)
        );
    }
    for other in header.namespaces.iter().filter(|n| *n != header.namespace) {
        let _ = write!(
            html,
            "<a href=\"?namespace={0}&amp;minutes={1}\">namespace {0}</a> ",
            escape(other),
            header.minutes
        );
    }
    html.push_str("</nav></header><main>");
    for (panel, content) in panels {
        let (state, series) = match content {
            Content::Graph { names, .. } => ("data", names.len()),
            Content::Empty => ("empty", 0),
            Content::Failed(_) => ("error", 0),
        };
        let _ = write!(
            html,
            "<section class=\"panel\" data-state=\"{state}\" data-series=\"{series}\"><h2>{}</h2>",
            escape(&panel.title)
        );
        match content {
            Content::Graph { svg, names } => {
                html.push_str(svg);
                html.push_str("<ul class=\"legend\">");
                for (index, name) in names.iter().enumerate() {
                    let _ = write!(
                        html,
                        "<li><i style=\"background:{}\"></i>{}</li>",
                        chart::hex(index),
                        escape(name)
                    );
                }
                html.push_str("</ul>");
            }
            Content::Empty => html.push_str(
                "<p class=\"note\">No data in this range: the metric has no samples yet (no \
                 traffic of that kind), or no target that exports it is scraped.</p>",
            ),
            Content::Failed(message) => {
                let _ = write!(html, "<p class=\"note error\">{}</p>", escape(message));
            }
        }
        html.push_str("</section>");
    }
    html.push_str("</main></body></html>\n");
    html
}

/// The page when no Prometheus is configured, or none answers.
pub fn problem(title: &str, message: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Todo Chatbot · dashboard</title><style>{STYLE}</style></head><body><header>\
         <h1>{}</h1><p>{}</p></header></body></html>\n",
        escape(title),
        escape(message)
    )
}

/// Text made safe for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
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

const STYLE: &str = "\
body{margin:0;font:14px/1.4 system-ui,sans-serif;background:#f4f5f7;color:#1d2330}\
header{padding:16px 24px;background:#fff;border-bottom:1px solid #dde1e7}\
h1{font-size:20px;margin:0 0 4px}header p{margin:0 0 6px;color:#4a5263}\
nav a{margin-right:10px;color:#2457c5}\
main{display:grid;grid-template-columns:repeat(auto-fill,minmax(480px,1fr));gap:16px;padding:16px 24px}\
.panel{background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:12px 14px;min-width:0}\
.panel h2{font-size:15px;margin:0 0 8px}.panel svg{width:100%;height:auto;display:block}\
.legend{list-style:none;margin:6px 0 0;padding:0;display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12px}\
.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px}\
.note{color:#6b7383;margin:24px 0}.error{color:#b42318}\
@media (max-width:560px){main{grid-template-columns:1fr;padding:12px}}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_from_prometheus_cannot_open_markup() {
        assert_eq!(
            escape("<script>\"a\" & 'b'</script>"),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
    }
}
