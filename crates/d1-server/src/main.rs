use std::process::ExitCode;

use d1_server::{app, Config};

#[tokio::main]
async fn main() -> ExitCode {
    if let Err(e) = kit::telemetry::init() {
        eprintln!("logging set-up failed: {e}");
        return ExitCode::FAILURE;
    }
    let config = match Config::from_env(&kit::config::Env::process()) {
        Ok(config) => config,
        Err(e) => {
            tracing::error!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match kit::server::bind(config.port).await {
        Ok(listener) => listener,
        Err(e) => {
            tracing::error!("cannot listen on port {}: {e}", config.port);
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(
        "Servidor ouvindo em 0.0.0.0:{} (container {})",
        config.port,
        config.container_name
    );
    let app = app(config.clone());
    match kit::server::serve(listener, app, kit::shutdown::signal(), config.grace).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("server error: {e}");
            ExitCode::FAILURE
        }
    }
}
