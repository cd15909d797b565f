//! Splits a message into lower-cased tokens that remember where they came from, so phrases can be
//! matched case-insensitively while titles are cut from the original text with its casing.

/// What kind of piece of the message a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A run of letters and digits (with inner apostrophes or hyphens), or `#12`.
    Word,
    /// Text between a pair of quotes; `lower` holds the inner text, the span includes the quotes.
    Quoted,
    /// A `:` or a free-standing dash: something like "here comes the value".
    Separator,
}

/// One token of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: Kind,
    /// Lower-cased text, curly apostrophes made straight.
    pub lower: String,
    /// Byte range in the message.
    pub start: usize,
    pub end: usize,
}

impl Token {
    pub fn is(&self, word: &str) -> bool {
        self.kind == Kind::Word && self.lower == word
    }

    pub fn is_any(&self, words: &[&str]) -> bool {
        self.kind == Kind::Word && words.contains(&self.lower.as_str())
    }
}

fn closing_quote_for(open: char) -> &'static [char] {
    match open {
        '"' | '“' | '”' => &['"', '”'],
        '\'' | '‘' | '’' => &['\'', '’'],
        '`' => &['`'],
        _ => &[],
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric()
}

/// Finds where a quote opened at `open_at` closes: a matching quote followed by the end, a space
/// or punctuation (so the apostrophe in "mom's" does not close it).
fn find_closing(text: &str, open_at: usize, open: char) -> Option<usize> {
    let closers = closing_quote_for(open);
    let inner_start = open_at + open.len_utf8();
    let mut chars = text[inner_start..].char_indices().peekable();
    while let Some((offset, c)) = chars.next() {
        if closers.contains(&c) {
            let after = chars.peek().map(|&(_, next)| next);
            let closes = match after {
                None => true,
                Some(next) => !is_word_char(next),
            };
            if closes && offset > 0 {
                return Some(inner_start + offset);
            }
        }
    }
    None
}

/// Splits `text` into tokens.
pub(crate) fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut iter = text.char_indices().peekable();
    let mut previous: Option<char> = None;
    while let Some((at, c)) = iter.next() {
        let after_boundary = previous.is_none_or(|p| !is_word_char(p));
        if !closing_quote_for(c).is_empty()
            && after_boundary
            && let Some(close_at) = find_closing(text, at, c)
            && !text[at + c.len_utf8()..close_at].trim().is_empty()
        {
            let inner = text[at + c.len_utf8()..close_at].trim();
            let close_len = text[close_at..].chars().next().map_or(1, char::len_utf8);
            tokens.push(Token {
                kind: Kind::Quoted,
                lower: normalise(inner),
                start: at,
                end: close_at + close_len,
            });
            while iter.peek().is_some_and(|&(i, _)| i < close_at + close_len) {
                iter.next();
            }
            previous = text[..close_at + close_len].chars().next_back();
            continue;
        }
        if is_word_char(c) || (c == '#' && iter.peek().is_some_and(|&(_, n)| n.is_ascii_digit())) {
            let mut end = at + c.len_utf8();
            while let Some(&(i, n)) = iter.peek() {
                let joins = matches!(n, '\'' | '’' | '-')
                    && text[i + n.len_utf8()..]
                        .chars()
                        .next()
                        .is_some_and(is_word_char);
                if is_word_char(n) || joins {
                    end = i + n.len_utf8();
                    iter.next();
                } else {
                    break;
                }
            }
            tokens.push(Token {
                kind: Kind::Word,
                lower: normalise(&text[at..end]),
                start: at,
                end,
            });
            previous = text[..end].chars().next_back();
            continue;
        }
        let free_dash = matches!(c, '-' | '–' | '—')
            && previous.is_some_and(char::is_whitespace)
            && iter.peek().is_some_and(|&(_, n)| n.is_whitespace());
        if c == ':' || free_dash {
            tokens.push(Token {
                kind: Kind::Separator,
                lower: c.to_string(),
                start: at,
                end: at + c.len_utf8(),
            });
        }
        previous = Some(c);
    }
    tokens
}

fn normalise(s: &str) -> String {
    s.to_lowercase().replace('’', "'")
}

/// The original text the tokens cover, with one pair of enclosing quotes removed and trailing
/// punctuation trimmed.
pub(crate) fn original(text: &str, tokens: &[Token]) -> String {
    match tokens {
        [] => String::new(),
        [only] if only.kind == Kind::Quoted => {
            let inner = &text[only.start..only.end];
            let mut chars = inner.chars();
            chars.next();
            chars.next_back();
            chars.as_str().trim().to_owned()
        }
        [first, .., last] | [first @ last] => text[first.start..last.end]
            .trim_end_matches(|c: char| ".,;:!?".contains(c) || c.is_whitespace())
            .trim()
            .to_owned(),
    }
}

