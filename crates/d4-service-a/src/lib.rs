//! Desafio 4, service A: `GET /usuarios`, the list of users that service B
//! turns into sentences.
//!
//! The data is a constant: the challenge is about two processes talking over
//! the compose network, not about storage.
//!
//! A fault switch (`FAULT=slow` or `FAULT=garbage`) makes `/usuarios`
//! misbehave on purpose, so a learner (and the end-to-end tests) can watch B
//! answer 504 or 502 instead of hanging. It is off unless the variable is set,
//! and A logs a warning at start when it is on.

use std::{str::FromStr, time::Duration};

use axum::{
    extract::State,
    http::header,
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use kit::{config::Env, Json};
use serde::Serialize;

/// How `/usuarios` behaves: normally, or broken on purpose for experiments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer normally.
    None,
    /// Wait `FAULT_DELAY` before answering (B should answer 504).
    Slow,
    /// Answer 200 with a body that is not the expected JSON (B: 502).
    Garbage,
}

/// `FAULT` holds something other than `slow`, `garbage` or `none`.
#[derive(Debug, thiserror::Error)]
#[error("expected none, slow or garbage")]
pub struct UnknownFault;

impl FromStr for Fault {
    type Err = UnknownFault;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "none" | "off" => Ok(Self::None),
            "slow" => Ok(Self::Slow),
            "garbage" => Ok(Self::Garbage),
            _ => Err(UnknownFault),
        }
    }
}

/// Settings, from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `PORT`, default 5001 as in the write-up.
    pub port: u16,
    /// `SHUTDOWN_GRACE`: how long a stop waits for in-flight requests.
    pub grace: Duration,
    /// `FAULT`: off by default; see [`Fault`].
    pub fault: Fault,
    /// `FAULT_DELAY`: how long `FAULT=slow` waits, default 5 s.
    pub fault_delay: Duration,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, kit::config::ConfigError> {
        Ok(Self {
            port: env.or("PORT", 5001)?,
            grace: env.duration_or("SHUTDOWN_GRACE", Duration::from_secs(5))?,
            fault: env.or("FAULT", Fault::None)?,
            fault_delay: env.duration_or("FAULT_DELAY", Duration::from_secs(5))?,
        })
    }
}

/// One user, with the Portuguese field names service B reads.
#[derive(Debug, Clone, Serialize)]
pub struct Usuario {
    pub id: u32,
    pub nome: &'static str,
    pub idade: u32,
    /// The year the user became active.
    pub ativo_desde: u16,
}

/// The users A serves.
pub const USUARIOS: [Usuario; 3] = [
    Usuario {
        id: 1,
        nome: "Ana",
        idade: 28,
        ativo_desde: 2023,
    },
    Usuario {
        id: 2,
        nome: "Bruno",
        idade: 35,
        ativo_desde: 2023,
    },
    Usuario {
        id: 3,
        nome: "Carla",
        idade: 42,
        ativo_desde: 2023,
    },
];

/// The full application: routes, `/health`, and the shared layers.
pub fn app(config: &Config) -> Router {
    let routes = Router::new()
        .route("/usuarios", get(usuarios))
        .with_state((config.fault, config.fault_delay))
        .merge(kit::health::router("service_a"));
    kit::server::app(routes, kit::server::Limits::default())
}

async fn usuarios(State((fault, delay)): State<(Fault, Duration)>) -> Response {
    match fault {
        Fault::None => {}
        Fault::Slow => {
            tracing::warn!("FAULT=slow: esperando {delay:?} antes de responder");
            tokio::time::sleep(delay).await;
        }
        Fault::Garbage => {
            tracing::warn!("FAULT=garbage: respondendo lixo");
            return (
                [(header::CONTENT_TYPE, "application/json")],
                "<html>isto não é JSON</html>",
            )
                .into_response();
        }
    }
    tracing::info!("GET /usuarios: {} usuários", USUARIOS.len());
    Json(USUARIOS).into_response()
}
