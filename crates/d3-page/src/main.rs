use d3_page::{app, Config};
use kit::service::Launch;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    kit::service::run("page", async {
        let config = Config::from_env(&kit::config::Env::process())?;
        tracing::info!("API em {}", config.web_url);
        Ok(Launch {
            port: config.port,
            grace: std::time::Duration::from_secs(5),
            app: app(&config)?,
        })
    })
    .await
}
