//! Bad input: every refusal is a JSON error with the contract's status, never a 500.

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

on_both_databases! {
    async fn malformed_json_is_400_not_422(app) {
        let user = app.sign_up(&email("malformed")).await;
        let id = create_task(&app, &user, "x").await["id"].as_i64().unwrap();
        for (method, path) in [(Method::POST, tasks_path(&user)), (Method::PUT, task_path(&user, id))] {
            for raw in ["{bad", "{\"title\": \"unterminated", "[1,"] {
                let request = app.client.request(method.clone(), app.url(&path))
                    .header("authorization", user.bearer())
                    .header("content-type", "application/json")
                    .body(raw);
                let reply = send(request, "malformed body").await;
                assert_eq!((reply.status, reply.code()), (400, "malformed_json"), "{method} {raw}");
            }
        }
        let empty = app.client.post(app.url(&tasks_path(&user)))
            .header("authorization", user.bearer())
            .header("content-type", "application/json");
        assert_eq!(send(empty, "empty body").await.status, 400);
    }

    async fn json_of_the_wrong_shape_is_422(app) {
        let user = app.sign_up(&email("shape")).await;
        for body in [json!({}), json!({"title": 5}), json!({"title": "ok", "description": ["x"]}), json!("a string")] {
            let reply = call(&app, Method::POST, &tasks_path(&user), Some(&user), Some(body.clone())).await;
            assert_eq!((reply.status, reply.code()), (422, "validation_error"), "{body}");
        }
        let id = create_task(&app, &user, "x").await["id"].as_i64().unwrap();
        let reply = call(&app, Method::PUT, &task_path(&user, id), Some(&user), Some(json!({"completed": "yes"}))).await;
        assert_eq!(reply.status, 422);
        // serde reads a struct from an array of its fields; the API takes objects only.
        for (method, path) in [(Method::POST, tasks_path(&user)), (Method::PUT, task_path(&user, id))] {
            for body in [json!(["from an array"]), json!([null, null]), json!(7)] {
                let reply = call(&app, method.clone(), &path, Some(&user), Some(body.clone())).await;
                assert_eq!((reply.status, reply.code()), (422, "validation_error"), "{method} {body}");
                assert!(reply.body["detail"].as_str().unwrap().contains("JSON object"), "{:?}", reply.body);
            }
        }
        let listed = call(&app, Method::GET, &tasks_path(&user), Some(&user), None).await;
        assert_eq!(listed.body[0]["title"], "x", "the refused bodies changed nothing: {:?}", listed.body);
        assert_eq!(listed.body.as_array().unwrap().len(), 1);
    }

    async fn title_limits_are_counted_in_characters(app) {
        let user = app.sign_up(&email("limits")).await;
        let emoji_200 = "🎉".repeat(200);
        let ok = call(&app, Method::POST, &tasks_path(&user), Some(&user), Some(json!({"title": emoji_200}))).await;
        assert_eq!(ok.status, 201, "200 emoji (800 bytes) are 200 characters: {:?}", ok.body);
        assert_eq!(ok.body["title"], emoji_200, "stored and returned unchanged");
        for (title, why) in [("🎉".repeat(201), "201 characters"), (String::new(), "empty"), ("   ".into(), "blank"), ("a".repeat(201), "201 ascii")] {
            let reply = call(&app, Method::POST, &tasks_path(&user), Some(&user), Some(json!({"title": title}))).await;
            assert_eq!(reply.status, 422, "{why}");
            assert!(reply.body["detail"].as_str().unwrap().contains("title"), "the message names the field: {:?}", reply.body);
        }
        let id = ok.body["id"].as_i64().unwrap();
        let reply = call(&app, Method::PUT, &task_path(&user, id), Some(&user), Some(json!({"title": ""}))).await;
        assert_eq!(reply.status, 422, "updates obey the same limits");
        let listed = call(&app, Method::GET, &tasks_path(&user), Some(&user), None).await;
        assert_eq!(listed.body.as_array().unwrap().len(), 1, "refused input created nothing");
    }

    async fn limits_count_the_characters_as_sent_and_titles_are_stored_trimmed(app) {
        let user = app.sign_up(&email("as-sent")).await;
        let padded = format!("  {}  ", "t".repeat(196));
        let ok = call(&app, Method::POST, &tasks_path(&user), Some(&user), Some(json!({"title": padded}))).await;
        assert_eq!(ok.status, 201, "200 characters as sent");
        assert_eq!(ok.body["title"], "t".repeat(196), "stored trimmed");
        let over = format!(" {} ", "t".repeat(199));
        let reply = call(&app, Method::POST, &tasks_path(&user), Some(&user), Some(json!({"title": over}))).await;
        assert_eq!(reply.status, 422, "201 characters as sent, 199 once trimmed");
        let blank = " ".repeat(1001);
        let reply = call(&app, Method::POST, &tasks_path(&user), Some(&user), Some(json!({"title": "t", "description": blank}))).await;
        assert_eq!(reply.status, 422, "a 1001-character description, even blank");
        let reply = call(&app, Method::POST, &tasks_path(&user), Some(&user), Some(json!({"title": "t", "description": "   "}))).await;
        assert_eq!((reply.status, &reply.body["description"]), (201, &json!(null)), "a short blank one is no description");
    }

    async fn description_limit_is_1000_characters(app) {
        let user = app.sign_up(&email("desc")).await;
        let ok = call(&app, Method::POST, &tasks_path(&user), Some(&user),
            Some(json!({"title": "t", "description": "ü".repeat(1000)}))).await;
        assert_eq!(ok.status, 201);
        let too_long = call(&app, Method::POST, &tasks_path(&user), Some(&user),
            Some(json!({"title": "t", "description": "ü".repeat(1001)}))).await;
        assert_eq!(too_long.status, 422);
        let id = ok.body["id"].as_i64().unwrap();
        let update = call(&app, Method::PUT, &task_path(&user, id), Some(&user),
            Some(json!({"description": "x".repeat(1001)}))).await;
        assert_eq!(update.status, 422);
    }

    async fn a_body_over_the_limit_is_413(app) {
        let user = app.sign_up(&email("big")).await;
        let huge = json!({"title": "t", "description": "x".repeat(1024 * 1024 + 10)});
        let reply = call(&app, Method::POST, &tasks_path(&user), Some(&user), Some(huge)).await;
        assert_eq!((reply.status, reply.code()), (413, "payload_too_large"));
    }

    async fn a_non_json_content_type_is_415(app) {
        let user = app.sign_up(&email("form")).await;
        let request = app.client.post(app.url(&tasks_path(&user)))
            .header("authorization", user.bearer())
            .header("content-type", "application/x-www-form-urlencoded")
            .body("title=x");
        let reply = send(request, "form body").await;
        assert_eq!(reply.status, 415);
        assert!(reply.body["detail"].as_str().unwrap().contains("application/json"), "says how to fix it");
    }

    async fn a_task_id_that_is_not_a_number_is_422(app) {
        let user = app.sign_up(&email("nan")).await;
        let reply = call(&app, Method::GET, &format!("{}/abc", tasks_path(&user)), Some(&user), None).await;
        assert_eq!((reply.status, reply.code()), (422, "validation_error"));
    }

    async fn unknown_routes_and_methods_answer_json(app) {
        let missing = call(&app, Method::GET, "/api/nothing/here/at/all", None, None).await;
        assert_eq!((missing.status, missing.code()), (404, "not_found"));
        let wrong_method = call(&app, Method::DELETE, "/healthz", None, None).await;
        assert_eq!((wrong_method.status, wrong_method.code()), (405, "method_not_allowed"));
    }
}

