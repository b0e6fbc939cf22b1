//! Service B against a fake service A on a local port: healthy, down, slow,
//! answering garbage or an error, and back again.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use axum::{body::Body, http::Request, http::StatusCode, routing::get, Router};
use d4_service_b::{app, Config, UsuariosClient};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

/// Serves `routes` on 127.0.0.1:`port` (0 = any) in the background.
async fn fake_a(port: u16, routes: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, routes).await });
    addr
}

fn healthy_a() -> Router {
    Router::new().route(
        "/usuarios",
        get(|| async {
            axum::Json(json!([
                {"id": 1, "nome": "Ana", "idade": 28, "ativo_desde": 2021},
                {"id": 2, "nome": "Bruno", "idade": 35, "ativo_desde": 2023}
            ]))
        }),
    )
}

/// B configured for A at `addr`, with the default bounds unless `pairs` says.
fn service_b(addr: SocketAddr, pairs: &[(&str, &str)]) -> Router {
    let url = format!("http://{addr}/usuarios");
    let mut all = vec![("USUARIOS_URL", url.as_str())];
    all.extend_from_slice(pairs);
    let config = Config::from_env(&kit::config::Env::from_pairs(all)).unwrap();
    app(UsuariosClient::new(config.usuarios_url, config.timeouts).unwrap())
}

/// `GET /info`: status, JSON body, and how long it took.
async fn info(b: &Router) -> (StatusCode, Value, Duration) {
    let started = Instant::now();
    let response = b
        .clone()
        .oneshot(Request::get("/info").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap(),
        started.elapsed(),
    )
}

/// A port where nothing listens (bound, then released).
async fn closed_port() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

#[tokio::test]
async fn info_turns_users_into_sentences() {
    let b = service_b(fake_a(0, healthy_a()).await, &[]);
    let (status, body, _) = info(&b).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!([
            "Usuário Ana (28 anos) - ativo desde 2021",
            "Usuário Bruno (35 anos) - ativo desde 2023"
        ])
    );
}

#[tokio::test]
async fn a_down_is_503_fast_and_b_recovers_when_a_is_back() {
    let addr = closed_port().await;
    let b = service_b(addr, &[]);
    let (status, body, took) = info(&b).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"], "service_unavailable");
    assert!(
        body["message"].as_str().unwrap().contains("service_a"),
        "{body}"
    );
    assert!(took < Duration::from_secs(2), "{took:?}");

    // A comes back on the same address: the very next call works.
    fake_a(addr.port(), healthy_a()).await;
    let (status, body, _) = info(&b).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_slow_is_504_within_two_seconds_with_default_bounds() {
    let slow = Router::new().route(
        "/usuarios",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(10)).await;
            "[]"
        }),
    );
    let b = service_b(fake_a(0, slow).await, &[]);
    let (status, body, took) = info(&b).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{body}");
    assert_eq!(body["error"], "gateway_timeout");
    assert!(took < Duration::from_secs(2), "{took:?}");
}

#[tokio::test]
async fn a_garbage_or_error_is_502() {
    let garbage = Router::new().route("/usuarios", get(|| async { "<html>oops</html>" }));
    let b = service_b(fake_a(0, garbage).await, &[]);
    let (status, body, _) = info(&b).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert_eq!(body["error"], "bad_gateway");

    let wrong_shape = Router::new().route("/usuarios", get(|| async { "{\"nome\": 1}" }));
    let b = service_b(fake_a(0, wrong_shape).await, &[]);
    assert_eq!(info(&b).await.0, StatusCode::BAD_GATEWAY);

    let failing = Router::new().route(
        "/usuarios",
        get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "boom") }),
    );
    let b = service_b(fake_a(0, failing).await, &[]);
    let (status, body, _) = info(&b).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert!(body["message"].as_str().unwrap().contains("500"), "{body}");
}

#[tokio::test]
async fn an_unresolvable_name_is_503_not_500() {
    // `.invalid` never resolves (RFC 6761), like a stopped compose service.
    let config = Config::from_env(&kit::config::Env::from_pairs([(
        "USUARIOS_URL",
        "http://service-a.invalid:5001/usuarios",
    )]))
    .unwrap();
    let b = app(UsuariosClient::new(config.usuarios_url, config.timeouts).unwrap());
    let (status, body, took) = info(&b).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(took < Duration::from_secs(2), "{took:?}");
}

#[test]
fn the_default_url_names_service_a_by_its_compose_name() {
    let config = Config::from_env(&kit::config::Env::default()).unwrap();
    assert_eq!(config.usuarios_url, "http://service_a:5001/usuarios");
    assert_eq!(config.port, 7000);
    // The underscore in the compose name must be a valid URL host.
    assert!(UsuariosClient::new(config.usuarios_url, config.timeouts).is_ok());
    assert_eq!(
        reqwest::Url::parse("http://service_a:5001/usuarios")
            .unwrap()
            .host_str(),
        Some("service_a")
    );
}
