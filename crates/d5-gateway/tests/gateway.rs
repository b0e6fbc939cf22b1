//! The gateway against fake upstreams on local ports: forwarding, the
//! paths it refuses, replicas, retries, failures and `/health`.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{
    body::{Body, Bytes},
    extract::Request,
    http::{HeaderMap, Method, StatusCode},
    response::IntoResponse,
    routing::{any, get},
    Router,
};
use d5_gateway::{app, Config, Gateway};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

/// Serves `routes` on 127.0.0.1, any port, in the background.
async fn serve(routes: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, routes).await });
    addr
}

/// A fake replica that answers 201 with what it received, named `name`.
fn echo(name: &'static str) -> Router {
    let handler = move |request: Request| async move {
        let (parts, body) = request.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        let headers: serde_json::Map<String, Value> = parts
            .headers
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v.to_str().unwrap())))
            .collect();
        let seen = json!({
            "method": parts.method.as_str(),
            "target": parts.uri.to_string(),
            "path": parts.uri.path(),
            "query": parts.uri.query(),
            "body": String::from_utf8_lossy(&body),
            "headers": headers,
        });
        (
            StatusCode::CREATED,
            [
                ("x-served-by", name),
                ("x-custom-answer", "yes"),
                ("proxy-authenticate", "secret"),
            ],
            axum::Json(seen),
        )
    };
    Router::new()
        .route("/users", any(handler))
        .route("/users/{*rest}", any(handler))
        .route("/orders", any(handler))
        .route("/orders/{*rest}", any(handler))
}

/// A port where nothing listens.
async fn closed() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

/// A gateway whose upstreams are the given replica lists (no DNS).
fn gateway(users: &[SocketAddr], orders: &[SocketAddr], pairs: &[(&str, &str)]) -> Arc<Gateway> {
    let config = Config::from_env(&kit::config::Env::from_pairs(pairs.iter().copied())).unwrap();
    let gateway = Gateway::new(config);
    gateway.users.set_replicas(users.to_vec());
    gateway.orders.set_replicas(orders.to_vec());
    gateway
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

async fn call(gateway: &Arc<Gateway>, request: Request<Body>) -> Answer {
    let response = app(Arc::clone(gateway)).oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)));
    Answer {
        status,
        headers,
        body,
    }
}

async fn get_path(gateway: &Arc<Gateway>, path: &str) -> Answer {
    call(gateway, Request::get(path).body(Body::empty()).unwrap()).await
}

#[tokio::test]
async fn forwards_method_path_query_body_status_and_headers() {
    let users = serve(echo("u1")).await;
    let gw = gateway(&[users], &[], &[]);
    let request = Request::builder()
        .method(Method::POST)
        .uri("/users/7?expand=orders&x=1")
        .header("host", "localhost:5004")
        .header("content-type", "application/json")
        .header("x-custom", "kept")
        .header("connection", "x-secret")
        .header("x-secret", "dropped")
        .header("proxy-authorization", "dropped")
        .header("x-request-id", "req-123")
        .body(Body::from("{\"name\":\"Ana\"}"))
        .unwrap();
    let answer = call(&gw, request).await;
    assert_eq!(answer.status, StatusCode::CREATED);
    let seen = &answer.body;
    assert_eq!(seen["method"], "POST");
    // Origin-form, as to a server; the absolute form is for proxies.
    assert_eq!(seen["target"], "/users/7?expand=orders&x=1");
    assert_eq!(seen["path"], "/users/7");
    assert_eq!(seen["query"], "expand=orders&x=1");
    assert_eq!(seen["body"], "{\"name\":\"Ana\"}");
    let headers = &seen["headers"];
    assert_eq!(headers["x-custom"], "kept");
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["x-request-id"], "req-123");
    assert_eq!(headers["host"], "users_service:5003");
    assert_eq!(headers["x-forwarded-host"], "localhost:5004");
    for dropped in ["x-secret", "proxy-authorization"] {
        assert!(
            headers.get(dropped).is_none(),
            "{dropped} reached the upstream: {headers}"
        );
    }
    // The answer's end-to-end headers come back; hop-by-hop ones do not.
    assert_eq!(answer.headers["x-custom-answer"], "yes");
    assert_eq!(answer.headers["x-served-by"], "u1");
    assert!(answer.headers.get("proxy-authenticate").is_none());
    assert_eq!(answer.headers["x-request-id"], "req-123");
}

