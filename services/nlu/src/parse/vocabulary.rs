//! The words and phrases the engine knows, grouped by what they signal. Kept one table per
//! line group (not one word per line) so each list reads like the sentences it recognises.

/// Polite or conversational words that start a request and carry no meaning.
pub(crate) const LEADING_FILLER: &[&str] = &[
    "please", "pls", "plz", "kindly", "hey", "hi", "hello", "ok", "okay", "so", "now", "and",
    "also", "then", "just", "quickly", "bot", "alright", "right", "well", "oh", "um", "uh",
    "could you", "can you", "would you", "will you", "could u", "can u", "would u", "you",
    "would you mind", "i want you to", "i'd like you to", "i would like you to", "i need you to",
    "go ahead and", "help me", "be so kind and", "do me a favor and", "do me a favour and",
];

/// Words that end a request and carry no meaning.
pub(crate) const TRAILING_FILLER: &[&str] = &[
    "please", "pls", "plz", "thanks", "thank you", "thx", "for me", "thank you very much",
];

/// Phrases that wish to do something through the bot: "I'd like to see my tasks".
pub(crate) const WISHES: &[&str] = &[
    "i want to", "i wanna", "i'd like to", "id like to", "i would like to", "let me", "let's",
    "lets", "i'd love to", "can i", "could i", "may i", "how do i", "how can i",
];

/// Phrases that say something must be done: "I need to call mom" is a new task.
pub(crate) const NEEDS: &[&str] = &[
    "i need to", "i have to", "i've got to", "i got to", "i gotta", "i must", "i should",
    "i ought to", "need to", "have to", "gotta", "must", "i'll need to", "i will need to",
    "i still need to", "i still have to", "we need to", "we have to", "i must not forget to",
    "i shouldn't forget to",
];

pub(crate) const GREETINGS: &[&str] = &[
    "hi", "hello", "hey", "yo", "hiya", "howdy", "good morning", "good afternoon", "good evening",
    "hi there", "hello there", "hey there", "greetings",
];

pub(crate) const THANKS: &[&str] = &[
    "thanks", "thank you", "thx", "ty", "cheers", "great", "cool", "ok", "okay", "nice", "awesome",
    "perfect", "thanks a lot", "thank you very much", "great thanks", "ok thanks",
];

pub(crate) const HELP: &[&str] = &[
    "help", "help me", "what can you do", "what do you do", "what can i do", "how does this work",
    "how do i use this", "how do you work", "commands", "what can you help with",
    "what can you help me with", "who are you", "what are you", "what are my options", "options",
    "menu", "usage", "instructions", "what is this", "what's this", "how does it work",
    "what is this thing", "what does this do",
];

/// Nouns that name a task in a request ("the meeting task", "a new todo").
pub(crate) const TASK_NOUNS: &[&str] = &[
    "task", "tasks", "todo", "todos", "to-do", "to-dos", "item", "items", "reminder", "entry",
    "note", "thing",
];

/// Words that say a task is finished.
pub(crate) const DONE_WORDS: &[&str] = &[
    "done", "complete", "completed", "finished", "accomplished", "achieved", "closed", "checked",
    "ticked", "resolved",
];

pub(crate) const LIST_VERBS: &[&str] = &[
    "show", "list", "see", "view", "display", "get", "give", "tell", "read", "print", "fetch",
    "review", "what", "what's", "whats", "what're", "which", "how", "do i", "did i", "have i",
    "am i", "any", "anything", "is there", "are there", "where", "check my", "check the list",
    "check what", "check what's", "lookup", "look up", "look at", "bring up", "pull up", "recap",
    "summarize", "summarise", "remind me what", "remind me of my", "remind me about my",
];

/// Words that make up a request for the list with no verb ("my tasks", "pending?").
pub(crate) const LIST_WORDS: &[&str] = &[
    "my", "all", "the", "tasks", "task", "list", "todos", "to-dos", "todo", "to-do", "items",
    "everything", "pending", "completed", "done", "open", "left", "remaining", "finished",
    "incomplete", "unfinished", "outstanding", "current", "active", "of", "me", "still", "status",
    "overview", "agenda",
];

pub(crate) const PENDING_WORDS: &[&str] = &[
    "pending", "left", "remaining", "open", "incomplete", "unfinished", "outstanding", "undone",
    "uncompleted", "active", "todo", "to-do", "still", "yet", "upcoming", "due", "ongoing",
    "current", "next", "remain", "remains",
];

