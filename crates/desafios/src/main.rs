//! `desafios check N [--url SERVICE=URL]... [--project P] [--http-only] [--json]`
//!
//! Exit 0 on a full score, 1 when a requirement is not met, 2 on bad input
//! (an unknown challenge, a URL that is not one, no Docker engine).

use std::process::ExitCode;

use clap::Parser;
use desafios::cli::{self, Cli, Command};

#[tokio::main]
async fn main() -> ExitCode {
    let Cli {
        command: Command::Check(check),
    } = Cli::parse();
    match cli::run(&check).await {
        Ok(report) => {
            if check.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&report).unwrap_or_default()
                );
            } else {
                print!("{}", report.text());
            }
            if report.full() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("desafios: {e}");
            ExitCode::from(2)
        }
    }
}
