//! Requests to complete or delete one task.

use super::vocabulary::*;
use super::{
    reference::{is_bulk, reference},
    verb,
};
use crate::text::{Token, strip_all, strip_all_suffixes, strip_suffix_phrase};
use crate::{Action, HelpTopic, Intent};

pub(super) fn early_complete(text: &str, tokens: &[Token]) -> Option<Intent> {
    if tokens
        .first()
        .is_some_and(|t| t.is_any(&["unmark", "uncheck", "reopen", "untick"]))
    {
        return Some(Intent::Help(HelpTopic::Reopen));
    }
    let rest = verb(tokens, EARLY_COMPLETE_VERBS)?;
    // "check my tasks" and "check what's left" are list requests.
    if tokens.first().is_some_and(|t| t.is("check"))
        && rest
            .first()
            .is_some_and(|t| t.is_any(&["my", "what", "what's", "whats", "if"]))
    {
        return None;
    }
    Some(complete_object(text, rest))
}

pub(super) fn complete(text: &str, tokens: &[Token]) -> Option<Intent> {
    if let Some(rest) = verb(tokens, COMPLETE_VERBS) {
        return Some(complete_object(text, rest));
    }
    let rest = verb(tokens, STATE_VERBS)?;
    let trimmed = strip_all_suffixes(rest, TRAILING_FILLER);
    let says_done = [
        "to done",
        "to complete",
        "to completed",
        "to finished",
        "as done",
    ]
    .iter()
    .chain(["as complete", "as completed", "as finished"].iter())
    .any(|s| strip_suffix_phrase(trimmed, s).is_some());
    says_done.then(|| complete_object(text, rest))
}

fn complete_object(text: &str, rest: &[Token]) -> Intent {
    if rest.iter().any(|t| t.is_any(REOPEN_WORDS)) {
        return Intent::Help(HelpTopic::Reopen);
    }
    let rest = strip_all(
        rest,
        &["off", ":", "as done", "as complete", "as completed"],
    );
    let rest = strip_all_suffixes(rest, DONE_SUFFIXES);
    if is_bulk(rest) {
        return Intent::Help(HelpTopic::OneAtATime(Action::Complete));
    }
    match reference(text, rest) {
        Some(target) => Intent::Complete { target },
        None => Intent::Help(HelpTopic::MissingTarget(Action::Complete)),
    }
}

/// "task 3 is done", "groceries done".
pub(super) fn complete_by_state(text: &str, tokens: &[Token]) -> Option<Intent> {
    let trimmed = strip_all_suffixes(tokens, &["now", "already", "today", "finally"]);
    let head = STATE_SUFFIXES
        .iter()
        .find_map(|s| strip_suffix_phrase(trimmed, s).filter(|h| !h.is_empty()))?;
    if head
        .iter()
        .any(|t| t.is_any(&["not", "isn't", "isnt", "never"]))
    {
        return Some(Intent::Help(HelpTopic::Reopen));
    }
    let head = strip_all(head, &["i", "i've", "i have", "got", "finally"]);
    reference(text, head).map(|target| Intent::Complete { target })
}

pub(super) fn delete(text: &str, tokens: &[Token]) -> Option<Intent> {
    let rest = verb(tokens, DELETE_VERBS)?;
    let rest = strip_all_suffixes(rest, LIST_EXITS);
    if is_bulk(rest) {
        return Some(Intent::Help(HelpTopic::OneAtATime(Action::Delete)));
    }
    Some(match reference(text, rest) {
        Some(target) => Intent::Delete { target },
        None => Intent::Help(HelpTopic::MissingTarget(Action::Delete)),
    })
}