pub(crate) const NEGATIONS: &[&str] = &[
    "not", "haven't", "havent", "hasn't", "hasnt", "isn't", "isnt", "aren't", "arent", "didn't",
    "didnt", "never", "yet", "don't", "dont",
];

pub(crate) const STRONG_ADD_VERBS: &[&str] = &[
    "add", "create", "new", "insert", "jot down", "jot", "write down", "note down", "remember to",
    "remember that i need to", "remember that i have to", "remember that i must", "remember",
    "remind me to", "remind me that i need to", "remind me that i have to", "remind me that",
    "remind me about", "remind me of", "remind me", "don't let me forget to",
    "dont let me forget to", "don't forget to", "dont forget to", "don't let me forget",
    "don't forget", "do not forget to", "todo :", "to-do :", "to do :", "task :", "note :", "new task",
    "add new task", "add task", "add another", "enter",
];

/// Verbs that add only with a noun: "make a task …" adds, "make dinner" is not placed.
pub(crate) const WEAK_ADD_VERBS: &[&str] = &[
    "make", "put", "write", "log", "record", "save", "set up", "schedule", "plan", "note",
    "i'd like", "i want", "give me", "register", "track",
];

pub(crate) const ARTICLES: &[&str] = &[
    "a", "an", "new", "another", "one more", "one", "more", "the", "my",
];

pub(crate) const ADD_CONNECTORS: &[&str] = &[
    "to", "called", "named", "titled", "entitled", "that says", "saying", "which says", "for",
    "about", "of", ":", "-", "with the title", "with title", "that i need to", "that i have to",
    "to remind me to", "reminding me to", "which is", "that is", "remember to", "remind me to",
    "to remember to",
];

pub(crate) const ADD_TRAILERS: &[&str] = &[
    "to my list", "to the list", "to my tasks", "to my task list", "to my to-do list",
    "to my todo list", "to my to do list", "to the to-do list", "to the todo list", "to my todos",
    "on my list", "on the list", "in my list", "onto my list", "as a task", "as a new task",
    "as a todo", "to the tasks", "to tasks", "to the task list", "to my to-dos", "on my to-do list",
    "on my todo list", "in my tasks", "please", "for me", "thanks", "thank you", "as well", "too",
];

pub(crate) const LIST_PLACES: &[&str] = &[
    "to my list", "to the list", "to my tasks", "to my to-do list", "to my todo list",
    "to my task list", "on my list", "to the task list", "to the to-do list", "to the todo list",
];

pub(crate) const DESCRIPTION_WORDS: &[&str] = &[
    "description", "desc", "details", "detail", "note", "notes", "comment", "info",
];

/// Verbs that complete whatever follows, checked before the list verbs ("check off …").
pub(crate) const EARLY_COMPLETE_VERBS: &[&str] = &[
    "mark", "mark off", "check off", "tick off", "cross off", "strike off", "check", "tick",
];

pub(crate) const COMPLETE_VERBS: &[&str] = &[
    "complete", "finish", "finished", "close", "resolve", "accomplish", "i finished",
    "i've finished", "i have finished", "i just finished", "just finished", "i completed",
    "i've completed", "i have completed", "i just completed", "just completed", "i did",
    "i've done", "i have done", "i'm done with", "im done with", "i am done with", "done with",
    "done", "i'm finished with", "i am finished with", "finished with", "completed",
];

/// Verbs that complete only when a done-word follows ("set task 3 to done").
pub(crate) const STATE_VERBS: &[&str] = &[
    "set", "flag", "consider", "change", "update", "switch", "move",
];

pub(crate) const DONE_SUFFIXES: &[&str] = &[
    "as done", "as complete", "as completed", "as finished", "as checked", "as checked off",
    "as resolved", "to done", "to complete", "to completed", "to finished", "done", "complete",
    "completed", "finished", "off", "as closed", "closed", "as done now", "now", "already", "today",
];

pub(crate) const REOPEN_WORDS: &[&str] = &[
    "incomplete", "undone", "uncompleted", "pending", "unfinished", "open", "reopen", "reopened",
    "uncomplete", "unchecked", "todo", "unmark", "not",
];

pub(crate) const STATE_SUFFIXES: &[&str] = &[
    "is done", "is complete", "is completed", "is finished", "are done", "are finished",
    "are complete", "are completed", "was done", "was completed", "was finished", "has been done",
    "has been completed", "have been done", "is all done", "is taken care of", "taken care of",
    "is sorted", "is dealt with", "is done now", "is finished now", "done", "finished", "completed",
    "complete", "all done",
];

