use std::{process::ExitCode, time::Duration};

use clap::Parser;
use fetch::{describe, fetch, ping, Client, Outcome};
use hyper::Uri;

/// GET a URL once like curl, or poll it every INTERVAL and report each answer.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// What to fetch.
    #[arg(env = "SERVER_URL", default_value = "http://127.0.0.1:8080/")]
    url: String,
    /// Poll every INTERVAL (5s, 500ms) instead of fetching once.
    #[arg(short, long, env = "INTERVAL", value_parser = kit::config::parse_duration)]
    interval: Option<Duration>,
    /// Give up on one attempt after TIMEOUT.
    #[arg(short, long, env = "TIMEOUT", default_value = "5s", value_parser = kit::config::parse_duration)]
    timeout: Duration,
    /// When polling, stop after COUNT attempts (default: until stopped).
    #[arg(short = 'n', long, env = "COUNT")]
    count: Option<u64>,
    /// Fetch once even if INTERVAL is set (the images set it for polling).
    #[arg(long)]
    once: bool,
    /// Instead of an HTTP GET: resolve HOST and, with a PORT, connect to it
    /// (what `ping db` shows, for images without ping).
    #[arg(long, value_name = "HOST[:PORT]")]
    ping: Option<String>,
    /// Fetch once and print nothing; only the exit code speaks. This is what
    /// healthchecks run, so it must never start polling.
    #[arg(short, long)]
    quiet: bool,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(target) = &args.ping {
        let (line, code) = ping(target, args.timeout).await;
        if code == 0 {
            println!("{line}");
        } else {
            eprintln!("fetch: {line}");
        }
        return ExitCode::from(code);
    }
    // A malformed URL is curl's exit code 3, once, not a failure per attempt.
    let url = match fetch::parse_url(&args.url) {
        Ok(url) => url,
        Err(e) => {
            eprintln!("fetch: {e}");
            return ExitCode::from(3);
        }
    };
    let client: Client = kit::client::pooled(args.timeout);
    let interval = args.interval.filter(|_| !(args.once || args.quiet));
    match interval {
        None => once(&client, &url, &args).await,
        Some(interval) => {
            tokio::select! {
                () = poll(&client, &url, &args, interval) => {}
                () = kit::shutdown::signal() => {}
            }
            ExitCode::SUCCESS
        }
    }
}

async fn once(client: &Client, url: &Uri, args: &Args) -> ExitCode {
    let outcome = fetch(client, url, args.timeout).await;
    if !args.quiet {
        match &outcome {
            Outcome::Answered { body, .. } => println!("{body}"),
            other => eprintln!("fetch: {}: {other:?}", args.url),
        }
    }
    ExitCode::from(outcome.exit_code())
}

async fn poll(client: &Client, url: &Uri, args: &Args, interval: Duration) {
    println!(
        "Cliente HTTP: GET {} a cada {:?} (timeout {:?})",
        args.url, interval, args.timeout
    );
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut attempt = 0u64;
    loop {
        ticker.tick().await;
        attempt += 1;
        let outcome = fetch(client, url, args.timeout).await;
        println!("{}", describe(attempt, &args.url, &outcome, interval));
        if args.count.is_some_and(|count| attempt >= count) {
            break;
        }
    }
}
