use d5_gateway::{Config, Gateway};
use kit::service::Launch;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    kit::service::run("gateway", async {
        let config = Config::from_env(&kit::config::Env::process())?;
        tracing::info!("/users -> {}, /orders -> {}", config.users, config.orders);
        let (port, grace) = (config.port, config.grace);
        let gateway = Gateway::new(config);
        // A first lookup before serving; an upstream not up yet is no reason
        // to stop: discovery keeps asking, and /health says what is missing.
        gateway.discover().await;
        gateway.spawn_discovery();
        Ok(Launch {
            app: d5_gateway::app(gateway),
            port,
            grace,
        })
    })
    .await
}