#[tokio::test]
async fn a_request_id_is_made_when_missing_and_reaches_the_service() {
    let orders = serve(echo("o1")).await;
    let gw = gateway(&[], &[orders], &[]);
    let answer = get_path(&gw, "/orders?user_id=1").await;
    assert_eq!(answer.status, StatusCode::CREATED);
    let sent = answer.body["headers"]["x-request-id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(sent.len(), 36, "{sent}");
    assert_eq!(answer.headers["x-request-id"], sent.as_str());
    assert_eq!(answer.body["query"], "user_id=1");
}

#[tokio::test]
async fn other_paths_are_404_and_tricks_are_400_without_calling_anyone() {
    let users = serve(echo("u1")).await;
    let gw = gateway(&[users], &[users], &[]);
    for path in ["/", "/admin", "/usersx", "/health/x", "/user", "/metrics"] {
        let answer = get_path(&gw, path).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(answer.body["error"], "not_found", "{path}");
    }
    for path in [
        "/users/../health",
        "/users/./1",
        "/users/%2e%2e/health",
        "/users/%2E%2E/health",
        "/users/..%2fhealth",
        "/users/%252e%252e/health",
        "/users//1",
        "/users/..\\health",
    ] {
        let uri: axum::http::Uri = match path.parse() {
            Ok(uri) => uri,
            Err(_) => continue, // not even a valid target: hyper refuses it
        };
        let answer = call(&gw, Request::get(uri).body(Body::empty()).unwrap()).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{path}: {}",
            answer.body
        );
        assert_eq!(answer.body["error"], "bad_request", "{path}");
    }
    // Absolute-form: the caller names a host; the gateway must not go there.
    let answer = call(
        &gw,
        Request::get("http://169.254.169.254/users")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.body["message"]
        .as_str()
        .unwrap()
        .contains("absolute"));
}

#[tokio::test]
async fn absolute_form_over_a_real_socket_is_refused() {
    let users = serve(echo("u1")).await;
    let gw = gateway(&[users], &[], &[]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let never = std::future::pending::<()>();
    tokio::spawn(kit::server::serve(listener, app(gw), never, Duration::ZERO));
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET http://example.com:80/users HTTP/1.1\r\nhost: example.com\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).await.unwrap();
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
}

#[tokio::test]
async fn requests_are_spread_over_the_replicas() {
    let a = serve(echo("replica-a")).await;
    let b = serve(echo("replica-b")).await;
    let c = serve(echo("replica-c")).await;
    let gw = gateway(&[a, b, c], &[], &[]);
    let mut seen = Vec::new();
    for _ in 0..6 {
        let answer = get_path(&gw, "/users").await;
        seen.push(answer.headers["x-served-by"].to_str().unwrap().to_owned());
    }
    for name in ["replica-a", "replica-b", "replica-c"] {
        assert_eq!(seen.iter().filter(|s| *s == name).count(), 2, "{seen:?}");
    }
}

#[tokio::test]
async fn a_refused_get_is_retried_once_on_another_replica() {
    let dead = closed().await;
    let alive = serve(echo("alive")).await;
    let gw = gateway(&[dead, alive], &[], &[]);
    for _ in 0..4 {
        let answer = get_path(&gw, "/users/1").await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
        assert_eq!(answer.headers["x-served-by"], "alive");
    }
    let health = get_path(&gw, "/health").await;
    let users = &health.body["upstreams"]["users_service"];
    assert_eq!(users["state"], "degraded", "{users}");
    let down: Vec<&Value> = users["replicas"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["state"] == "down")
        .collect();
    assert_eq!(down.len(), 1);
    assert_eq!(down[0]["addr"], dead.to_string());
}

#[tokio::test]
async fn a_refused_post_is_not_retried() {
    let dead = closed().await;
    let alive = serve(echo("alive")).await;
    // Round robin starts at the first replica: the dead one.
    let gw = gateway(&[dead, alive], &[], &[]);
    let request = Request::post("/users")
        .header("content-type", "application/json")
        .body(Body::from("{}"))
        .unwrap();
    let answer = call(&gw, request).await;
    assert_eq!(
        answer.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        answer.body
    );
}

#[tokio::test]
async fn every_replica_down_is_a_fast_503_and_none_found_too() {
    let gw = gateway(&[closed().await, closed().await], &[], &[]);
    let started = Instant::now();
    let answer = get_path(&gw, "/users").await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.body["error"], "service_unavailable");
    let message = answer.body["message"].as_str().unwrap();
    // What failed, in the caller's words; the addresses and the system's
    // error text stay in the log.
    assert_eq!(
        message,
        "users_service is unreachable; try again in a moment"
    );
    assert_eq!(answer.headers["retry-after"], "1");
    assert!(started.elapsed() < Duration::from_secs(2));

    let answer = get_path(&gw, "/orders").await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        answer.body["message"]
            .as_str()
            .unwrap()
            .contains("no replica"),
        "{}",
        answer.body
    );
    let health = get_path(&gw, "/health").await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.body["status"], "healthy");
    assert_eq!(health.body["upstreams"]["orders_service"]["state"], "down");
    assert_eq!(
        health.body["upstreams"]["orders_service"]["address"],
        "orders_service:5002"
    );
}

