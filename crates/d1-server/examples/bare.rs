//! The benchmark's yardstick: a bare axum handler returning the same JSON as
//! `GET /` (same fields, same counter, same timestamp format), with none of
//! the shared layers (request id, tracing, limits) and no log line.
//!
//! `bench/desafio1.sh` runs it beside the real server to show what those
//! layers cost. Both run on the same connection loop (`kit::server::serve`,
//! hyper's HTTP/1 server), so the difference is the layers and the log line
//! only; `BARE_SERVE=axum` serves it with `axum::serve` instead, for
//! comparison. Not used anywhere else.

use std::sync::{
    atomic::{AtomicU64, Ordering},
    Arc,
};

use axum::{extract::State, routing::get, Router};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8081);
    let counter = Arc::new(AtomicU64::new(0));
    let app = Router::new().route("/", get(home)).with_state(counter);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    if std::env::var("BARE_SERVE").is_ok_and(|v| v == "axum") {
        return axum::serve(listener, app).await;
    }
    let never = std::future::pending::<()>();
    kit::server::serve(listener, app, never, std::time::Duration::ZERO).await
}

async fn home(State(counter): State<Arc<AtomicU64>>) -> axum::Json<d1_server::Home> {
    let request_number = counter.fetch_add(1, Ordering::Relaxed) + 1;
    axum::Json(d1_server::Home {
        message: "Servidor Rust (axum) em andamento!",
        timestamp: chrono::Utc::now()
            .format("%Y-%m-%dT%H:%M:%S%.6f")
            .to_string(),
        request_number,
        container_name: "bare".to_owned(),
        status: "running",
        port: 8080,
    })
}
