//! `GET /health`: the liveness answer every service gives.
//!
//! It says only that the process serves HTTP. Readiness of dependencies is a
//! separate question, answered by endpoints such as desafio3's `/status`, so
//! that a database restart never makes Docker think `web` itself is broken.

use axum::{routing::get, Json, Router};
use serde::Serialize;

/// The answer, its fields in this order.
#[derive(Debug, Clone, Serialize)]
struct Health {
    status: &'static str,
    service: String,
}

/// A router with `GET /health` answering `{"status":"healthy","service":...}`.
pub fn router<S>(service: &str) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let body = Json(Health {
        status: "healthy",
        service: service.to_owned(),
    });
    Router::new().route("/health", get(move || std::future::ready(body.clone())))
}
