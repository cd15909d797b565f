//! The frontend binary: with no arguments it serves the UI.

fn main() {
    println!("todo frontend: skeleton");
}
