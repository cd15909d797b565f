//! The metric names a PromQL expression reads: enough of PromQL's grammar to tell metric names
//! from functions, keywords, label names and Grafana variables.

use std::collections::BTreeSet;

/// The keywords that take a list of label names in parentheses: `sum by (job)`, `on (instance)`.
const LABEL_LIST_KEYWORDS: [&str; 6] = [
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];

/// The other words of PromQL that are not metric names.
const OTHER_KEYWORDS: [&str; 6] = ["and", "or", "unless", "bool", "offset", "atan2"];

fn is_keyword(word: &str) -> bool {
    LABEL_LIST_KEYWORDS.contains(&word) || OTHER_KEYWORDS.contains(&word)
}

/// Metric names in `expr`.
pub fn metric_names(expr: &str) -> BTreeSet<String> {
    let stripped = strip_groups(&strip_strings(expr));
    let chars: Vec<char> = stripped.chars().collect();
    let mut names = BTreeSet::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let starts_identifier = c.is_ascii_alphabetic() || c == '_' || c == ':';
        let after_variable_or_digit =
            i > 0 && (chars[i - 1] == '$' || chars[i - 1].is_ascii_digit() || chars[i - 1] == '.');
        if !starts_identifier || after_variable_or_digit {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len()
            && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == ':')
        {
            i += 1;
        }
        let word: String = chars[start..i].iter().collect();
        let next = chars[i..].iter().find(|c| !c.is_whitespace());
        let is_call = next == Some(&'(');
        if !is_call && !is_keyword(&word) && !is_number_word(&word) {
            names.insert(word);
        }
    }
    names
}

/// `inf`/`nan` and exponents are numbers, not names.
fn is_number_word(word: &str) -> bool {
    matches!(word.to_ascii_lowercase().as_str(), "inf" | "nan" | "e")
}

/// Removes quoted strings (label values, regexes).
fn strip_strings(expr: &str) -> String {
    let mut out = String::new();
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in expr.chars() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
            }
            None if c == '"' || c == '\'' || c == '`' => quote = Some(c),
            None => out.push(c),
        }
    }
    out
}

/// Removes label matchers `{…}`, ranges `[…]`, and the label lists after by/without/on/ignoring/group_*.
fn strip_groups(expr: &str) -> String {
    let mut out = String::new();
    let mut depth_brace = 0;
    let mut depth_bracket = 0;
    for c in expr.chars() {
        match c {
            '{' => depth_brace += 1,
            '}' => depth_brace -= 1,
            '[' => depth_bracket += 1,
            ']' => depth_bracket -= 1,
            _ if depth_brace == 0 && depth_bracket == 0 => out.push(c),
            _ => {}
        }
    }
    // Label lists: `by (a, b)` and friends; the keyword is followed by a parenthesised list.
    let mut result = String::new();
    let mut rest = out.as_str();
    while let Some((before, after)) = split_at_label_list(rest) {
        result.push_str(before);
        rest = after;
    }
    result.push_str(rest);
    result
}

/// Finds the next `<keyword> (labels)` and returns the text before it and after its `)`.
fn split_at_label_list(text: &str) -> Option<(&str, &str)> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        for keyword in LABEL_LIST_KEYWORDS {
            let end = i + keyword.len();
            let boundary_before =
                i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
            if boundary_before && text.get(i..).is_some_and(|t| t.starts_with(keyword)) {
                let after = text[end..].trim_start();
                if after.starts_with('(') {
                    let close = after.find(')')?;
                    return Some((&text[..i], &after[close + 1..]));
                }
            }
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn names(expr: &str) -> Vec<String> {
        metric_names(expr).into_iter().collect()
    }

    #[test]
    fn functions_labels_ranges_and_variables_are_not_metric_names() {
        let expr = r#"histogram_quantile(0.95, sum by (le, job) (rate(http_request_duration_seconds_bucket{namespace="$namespace", route!~".*/chat"}[$__rate_interval])))"#;
        assert_eq!(
            names(expr),
            ["http_request_duration_seconds_bucket"],
            "{expr}"
        );
    }

    #[test]
    fn both_sides_of_a_binary_operation_are_found() {
        let expr = "sum(rate(http_requests_total{status=~\"5..\"}[5m])) / on (job) group_left sum(kube_pod_container_resource_requests) > 0.05";
        assert_eq!(
            names(expr),
            [
                "http_requests_total",
                "kube_pod_container_resource_requests"
            ]
        );
    }

    #[test]
    fn numbers_with_exponents_and_keywords_are_skipped() {
        assert_eq!(names("db_up == 0 and up offset 5m > 1e3"), ["db_up", "up"]);
    }
}
