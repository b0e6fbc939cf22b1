//! Running a service: the shared layers, binding, and a bounded graceful
//! shutdown.
//!
//! [`app`] wraps a service's routes with what every server here must have:
//! a request id, a trace span, a bound on body size and on time per request,
//! panics turned into a JSON 500, and every error as JSON (including the
//! bodiless ones tower layers produce, such as 408 and 413). [`serve`] runs it
//! until the shutdown future completes, lets in-flight requests finish, and
//! gives up after a grace period so a stop never hangs.

use std::{future::Future, net::SocketAddr, time::Duration};

use axum::{
    extract::{DefaultBodyLimit, Request},
    http::{header, HeaderValue, StatusCode},
    middleware,
    response::{IntoResponse, Response},
    Router,
};
use tokio::net::TcpListener;
use tower::{util::MapResponseLayer, ServiceBuilder};
use tower_http::{
    catch_panic::CatchPanicLayer,
    limit::RequestBodyLimitLayer,
    request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    timeout::TimeoutLayer,
    trace::TraceLayer,
};

use crate::error::{self, ErrorBody};

/// The header that carries a request's id from the gateway to the services.
pub const REQUEST_ID: &str = "x-request-id";

/// Bounds on what one request may cost a server.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest request body accepted, in bytes (413 beyond).
    pub body_bytes: usize,
    /// Longest time one request may take, slow clients included (408 beyond).
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            body_bytes: 1024 * 1024,
            request_timeout: Duration::from_secs(10),
        }
    }
}

/// `routes` with the shared layers and the JSON 404/405 fallbacks.
///
/// All layers go in one `Router::layer` call: each call wraps every route in
/// another boxed service, which costs an allocation per request.
pub fn app(routes: Router, limits: Limits) -> Router {
    let request_id = header::HeaderName::from_static(REQUEST_ID);
    // Outermost first. The request id and its span come first so every log
    // line of the request carries the id; the bounds and the panic guard sit
    // right around the handlers, inside the layer that turns their bodiless
    // errors (408, 413) into JSON.
    let layers = ServiceBuilder::new()
        .layer(SetRequestIdLayer::new(request_id.clone(), RandomRequestId))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request| {
                    // Only the id: the handler's own line says what happened.
                    let id = request
                        .headers()
                        .get(REQUEST_ID)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    tracing::info_span!("request", request_id = %id)
                })
                // No per-request events of its own: they cost time on every
                // request and the services log what matters themselves.
                .on_request(())
                .on_response(())
                .on_body_chunk(())
                .on_eos(())
                .on_failure(()),
        )
        .layer(PropagateRequestIdLayer::new(request_id))
        .layer(MapResponseLayer::new(json_errors))
        .layer(RequestBodyLimitLayer::new(limits.body_bytes))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
        .layer(DefaultBodyLimit::disable());
    routes
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
    router.layer(middleware::map_response(move |mut response: Response| {
        let value = value.clone();
        async move {
            response
                .headers_mut()
                .insert(header::HeaderName::from_static(SERVED_BY), value);
            response
        }
    }))
}

/// Request ids in the UUID v4 format, from a fast thread-local generator.
///
/// tower-http's `MakeRequestUuid` asks the kernel for randomness on every
/// request (a system call); an id only has to be unique enough to follow one
/// request through the logs, not unpredictable.
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let mut bits = fastrand::u128(..);
        // Version 4 and the RFC 4122 variant, as a UUID reader expects.
        bits = (bits & !(0xf << 76)) | (0x4 << 76);
        bits = (bits & !(0x3 << 62)) | (0x2 << 62);
        let hex = format!("{bits:032x}");
        let id = format!(
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        );
        HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}

/// Binds `0.0.0.0:port`. Inside a container, `127.0.0.1` would accept only
/// connections from the container itself, so neither the published port nor
/// other containers could reach the service.
pub async fn bind(port: u16) -> std::io::Result<TcpListener> {
    TcpListener::bind(SocketAddr::from(([0, 0, 0, 0], port))).await
}

/// Serves `app` until `shutdown` completes, then drains in-flight requests
/// for at most `grace`.
pub async fn serve<F>(
    listener: TcpListener,
    app: Router,
    shutdown: F,
    grace: Duration,
) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown.await;
        let _ = stopping_tx.send(());
    });
    let deadline = async move {
        if stopping_rx.await.is_ok() {
            tokio::time::sleep(grace).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        result = server => result,
        () = deadline => {
            tracing::warn!(?grace, "requests still in flight after the grace period; exiting anyway");
            Ok(())
        }
    }
}

/// Gives a JSON body to error responses that have none (or a plain-text
/// one): tower layers answer 408 and 413 with an empty or text body.
fn json_errors<B>(response: axum::http::Response<B>) -> Response
where
    B: axum::body::HttpBody<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if status.as_u16() < 400 || is_json {
        return response.map(axum::body::Body::new);
    }
    let (mut parts, _) = response.into_parts();
    let code = match status {
        StatusCode::REQUEST_TIMEOUT => "request_timeout",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        s if s.is_client_error() => "bad_request",
        _ => "internal_error",
    };
    let message = status.canonical_reason().unwrap_or("error");
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let body = serde_json::to_vec(&ErrorBody {
        error: code,
        message,
    })
    .unwrap_or_default();
    Response::from_parts(parts, body.into())
}

fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    error::ApiError::Internal(format!("handler panicked: {detail}")).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
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
