//! `up --target local`: the two release binaries the images carry, run as local processes in
//! the foreground until Ctrl-C (SQLite in `./data/`, logs in `target/up/`).

use std::time::Duration;

use anyhow::{Context, bail};
use xshell::Shell;

use crate::{catalog::SERVICES, images::fastpath, procs::Server, project};

pub fn up(
    sh: &Shell,
    ui_port: u16,
    api_port: u16,
    profile: fastpath::BuildProfile,
    timeout: Duration,
) -> anyhow::Result<()> {
    println!(
        "==> building the services (static binaries, profile {})",
        profile.name()
    );
    fastpath::build_static_binaries(sh, &SERVICES, profile)?;
    let logs = project::root().join("target").join("up");
    std::fs::create_dir_all(&logs).context("creating target/up")?;
    let [backend_service, frontend_service] = &SERVICES;
    let secret = super::secret::auth_secret()?;

    let backend = Server::start(
        "backend",
        duct::cmd!(fastpath::binary_path(backend_service, profile))
            .dir(project::root())
            .env("PORT", api_port.to_string())
            .env("BIND", "127.0.0.1")
            .env("BETTER_AUTH_SECRET", &secret),
        api_port,
        &logs.join("backend.log"),
    )?;
    let frontend = Server::start(
        "frontend",
        duct::cmd!(fastpath::binary_path(frontend_service, profile))
            .env("PORT", ui_port.to_string())
            .env("BIND", "127.0.0.1")
            .env("BACKEND_URL", &backend.base_url),
        ui_port,
        &logs.join("frontend.log"),
    )?;

    crate::runtime::block_on(async {
        let client = crate::http::client()?;
        backend.wait_ready(&client, "/readyz", timeout).await?;
        frontend.wait_ready(&client, "/readyz", timeout).await?;
        println!();
        println!("ready: UI  {}/", frontend.base_url);
        println!(
            "       API {}/api/openapi.json (SQLite in ./data, logs in {})",
            backend.base_url,
            logs.display()
        );
        println!("Ctrl-C stops both");
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => break,
                _ = tokio::time::sleep(Duration::from_secs(1)) => {
                    for server in [&backend, &frontend] {
                        if let Some(status) = server.exited() {
                            bail!("{} exited ({status}); its log:\n{}", server.name, server.log_tail());
                        }
                    }
                }
            }
        }
        println!("stopping");
        anyhow::Ok(())
    })?
}
