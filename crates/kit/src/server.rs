//! Running a service: [`app`] adds the layers every server here has (request
//! id, bounds, JSON errors), and [`serve`] serves it until a stop, which it
//! bounds in time.

use std::{future::Future, net::SocketAddr, time::Duration};

use axum::{
    error_handling::HandleErrorLayer,
    extract::{DefaultBodyLimit, Request},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Router,
};
use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
    service::TowerToHyperService,
};
use tokio::net::TcpListener;
use tower::{
    limit::GlobalConcurrencyLimitLayer,
    util::{MapRequestLayer, MapResponseLayer},
    BoxError, ServiceBuilder, ServiceExt,
};
use tower_http::{
    catch_panic::CatchPanicLayer,
    limit::RequestBodyLimitLayer,
    request_id::{PropagateRequestIdLayer, SetRequestIdLayer},
    set_header::SetResponseHeaderLayer,
    timeout::TimeoutLayer,
    trace::TraceLayer,
};

use crate::{error, request_id, ApiError};

/// Bounds on what clients may make a server hold, which must fit the
/// smallest container (32 MiB in the compose files): a request holds at most
/// its body (64 KiB; the JSON APIs take a few hundred bytes) and its
/// connection's buffer ([`MAX_HEAD_BYTES`]), so 256 in flight hold at most
/// 18 MiB, and any further request is a 503 at once. hyper's and axum's
/// defaults (400 KiB a connection, 2 MB a body, no bound on requests) let a
/// few hundred clients get the container killed.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest request body accepted, in bytes (413 beyond).
    pub body_bytes: usize,
    /// Longest time one request may take, slow clients included (408 beyond).
    pub request_timeout: Duration,
    /// Most requests handled at once; beyond, a JSON 503 with `Retry-After`.
    pub in_flight: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            body_bytes: 64 * 1024,
            request_timeout: Duration::from_secs(10),
            in_flight: 256,
        }
    }
}

/// `routes` with the shared layers and the JSON 404/405 fallbacks.
pub fn app(routes: Router, limits: Limits) -> Router {
    // Outermost first. The request id comes first so the request's span, and
    // so every log line of the request, carries it; the bounds and the panic
    // guard sit right around the handlers, inside the layer that turns their
    // bodiless errors (408, 413) into JSON.
    let layers = ServiceBuilder::new()
        .layer(MapRequestLayer::new(request_id::drop_unacceptable))
        .layer(SetRequestIdLayer::new(request_id::REQUEST_ID, request_id::MakeId))
        .layer(PropagateRequestIdLayer::new(request_id::REQUEST_ID))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request| {
                    tracing::info_span!("request", request_id = %request_id::of(request))
                })
                // The services log their own line for what matters; a 5xx is
                // already logged where it is made.
                .on_failure(()),
        )
        .layer(MapResponseLayer::new(json_errors))
        // Shed, not queued: a queue would hold the very memory the bound
        // is there to cap. One permit count for every route (axum applies
        // the layers route by route; a plain `ConcurrencyLimitLayer` would
        // give each route its own).
        .layer(HandleErrorLayer::new(overloaded))
        .load_shed()
        .layer(GlobalConcurrencyLimitLayer::new(limits.in_flight))
        .layer(RequestBodyLimitLayer::new(limits.body_bytes))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ));
    routes
        // axum's extractors have a bound of their own (2 MB): the same one.
        .layer(DefaultBodyLimit::max(limits.body_bytes))
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(layers)
}

/// The response header naming the container that answered.
pub const SERVED_BY: &str = "x-served-by";

/// `router` with `x-served-by: <container>` on every response. Behind a
/// gateway with several replicas, it shows which one answered each request.
pub fn served_by(router: Router, container: &str) -> Router {
    let value = HeaderValue::from_str(container).unwrap_or(HeaderValue::from_static("unknown"));
    let name = header::HeaderName::from_static(SERVED_BY);
    router.layer(SetResponseHeaderLayer::overriding(name, value))
}

/// Binds `0.0.0.0:port`. Inside a container, `127.0.0.1` would accept only
/// connections from the container itself, so neither the published port nor
/// other containers could reach the service.
pub async fn bind(port: u16) -> std::io::Result<TcpListener> {
    TcpListener::bind(SocketAddr::from(([0, 0, 0, 0], port))).await
}

