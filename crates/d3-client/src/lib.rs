//! One round of Desafio 3's test client: a few GETs that each touch a
//! different layer (web alone, PostgreSQL, Redis, both), summarised as
//! readable lines, so `docker compose logs -f client` shows the stack at
//! work: the `fonte` of the cached list flips between `banco_de_dados` and
//! `cache`, the counter grows, and a stopped store shows up as such.

use serde_json::Value;

/// What one request gave: the HTTP status and the JSON body, or why nothing
/// usable came back.
pub type Answer = Result<(u16, Value), String>;

/// The paths of one round, in order.
pub const PATHS: [&str; 5] = [
    "/health",
    "/status",
    "/api/posts/cache",
    "/api/contador",
    "/api/stats",
];

/// GETs `base + path`.
pub async fn get(client: &reqwest::Client, base: &str, path: &str) -> Answer {
    let url = format!("{}{path}", base.trim_end_matches('/'));
    let response = client.get(&url).send().await.map_err(|e| {
        if e.is_timeout() {
            "sem resposta (timeout)".to_owned()
        } else if e.is_connect() {
            "conexão recusada".to_owned()
        } else {
            e.to_string()
        }
    })?;
    let status = response.status().as_u16();
    let text = response.text().await.map_err(|e| e.to_string())?;
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Ok((status, body))
}

/// One line about `path`'s answer.
pub fn describe(path: &str, answer: &Answer) -> String {
    let (status, body) = match answer {
        Ok(ok) => ok,
        Err(reason) => return format!("{path:<17} ERRO: {reason}"),
    };
    if *status >= 400 {
        let message = body["message"].as_str().unwrap_or("");
        return format!("{path:<17} HTTP {status}: {message}");
    }
    let text = |key: &str| match &body[key] {
        Value::String(s) => s.clone(),
        Value::Null => "-".to_owned(),
        other => other.to_string(),
    };
    let detail = match path {
        "/health" => format!("web {}", text("status")),
        "/status" => format!(
            "banco_dados={} cache={} ({})",
            text("banco_dados"),
            text("cache"),
            text("status")
        ),
        "/api/posts/cache" => format!("{} posts, fonte={}", text("total"), text("fonte")),
        "/api/contador" => format!("contador={}", text("contador")),
        "/api/stats" => format!(
            "total_posts={} total_usuarios={} total_requisicoes={}",
            text("total_posts"),
            text("total_usuarios"),
            text("total_requisicoes")
        ),
        _ => body.to_string(),
    };
    format!("{path:<17} HTTP {status}: {detail}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lines_name_the_layer_and_what_it_said() {
        let cached = Ok((200, json!({"total": 3, "fonte": "cache", "posts": []})));
        assert_eq!(
            describe("/api/posts/cache", &cached),
            "/api/posts/cache  HTTP 200: 3 posts, fonte=cache"
        );
        let status = Ok((
            200,
            json!({"banco_dados": "desconectado", "cache": "conectado", "status": "degradado"}),
        ));
        assert!(describe("/status", &status)
            .ends_with("banco_dados=desconectado cache=conectado (degradado)"));
        let down = Ok((
            503,
            json!({"error": "service_unavailable", "message": "cache indisponível"}),
        ));
        assert_eq!(
            describe("/api/contador", &down),
            "/api/contador     HTTP 503: cache indisponível"
        );
        let refused: Answer = Err("conexão recusada".into());
        assert!(describe("/health", &refused).contains("ERRO: conexão recusada"));
        let stats = Ok((
            200,
            json!({"total_posts": 3, "total_usuarios": 0, "total_requisicoes": null}),
        ));
        assert!(describe("/api/stats", &stats).ends_with("total_requisicoes=-"));
    }
}
