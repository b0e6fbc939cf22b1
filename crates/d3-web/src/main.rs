use d3_web::{app, AppState, Config};
use kit::service::Launch;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    kit::service::run("web", async {
        let config = Config::from_env(&kit::config::Env::process())?;
        // Connections to PostgreSQL and Redis start in the background, with
        // retries: the port opens (and /health answers) without waiting.
        let state = AppState::start(&config)?;
        Ok(Launch {
            port: config.port,
            grace: config.grace,
            app: app(state),
        })
    })
    .await
}
