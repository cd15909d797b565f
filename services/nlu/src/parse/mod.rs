//! Reads a message into an [`Intent`]: strips polite filler, finds the action from the verb
//! phrase (or from the shape of the sentence), then cuts out the title, the new value or the
//! words that name a task.

mod act;
mod add;
mod list;
mod reference;
mod update;
#[rustfmt::skip]
mod vocabulary;

use crate::{
    HelpTopic, Intent, Reference,
    fuzzy::edit_distance,
    text::{Kind, Token, strip_all, strip_all_suffixes, strip_any, strip_phrase, title, tokenize},
};
use act::{complete, complete_by_state, delete, early_complete};
use add::{add, task_sentence};
use list::{bare_list, list};
use update::{description_change, update};
use vocabulary::*;

/// One way of reading a sentence; `None` when it does not apply.
type Rule = fn(&str, &[Token]) -> Option<Intent>;

/// Understands a message.
pub fn understand(message: &str) -> Intent {
    let tokens = tokenize(message);
    if let Some(intent) = social(&tokens) {
        return intent;
    }
    let tokens = strip_filler(&tokens);
    if tokens.is_empty() {
        return Intent::Help(HelpTopic::General);
    }
    classify(message, tokens, 0)
}

fn strip_filler(tokens: &[Token]) -> &[Token] {
    let mut current = tokens;
    loop {
        let before = current.len();
        current = strip_all(current, LEADING_FILLER);
        current = strip_all_suffixes(current, TRAILING_FILLER);
        if current.len() == before {
            return current;
        }
    }
}

pub(super) fn whole(tokens: &[Token], phrases: &[&str]) -> bool {
    phrases
        .iter()
        .any(|p| strip_phrase(tokens, p).is_some_and(<[Token]>::is_empty))
}

/// Greetings, thanks and requests for help, said on their own.
fn social(tokens: &[Token]) -> Option<Intent> {
    let words: Vec<Token> = tokens
        .iter()
        .filter(|t| t.kind == Kind::Word)
        .cloned()
        .collect();
    if words.len() != tokens.len() {
        return None;
    }
    if words.is_empty() {
        return Some(Intent::Help(HelpTopic::General));
    }
    let core = strip_all_suffixes(
        strip_all(&words, &["please", "so", "ok", "okay"]),
        &["please"],
    );
    let core = strip_all_suffixes(core, &["bot", "there", "again", "buddy", "friend"]);
    if whole(core, HELP) || whole(strip_all(core, &["can you", "could you"]), HELP) {
        return Some(Intent::Help(HelpTopic::General));
    }
    if whole(core, GREETINGS) {
        return Some(Intent::Help(HelpTopic::Greeting));
    }
    if whole(core, THANKS) {
        return Some(Intent::Help(HelpTopic::Thanks));
    }
    None
}

/// How many "I need to" / "I'd like to" prefixes are read before the rest is taken as it is.
const MAX_PREFIXES: u8 = 3;

fn classify(text: &str, tokens: &[Token], depth: u8) -> Intent {
    if let Some(intent) = description_change(text, tokens) {
        return intent;
    }
    let prefixes_allowed = depth < MAX_PREFIXES;
    if let Some((_, rest)) =
        strip_any(tokens, WISHES).filter(|(_, rest)| prefixes_allowed && !rest.is_empty())
    {
        return match classify(text, strip_filler(rest), depth + 1) {
            Intent::Help(HelpTopic::General) => add_from_need(text, rest),
            other => other,
        };
    }
    if let Some((_, rest)) =
        strip_any(tokens, NEEDS).filter(|(_, rest)| prefixes_allowed && !rest.is_empty())
    {
        let rest = strip_filler(rest);
        let reading = classify(text, rest, depth + 1);
        let keeps_reading = match &reading {
            Intent::Add { .. } | Intent::List { .. } => true,
            Intent::Help(topic) => *topic != HelpTopic::General,
            Intent::Complete { target } | Intent::Delete { target } => {
                !matches!(target, Reference::Words(_)) || names_a_task(rest)
            }
            Intent::Update { .. } => names_a_task(rest),
        };
        return if keeps_reading {
            reading
        } else {
            add_from_need(text, rest)
        };
    }
    let rules: [Rule; 8] = [
        early_complete,
        list,
        add,
        complete,
        delete,
        update,
        complete_by_state,
        task_sentence,
    ];
    rules
        .iter()
        .find_map(|rule| rule(text, tokens))
        .or_else(|| bare_list(tokens))
        .unwrap_or(Intent::Help(HelpTopic::General))
}

/// True when the words mention a task explicitly ("the report task", "#3", a quoted title).
pub(super) fn names_a_task(tokens: &[Token]) -> bool {
    tokens
        .iter()
        .any(|t| t.kind == Kind::Quoted || t.is_any(TASK_NOUNS) || t.lower.starts_with('#'))
}

fn add_from_need(text: &str, rest: &[Token]) -> Intent {
    let rest = strip_all_suffixes(rest, ADD_TRAILERS);
    if rest.is_empty() {
        return Intent::Help(HelpTopic::General);
    }
    Intent::Add {
        title: title(text, rest),
        description: None,
    }
}

/// Matches a verb phrase at the start, forgiving one typo in a long single-word verb.
pub(super) fn verb<'t>(tokens: &'t [Token], verbs: &[&str]) -> Option<&'t [Token]> {
    if let Some((_, rest)) = strip_any(tokens, verbs) {
        return Some(rest);
    }
    let (first, rest) = tokens.split_first()?;
    if first.kind != Kind::Word {
        return None;
    }
    // Short verbs are too close to ordinary words ("clean" is not "clear"): only long verbs
    // forgive any typo, short ones only a doubled letter ("addd").
    let typo = verbs.iter().filter(|v| !v.contains(' ')).any(|v| {
        (v.len() >= 6 && first.lower.chars().count() >= 5 && edit_distance(&first.lower, v) <= 1)
            || is_doubled_letter_typo(&first.lower, v)
    });
    typo.then_some(rest)
}

/// True when `typed` is `verb` with one letter doubled.
fn is_doubled_letter_typo(typed: &str, verb: &str) -> bool {
    let chars: Vec<char> = typed.chars().collect();
    chars.len() == verb.chars().count() + 1
        && (1..chars.len()).any(|i| {
            chars[i] == chars[i - 1]
                && chars[..i]
                    .iter()
                    .chain(&chars[i + 1..])
                    .copied()
                    .eq(verb.chars())
        })
}