#[tokio::test]
async fn a_slow_upstream_is_a_504_within_the_bound() {
    let slow = serve(Router::new().route(
        "/users",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(10)).await;
            "late"
        }),
    ))
    .await;
    let gw = gateway(&[slow], &[], &[("UPSTREAM_TIMEOUT", "300ms")]);
    let started = Instant::now();
    let answer = get_path(&gw, "/users").await;
    assert_eq!(
        answer.status,
        StatusCode::GATEWAY_TIMEOUT,
        "{}",
        answer.body
    );
    assert_eq!(answer.body["error"], "gateway_timeout");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn an_upstream_speaking_garbage_is_a_502() {
    // Not HTTP at all: a raw socket that writes junk and hangs up.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buffer = [0u8; 1024];
            let _ = socket.read(&mut buffer).await;
            let _ = socket.write_all(b"garbage garbage\r\n\r\n").await;
        }
    });
    let gw = gateway(&[addr], &[], &[]);
    let answer = get_path(&gw, "/users").await;
    assert_eq!(answer.status, StatusCode::BAD_GATEWAY, "{}", answer.body);
    assert_eq!(answer.body["error"], "bad_gateway");
}

/// A replica that answers the first request of each connection and then
/// closes it, as a service does with a kept-alive connection left idle too
/// long: the gateway must not lose a request to a connection closed so.
#[tokio::test]
async fn a_kept_alive_connection_the_replica_closed_costs_no_request() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = Arc::clone(&accepted);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buffer = [0u8; 4096];
                let _ = socket.read(&mut buffer).await;
                // HTTP/1.1 and a length: the gateway keeps the connection.
                let answer = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                              content-length: 2\r\n\r\n{}";
                let _ = socket.write_all(answer.as_bytes()).await;
            });
        }
    });
    let gw = gateway(&[addr], &[], &[]);
    for n in 0..5 {
        let answer = get_path(&gw, "/users").await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "request {n}: {}",
            answer.body
        );
    }
    // Each request on a connection of its own: none was answered on, or
    // lost to, a closed one.
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 5);
}

/// A raw upstream that answers every request with `head` and then the
/// `chunks` of a chunked body, one write each.
async fn chunked_upstream(chunks: Vec<Vec<u8>>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let chunks = chunks.clone();
            tokio::spawn(async move {
                let mut buffer = [0u8; 4096];
                let _ = socket.read(&mut buffer).await;
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                            transfer-encoding: chunked\r\nconnection: close\r\n\r\n";
                socket.write_all(head.as_bytes()).await?;
                for chunk in chunks {
                    socket
                        .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                        .await?;
                    socket.write_all(&chunk).await?;
                    socket.write_all(b"\r\n").await?;
                    socket.flush().await?;
                }
                socket.write_all(b"0\r\n\r\n").await
            });
        }
    });
    addr
}

#[tokio::test]
async fn an_answer_in_several_chunks_arrives_whole() {
    let parts = [&b"[{\"id\":1,"[..], b"\"nome\":\"Ana\"}", b",{\"id\":2}]"];
    let upstream = chunked_upstream(parts.iter().map(|p| p.to_vec()).collect()).await;
    let gw = gateway(&[upstream], &[], &[]);
    let answer = get_path(&gw, "/users").await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body, json!([{"id": 1, "nome": "Ana"}, {"id": 2}]));
}

#[tokio::test]
async fn an_answer_growing_past_the_size_bound_is_cut_off() {
    // 9 chunks of 1 MiB with no declared length: the bound (8 MiB) is found
    // while streaming, after the head went out, so the body is cut off.
    let upstream = chunked_upstream(vec![vec![b' '; 1024 * 1024]; 9]).await;
    let gw = gateway(&[upstream], &[], &[]);
    let response = app(gw)
        .oneshot(Request::get("/users").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.into_body().collect().await.is_err());
}

