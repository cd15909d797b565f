//! The functional scenarios: what a user of the deployed stack does, through the frontend's
//! URL as the UI does it, each checked by its effect (the contract in docs/api.md).

use anyhow::{Context, ensure};
use reqwest::Method;
use serde_json::{Value, json};

use super::client::{Stack, User};

/// Both services answer their operations endpoints; the metrics the dashboard and alerts use
/// are exported, and the request counter moves after traffic.
pub async fn health(stack: &Stack) -> anyhow::Result<()> {
    for path in ["/healthz", "/readyz"] {
        stack
            .call(Method::GET, path, None, None)
            .await?
            .expect(200)?;
    }
    let openapi = stack
        .call(Method::GET, "/api/openapi.json", None, None)
        .await?
        .expect(200)?;
    ensure!(
        openapi["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "the backend's OpenAPI document is not 3.1: {}",
        openapi["openapi"]
    );
    let before = requests_counted(stack).await?;
    for _ in 0..5 {
        stack
            .call(Method::GET, "/healthz", None, None)
            .await?
            .expect(200)?;
    }
    let after = requests_counted(stack).await?;
    ensure!(
        after >= before + 5.0,
        "http_requests_total went from {before} to {after} after 5 requests"
    );
    Ok(())
}

/// The sum of the frontend's `http_requests_total` series.
async fn requests_counted(stack: &Stack) -> anyhow::Result<f64> {
    let answer = stack.call(Method::GET, "/metrics", None, None).await?;
    let text = answer.expect(200)?;
    let text = text.as_str().context("/metrics is not text")?;
    for name in [
        "http_request_duration_seconds_bucket",
        "backend_up",
        "app_build_info",
    ] {
        ensure!(text.contains(name), "/metrics has no {name} series");
    }
    Ok(super::modes::counter(text, "http_requests_total"))
}

/// Sign-up, sign-in, me; a duplicate email, a wrong password and an unknown email; throttling.
pub async fn accounts(stack: &Stack) -> anyhow::Result<()> {
    let user = stack.sign_up("accounts").await?;
    let signed_in = stack
        .call(
            Method::POST,
            "/api/auth/sign-in",
            None,
            Some(json!({"email": user.email, "password": user.password})),
        )
        .await?
        .expect(200)?;
    ensure!(
        signed_in["user"]["id"] == json!(user.id),
        "sign-in returned another user"
    );
    let token = signed_in["token"]
        .as_str()
        .context("sign-in gave no token")?;
    let me = stack
        .call(Method::GET, "/api/auth/me", Some(token), None)
        .await?
        .expect(200)?;
    ensure!(me["user"]["email"] == json!(user.email), "me: {me}");

    stack
        .call(
            Method::POST,
            "/api/auth/sign-up",
            None,
            Some(json!({"email": user.email, "password": "another-long-password"})),
        )
        .await?
        .expect(409)
        .context("a duplicate email")?;
    let wrong = stack
        .call(
            Method::POST,
            "/api/auth/sign-in",
            None,
            Some(json!({"email": user.email, "password": "not-the-password"})),
        )
        .await?
        .expect(401)?;
    let unknown = stack
        .call(
            Method::POST,
            "/api/auth/sign-in",
            None,
            Some(json!({"email": format!("nobody-{}@example.com", super::client::unique()), "password": "not-the-password"})),
        )
        .await?
        .expect(401)?;
    ensure!(
        wrong["detail"] == unknown["detail"],
        "a wrong password and an unknown email must read the same: {wrong} vs {unknown}"
    );
    stack
        .call(Method::GET, "/api/auth/me", Some("not-a-token"), None)
        .await?
        .expect(401)
        .context("a malformed token")?;

    let victim = stack.sign_up("throttled").await?;
    for attempt in 1..=20 {
        let answer = stack
            .call(
                Method::POST,
                "/api/auth/sign-in",
                None,
                Some(json!({"email": victim.email, "password": "wrong-password-again"})),
            )
            .await?;
        match answer.status.as_u16() {
            401 => continue,
            429 => return Ok(()),
            other => anyhow::bail!("attempt {attempt}: expected 401 or 429, got {other}"),
        }
    }
    anyhow::bail!("20 wrong passwords in a row were never throttled (429)")
}

/// Every task endpoint as the UI uses it, filters and sort, the validation limits, and two
/// users who cannot see each other's tasks.
pub async fn tasks(stack: &Stack) -> anyhow::Result<()> {
    let user = stack.sign_up("tasks").await?;
    let created = stack
        .user_call(
            &user,
            Method::POST,
            "tasks",
            Some(json!({"title": "Buy milk", "description": "2 litres"})),
        )
        .await?;
    let location_ok = created.status.as_u16() == 201;
    let milk = created.expect(201)?;
    ensure!(
        location_ok && milk["completed"] == json!(false),
        "created: {milk}"
    );
    let id = milk["id"].as_i64().context("a task id")?;
    for title in ["Call mom", "Archive photos"] {
        stack
            .user_call(&user, Method::POST, "tasks", Some(json!({"title": title})))
            .await?
            .expect(201)?;
    }
    let got = stack
        .user_call(&user, Method::GET, &format!("tasks/{id}"), None)
        .await?
        .expect(200)?;
    ensure!(
        got["title"] == "Buy milk" && got["description"] == "2 litres",
        "get: {got}"
    );

    let updated = stack
        .user_call(
            &user,
            Method::PUT,
            &format!("tasks/{id}"),
            Some(json!({"title": "Buy oat milk", "description": null})),
        )
        .await?
        .expect(200)?;
    ensure!(
        updated["title"] == "Buy oat milk" && updated["description"].is_null(),
        "PUT with description null clears it: {updated}"
    );
    ensure!(
        updated["updated_at"] != milk["updated_at"],
        "PUT did not move updated_at"
    );
    let done = stack
        .user_call(&user, Method::PATCH, &format!("tasks/{id}/complete"), None)
        .await?
        .expect(200)?;
    ensure!(done["completed"] == json!(true), "PATCH complete: {done}");

    let titles = |tasks: &[Value]| -> Vec<String> {
        tasks
            .iter()
            .filter_map(|t| t["title"].as_str().map(str::to_owned))
            .collect()
    };
    let completed = stack.tasks(&user, "?status=completed").await?;
    ensure!(
        titles(&completed) == ["Buy oat milk"],
        "completed: {:?}",
        titles(&completed)
    );
    let pending = stack
        .tasks(&user, "?status=pending&sort=title&order=asc")
        .await?;
    ensure!(
        titles(&pending) == ["Archive photos", "Call mom"],
        "pending by title: {:?}",
        titles(&pending)
    );
    let all = stack
        .tasks(&user, "?status=all&sort=created&order=desc")
        .await?;
    ensure!(
        all.len() == 3 && all[0]["title"] == "Archive photos",
        "all, newest first: {:?}",
        titles(&all)
    );

    for (body, want) in [
        (json!({"title": ""}), 422),
        (json!({"title": "x".repeat(201)}), 422),
        (json!({"title": "ok", "description": "d".repeat(1001)}), 422),
        (json!({"title": 42}), 422),
        (json!({}), 422),
    ] {
        let answer = stack
            .user_call(&user, Method::POST, "tasks", Some(body.clone()))
            .await?;
        ensure!(
            answer.status.as_u16() == want || (want == 422 && answer.status.as_u16() == 400),
            "{body} gave {} (want {want}): {}",
            answer.status,
            answer.body
        );
        ensure!(
            answer.body["code"].is_string(),
            "error without a code: {}",
            answer.body
        );
    }

    let other = stack.sign_up("other").await?;
    ensure!(
        stack.tasks(&other, "").await?.is_empty(),
        "a new user sees tasks"
    );
    stack
        .call(
            Method::GET,
            &format!("/api/{}/tasks/{id}", other.id),
            Some(&other.token),
            None,
        )
        .await?
        .expect(404)
        .context("another user's task must be 404")?;
    stack
        .call(
            Method::GET,
            &format!("/api/{}/tasks", user.id),
            Some(&other.token),
            None,
        )
        .await?
        .expect(403)
        .context("another user's path must be 403")?;
    stack
        .call(Method::GET, &format!("/api/{}/tasks", user.id), None, None)
        .await?
        .expect(401)
        .context("no token must be 401")?;

    stack
        .user_call(&user, Method::DELETE, &format!("tasks/{id}"), None)
        .await?
        .expect(204)?;
    stack
        .user_call(&user, Method::GET, &format!("tasks/{id}"), None)
        .await?
        .expect(404)
        .context("a deleted task")?;
    Ok(())
}

/// A conversation that adds, lists, completes, updates and deletes tasks, checked by its
/// effect on the task API; then resumed by id, and listed with its messages.
pub async fn chat(stack: &Stack) -> anyhow::Result<()> {
    let user = stack.sign_up("chat").await?;
    let first = stack
        .chat(&user, "Add a task to buy groceries", None)
        .await?;
    let conversation = first["conversation_id"]
        .as_i64()
        .context("a conversation id")?;
    ensure!(
        first["tool_calls"]
            .as_array()
            .is_some_and(|c| !c.is_empty()),
        "adding called no tool: {first}"
    );
    stack
        .chat(&user, "I need to remember to pay bills", Some(conversation))
        .await?;
    let tasks = stack.tasks(&user, "?sort=created&order=asc").await?;
    let titles: Vec<&str> = tasks.iter().filter_map(|t| t["title"].as_str()).collect();
    ensure!(
        titles == ["Buy groceries", "Pay bills"],
        "after two adds: {titles:?}"
    );
    let groceries = tasks[0]["id"].as_i64().context("an id")?;
    let bills = tasks[1]["id"].as_i64().context("an id")?;

    let listed = stack
        .chat(&user, "Show me all my tasks", Some(conversation))
        .await?;
    let reply = listed["response"].as_str().unwrap_or_default();
    ensure!(
        reply.contains("Buy groceries") && reply.contains("Pay bills"),
        "list reply: {reply}"
    );

    stack
        .chat(
            &user,
            &format!("Mark task {groceries} as complete"),
            Some(conversation),
        )
        .await?;
    let done = stack.tasks(&user, "?status=completed").await?;
    ensure!(
        done.len() == 1 && done[0]["id"] == json!(groceries),
        "completed: {done:?}"
    );

    stack
        .chat(
            &user,
            &format!("Change task {bills} to 'Pay the electricity bill'"),
            Some(conversation),
        )
        .await?;
    let renamed = stack
        .user_call(&user, Method::GET, &format!("tasks/{bills}"), None)
        .await?
        .expect(200)?;
    ensure!(
        renamed["title"] == "Pay the electricity bill",
        "renamed: {renamed}"
    );

    stack
        .chat(&user, "Delete the electricity task", Some(conversation))
        .await?;
    let left = stack.tasks(&user, "").await?;
    ensure!(
        left.len() == 1 && left[0]["id"] == json!(groceries),
        "after delete: {left:?}"
    );

    let conversations = stack
        .user_call(&user, Method::GET, "conversations", None)
        .await?
        .expect(200)?;
    ensure!(
        conversations
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["id"] == json!(conversation))),
        "the conversation is not listed: {conversations}"
    );
    let messages = stack
        .user_call(
            &user,
            Method::GET,
            &format!("conversations/{conversation}/messages"),
            None,
        )
        .await?
        .expect(200)?;
    let count = messages.as_array().map_or(0, Vec::len);
    ensure!(
        count == 12,
        "6 turns should store 12 messages, found {count}"
    );

    let other = stack.sign_up("chat-other").await?;
    let answer = stack
        .call(
            Method::POST,
            &format!("/api/{}/chat", other.id),
            Some(&other.token),
            Some(json!({"message": "Show me all my tasks", "conversation_id": conversation})),
        )
        .await?;
    ensure!(
        matches!(answer.status.as_u16(), 403 | 404),
        "someone else's conversation gave {}",
        answer.status
    );
    stack
        .user_call(&user, Method::POST, "chat", Some(json!({"message": "   "})))
        .await?
        .expect(422)
        .context("a blank message")?;
    Ok(())
}

