//! The built-in engine over HTTP: every claim is checked on the task list itself.

use super::support::*;

/// The hackathon's eight examples, in one conversation, each checked by its effect.
async fn contract_examples_on(app: &TestApp) {
    let mut chat = Chat::new(app, "contract").await;

    let said = chat.say("Add a task to buy groceries").await;
    assert_eq!(said.tools(), ["add_task"]);
    assert_eq!(said.call(0)["input"]["title"], "Buy groceries");
    assert_eq!(said.call(0)["output"]["status"], "created");
    assert_eq!(chat.titles().await, ["Buy groceries"], "the task was added");
    let groceries = chat.tasks().await[0]["id"].as_i64().unwrap();
    assert!(
        said.response().contains(&groceries.to_string())
            && said.response().contains("Buy groceries"),
        "the confirmation names id and title: {}",
        said.response()
    );

    let meeting = chat.add("Team meeting").await;
    let third = chat.add("Pay rent").await;
    let said = chat.say("Show me all my tasks").await;
    assert_eq!(said.tools(), ["list_tasks"]);
    assert_eq!(said.call(0)["input"]["status"], "all");
    for title in ["Buy groceries", "Team meeting", "Pay rent"] {
        assert!(
            said.response().contains(title),
            "{title} is listed: {}",
            said.response()
        );
    }

    let said = chat.say(&format!("Mark task {third} as complete")).await;
    assert_eq!(said.tools(), ["complete_task"]);
    assert_eq!(said.call(0)["input"]["task_id"], third);
    assert_eq!(
        chat.task(third).await.unwrap()["completed"],
        true,
        "task {third} is completed"
    );
    assert!(
        said.response().contains("as complete"),
        "{}",
        said.response()
    );
    let completed_at = chat.task(third).await.unwrap()["updated_at"].clone();
    let said = chat.say(&format!("Mark task {third} as complete")).await;
    assert_eq!(said.tools(), ["complete_task"]);
    assert_eq!(said.call(0)["output"]["already_completed"], true);
    assert!(
        said.response().contains("already complete"),
        "a task completed twice is said to be complete already: {}",
        said.response()
    );
    assert_eq!(
        chat.task(third).await.unwrap()["updated_at"],
        completed_at,
        "completing a completed task changes nothing"
    );

    let said = chat.say("What's pending?").await;
    assert_eq!(said.call(0)["input"]["status"], "pending");
    assert!(
        said.response().contains("Team meeting"),
        "{}",
        said.response()
    );
    assert!(
        !said.response().contains("Pay rent"),
        "a completed task is not pending: {}",
        said.response()
    );

    let said = chat.say("Delete the meeting task").await;
    assert_eq!(
        said.tools(),
        ["list_tasks", "delete_task"],
        "lists, then deletes"
    );
    assert_eq!(said.call(1)["input"]["task_id"], meeting);
    assert!(
        chat.task(meeting).await.is_none(),
        "the meeting task is gone"
    );

    let said = chat
        .say(&format!("Change task {groceries} to 'Call mom tonight'"))
        .await;
    assert_eq!(said.tools(), ["update_task"]);
    assert_eq!(
        chat.task(groceries).await.unwrap()["title"],
        "Call mom tonight"
    );

    let said = chat.say("I need to remember to pay bills").await;
    assert_eq!(said.tools(), ["add_task"]);
    assert!(
        chat.titles().await.contains(&"Pay bills".to_owned()),
        "Pay bills was added"
    );

    let said = chat.say("What have I completed?").await;
    assert_eq!(said.call(0)["input"]["status"], "completed");
    assert!(said.response().contains("Pay rent"), "{}", said.response());
    assert!(
        !said.response().contains("Pay bills"),
        "{}",
        said.response()
    );
}

#[tokio::test]
async fn the_contract_examples_work_on_both_databases() {
    for backend in Backend::ALL {
        if let Some(app) = TestApp::spawn(backend).await {
            contract_examples_on(&app).await;
        }
    }
}

