//! Reads messages, one per line, from stdin and prints what the engine understands of each:
//! `printf 'delete the meeting task\n' | cargo run -p todo-nlu --example try`.

use std::io::BufRead;

fn main() {
    for line in std::io::stdin().lock().lines() {
        let line = line.unwrap_or_default();
        println!("{line:60} => {:?}", todo_nlu::understand(&line));
    }
}
