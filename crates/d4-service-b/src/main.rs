use d4_service_b::{app, Config, UsuariosClient};
use kit::service::Launch;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    kit::service::run("service_b", async {
        let config = Config::from_env(&kit::config::Env::process())?;
        tracing::info!("service_a em {}", config.usuarios_url);
        let client = UsuariosClient::new(config.usuarios_url.clone(), config.timeouts)?;
        Ok(Launch {
            port: config.port,
            grace: config.grace,
            app: app(client),
        })
    })
    .await
}