/// Malformed JSON, wrong types, a body over the limit (through the frontend), hostile strings
/// stored and returned literally; no input gets a 5xx.
pub async fn bad_input(stack: &Stack) -> anyhow::Result<()> {
    let user = stack.sign_up("bad-input").await?;
    let path = format!("/api/{}/tasks", user.id);
    let raw = |body: Vec<u8>| {
        stack
            .http
            .post(stack.url(&path))
            .bearer_auth(&user.token)
            .header("content-type", "application/json")
            .body(body)
    };
    stack
        .send(raw(b"{\"title\": ".to_vec()), "malformed JSON")
        .await?
        .expect(400)
        .context("malformed JSON")?;
    stack
        .send(raw(b"[1, 2, 3]".to_vec()), "an array body")
        .await?
        .expect(422)
        .context("a JSON array where an object belongs")?;
    let mut big = br#"{"title": "big", "description": ""#.to_vec();
    big.extend(std::iter::repeat_n(b'a', 4 * 1024 * 1024));
    big.extend(br#""}"#);
    // The same body without a declared length, in chunks as a streaming client sends it: the
    // frontend reads it to its end before answering 413, so the client, still sending, gets the
    // answer and not a broken pipe (a hyper client through a NodePort did, before).
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = big
        .chunks(64 * 1024)
        .map(|chunk| Ok(chunk.to_vec()))
        .collect();
    let streamed = stack
        .http
        .post(stack.url(&path))
        .bearer_auth(&user.token)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)));
    stack
        .send(raw(big), "a 4 MiB body")
        .await?
        .expect(413)
        .context("a body over the limit, through the frontend")?;
    stack
        .send(streamed, "a 4 MiB chunked body")
        .await?
        .expect(413)
        .context("a chunked body over the limit, through the frontend")?;

    let hostile = [
        "Robert'); DROP TABLE tasks;--".to_owned(),
        "<script>alert('x')</script><img src=x onerror=alert(1)>".to_owned(),
        "\u{202e}reversed \u{0000}nul \u{1F600} ünïcödé 中文 العربية".replace('\u{0000}', ""),
        "mixed scripts "
            .repeat(10)
            .chars()
            .chain("ж中ع😀".chars().cycle().take(200))
            .collect::<String>(),
    ];
    for title in &hostile {
        let title: String = title.chars().take(200).collect();
        let created = stack
            .user_call(&user, Method::POST, "tasks", Some(json!({"title": title})))
            .await?
            .expect(201)?;
        ensure!(
            created["title"] == json!(title),
            "stored {title:?} came back as {}",
            created["title"]
        );
    }
    let description: String = "ab中😀".chars().cycle().take(1000).collect();
    let created = stack
        .user_call(
            &user,
            Method::POST,
            "tasks",
            Some(json!({"title": "long", "description": description})),
        )
        .await?
        .expect(201)?;
    ensure!(
        created["description"] == json!(description),
        "a 1000-character description changed"
    );
    let chat = stack
        .user_call(
            &user,
            Method::POST,
            "chat",
            Some(json!({"message": "x".repeat(10_000)})),
        )
        .await?;
    ensure!(
        matches!(chat.status.as_u16(), 413 | 422),
        "a 10,000-character chat message gave {}",
        chat.status
    );
    for (method, rest) in [
        (Method::GET, "tasks/not-a-number"),
        (Method::GET, "tasks/99999999999999999999"),
        (Method::GET, "tasks?status=sideways"),
        (Method::PATCH, "tasks/-1/complete"),
        (Method::DELETE, "tasks/0"),
    ] {
        let answer = stack.user_call(&user, method.clone(), rest, None).await?;
        ensure!(
            answer.status.is_client_error(),
            "{method} {rest} gave {} (want a 4xx): {}",
            answer.status,
            answer.body
        );
    }
    Ok(())
}

/// A user whose data the caller checks again later (after an upgrade or a restart).
pub async fn seed_marker(stack: &Stack) -> anyhow::Result<(User, i64)> {
    let user = stack.sign_up("marker").await?;
    let task = stack
        .user_call(
            &user,
            Method::POST,
            "tasks",
            Some(json!({"title": "survives upgrades"})),
        )
        .await?
        .expect(201)?;
    Ok((user, task["id"].as_i64().context("a task id")?))
}

/// The marker task is still there, and its user can still sign in.
pub async fn check_marker(stack: &Stack, user: &User, task: i64) -> anyhow::Result<()> {
    stack
        .call(
            Method::POST,
            "/api/auth/sign-in",
            None,
            Some(json!({"email": user.email, "password": user.password})),
        )
        .await?
        .expect(200)
        .context("the marker user cannot sign in any more")?;
    let got = stack
        .user_call(user, Method::GET, &format!("tasks/{task}"), None)
        .await?
        .expect(200)
        .context("the marker task is gone")?;
    ensure!(
        got["title"] == "survives upgrades",
        "marker task changed: {got}"
    );
    Ok(())
}
