//! Each challenge's requirements, as its write-ups fix them, and the
//! Docker-level requirements several challenges share.

mod d1;
mod d2;
mod d3;
mod d4;
mod d5;

use crate::{
    docker::Container,
    docker::Snapshot,
    report::{Outcome, Section},
    stack::{is_default, outcome, Stack},
};

/// The services a challenge's write-ups name, and where they answer by
/// default (the write-ups' ports on this machine).
pub fn services(challenge: u8) -> &'static [(&'static str, &'static str)] {
    match challenge {
        1 => &[("server", "http://127.0.0.1:8080")],
        3 => &[
            ("web", "http://127.0.0.1:5000"),
            ("page", "http://127.0.0.1:8501"),
        ],
        4 => &[
            ("service_a", "http://127.0.0.1:5001"),
            ("service_b", "http://127.0.0.1:7000"),
        ],
        5 => &[
            ("users_service", "http://127.0.0.1:5003"),
            ("orders_service", "http://127.0.0.1:5002"),
            ("gateway", "http://127.0.0.1:5004"),
        ],
        _ => &[],
    }
}

/// The port whose container tells which compose project is the stack.
pub fn anchor_port(challenge: u8) -> Option<u16> {
    match challenge {
        1 => Some(8080),
        3 => Some(5000),
        4 => Some(5001),
        5 => Some(5004),
        _ => None,
    }
}

/// The sections of challenge `n`, and what the write-ups ask that no program
/// judges.
pub async fn run(n: u8, stack: &Stack, image: &str) -> (Vec<Section>, Vec<String>) {
    match n {
        1 => d1::check(stack).await,
        2 => d2::check(stack, image).await,
        3 => d3::check(stack).await,
        4 => d4::check(stack).await,
        _ => d5::check(stack).await,
    }
}

/// The first container of `service` (by compose service name, or by
/// container name for containers started by hand).
fn find<'a>(containers: &[&'a Container], names: &[&str]) -> Option<&'a Container> {
    containers.iter().copied().find(|c| {
        names
            .iter()
            .any(|n| c.service.as_deref() == Some(n) || c.name == *n)
    })
}

/// `GET /health` of `base` answers 200 with `"status": "healthy"`, as 000
/// and 002 show it.
async fn says_healthy(stack: &Stack, base: &reqwest::Url) -> Outcome {
    let health = stack.http.get(base, "/health").await;
    outcome(
        "GET /health says healthy",
        1,
        &health.sent,
        "200 with \"status\": \"healthy\"",
        health.got(),
        health.status() == Some(200) && health.json().is_some_and(|j| j["status"] == "healthy"),
    )
}

