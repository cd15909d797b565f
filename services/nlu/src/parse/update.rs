//! Requests to change a task's title or description, read every plausible way.

use super::vocabulary::*;
use super::{names_a_task, reference::reference, verb};
use crate::text::{Kind, Token, original, strip_all, strip_all_suffixes, strip_any, title};
use crate::{Change, HelpTopic, Intent, Reference, UpdateReading};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Title,
    Description,
}

pub(super) fn update(text: &str, tokens: &[Token]) -> Option<Intent> {
    let verb_word = tokens.first()?.lower.clone();
    let rest = verb(tokens, UPDATE_VERBS)?;
    let mut field = Field::Title;
    let mut rest = rest;
    if let Some((_, tail)) = strip_any(rest, TITLE_FIELDS) {
        rest = tail;
    } else if let Some((_, tail)) = strip_any(rest, DESCRIPTION_FIELDS) {
        field = Field::Description;
        rest = tail;
    }
    let readings = update_readings(text, rest, field);
    if readings.is_empty() {
        // "fix the sink" is not an edit; "rename task 3" is one that lacks its new name.
        let editing = matches!(
            verb_word.as_str(),
            "rename" | "retitle" | "edit" | "update" | "modify" | "change" | "reword"
        );
        return (editing && !rest.is_empty() && names_a_task(rest))
            .then_some(Intent::Help(HelpTopic::MissingChange));
    }
    Some(Intent::Update { readings })
}

/// How many places to split "<task> to <value>" are tried.
const MAX_SPLITS: usize = 12;

/// Every plausible split of "<task> to <value>", most likely first.
fn update_readings(text: &str, rest: &[Token], field: Field) -> Vec<UpdateReading> {
    let mut scored: Vec<(u8, usize, UpdateReading)> = Vec::new();
    let mut push = |score: u8, at: usize, target: &[Token], value: &[Token], field: Field| {
        let (target, field) = target_and_field(target, field);
        let Some(reference) = reference(text, target) else {
            return;
        };
        let value = strip_all(value, VALUE_LEADS);
        if value.is_empty() {
            return;
        }
        let change = match field {
            Field::Title => Change {
                title: Some(title(text, value)),
                description: None,
            },
            Field::Description => Change {
                title: None,
                description: Some(original(text, value)),
            },
        };
        let score = score + u8::from(!matches!(reference, Reference::Id(_))) * 2;
        scored.push((
            score,
            at,
            UpdateReading {
                target: reference,
                change,
            },
        ));
    };
    // A real request has a handful of places to split; a pathological one gets the first few.
    let separators = (1..rest.len().saturating_sub(1))
        .filter(|&at| rest[at].is_any(SEPARATORS) || rest[at].kind == Kind::Separator)
        .take(MAX_SPLITS);
    for at in separators {
        let value_quoted = rest.len() == at + 2 && rest[at + 1].kind == Kind::Quoted;
        push(
            u8::from(!value_quoted),
            at,
            &rest[..at],
            &rest[at + 1..],
            field,
        );
    }
    // "rename task 3 'Buy oat milk'" and "rename task 3 buy oat milk": no separator.
    if let Some(last) = rest.last().filter(|t| t.kind == Kind::Quoted)
        && rest.len() >= 2
    {
        let target = &rest[..rest.len() - 1];
        push(1, rest.len() - 1, target, std::slice::from_ref(last), field);
    }
    for id_len in 1..=3.min(rest.len().saturating_sub(1)) {
        if let Some(Reference::Id(_)) = reference(text, &rest[..id_len]) {
            let value = &rest[id_len..];
            let starts_with_separator = value
                .first()
                .is_some_and(|t| t.is_any(SEPARATORS) || t.kind == Kind::Separator);
            let starts_with_field = value.first().is_some_and(|t| {
                t.is_any(DESCRIPTION_WORDS) || t.is_any(FIELD_SUFFIXES) || t.lower.starts_with('\'')
            });
            if !starts_with_separator && !starts_with_field {
                push(2, id_len, &rest[..id_len], value, field);
            }
            break;
        }
    }
    scored.sort_by_key(|(score, at, _)| (*score, *at));
    let mut readings: Vec<UpdateReading> = Vec::new();
    for (_, _, reading) in scored {
        if !readings.contains(&reading) {
            readings.push(reading);
        }
    }
    readings
}

/// "task 3's description" → (task 3, description); "task 3 title" → (task 3, title).
fn target_and_field(target: &[Token], field: Field) -> (&[Token], Field) {
    if let Some(last) = target.last() {
        let word = last.lower.trim_end_matches("'s");
        if last.kind == Kind::Word && DESCRIPTION_WORDS.contains(&word) && target.len() > 1 {
            return (&target[..target.len() - 1], Field::Description);
        }
    }
    (strip_all_suffixes(target, FIELD_SUFFIXES), field)
}

/// "set the description of task 3 to …", "add a note to task 3: …", "clear the description of
/// task 3", "describe task 3 as …".
pub(super) fn description_change(text: &str, tokens: &[Token]) -> Option<Intent> {
    if let Some(rest) = strip_any(tokens, &["describe"]).map(|(_, r)| r) {
        let readings = update_readings(text, rest, Field::Description);
        return Some(if readings.is_empty() {
            Intent::Help(HelpTopic::MissingChange)
        } else {
            Intent::Update { readings }
        });
    }
    let (first, rest) = tokens.split_first()?;
    let rest = strip_all(rest, &["the", "a", "an", "its"]);
    let (field_word, rest) = rest.split_first()?;
    if !field_word.is_any(DESCRIPTION_WORDS) {
        return None;
    }
    let rest = strip_all(rest, &["of", "from", "on", "for", "in", "to", "at"]);
    if first.is_any(CLEAR) {
        let target = reference(text, rest)?;
        let change = Change {
            title: None,
            description: Some(String::new()),
        };
        return Some(Intent::Update {
            readings: vec![UpdateReading { target, change }],
        });
    }
    if !first.is_any(GIVE) {
        return None;
    }
    let readings = update_readings(text, rest, Field::Description);
    let explicit = readings
        .iter()
        .any(|r| !matches!(r.target, Reference::Words(_)));
    (explicit || names_a_task(rest)).then_some(Intent::Update { readings })
}
