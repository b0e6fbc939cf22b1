//! The body of every service's `main`: install logging, read the
//! configuration (a bad variable stops the process with a message naming
//! it), bind, serve until SIGTERM/SIGINT, drain. A `main.rs` only builds its
//! [`Launch`]; `crates/d1-server/src/main.rs` is the shortest.

use std::{future::Future, process::ExitCode, time::Duration};

use axum::Router;

/// Any start-up failure; it is logged and the process exits with code 1.
pub type StartError = Box<dyn std::error::Error + Send + Sync>;

/// What a service hands over to be served.
#[derive(Debug)]
pub struct Launch {
    /// The whole application, usually from `kit::server::app`.
    pub app: Router,
    /// The port to listen on, on every interface.
    pub port: u16,
    /// How long a stop waits for in-flight requests.
    pub grace: Duration,
}

/// Installs logging, awaits `launch` (config, connections), then serves
/// until asked to stop. Returns the process exit code.
pub async fn run<F>(name: &str, launch: F) -> ExitCode
where
    F: Future<Output = Result<Launch, StartError>>,
{
    if let Err(e) = crate::telemetry::init() {
        eprintln!("{name}: logging set-up failed: {e}");
        return ExitCode::FAILURE;
    }
    match launch_and_serve(name, launch).await {
        Ok(()) => {
            tracing::info!("{name} parado");
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!("{name} {e}");
            ExitCode::FAILURE
        }
    }
}

async fn launch_and_serve<F>(name: &str, launch: F) -> Result<(), String>
where
    F: Future<Output = Result<Launch, StartError>>,
{
    // The future runs only now, so its own log lines are already visible.
    let launch = launch.await.map_err(|e| format!("cannot start: {e}"))?;
    let port = launch.port;
    let listener = crate::server::bind(port)
        .await
        .map_err(|e| format!("cannot listen on port {port}: {e}"))?;
    tracing::info!("{name} ouvindo em 0.0.0.0:{port}");
    let stop = crate::shutdown::signal();
    crate::server::serve(listener, launch.app, stop, launch.grace)
        .await
        .map_err(|e| format!("server error: {e}"))
}
