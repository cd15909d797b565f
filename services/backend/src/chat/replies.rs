//! The built-in engine's wording. Every confirmation names the task's id and title; every
//! refusal says what to try instead.

use todo_nlu::{Action, Change, HelpTopic, Reference, StatusFilter, TaskSnapshot};

use crate::tools::{TaskOutcome, TaskSummary, ToolError};

const EXAMPLES: &str = "Here is what I can do:\n\
    - add a task: \"Add a task to buy groceries\"\n\
    - show tasks: \"Show me all my tasks\", \"What's pending?\", \"What have I completed?\"\n\
    - complete one: \"Mark task 3 as complete\"\n\
    - delete one: \"Delete the meeting task\"\n\
    - change one: \"Change task 1 to 'Call mom tonight'\"\n\
    Name a task by its number (\"task 3\", \"#3\") or by words of its title.";

pub fn help(topic: HelpTopic) -> String {
    match topic {
        HelpTopic::General => format!("I'm not sure what you mean. {EXAMPLES}"),
        HelpTopic::Greeting => format!("Hi! I keep your to-do list. {EXAMPLES}"),
        HelpTopic::Thanks => "You're welcome! Anything else for your list?".to_owned(),
        HelpTopic::MissingTitle => {
            "What should the task be called? For example: \"Add a task to buy groceries\".".into()
        }
        HelpTopic::MissingTarget(action) => format!(
            "Which task should I {verb}? Name it by number (\"{verb} task 3\") or by words of \
             its title (\"{verb} the meeting task\").",
            verb = action.verb()
        ),
        HelpTopic::MissingChange => "What should it become? For example: \"Change task 1 to \
             'Call mom tonight'\" or \"Set the description of task 1 to 'after dinner'\"."
            .to_owned(),
        HelpTopic::OneAtATime(action) => format!(
            "I {verb} one task at a time, so I haven't changed anything. Name one, e.g. \"{verb} \
             task 3\", then the next.",
            verb = action.verb()
        ),
        HelpTopic::Reopen => "I can only mark tasks as complete. To reopen one, untick it in \
             your task list, or add it again."
            .to_owned(),
    }
}

fn describe(reference: &Reference) -> String {
    match reference {
        Reference::Id(id) => format!("task {id}"),
        Reference::Position(n) => format!("a task number {n} in your list"),
        Reference::Last => "a last task".to_owned(),
        Reference::Previous => "the task you mean".to_owned(),
        Reference::Words(words) => format!("a task matching \"{words}\""),
    }
}

pub fn not_found(action: Action, reference: &Reference) -> String {
    let verb = action.verb();
    match reference {
        Reference::Id(id) => format!(
            "I couldn't find task {id}, so there was nothing to {verb}. Say \"show my tasks\" to \
             see your tasks and their numbers."
        ),
        other => format!(
            "I couldn't find {}, so there was nothing to {verb}. Say \"show my tasks\" to see \
             your tasks and their numbers.",
            describe(other)
        ),
    }
}

pub fn ambiguous(action: Action, reference: &Reference, candidates: &[TaskSnapshot]) -> String {
    let listed: Vec<String> = candidates
        .iter()
        .map(|t| format!("- task {}: \"{}\"", t.id, t.title))
        .collect();
    let example = candidates.first().map_or(0, |t| t.id);
    format!(
        "Several tasks match {}:\n{}\nWhich one should I {verb}? Say, for example, \"{verb} task \
         {example}\". I haven't changed anything.",
        match reference {
            Reference::Words(words) => format!("\"{words}\""),
            other => describe(other),
        },
        listed.join("\n"),
        verb = action.verb(),
    )
}

pub fn added(result: &Result<TaskOutcome, ToolError>) -> String {
    match result {
        Ok(task) => format!("Added task {}: \"{}\".", task.task_id, task.title),
        Err(refusal) => format!("I couldn't add that task: {refusal}."),
    }
}

pub fn listed(status: StatusFilter, result: &Result<Vec<TaskSummary>, ToolError>) -> String {
    let tasks = match result {
        Ok(tasks) => tasks,
        Err(refusal) => return format!("I couldn't list your tasks: {refusal}."),
    };
    if tasks.is_empty() {
        return match status {
            StatusFilter::All => {
                "You have no tasks yet. Try \"Add a task to buy groceries\".".to_owned()
            }
            StatusFilter::Pending => "Nothing is pending: you're all caught up!".to_owned(),
            StatusFilter::Completed => "You haven't completed any tasks yet.".to_owned(),
        };
    }
    let heading = match (status, tasks.len()) {
        (StatusFilter::All, 1) => "You have 1 task:".to_owned(),
        (StatusFilter::All, n) => format!("You have {n} tasks:"),
        (StatusFilter::Pending, 1) => "You have 1 pending task:".to_owned(),
        (StatusFilter::Pending, n) => format!("You have {n} pending tasks:"),
        (StatusFilter::Completed, 1) => "You have completed 1 task:".to_owned(),
        (StatusFilter::Completed, n) => format!("You have completed {n} tasks:"),
    };
    let lines: Vec<String> = tasks
        .iter()
        .map(|t| {
            let mark = if t.completed { "[x]" } else { "[ ]" };
            format!("- {mark} task {}: {}", t.id, t.title)
        })
        .collect();
    format!("{heading}\n{}", lines.join("\n"))
}

fn is_not_found(refusal: &ToolError) -> bool {
    *refusal == ToolError::task_not_found()
}

pub fn acted(action: Action, task_id: i64, result: &Result<TaskOutcome, ToolError>) -> String {
    match result {
        Ok(task) => match action {
            Action::Complete if task.already_completed => format!(
                "Task {} \"{}\" was already complete, so nothing changed.",
                task.task_id, task.title
            ),
            Action::Complete => {
                format!(
                    "Marked task {} \"{}\" as complete.",
                    task.task_id, task.title
                )
            }
            Action::Delete => format!("Deleted task {} \"{}\".", task.task_id, task.title),
            Action::Update => format!("Updated task {} \"{}\".", task.task_id, task.title),
        },
        Err(refusal) if is_not_found(refusal) => not_found(action, &Reference::Id(task_id)),
        Err(refusal) => format!("I couldn't {} task {task_id}: {refusal}.", action.verb()),
    }
}

pub fn updated(task_id: i64, change: &Change, result: &Result<TaskOutcome, ToolError>) -> String {
    let Ok(task) = result else {
        return acted(Action::Update, task_id, result);
    };
    match (&change.title, change.description.as_deref()) {
        (Some(_), None) => format!(
            "Renamed task {}: it is now \"{}\".",
            task.task_id, task.title
        ),
        (_, Some("")) => {
            format!(
                "Cleared the description of task {} \"{}\".",
                task.task_id, task.title
            )
        }
        (None, Some(description)) => format!(
            "Updated the description of task {} \"{}\" to \"{description}\".",
            task.task_id, task.title
        ),
        _ => format!("Updated task {} \"{}\".", task.task_id, task.title),
    }
}
