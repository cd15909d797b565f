//! The backend binary: with no arguments it serves; subcommands do one job and exit.

fn main() {
    println!("todo backend: skeleton");
}
