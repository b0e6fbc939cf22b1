//! One id per request, from the caller or made here, in every log line the
//! request causes and in the `x-request-id` header of its answer.
//!
//! The usual tower-http recipe takes three layers (set the id, a tracing
//! span carrying it, propagate it) and a span per request, which the fmt
//! subscriber formats and stores as it is created, whether or not anything
//! is logged. Measured with callgrind on Desafio 1's `GET /`, the span alone
//! cost about 3,700 instructions per request, a sixth of a bare axum
//! handler's whole cost. Here one layer keeps the id in a tokio task-local
//! for the duration of the request, and the log formatters in
//! [`crate::telemetry`] read it from there only when a line is written.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use axum::http::{HeaderMap, HeaderName, HeaderValue, Request, Response};
use tower::{Layer, Service};

/// The header that carries a request's id from the gateway to the services.
pub const REQUEST_ID: &str = "x-request-id";

/// A caller's id longer than this is replaced by a fresh one, so a client
/// cannot fill the logs with a header of its choosing.
const MAX_LEN: usize = 128;

tokio::task_local! {
    static CURRENT: HeaderValue;
}

/// Calls `f` with the id of the request being handled, if any.
pub fn with_current<R>(f: impl FnOnce(Option<&str>) -> R) -> R {
    let mut f = Some(f);
    let found = CURRENT.try_with(|id| {
        let f = f.take().expect("called once");
        f(id.to_str().ok())
    });
    match found {
        Ok(result) => result,
        Err(_) => (f.take().expect("not called yet"))(None),
    }
}

/// A fresh id in the UUID v4 format, from a fast thread-local generator.
///
/// tower-http's `MakeRequestUuid` asks the kernel for randomness on every
/// request (a system call); an id only has to be unique enough to follow one
/// request through the logs, not unpredictable.
pub fn generate() -> HeaderValue {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut bytes = fastrand::u128(..).to_be_bytes();
    // Version 4 and the RFC 4122 variant, as a UUID reader expects.
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let mut text = [b'-'; 36];
    let mut at = 0;
    for (i, byte) in bytes.into_iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            at += 1; // the dash already there
        }
        text[at] = HEX[usize::from(byte >> 4)];
        text[at + 1] = HEX[usize::from(byte & 0xf)];
        at += 2;
    }
    HeaderValue::from_bytes(&text).expect("hex digits and dashes are a valid header value")
}

/// Keeps the caller's `x-request-id` if it is a sensible one, or sets a fresh
/// one; the handlers see it in the request headers (the gateway forwards
/// it), the log lines show it, and the answer carries it back.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestIdLayer;

impl<S> Layer<S> for RequestIdLayer {
    type Service = RequestIdService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequestIdService { inner }
    }
}

/// See [`RequestIdLayer`].
#[derive(Debug, Clone)]
pub struct RequestIdService<S> {
    inner: S,
}

impl<S, B, R> Service<Request<B>> for RequestIdService<S>
where
    S: Service<Request<B>, Response = Response<R>>,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let id = ensure(request.headers_mut());
        // Inner services may log while building their future, too.
        let inner = CURRENT.sync_scope(id.clone(), || self.inner.call(request));
        ResponseFuture {
            inner: CURRENT.scope(id.clone(), inner),
            id: Some(id),
        }
    }
}

/// The request's id: the caller's `x-request-id` if it is a sensible one,
/// or a fresh one, which is then set in `headers` so that a handler
/// forwarding them (the gateway) passes it on.
pub fn ensure(headers: &mut HeaderMap) -> HeaderValue {
    let name = HeaderName::from_static(REQUEST_ID);
    match headers.get(&name) {
        Some(given) if acceptable(given) => given.clone(),
        _ => {
            let id = generate();
            headers.insert(name, id.clone());
            id
        }
    }
}

/// Gives an answer the request's id, unless it already carries one (a
/// service behind the gateway answers with the id it was given).
pub fn answer_with(headers: &mut HeaderMap, id: HeaderValue) {
    headers
        .entry(HeaderName::from_static(REQUEST_ID))
        .or_insert(id);
}

/// Runs `future` with `id` as the current request's id, the one
/// [`with_current`] (and so every log line) sees. [`RequestIdLayer`] does
/// this for the handlers of a `Router`; this is for a service without one.
pub fn scope<F: Future>(id: HeaderValue, future: F) -> impl Future<Output = F::Output> {
    CURRENT.scope(id, future)
}

fn acceptable(id: &HeaderValue) -> bool {
    !id.is_empty() && id.len() <= MAX_LEN && id.to_str().is_ok()
}

pin_project_lite::pin_project! {
    /// The answer of a [`RequestIdService`]: the inner answer with the id.
    pub struct ResponseFuture<F> {
        #[pin]
        inner: tokio::task::futures::TaskLocalFuture<HeaderValue, F>,
        id: Option<HeaderValue>,
    }
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("id", &self.id)
            .finish()
    }
}

impl<F, R, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<R>, E>>,
{
    type Output = Result<Response<R>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = std::task::ready!(this.inner.poll(cx))?;
        if let Some(id) = this.id.take() {
            answer_with(response.headers_mut(), id);
        }
        Poll::Ready(Ok(response))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_ids_look_like_uuid_v4_and_differ() {
        let a = generate();
        let b = generate();
        assert_ne!(a, b);
        let a = a.to_str().unwrap();
        assert_eq!(a.len(), 36);
        let groups: Vec<&str> = a.split('-').collect();
        assert_eq!(
            groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(groups[2].starts_with('4'), "{a}");
        assert!(matches!(&groups[3][..1], "8" | "9" | "a" | "b"), "{a}");
        assert!(a.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
    }

    #[test]
    fn a_sensible_caller_id_is_kept_and_an_abusive_one_is_not() {
        assert!(acceptable(&HeaderValue::from_static("abc-123")));
        assert!(!acceptable(&HeaderValue::from_static("")));
        let long = "x".repeat(MAX_LEN + 1);
        assert!(!acceptable(&HeaderValue::from_str(&long).unwrap()));
        assert!(!acceptable(
            &HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap()
        ));
    }

    #[tokio::test]
    async fn the_id_is_current_only_inside_the_request() {
        assert_eq!(with_current(|id| id.map(str::to_owned)), None);
        let seen = CURRENT
            .scope(HeaderValue::from_static("r-1"), async {
                with_current(|id| id.map(str::to_owned))
            })
            .await;
        assert_eq!(seen.as_deref(), Some("r-1"));
    }
}
