//! The UI in headless Chromium, driven through WebDriver (chromedriver) against the real
//! backend: sign up, add a task by chat, see it in the task panel, toggle it, reload, and find
//! everything still there. Screenshots go to `target/artifacts/ui-*.png`.
//!
//! Needs Debian's `chromium` and `chromium-driver`. Outside CI a missing browser skips the
//! test loudly; in CI (`CI=true`) it fails.

#![allow(clippy::unwrap_used)]

mod support;

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use fantoccini::{Client, ClientBuilder, Locator, key::Key};
use support::{Frontend, RealBackend, WAIT};
use tokio::process::{Child, Command};

/// The task the chat is asked to add, as the contract says the chatbot must title it.
const GROCERIES: &str = "Buy groceries";
/// The password of every account the tests create.
const PASSWORD: &str = "correct horse battery";

#[tokio::test]
async fn a_person_signs_up_adds_a_task_by_chat_toggles_it_and_finds_it_after_a_reload() {
    let Some((browser, driver)) = browser_tools() else {
        return;
    };
    let backend = RealBackend::spawn().await;
    let frontend = Frontend::spawn(&backend.url).await;
    let chromedriver = ChromeDriver::start(&driver).await;
    let page = chromedriver.session(&browser, 1280, 900).await;

    let mut outcome = walk_through(&page, &frontend).await;
    if outcome.is_ok() {
        outcome = chromedriver.no_console_errors(&page).await;
    }
    // Whatever happened, leave a picture of it: a failing run is where it helps most.
    save_screenshot(&page, "ui-desktop").await;
    if outcome.is_ok() {
        chromedriver.prefer_dark_scheme(&page).await;
        save_screenshot(&page, "ui-desktop-dark").await;
        page.set_window_size(390, 844).await.unwrap();
        save_screenshot(&page, "ui-phone-dark").await;
    }
    page.close().await.unwrap();
    if let Err(step) = outcome {
        panic!("{step}");
    }
}

#[tokio::test]
async fn the_task_panel_works_from_the_keyboard_alone() {
    let Some((browser, driver)) = browser_tools() else {
        return;
    };
    let backend = RealBackend::spawn().await;
    let frontend = Frontend::spawn(&backend.url).await;
    let chromedriver = ChromeDriver::start(&driver).await;
    let page = chromedriver.session(&browser, 1280, 900).await;

    let mut outcome = keyboard_walk_through(&page, &frontend).await;
    if outcome.is_ok() {
        outcome = chromedriver.no_console_errors(&page).await;
    }
    save_screenshot(&page, "ui-keyboard").await;
    page.close().await.unwrap();
    if let Err(step) = outcome {
        panic!("{step}");
    }
}

#[tokio::test]
async fn a_failed_chat_turn_is_shown_inline_and_succeeds_on_retry() {
    let Some((browser, driver)) = browser_tools() else {
        return;
    };
    let mut backend = RealBackend::spawn().await;
    let frontend = Frontend::spawn(&backend.url).await;
    let chromedriver = ChromeDriver::start(&driver).await;
    let page = chromedriver.session(&browser, 1280, 900).await;

    let outcome = async {
        page.goto(&frontend.url)
            .await
            .map_err(|e| format!("opening the UI: {e}"))?;
        sign_up_in_ui(&page, "Linus").await?;
        backend.stop().await;
        type_into(&page, "#chat-input", "Add a task to buy groceries").await?;
        click(&page, "#chat-send").await?;
        step(
            "an inline error offers a retry",
            page.wait()
                .at_most(WAIT)
                .for_element(Locator::Css(".msg-error button")),
        )
        .await?;
        save_screenshot(&page, "ui-chat-error").await;
        backend.restart().await;
        click(&page, ".msg-error button").await?;
        step(
            "the retried turn gets its reply",
            page.wait()
                .at_most(WAIT)
                .for_element(Locator::Css(".msg-assistant .action-added")),
        )
        .await?;
        let errors = step("counting errors", page.find_all(Locator::Css(".msg-error"))).await?;
        if !errors.is_empty() {
            return Err("the error must go away once the retry succeeded".to_owned());
        }
        let user_turns = step(
            "counting the user's messages",
            page.find_all(Locator::Css(".msg-user")),
        )
        .await?;
        if user_turns.len() != 1 {
            return Err(format!(
                "a retry must not repeat the message; {} shown",
                user_turns.len()
            ));
        }
        Ok::<(), String>(())
    }
    .await;
    page.close().await.unwrap();
    if let Err(step) = outcome {
        panic!("{step}");
    }
}

