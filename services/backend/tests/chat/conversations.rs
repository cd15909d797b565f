//! Conversations: validation of messages, ownership, history endpoints, restart persistence.

use serde_json::json;

use super::support::*;

#[tokio::test]
async fn empty_blank_and_oversized_messages_are_422_and_store_nothing() {
    let app = sqlite_app().await;
    let chat = Chat::new(&app, "validation").await;
    for message in [String::new(), "   \n\t ".to_owned(), "x".repeat(4001)] {
        let said = chat.try_say(&message, None).await;
        assert_eq!(said.status, 422, "{} chars: {}", message.len(), said.body);
        assert_eq!(said.body["code"], "validation_error");
    }
    let said = chat.try_say(&"x".repeat(4000), None).await;
    assert_eq!(said.status, 200, "4000 characters are allowed");
    let said = chat
        .post(
            &format!("/api/{}/chat", chat.user.id),
            json!({"conversation_id": 1}),
        )
        .await;
    assert_eq!(
        said.status, 422,
        "a missing message is a validation error: {}",
        said.body
    );
    let conversations = chat
        .get(&format!("/api/{}/conversations", chat.user.id))
        .await;
    assert_eq!(
        conversations.body.as_array().unwrap().len(),
        1,
        "only the valid turn started one"
    );
}

#[tokio::test]
async fn unknown_and_other_users_conversations_are_404() {
    let app = sqlite_app().await;
    let mut ada = Chat::new(&app, "ada").await;
    let bob = Chat::new(&app, "bob").await;
    ada.say("add buy milk").await;
    let adas = ada.conversation_id.unwrap();
    let said = bob.try_say("show my tasks", Some(adas)).await;
    assert_eq!(
        said.status, 404,
        "bob cannot continue ada's conversation: {}",
        said.body
    );
    let said = bob
        .get(&format!(
            "/api/{}/conversations/{adas}/messages",
            bob.user.id
        ))
        .await;
    assert_eq!(said.status, 404, "nor read it");
    let said = ada.try_say("hi", Some(987_654_321)).await;
    assert_eq!(said.status, 404);
    assert_eq!(said.body["code"], "not_found");
}

#[tokio::test]
async fn chat_needs_a_token_for_the_users_own_path() {
    let app = sqlite_app().await;
    let ada = Chat::new(&app, "ada").await;
    let bob = Chat::new(&app, "bob").await;
    let anonymous = app
        .client
        .post(app.url(&format!("/api/{}/chat", ada.user.id)))
        .json(&json!({"message": "show my tasks"}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let said = bob
        .post(
            &format!("/api/{}/chat", ada.user.id),
            json!({"message": "hi"}),
        )
        .await;
    assert_eq!(said.status, 403, "bob's token on ada's path");
}

#[tokio::test]
async fn the_history_endpoints_show_each_turn() {
    let app = sqlite_app().await;
    let mut chat = Chat::new(&app, "history").await;
    chat.say("add buy milk").await;
    chat.say("show my tasks").await;
    let id = chat.conversation_id.unwrap();
    let conversations = chat
        .get(&format!("/api/{}/conversations", chat.user.id))
        .await;
    assert_eq!(conversations.status, 200);
    assert_eq!(conversations.body[0]["id"], id);
    let messages = chat
        .get(&format!(
            "/api/{}/conversations/{id}/messages",
            chat.user.id
        ))
        .await;
    let roles: Vec<&str> = messages
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["user", "assistant", "user", "assistant"]);
    assert_eq!(messages.body[0]["content"], "add buy milk");
    assert_eq!(messages.body[0]["tool_calls"], json!([]));
    assert_eq!(
        messages.body[1]["tool_calls"][0]["tool"], "add_task",
        "a reply read back later still lists the actions it took: {}",
        messages.body[1]
    );
    assert_eq!(
        messages.body[1]["tool_calls"][0]["output"]["title"],
        "Buy milk"
    );
    assert!(
        messages.body[3]["content"]
            .as_str()
            .unwrap()
            .contains("Buy milk")
    );
}

#[tokio::test]
async fn a_conversation_continues_after_a_restart_on_the_same_database() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("todo.db").display());
    let first = TestApp::spawn_on(&url, &[]).await;
    let mut chat = Chat::new(&first, "restart").await;
    chat.say("add buy milk").await;
    let (user, conversation) = (chat.user.clone(), chat.conversation_id);
    drop(chat);
    first.shutdown().await.unwrap();

    let second = TestApp::spawn_on(&url, &[]).await;
    let mut chat = Chat {
        app: &second,
        user,
        conversation_id: conversation,
    };
    let said = chat.say("show my tasks").await;
    assert_eq!(
        said.body["conversation_id"],
        conversation.unwrap(),
        "the same conversation"
    );
    assert!(said.response().contains("Buy milk"), "{}", said.response());
    let id = conversation.unwrap();
    let messages = chat
        .get(&format!(
            "/api/{}/conversations/{id}/messages",
            chat.user.id
        ))
        .await;
    assert_eq!(
        messages.body.as_array().unwrap().len(),
        4,
        "both turns are kept"
    );
}

#[tokio::test]
async fn chat_turns_are_counted_in_the_metrics() {
    let app = sqlite_app().await;
    let mut chat = Chat::new(&app, "metrics").await;
    chat.say("add buy milk").await;
    let text = app.metrics().await;
    for line in [
        "chat_turns_total{engine=\"builtin\",outcome=\"ok\"}",
        "chat_tool_calls_total{tool=\"add_task\",outcome=\"ok\"}",
        "chat_turn_duration_seconds_count{engine=\"builtin\"}",
    ] {
        assert!(text.contains(line), "/metrics has {line}");
    }
}

#[tokio::test]
async fn the_openapi_document_describes_the_chat_endpoints() {
    let app = sqlite_app().await;
    let doc: serde_json::Value = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/api/{user_id}/chat",
        "/api/{user_id}/conversations",
        "/api/{user_id}/conversations/{conversation_id}/messages",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} is documented");
    }
    let schemas = &doc["components"]["schemas"];
    assert!(schemas.get("ChatRequest").is_some() && schemas.get("ChatResponse").is_some());
}
