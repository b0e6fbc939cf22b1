//! The HTTP side of a check: one request, bounded in time, and what came back
//! in words a learner can compare with the write-up.

use std::time::Duration;

use reqwest::{Method, Url};
use serde_json::Value;

/// How long one request may take, connection included. A stack that does not
/// answer fails its checks within this, and the tool never hangs.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// An answer, or why there was none.
#[derive(Debug, Clone)]
pub struct Answer {
    pub sent: String,
    pub result: Result<(u16, String), String>,
}

impl Answer {
    pub fn status(&self) -> Option<u16> {
        self.result.as_ref().ok().map(|(status, _)| *status)
    }

    pub fn body(&self) -> &str {
        self.result.as_ref().map_or("", |(_, body)| body.as_str())
    }

    /// The body as JSON, if it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_str(self.body()).ok()
    }

    /// `200 {"status":"healthy"}` or `no answer: connection refused`.
    pub fn got(&self) -> String {
        match &self.result {
            Ok((status, body)) => format!("{status} {body}"),
            Err(why) => format!("no answer: {why}"),
        }
    }
}

/// Sends requests to one stack's services.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
}

impl Client {
    pub fn new() -> Self {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(2))
            // A gateway's or a page's own redirect is part of what is judged.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self { http }
    }

    pub async fn get(&self, base: &Url, path: &str) -> Answer {
        self.send(Method::GET, base, path, None).await
    }

    pub async fn send(
        &self,
        method: Method,
        base: &Url,
        path: &str,
        json: Option<&Value>,
    ) -> Answer {
        let url = join(base, path);
        let mut sent = format!("{method} {url}");
        let mut request = self.http.request(method, url);
        if let Some(body) = json {
            sent.push_str(&format!(" {body}"));
            request = request.json(body);
        }
        let result = match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                match response.text().await {
                    Ok(body) => Ok((status, body)),
                    Err(e) => Err(describe(&e)),
                }
            }
            Err(e) => Err(describe(&e)),
        };
        Answer { sent, result }
    }
}

impl Default for Client {
    fn default() -> Self {
        Self::new()
    }
}

/// `base` and `path` as one URL, with one `/` between them.
fn join(base: &Url, path: &str) -> String {
    format!("{}{path}", base.as_str().trim_end_matches('/'))
}

/// reqwest's error with its causes, which say what actually went wrong
/// (`connection refused`, `operation timed out`).
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        return format!("no answer within {REQUEST_TIMEOUT:?}");
    }
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// The list a service answers: the body itself or the first list inside an
/// object (`{"users": [...]}`), since the write-ups fix neither shape.
pub fn list_in(value: &Value) -> Option<&Vec<Value>> {
    match value {
        Value::Array(items) => Some(items),
        Value::Object(fields) => fields.values().find_map(Value::as_array),
        _ => None,
    }
}

/// The object a service answers for one item: the body itself or the first
/// object inside it (`{"user": {...}}`).
pub fn object_in(value: &Value) -> Option<&serde_json::Map<String, Value>> {
    let object = value.as_object()?;
    Some(
        object
            .values()
            .find_map(Value::as_object)
            .filter(|_| !object.contains_key("id"))
            .unwrap_or(object),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_and_objects_are_found_bare_or_wrapped() {
        assert_eq!(list_in(&json!([1, 2])).map(Vec::len), Some(2));
        assert_eq!(
            list_in(&json!({"total": 1, "users": [1]})).map(Vec::len),
            Some(1)
        );
        assert_eq!(list_in(&json!({"a": 1})), None);
        let wrapped = json!({"from_cache": true, "user": {"id": 1, "name": "Ana"}});
        assert_eq!(object_in(&wrapped).unwrap()["name"], "Ana");
        let bare = json!({"id": 1, "name": "Ana", "meta": {"x": 1}});
        assert_eq!(object_in(&bare).unwrap()["name"], "Ana");
    }

    #[test]
    fn base_and_path_join_with_one_slash() {
        let base = Url::parse("http://127.0.0.1:5000/").unwrap();
        assert_eq!(
            join(&base, "/users/../log"),
            "http://127.0.0.1:5000/users/../log"
        );
    }
}