/// `names` of the containers, for messages.
fn listed(containers: &[&Container]) -> String {
    if containers.is_empty() {
        return "no container".to_owned();
    }
    containers
        .iter()
        .map(|c| c.label())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A user-defined bridge network named as the write-ups name it holds every
/// one of `members`.
fn network_holds(
    snapshot: &Snapshot,
    names: &[&str],
    members: &[&Container],
    points: u32,
) -> Outcome {
    let wanted = names.join(" or ");
    let found = names.iter().find_map(|n| snapshot.network(n));
    let got = match found {
        None => {
            let theirs: Vec<String> = members
                .iter()
                .flat_map(|c| c.networks.keys())
                .filter(|n| !is_default(n))
                .cloned()
                .collect();
            let theirs = if theirs.is_empty() {
                "only Docker's default networks".to_owned()
            } else {
                theirs.join(", ")
            };
            format!("no network {wanted}; the containers are on {theirs}")
        }
        Some(network) => {
            let outside: Vec<&Container> = members
                .iter()
                .copied()
                .filter(|c| !c.on(&network.name))
                .collect();
            if network.driver != "bridge" && network.driver != "overlay" {
                format!("{} uses the driver {}", network.name, network.driver)
            } else if members.is_empty() || !outside.is_empty() {
                format!("{} does not hold {}", network.name, listed(&outside))
            } else {
                format!(
                    "{} ({}) holds {}",
                    network.name,
                    network.driver,
                    listed(members)
                )
            }
        }
    };
    let passed = got.contains(" holds ");
    outcome(
        format!("a custom network {wanted} joins the services"),
        points,
        "the stack's networks",
        format!("a bridge network {wanted} holding {}", listed(members)),
        got,
        passed,
    )
}

/// `container` publishes `port` on the host.
fn publishes(container: Option<&Container>, what: &str, port: u16, points: u32) -> Outcome {
    let got = match container {
        None => format!("no container for {what}"),
        Some(c) if c.published.is_empty() => format!("{} publishes no port", c.label()),
        Some(c) => format!(
            "{} publishes {}",
            c.label(),
            c.published
                .iter()
                .map(|(host, inside)| format!("{host}->{inside}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    outcome(
        format!("{what} published on port {port}"),
        points,
        format!("the ports of {what}"),
        format!("{port} on the host"),
        got,
        container.is_some_and(|c| c.publishes(port)),
    )
}

/// `container` has a healthcheck and Docker finds it healthy.
fn healthy(container: Option<&Container>, what: &str, points: u32) -> Outcome {
    let got = match container {
        None => format!("no container for {what}"),
        Some(c) => match &c.health {
            None => format!("{} has no healthcheck", c.label()),
            Some(state) => format!("{} is {state}", c.label()),
        },
    };
    outcome(
        format!("{what} has a healthcheck, and is healthy"),
        points,
        format!("the health of {what}"),
        "a healthcheck reporting healthy",
        got,
        container.is_some_and(|c| c.health.as_deref() == Some("healthy")),
    )
}

/// `container` starts after every service of `on`, waiting until each is
/// healthy (`condition: service_healthy`) when `healthy` is asked.
fn waits_for(
    container: Option<&Container>,
    what: &str,
    on: &[&str],
    healthy: bool,
    points: u32,
) -> Outcome {
    let got = match container {
        None => format!("no container for {what}"),
        Some(c) if c.depends_on.is_empty() => format!("{} has no depends_on", c.label()),
        Some(c) => format!(
            "{} depends on {}",
            c.label(),
            c.depends_on
                .iter()
                .map(|(s, cond)| format!("{s} ({cond})"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let passed = container.is_some_and(|c| {
        on.iter().all(|service| {
            c.depends_on
                .iter()
                .any(|(s, cond)| s == service && (!healthy || cond == "service_healthy"))
        })
    });
    let (requirement, expected) = if healthy {
        (
            format!(
                "{what} starts once {} {} healthy",
                on.join(" and "),
                if on.len() == 1 { "is" } else { "are" }
            ),
            format!(
                "depends_on: {} with condition: service_healthy",
                on.join(", ")
            ),
        )
    } else {
        (
            format!("{what} starts after {}", on.join(" and ")),
            format!("depends_on: {}", on.join(", ")),
        )
    };
    outcome(
        requirement,
        points,
        format!("the depends_on of {what}"),
        expected,
        got,
        passed,
    )
}

/// `from` and `to` share a network of their own on which `to` answers to
/// the name `to_name`, so `from` reaches it as the write-up does.
fn reaches_by_name(
    from: Option<&Container>,
    from_name: &str,
    to: Option<&Container>,
    to_name: &str,
    points: u32,
) -> Outcome {
    let shared: Vec<String> = match (from, to) {
        (Some(f), Some(t)) => t
            .networks
            .iter()
            .filter(|(n, names)| {
                !is_default(n)
                    && f.on(n)
                    && (t.service.as_deref() == Some(to_name) || names.iter().any(|a| a == to_name))
            })
            .map(|(n, _)| n.clone())
            .collect(),
        _ => Vec::new(),
    };
    let got = match (from, to) {
        (None, _) => format!("no container for {from_name}"),
        (_, None) => format!("no container for {to_name}"),
        (Some(f), Some(t)) if shared.is_empty() => format!(
            "{} is on {}; {} on {}",
            f.label(),
            networks_of(f),
            t.label(),
            networks_of(t)
        ),
        _ => format!("both on {}", shared.join(", ")),
    };
    outcome(
        format!("{from_name} resolves {to_name} by name"),
        points,
        "the networks of both",
        format!("a network of their own where {to_name} is a name"),
        got,
        !shared.is_empty(),
    )
}

fn networks_of(c: &Container) -> String {
    let mut names: Vec<&str> = c.networks.keys().map(String::as_str).collect();
    names.sort_unstable();
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::Network;

    fn container(name: &str, networks: &[&str]) -> Container {
        Container {
            name: name.to_owned(),
            service: Some(name.to_owned()),
            networks: networks.iter().map(|n| ((*n).to_owned(), vec![])).collect(),
            running: true,
            ..Default::default()
        }
    }

    fn snapshot(networks: &[(&str, &str)]) -> Snapshot {
        Snapshot {
            networks: networks
                .iter()
                .map(|(name, driver)| Network {
                    name: (*name).to_owned(),
                    driver: (*driver).to_owned(),
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn the_network_must_have_the_write_ups_name_and_hold_every_service() {
        let server = container("server", &["desafio1-net"]);
        let client = container("client", &["desafio1-net"]);
        let named = snapshot(&[("desafio1-net", "bridge")]);
        let held = network_holds(
            &named,
            &["desafio1-network", "desafio1-net"],
            &[&server, &client],
            2,
        );
        assert!(held.passed, "{held:?}");

        let renamed = snapshot(&[("minha-rede", "bridge")]);
        let elsewhere = container("server", &["minha-rede"]);
        let missing = network_holds(&renamed, &["desafio1-network"], &[&elsewhere], 2);
        assert!(!missing.passed);
        assert_eq!(
            missing.got,
            "no network desafio1-network; the containers are on minha-rede"
        );

        let lonely = container("client", &["bridge"]);
        let apart = network_holds(&named, &["desafio1-net"], &[&server, &lonely], 2);
        assert!(!apart.passed);
        assert_eq!(apart.got, "desafio1-net does not hold client");
    }

    #[test]
    fn start_order_needs_a_healthy_condition_on_every_named_service() {
        let mut web = container("web", &[]);
        web.depends_on = vec![
            ("db".into(), "service_healthy".into()),
            ("cache".into(), "service_started".into()),
        ];
        assert!(waits_for(Some(&web), "web", &["db"], true, 1).passed);
        let both = waits_for(Some(&web), "web", &["db", "cache"], true, 1);
        assert!(!both.passed);
        assert_eq!(
            both.got,
            "web depends on db (service_healthy), cache (service_started)"
        );
        assert!(waits_for(Some(&web), "web", &["db", "cache"], false, 1).passed);
        assert!(!waits_for(None, "web", &["db"], true, 1).passed);
    }
}
