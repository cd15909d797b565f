//! Requests to add a task: the title, cut from the sentence, and an optional description.

use super::verb;
use super::vocabulary::*;
use crate::text::{
    Kind, Token, original, strip_all, strip_all_suffixes, strip_any, strip_phrase, title,
};
use crate::{HelpTopic, Intent};

pub(super) fn add(text: &str, tokens: &[Token]) -> Option<Intent> {
    if let Some(intent) = remind_with_time(text, tokens) {
        return Some(intent);
    }
    if let Some(rest) = verb(tokens, STRONG_ADD_VERBS) {
        return Some(add_object(text, rest, false));
    }
    let rest = verb(tokens, WEAK_ADD_VERBS)?;
    let after_articles = strip_all(rest, ARTICLES);
    let has_noun = after_articles.first().is_some_and(|t| t.is_any(TASK_NOUNS))
        || after_articles
            .first()
            .is_some_and(|t| t.kind == Kind::Quoted)
        || strip_list_place(rest).is_some();
    has_noun.then(|| add_object(text, rest, true))
}

/// "Remind me tomorrow to call the bank" → "Call the bank tomorrow".
fn remind_with_time(text: &str, tokens: &[Token]) -> Option<Intent> {
    let rest = strip_phrase(tokens, "remind me")?;
    let at = rest
        .iter()
        .position(|t| t.is("to"))
        .filter(|at| (1..=3).contains(at))?;
    let (when, what) = (&rest[..at], &rest[at + 1..]);
    let plain = when
        .iter()
        .all(|t| t.kind == Kind::Word && !t.is_any(ARTICLES) && !t.is_any(TASK_NOUNS));
    if !plain || what.is_empty() {
        return None;
    }
    let what = strip_all_suffixes(what, ADD_TRAILERS);
    if what.is_empty() {
        return None;
    }
    Some(Intent::Add {
        title: format!("{} {}", title(text, what), original(text, when)),
        description: None,
    })
}

/// A sentence that is itself a task: "Schedule a meeting with Bob", "buy milk".
pub(super) fn task_sentence(text: &str, tokens: &[Token]) -> Option<Intent> {
    let (_, rest) = strip_any(tokens, TITLE_VERBS)?;
    if rest.is_empty() {
        return None;
    }
    let (title_tokens, description) = split_description(text, tokens);
    let title_tokens = strip_all_suffixes(title_tokens, ADD_TRAILERS);
    let title_tokens = strip_list_place(title_tokens).unwrap_or(title_tokens);
    Some(Intent::Add {
        title: title(text, title_tokens),
        description,
    })
}

/// "buy milk on my shopping list" → "buy milk": the tokens before a trailing list place.
fn strip_list_place(tokens: &[Token]) -> Option<&[Token]> {
    let last = tokens.last()?;
    if !last.is_any(LIST_NOUNS) {
        return None;
    }
    let start = tokens.len().saturating_sub(4);
    (start..tokens.len().saturating_sub(2)).find_map(|i| {
        let joins = tokens[i].is_any(&["on", "to", "onto", "in", "into"])
            && tokens[i + 1].is_any(&["my", "the", "our"]);
        joins.then(|| &tokens[..i])
    })
}

fn add_object(text: &str, rest: &[Token], noun_seen: bool) -> Intent {
    let mut rest = strip_all(rest, LIST_PLACES);
    rest = strip_all(rest, &[":", "-"]);
    let after_articles = strip_all(rest, ARTICLES);
    let mut had_noun = noun_seen;
    if let Some((first, tail)) = after_articles.split_first() {
        if first.is_any(TASK_NOUNS) {
            had_noun = true;
            rest = tail;
        } else if !after_articles.is_empty() {
            // Keep "the" in "add the dentist appointment"; drop only "a", "an".
            rest = strip_all(rest, &["a", "an"]);
        }
    }
    if had_noun {
        rest = strip_all(rest, &["to my list", "to the list", "on my list"]);
        if let Some((_, tail)) = strip_any(rest, ADD_CONNECTORS) {
            rest = strip_all(tail, &[":", "-"]);
        }
    }
    let (title_tokens, description) = split_description(text, rest);
    let title_tokens = strip_all_suffixes(title_tokens, ADD_TRAILERS);
    let title_tokens = strip_list_place(title_tokens).unwrap_or(title_tokens);
    if title_tokens.is_empty() {
        return Intent::Help(HelpTopic::MissingTitle);
    }
    Intent::Add {
        title: title(text, title_tokens),
        description,
    }
}

/// Splits "buy milk with description two litres" into the title's tokens and the description.
fn split_description<'t>(text: &str, tokens: &'t [Token]) -> (&'t [Token], Option<String>) {
    for at in 1..tokens.len() {
        let tail = &tokens[at..];
        let value = if tail[0].is("with") {
            let after = strip_all(&tail[1..], &["a", "an", "the"]);
            after
                .split_first()
                .filter(|(w, _)| w.is_any(DESCRIPTION_WORDS))
                .map(|(_, v)| v)
        } else if tail[0].is_any(DESCRIPTION_WORDS)
            && tail.get(1).is_some_and(|t| t.kind == Kind::Separator)
        {
            Some(&tail[2..])
        } else if tail[0].kind == Kind::Separator && tail[0].lower != ":" {
            Some(&tail[1..])
        } else {
            None
        };
        if let Some(value) = value {
            let value = strip_all(
                value,
                &[":", "of", "that says", "saying", "which says", "is", "-"],
            );
            if !value.is_empty() {
                return (&tokens[..at], Some(original(text, value)));
            }
        }
    }
    (tokens, None)
}
