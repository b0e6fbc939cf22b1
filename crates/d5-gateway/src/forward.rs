//! Forwarding one request to one replica, and what to answer when that fails.
//!
//! The gateway calls only the replicas it found for a fixed service name:
//! the URL it sends to is built from a replica's IP and the request's path,
//! never from anything else the caller sent (absolute-form targets, `Host`,
//! dot segments and their encodings are refused before that), so no request
//! can point it at an address of the caller's choosing.
//!
//! hyper-util's pooled client does the HTTP: it writes the request, reads
//! the answer's head and hands its body on as it arrives. Both bodies are
//! streamed, never held whole, and the answer is framed anew for the caller
//! from the body itself, never from the upstream's framing headers.

use std::{error::Error as _, time::Duration, time::Instant};

use axum::{
    body::Body,
    extract::Request,
    http::{header, request, HeaderMap, HeaderName, Method},
    response::{IntoResponse, Response},
};
use http_body_util::{LengthLimitError, Limited};
use hyper::body::{Body as _, Incoming};
use kit::ApiError;
use tower_http::timeout::TimeoutBody;

use crate::{
    discovery::{Replica, Upstream},
    Gateway,
};

/// The client every forwarded request goes through (kit's pooled one): one
/// pool of kept-alive connections, keyed by replica address.
pub type Client = kit::client::Pooled<Body>;

/// The largest upstream answer the gateway relays: a larger declared length
/// is a 502, and a body that grows past it is cut off.
pub const MAX_ANSWER_BYTES: usize = 8 * 1024 * 1024;

/// Answers one request for `/users...` or `/orders...` with a replica's
/// answer, or with a JSON error saying why there is none.
pub async fn handle(gateway: &Gateway, upstream: &Upstream, request: Request) -> Response {
    let to = Forward { gateway, upstream };
    let (mut parts, body) = request.into_parts();
    if let Err(e) = kit::target::check(&parts.uri) {
        return e.into_response();
    }
    strip_hop_by_hop(&mut parts.headers);
    // The upstream's own name, as a client calling it directly would send;
    // the caller's goes on as X-Forwarded-Host.
    if let Some(host) = parts
        .headers
        .insert(header::HOST, to.upstream.host_header.clone())
    {
        parts
            .headers
            .insert(HeaderName::from_static("x-forwarded-host"), host);
    }
    // A body is streamed, so once it has gone out it cannot be sent again:
    // only a request without one is retried, and only one that is harmless
    // to send twice.
    let replayable = parts.method.is_idempotent() && body.is_end_stream();
    let Some(first) = to.upstream.pick(None) else {
        let name = &to.upstream.name;
        let addr = &to.upstream.addr;
        tracing::warn!("{name}: no replica found for {addr}");
        return ApiError::Unavailable(format!("{name}: no replica found; try again in a moment"))
            .into_response();
    };
    let failure = match to.send(&first, &parts, body).await {
        Ok(answer) => return to.relay(&parts.method, answer),
        Err(failure) => failure,
    };
    let second = match failure {
        _ if !replayable => None,
        Failure::Connect(_) => to.upstream.pick(Some(first.addr)),
        // Often a kept-alive connection the replica had just closed: a new
        // one to any replica, this one included, will do.
        Failure::NoAnswer(_) => to.upstream.pick(Some(first.addr)).or(Some(first.clone())),
        _ => None,
    };
    let Some(second) = second else {
        return failure.into_response(to.upstream);
    };
    tracing::warn!(
        "{} {}: {} falhou ({failure}); tentando de novo em {}",
        parts.method,
        parts.uri,
        first.addr,
        second.addr
    );
    match to.send(&second, &parts, Body::empty()).await {
        Ok(answer) => to.relay(&parts.method, answer),
        Err(failure) => failure.into_response(to.upstream),
    }
}

/// One request's way to its upstream.
struct Forward<'a> {
    gateway: &'a Gateway,
    upstream: &'a Upstream,
}

