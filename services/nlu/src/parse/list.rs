//! Requests to see the list, and which tasks they want (all, pending, completed).

use super::vocabulary::*;
use super::{verb, whole};
use crate::text::{Kind, Token, strip_phrase};
use crate::{HelpTopic, Intent, StatusFilter};

pub(super) fn list(_text: &str, tokens: &[Token]) -> Option<Intent> {
    verb(tokens, LIST_VERBS)?;
    if strip_phrase(tokens, "get rid of").is_some() {
        return None;
    }
    // "what's the deadline" is still about the list; "how are you" is not.
    if whole(
        tokens,
        &[
            "how are you",
            "how are you doing",
            "how's it going",
            "what's up",
        ],
    ) {
        return Some(Intent::Help(HelpTopic::Greeting));
    }
    Some(Intent::List {
        status: status_of(tokens),
    })
}

pub(super) fn bare_list(tokens: &[Token]) -> Option<Intent> {
    let all_list_words = tokens.iter().all(|t| t.is_any(LIST_WORDS));
    let meaningful = tokens
        .iter()
        .any(|t| !t.is_any(&["my", "all", "the", "of", "me"]));
    (all_list_words && meaningful).then(|| Intent::List {
        status: status_of(tokens),
    })
}

/// Which tasks a list request asks for.
fn status_of(tokens: &[Token]) -> StatusFilter {
    let words: Vec<&str> = tokens
        .iter()
        .filter(|t| t.kind == Kind::Word)
        .map(|t| t.lower.as_str())
        .collect();
    // "to-do list" and "todo list" name the whole list, not its pending part.
    let mut neutral = vec![false; words.len()];
    for i in 0..words.len() {
        let next_is_list = words.get(i + 1).is_some_and(|w| *w == "list");
        if matches!(words[i], "todo" | "to-do" | "todos" | "to-dos") && next_is_list {
            neutral[i] = true;
        }
        if words[i] == "to" && words.get(i + 1) == Some(&"do") {
            let list_follows = words.get(i + 2).is_some_and(|w| *w == "list");
            neutral[i] = list_follows;
            neutral[i + 1] = list_follows;
        }
    }
    let mut pending = false;
    let mut completed = false;
    for (i, word) in words.iter().enumerate() {
        if neutral[i] {
            continue;
        }
        let finished = DONE_WORDS.contains(word) || matches!(*word, "finish" | "did");
        if finished {
            let negated = i
                .checked_sub(1)
                .into_iter()
                .chain(i.checked_sub(2))
                .any(|j| NEGATIONS.contains(&words[j]));
            if negated {
                pending = true
            } else {
                completed = true
            }
        } else if PENDING_WORDS.contains(word)
            || (*word == "do" && i > 0 && matches!(words[i - 1], "to" | "need" | "gotta"))
        {
            pending = true;
        }
    }
    match (pending, completed) {
        (true, false) => StatusFilter::Pending,
        (false, true) => StatusFilter::Completed,
        _ => StatusFilter::All,
    }
}