#[tokio::test]
async fn an_expired_session_leads_back_to_sign_in_with_a_reason() {
    let Some((browser, driver)) = browser_tools() else {
        return;
    };
    let backend = RealBackend::spawn().await;
    let frontend = Frontend::spawn(&backend.url).await;
    let chromedriver = ChromeDriver::start(&driver).await;
    let page = chromedriver.session(&browser, 1280, 900).await;

    let outcome = async {
        page.goto(&frontend.url)
            .await
            .map_err(|e| format!("opening the UI: {e}"))?;
        sign_up_in_ui(&page, "Barbara").await?;
        // A token the backend no longer accepts, as after its expiry.
        let spoil = "const s = JSON.parse(localStorage.getItem('todo.session'));
                     s.token = s.token.slice(0, -4) + 'AAAA';
                     localStorage.setItem('todo.session', JSON.stringify(s));";
        step("spoiling the stored token", page.execute(spoil, vec![])).await?;
        page.refresh()
            .await
            .map_err(|e| format!("reloading: {e}"))?;
        step(
            "the sign-in card comes back",
            page.wait()
                .at_most(WAIT)
                .for_element(Locator::Css("#auth-view:not([hidden])")),
        )
        .await?;
        step(
            "it says why",
            page.wait().at_most(WAIT).for_element(Locator::XPath(
                "//*[@id='auth-error'][contains(., 'session has ended')]",
            )),
        )
        .await?;
        let stored = step(
            "reading the stored session",
            page.execute("return localStorage.getItem('todo.session')", vec![]),
        )
        .await?;
        if !stored.is_null() {
            return Err(format!(
                "the rejected token must be forgotten, found {stored}"
            ));
        }
        Ok::<(), String>(())
    }
    .await;
    page.close().await.unwrap();
    if let Err(step) = outcome {
        panic!("{step}");
    }
}

/// Adds, renames, deletes (with undo) and filters tasks with key presses only.
async fn keyboard_walk_through(page: &Client, frontend: &Frontend) -> Result<(), String> {
    let enter = char::from(Key::Enter).to_string();
    page.goto(&frontend.url)
        .await
        .map_err(|e| format!("opening the UI: {e}"))?;
    sign_up_in_ui(page, "Ada").await?;

    for title in ["Water the plants", "Call mom"] {
        type_into(page, "#task-input", &format!("{title}{enter}")).await?;
        let label = format!("//ul[@id='task-list']//label[.='{title}']");
        step(
            &format!("“{title}” appears"),
            page.wait()
                .at_most(WAIT)
                .for_element(Locator::XPath(&label)),
        )
        .await?;
    }

    type_into(page, "button[aria-label='Edit “Call mom”']", &enter).await?;
    let focused = step(
        "reading the focused element",
        page.execute("return document.activeElement.className", vec![]),
    )
    .await?;
    if focused != "task-edit" {
        return Err(format!(
            "Edit must put the focus in the title field, not in `{focused}`"
        ));
    }
    // The title is selected for replacing; End keeps it and appends instead.
    let end = char::from(Key::End);
    type_into(page, ".task-edit", &format!("{end} tonight{enter}")).await?;
    step(
        "the renamed task is shown",
        page.wait().at_most(WAIT).for_element(Locator::XPath(
            "//ul[@id='task-list']//label[.='Call mom tonight']",
        )),
    )
    .await?;

    type_into(
        page,
        "button[aria-label='Delete “Water the plants”']",
        &enter,
    )
    .await?;
    step(
        "the undo offer appears",
        page.wait()
            .at_most(WAIT)
            .for_element(Locator::Css("#toast:not([hidden])")),
    )
    .await?;
    type_into(page, "#toast-action", &enter).await?;
    let watered = "//ul[@id='task-list']//label[.='Water the plants']";
    step(
        "undo brings the task back",
        page.wait()
            .at_most(WAIT)
            .for_element(Locator::XPath(watered)),
    )
    .await?;

    type_into(page, "button[data-filter='completed']", &enter).await?;
    step(
        "the completed filter shows none",
        page.wait()
            .at_most(WAIT)
            .for_element(Locator::Css("#task-empty:not([hidden])")),
    )
    .await?;
    type_into(page, "button[data-filter='all']", &enter).await?;

    type_into(
        page,
        "button[aria-label='Delete “Water the plants”']",
        &enter,
    )
    .await?;
    // The deletion is sent when the undo window closes: wait for it, then check on the server.
    step(
        "the undo window closes",
        page.wait()
            .at_most(WAIT)
            .for_element(Locator::Css("#toast[hidden]")),
    )
    .await?;
    page.refresh()
        .await
        .map_err(|e| format!("reloading: {e}"))?;
    step(
        "after a reload the renamed task is there",
        page.wait().at_most(WAIT).for_element(Locator::XPath(
            "//ul[@id='task-list']//label[.='Call mom tonight']",
        )),
    )
    .await?;
    let left = step("counting tasks", page.find_all(Locator::XPath(watered))).await?;
    if !left.is_empty() {
        return Err("the deleted task came back after a reload".to_owned());
    }
    Ok(())
}