/// The text as a title: original casing, first letter upper-cased unless it came quoted.
pub(crate) fn title(text: &str, tokens: &[Token]) -> String {
    let raw = original(text, tokens);
    let quoted = matches!(tokens, [only] if only.kind == Kind::Quoted);
    if quoted { raw } else { capitalise(&raw) }
}

/// Upper-cases the first character.
pub(crate) fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// If `tokens` start with the words of `phrase` (space separated), the rest.
pub(crate) fn strip_phrase<'t>(tokens: &'t [Token], phrase: &str) -> Option<&'t [Token]> {
    let mut rest = tokens;
    for word in phrase.split(' ') {
        match rest.split_first() {
            Some((first, tail))
                if first.is(word) || (word == ":" && first.kind == Kind::Separator) =>
            {
                rest = tail;
            }
            _ => return None,
        }
    }
    Some(rest)
}

/// If `tokens` end with the words of `phrase`, what comes before.
pub(crate) fn strip_suffix_phrase<'t>(tokens: &'t [Token], phrase: &str) -> Option<&'t [Token]> {
    let words: Vec<&str> = phrase.split(' ').collect();
    if tokens.len() < words.len() {
        return None;
    }
    let (head, tail) = tokens.split_at(tokens.len() - words.len());
    tail.iter()
        .zip(&words)
        .all(|(t, w)| t.is(w))
        .then_some(head)
}

/// Strips the longest of `phrases` that starts `tokens`, returning it and the rest.
pub(crate) fn strip_any<'t, 'p>(
    tokens: &'t [Token],
    phrases: &[&'p str],
) -> Option<(&'p str, &'t [Token])> {
    phrases
        .iter()
        .filter_map(|p| strip_phrase(tokens, p).map(|rest| (*p, rest)))
        .min_by_key(|(_, rest)| rest.len())
}

/// Strips any of `phrases` from the start, again and again.
pub(crate) fn strip_all<'t>(mut tokens: &'t [Token], phrases: &[&str]) -> &'t [Token] {
    while let Some((_, rest)) = strip_any(tokens, phrases) {
        if rest.len() == tokens.len() {
            break;
        }
        tokens = rest;
    }
    tokens
}

/// Strips any of `phrases` from the end, again and again.
pub(crate) fn strip_all_suffixes<'t>(mut tokens: &'t [Token], phrases: &[&str]) -> &'t [Token] {
    'outer: loop {
        for phrase in phrases {
            if let Some(head) = strip_suffix_phrase(tokens, phrase) {
                tokens = head;
                continue 'outer;
            }
        }
        return tokens;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lowers(text: &str) -> Vec<String> {
        tokenize(text).into_iter().map(|t| t.lower).collect()
    }

    #[test]
    fn words_keep_apostrophes_and_hyphens_inside() {
        assert_eq!(
            lowers("What's on my To-Do list?"),
            ["what's", "on", "my", "to-do", "list"]
        );
        assert_eq!(lowers("What’s pending"), ["what's", "pending"]);
    }

    #[test]
    fn quotes_become_one_token_but_apostrophes_do_not_open_them() {
        let tokens = tokenize("Change task 1 to 'Call mom tonight'");
        assert_eq!(tokens.last().map(|t| t.kind), Some(Kind::Quoted));
        assert_eq!(
            tokens.last().map(|t| t.lower.as_str()),
            Some("call mom tonight")
        );
        let tokens = tokenize("rename mom's gift to \"Dad's gift\"");
        assert_eq!(tokens[1].lower, "mom's");
        assert_eq!(tokens.last().map(|t| t.lower.as_str()), Some("dad's gift"));
    }

    #[test]
    fn hash_numbers_and_colons_are_tokens() {
        let tokens = tokenize("done: #12");
        assert_eq!(tokens.len(), 3);
        assert_eq!(tokens[1].kind, Kind::Separator);
        assert_eq!(tokens[2].lower, "#12");
    }

    #[test]
    fn titles_keep_original_casing_and_lose_trailing_punctuation() {
        let text = "add buy iPhone charger, USB-C!";
        let tokens = tokenize(text);
        assert_eq!(title(text, &tokens[1..]), "Buy iPhone charger, USB-C");
    }

    #[test]
    fn unclosed_quotes_are_ignored() {
        assert_eq!(lowers("add 'buy milk"), ["add", "buy", "milk"]);
    }
}
