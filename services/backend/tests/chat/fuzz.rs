//! Random messages through the built-in engine: none makes it fail, and none changes another
//! user's tasks, even when they name those tasks' ids.

use rand::{Rng, SeedableRng, rngs::StdRng};
use todo_backend::chat::{ChatEngine, Turn, builtin::BuiltinEngine};

use super::support::*;

const WORDS: &[&str] = &[
    "add",
    "delete",
    "remove",
    "mark",
    "complete",
    "done",
    "rename",
    "change",
    "to",
    "task",
    "the",
    "meeting",
    "#",
    "'",
    "\"",
    "show",
    "pending",
    "what's",
    "description",
    "of",
    "clear",
    "first",
    "last",
    "please",
    "milk",
    "buy",
    ":",
    "-",
    "is",
    "not",
    "remind",
    "me",
    "i",
    "need",
    "🙂",
    "ß",
    "\u{0}",
    "   ",
    "called",
    "with",
    "note",
    "9223372036854775807",
    "-1",
    "0",
];

fn random_message(rng: &mut StdRng, victim_ids: &[i64]) -> String {
    let length = rng.random_range(0..14);
    let mut words: Vec<String> = Vec::with_capacity(length);
    for _ in 0..length {
        let word = match rng.random_range(0..10) {
            0 => victim_ids[rng.random_range(0..victim_ids.len())].to_string(),
            1 => format!("#{}", victim_ids[rng.random_range(0..victim_ids.len())]),
            2 => (0..rng.random_range(1..8))
                .map(|_| char::from(rng.random_range(b'!'..=b'~')))
                .collect(),
            _ => WORDS[rng.random_range(0..WORDS.len())].to_owned(),
        };
        words.push(word);
    }
    words.join(" ")
}

#[tokio::test]
async fn no_message_fails_the_engine_or_touches_another_users_tasks() {
    let app = sqlite_app().await;
    let victim = Chat::new(&app, "victim").await;
    let attacker = Chat::new(&app, "attacker").await;
    let mut victim_ids = Vec::new();
    for title in ["Team meeting", "Buy milk", "Pay bills"] {
        victim_ids.push(victim.add(title).await);
    }
    let before = victim.tasks().await;

    let mut rng = StdRng::seed_from_u64(0x7d0);
    for _ in 0..400 {
        let message = random_message(&mut rng, &victim_ids);
        let turn = Turn {
            db: &app.db,
            user_id: &attacker.user.id,
            history: &[],
            message: &message,
        };
        let reply = BuiltinEngine.respond(turn).await;
        let reply = reply.unwrap_or_else(|e| panic!("{message:?} failed the engine: {e}"));
        assert!(
            !reply.response.trim().is_empty(),
            "{message:?} got an empty reply"
        );
    }
    assert_eq!(
        victim.tasks().await,
        before,
        "the victim's tasks are exactly as they were"
    );
}
