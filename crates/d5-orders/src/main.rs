use d5_orders::{app, Config, DEFAULT_PORT};
use kit::service::Launch;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    kit::service::run("orders_service", async {
        let config = Config::from_env(&kit::config::Env::process(), DEFAULT_PORT)?;
        tracing::info!("container {}", config.container_name);
        Ok(Launch {
            port: config.port,
            grace: config.grace,
            app: app(&config),
        })
    })
    .await
}
