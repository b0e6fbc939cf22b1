//! The Docker side of a check: what the engine says about the running
//! containers, read once through the Engine API (bollard) into plain data
//! that the challenges' checks judge without talking to Docker again.

use std::{collections::HashMap, time::Duration};

use bollard::{
    models::{ContainerInspectResponse, ContainerSummary, HealthStatusEnum},
    query_parameters::{InspectContainerOptions, ListContainersOptionsBuilder},
    Docker,
};
use futures_util::TryStreamExt;

/// How long one call to the engine may take.
const ENGINE_TIMEOUT: Duration = Duration::from_secs(10);

/// The compose labels Docker Compose puts on the containers it starts.
pub const PROJECT_LABEL: &str = "com.docker.compose.project";
const SERVICE_LABEL: &str = "com.docker.compose.service";
const DEPENDS_ON_LABEL: &str = "com.docker.compose.depends_on";

/// Why the engine could not be read.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("no Docker engine answered ({0}); start Docker, or pass --http-only to skip the Docker checks")]
    Unreachable(String),
    #[error("the Docker engine did not answer within {ENGINE_TIMEOUT:?}")]
    Timeout,
    #[error("the Docker engine refused: {0}")]
    Api(#[from] bollard::errors::Error),
}

/// A running container, as the checks need it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Container {
    /// Without the leading `/`.
    pub name: String,
    pub image: String,
    pub project: Option<String>,
    pub service: Option<String>,
    /// Network name to the names it answers to there (aliases).
    pub networks: HashMap<String, Vec<String>>,
    /// (host port, container port) of every published TCP port.
    pub published: Vec<(u16, u16)>,
    /// (service, condition) from `depends_on:`.
    pub depends_on: Vec<(String, String)>,
    /// (volume name, mount point) of every named volume.
    pub volumes: Vec<(String, String)>,
    /// `None` without a healthcheck, else `starting`, `healthy`, `unhealthy`.
    pub health: Option<String>,
    /// Variables set for this container beyond its image's own.
    pub env_set: Vec<String>,
    pub running: bool,
}

impl Container {
    pub fn publishes(&self, port: u16) -> bool {
        self.published.iter().any(|&(host, _)| host == port)
    }

    pub fn on(&self, network: &str) -> bool {
        self.networks.contains_key(network)
    }

    /// The name, and the compose service if it has one: `web-flask (web)`.
    pub fn label(&self) -> String {
        match &self.service {
            Some(service) if service != &self.name => format!("{} ({service})", self.name),
            _ => self.name.clone(),
        }
    }
}

/// A network's name and driver.
#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    pub name: String,
    pub driver: String,
}

/// What the engine holds that a check looks at.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub containers: Vec<Container>,
    pub networks: Vec<Network>,
    pub volumes: Vec<String>,
}

impl Snapshot {
    /// The containers of one compose project.
    pub fn project(&self, project: &str) -> Vec<&Container> {
        self.containers
            .iter()
            .filter(|c| c.project.as_deref() == Some(project))
            .collect()
    }

    pub fn network(&self, name: &str) -> Option<&Network> {
        self.networks.iter().find(|n| n.name == name)
    }
}

/// Connects to the engine the Docker CLI would use (`DOCKER_HOST`, else the
/// local socket) and checks that it answers.
pub async fn connect() -> Result<Docker, EngineError> {
    let docker =
        Docker::connect_with_defaults().map_err(|e| EngineError::Unreachable(e.to_string()))?;
    match tokio::time::timeout(ENGINE_TIMEOUT, docker.ping()).await {
        Ok(Ok(_)) => Ok(docker),
        Ok(Err(e)) => Err(EngineError::Unreachable(e.to_string())),
        Err(_) => Err(EngineError::Timeout),
    }
}