mod drain;

use drain::Drained;

/// Longest time a client may take to send a request head, and so also how
/// long an idle kept-alive connection stays open; the connection is closed
/// beyond. Without it, a client sending its head a byte at a time
/// (slowloris) holds a connection for ever: [`Limits::request_timeout`]
/// starts only once the head has arrived.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a client of these servers keeps an idle pooled connection:
/// well under [`HEAD_TIMEOUT`], since reusing one just as the server closes
/// it fails the request.
pub const POOL_IDLE: Duration = Duration::from_secs(2);

/// Largest request head accepted (431 and a close beyond; no client here
/// sends more than a few hundred bytes), and largest read buffer of one
/// connection: hyper's default buffer (about 400 KiB) times a few hundred
/// clients sending bodies is more than a container has.
pub const MAX_HEAD_BYTES: usize = 8 * 1024;

/// Serves `app` (HTTP/1.1) until `shutdown` completes, then lets in-flight
/// requests finish for at most `grace`. This is `axum::serve` plus the head
/// bounds above, written here because axum sets no timer, and hyper bounds
/// the time to read a request head only with one.
pub async fn serve<F>(
    mut listener: TcpListener,
    app: Router,
    shutdown: F,
    grace: Duration,
) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEAD_TIMEOUT)
        .max_header_size(MAX_HEAD_BYTES)
        .max_buf_size(MAX_HEAD_BYTES);
    // Bodies left unread are drained, not reset: see `drain`.
    let app = app.map_request(|request: Request<Incoming>| request.map(|body| Drained(Some(body))));
    let connections = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // axum's `Listener` retries failed accepts itself (pausing when out
        // of file descriptors), so one bad moment never stops the server.
        let stream = tokio::select! {
            (stream, _) = axum::serve::Listener::accept(&mut listener) => stream,
            () = &mut shutdown => break,
        };
        let service = TowerToHyperService::new(app.clone());
        let connection = connections.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // A client that sends garbage, stalls or goes away ends only its
            // own connection; hyper has already answered 400/431 if it could.
            if let Err(e) = connection.await {
                tracing::debug!("connection closed: {e}");
            }
        });
    }
    // No new connections; idle ones close now, busy ones after their answer.
    drop(listener);
    let drained = tokio::time::timeout(grace, connections.shutdown()).await;
    if drained.is_err() {
        tracing::warn!(
            ?grace,
            "requests still in flight after the grace period; exiting anyway"
        );
    }
    Ok(())
}

/// Gives a JSON body to error responses that have none (or a plain-text
/// one): tower layers answer 408 and 413 with an empty or text body.
fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if status.as_u16() < 400 || is_json {
        return response;
    }
    let reason = status.canonical_reason().unwrap_or("error").to_owned();
    let error = match status {
        StatusCode::REQUEST_TIMEOUT => ApiError::RequestTimeout,
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
        s if s.is_client_error() => ApiError::BadRequest(reason),
        _ => ApiError::Internal(reason),
    };
    // The layer's status and headers stay; only the body is replaced.
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let json = HeaderValue::from_static("application/json");
    parts.headers.insert(header::CONTENT_TYPE, json);
    Response::from_parts(parts, error.into_response().into_body())
}

/// The JSON 503 of a request shed because [`Limits::in_flight`] are being
/// handled (load shedding is the only error the layers below can make).
async fn overloaded(e: BoxError) -> ApiError {
    tracing::warn!("request shed: {e}");
    ApiError::Unavailable("too many requests at once; retry in a second".into())
}

