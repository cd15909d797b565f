//! The words that name a task: an id, a position, or words of its title.

use super::vocabulary::*;
use crate::Reference;
use crate::text::{Kind, Token, original, strip_all, strip_all_suffixes};

/// Reads the words that name a task. `None` when nothing names one ("it", "the task").
pub(super) fn reference(text: &str, tokens: &[Token]) -> Option<Reference> {
    // "task one" and "number two" name ids; "the one about milk" does not.
    if let [lead, word] = tokens
        && lead.is_any(&["task", "number", "no", "#", "id", "nr"])
        && let Some(n) = NUMBER_WORDS.iter().position(|w| word.is(w))
    {
        return i64::try_from(n).ok().map(Reference::Id);
    }
    let trimmed = strip_all_suffixes(tokens, &["please", "now", "again", "too", "as well"]);
    if PREVIOUS
        .iter()
        .any(|p| crate::text::strip_phrase(trimmed, p).is_some_and(<[Token]>::is_empty))
    {
        return Some(Reference::Previous);
    }
    let core = strip_all(tokens, REFERENCE_LEADS);
    let core = strip_all_suffixes(core, REFERENCE_TRAILS);
    match core {
        [] => None,
        [only] => Some(single_reference(text, only)),
        [word, tail] if tail.is_any(&["one", "task"]) => Some(single_reference(text, word)),
        _ => Some(Reference::Words(original(text, core))),
    }
}

fn single_reference(text: &str, token: &Token) -> Reference {
    if token.kind == Kind::Quoted {
        return Reference::Words(original(text, std::slice::from_ref(token)));
    }
    let word = token.lower.trim_end_matches("'s");
    let digits = word.trim_start_matches('#').trim_start_matches("task");
    if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
        return match digits.parse::<i64>() {
            Ok(id) => Reference::Id(id),
            Err(_) => Reference::Words(digits.to_owned()),
        };
    }
    if word == "last" || word == "latest" || word == "newest" || word == "final" {
        return Reference::Last;
    }
    if let Some(n) = ORDINALS.iter().position(|o| *o == word).filter(|n| *n > 0) {
        return Reference::Position(n);
    }
    let numeric_ordinal = ["st", "nd", "rd", "th"].iter().find_map(|suffix| {
        word.strip_suffix(suffix)
            .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
            .and_then(|n| n.parse::<usize>().ok())
    });
    if let Some(n) = numeric_ordinal.filter(|n| *n > 0) {
        return Reference::Position(n);
    }
    if let Some(n) = NUMBER_WORDS
        .iter()
        .position(|w| *w == word)
        .filter(|n| *n > 1)
    {
        return i64::try_from(n).map_or(Reference::Words(word.to_owned()), Reference::Id);
    }
    Reference::Words(original(text, std::slice::from_ref(token)))
}

fn is_number(token: &Token) -> bool {
    let digits = token.lower.trim_start_matches('#');
    !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
}

/// True for "all tasks", "everything", "tasks 3 and 4": more than one task at once.
pub(super) fn is_bulk(tokens: &[Token]) -> bool {
    const FILLER: &[&str] = &[
        "tasks", "task", "of", "them", "my", "the", "items", "todos", "to-dos", "and", "&",
        "numbers", "ids", "things", "at", "once", "too", "also",
    ];
    let only_bulk_words = tokens
        .iter()
        .all(|t| t.is_any(BULK_WORDS) || t.is_any(FILLER) || is_number(t));
    let asks_for_many = tokens.iter().any(|t| t.is_any(BULK_WORDS))
        || tokens.iter().filter(|t| is_number(t)).count() >= 2;
    !tokens.is_empty() && only_bulk_words && asks_for_many
}
