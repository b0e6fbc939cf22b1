//! Forwarding one request to one replica, and what to answer when that fails.
//!
//! The gateway calls only the replicas it found for a fixed service name:
//! the URL it sends to is built from a replica's IP and the request's path,
//! never from anything else the caller sent (absolute-form targets, `Host`,
//! dot segments and their encodings are refused before that), so no request
//! can point it at an address of the caller's choosing.

use std::{panic::AssertUnwindSafe, sync::Arc, time::Instant};

use axum::{
    body::{Body, Bytes, HttpBody},
    extract::Request,
    http::{header, uri::PathAndQuery, HeaderMap, HeaderName, Method, Response, Uri},
    response::IntoResponse,
};
use futures_util::FutureExt;
use http_body_util::BodyExt;
use kit::ApiError;

use crate::{h1, h1::Conn, upstream::Replica, upstream::Upstream, Gateway};

/// The largest upstream answer the gateway relays; beyond it, 502.
const MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;

/// Refuses request targets that could reach something other than the
/// upstream's `/users...` or `/orders...` paths.
pub fn check_target(uri: &Uri) -> Result<(), ApiError> {
    if uri.scheme().is_some() || uri.authority().is_some() {
        return Err(ApiError::BadRequest(
            "absolute-form request targets are not accepted: send a path".into(),
        ));
    }
    let path = uri.path();
    // Encoded dot, slash, backslash, NUL and percent (double encoding): an
    // upstream could decode them into a path we never checked.
    if path.contains('%') {
        let lower = path.to_ascii_lowercase();
        for trick in ["%2e", "%2f", "%5c", "%00", "%25"] {
            if lower.contains(trick) {
                return Err(ApiError::BadRequest(format!(
                    "encoded {trick} is not accepted in a path"
                )));
            }
        }
    }
    if path.contains('\\') || path.contains("//") {
        return Err(ApiError::BadRequest("malformed path".into()));
    }
    if path
        .split('/')
        .any(|segment| segment == "." || segment == "..")
    {
        return Err(ApiError::BadRequest(
            "dot segments are not accepted in a path".into(),
        ));
    }
    Ok(())
}

/// Whether `name` describes one connection, not the message (RFC 9110
/// §7.6.1), so that a proxy must not pass it on. Standard names compare as
/// enum values, so this costs little on every header of every request.
fn is_hop_by_hop(name: &HeaderName) -> bool {
    *name == header::CONNECTION
        || *name == header::TE
        || *name == header::TRAILER
        || *name == header::TRANSFER_ENCODING
        || *name == header::UPGRADE
        || *name == header::PROXY_AUTHENTICATE
        || *name == header::PROXY_AUTHORIZATION
        || matches!(name.as_str(), "keep-alive" | "proxy-connection")
}

/// Removes from `headers` the hop-by-hop ones, including those that
/// `Connection` names: they describe one connection, not the message.
///
/// In place, and in one pass that hashes nothing when there is nothing to
/// remove (the usual case): building a new map would hash every name again.
/// `Content-Length` stays: the body is passed on whole, so it still holds
/// (and for a HEAD it is the only place the length is).
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    if !headers.keys().any(is_hop_by_hop) {
        return;
    }
    let named_by_connection: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    let present: Vec<HeaderName> = headers
        .keys()
        .filter(|n| is_hop_by_hop(n))
        .cloned()
        .collect();
    for name in present.iter().chain(&named_by_connection) {
        headers.remove(name);
    }
}

/// Why one attempt on one replica failed.
#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error("connection failed: {0}")]
    Connect(String),
    #[error("no answer within {0:?}")]
    Timeout(std::time::Duration),
    /// The exchange failed after connecting; `h1::Error` says how.
    #[error(transparent)]
    Broken(h1::Error),
}

impl Failure {
    fn into_api(self, upstream: &Upstream) -> ApiError {
        let message = format!("{}: {self}", upstream.name);
        match self {
            Self::Connect(_) => ApiError::Unavailable(message),
            Self::Timeout(_) => ApiError::GatewayTimeout(message),
            Self::Broken(_) => ApiError::BadGateway(message),
        }
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// Safe to send twice: RFC 9110 §9.2.2.
fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::PUT | Method::DELETE | Method::TRACE
    )
}

/// Answers one request for `/users...` or `/orders...`.
///
/// This is the gateway's hot path, so it runs without a `Router` and its
/// layers (a boxed service, a task-local, a timer and an allocation or two
/// each): what kit's layers give every other route, it does here inline and
/// only where needed. The request keeps the caller's id or gets one, which
/// the services see and every log line shows; the body is bounded in size
/// and time; a panic is a JSON 500, not a dropped connection.
pub async fn handle<B>(
    gateway: Arc<Gateway>,
    upstream: Arc<Upstream>,
    mut request: Request<B>,
) -> Response<Body>
where
    B: HttpBody<Data = Bytes>,
    B::Error: Into<axum::BoxError>,
{
    let id = kit::request_id::ensure(request.headers_mut());
    // Boxed: this future holds every step of an exchange (several KB), and
    // each wrapper below would otherwise copy it whole as it moves it.
    let forwarded =
        AssertUnwindSafe(Box::pin(forward(&gateway, &upstream, request))).catch_unwind();
    let mut response = match kit::request_id::scope(id.clone(), forwarded).await {
        Ok(Ok(response)) => response,
        Ok(Err(e)) => e.into_response(),
        Err(panic) => kit::server::panic_response(panic),
    };
    kit::request_id::answer_with(response.headers_mut(), id);
    response
}

