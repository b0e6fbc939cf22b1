//! `GET /health`: the liveness answer every service gives.
//!
//! It says only that the process serves HTTP. Readiness of dependencies is a
//! separate question, answered by endpoints such as desafio3's `/status`, so
//! that a database restart never makes Docker think `web` itself is broken.

use std::sync::Arc;

use axum::{response::IntoResponse, routing::get, Router};
use serde::Serialize;

#[derive(Debug, Serialize)]
struct Health<'a> {
    status: &'static str,
    service: &'a str,
}

/// A router with `GET /health` answering `{"status":"healthy","service":...}`.
pub fn router<S>(service: impl Into<Arc<str>>) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let service: Arc<str> = service.into();
    Router::new().route(
        "/health",
        get(move || async move {
            axum::Json(Health {
                status: "healthy",
                service: &service,
            })
            .into_response()
        }),
    )
}