#[tokio::test]
async fn a_request_body_over_kits_bound_is_a_413() {
    let users = serve(echo("u1")).await;
    let gw = gateway(&[users], &[], &[]);
    let big = vec![b'x'; kit::server::Limits::default().body_bytes + 1];
    let request = Request::post("/users").body(Body::from(big)).unwrap();
    let answer = call(&gw, request).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(answer.body["error"], "payload_too_large");
    assert!(answer.headers.contains_key("x-request-id"));
}

#[tokio::test]
async fn a_streamed_request_body_over_kits_bound_is_a_413_that_closes() {
    let users = serve(echo("u1")).await;
    let gw = gateway(&[users], &[], &[]);
    // No declared length: the bound is found while the body is sent on.
    let piece = Bytes::from(vec![b'x'; 64 * 1024]);
    let pieces = (0..20).map(move |_| Ok::<_, std::io::Error>(piece.clone()));
    let request = Request::put("/users/1")
        .body(Body::from_stream(futures_util::stream::iter(pieces)))
        .unwrap();
    let answer = call(&gw, request).await;
    assert_eq!(
        answer.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        answer.body
    );
    assert_eq!(answer.body["error"], "payload_too_large");
    assert_eq!(answer.headers["connection"], "close");
}

#[tokio::test]
async fn upstream_error_statuses_pass_through_unchanged() {
    let upstream = serve(Router::new().route(
        "/users/{id}",
        get(|| async {
            (
                StatusCode::NOT_FOUND,
                axum::Json(json!({"error": "not_found"})),
            )
                .into_response()
        }),
    ))
    .await;
    let gw = gateway(&[upstream], &[], &[]);
    let answer = get_path(&gw, "/users/99").await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.body, json!({"error": "not_found"}));
}

#[tokio::test]
async fn replicas_are_found_through_dns() {
    let users = serve(echo("by-dns")).await;
    let config = Config::from_env(&kit::config::Env::from_pairs([(
        "USERS_SERVICE",
        format!("localhost:{}", users.port()),
    )]))
    .unwrap();
    let gw = Gateway::new(config);
    gw.discover().await;
    // `localhost` may also give ::1, where nothing listens: the retry on the
    // other replica covers it, as it would a stopped container.
    for _ in 0..3 {
        let answer = get_path(&gw, "/users").await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
        assert_eq!(answer.headers["x-served-by"], "by-dns");
    }
}

#[test]
fn bad_upstream_addresses_are_named() {
    let env = kit::config::Env::from_pairs([("USERS_SERVICE", "http://evil")]);
    let err = Config::from_env(&env).unwrap_err();
    assert_eq!(err.name, "USERS_SERVICE");
}

#[tokio::test]
async fn large_bodies_are_forwarded_whole() {
    let users = serve(echo("u1")).await;
    let gw = gateway(&[users], &[], &[]);
    let text = "x".repeat(60_000);
    let request = Request::put("/users/1")
        .body(Body::from(Bytes::from(text.clone())))
        .unwrap();
    let answer = call(&gw, request).await;
    assert_eq!(answer.body["body"].as_str().unwrap().len(), text.len());
    assert_eq!(answer.body["method"], "PUT");
}

#[tokio::test]
async fn a_head_answer_keeps_its_declared_length() {
    let users = serve(Router::new().route("/users", get(|| async { "hello" }))).await;
    let gw = gateway(&[users], &[], &[]);
    let head = app(gw)
        .oneshot(Request::head("/users").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(head.headers()["content-length"], "5");
    assert!(head
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .is_empty());
}

#[tokio::test]
async fn redirects_are_passed_to_the_caller_not_followed() {
    // Following one would make the gateway fetch a URL the upstream chose.
    let users = serve(Router::new().route(
        "/users/1",
        get(|| async {
            (
                StatusCode::FOUND,
                [("location", "http://example.invalid/elsewhere")],
                axum::Json(json!({"moved": true})),
            )
        }),
    ))
    .await;
    let gw = gateway(&[users], &[], &[]);
    let answer = get_path(&gw, "/users/1").await;
    assert_eq!(answer.status, StatusCode::FOUND);
    assert_eq!(
        answer.headers["location"],
        "http://example.invalid/elsewhere"
    );
    assert_eq!(answer.body, json!({"moved": true}));
}
