//! The orders service's routes, driven in-process with `oneshot`.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use axum::{body::Body, http::Request, http::StatusCode, Router};
use d5_orders::{app, Config};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

fn test_app() -> Router {
    let env = kit::config::Env::from_pairs([("HOSTNAME", "orders-replica-1")]);
    app(&Config::from_env(&env, d5_orders::DEFAULT_PORT).unwrap())
}

async fn get(path: &str) -> (StatusCode, Value) {
    let response = test_app()
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    assert_eq!(response.headers()["x-served-by"], "orders-replica-1");
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn lists_all_orders() {
    let (status, body) = get("/orders").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body.as_array().unwrap().len(), 4);
    for field in ["id", "user_id", "product", "quantity", "total_cents"] {
        assert!(body[0].get(field).is_some(), "missing {field} in {body}");
    }
}

#[tokio::test]
async fn filters_by_user_id() {
    let (status, body) = get("/orders?user_id=1").await;
    assert_eq!(status, StatusCode::OK);
    let orders = body.as_array().unwrap();
    assert_eq!(orders.len(), 2);
    assert!(orders.iter().all(|o| o["user_id"] == 1), "{body}");
    let (_, body) = get("/orders?user_id=42").await;
    assert_eq!(body, serde_json::json!([]));
}

#[tokio::test]
async fn one_order_by_id_and_json_4xx_for_bad_ids() {
    let (status, body) = get("/orders/3").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["product"], "Teclado");
    let (status, body) = get("/orders/99").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], "not_found");
    let (status, body) = get("/orders?user_id=x").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["message"].as_str().unwrap().contains("user_id"),
        "{body}"
    );
    let (status, _) = get("/orders/1.5").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
