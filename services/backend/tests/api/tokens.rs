//! Bearer tokens: every kind of bad token is 401, a good token for another user is 403.

use reqwest::Method;
use serde_json::json;
use todo_testkit::{Algorithm, TEST_SECRET, mint_token_with, unix_now, unsigned_token};

use crate::helpers::*;

/// `GET /api/{user}/tasks` with this exact Authorization header value (or none).
async fn list_with(app: &TestApp, user_id: &str, authorization: Option<&str>) -> Reply {
    let mut request = app.client.get(app.url(&format!("/api/{user_id}/tasks")));
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    send(request, "list with a token").await
}

on_both_databases! {
    async fn a_valid_token_is_accepted(app) {
        let token = app.mint_token("user-1");
        let reply = list_with(&app, "user-1", Some(&format!("Bearer {token}"))).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        let lower_case = list_with(&app, "user-1", Some(&format!("bearer {token}"))).await;
        assert_eq!(lower_case.status, 200, "the scheme is case-insensitive");
    }

    async fn missing_and_malformed_headers_are_401(app) {
        for header in [None, Some(""), Some("Bearer"), Some("Bearer "), Some("Basic dXNlcjpwYXNz"), Some("Bearer not.a.jwt"), Some("Bearer abc")] {
            let reply = list_with(&app, "user-1", header).await;
            assert_eq!((reply.status, reply.code()), (401, "unauthorized"), "{header:?}");
            assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
        }
    }

    async fn an_expired_token_is_401_and_says_so(app) {
        let token = mint_token_with(&json!({"sub": "user-1", "exp": unix_now() - 120}), Algorithm::HS256, TEST_SECRET.as_bytes());
        let reply = list_with(&app, "user-1", Some(&format!("Bearer {token}"))).await;
        assert_eq!(reply.status, 401);
        assert!(reply.body["detail"].as_str().unwrap().contains("expired"), "{:?}", reply.body);
    }

    async fn a_token_signed_with_another_secret_is_401(app) {
        let token = mint_token_with(&json!({"sub": "user-1", "exp": unix_now() + 600}), Algorithm::HS256, b"some-other-secret-of-sufficient-length!!");
        let reply = list_with(&app, "user-1", Some(&format!("Bearer {token}"))).await;
        assert_eq!(reply.status, 401);
    }

    async fn alg_none_is_401(app) {
        let token = unsigned_token(&json!({"sub": "user-1", "exp": unix_now() + 600}));
        let reply = list_with(&app, "user-1", Some(&format!("Bearer {token}"))).await;
        assert_eq!(reply.status, 401, "an unsigned token must never pass");
    }

    async fn hs512_with_the_right_secret_is_401(app) {
        let token = mint_token_with(&json!({"sub": "user-1", "exp": unix_now() + 600}), Algorithm::HS512, TEST_SECRET.as_bytes());
        let reply = list_with(&app, "user-1", Some(&format!("Bearer {token}"))).await;
        assert_eq!(reply.status, 401, "only HS256 is accepted with the shared secret");
        assert!(reply.body["detail"].as_str().unwrap().contains("algorithm"), "{:?}", reply.body);
    }

    async fn a_token_without_exp_or_sub_is_401(app) {
        for claims in [json!({"sub": "user-1"}), json!({"exp": unix_now() + 600})] {
            let token = mint_token_with(&claims, Algorithm::HS256, TEST_SECRET.as_bytes());
            let reply = list_with(&app, "user-1", Some(&format!("Bearer {token}"))).await;
            assert_eq!(reply.status, 401, "{claims}");
        }
    }

    async fn a_tampered_token_is_401(app) {
        let token = app.mint_token("user-1");
        let (rest, signature) = token.rsplit_once('.').unwrap();
        let forged_payload = mint_token_with(&json!({"sub": "user-2", "exp": unix_now() + 600}), Algorithm::HS256, b"x");
        let forged_claims = forged_payload.split('.').nth(1).unwrap();
        let header = rest.split('.').next().unwrap();
        let tampered = format!("{header}.{forged_claims}.{signature}");
        let reply = list_with(&app, "user-2", Some(&format!("Bearer {tampered}"))).await;
        assert_eq!(reply.status, 401);
    }

    async fn a_valid_token_for_another_user_is_403(app) {
        let token = app.mint_token("user-1");
        let reply = list_with(&app, "user-2", Some(&format!("Bearer {token}"))).await;
        assert_eq!((reply.status, reply.code()), (403, "forbidden"));
        let me = call(&app, Method::GET, "/api/auth/me", None, None).await;
        assert_eq!(me.status, 401, "me without a token");
    }
}