#[tokio::test]
async fn many_phrasings_add_tasks_with_clean_titles() {
    let app = sqlite_app().await;
    let mut chat = Chat::new(&app, "adder").await;
    let cases = [
        ("please add buy milk", "Buy milk"),
        ("Create a task called Pay rent", "Pay rent"),
        ("remind me to call the plumber", "Call the plumber"),
        ("Could you add 'Book flights' to my list?", "Book flights"),
        ("new task: water the plants", "Water the plants"),
        ("I have to renew my passport", "Renew my passport"),
        ("don't let me forget to feed the cat", "Feed the cat"),
    ];
    for (message, title) in cases {
        let said = chat.say(message).await;
        assert_eq!(said.tools(), ["add_task"], "{message:?}");
        assert_eq!(said.call(0)["output"]["title"], title, "{message:?}");
    }
    let titles = chat.titles().await;
    let expected: Vec<String> = cases.iter().map(|(_, t)| (*t).to_owned()).collect();
    assert_eq!(titles, expected, "every phrasing added exactly its task");
}

#[tokio::test]
async fn many_phrasings_complete_delete_and_rename_the_right_task() {
    let app = sqlite_app().await;
    let mut chat = Chat::new(&app, "doer").await;
    let milk = chat.add("Buy milk").await;
    let dentist = chat.add("Dentist appointment").await;
    let report = chat.add("Write the report").await;
    let plants = chat.add("Water the plants").await;

    chat.say(&format!("check off #{milk}")).await;
    chat.say("the dentist task is done").await;
    let tasks = chat.tasks().await;
    let done: Vec<bool> = tasks
        .iter()
        .map(|t| t["completed"].as_bool().unwrap())
        .collect();
    assert_eq!(
        done,
        [true, true, false, false],
        "milk and dentist completed, the rest not"
    );

    let said = chat
        .say("rename the reprot task to Write the annual report")
        .await;
    assert_eq!(
        said.tools(),
        ["list_tasks", "update_task"],
        "a typo still finds the task"
    );
    assert_eq!(
        chat.task(report).await.unwrap()["title"],
        "Write the annual report"
    );

    chat.say(&format!(
        "set the description of task {plants} to twice a week"
    ))
    .await;
    assert_eq!(
        chat.task(plants).await.unwrap()["description"],
        "twice a week"
    );
    chat.say(&format!("clear the description of task {plants}"))
        .await;
    assert_eq!(
        chat.task(plants).await.unwrap()["description"],
        serde_json::Value::Null
    );

    chat.say("please get rid of the plants task").await;
    chat.say(&format!("remove task number {dentist}")).await;
    assert_eq!(chat.titles().await, ["Buy milk", "Write the annual report"]);
}

#[tokio::test]
async fn words_that_match_several_tasks_change_nothing_and_list_them() {
    let app = sqlite_app().await;
    let mut chat = Chat::new(&app, "ambiguous").await;
    let team = chat.add("Team meeting").await;
    let notes = chat.add("Meeting notes").await;
    let said = chat.say("Delete the meeting task").await;
    assert_eq!(said.tools(), ["list_tasks"], "no delete was attempted");
    assert_eq!(chat.tasks().await.len(), 2, "nothing was deleted");
    for id in [team, notes] {
        assert!(
            said.response().contains(&format!("task {id}")),
            "candidate {id} is named: {}",
            said.response()
        );
    }
    assert!(
        said.response().contains("Which one"),
        "it asks which: {}",
        said.response()
    );
}