/// Why a replica's answer could not be had or passed on.
#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error("connection failed: {0}")]
    Connect(String),
    /// Connected, but no usable answer head came back.
    #[error("no answer: {0}")]
    NoAnswer(String),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The caller's body grew past kit's bound while it was being sent.
    #[error("request body too large")]
    TooLarge,
    /// The caller's body could not be read (broken chunked framing, say).
    #[error("could not read the request body: {0}")]
    BadBody(String),
    /// An answer came, but it cannot be passed on safely.
    #[error("unusable answer: {0}")]
    Unusable(String),
}

impl Failure {
    fn from_client(e: &hyper_util::client::legacy::Error) -> Self {
        let causes = || std::iter::successors(e.source(), |&c| c.source());
        // hyper calls a failure of the body it was given to send a user
        // error: here that body is the caller's.
        let body_failed = causes().any(|c| {
            c.downcast_ref::<hyper::Error>()
                .is_some_and(hyper::Error::is_user)
        });
        if e.is_connect() {
            Self::Connect(root_cause(e))
        } else if causes().any(|c| c.is::<LengthLimitError>()) {
            Self::TooLarge
        } else if body_failed {
            Self::BadBody(root_cause(e))
        } else {
            Self::NoAnswer(root_cause(e))
        }
    }

    /// The caller's answer. The detail (addresses, the system's error text)
    /// goes to the log; the caller reads what failed in words it can use.
    fn into_response(self, upstream: &Upstream) -> Response {
        let name = &upstream.name;
        tracing::warn!("{name}: {self}");
        let error = match self {
            Self::Connect(_) => {
                ApiError::Unavailable(format!("{name} is unreachable; try again in a moment"))
            }
            Self::Timeout(_) => ApiError::GatewayTimeout(format!("{name}: {self}")),
            Self::NoAnswer(_) => {
                ApiError::BadGateway(format!("{name} closed the connection without an answer"))
            }
            // Our own words on what was wrong with the answer.
            Self::Unusable(_) => ApiError::BadGateway(format!("{name}: {self}")),
            Self::BadBody(_) => {
                ApiError::BadRequest("the request body could not be read (broken framing?)".into())
            }
            // The rest of the body may still be on its way: this connection
            // cannot carry another request.
            Self::TooLarge => {
                return ([(header::CONNECTION, "close")], ApiError::PayloadTooLarge).into_response()
            }
        };
        error.into_response()
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    std::iter::successors(Some(e), |&e| e.source())
        .last()
        .map_or_else(String::new, ToString::to_string)
}

impl Forward<'_> {
    /// Sends the request to `replica`: a kept-alive connection if the pool
    /// has one, or a new one. Bounded in time up to the answer's head.
    async fn send(
        &self,
        replica: &Replica,
        parts: &request::Parts,
        body: Body,
    ) -> Result<hyper::Response<Incoming>, Failure> {
        // Origin-form (`/users?x=1`) goes on the wire: the client sends the
        // absolute form only to a proxy.
        let target = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let mut request = Request::new(body);
        *request.method_mut() = parts.method.clone();
        *request.uri_mut() = format!("http://{}{target}", replica.addr)
            .parse()
            .map_err(|e: axum::http::uri::InvalidUri| Failure::Unusable(e.to_string()))?;
        *request.headers_mut() = parts.headers.clone();
        let started = Instant::now();
        let timeout = self.gateway.config.upstream_timeout;
        let answer = match tokio::time::timeout(timeout, self.gateway.client.request(request)).await
        {
            Err(_) => return Err(Failure::Timeout(timeout)),
            Ok(Err(e)) => {
                let failure = Failure::from_client(&e);
                if let Failure::Connect(_) = failure {
                    self.upstream.mark_down(replica);
                }
                return Err(failure);
            }
            Ok(Ok(answer)) => answer,
        };
        // Debug, not info: the service logs the request (with the same
        // request id) anyway. The compose file turns it on for learners.
        tracing::debug!(
            "{} {target} -> {} {} {} ({} µs)",
            parts.method,
            self.upstream.name,
            replica.addr,
            answer.status().as_u16(),
            started.elapsed().as_micros()
        );
        Ok(answer)
    }