pub(crate) const DELETE_VERBS: &[&str] = &[
    "delete", "remove", "cancel", "drop", "erase", "get rid of", "trash", "scrap", "discard",
    "forget about", "forget", "eliminate", "kill", "nuke", "clear", "throw away", "throw out",
    "purge", "wipe", "wipe out", "ditch", "bin", "dump", "axe", "scratch", "take off", "take out",
    "never mind", "nevermind", "i don't need", "i no longer need", "no longer need",
    "we don't need", "don't need", "destroy", "rm", "del",
];

pub(crate) const LIST_EXITS: &[&str] = &[
    "from my list", "from the list", "from my tasks", "from my to-do list", "from my todo list",
    "from the todo list", "from the to-do list", "off my list", "off the list", "from the tasks",
    "from my task list", "from the task list", "entirely", "completely", "for good", "forever",
    "permanently", "anymore", "any more", "off", "from list", "now",
];

pub(crate) const UPDATE_VERBS: &[&str] = &[
    "rename", "retitle", "change", "update", "edit", "modify", "set", "alter", "correct", "fix",
    "replace", "reword", "rewrite", "relabel", "make", "switch", "amend", "adjust", "call",
];

pub(crate) const TITLE_FIELDS: &[&str] = &[
    "the title of", "the name of", "title of", "name of", "the title for", "the wording of",
    "the text of", "the title on", "the label of",
];

pub(crate) const DESCRIPTION_FIELDS: &[&str] = &[
    "the description of", "description of", "the details of", "details of", "the note on",
    "the note of", "the notes of", "the notes on", "the description for", "the description on",
    "the note for", "the notes for", "the details for", "the description in",
];

pub(crate) const SEPARATORS: &[&str] = &[
    "to", "into", "as", ":", "-", "with", "so", "saying",
];

pub(crate) const VALUE_LEADS: &[&str] = &[
    "say", "read", "be", "be called", "be named", "it says", "that it says", "it reads",
    "that it reads", "now say", "say that", "read as", "now be", "now read", ":", "-",
    "something like", "just",
];

pub(crate) const FIELD_SUFFIXES: &[&str] = &[
    "title", "name", "'s title", "'s name", "text", "wording", "label", "heading",
];

pub(crate) const CLEAR: &[&str] = &[
    "clear", "remove", "delete", "erase", "drop", "empty", "wipe", "blank", "reset",
];

pub(crate) const GIVE: &[&str] = &[
    "add", "put", "attach", "write", "give", "set", "change", "update", "edit", "modify",
];

pub(crate) const REFERENCE_LEADS: &[&str] = &[
    "the", "a", "an", "my", "that", "this", "task", "tasks", "todo", "to-do", "item", "entry",
    "reminder", "number", "no", "num", "nr", "id", "called", "named", "titled", "about", "with",
    "for", "labelled", "labeled", "which says", "that says", "saying", "of", "on", "one", "it",
    "them", "thing",
];

pub(crate) const REFERENCE_TRAILS: &[&str] = &[
    "task", "tasks", "todo", "item", "one", "entry", "reminder", "thing", "please", "now", "again",
    "too", "as well", "for me", "from my list", "on my list", "in my list",
];

pub(crate) const NUMBER_WORDS: &[&str] = &[
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
    "twenty",
];

pub(crate) const ORDINALS: &[&str] = &[
    "zeroth", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
    "tenth",
];

/// Verbs whose whole sentence is the task: "Schedule a meeting with Bob".
pub(crate) const TITLE_VERBS: &[&str] = &[
    "schedule", "book", "plan", "organize", "organise", "arrange", "buy", "call", "email",
    "pay", "pick up", "clean", "wash", "fix", "visit", "study", "cook", "prepare", "water",
    "feed", "walk", "renew", "submit", "send", "return", "finish up",
];

/// Words that name the task the conversation was just about.
pub(crate) const PREVIOUS: &[&str] = &[
    "it", "that", "this", "that one", "this one", "that task", "this task", "the task",
    "the same task", "the same one", "the one", "same", "the new task", "the new one",
];

/// Words that ask for every task at once.
pub(crate) const BULK_WORDS: &[&str] = &["all", "everything", "every", "each", "both"];

/// The end of "… on my shopping list": a preposition, a determiner, maybe a word, a list noun.
pub(crate) const LIST_NOUNS: &[&str] = &[
    "list", "tasks", "todos", "to-dos", "to-do", "todo", "agenda", "checklist",
];
