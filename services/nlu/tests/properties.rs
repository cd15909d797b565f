//! Properties that hold for every message: no panic, no task outside the snapshot.

use proptest::prelude::*;
use todo_nlu::{Plan, TaskSnapshot, plan, understand};

fn snapshot() -> impl Strategy<Value = Vec<TaskSnapshot>> {
    prop::collection::vec(
        (1i64..60, "[a-zA-Z ]{1,24}", any::<bool>()).prop_map(|(id, title, completed)| {
            TaskSnapshot {
                id,
                title,
                completed,
            }
        }),
        0..8,
    )
}

/// Messages built from words the engine knows, so the interesting paths are reached.
fn wordy_message() -> impl Strategy<Value = String> {
    let words = prop::sample::select(vec![
        "add",
        "task",
        "delete",
        "the",
        "meeting",
        "#3",
        "3",
        "to",
        "'",
        "\"",
        "mark",
        "as",
        "done",
        "complete",
        "rename",
        "change",
        "description",
        "of",
        "with",
        "first",
        "last",
        "please",
        "show",
        "pending",
        "what's",
        ":",
        "-",
        "not",
        "remind",
        "me",
        "i",
        "need",
        "milk",
        "buy",
        "called",
        "note",
        "'s",
        "99999999999999999999",
        "#",
        "clear",
        "one",
    ]);
    prop::collection::vec(words, 0..12).prop_map(|w| w.join(" "))
}

fn ids_in(plan: &Plan) -> Vec<i64> {
    match plan {
        Plan::Complete { task_id } | Plan::Delete { task_id } | Plan::Update { task_id, .. } => {
            vec![*task_id]
        }
        Plan::Ambiguous { candidates, .. } => candidates.iter().map(|t| t.id).collect(),
        Plan::Add { .. } | Plan::List { .. } | Plan::NotFound { .. } | Plan::Help(_) => vec![],
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_text_is_read_without_panicking_and_plans_only_known_tasks(
        message in "\\PC{0,80}",
        tasks in snapshot(),
    ) {
        let planned = plan(&understand(&message), &tasks);
        for id in ids_in(&planned) {
            prop_assert!(tasks.iter().any(|t| t.id == id), "{message:?} planned task {id}");
        }
    }

    #[test]
    fn word_soup_is_read_without_panicking_and_plans_only_known_tasks(
        message in wordy_message(),
        tasks in snapshot(),
    ) {
        let planned = plan(&understand(&message), &tasks);
        for id in ids_in(&planned) {
            prop_assert!(tasks.iter().any(|t| t.id == id), "{message:?} planned task {id}");
        }
        if let Plan::Add { title, .. } = &planned {
            prop_assert!(!title.trim().is_empty(), "{message:?} added an empty title");
        }
    }
}
