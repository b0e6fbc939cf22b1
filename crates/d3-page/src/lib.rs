//! Write-up 004's front end (Streamlit there, one HTML page here) on 8501.
//!
//! The page is compiled into the binary. The API paths the page uses are
//! passed on, as they are, to the web API over the compose network, so the browser talks to one
//! origin only: no CORS, and the API needs no port of its own for the page.

use std::time::Duration;

use axum::{
    body::Bytes,
    extract::{Request, State},
    http::{header, HeaderMap, HeaderValue, Method, StatusCode},
    response::{Html, IntoResponse, Response},
    routing::{any, get},
    Router,
};
use kit::{config::Env, ApiError};

const PAGE: &str = include_str!("../static/index.html");

/// Settings, from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `PORT`, default 8501 as in write-up 004.
    pub port: u16,
    /// `WEB_URL`: where the API is, default `http://web:5000`.
    pub web_url: String,
    /// `TIMEOUT`: longest wait for the API.
    pub timeout: Duration,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, kit::config::ConfigError> {
        Ok(Self {
            port: env.or("PORT", 8501)?,
            web_url: env
                .or("WEB_URL", "http://web:5000".to_owned())?
                .trim_end_matches('/')
                .to_owned(),
            timeout: env.duration_or("TIMEOUT", Duration::from_secs(5))?,
        })
    }
}

#[derive(Debug, Clone)]
struct Upstream {
    client: reqwest::Client,
    base: String,
}

/// The page, `/health`, and the proxy for everything else.
pub fn app(config: &Config) -> Result<Router, reqwest::Error> {
    let timeouts = http_client::Timeouts {
        connect: config.timeout,
        total: config.timeout,
    };
    let upstream = Upstream {
        client: http_client::build("d3-page", timeouts)?,
        base: config.web_url.clone(),
    };
    let routes = Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        // Only what the page uses is passed on; anything else is a 404 here.
        .route("/users", any(proxy))
        .route("/users/{*rest}", any(proxy))
        .route("/api/{*rest}", any(proxy))
        .route("/status", any(proxy))
        .with_state(upstream)
        .merge(kit::health::router("page"));
    Ok(kit::server::app(routes, kit::server::Limits::default()))
}

/// Forwards the method, path, query, content type and body; answers with
/// the API's status, content type and body. 502/504 when the API is away.
async fn proxy(
    State(upstream): State<Upstream>,
    method: Method,
    headers: HeaderMap,
    request: Request,
) -> Result<Response, ApiError> {
    // `/users/../log` would reach `/log` once the URL is cleaned up.
    kit::target::check(request.uri())?;
    let path = request
        .uri()
        .path_and_query()
        .map(|pq| pq.as_str().to_owned())
        .unwrap_or_else(|| "/".to_owned());
    let body: Bytes = axum::body::to_bytes(
        request.into_body(),
        kit::server::Limits::default().body_bytes,
    )
    .await
    .map_err(|_| ApiError::PayloadTooLarge)?;
    let mut outgoing = upstream
        .client
        .request(method, format!("{}{path}", upstream.base))
        .body(body);
    if let Some(content_type) = headers.get(header::CONTENT_TYPE) {
        outgoing = outgoing.header(header::CONTENT_TYPE, content_type);
    }
    let answer = outgoing.send().await.map_err(|e| {
        if e.is_timeout() {
            ApiError::GatewayTimeout("a API (web) não respondeu a tempo".into())
        } else {
            tracing::warn!("web inacessível: {e}");
            ApiError::BadGateway("a API (web) está inacessível".into())
        }
    })?;
    let status = StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let content_type = answer
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| HeaderValue::from_bytes(v.as_bytes()).ok());
    let bytes = answer.bytes().await.map_err(|e| {
        tracing::warn!("resposta incompleta da API: {e}");
        ApiError::BadGateway("resposta incompleta da API (web)".into())
    })?;
    let mut response = (status, bytes).into_response();
    if let Some(content_type) = content_type {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, content_type);
    }
    Ok(response)
}
