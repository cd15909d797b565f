//! The chatbot's built-in language engine: no I/O, no async, deterministic.
//!
//! Two steps, so a caller only fetches the task list when it is needed:
//! - [`understand`] reads a message and says what it asks for ([`Intent`]), naming a task by
//!   id, by position, or by words of its title ([`Reference`]);
//! - [`plan`] resolves that against a snapshot of the user's tasks into a [`Plan`]: exactly one
//!   task, several candidates (nothing should change), none, or no task needed at all.
//!
//! A plan never names a task id that is not in the snapshot it was given.

mod fuzzy;
mod parse;
mod resolve;
mod text;

pub use parse::understand;
pub use resolve::{matching_tasks, plan};

/// What the engine knows of one task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskSnapshot {
    pub id: i64,
    pub title: String,
    pub completed: bool,
}

/// Which tasks a list request is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatusFilter {
    #[default]
    All,
    Pending,
    Completed,
}

impl StatusFilter {
    /// The name the tools and the REST API use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Pending => "pending",
            Self::Completed => "completed",
        }
    }
}

/// An action on one existing task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Complete,
    Delete,
    Update,
}

impl Action {
    /// The verb for replies ("complete", "delete", "update").
    pub fn verb(self) -> &'static str {
        match self {
            Self::Complete => "complete",
            Self::Delete => "delete",
            Self::Update => "update",
        }
    }
}

/// How a message names a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    /// "task 3", "#3", "number 3": the task's id.
    Id(i64),
    /// "the first one", "the 3rd task": 1-based position in the list ordered by id.
    Position(usize),
    /// "the last task": the newest.
    Last,
    /// Words of the title, as the person wrote them ("the meeting task" → "meeting").
    Words(String),
    /// "it", "that one", "the task": the task the conversation was just about. The caller
    /// replaces it with an id from the conversation; on its own it matches nothing.
    Previous,
}

impl Reference {
    /// True when the task list is needed to know which task is meant.
    pub fn needs_snapshot(&self) -> bool {
        !matches!(self, Self::Id(_) | Self::Previous)
    }
}

/// What to change in a task: `None` keeps a field, an empty description clears it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Change {
    pub title: Option<String>,
    pub description: Option<String>,
}

/// One way to read an update request: which task, and what becomes of it. "rename go to gym to
/// go running" can be split in several places; the readings come most likely first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateReading {
    pub target: Reference,
    pub change: Change,
}

/// Why the engine answers with help instead of acting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelpTopic {
    /// A sentence it cannot place.
    General,
    /// "hi", "hello".
    Greeting,
    /// "thanks".
    Thanks,
    /// "add a task" with no title.
    MissingTitle,
    /// "delete it": an action with no task named.
    MissingTarget(Action),
    /// "rename task 3": an edit with no new value.
    MissingChange,
    /// "mark task 3 as not done": the tools only complete tasks.
    Reopen,
    /// "delete everything", "complete tasks 3 and 4": one task at a time.
    OneAtATime(Action),
}

/// What a message asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    Add {
        title: String,
        description: Option<String>,
    },
    List {
        status: StatusFilter,
    },
    Complete {
        target: Reference,
    },
    Delete {
        target: Reference,
    },
    Update {
        readings: Vec<UpdateReading>,
    },
    Help(HelpTopic),
}

impl Intent {
    /// True when [`plan`] needs the user's tasks to decide which task is meant.
    pub fn needs_snapshot(&self) -> bool {
        match self {
            Self::Complete { target } | Self::Delete { target } => target.needs_snapshot(),
            Self::Update { readings } => {
                readings.first().is_some_and(|r| r.target.needs_snapshot())
            }
            Self::Add { .. } | Self::List { .. } | Self::Help(_) => false,
        }
    }
}

/// What to do, with every task settled against a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    Add {
        title: String,
        description: Option<String>,
    },
    List {
        status: StatusFilter,
    },
    Complete {
        task_id: i64,
    },
    Delete {
        task_id: i64,
    },
    Update {
        task_id: i64,
        change: Change,
    },
    /// Several tasks match: change nothing, ask which.
    Ambiguous {
        action: Action,
        reference: Reference,
        candidates: Vec<TaskSnapshot>,
    },
    /// No task matches.
    NotFound {
        action: Action,
        reference: Reference,
    },
    Help(HelpTopic),
}
