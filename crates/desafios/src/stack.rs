//! The stack under check: where its services answer, and (unless
//! `--http-only`) what Docker runs for it.

use std::collections::BTreeMap;

use bollard::Docker;
use reqwest::Url;

use crate::{
    docker::{Container, Snapshot},
    http,
    report::Outcome,
};

/// Everything a challenge's checks read.
#[derive(Debug)]
pub struct Stack {
    pub http: http::Client,
    /// By the write-up's service names (`server`, `web`, `gateway`...).
    pub urls: BTreeMap<String, Url>,
    pub docker: Option<Engine>,
}

/// The engine and what it ran when the check started.
#[derive(Debug)]
pub struct Engine {
    pub docker: Docker,
    pub snapshot: Snapshot,
    /// `--project`, or found from the container publishing the stack's port.
    pub project: Option<String>,
}

impl Stack {
    /// The URL of a service; every service a challenge names has one (the
    /// command line fills in the write-up's defaults).
    pub fn url(&self, service: &str) -> &Url {
        &self.urls[service]
    }
}

impl Engine {
    /// The stack's containers: its compose project's, or, for containers
    /// started by hand (`docker run`), those sharing a network with the one
    /// that publishes `port`.
    pub fn containers(&self, port: u16) -> Vec<&Container> {
        if let Some(project) = &self.project {
            return self.snapshot.project(project);
        }
        let Some(anchor) = anchor(&self.snapshot, port) else {
            return Vec::new();
        };
        self.snapshot
            .containers
            .iter()
            .filter(|c| {
                c.name == anchor.name || c.networks.keys().any(|n| !is_default(n) && anchor.on(n))
            })
            .collect()
    }

    /// The compose project of the running container that publishes `port`.
    pub fn project_of(snapshot: &Snapshot, port: u16) -> Option<String> {
        anchor(snapshot, port).and_then(|c| c.project.clone())
    }
}

/// The running container that publishes `port`: the one the stack is found by.
fn anchor(snapshot: &Snapshot, port: u16) -> Option<&Container> {
    snapshot
        .containers
        .iter()
        .find(|c| c.running && c.publishes(port))
}

/// Docker's own networks, which every container may be on.
pub fn is_default(network: &str) -> bool {
    matches!(network, "bridge" | "host" | "none")
}

/// A requirement's outcome.
pub fn outcome(
    requirement: impl Into<String>,
    points: u32,
    sent: impl Into<String>,
    expected: impl Into<String>,
    got: impl Into<String>,
    passed: bool,
) -> Outcome {
    Outcome {
        requirement: requirement.into(),
        points,
        passed,
        sent: sent.into(),
        expected: expected.into(),
        got: got.into(),
    }
}
