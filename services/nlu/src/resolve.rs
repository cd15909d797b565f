//! Settles an [`Intent`] against a snapshot of the user's tasks: which task a reference means,
//! or which tasks it could mean.

use crate::{
    Action, Intent, Plan, Reference, TaskSnapshot,
    fuzzy::{Closeness, closeness, stem},
};

/// Words that say nothing about which task is meant.
const STOP_WORDS: &[&str] = &[
    "the", "a", "an", "my", "to", "of", "for", "and", "on", "in", "at", "with", "task", "tasks",
    "todo", "item", "one", "that", "this", "about", "called", "named", "from", "list", "please",
    "it", "is", "some",
];

/// Lower-cased words without punctuation or stop words, stemmed.
fn content_words(s: &str) -> Vec<String> {
    let lower = s.to_lowercase().replace(['\'', '’'], "");
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let content: Vec<&str> = words
        .iter()
        .copied()
        .filter(|w| !STOP_WORDS.contains(w))
        .collect();
    let chosen = if content.is_empty() { words } else { content };
    chosen.into_iter().map(stem).collect()
}

/// How well a task matches the words of a reference; lower is better.
fn tier(wanted: &[String], title: &str) -> Option<u8> {
    let title_words = content_words(title);
    if wanted == title_words.as_slice() {
        return Some(0);
    }
    let mut worst = Closeness::Exact;
    for word in wanted {
        let best = title_words
            .iter()
            .map(|t| closeness(word, t))
            .min()
            .unwrap_or(Closeness::None);
        worst = worst.max(best);
    }
    match worst {
        Closeness::Exact => Some(1),
        Closeness::Near => Some(2),
        Closeness::None => None,
    }
}

/// The tasks a reference could mean, best matches only. For completing, a single pending task
/// among several matches is preferred (the done ones need no completing).
pub fn matching_tasks<'t>(
    reference: &Reference,
    tasks: &'t [TaskSnapshot],
    action: Action,
) -> Vec<&'t TaskSnapshot> {
    scored_matches(reference, tasks, action).1
}

/// The best matches and how good they are (0 = the whole title, 1 = every word, 2 = near).
fn scored_matches<'t>(
    reference: &Reference,
    tasks: &'t [TaskSnapshot],
    action: Action,
) -> (u8, Vec<&'t TaskSnapshot>) {
    let mut by_id: Vec<&TaskSnapshot> = tasks.iter().collect();
    by_id.sort_by_key(|t| t.id);
    let mut quality = 0;
    let found = match reference {
        Reference::Id(id) => by_id.into_iter().filter(|t| t.id == *id).take(1).collect(),
        Reference::Position(n) => n
            .checked_sub(1)
            .and_then(|i| by_id.get(i).copied())
            .into_iter()
            .collect(),
        Reference::Last => by_id.last().copied().into_iter().collect(),
        Reference::Previous => Vec::new(),
        Reference::Words(words) => {
            let wanted = content_words(words);
            if wanted.is_empty() {
                return (0, Vec::new());
            }
            let scored: Vec<(u8, &TaskSnapshot)> = by_id
                .into_iter()
                .filter_map(|t| tier(&wanted, &t.title).map(|score| (score, t)))
                .collect();
            let best = scored.iter().map(|(score, _)| *score).min();
            quality = best.unwrap_or(u8::MAX);
            scored
                .into_iter()
                .filter(|(score, _)| Some(*score) == best)
                .map(|(_, t)| t)
                .collect::<Vec<_>>()
        }
    };
    if action == Action::Complete && found.len() > 1 {
        let pending: Vec<&TaskSnapshot> = found.iter().copied().filter(|t| !t.completed).collect();
        if pending.len() == 1 {
            return (quality, pending);
        }
    }
    (quality, found)
}

enum Outcome<'t> {
    One(&'t TaskSnapshot),
    Several(Vec<&'t TaskSnapshot>),
    None,
}

fn settle<'t>(
    reference: &Reference,
    tasks: &'t [TaskSnapshot],
    action: Action,
) -> (u8, Outcome<'t>) {
    let (quality, mut found) = scored_matches(reference, tasks, action);
    let outcome = match found.len() {
        0 => Outcome::None,
        1 => found.pop().map_or(Outcome::None, Outcome::One),
        _ => Outcome::Several(found),
    };
    (quality, outcome)
}

fn ambiguous(action: Action, reference: &Reference, candidates: Vec<&TaskSnapshot>) -> Plan {
    Plan::Ambiguous {
        action,
        reference: reference.clone(),
        candidates: candidates.into_iter().cloned().collect(),
    }
}

/// Settles `intent` against `tasks`. Every task id in the plan is one of `tasks`.
pub fn plan(intent: &Intent, tasks: &[TaskSnapshot]) -> Plan {
    let single = |action: Action, target: &Reference, make: fn(i64) -> Plan| match settle(
        target, tasks, action,
    )
    .1
    {
        Outcome::One(task) => make(task.id),
        Outcome::Several(candidates) => ambiguous(action, target, candidates),
        Outcome::None => Plan::NotFound {
            action,
            reference: target.clone(),
        },
    };
    match intent {
        Intent::Add { title, description } => Plan::Add {
            title: title.clone(),
            description: description.clone(),
        },
        Intent::List { status } => Plan::List { status: *status },
        Intent::Help(topic) => Plan::Help(*topic),
        Intent::Complete { target } => single(Action::Complete, target, |task_id| Plan::Complete {
            task_id,
        }),
        Intent::Delete { target } => {
            single(Action::Delete, target, |task_id| Plan::Delete { task_id })
        }
        Intent::Update { readings } => {
            // The reading whose task matches best wins; among equals, the likelier reading.
            let mut best_single: Option<(u8, Plan)> = None;
            let mut first_ambiguous = None;
            for reading in readings {
                match settle(&reading.target, tasks, Action::Update) {
                    (quality, Outcome::One(task))
                        if best_single.as_ref().is_none_or(|(q, _)| quality < *q) =>
                    {
                        let plan = Plan::Update {
                            task_id: task.id,
                            change: reading.change.clone(),
                        };
                        best_single = Some((quality, plan));
                    }
                    (_, Outcome::Several(candidates)) if first_ambiguous.is_none() => {
                        first_ambiguous =
                            Some(ambiguous(Action::Update, &reading.target, candidates));
                    }
                    _ => {}
                }
            }
            if let Some((_, plan)) = best_single {
                return plan;
            }
            first_ambiguous.unwrap_or_else(|| match readings.first() {
                Some(reading) => Plan::NotFound {
                    action: Action::Update,
                    reference: reading.target.clone(),
                },
                None => Plan::Help(crate::HelpTopic::MissingChange),
            })
        }
    }
}