/// The whole request body, within kit's bounds on size (413) and time (408).
async fn read_body<B>(body: B) -> Result<Bytes, ApiError>
where
    B: HttpBody<Data = Bytes>,
    B::Error: Into<axum::BoxError>,
{
    // Most requests (every GET) have none: no timer, no allocation.
    if body.is_end_stream() {
        return Ok(Bytes::new());
    }
    let limits = kit::server::Limits::default();
    match tokio::time::timeout(limits.request_timeout, read_whole(body, limits.body_bytes)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(BodyError::TooLarge)) => Err(ApiError::PayloadTooLarge),
        Ok(Err(BodyError::Broken(e))) => Err(ApiError::BadRequest(format!(
            "could not read the request body: {e}"
        ))),
        Err(_) => Err(ApiError::RequestTimeout),
    }
}

/// Why a body could not be read whole.
#[derive(Debug)]
enum BodyError {
    TooLarge,
    Broken(String),
}

/// The whole of `body`, at most `max` bytes (a declared length over it is
/// refused before reading). A stall is the caller's to bound.
///
/// A small body arrives as one frame, which is kept as it is: no copy and no
/// list of frames (`BodyExt::collect` would make both).
async fn read_whole<B>(body: B, max: usize) -> Result<Bytes, BodyError>
where
    B: HttpBody<Data = Bytes>,
    B::Error: Into<axum::BoxError>,
{
    if body.size_hint().lower() > max as u64 {
        return Err(BodyError::TooLarge);
    }
    let mut body = std::pin::pin!(body);
    let mut first = Bytes::new();
    let mut more: Option<Vec<u8>> = None;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| BodyError::Broken(root_cause(&*e.into())))?;
        // Trailers (rare) are not passed on.
        let Ok(data) = frame.into_data() else {
            continue;
        };
        let so_far = first.len() + more.as_ref().map_or(0, Vec::len);
        if so_far + data.len() > max {
            return Err(BodyError::TooLarge);
        }
        match more.as_mut() {
            None if first.is_empty() => first = data,
            None => {
                let mut joined = Vec::with_capacity(first.len() + data.len());
                joined.extend_from_slice(&first);
                joined.extend_from_slice(&data);
                more = Some(joined);
            }
            Some(joined) => joined.extend_from_slice(&data),
        }
    }
    Ok(more.map_or(first, Bytes::from))
}

/// Sends the request to a replica of `upstream`, and once
/// more to another replica if that fails and sending twice is harmless.
async fn forward<B>(
    gateway: &Gateway,
    upstream: &Upstream,
    request: Request<B>,
) -> Result<Response<Body>, ApiError>
where
    B: HttpBody<Data = Bytes>,
    B::Error: Into<axum::BoxError>,
{
    let (parts, body) = request.into_parts();
    check_target(&parts.uri)?;
    // Buffered so a retry can send it again.
    let body = read_body(body).await?;
    let path_and_query = parts
        .uri
        .path_and_query()
        .cloned()
        .unwrap_or_else(|| PathAndQuery::from_static("/"));
    let mut headers = parts.headers;
    strip_hop_by_hop(&mut headers);
    // The upstream's own name, as a client calling it directly would send;
    // the caller's goes on as X-Forwarded-Host.
    if let Some(host) = headers.insert(header::HOST, upstream.host_header.clone()) {
        headers.insert(HeaderName::from_static("x-forwarded-host"), host);
    }

    let attempt = Attempt {
        gateway,
        upstream,
        method: &parts.method,
        path_and_query: &path_and_query,
        body: &body,
    };
    let first = upstream.pick(None).ok_or_else(|| {
        ApiError::Unavailable(format!(
            "{}: no replica found for {}",
            upstream.name, upstream.addr
        ))
    })?;
    let failure = match attempt.send(&first, &headers).await {
        Ok(response) => return Ok(response),
        Err(failure) => failure,
    };
    // Once, on another replica, and only when sending twice is harmless.
    let retryable = is_idempotent(&parts.method) && !matches!(failure, Failure::Timeout(_));
    let second = if retryable {
        upstream.pick(Some(first.addr))
    } else {
        None
    };
    let Some(second) = second else {
        return Err(failure.into_api(upstream));
    };
    tracing::warn!(
        "{} {path_and_query}: {} falhou ({failure}); tentando de novo em {}",
        parts.method,
        first.addr,
        second.addr
    );
    attempt
        .send(&second, &headers)
        .await
        .map_err(|failure| failure.into_api(upstream))
}