/// The person's path through the UI; an error names the step that failed.
async fn walk_through(page: &Client, frontend: &Frontend) -> Result<(), String> {
    page.goto(&frontend.url)
        .await
        .map_err(|e| format!("opening the UI: {e}"))?;

    step(
        "the sign-in card appears",
        page.wait()
            .at_most(WAIT)
            .for_element(Locator::Css("#auth-view:not([hidden])")),
    )
    .await?;
    let title = step(
        "reading the card's title",
        page.find(Locator::Id("auth-title")),
    )
    .await?;
    let greeting = step("reading the greeting", title.text()).await?;
    if greeting != "Create your account" {
        return Err(format!(
            "a browser nobody signed in on opens on creating an account, not on `{greeting}`"
        ));
    }
    let first_load = first_load_bytes(page).await?;
    eprintln!("first load, as the browser counts it (headers included): {first_load} bytes");
    if first_load >= 100 * 1024 {
        return Err(format!(
            "the first load transferred {first_load} bytes; the budget is 100 KB"
        ));
    }
    sign_up_in_ui(page, "Grace Hopper").await?;

    type_into(page, "#chat-input", "Add a task to buy groceries").await?;
    type_into(page, "#chat-input", &char::from(Key::Enter).to_string()).await?;
    step(
        "the assistant's reply shows the task it added",
        page.wait()
            .at_most(WAIT)
            .for_element(Locator::Css(".msg-assistant .action-added")),
    )
    .await?;
    let task_title = format!("//ul[@id='task-list']//label[contains(., '{GROCERIES}')]");
    let title = step(
        "the task appears in the task panel",
        page.wait()
            .at_most(WAIT)
            .for_element(Locator::XPath(&task_title)),
    )
    .await?;

    let checkbox_id = title
        .attr("for")
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the task's label names no checkbox")?;
    click(page, &format!("#{checkbox_id}")).await?;
    step(
        "the toggled task is shown as done",
        page.wait()
            .at_most(WAIT)
            .for_element(Locator::Css(&format!("li.is-done #{checkbox_id}"))),
    )
    .await?;
    // The PATCH must have landed before the reload, so wait for the summary to count it.
    step(
        "the summary counts the task as done",
        page.wait().at_most(WAIT).for_element(Locator::XPath(
            "//*[@id='task-summary'][contains(., '1 done')]",
        )),
    )
    .await?;
    let task_id = checkbox_id.trim_start_matches("task-");
    say(page, &format!("Mark task {task_id} as complete")).await?;
    step(
        "completing it again is answered as complete already",
        page.wait().at_most(WAIT).for_element(Locator::XPath(
            "//*[contains(@class, 'msg-assistant')][contains(., 'was already complete')]\
             //li[contains(@class, 'action-completed')][contains(., 'already complete')]",
        )),
    )
    .await?;
    say(page, "Show me all my tasks").await?;
    step(
        "the listing is drawn as a checklist with the task ticked",
        page.wait()
            .at_most(WAIT)
            .for_element(Locator::XPath(&format!(
                "//*[contains(@class, 'msg-assistant')]//ul[contains(@class, 'checklist')]\
             /li[contains(@class, 'is-done')][contains(., '{GROCERIES}')]"
            ))),
    )
    .await?;
    let raw = step(
        "looking for Markdown shown as text",
        page.find_all(Locator::XPath("//*[@id='messages']//*[contains(., '[x]')]")),
    )
    .await?;
    if !raw.is_empty() {
        return Err("a reply shows its Markdown (`[x]`) as text".to_owned());
    }
    // Side by side, each panel scrolls on its own; on a phone only the conversation does.
    assert_layout_holds(page, "desktop", &["messages", "task-list"]).await?;
    save_screenshot(page, "ui-desktop-chat").await;
    page.set_window_size(390, 844)
        .await
        .map_err(|e| e.to_string())?;
    assert_layout_holds(page, "phone (390 px)", &["messages"]).await?;
    save_screenshot(page, "ui-phone").await;
    page.set_window_size(1280, 900)
        .await
        .map_err(|e| e.to_string())?;

    page.refresh()
        .await
        .map_err(|e| format!("reloading: {e}"))?;
    step(
        "the workspace comes back after a reload",
        page.wait()
            .at_most(WAIT)
            .for_element(Locator::Css("#app-view:not([hidden])")),
    )
    .await?;
    step(
        "the task is still there, still done",
        page.wait()
            .at_most(WAIT)
            .for_element(Locator::Css(&format!("li.is-done #{checkbox_id}:checked"))),
    )
    .await?;
    step(
        "the conversation is still there",
        page.wait().at_most(WAIT).for_element(Locator::XPath(
            "//*[@id='messages']//*[contains(., 'Add a task to buy groceries')]",
        )),
    )
    .await?;
    step(
        "the reply still shows the action it took",
        page.wait()
            .at_most(WAIT)
            .for_element(Locator::Css(".msg-assistant .action-added")),
    )
    .await?;
    sign_in_again_elsewhere(page).await
}

