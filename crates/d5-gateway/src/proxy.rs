//! Forwarding one request to one replica, and what to answer when that fails.
//!
//! The gateway calls only the replicas it found for a fixed service name:
//! the URL it sends to is built from a replica's IP and the request's path,
//! never from anything else the caller sent (absolute-form targets, `Host`,
//! dot segments and their encodings are refused before that), so no request
//! can point it at an address of the caller's choosing.

use std::{sync::Arc, time::Instant};

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{header, HeaderMap, HeaderName, Method, Response, Uri},
};
use kit::ApiError;

use crate::{upstream::Replica, upstream::Upstream, Gateway};

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
    let lower = path.to_ascii_lowercase();
    // Encoded dot, slash, backslash, NUL and percent (double encoding): an
    // upstream could decode them into a path we never checked.
    for trick in ["%2e", "%2f", "%5c", "%00", "%25"] {
        if lower.contains(trick) {
            return Err(ApiError::BadRequest(format!(
                "encoded {trick} is not accepted in a path"
            )));
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

/// Headers that describe one connection, not the message (RFC 9110 §7.6.1),
/// so a proxy must not pass them on.
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// `headers` without hop-by-hop ones (including those that `Connection`
/// names), `Host` and `Content-Length` (the client recomputes it).
pub fn end_to_end(headers: &HeaderMap) -> HeaderMap {
    let named_by_connection: Vec<String> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|name| name.trim().to_ascii_lowercase())
        .collect();
    let mut out = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        let n = name.as_str();
        if HOP_BY_HOP.contains(&n)
            || name == header::HOST
            || name == header::CONTENT_LENGTH
            || named_by_connection.iter().any(|c| c == n)
        {
            continue;
        }
        out.append(name.clone(), value.clone());
    }
    out
}

/// Why one attempt on one replica failed.
#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error("connection failed: {0}")]
    Connect(String),
    #[error("no answer within {0:?}")]
    Timeout(std::time::Duration),
    #[error("broken answer: {0}")]
    Broken(String),
}

impl Failure {
    fn from_reqwest(e: &reqwest::Error, gateway: &Gateway) -> Self {
        // A connect timeout is a connect failure: nothing was sent.
        if e.is_connect() {
            Self::Connect(root_cause(e))
        } else if e.is_timeout() {
            Self::Timeout(gateway.config.upstream_timeout)
        } else {
            Self::Broken(root_cause(e))
        }
    }

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

/// The handler behind `/users...` and `/orders...`.
pub async fn forward(
    State(gateway): State<Arc<Gateway>>,
    request: Request,
) -> Result<Response<Body>, ApiError> {
    let (parts, body) = request.into_parts();
    check_target(&parts.uri)?;
    let upstream = gateway
        .route(parts.uri.path())
        .ok_or_else(|| ApiError::not_found(format!("no route for {}", parts.uri.path())))?;
    // Buffered (kit's body limit bounds it) so a retry can send it again.
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .map_err(|_| ApiError::PayloadTooLarge)?;
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or(parts.uri.path(), |pq| pq.as_str());
    let mut headers = end_to_end(&parts.headers);
    headers.insert(header::HOST, upstream.host_header.clone());
    if let Some(host) = parts.headers.get(header::HOST) {
        headers.insert(HeaderName::from_static("x-forwarded-host"), host.clone());
    }

    let attempt = Attempt {
        gateway: &gateway,
        upstream,
        method: &parts.method,
        path_and_query,
        headers: &headers,
        body: &body,
    };
    let first = upstream.pick(None).ok_or_else(|| {
        ApiError::Unavailable(format!(
            "{}: no replica found for {}",
            upstream.name, upstream.addr
        ))
    })?;
    let failure = match attempt.send(&first).await {
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
        .send(&second)
        .await
        .map_err(|failure| failure.into_api(upstream))
}

/// Everything needed to send the same request to one replica or another.
struct Attempt<'a> {
    gateway: &'a Gateway,
    upstream: &'a Upstream,
    method: &'a Method,
    path_and_query: &'a str,
    headers: &'a HeaderMap,
    body: &'a Bytes,
}

impl Attempt<'_> {
    async fn send(&self, replica: &Replica) -> Result<Response<Body>, Failure> {
        let started = Instant::now();
        let url = format!("{}{}", replica.base, self.path_and_query);
        let result = self
            .gateway
            .client
            .request(self.method.clone(), url)
            .headers(self.headers.clone())
            .body(self.body.clone())
            .send()
            .await;
        let response = match result {
            Ok(response) => response,
            Err(e) => {
                let failure = Failure::from_reqwest(&e, self.gateway);
                if matches!(failure, Failure::Connect(_)) {
                    self.upstream.mark_down(replica);
                }
                return Err(failure);
            }
        };
        let status = response.status();
        let headers = end_to_end(response.headers());
        let body = read_capped(response, self.gateway).await?;
        // Debug, not info: one line per request costs the gateway a third of
        // its throughput, and the service logs the request (with the same
        // request id) anyway. The compose file turns it on for learners.
        tracing::debug!(
            "{} {} -> {} {} {} ({} µs)",
            self.method,
            self.path_and_query,
            self.upstream.name,
            replica.addr,
            status.as_u16(),
            started.elapsed().as_micros()
        );
        let mut out = Response::new(Body::from(body));
        *out.status_mut() = status;
        *out.headers_mut() = headers;
        Ok(out)
    }
}

/// The whole body, or a failure if it breaks, stalls or is too large.
async fn read_capped(mut response: reqwest::Response, gateway: &Gateway) -> Result<Bytes, Failure> {
    let too_large = || Failure::Broken(format!("answer larger than {MAX_RESPONSE_BYTES} bytes"));
    if response
        .content_length()
        .is_some_and(|n| n > MAX_RESPONSE_BYTES as u64)
    {
        return Err(too_large());
    }
    let mut buffer = Vec::with_capacity(
        response
            .content_length()
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(8 * 1024),
    );
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| Failure::from_reqwest(&e, gateway))?
    {
        if buffer.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(too_large());
        }
        buffer.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(buffer))
}
