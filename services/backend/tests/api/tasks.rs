//! The Task API, endpoint by endpoint and status by status.

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

/// The titles of the user's listing, completed ones marked with a ✓.
async fn listed(app: &TestApp, user: &TestUser) -> Vec<String> {
    let reply = call(app, Method::GET, &tasks_path(user), Some(user), None).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|task| {
            let title = task["title"].as_str().unwrap();
            if task["completed"] == true {
                format!("{title} ✓")
            } else {
                title.to_owned()
            }
        })
        .collect()
}

/// How many listings the backend answered from its cache, from `/metrics`.
async fn listings_from_cache(app: &TestApp) -> u64 {
    let text = app.metrics().await;
    text.lines()
        .find(|line| line.starts_with("todo_listing_cache_lookups_total{result=\"hit\"}"))
        .and_then(|line| line.rsplit(' ').next()?.parse().ok())
        .unwrap_or(0)
}

/// Two replicas on one PostgreSQL database: a listing one of them keeps shows a write made
/// through the other at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_through_one_replica_shows_in_the_next_listing_of_another() {
    let Some(database) = todo_testkit::TestPostgres::fresh().await else {
        return;
    };
    let (writer, reader) = tokio::join!(
        TestApp::spawn_on(&database.url, &[]),
        TestApp::spawn_on(&database.url, &[]),
    );
    let ada = writer.sign_up(&email("replicas")).await;
    let first = create_task(&writer, &ada, "first").await["id"]
        .as_i64()
        .unwrap();
    assert_eq!(listed(&reader, &ada).await, ["first"]);
    let hits = listings_from_cache(&reader).await;
    assert_eq!(listed(&reader, &ada).await, ["first"]);
    assert!(
        listings_from_cache(&reader).await > hits,
        "the reader kept the listing"
    );

    create_task(&writer, &ada, "second").await;
    assert_eq!(
        listed(&reader, &ada).await,
        ["first", "second"],
        "after a create on the other replica"
    );
    let toggled = call(
        &writer,
        Method::PATCH,
        &format!("{}/complete", task_path(&ada, first)),
        Some(&ada),
        None,
    )
    .await;
    assert_eq!(toggled.status, 200);
    assert_eq!(
        listed(&reader, &ada).await,
        ["first ✓", "second"],
        "after a toggle on the other replica"
    );
    let deleted = call(
        &writer,
        Method::DELETE,
        &task_path(&ada, first),
        Some(&ada),
        None,
    )
    .await;
    assert_eq!(deleted.status, 204);
    assert_eq!(
        listed(&reader, &ada).await,
        ["second"],
        "after a delete on the other replica"
    );
}

