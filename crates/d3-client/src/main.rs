//! `d3-client`: every INTERVAL (15 s), one round of GETs against WEB_URL,
//! printed as readable lines. Runs until stopped, or COUNT rounds.

use std::{process::ExitCode, time::Duration};

use d3_client::{describe, get, PATHS};
use kit::config::Env;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let env = Env::process();
    let settings = (|| {
        Ok::<_, kit::config::ConfigError>((
            env.or("WEB_URL", "http://web:5000".to_owned())?,
            env.duration_or("INTERVAL", Duration::from_secs(15))?,
            env.duration_or("TIMEOUT", Duration::from_secs(5))?,
            // Unset: rounds until stopped.
            env.or("COUNT", u64::MAX)?,
        ))
    })();
    let (base, interval, timeout, count) = match settings {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("d3-client: {e}");
            return ExitCode::FAILURE;
        }
    };
    let timeouts = http_client::Timeouts {
        connect: timeout,
        total: timeout,
    };
    let client = match http_client::build("d3-client", timeouts) {
        Ok(client) => client,
        Err(e) => {
            eprintln!("d3-client: cannot build the HTTP client: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("Cliente de teste: {base} a cada {interval:?}");
    let rounds = async {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut round = 0u64;
        loop {
            ticker.tick().await;
            round += 1;
            let now = chrono::Local::now().format("%Y-%m-%d %H:%M:%S");
            println!("[{now}] Rodada #{round}");
            for path in PATHS {
                println!("  {}", describe(path, &get(&client, &base, path).await));
            }
            if round >= count {
                break;
            }
        }
    };
    tokio::select! {
        () = rounds => {}
        () = kit::shutdown::signal() => {}
    }
    ExitCode::SUCCESS
}
