//! The users service's routes, driven in-process with `oneshot`.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use axum::{body::Body, http::Request, http::StatusCode, Router};
use d5_users::{app, Config};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

fn test_app() -> Router {
    let env = kit::config::Env::from_pairs([("HOSTNAME", "users-replica-1")]);
    app(&Config::from_env(&env, d5_users::DEFAULT_PORT).unwrap())
}

async fn get(path: &str) -> (StatusCode, Value, String) {
    let response = test_app()
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let served_by = response.headers()["x-served-by"]
        .to_str()
        .unwrap()
        .to_owned();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap(), served_by)
}

#[tokio::test]
async fn lists_users_and_names_the_replica() {
    let (status, body, served_by) = get("/users").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body.as_array().unwrap().len(), 3);
    assert_eq!(
        body[0],
        json!({"id": 1, "name": "Ana Souza", "email": "ana@example.com"})
    );
    assert_eq!(served_by, "users-replica-1");
}

#[tokio::test]
async fn one_user_by_id() {
    let (status, body, _) = get("/users/2").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["name"], "Bruno Lima");
}

#[tokio::test]
async fn missing_and_malformed_ids_are_json_4xx() {
    let (status, body, served_by) = get("/users/99").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], "not_found");
    assert_eq!(served_by, "users-replica-1");
    let (status, body, _) = get("/users/abc").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["message"].as_str().unwrap().contains("abc"), "{body}");
    let (status, _, _) = get("/users/-1").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn health_names_the_service() {
    let (status, body, _) = get("/health").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["service"], "users_service");
}
