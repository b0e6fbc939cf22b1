//! One id per request, from the caller or made here, in the `x-request-id`
//! header (the gateway forwards it), in every log line of the request and on
//! its answer. tower-http's layers do the work; ours is which caller ids to
//! keep and how to make a fresh one.

use axum::http::{HeaderName, HeaderValue, Request};
use tower_http::request_id::{MakeRequestId, RequestId};

/// The header that carries a request's id from the gateway to the services.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A caller's id longer than this is replaced by a fresh one.
const MAX_LEN: usize = 64;

/// Whether a caller's id may be kept: short, and of characters that cannot
/// end a log field or start a new one (`a status=500` would forge a field).
pub fn acceptable(id: &HeaderValue) -> bool {
    (1..=MAX_LEN).contains(&id.len())
        && id
            .as_bytes()
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// Drops the caller's `x-request-id` unless it is one [`acceptable`] value,
/// so that `SetRequestIdLayer`, which keeps any id it finds, makes a fresh
/// one instead. For `tower::util::MapRequestLayer`, before that layer.
pub fn drop_unacceptable<B>(mut request: Request<B>) -> Request<B> {
    let mut given = request.headers().get_all(&REQUEST_ID).iter();
    let keep = matches!((given.next(), given.next()), (Some(id), None) if acceptable(id));
    if !keep {
        request.headers_mut().remove(&REQUEST_ID);
    }
    request
}

/// Fresh ids in the UUID v4 format, from a thread-local generator: an id has
/// to be unique enough to follow one request through the logs, not
/// unpredictable, so it needs no randomness from the kernel.
#[derive(Debug, Clone, Copy, Default)]
pub struct MakeId;

impl MakeRequestId for MakeId {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let mut text = uuid::Uuid::encode_buffer();
        // `uuid` sets the version and variant bits of the random ones.
        let id = uuid::Builder::from_random_bytes(fastrand::u128(..).to_le_bytes()).into_uuid();
        let id = id.hyphenated().encode_lower(&mut text);
        HeaderValue::from_str(id).ok().map(RequestId::new)
    }
}

/// The id of a request that went through kit's layers, for its log span.
pub fn of<B>(request: &Request<B>) -> &str {
    request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|id| id.to_str().ok())
        .unwrap_or("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_ids_look_like_uuid_v4_and_differ() {
        let fresh = || {
            let id = MakeId
                .make_request_id(&Request::get("/").body(()).unwrap())
                .unwrap();
            id.header_value().to_str().unwrap().to_owned()
        };
        let a = fresh();
        assert_ne!(a, fresh());
        let groups: Vec<&str> = a.split('-').collect();
        assert_eq!(
            groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12],
            "{a}"
        );
        assert!(groups[2].starts_with('4'), "{a}");
        assert!(matches!(&groups[3][..1], "8" | "9" | "a" | "b"), "{a}");
        assert!(a.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
    }

    #[test]
    fn only_short_ids_of_safe_characters_are_kept() {
        for ok in ["abc-123", "e2e-42", "7f3a.b_c:d"] {
            assert!(acceptable(&HeaderValue::from_static(ok)), "{ok}");
        }
        let long = "x".repeat(MAX_LEN + 1);
        for bad in ["", "a status=500", "a\"b", "a=b", long.as_str()] {
            assert!(!acceptable(&HeaderValue::from_str(bad).unwrap()), "{bad}");
        }
        assert!(!acceptable(
            &HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap()
        ));
    }

    #[test]
    fn two_ids_or_a_bad_one_are_dropped() {
        let request = |ids: &[&'static str]| {
            let mut builder = Request::get("/");
            for id in ids {
                builder = builder.header(REQUEST_ID, *id);
            }
            drop_unacceptable(builder.body(()).unwrap())
        };
        assert_eq!(request(&["r-1"]).headers()[REQUEST_ID], "r-1");
        assert!(request(&["r-1", "r-2"]).headers().get(REQUEST_ID).is_none());
        assert!(request(&["a b"]).headers().get(REQUEST_ID).is_none());
    }
}
