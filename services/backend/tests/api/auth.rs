//! Built-in accounts: sign-up, sign-in, me, and throttling of failed sign-ins.

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

async fn sign_in(app: &TestApp, email: &str, password: &str) -> Reply {
    call(
        app,
        Method::POST,
        "/api/auth/sign-in",
        None,
        Some(json!({"email": email, "password": password})),
    )
    .await
}

on_both_databases! {
    async fn sign_up_returns_201_a_user_and_a_working_token(app) {
        let address = email("Ada");
        let reply = call(&app, Method::POST, "/api/auth/sign-up", None,
            Some(json!({"email": address, "password": "correct-horse-battery", "name": "Ada"}))).await;
        assert_eq!(reply.status, 201, "{:?}", reply.body);
        let user = &reply.body["user"];
        assert_eq!(user["email"], address.to_lowercase(), "emails are stored lower-case");
        assert_eq!(user["name"], "Ada");
        assert!(uuid::Uuid::parse_str(user["id"].as_str().unwrap()).is_ok(), "ids are UUIDs");
        assert!(user.get("password_hash").is_none() && user.get("password").is_none(), "no secret leaks: {user}");
        let test_user = TestUser { id: user["id"].as_str().unwrap().into(), email: address, token: reply.body["token"].as_str().unwrap().into() };
        let tasks = call(&app, Method::GET, &tasks_path(&test_user), Some(&test_user), None).await;
        assert_eq!(tasks.status, 200, "the token opens the user's tasks");
    }

    async fn a_duplicate_email_is_409_whatever_its_case(app) {
        let address = email("dup");
        app.sign_up(&address).await;
        let reply = call(&app, Method::POST, "/api/auth/sign-up", None,
            Some(json!({"email": address.to_uppercase(), "password": "another-password"}))).await;
        assert_eq!((reply.status, reply.code()), (409, "conflict"));
    }

    async fn sign_up_validates_email_and_password(app) {
        for (address, password, why) in [
            ("not-an-email", "long-enough-password", "bad email"),
            ("a@b", "long-enough-password", "no domain dot"),
            (&*email("short"), "short", "short password"),
            (&*email("long"), &*"p".repeat(129), "long password"),
        ] {
            let reply = call(&app, Method::POST, "/api/auth/sign-up", None,
                Some(json!({"email": address, "password": password}))).await;
            assert_eq!((reply.status, reply.code()), (422, "validation_error"), "{why}");
        }
        let missing = call(&app, Method::POST, "/api/auth/sign-up", None, Some(json!({"email": email("x")}))).await;
        assert_eq!(missing.status, 422, "a missing password");
    }

    async fn sign_in_returns_the_user_and_a_token(app) {
        let user = app.sign_up(&email("signin")).await;
        let reply = sign_in(&app, &user.email.to_uppercase(), "correct-horse-battery").await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        assert_eq!(reply.body["user"]["id"], user.id.as_str());
        let again = TestUser { token: reply.body["token"].as_str().unwrap().into(), ..user.clone() };
        let me = call(&app, Method::GET, "/api/auth/me", Some(&again), None).await;
        assert_eq!(me.status, 200);
        assert_eq!(me.body["user"]["email"], user.email.as_str());
    }

    async fn wrong_password_and_unknown_email_get_the_same_401(app) {
        let user = app.sign_up(&email("same")).await;
        let wrong = sign_in(&app, &user.email, "wrong-password").await;
        let unknown = sign_in(&app, &email("nobody"), "wrong-password").await;
        assert_eq!(wrong.status, 401);
        assert_eq!(unknown.status, 401);
        assert_eq!(wrong.body, unknown.body, "the replies must not tell which emails exist");
    }

    async fn repeated_failed_sign_ins_are_throttled_with_retry_after(app) {
        let user = app.sign_up(&email("throttle")).await;
        for attempt in 1..=5 {
            let reply = sign_in(&app, &user.email, "wrong-password").await;
            assert_eq!(reply.status, 401, "attempt {attempt}");
        }
        let blocked = sign_in(&app, &user.email, "correct-horse-battery").await;
        assert_eq!((blocked.status, blocked.code()), (429, "too_many_requests"), "even the right password waits");
        let retry_after: u64 = blocked.header("retry-after").expect("Retry-After").parse().unwrap();
        assert!(retry_after > 0);
        let other = app.sign_up(&email("unaffected")).await;
        assert_eq!(sign_in(&app, &other.email, "correct-horse-battery").await.status, 200, "other accounts still sign in");
    }

    async fn me_describes_external_users_from_their_token(app) {
        let token = todo_testkit::mint_token_with(
            &json!({"sub": "ext-7", "exp": todo_testkit::unix_now() + 600, "email": "ext@example.org", "name": "Ext"}),
            todo_testkit::Algorithm::HS256, todo_testkit::TEST_SECRET.as_bytes());
        let user = TestUser { id: "ext-7".into(), email: "ext@example.org".into(), token };
        let me = call(&app, Method::GET, "/api/auth/me", Some(&user), None).await;
        assert_eq!(me.status, 200);
        assert_eq!(me.body["user"], json!({"id": "ext-7", "email": "ext@example.org", "name": "Ext", "created_at": null}));
    }
}