on_both_databases! {
    async fn every_kind_of_write_shows_in_the_next_listing(app) {
        let ada = app.sign_up(&email("kept")).await;
        let bob = app.sign_up(&email("other")).await;
        let first = create_task(&app, &ada, "first").await["id"].as_i64().unwrap();
        assert_eq!(listed(&app, &ada).await, ["first"]);
        assert_eq!(listed(&app, &ada).await, ["first"], "a listing read twice without a write");
        assert!(listings_from_cache(&app).await >= 1, "the listing is kept between writes");

        create_task(&app, &ada, "second").await;
        assert_eq!(listed(&app, &ada).await, ["first", "second"], "after a create");
        let renamed = call(&app, Method::PUT, &task_path(&ada, first), Some(&ada), Some(json!({"title": "renamed"}))).await;
        assert_eq!(renamed.status, 200);
        assert_eq!(listed(&app, &ada).await, ["renamed", "second"], "after an update");
        let toggled = call(&app, Method::PATCH, &format!("{}/complete", task_path(&ada, first)), Some(&ada), None).await;
        assert_eq!(toggled.status, 200);
        assert_eq!(listed(&app, &ada).await, ["renamed ✓", "second"], "after a toggle");
        let deleted = call(&app, Method::DELETE, &task_path(&ada, first), Some(&ada), None).await;
        assert_eq!(deleted.status, 204, "{:?}", deleted.body);
        assert_eq!(listed(&app, &ada).await, ["second"], "after a delete");
        let chat = call(&app, Method::POST, &format!("/api/{}/chat", ada.id), Some(&ada), Some(json!({"message": "add a task to buy milk"}))).await;
        assert_eq!(chat.status, 200, "{:?}", chat.body);
        assert_eq!(listed(&app, &ada).await, ["second", "Buy milk"], "after a chat turn");

        assert!(listed(&app, &bob).await.is_empty(), "another user's listing is not ada's");
        create_task(&app, &bob, "bob's").await;
        assert_eq!(listed(&app, &ada).await, ["second", "Buy milk"], "bob's write leaves ada's listing");
        assert_eq!(listed(&app, &bob).await, ["bob's"]);
    }

    async fn create_returns_201_the_task_and_its_location(app) {
        let user = app.sign_up(&email("create")).await;
        let reply = call(&app, Method::POST, &tasks_path(&user), Some(&user),
            Some(json!({"title": "Buy groceries", "description": "milk, eggs"}))).await;
        assert_eq!(reply.status, 201, "{:?}", reply.body);
        let task = &reply.body;
        let id = task["id"].as_i64().expect("integer id");
        assert_eq!(task["user_id"], user.id.as_str());
        assert_eq!(task["title"], "Buy groceries");
        assert_eq!(task["description"], "milk, eggs");
        assert_eq!(task["completed"], false);
        assert_eq!(task["created_at"], task["updated_at"], "a new task was never updated");
        assert!(task["created_at"].as_str().unwrap().ends_with('Z'), "timestamps are UTC RFC 3339");
        let location = reply.header("location").expect("a Location header");
        assert_eq!(location, task_path(&user, id));
        let fetched = call(&app, Method::GET, location, Some(&user), None).await;
        assert_eq!(fetched.status, 200);
        assert_eq!(&fetched.body, task, "GET at the Location returns the same task");
    }

    async fn list_returns_only_the_users_tasks_in_creation_order(app) {
        let ada = app.sign_up(&email("ada")).await;
        let bob = app.sign_up(&email("bob")).await;
        for title in ["first", "second", "third"] {
            create_task(&app, &ada, title).await;
        }
        create_task(&app, &bob, "bob's").await;
        let reply = call(&app, Method::GET, &tasks_path(&ada), Some(&ada), None).await;
        assert_eq!(reply.status, 200);
        let titles: Vec<&str> = reply.body.as_array().unwrap().iter().map(|t| t["title"].as_str().unwrap()).collect();
        assert_eq!(titles, ["first", "second", "third"], "ada sees only hers, oldest first");
    }

    async fn list_filters_by_status(app) {
        let user = app.sign_up(&email("status")).await;
        let done = create_task(&app, &user, "done").await;
        create_task(&app, &user, "open").await;
        let id = done["id"].as_i64().unwrap();
        let toggled = call(&app, Method::PATCH, &format!("{}/complete", task_path(&user, id)), Some(&user), None).await;
        assert_eq!(toggled.status, 200);
        for (status, expected) in [("all", vec!["done", "open"]), ("pending", vec!["open"]), ("completed", vec!["done"])] {
            let reply = call(&app, Method::GET, &format!("{}?status={status}", tasks_path(&user)), Some(&user), None).await;
            assert_eq!(reply.status, 200);
            let titles: Vec<&str> = reply.body.as_array().unwrap().iter().map(|t| t["title"].as_str().unwrap()).collect();
            assert_eq!(titles, expected, "status={status}");
        }
    }

    async fn list_sorts_by_title_and_order(app) {
        let user = app.sign_up(&email("sort")).await;
        for title in ["banana", "Apple", "cherry"] {
            create_task(&app, &user, title).await;
        }
        let titles = |reply: &Reply| -> Vec<String> {
            reply.body.as_array().unwrap().iter().map(|t| t["title"].as_str().unwrap().to_owned()).collect()
        };
        let asc = call(&app, Method::GET, &format!("{}?sort=title&order=asc", tasks_path(&user)), Some(&user), None).await;
        assert_eq!(titles(&asc), ["Apple", "banana", "cherry"], "title sort ignores case");
        let desc = call(&app, Method::GET, &format!("{}?sort=created&order=desc", tasks_path(&user)), Some(&user), None).await;
        assert_eq!(titles(&desc), ["cherry", "Apple", "banana"], "newest first");
        let updated = call(&app, Method::GET, &format!("{}?sort=updated&order=asc", tasks_path(&user)), Some(&user), None).await;
        assert_eq!(updated.status, 200);
    }

    async fn concurrent_creates_all_succeed_and_all_are_listed(app) {
        let user = app.sign_up(&email("burst")).await;
        let path = tasks_path(&user);
        let creates = (0..40).map(|n| {
            call(&app, Method::POST, &path, Some(&user), Some(json!({"title": format!("burst {n}")})))
        });
        for reply in futures::future::join_all(creates).await {
            assert_eq!(reply.status, 201, "{:?}", reply.body);
        }
        let listed = call(&app, Method::GET, &tasks_path(&user), Some(&user), None).await;
        assert_eq!(listed.body.as_array().unwrap().len(), 40, "every concurrent create is stored once");
    }

    async fn list_refuses_unknown_status_sort_and_order_with_422(app) {
        let user = app.sign_up(&email("badquery")).await;
        for query in ["status=done", "sort=priority", "order=sideways"] {
            let reply = call(&app, Method::GET, &format!("{}?{query}", tasks_path(&user)), Some(&user), None).await;
            assert_eq!(reply.status, 422, "{query}: {:?}", reply.body);
            assert_eq!(reply.code(), "validation_error");
        }
    }

    async fn update_changes_only_given_fields_and_moves_updated_at(app) {
        let user = app.sign_up(&email("update")).await;
        let created = call(&app, Method::POST, &tasks_path(&user), Some(&user),
            Some(json!({"title": "Call mom", "description": "about sunday"}))).await.body;
        let id = created["id"].as_i64().unwrap();
        let reply = call(&app, Method::PUT, &task_path(&user, id), Some(&user), Some(json!({"title": "Call mom tonight"}))).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        assert_eq!(reply.body["title"], "Call mom tonight");
        assert_eq!(reply.body["description"], "about sunday", "an absent field is unchanged");
        assert_eq!(reply.body["completed"], false);
        assert_eq!(reply.body["created_at"], created["created_at"]);
        assert!(reply.body["updated_at"].as_str() > created["updated_at"].as_str(), "updated_at moved: {:?}", reply.body);
        let completed = call(&app, Method::PUT, &task_path(&user, id), Some(&user), Some(json!({"completed": true}))).await;
        assert_eq!(completed.body["completed"], true);
        assert_eq!(completed.body["title"], "Call mom tonight");
    }

    async fn update_with_null_description_clears_it(app) {
        let user = app.sign_up(&email("clear")).await;
        let created = call(&app, Method::POST, &tasks_path(&user), Some(&user),
            Some(json!({"title": "t", "description": "to be cleared"}))).await.body;
        let id = created["id"].as_i64().unwrap();
        let reply = call(&app, Method::PUT, &task_path(&user, id), Some(&user), Some(json!({"description": null}))).await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.body["description"], serde_json::Value::Null);
        let again = call(&app, Method::PUT, &task_path(&user, id), Some(&user), Some(json!({"description": "back"}))).await;
        assert_eq!(again.body["description"], "back");
        let emptied = call(&app, Method::PUT, &task_path(&user, id), Some(&user), Some(json!({"description": ""}))).await;
        assert_eq!(emptied.body["description"], serde_json::Value::Null, "an empty string clears too");
    }

    async fn toggle_flips_completed_both_ways_and_moves_updated_at(app) {
        let user = app.sign_up(&email("toggle")).await;
        let created = create_task(&app, &user, "flip").await;
        let path = format!("{}/complete", task_path(&user, created["id"].as_i64().unwrap()));
        let on = call(&app, Method::PATCH, &path, Some(&user), None).await;
        assert_eq!((on.status, &on.body["completed"]), (200, &json!(true)));
        assert!(on.body["updated_at"].as_str() > created["updated_at"].as_str());
        let off = call(&app, Method::PATCH, &path, Some(&user), None).await;
        assert_eq!(off.body["completed"], false);
        assert!(off.body["updated_at"].as_str() > on.body["updated_at"].as_str());
    }

    async fn delete_returns_204_and_the_task_is_gone(app) {
        let user = app.sign_up(&email("delete")).await;
        let id = create_task(&app, &user, "bye").await["id"].as_i64().unwrap();
        let reply = call(&app, Method::DELETE, &task_path(&user, id), Some(&user), None).await;
        assert_eq!(reply.status, 204);
        assert_eq!(reply.body, serde_json::Value::Null, "204 has no body");
        let again = call(&app, Method::DELETE, &task_path(&user, id), Some(&user), None).await;
        assert_eq!(again.status, 404);
        let get = call(&app, Method::GET, &task_path(&user, id), Some(&user), None).await;
        assert_eq!((get.status, get.code()), (404, "not_found"));
    }

    async fn unknown_ids_are_404_on_every_task_route(app) {
        let user = app.sign_up(&email("unknown")).await;
        let path = task_path(&user, 999_999);
        for (method, path, body) in [
            (Method::GET, path.clone(), None),
            (Method::PUT, path.clone(), Some(json!({"title": "x"}))),
            (Method::DELETE, path.clone(), None),
            (Method::PATCH, format!("{path}/complete"), None),
        ] {
            let reply = call(&app, method.clone(), &path, Some(&user), body).await;
            assert_eq!(reply.status, 404, "{method} {path}");
            assert_eq!(reply.code(), "not_found");
        }
    }

    async fn another_users_task_is_404_everywhere_and_unchanged(app) {
        let owner = app.sign_up(&email("owner")).await;
        let intruder = app.sign_up(&email("intruder")).await;
        let task = create_task(&app, &owner, "private").await;
        let id = task["id"].as_i64().unwrap();
        let path = format!("/api/{}/tasks/{id}", intruder.id);
        for (method, path, body) in [
            (Method::GET, path.clone(), None),
            (Method::PUT, path.clone(), Some(json!({"title": "hijacked"}))),
            (Method::PATCH, format!("{path}/complete"), None),
            (Method::DELETE, path.clone(), None),
        ] {
            let reply = call(&app, method.clone(), &path, Some(&intruder), body).await;
            assert_eq!(reply.status, 404, "{method} {path} must not reveal the task");
        }
        let still = call(&app, Method::GET, &task_path(&owner, id), Some(&owner), None).await;
        assert_eq!(still.body, task, "the owner's task is untouched");
    }

    async fn the_path_user_must_be_the_token_user(app) {
        let ada = app.sign_up(&email("ada")).await;
        let bob = app.sign_up(&email("bob")).await;
        let reply = call(&app, Method::GET, &tasks_path(&bob), Some(&ada), None).await;
        assert_eq!((reply.status, reply.code()), (403, "forbidden"));
        let reply = call(&app, Method::POST, &tasks_path(&bob), Some(&ada), Some(json!({"title": "x"}))).await;
        assert_eq!(reply.status, 403);
        let bobs = call(&app, Method::GET, &tasks_path(&bob), Some(&bob), None).await;
        assert_eq!(bobs.body, json!([]), "nothing was created for bob");
    }

    async fn tokens_of_external_users_work_without_an_account(app) {
        let token = app.mint_token("better-auth-user-42");
        let user = TestUser { id: "better-auth-user-42".into(), email: String::new(), token };
        create_task(&app, &user, "from an external identity").await;
        let reply = call(&app, Method::GET, &tasks_path(&user), Some(&user), None).await;
        assert_eq!(reply.body.as_array().unwrap().len(), 1);
    }
}
