//! `cargo xtask`: the Todo Chatbot's lifecycle automation.
//!
//! `main` only parses flags and dispatches; every command lives in its own module as a
//! `run` method on its flags struct.

mod bench;
mod catalog;
mod dev;
mod doctor;
mod e2e;
mod engine;
mod helm;
mod http;
mod images;
mod kube;
mod lint;
mod logs;
mod manifests;
mod monitoring;
mod poll;
mod postgres;
mod procs;
mod project;
mod pytools;
mod runtime;
mod status;
mod test;
mod tokens;
mod up;

use clap::{Parser, Subcommand};
use xshell::Shell;

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "Build, verify and deploy the Todo Chatbot",
    version
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Bench(bench::Bench),
    Dev(dev::Dev),
    Doctor(doctor::Doctor),
    Images(images::Images),
    Lint(lint::Lint),
    Logs(logs::Logs),
    Manifests(manifests::Manifests),
    Status(status::Status),
    Test(test::Test),
    TestE2e(e2e::TestE2e),
    Up(up::Up),
    Down(up::Down),
}

fn main() {
    let cli = Cli::parse();
    // One process-wide TLS provider (ring, as the services use) for every client the xtask
    // builds: reqwest (bench, up, lint) and bollard with TLS engines (`minikube docker-env`).
    // It can only fail if a provider is already installed, which is then the one used.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let result = Shell::new().map_err(anyhow::Error::from).and_then(|sh| {
        sh.change_dir(project::root());
        match cli.command {
            Command::Bench(cmd) => cmd.run(&sh),
            Command::Dev(cmd) => cmd.run(&sh),
            Command::Doctor(cmd) => cmd.run(&sh),
            Command::Images(cmd) => cmd.run(&sh),
            Command::Lint(cmd) => cmd.run(&sh),
            Command::Logs(cmd) => cmd.run(&sh),
            Command::Manifests(cmd) => cmd.run(&sh),
            Command::Status(cmd) => cmd.run(&sh),
            Command::Test(cmd) => cmd.run(&sh),
            Command::TestE2e(cmd) => cmd.run(&sh),
            Command::Up(cmd) => cmd.run(&sh),
            Command::Down(cmd) => cmd.run(&sh),
        }
    });
    if let Err(err) = result {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}