    /// The replica's answer as the caller gets it, or a 502 when it cannot
    /// be passed on as it came.
    fn relay(&self, method: &Method, answer: hyper::Response<Incoming>) -> Response {
        let (mut parts, body) = answer.into_parts();
        if let Err(reason) = check_framing(&parts.headers, body.size_hint().lower()) {
            return Failure::Unusable(reason).into_response(self.upstream);
        }
        // The upstream's framing headers go; the answer goes on with the
        // length hyper read its body by, as one number (chunked when there
        // was none). A HEAD answer has no body: it keeps its declared length.
        // Set here, not left to hyper: `TimeoutBody` below reports no size,
        // so hyper would frame every answer chunked.
        let length = match parts.status.as_u16() {
            204 | 304 => None,
            _ if method == Method::HEAD => declared_length(&parts.headers),
            _ => body.size_hint().exact(),
        };
        strip_hop_by_hop(&mut parts.headers);
        parts.headers.remove(header::CONTENT_LENGTH);
        if let Some(length) = length {
            parts.headers.insert(header::CONTENT_LENGTH, length.into());
        }
        // A body that stalls longer than the timeout, or grows past the
        // bound, ends the caller's connection: its head has gone out already.
        let body = Limited::new(
            TimeoutBody::new(self.gateway.config.upstream_timeout, body),
            MAX_ANSWER_BYTES,
        );
        Response::from_parts(parts, Body::new(body))
    }
}

/// Refuses answers whose framing hyper accepts but a proxy must not pass on
/// (RFC 9112 §6.3): a transfer coding other than chunked would reach the
/// caller still encoded with nothing saying so, and `Transfer-Encoding`
/// beside `Content-Length` is how response splitting starts.
fn check_framing(headers: &HeaderMap, length_at_least: u64) -> Result<(), String> {
    let codings = headers.get_all(header::TRANSFER_ENCODING);
    let foreign = codings.iter().any(|value| {
        value.to_str().map_or(true, |v| {
            v.split(',')
                .any(|coding| !coding.trim().eq_ignore_ascii_case("chunked"))
        })
    });
    if foreign {
        return Err("a transfer coding other than chunked".into());
    }
    if headers.contains_key(header::TRANSFER_ENCODING)
        && headers.contains_key(header::CONTENT_LENGTH)
    {
        return Err("both Transfer-Encoding and Content-Length".into());
    }
    if length_at_least > MAX_ANSWER_BYTES as u64 {
        return Err(format!("an answer larger than {MAX_ANSWER_BYTES} bytes"));
    }
    Ok(())
}

/// `Content-Length` as one number, also when repeated with the same value.
fn declared_length(headers: &HeaderMap) -> Option<u64> {
    let mut values = headers
        .get_all(header::CONTENT_LENGTH)
        .iter()
        .flat_map(|v| v.to_str().unwrap_or("?").split(','))
        .map(|n| n.trim().parse::<u64>().ok());
    let first = values.next()??;
    values.all(|n| n == Some(first)).then_some(first)
}

/// Headers that describe one connection, not the message (RFC 9110
/// §7.6.1), so that a proxy must not pass them on.
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "proxy-authenticate",
    "proxy-authorization",
];

/// Removes from `headers` the hop-by-hop ones, including those that
/// `Connection` names.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named_by_connection: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in named_by_connection {
        headers.remove(name);
    }
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

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
                HeaderValue::from_static(value),
            );
        }
        strip_hop_by_hop(&mut headers);
        let mut names: Vec<&str> = headers.keys().map(HeaderName::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, ["accept", "content-length", "host", "x-request-id"]);
    }
}
