//! A screenshot of a page by headless Chromium's own `--screenshot`, into `target/artifacts/`.

use std::{path::PathBuf, time::Duration};

use anyhow::{Context, bail};

use crate::project;

/// The browsers tried, in order.
const BROWSERS: [&str; 3] = ["chromium", "chromium-browser", "google-chrome"];

/// The first Chromium on PATH.
pub fn browser() -> Option<PathBuf> {
    BROWSERS.iter().find_map(|name| which::which(name).ok())
}

/// How long the browser may take to load and draw the page.
const WITHIN: Duration = Duration::from_secs(60);

/// Loads `url` at 1280 px wide and saves what it draws as `target/artifacts/<name>`.
pub fn take(url: &str, name: &str) -> anyhow::Result<PathBuf> {
    let browser = browser().context(
        "no Chromium to take the screenshot: apt-get update && apt-get install -y chromium",
    )?;
    let dir = project::root().join("target").join("artifacts");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    let profile = tempfile::tempdir().context("creating a browser profile folder")?;
    let expression = duct::cmd(
        &browser,
        [
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--hide-scrollbars".to_owned(),
            format!("--user-data-dir={}", profile.path().display()),
            "--window-size=1280,3000".to_owned(),
            format!("--screenshot={}", path.display()),
            url.to_owned(),
        ],
    )
    .stdout_null()
    .stderr_capture()
    .unchecked();
    let handle = expression.start().context("starting Chromium")?;
    let started = std::time::Instant::now();
    let output = loop {
        if let Some(output) = handle.try_wait().context("waiting for Chromium")? {
            break output.clone();
        }
        if started.elapsed() > WITHIN {
            let _ = handle.kill();
            bail!("Chromium did not draw {url} within {} s", WITHIN.as_secs());
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    if !output.status.success() || !path.is_file() {
        bail!(
            "Chromium drew no screenshot of {url}: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(path)
}
