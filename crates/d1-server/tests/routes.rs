//! The server's routes, driven in-process (no socket) as axum's testing
//! example does.

use axum::{body::Body, http::Request, http::StatusCode, Router};
use d1_server::{app, Config};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

fn test_app() -> Router {
    let env = kit::config::Env::from_pairs([("HOSTNAME", "abc123def456")]);
    app(Config::from_env(&env).expect("a valid test configuration"))
}

async fn get(app: &Router, path: &str) -> (StatusCode, Value) {
    let response = app
        .clone()
        .oneshot(
            Request::get(path)
                .body(Body::empty())
                .expect("a valid request"),
        )
        .await
        .expect("the router never fails");
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("a readable body")
        .to_bytes();
    (status, serde_json::from_slice(&bytes).expect("a JSON body"))
}

#[tokio::test]
async fn home_has_the_write_up_fields_and_counts_requests() {
    let app = test_app();
    let (status, first) = get(&app, "/").await;
    assert_eq!(status, StatusCode::OK);
    for field in [
        "message",
        "timestamp",
        "request_number",
        "container_name",
        "status",
        "port",
    ] {
        assert!(first.get(field).is_some(), "missing {field} in {first}");
    }
    assert_eq!(first["request_number"], 1);
    assert_eq!(first["container_name"], "abc123def456");
    assert_eq!(first["status"], "running");
    assert_eq!(first["port"], 8080);
    let (_, second) = get(&app, "/").await;
    assert_eq!(second["request_number"], 2);
}

#[tokio::test]
async fn stats_report_the_counter_and_start_time() {
    let app = test_app();
    get(&app, "/").await;
    get(&app, "/").await;
    get(&app, "/").await;
    let (status, stats) = get(&app, "/stats").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(stats["total_requests"], 3);
    assert!(stats["uptime_seconds"].as_f64().unwrap() >= 0.0);
    let start = stats["start_time"].as_str().unwrap();
    assert!(start.len() >= 19 && start.as_bytes()[10] == b'T', "{start}");
}

#[tokio::test]
async fn health_names_the_service() {
    let (status, health) = get(&test_app(), "/health").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        health,
        serde_json::json!({"status": "healthy", "service": "flask-server"})
    );
}

#[tokio::test]
async fn unknown_paths_get_a_json_404() {
    let (status, body) = get(&test_app(), "/does-not-exist").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], "not_found");
}

#[test]
fn a_bad_port_is_named() {
    let env = kit::config::Env::from_pairs([("PORT", "70000")]);
    let err = Config::from_env(&env).unwrap_err();
    assert!(err.to_string().contains("PORT"), "{err}");
}
