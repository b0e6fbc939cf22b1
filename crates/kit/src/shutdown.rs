//! The stop signal every service listens for.
//!
//! In a container our binary is PID 1, and the kernel gives PID 1 no default
//! handler: without one, `docker stop` sends SIGTERM, nothing happens, and
//! ten seconds later the engine sends SIGKILL. Handling SIGTERM (and SIGINT,
//! for Ctrl+C on a terminal) turns that into a sub-second, clean exit.

/// Completes when the process is asked to stop. A signal whose handler
/// cannot be installed is simply not waited for.
pub async fn signal() {
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sigterm) => sigterm.recv().await,
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<Option<()>>();
    tokio::select! {
        Ok(()) = tokio::signal::ctrl_c() => tracing::info!("SIGINT received, shutting down"),
        _ = terminate => tracing::info!("SIGTERM received, shutting down"),
    }
}