/// Signs out, forgets which conversation this browser had open (as on another device), signs
/// in again, and expects the earlier conversation back with the picker offering it.
async fn sign_in_again_elsewhere(page: &Client) -> Result<(), String> {
    let email = step(
        "reading the account's email",
        page.execute(
            "return JSON.parse(localStorage.getItem('todo.session')).user.email",
            vec![],
        ),
    )
    .await?;
    let email = email
        .as_str()
        .ok_or("the session holds no email")?
        .to_owned();
    click(page, "#sign-out").await?;
    step(
        "a returning visitor is welcomed back",
        page.wait()
            .at_most(WAIT)
            .for_element(Locator::XPath("//*[@id='auth-title'][.='Welcome back']")),
    )
    .await?;
    let forget = "for (const key of Object.keys(localStorage)) {
                    if (key.startsWith('todo.conversation.')) localStorage.removeItem(key);
                  }";
    step(
        "forgetting the open conversation",
        page.execute(forget, vec![]),
    )
    .await?;
    type_into(page, "#auth-email", &email).await?;
    type_into(page, "#auth-password", PASSWORD).await?;
    click(page, "#auth-submit").await?;
    step(
        "after signing in again the earlier conversation is shown",
        page.wait().at_most(WAIT).for_element(Locator::XPath(
            "//*[@id='messages']//*[contains(., 'Add a task to buy groceries')]",
        )),
    )
    .await?;
    step(
        "the picker offers the earlier conversation",
        page.wait().at_most(WAIT).for_element(Locator::Css(
            "#history-field:not([hidden]) #history option[value]:not([value=''])",
        )),
    )
    .await?;
    Ok(())
}

/// Sends a chat message and waits for the turn to end (the typing indicator hidden again).
async fn say(page: &Client, message: &str) -> Result<(), String> {
    let before = step(
        "counting replies",
        page.find_all(Locator::Css(".msg-assistant")),
    )
    .await?
    .len();
    type_into(page, "#chat-input", message).await?;
    type_into(page, "#chat-input", &char::from(Key::Enter).to_string()).await?;
    step(
        &format!("the reply to {message:?}"),
        page.wait()
            .at_most(WAIT)
            .for_element(Locator::XPath(&format!(
                "(//*[contains(@class, 'msg-assistant')])[{}]",
                before + 1
            ))),
    )
    .await?;
    Ok(())
}

