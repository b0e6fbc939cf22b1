use d1_server::{app, Config};
use kit::service::Launch;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    kit::service::run("d1-server", async {
        let config = Config::from_env(&kit::config::Env::process())?;
        Ok(Launch {
            port: config.basics.port,
            grace: config.basics.grace,
            app: app(config),
        })
    })
    .await
}