/// The whole exchange of a client that writes its entire request, then reads the answer (as
/// simple clients and proxies do). Fails if the connection is reset under the upload.
async fn send_whole_then_read(app: &TestApp, head: String, body: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut socket = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .expect("connect to the backend");
    let exchange = async {
        socket.write_all(head.as_bytes()).await?;
        socket.write_all(body).await?;
        socket.flush().await?;
        let mut answer = Vec::new();
        socket.read_to_end(&mut answer).await?;
        std::io::Result::Ok(answer)
    };
    let answer = tokio::time::timeout(std::time::Duration::from_secs(30), exchange)
        .await
        .expect("the exchange ends within 30 s")
        .unwrap_or_else(|e| panic!("the backend reset the connection under the upload: {e}"));
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_sends_its_whole_oversized_body_before_reading_gets_the_413() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let user = app.sign_up(&email("whole")).await;
    let path = tasks_path(&user);
    let mut json = br#"{"title": "big", "description": ""#.to_vec();
    json.resize(12 * 1024 * 1024, b'x');
    json.extend_from_slice(b"\"}");
    let mut chunked = Vec::new();
    for piece in json.chunks(64 * 1024) {
        chunked.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        chunked.extend_from_slice(piece);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let common = format!(
        "POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: {}\r\n\
         content-type: application/json\r\nconnection: close\r\n",
        user.bearer()
    );
    for (framing, head, body) in [
        (
            "Content-Length",
            format!("{common}content-length: {}\r\n\r\n", json.len()),
            &json,
        ),
        (
            "chunked",
            format!("{common}transfer-encoding: chunked\r\n\r\n"),
            &chunked,
        ),
    ] {
        let answer = send_whole_then_read(&app, head, body).await;
        assert!(
            answer.starts_with("HTTP/1.1 413"),
            "{framing}: the 413, read after the whole upload: {answer:.200}"
        );
        assert!(
            answer.contains("payload_too_large"),
            "{framing}: the JSON error: {answer:.400}"
        );
    }
}
