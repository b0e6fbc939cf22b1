//! Desafio 4, service B: `GET /info` asks service A for its users, by A's
//! compose service name, and turns each one into a sentence.
//!
//! The Flask original called `requests.get(url)` with no timeout: when A hung,
//! B hung with it, and when A answered garbage B answered a 500. Here every
//! way A can fail has its own answer, decided in one place
//! ([`UpstreamError`] -> [`ApiError`]), always within the client's bounds:
//!
//! | A is...                          | B answers |
//! |----------------------------------|-----------|
//! | unreachable (stopped, no DNS)    | 503       |
//! | slower than `UPSTREAM_TIMEOUT`   | 504       |
//! | answering an error or non-JSON   | 502       |
//!
//! Nothing is cached and no connection is pinned, so B recovers by itself as
//! soon as A answers again.

use std::{sync::Arc, time::Duration};

use axum::{extract::State, routing::get, Router};
use http_client::Timeouts;
use kit::{config::Env, ApiError, Json};
use serde::Deserialize;

/// Settings, from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `PORT`, default 7000 as in the write-up.
    pub port: u16,
    /// `USUARIOS_URL`: where A's list is, by compose service name.
    pub usuarios_url: String,
    /// `CONNECT_TIMEOUT` (default 500 ms) and `UPSTREAM_TIMEOUT` (default
    /// 1.5 s): together they keep every answer of B under 2 s.
    pub timeouts: Timeouts,
    /// `SHUTDOWN_GRACE`: how long a stop waits for in-flight requests.
    pub grace: Duration,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, kit::config::ConfigError> {
        Ok(Self {
            port: env.or("PORT", 7000)?,
            usuarios_url: env.or("USUARIOS_URL", "http://service_a:5001/usuarios".to_owned())?,
            timeouts: Timeouts {
                connect: env.duration_or("CONNECT_TIMEOUT", Duration::from_millis(500))?,
                total: env.duration_or("UPSTREAM_TIMEOUT", Duration::from_millis(1500))?,
            },
            grace: env.duration_or("SHUTDOWN_GRACE", Duration::from_secs(5))?,
        })
    }
}

/// What B needs of a user; extra fields in A's answer are ignored.
#[derive(Debug, Clone, Deserialize)]
pub struct Usuario {
    pub nome: String,
    pub idade: u32,
    pub ativo_desde: u16,
}

impl Usuario {
    /// The sentence of the write-up: `Usuário Ana (28 anos) - ativo desde 2021`.
    pub fn frase(&self) -> String {
        format!(
            "Usuário {} ({} anos) - ativo desde {}",
            self.nome, self.idade, self.ativo_desde
        )
    }
}

/// How a call to A failed.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("service_a is unreachable: {0}")]
    Unreachable(String),
    #[error("service_a did not answer within {0:?}")]
    Timeout(Duration),
    #[error("service_a answered HTTP {0}")]
    Status(u16),
    #[error("service_a answered something that is not a list of users: {0}")]
    Garbage(String),
}

impl From<UpstreamError> for ApiError {
    fn from(e: UpstreamError) -> Self {
        // Why A is unreachable (an address, the system's error text) is for
        // the log (`info` writes it), not for the caller.
        let message = e.to_string();
        match e {
            UpstreamError::Unreachable(_) => {
                Self::Unavailable("service_a is unreachable; try again in a moment".into())
            }
            UpstreamError::Timeout(_) => Self::GatewayTimeout(message),
            UpstreamError::Status(_) | UpstreamError::Garbage(_) => Self::BadGateway(message),
        }
    }
}

/// The client of service A: one pooled connection set, bounded in time.
#[derive(Debug, Clone)]
pub struct UsuariosClient {
    http: reqwest::Client,
    url: String,
    total: Duration,
}

impl UsuariosClient {
    pub fn new(url: String, timeouts: Timeouts) -> reqwest::Result<Self> {
        Ok(Self {
            http: http_client::build("service_b", timeouts)?,
            url,
            total: timeouts.total,
        })
    }

    /// A's users, or why they could not be had.
    pub async fn usuarios(&self) -> Result<Vec<Usuario>, UpstreamError> {
        let classify = |e: reqwest::Error| {
            // A connect timeout is a connect error too: A is not there.
            if e.is_connect() {
                UpstreamError::Unreachable(root_cause(&e))
            } else if e.is_timeout() {
                UpstreamError::Timeout(self.total)
            } else if e.is_decode() {
                UpstreamError::Garbage(root_cause(&e))
            } else {
                UpstreamError::Unreachable(root_cause(&e))
            }
        };
        let response = self.http.get(&self.url).send().await.map_err(classify)?;
        if !response.status().is_success() {
            return Err(UpstreamError::Status(response.status().as_u16()));
        }
        // Read the body first, so a timeout while reading is a 504 and only
        // a complete but unusable body is a 502.
        let body = response.bytes().await.map_err(classify)?;
        serde_json::from_slice(&body).map_err(|e| UpstreamError::Garbage(e.to_string()))
    }
}

/// The innermost error message: reqwest's own top line ("error sending
/// request") says nothing a learner can act on.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// The full application: routes, `/health`, and the shared layers.
pub fn app(client: UsuariosClient) -> Router {
    let routes = Router::new()
        .route("/info", get(info))
        .with_state(Arc::new(client))
        .merge(kit::health::router("service_b"));
    kit::server::app(routes, kit::server::Limits::default())
}

async fn info(State(client): State<Arc<UsuariosClient>>) -> Result<Json<Vec<String>>, ApiError> {
    match client.usuarios().await {
        Ok(usuarios) => {
            tracing::info!("GET /info: {} usuários vindos de service_a", usuarios.len());
            Ok(Json(usuarios.iter().map(Usuario::frase).collect()))
        }
        Err(e) => {
            tracing::warn!("GET /info: {e}");
            Err(e.into())
        }
    }
}
