use d4_service_a::{app, Config, Fault};
use kit::service::Launch;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    kit::service::run("service_a", async {
        let config = Config::from_env(&kit::config::Env::process())?;
        if config.fault != Fault::None {
            tracing::warn!(
                "fault switch on: FAULT={:?} (for experiments only)",
                config.fault
            );
        }
        Ok(Launch {
            port: config.port,
            grace: config.grace,
            app: app(&config),
        })
    })
    .await
}