#[tokio::test]
async fn unknown_tasks_get_a_friendly_reply_and_change_nothing() {
    let app = sqlite_app().await;
    let mut chat = Chat::new(&app, "unknown").await;
    chat.add("Buy milk").await;
    let said = chat.say("complete task 999999").await;
    assert_eq!(
        said.call(0)["output"],
        serde_json::json!({"error": "Task not found"})
    );
    assert!(
        said.response().contains("couldn't find task 999999"),
        "{}",
        said.response()
    );
    let said = chat.say("delete the swimming lesson").await;
    assert_eq!(said.tools(), ["list_tasks"]);
    assert!(
        said.response().contains("couldn't find"),
        "{}",
        said.response()
    );
    assert_eq!(chat.titles().await, ["Buy milk"], "nothing changed");
}

#[tokio::test]
async fn another_users_task_cannot_be_touched_by_id() {
    let app = sqlite_app().await;
    let owner = Chat::new(&app, "owner").await;
    let mut intruder = Chat::new(&app, "intruder").await;
    let task = owner.add("Private plans").await;
    for message in [
        format!("delete task {task}"),
        format!("mark task {task} as done"),
        format!("rename task {task} to hacked"),
    ] {
        let said = intruder.say(&message).await;
        assert_eq!(
            said.call(0)["output"]["error"],
            "Task not found",
            "{message}"
        );
    }
    let kept = owner
        .task(task)
        .await
        .expect("the owner's task still exists");
    assert_eq!(
        (kept["title"].as_str(), kept["completed"].as_bool()),
        (Some("Private plans"), Some(false))
    );
}

#[tokio::test]
async fn gibberish_greetings_and_help_get_a_friendly_answer_without_tools() {
    let app = sqlite_app().await;
    let mut chat = Chat::new(&app, "chatty").await;
    for message in [
        "asdkjh qwpoe zzz",
        "hello",
        "what can you do?",
        "the weather is nice",
        "🙂",
    ] {
        let said = chat.say(message).await;
        assert!(said.tools().is_empty(), "{message:?} ran no tool");
        assert!(
            said.response().contains("Add a task"),
            "{message:?} got help: {}",
            said.response()
        );
    }
    assert!(chat.tasks().await.is_empty(), "nothing was added");
}

#[tokio::test]
async fn a_too_long_title_is_refused_with_the_limit() {
    let app = sqlite_app().await;
    let mut chat = Chat::new(&app, "long").await;
    let said = chat.say(&format!("add {}", "a".repeat(250))).await;
    assert_eq!(said.tools(), ["add_task"]);
    assert!(
        said.response().contains("the limit is 200"),
        "{}",
        said.response()
    );
    assert!(chat.tasks().await.is_empty());
}

#[tokio::test]
async fn it_means_the_task_the_last_reply_named_and_nothing_when_that_is_unclear() {
    let app = sqlite_app().await;
    let mut chat = Chat::new(&app, "pronouns").await;
    chat.say("add buy milk").await;
    let said = chat.say("mark it as done").await;
    assert_eq!(said.tools(), ["complete_task"], "{}", said.response());
    assert_eq!(
        chat.tasks().await[0]["completed"],
        true,
        "the milk task was completed"
    );

    chat.say("add call mom").await;
    chat.say("show my tasks").await;
    let said = chat.say("delete it").await;
    assert!(
        said.tools().is_empty(),
        "the list named two tasks: {}",
        said.response()
    );
    assert!(
        said.response().contains("Which task"),
        "{}",
        said.response()
    );
    assert_eq!(chat.tasks().await.len(), 2, "nothing was deleted");
}

#[tokio::test]
async fn several_tasks_at_once_are_declined_without_changes() {
    let app = sqlite_app().await;
    let mut chat = Chat::new(&app, "bulk").await;
    chat.add("Buy milk").await;
    chat.add("Call mom").await;
    for message in ["delete everything", "mark all tasks as done"] {
        let said = chat.say(message).await;
        assert!(said.tools().is_empty(), "{message:?}");
        assert!(
            said.response().contains("one task at a time"),
            "{}",
            said.response()
        );
    }
    let tasks = chat.tasks().await;
    assert_eq!(tasks.len(), 2);
    assert!(tasks.iter().all(|t| t["completed"] == false));
}