/// What the page checks of its own layout: nothing spills out of its card or makes the page
/// scroll sideways, the message box never needs a scrollbar (empty, or after a message), its
/// placeholder fits on one line, and no element scrolls but the ones named in `arguments[0]`.
const LAYOUT_PROBLEMS: &str = r#"
const problems = [];
const root = document.documentElement;
if (root.scrollWidth > innerWidth + 1) {
  problems.push(`the page scrolls sideways: ${root.scrollWidth} px wide in a ${innerWidth} px window`);
}
const scrollable = (el) => /(auto|scroll|hidden)/.test(getComputedStyle(el).overflowY);
const describe = (el) => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className ? '.' + String(el.className).split(' ').join('.') : ''}`;
for (const card of document.querySelectorAll('.card')) {
  if (card.offsetParent === null) continue;
  const box = card.getBoundingClientRect();
  for (const el of card.querySelectorAll('*')) {
    if (el.offsetParent === null || el.closest('.visually-hidden')) continue;
    let clipper = el.parentElement;
    while (clipper && clipper !== card && !scrollable(clipper)) clipper = clipper.parentElement;
    if (clipper && clipper !== card) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1) {
      problems.push(`${describe(el)} spills out of its card ${describe(card)}`);
    }
  }
}
const input = document.getElementById('chat-input');
if (input.scrollHeight > input.clientHeight + 1) {
  problems.push(`the message box needs a scrollbar: ${input.scrollHeight} px of content in ${input.clientHeight} px`);
}
const style = getComputedStyle(input);
const pen = document.createElement('canvas').getContext('2d');
pen.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
const wide = pen.measureText(input.placeholder).width;
if (wide > room) problems.push(`the placeholder needs ${Math.ceil(wide)} px on a line of ${Math.floor(room)} px`);
for (const el of document.querySelectorAll('body *')) {
  const overflow = getComputedStyle(el).overflowY;
  if (!arguments[0].includes(el.id) && /(auto|scroll)/.test(overflow) && el.scrollHeight > el.clientHeight + 1) {
    problems.push(`${describe(el)} is a scroll area of its own`);
  }
}
return problems;
"#;

/// Fails with every problem `LAYOUT_PROBLEMS` finds; `scroll_areas` are the ids of the elements
/// that may scroll inside the page.
async fn assert_layout_holds(
    page: &Client,
    width: &str,
    scroll_areas: &[&str],
) -> Result<(), String> {
    let found = step(
        &format!("checking the layout at {width}"),
        page.execute(LAYOUT_PROBLEMS, vec![serde_json::json!(scroll_areas)]),
    )
    .await?;
    let problems: Vec<String> = serde_json::from_value(found.clone())
        .map_err(|e| format!("the layout check returned {found}: {e}"))?;
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("the layout breaks at {width}: {problems:#?}"))
    }
}

/// Creates an account through the sign-up card and waits for the workspace.
async fn sign_up_in_ui(page: &Client, name: &str) -> Result<(), String> {
    click(page, "#tab-sign-up").await?;
    let email = format!("browser-{}@example.com", uuid::Uuid::new_v4().simple());
    type_into(page, "#auth-name", name).await?;
    type_into(page, "#auth-email", &email).await?;
    type_into(page, "#auth-password", PASSWORD).await?;
    click(page, "#auth-submit").await?;
    step(
        "the workspace appears after sign-up",
        page.wait()
            .at_most(WAIT)
            .for_element(Locator::Css("#app-view:not([hidden])")),
    )
    .await?;
    Ok(())
}

/// Bytes the browser transferred for the page and everything it loaded (Resource Timing).
async fn first_load_bytes(page: &Client) -> Result<u64, String> {
    let script = "const all = [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')];
                  return all.reduce((sum, entry) => sum + entry.transferSize, 0);";
    let total = step(
        "reading the page's resource timings",
        page.execute(script, vec![]),
    )
    .await?;
    total
        .as_u64()
        .filter(|bytes| *bytes > 0)
        .ok_or_else(|| format!("the browser reported no transfer size: {total}"))
}

async fn step<T>(
    what: &str,
    action: impl Future<Output = Result<T, fantoccini::error::CmdError>>,
) -> Result<T, String> {
    action
        .await
        .map_err(|e| format!("step failed: {what}: {e}"))
}

async fn click(page: &Client, css: &str) -> Result<(), String> {
    let element = step(
        &format!("finding {css}"),
        page.wait().at_most(WAIT).for_element(Locator::Css(css)),
    )
    .await?;
    step(&format!("clicking {css}"), element.click()).await
}

async fn type_into(page: &Client, css: &str, text: &str) -> Result<(), String> {
    let element = step(&format!("finding {css}"), page.find(Locator::Css(css))).await?;
    step(&format!("typing into {css}"), element.send_keys(text)).await
}

async fn save_screenshot(page: &Client, name: &str) {
    let png = page.screenshot().await.unwrap();
    let folder = artifacts_dir();
    std::fs::create_dir_all(&folder).unwrap();
    let path = folder.join(format!("{name}.png"));
    std::fs::write(&path, png).unwrap();
    eprintln!("screenshot saved: {}", path.display());
}

/// `target/artifacts/` of the workspace (or of `CARGO_TARGET_DIR`).
fn artifacts_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("artifacts")
}

/// Chromium and chromedriver, or `None` after saying loudly why the test is skipped; in CI
/// (`CI=true`) a missing tool fails the test instead (the rule of `xtask`'s `skip_or_fail`).
fn browser_tools() -> Option<(PathBuf, PathBuf)> {
    let browser = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| which(name));
    let driver = which("chromedriver");
    match (browser, driver) {
        (Some(browser), Some(driver)) => Some((browser, driver)),
        _ => {
            let why = "chromium and chromedriver are needed; install them with: \
                       apt-get update && apt-get install -y chromium chromium-driver";
            let in_ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
            assert!(!in_ci, "the browser test cannot run in CI: {why}");
            eprintln!("\n!!!! SKIPPED browser test: {why}\n!!!! (in CI this is a failure)\n");
            None
        }
    }
}

fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// A chromedriver on a free port, killed when dropped.
struct ChromeDriver {
    url: String,
    _process: Child,
}

impl ChromeDriver {
    async fn start(driver: &Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let process = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let url = format!("http://127.0.0.1:{port}");
        let http = support::client();
        let started = tokio::time::Instant::now();
        while !http
            .get(format!("{url}/status"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            assert!(
                started.elapsed() < WAIT,
                "chromedriver did not start on port {port}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self {
            url,
            _process: process,
        }
    }

    /// Fails with the browser's console errors (script errors, CSP violations, failed loads).
    async fn no_console_errors(&self, page: &Client) -> Result<(), String> {
        let session = page.session_id().await.unwrap().unwrap();
        let answer = support::client()
            .post(format!("{}/session/{session}/se/log", self.url))
            .json(&serde_json::json!({"type": "browser"}))
            .send()
            .await
            .unwrap();
        let body: serde_json::Value = answer.json().await.unwrap();
        let entries = body["value"]
            .as_array()
            .ok_or_else(|| format!("chromedriver gave no browser log: {body}"))?;
        let errors: Vec<&str> = entries
            .iter()
            .filter(|entry| entry["level"] == "SEVERE")
            .filter_map(|entry| entry["message"].as_str())
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!("the browser console shows errors: {errors:#?}"))
        }
    }

    /// Makes the page match `prefers-color-scheme: dark` (Chrome DevTools protocol).
    async fn prefer_dark_scheme(&self, page: &Client) {
        let session = page.session_id().await.unwrap().unwrap();
        let command = serde_json::json!({
            "cmd": "Emulation.setEmulatedMedia",
            "params": {"features": [{"name": "prefers-color-scheme", "value": "dark"}]},
        });
        let answer = support::client()
            .post(format!("{}/session/{session}/goog/cdp/execute", self.url))
            .json(&command)
            .send()
            .await
            .unwrap();
        assert!(
            answer.status().is_success(),
            "chromedriver refused the dark scheme: {}",
            answer.text().await.unwrap()
        );
    }

    async fn session(&self, browser: &Path, width: u32, height: u32) -> Client {
        let mut capabilities = fantoccini::wd::Capabilities::new();
        capabilities.insert(
            "goog:loggingPrefs".to_owned(),
            serde_json::json!({"browser": "ALL"}),
        );
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            serde_json::json!({
                "binary": browser,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         format!("--window-size={width},{height}"), "--hide-scrollbars"],
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .unwrap()
    }
}
