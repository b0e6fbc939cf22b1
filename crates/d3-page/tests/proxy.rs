//! The page and its proxy, in-process, against a small real HTTP server
//! standing in for the API on a loopback port.

#![allow(clippy::unwrap_used)]

use axum::{body::Body, http::Request, routing::get, Router};
use d3_page::{app, Config};
use http_body_util::BodyExt;
use kit::config::Env;
use tower::ServiceExt;

async fn call(router: &Router, request: Request<Body>) -> (u16, String, String) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        content_type,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

async fn upstream() -> String {
    let api =
        Router::new()
            .route("/log", get(|| async { "the log: must not be reached" }))
            .route(
                "/todos",
                get(|| async { "the students: must not be reached" }),
            )
            .route(
                "/users",
                get(|| async { axum::Json(serde_json::json!({"users": [], "fonte": "cache"})) })
                    .post(|body: String| async move {
                        (axum::http::StatusCode::CREATED, format!("eco:{body}"))
                    }),
            );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, api).await.unwrap() });
    format!("http://{addr}")
}

fn page(web_url: &str) -> Router {
    app(&Config::from_env(&Env::from_pairs([("WEB_URL", web_url), ("TIMEOUT", "2s")])).unwrap())
        .unwrap()
}

#[tokio::test]
async fn serves_the_page_and_health() {
    let router = page("http://127.0.0.1:9");
    let (status, content_type, body) =
        call(&router, Request::get("/").body(Body::empty()).unwrap()).await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/html"));
    assert!(body.contains("id=\"user-form\"") && body.contains("/api/posts/cache"));
    let (status, _, body) = call(
        &router,
        Request::get("/health").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"status":"healthy","service":"page"}"#)
    );
}

#[tokio::test]
async fn forwards_method_body_and_status() {
    let router = page(&upstream().await);
    let (status, content_type, body) =
        call(&router, Request::get("/users").body(Body::empty()).unwrap()).await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("application/json"));
    assert!(body.contains("\"fonte\":\"cache\""));
    let (status, _, body) = call(
        &router,
        Request::post("/users")
            .header("content-type", "application/json")
            .body(Body::from("{\"a\":1}"))
            .unwrap(),
    )
    .await;
    assert_eq!((status, body.as_str()), (201, "eco:{\"a\":1}"));
}

#[tokio::test]
async fn an_unreachable_api_is_a_json_502() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let router = page(&format!("http://127.0.0.1:{port}"));
    let (status, _, body) =
        call(&router, Request::get("/users").body(Body::empty()).unwrap()).await;
    assert_eq!(status, 502);
    assert!(body.contains("bad_gateway"), "{body}");
}

#[tokio::test]
async fn paths_that_would_leave_the_named_ones_are_refused() {
    let router = page(&upstream().await);
    for target in [
        "/users/../log",
        "/users/%2e%2e/todos",
        "/api/%2E%2E/log",
        "/users/./x",
    ] {
        let (status, _, body) =
            call(&router, Request::get(target).body(Body::empty()).unwrap()).await;
        assert_eq!(status, 400, "{target}: {body}");
        assert!(body.contains("bad_request"), "{target}: {body}");
    }
}
