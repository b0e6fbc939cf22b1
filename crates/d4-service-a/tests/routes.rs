//! Service A's routes, driven in-process with `oneshot`.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::time::Duration;

use axum::{body::Body, http::Request, http::StatusCode, Router};
use d4_service_a::{app, Config, Fault};
use http_body_util::BodyExt;
use tower::ServiceExt;

fn test_app(pairs: &[(&str, &str)]) -> Router {
    let env = kit::config::Env::from_pairs(pairs.iter().copied());
    app(&Config::from_env(&env).unwrap())
}

async fn get(app: Router, path: &str) -> (StatusCode, String) {
    let response = app
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

#[tokio::test]
async fn usuarios_lists_name_age_and_active_since() {
    let (status, body) = get(test_app(&[]), "/usuarios").await;
    assert_eq!(status, StatusCode::OK);
    let users: serde_json::Value = serde_json::from_str(&body).unwrap();
    let users = users.as_array().unwrap();
    assert_eq!(users.len(), 3);
    assert_eq!(
        users[1],
        serde_json::json!({"id": 2, "nome": "Bruno", "idade": 35, "ativo_desde": 2023})
    );
}

#[tokio::test]
async fn health_and_json_404() {
    let (status, body) = get(test_app(&[]), "/health").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("\"service_a\""), "{body}");
    let (status, body) = get(test_app(&[]), "/nada").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("not_found"), "{body}");
}

#[tokio::test]
async fn garbage_fault_answers_something_that_is_not_json() {
    let (status, body) = get(test_app(&[("FAULT", "garbage")]), "/usuarios").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        serde_json::from_str::<serde_json::Value>(&body).is_err(),
        "{body}"
    );
}

#[tokio::test(start_paused = true)]
async fn slow_fault_waits_before_answering() {
    let app = test_app(&[("FAULT", "slow"), ("FAULT_DELAY", "3s")]);
    let started = tokio::time::Instant::now();
    let (status, _) = get(app, "/usuarios").await;
    assert_eq!(status, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_secs(3));
}

#[test]
fn fault_values_are_checked() {
    let env = kit::config::Env::from_pairs([("FAULT", "explode")]);
    let err = Config::from_env(&env).unwrap_err();
    assert_eq!(err.name, "FAULT");
    let env = kit::config::Env::from_pairs([("FAULT", "SLOW")]);
    assert_eq!(Config::from_env(&env).unwrap().fault, Fault::Slow);
}
