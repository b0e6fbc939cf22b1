//! The command line: what to check and where, and the run that turns it into
//! a report.

use std::collections::BTreeMap;

use clap::{Parser, Subcommand};
use reqwest::Url;

use crate::{
    checks, docker,
    report::Report,
    stack::{Engine, Stack},
};

#[derive(Debug, Parser)]
#[command(
    name = "desafios",
    version,
    about = "Checks an implementation of a Docker challenge against its write-up."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Checks a running stack of challenge N (1 to 5); exit 0 on a full score.
    Check(Check),
}

#[derive(Debug, clap::Args)]
pub struct Check {
    /// The challenge: 1 to 5.
    pub challenge: u8,
    /// Where a service answers, by the write-up's name (server; web, page;
    /// service_a, service_b; users_service, orders_service, gateway).
    /// Repeatable. Default: the write-up's ports on 127.0.0.1.
    #[arg(long = "url", value_name = "SERVICE=URL")]
    pub urls: Vec<String>,
    /// The compose project to read from Docker; default: the project of the
    /// container publishing the challenge's port.
    #[arg(long)]
    pub project: Option<String>,
    /// Skip the Docker checks, for a stack that does not run in Docker.
    #[arg(long)]
    pub http_only: bool,
    /// The image Desafio 2 runs.
    #[arg(long, default_value = "d2-image")]
    pub image: String,
    /// The report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Bad input to the tool: the run does not start.
#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    #[error("there is no Desafio {0}: the challenges are 1 to 5")]
    NoSuchChallenge(u8),
    #[error("--url {0}: expected SERVICE=URL, such as server=http://127.0.0.1:8080")]
    NotAssignment(String),
    #[error("--url {given}: Desafio {challenge} has no service {service} (it has {known})")]
    UnknownService {
        given: String,
        challenge: u8,
        service: String,
        known: String,
    },
    // Plain http only: the stacks answer on local ports, and leaving TLS out
    // keeps the tool (and its image) small.
    #[error("--url {given}: not an http:// URL ({why})")]
    NotUrl { given: String, why: String },
    #[error("Desafio 2 is checked only through Docker: --http-only leaves nothing to check")]
    NothingToCheck,
    #[error(transparent)]
    Engine(#[from] docker::EngineError),
}

/// The services' URLs: the write-up's defaults, overridden by `--url`.
pub fn urls(challenge: u8, given: &[String]) -> Result<BTreeMap<String, Url>, UsageError> {
    if !(1..=5).contains(&challenge) {
        return Err(UsageError::NoSuchChallenge(challenge));
    }
    let services = checks::services(challenge);
    let mut urls: BTreeMap<String, Url> = services
        .iter()
        .map(|(name, url)| {
            (
                (*name).to_owned(),
                Url::parse(url).expect("default URLs parse"),
            )
        })
        .collect();
    for item in given {
        let (service, url) = item
            .split_once('=')
            .ok_or_else(|| UsageError::NotAssignment(item.clone()))?;
        if !urls.contains_key(service) {
            let known: Vec<&str> = services.iter().map(|(n, _)| *n).collect();
            return Err(UsageError::UnknownService {
                given: item.clone(),
                challenge,
                service: service.to_owned(),
                known: if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                },
            });
        }
        let parsed = Url::parse(url)
            .map_err(|e| e.to_string())
            .and_then(|u| match u.scheme() {
                "http" if u.host().is_some() => Ok(u),
                other => Err(format!("scheme {other}")),
            })
            .map_err(|why| UsageError::NotUrl {
                given: item.clone(),
                why,
            })?;
        urls.insert(service.to_owned(), parsed);
    }
    Ok(urls)
}

/// Runs the checks of `check` and reports them.
pub async fn run(check: &Check) -> Result<Report, UsageError> {
    let urls = urls(check.challenge, &check.urls)?;
    if check.challenge == 2 && check.http_only {
        return Err(UsageError::NothingToCheck);
    }
    let docker = if check.http_only {
        None
    } else {
        let docker = docker::connect().await?;
        let snapshot = docker::snapshot(&docker).await?;
        let project = check.project.clone().or_else(|| {
            checks::anchor_port(check.challenge)
                .and_then(|port| Engine::project_of(&snapshot, port))
        });
        Some(Engine {
            docker,
            snapshot,
            project,
        })
    };
    let project = docker.as_ref().and_then(|d| d.project.clone());
    let stack = Stack {
        http: crate::http::Client::new(),
        urls,
        docker,
    };
    let (sections, mut not_judged) = checks::run(check.challenge, &stack, &check.image).await;
    if check.http_only {
        not_judged.push("the Docker requirements (--http-only)".to_owned());
    }
    let targets = if check.challenge == 2 {
        vec![format!("image {}", check.image)]
    } else {
        stack
            .urls
            .iter()
            .map(|(service, url)| format!("{service}={url}"))
            .collect()
    };
    Ok(Report::new(
        check.challenge,
        targets,
        project,
        sections,
        not_judged,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_default_to_the_write_ups_ports_and_take_overrides() {
        let urls = urls(5, &["gateway=http://10.0.0.2:80".to_owned()]).unwrap();
        assert_eq!(urls["gateway"].as_str(), "http://10.0.0.2/");
        assert_eq!(urls["users_service"].as_str(), "http://127.0.0.1:5003/");
    }

    #[test]
    fn bad_urls_and_challenges_are_refused_with_the_reason() {
        let refused = |n, url: &str| urls(n, &[url.to_owned()]).unwrap_err().to_string();
        assert_eq!(
            urls(6, &[]).unwrap_err().to_string(),
            "there is no Desafio 6: the challenges are 1 to 5"
        );
        assert!(refused(1, "http://x").contains("expected SERVICE=URL"));
        assert!(refused(1, "gateway=http://x").contains("has no service gateway (it has server)"));
        assert!(refused(1, "server=localhost:8080").contains("not an http:// URL"));
        assert!(refused(1, "server=https://x").contains("scheme https"));
        assert!(refused(1, "server=ftp://x").contains("scheme ftp"));
    }
}
