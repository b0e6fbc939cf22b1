//! Desafio 1's server: the Flask `app.py` of write-up 000, in axum.
//!
//! `GET /` counts requests in memory, so the counter lives exactly as long as
//! the container: recreate the container and it starts again at 1. That is
//! the point the write-up makes about state inside a container.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Instant,
};

use axum::{extract::State, routing::get, Router};
use chrono::{DateTime, Utc};
use kit::{
    config::{Basics, Env},
    Json,
};
use serde::Serialize;

/// Settings, from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `PORT` (default 8080 as in the write-ups), `HOSTNAME` (the
    /// container's short id, shown as `container_name`), `SHUTDOWN_GRACE`.
    pub basics: Basics,
    /// `SERVICE_NAME`, what `/health` reports; default `flask-server`, the
    /// name the client uses to find this container.
    pub service_name: String,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, kit::config::ConfigError> {
        Ok(Self {
            basics: Basics::from_env(env, 8080)?,
            service_name: env.or("SERVICE_NAME", "flask-server".to_owned())?,
        })
    }
}

#[derive(Debug)]
struct Counters {
    requests: AtomicU64,
    started_at: DateTime<Utc>,
    started: Instant,
}

#[derive(Debug, Clone)]
struct AppState {
    config: Arc<Config>,
    counters: Arc<Counters>,
}

/// The full application: routes, `/health`, and the shared layers.
pub fn app(config: Config) -> Router {
    let service = config.service_name.clone();
    let state = AppState {
        config: Arc::new(config),
        counters: Arc::new(Counters {
            requests: AtomicU64::new(0),
            started_at: Utc::now(),
            started: Instant::now(),
        }),
    };
    let routes = Router::new()
        .route("/", get(home))
        .route("/stats", get(stats))
        .with_state(state)
        .merge(kit::health::router(&service));
    kit::server::app(routes, kit::server::Limits::default())
}

/// `datetime.now().isoformat()` of the original, in UTC:
/// `2025-01-01T12:00:00.123456`.
fn iso(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

#[derive(Debug, Serialize)]
pub struct Home {
    pub message: &'static str,
    pub timestamp: String,
    pub request_number: u64,
    pub container_name: String,
    pub status: &'static str,
    pub port: u16,
}

async fn home(State(state): State<AppState>) -> Json<Home> {
    let request_number = state.counters.requests.fetch_add(1, Ordering::Relaxed) + 1;
    tracing::info!("Requisição #{request_number} recebida");
    Json(Home {
        message: "Servidor Rust (axum) em andamento!",
        timestamp: iso(Utc::now()),
        request_number,
        container_name: state.config.basics.container_name.clone(),
        status: "running",
        port: state.config.basics.port,
    })
}

#[derive(Debug, Serialize)]
pub struct Stats {
    pub total_requests: u64,
    pub uptime_seconds: f64,
    pub start_time: String,
    pub container_name: String,
}

async fn stats(State(state): State<AppState>) -> Json<Stats> {
    let counters = &state.counters;
    Json(Stats {
        total_requests: counters.requests.load(Ordering::Relaxed),
        uptime_seconds: (counters.started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
        start_time: iso(counters.started_at),
        container_name: state.config.basics.container_name.clone(),
    })
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    #[test]
    fn iso_matches_pythons_isoformat() {
        let t = Utc.timestamp_opt(1_764_241_506, 7_000).unwrap();
        assert_eq!(super::iso(t), "2025-11-27T11:05:06.000007");
        let noon = Utc.with_ymd_and_hms(2025, 1, 1, 12, 0, 0).unwrap();
        assert_eq!(super::iso(noon), "2025-01-01T12:00:00.000000");
    }
}