/// The JSON 500 a panicking handler's request gets (the detail goes to the
/// log only).
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    ApiError::Internal(format!("handler panicked: {detail}")).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request_id::REQUEST_ID;
    use axum::extract::Request;
    use axum::{body::Body, routing::get};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    async fn call(app: Router, request: Request) -> (StatusCode, serde_json::Value) {
        let response = app.oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    async fn boom() -> &'static str {
        panic!("kaboom")
    }

    fn sample() -> Router {
        app(
            Router::new()
                .route("/ok", get(|| async { "ok" }))
                .route("/boom", get(boom))
                .route(
                    "/whoami",
                    get(|headers: axum::http::HeaderMap| async move {
                        // What a handler forwarding the request (the
                        // gateway) would send, and a log line beside it.
                        tracing::info!("whoami");
                        let seen = headers.get(REQUEST_ID).and_then(|v| v.to_str().ok());
                        format!("{seen:?}")
                    }),
                )
                .route(
                    "/echo",
                    axum::routing::post(|crate::Json(v): crate::Json<serde_json::Value>| async {
                        crate::Json(v)
                    }),
                ),
            Limits {
                body_bytes: 64,
                ..Limits::default()
            },
        )
    }

    #[tokio::test]
    async fn unknown_path_is_a_json_404() {
        let (status, body) =
            call(sample(), Request::get("/nope").body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["error"], "not_found");
        assert!(body["message"].as_str().unwrap().contains("/nope"));
    }

    #[tokio::test]
    async fn wrong_method_is_a_json_405() {
        let (status, body) =
            call(sample(), Request::post("/ok").body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(body["error"], "method_not_allowed");
    }

    #[tokio::test]
    async fn a_panic_is_a_json_500_without_details() {
        let (status, body) =
            call(sample(), Request::get("/boom").body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body["message"], "internal error");
    }

    #[tokio::test]
    async fn oversized_and_malformed_bodies_are_json_4xx() {
        let big = Request::post("/echo")
            .header("content-type", "application/json")
            .body(Body::from(format!("\"{}\"", "x".repeat(100))))
            .unwrap();
        let (status, body) = call(sample(), big).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(body["error"], "payload_too_large");

        let broken = Request::post("/echo")
            .header("content-type", "application/json")
            .body(Body::from("{\"a\":"))
            .unwrap();
        let (status, body) = call(sample(), broken).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"], "bad_request");

        let no_type = Request::post("/echo").body(Body::from("{}")).unwrap();
        let (status, _) = call(sample(), no_type).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }

    #[tokio::test]
    async fn responses_carry_a_request_id_and_keep_a_given_one() {
        let response = sample()
            .oneshot(
                Request::get("/ok")
                    .header(REQUEST_ID, "abc-123")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.headers()[REQUEST_ID], "abc-123");
        let response = sample()
            .oneshot(Request::get("/ok").body(Body::empty()).unwrap())
            .await
            .unwrap();
        let id = response.headers()[REQUEST_ID].to_str().unwrap().to_owned();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4", "version 4: {id}");
        assert!(
            matches!(&id[19..20], "8" | "9" | "a" | "b"),
            "variant: {id}"
        );
        let other = sample()
            .oneshot(Request::get("/ok").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_ne!(other.headers()[REQUEST_ID].to_str().unwrap(), id);
    }

    #[tokio::test]
    async fn handlers_and_log_lines_see_the_answers_request_id() {
        let (dispatch, logged) = crate::telemetry::tests::readable();
        let _default = tracing::dispatcher::set_default(&dispatch);
        for given in [None, Some("abc-123"), Some(""), Some("a status=500")] {
            let mut request = Request::get("/whoami");
            if let Some(given) = given {
                request = request.header(REQUEST_ID, given);
            }
            let response = sample()
                .oneshot(request.body(Body::empty()).unwrap())
                .await
                .unwrap();
            let id = response.headers()[REQUEST_ID].to_str().unwrap().to_owned();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(String::from_utf8_lossy(&bytes), format!("Some({id:?})"));
            match given {
                Some("abc-123") => assert_eq!(id, "abc-123"),
                _ => assert_eq!(id.len(), 36, "a fresh id: {id}"),
            }
            let lines = String::from_utf8(logged.lock().unwrap().clone()).unwrap();
            let line = lines.lines().last().unwrap();
            assert!(
                line.ends_with(&format!("] whoami request_id={id}")),
                "{line}"
            );
        }
        let lines = String::from_utf8(logged.lock().unwrap().clone()).unwrap();
        assert!(!lines.contains("status=500"), "{lines}");
    }

    #[tokio::test]
    async fn requests_beyond_the_bound_are_shed_with_a_json_503() {
        use std::sync::Arc;
        let started = Arc::new(tokio::sync::Notify::new());
        let release = Arc::new(tokio::sync::Notify::new());
        let (started_in, release_in) = (started.clone(), release.clone());
        let routes = Router::new()
            .route(
                "/hold",
                get(move || async move {
                    started_in.notify_one();
                    release_in.notified().await;
                    "held"
                }),
            )
            .route("/ok", get(|| async { "ok" }));
        let limits = Limits {
            in_flight: 1,
            ..Limits::default()
        };
        let app = app(routes, limits);
        let held = tokio::spawn(
            app.clone()
                .oneshot(Request::get("/hold").body(Body::empty()).unwrap()),
        );
        started.notified().await;
        // Another route, so the bound is seen to be the process's, not one
        // route's.
        let shed = app
            .clone()
            .oneshot(Request::get("/ok").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(shed.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(shed.headers()[header::RETRY_AFTER], "1");
        assert!(shed.headers().contains_key(REQUEST_ID));
        let bytes = shed.into_body().collect().await.unwrap().to_bytes();
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body["error"], "service_unavailable");

        release.notify_one();
        assert_eq!(held.await.unwrap().unwrap().status(), StatusCode::OK);
        let again = app
            .oneshot(Request::get("/ok").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::OK, "the permit came back");
    }

    #[tokio::test]
    async fn served_by_names_the_container_on_every_answer() {
        let app = served_by(sample(), "abc123def456");
        for path in ["/ok", "/nope"] {
            let response = app
                .clone()
                .oneshot(Request::get(path).body(Body::empty()).unwrap())
                .await
                .unwrap();
            assert_eq!(response.headers()[SERVED_BY], "abc123def456", "{path}");
        }
    }

    /// A real server on a loopback port, stopped when the sender drops.
    async fn spawn_server() -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
        let listener = bind(0).await.unwrap();
        let addr = SocketAddr::from(([127, 0, 0, 1], listener.local_addr().unwrap().port()));
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(serve(
            listener,
            sample(),
            async move {
                let _ = stop_rx.await;
            },
            Duration::from_secs(1),
        ));
        (addr, stop_tx)
    }

    #[tokio::test]
    async fn an_oversized_head_is_refused_and_others_are_still_served() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (addr, _stop) = spawn_server().await;
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let head = format!(
            "GET /ok HTTP/1.1\r\nhost: x\r\nx-big: {}\r\n\r\n",
            "a".repeat(MAX_HEAD_BYTES)
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).await.unwrap();
        assert!(text.starts_with("HTTP/1.1 431"), "{text}");

        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"GET /ok HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).await.unwrap();
        assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    }

    #[tokio::test]
    async fn a_head_that_never_ends_is_cut_off() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (addr, _stop) = spawn_server().await;
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"GET /ok HTTP/1.1\r\nhost: x\r\n")
            .await
            .unwrap();
        let started = std::time::Instant::now();
        // The server closes (hyper may first answer 408); a read never
        // returning would fail the test at the outer bound.
        let mut rest = Vec::new();
        tokio::time::timeout(HEAD_TIMEOUT * 2, stream.read_to_end(&mut rest))
            .await
            .expect("the server closes a stalled head")
            .ok();
        let waited = started.elapsed();
        assert!(
            waited >= HEAD_TIMEOUT - Duration::from_millis(500),
            "closed too early: {waited:?}"
        );
    }

    #[tokio::test]
    async fn serve_drains_an_in_flight_request_then_stops() {
        let listener = bind(0).await.unwrap();
        let addr = listener.local_addr().unwrap();
        // The handler reports that it started, so the stop below lands while
        // the request is truly in flight.
        let started = std::sync::Arc::new(tokio::sync::Notify::new());
        let started_in_handler = started.clone();
        let routes = Router::new().route(
            "/slow",
            get(move || async move {
                started_in_handler.notify_one();
                tokio::time::sleep(Duration::from_millis(300)).await;
                "done"
            }),
        );
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(
            listener,
            app(routes, Limits::default()),
            async move {
                let _ = stop_rx.await;
            },
            Duration::from_secs(5),
        ));
        let request = tokio::spawn(async move {
            let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            stream
                .write_all(b"GET /slow HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
                .await
                .unwrap();
            let mut text = String::new();
            stream.read_to_string(&mut text).await.unwrap();
            text
        });
        started.notified().await;
        stop_tx.send(()).unwrap();
        let text = request.await.unwrap();
        assert!(
            text.starts_with("HTTP/1.1 200") && text.ends_with("done"),
            "{text}"
        );
        server.await.unwrap().unwrap();
    }
}
