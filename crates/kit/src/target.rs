//! The request targets a proxy may pass on: plain paths only.
//!
//! A proxy that routes by path prefix (Desafio 5's gateway, Desafio 3's
//! page) must not pass on a target that becomes another path further on:
//! `/users/../log` matches `/users/{*rest}` here, and reaches `/log` once a
//! URL library or the upstream resolves the dot segments, encoded or not.

use axum::http::Uri;

use crate::ApiError;

/// Refuses request targets that could reach another path than the one a
/// route matched once an upstream, or a URL library, has cleaned them up.
pub fn check(uri: &Uri) -> Result<(), ApiError> {
    let refuse = |why: String| Err(ApiError::BadRequest(why));
    if uri.scheme().is_some() || uri.authority().is_some() {
        return refuse("absolute-form request targets are not accepted: send a path".into());
    }
    let path = uri.path();
    // Encoded dot, slash, backslash, NUL and percent (double encoding): an
    // upstream could decode them into a path we never checked.
    let lower = path.to_ascii_lowercase();
    if let Some(trick) = ["%2e", "%2f", "%5c", "%00", "%25"]
        .into_iter()
        .find(|t| lower.contains(t))
    {
        return refuse(format!("encoded {trick} is not accepted in a path"));
    }
    if path.contains('\\') || path.contains("//") {
        return refuse("malformed path".into());
    }
    if path
        .split('/')
        .any(|segment| segment == "." || segment == "..")
    {
        return refuse("dot segments are not accepted in a path".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_paths_pass() {
        for ok in ["/users", "/users/1", "/orders?user_id=2", "/users/a%20b"] {
            assert!(check(&ok.parse().unwrap()).is_ok(), "{ok}");
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
            assert!(check(&bad.parse().unwrap()).is_err(), "{bad}");
        }
    }
}