/// Everything needed to send the same request to one replica or another.
struct Attempt<'a> {
    gateway: &'a Gateway,
    upstream: &'a Upstream,
    method: &'a Method,
    path_and_query: &'a PathAndQuery,
    body: &'a Bytes,
}

impl Attempt<'_> {
    async fn send(
        &self,
        replica: &Replica,
        headers: &HeaderMap,
    ) -> Result<Response<Body>, Failure> {
        // Read only for the debug line below: a clock read per request is
        // not free when nothing shows it.
        let started = tracing::enabled!(tracing::Level::DEBUG).then(Instant::now);
        let timeout = self.gateway.config.upstream_timeout;
        // One bound for the whole exchange: connecting, the answer's head
        // and its body.
        let answer = tokio::time::timeout(timeout, self.exchange(replica, headers))
            .await
            .map_err(|_| Failure::Timeout(timeout))??;
        let mut response = Response::new(Body::from(answer.body));
        *response.status_mut() = answer.status;
        *response.headers_mut() = answer.headers;
        strip_hop_by_hop(response.headers_mut());
        // Debug, not info: one line per request costs the gateway a third of
        // its throughput, and the service logs the request (with the same
        // request id) anyway. The compose file turns it on for learners.
        tracing::debug!(
            "{} {} -> {} {} {} ({} µs)",
            self.method,
            self.path_and_query,
            self.upstream.name,
            replica.addr,
            response.status().as_u16(),
            started.map_or(0, |t| t.elapsed().as_micros())
        );
        Ok(response)
    }

    /// Sends the request to `replica` on a kept-alive connection if one is
    /// idle, or a new one, and reads the whole answer. A kept-alive
    /// connection that the replica closed just as it was taken gives no
    /// answer at all; the request then goes again on a new connection, if
    /// sending it twice is harmless.
    async fn exchange(
        &self,
        replica: &Replica,
        headers: &HeaderMap,
    ) -> Result<h1::Answer, Failure> {
        if let Some(connection) = self.gateway.pool.take(replica.addr) {
            match self.exchange_on(replica, connection, headers).await {
                Err(h1::Error::NoAnswer(_)) if is_idempotent(self.method) => {}
                answer => return answer.map_err(Failure::Broken),
            }
        }
        let connection = self.gateway.pool.connect(replica.addr).await.map_err(|e| {
            self.upstream.mark_down(replica);
            Failure::Connect(e.to_string())
        })?;
        self.exchange_on(replica, connection, headers)
            .await
            .map_err(Failure::Broken)
    }

    /// One exchange on `connection`, which goes back to the pool if it can
    /// carry another.
    async fn exchange_on(
        &self,
        replica: &Replica,
        mut connection: Conn,
        headers: &HeaderMap,
    ) -> Result<h1::Answer, h1::Error> {
        // Origin-form (`/users?x=1`), as a client sends to the server itself:
        // the absolute form is for talking to a proxy.
        let target = self.path_and_query.as_str();
        let answer = connection
            .exchange(self.method, target, headers, self.body, MAX_RESPONSE_BYTES)
            .await?;
        if answer.reusable {
            self.gateway.pool.put(replica.addr, connection);
        }
        Ok(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_drops_hop_by_hop_and_what_connection_names() {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("connection", "keep-alive, X-Secret"),
            ("keep-alive", "timeout=5"),
            ("proxy-connection", "keep-alive"),
            ("te", "trailers"),
            ("trailer", "x"),
            ("transfer-encoding", "chunked"),
            ("upgrade", "websocket"),
            ("proxy-authorization", "Basic x"),
            ("proxy-authenticate", "Basic"),
            ("host", "gateway:5004"),
            ("content-length", "3"),
            ("x-secret", "named by connection"),
            ("accept", "application/json"),
            ("x-request-id", "r-1"),
        ] {
            headers.append(
                HeaderName::from_static(name),
                axum::http::HeaderValue::from_static(value),
            );
        }
        strip_hop_by_hop(&mut headers);
        let mut names: Vec<&str> = headers.keys().map(HeaderName::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, ["accept", "content-length", "host", "x-request-id"]);
    }

    #[test]
    fn only_plain_paths_pass() {
        for ok in ["/users", "/users/1", "/orders?user_id=2", "/users/a%20b"] {
            assert!(check_target(&ok.parse().unwrap()).is_ok(), "{ok}");
        }
        for bad in [
            "http://evil.example/users",
            "/users/../admin",
            "/users/%2e%2e/admin",
            "/users/%2F",
            "/users//x",
            "/users/%252e",
            "/users/%00",
        ] {
            assert!(check_target(&bad.parse().unwrap()).is_err(), "{bad}");
        }
    }
}