/// Reads every running container (with its healthcheck and environment),
/// every network and every volume.
pub async fn snapshot(docker: &Docker) -> Result<Snapshot, EngineError> {
    tokio::time::timeout(ENGINE_TIMEOUT, read(docker))
        .await
        .map_err(|_| EngineError::Timeout)?
}

async fn read(docker: &Docker) -> Result<Snapshot, EngineError> {
    let summaries = docker
        .list_containers(Some(ListContainersOptionsBuilder::new().all(true).build()))
        .await?;
    let mut containers = Vec::new();
    for summary in summaries {
        let Some(id) = summary.id.clone() else {
            continue;
        };
        let inspect = docker
            .inspect_container(&id, None::<InspectContainerOptions>)
            .await?;
        let image_env = match inspect.config.as_ref().and_then(|c| c.image.clone()) {
            Some(image) => docker
                .inspect_image(&image)
                .await
                .ok()
                .and_then(|i| i.config)
                .and_then(|c| c.env)
                .unwrap_or_default(),
            None => Vec::new(),
        };
        containers.push(container(summary, inspect, &image_env));
    }
    let networks = docker
        .list_networks(None::<bollard::query_parameters::ListNetworksOptions>)
        .await?
        .into_iter()
        .map(|n| Network {
            name: n.name.unwrap_or_default(),
            driver: n.driver.unwrap_or_default(),
        })
        .collect();
    let volumes = docker
        .list_volumes(None::<bollard::query_parameters::ListVolumesOptions>)
        .await?
        .volumes
        .unwrap_or_default()
        .into_iter()
        .map(|v| v.name)
        .collect();
    Ok(Snapshot {
        containers,
        networks,
        volumes,
    })
}

fn container(
    summary: ContainerSummary,
    inspect: ContainerInspectResponse,
    image_env: &[String],
) -> Container {
    let labels = summary.labels.unwrap_or_default();
    let networks = summary
        .network_settings
        .and_then(|n| n.networks)
        .unwrap_or_default()
        .into_iter()
        .map(|(name, endpoint)| {
            let mut names = endpoint.aliases.unwrap_or_default();
            names.extend(endpoint.dns_names.unwrap_or_default());
            (name, names)
        })
        .collect();
    let mut published: Vec<(u16, u16)> = summary
        .ports
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| Some((p.public_port?, p.private_port)))
        .collect();
    // The same port is listed once per address family.
    published.sort_unstable();
    published.dedup();
    let config = inspect.config.unwrap_or_default();
    let state = inspect.state.unwrap_or_default();
    let health = config
        .healthcheck
        .as_ref()
        .and_then(|h| h.test.as_ref())
        .filter(|test| test.first().is_some_and(|t| t != "NONE"))
        .map(|_| {
            match state.health.as_ref().and_then(|h| h.status) {
                Some(HealthStatusEnum::HEALTHY) => "healthy",
                Some(HealthStatusEnum::UNHEALTHY) => "unhealthy",
                _ => "starting",
            }
            .to_owned()
        });
    Container {
        name: summary
            .names
            .and_then(|n| n.into_iter().next())
            .unwrap_or_default()
            .trim_start_matches('/')
            .to_owned(),
        image: summary.image.unwrap_or_default(),
        project: labels.get(PROJECT_LABEL).cloned(),
        service: labels.get(SERVICE_LABEL).cloned(),
        networks,
        published,
        depends_on: labels
            .get(DEPENDS_ON_LABEL)
            .map(|d| depends_on(d))
            .unwrap_or_default(),
        volumes: inspect
            .mounts
            .unwrap_or_default()
            .into_iter()
            .filter_map(|m| Some((m.name?, m.destination?)))
            .collect(),
        health,
        env_set: config
            .env
            .unwrap_or_default()
            .into_iter()
            .filter(|v| !image_env.contains(v))
            .collect(),
        running: state.running.unwrap_or(false),
    }
}

