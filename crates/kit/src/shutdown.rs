//! The stop signal every service listens for.
//!
//! In a container our binary is PID 1, and the kernel gives PID 1 no default
//! handler: without one, `docker stop` sends SIGTERM, nothing happens, and
//! ten seconds later the engine sends SIGKILL. Handling SIGTERM (and SIGINT,
//! for Ctrl+C on a terminal) turns that into a sub-second, clean exit.

/// Completes when the process is asked to stop.
pub async fn signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            // No SIGINT handler could be installed: wait for SIGTERM alone.
            std::future::pending::<()>().await;
        }
    };

    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();

    tokio::select! {
        () = ctrl_c => tracing::info!("SIGINT received, shutting down"),
        () = terminate => tracing::info!("SIGTERM received, shutting down"),
    }
}
