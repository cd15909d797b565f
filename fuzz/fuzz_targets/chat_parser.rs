//! The built-in chat engine's reading of a message (`todo_nlu::understand`) and the plan it
//! makes against a user's tasks: any text, any task titles, no panic.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use todo_nlu::{TaskSnapshot, plan, understand};

#[derive(Debug, Arbitrary)]
struct Turn<'a> {
    message: &'a str,
    tasks: Vec<(i64, &'a str, bool)>,
}

fuzz_target!(|turn: Turn<'_>| {
    let intent = understand(turn.message);
    let tasks: Vec<TaskSnapshot> = turn
        .tasks
        .iter()
        .map(|&(id, title, completed)| TaskSnapshot {
            id,
            title: title.to_owned(),
            completed,
        })
        .collect();
    let _ = plan(&intent, &tasks);
});