/// Compose's `depends_on` label: `db:service_healthy:false,cache:service_started:false`.
fn depends_on(label: &str) -> Vec<(String, String)> {
    label
        .split(',')
        .filter_map(|entry| {
            let mut parts = entry.split(':');
            let service = parts.next()?.trim();
            let condition = parts.next().unwrap_or("service_started").trim();
            (!service.is_empty()).then(|| (service.to_owned(), condition.to_owned()))
        })
        .collect()
}

/// Runs `image` once, `volume` mounted at `/data`, and returns its exit code
/// and what it printed. The container is removed afterwards.
pub async fn run_once(
    docker: &Docker,
    image: &str,
    volume: &str,
    deadline: Duration,
) -> Result<(i64, String), String> {
    use bollard::{
        models::{ContainerCreateBody, HostConfig},
        query_parameters::{LogsOptionsBuilder, RemoveContainerOptionsBuilder},
    };
    let body = ContainerCreateBody {
        image: Some(image.to_owned()),
        host_config: Some(HostConfig {
            binds: Some(vec![format!("{volume}:/data")]),
            ..Default::default()
        }),
        ..Default::default()
    };
    let created = docker
        .create_container(
            None::<bollard::query_parameters::CreateContainerOptions>,
            body,
        )
        .await
        .map_err(|e| format!("could not create a container of {image}: {e}"))?;
    let id = created.id;
    let result = async {
        docker
            .start_container(
                &id,
                None::<bollard::query_parameters::StartContainerOptions>,
            )
            .await
            .map_err(|e| format!("could not start {image}: {e}"))?;
        let waited = tokio::time::timeout(deadline, async {
            docker
                .wait_container(&id, None::<bollard::query_parameters::WaitContainerOptions>)
                .try_collect::<Vec<_>>()
                .await
        })
        .await;
        let code = match waited {
            Err(_) => return Err(format!("{image} still running after {deadline:?}")),
            Ok(Ok(answers)) => answers.last().map_or(0, |a| a.status_code),
            // bollard reports a non-zero exit as an error carrying the code.
            Ok(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => code,
            Ok(Err(e)) => return Err(format!("waiting for {image}: {e}")),
        };
        let logs: Vec<_> = docker
            .logs(
                &id,
                Some(LogsOptionsBuilder::new().stdout(true).stderr(true).build()),
            )
            .try_collect()
            .await
            .map_err(|e| format!("reading what {image} printed: {e}"))?;
        let printed = logs.iter().map(ToString::to_string).collect::<String>();
        Ok((code, printed))
    }
    .await;
    let _ = docker
        .remove_container(
            &id,
            Some(RemoveContainerOptionsBuilder::new().force(true).build()),
        )
        .await;
    result
}

/// What a container printed so far (the last `tail` lines).
pub async fn logs(docker: &Docker, container: &str, tail: usize) -> Result<String, String> {
    use bollard::query_parameters::LogsOptionsBuilder;
    let options = LogsOptionsBuilder::new()
        .stdout(true)
        .stderr(true)
        .tail(&tail.to_string())
        .build();
    let read = tokio::time::timeout(
        ENGINE_TIMEOUT,
        docker
            .logs(container, Some(options))
            .try_collect::<Vec<_>>(),
    )
    .await
    .map_err(|_| format!("no logs of {container} within {ENGINE_TIMEOUT:?}"))?
    .map_err(|e| format!("logs of {container}: {e}"))?;
    Ok(read.iter().map(ToString::to_string).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_depends_on_labels_give_service_and_condition() {
        assert_eq!(
            depends_on("db:service_healthy:false,cache:service_started:true"),
            vec![
                ("db".to_owned(), "service_healthy".to_owned()),
                ("cache".to_owned(), "service_started".to_owned())
            ]
        );
        assert_eq!(
            depends_on("a"),
            vec![("a".to_owned(), "service_started".to_owned())]
        );
        assert!(depends_on("").is_empty());
    }
}
