//! Desafio 1 (write-ups 000 and 001): a server on 8080 answering `/`,
//! `/health` and `/stats`, and a client polling it by name over a custom
//! bridge network.

use std::time::{Duration, Instant};

use super::{find, healthy, network_holds, publishes, says_healthy, waits_for};
use crate::{
    docker,
    http::Answer,
    report::{Outcome, Section},
    stack::{outcome, Stack},
};

/// 000's `GET /` fields.
const HOME_FIELDS: [&str; 6] = [
    "message",
    "timestamp",
    "request_number",
    "container_name",
    "status",
    "port",
];
const STATS_FIELDS: [&str; 4] = [
    "total_requests",
    "uptime_seconds",
    "start_time",
    "container_name",
];
/// 000's client line for an answer.
const CLIENT_SUCCESS: &str = "✅ Requisição bem-sucedida!";
/// The client polls every 5 s: two rounds and a margin.
const CLIENT_WAIT: Duration = Duration::from_secs(12);

pub async fn check(stack: &Stack) -> (Vec<Section>, Vec<String>) {
    let server = stack.url("server");
    let mut http = Section::new("Servidor HTTP (000) [1 pt each]");

    let first = stack.http.get(server, "/").await;
    http.push(has_fields(
        &first,
        "GET / answers the write-up's JSON",
        &HOME_FIELDS,
    ));
    let second = stack.http.get(server, "/").await;
    let number = |a: &Answer| a.json().and_then(|j| j["request_number"].as_u64());
    http.push(outcome(
        "request_number counts every request",
        1,
        &second.sent,
        format!(
            "request_number greater than the first answer's ({})",
            number(&first).map_or("none".to_owned(), |n| n.to_string())
        ),
        second.got(),
        matches!((number(&first), number(&second)), (Some(a), Some(b)) if b > a),
    ));
    http.push(says_healthy(stack, server).await);
    let stats = stack.http.get(server, "/stats").await;
    http.push(has_fields(
        &stats,
        "GET /stats answers the counters",
        &STATS_FIELDS,
    ));

    let Some(engine) = &stack.docker else {
        return (vec![http], vec![]);
    };
    let containers = engine.containers(8080);
    let server_c = containers.iter().copied().find(|c| c.publishes(8080));
    let client_c = containers
        .iter()
        .copied()
        .find(|c| Some(c.name.as_str()) != server_c.map(|s| s.name.as_str()));
    let mut network = Section::new("Containers em rede (000, 001) [1 pt each]");
    let members: Vec<_> = server_c.into_iter().chain(client_c).collect();
    network
        .push(publishes(server_c, "the server", 8080, 1))
        .push(network_holds(
            &engine.snapshot,
            &["desafio1-network", "desafio1-net"],
            &members,
            1,
        ))
        .push(healthy(server_c, "the server", 1))
        .push(waits_for(
            find(&containers, &["http-client", "client"]).or(client_c),
            "the client",
            &[server_c
                .and_then(|s| s.service.as_deref())
                .unwrap_or("flask-server")],
            true,
            1,
        ));

    // The client reached the server by name if it printed an answer.
    let got = match client_c {
        None => Err("no client container beside the server".to_owned()),
        Some(client) => {
            let deadline = Instant::now() + CLIENT_WAIT;
            loop {
                match docker::logs(&engine.docker, &client.name, 50).await {
                    Ok(logs) if logs.contains(CLIENT_SUCCESS) || Instant::now() > deadline => {
                        break Ok((client.name.clone(), logs))
                    }
                    Ok(_) => tokio::time::sleep(Duration::from_secs(1)).await,
                    Err(e) => break Err(e),
                }
            }
        }
    };
    let (sent, got, passed) = match got {
        Ok((name, logs)) => {
            let last = logs
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("nothing");
            let passed = logs.contains(CLIENT_SUCCESS);
            (
                format!("docker logs {name}"),
                format!("last line: {last}"),
                passed,
            )
        }
        Err(why) => ("docker logs".to_owned(), why, false),
    };
    network.push(outcome(
        "the client reaches the server by name",
        1,
        sent,
        format!("a line \"{CLIENT_SUCCESS}\" within {CLIENT_WAIT:?}"),
        got,
        passed,
    ));
    (vec![http, network], vec![])
}

/// `answer` is a 200 whose JSON object has every one of `fields`.
fn has_fields(answer: &Answer, requirement: &str, fields: &[&str]) -> Outcome {
    let body = answer.json();
    let missing: Vec<&str> = fields
        .iter()
        .copied()
        .filter(|f| body.as_ref().and_then(|b| b.get(*f)).is_none())
        .collect();
    let got = if missing.is_empty() {
        answer.got()
    } else {
        format!("missing {}: {}", missing.join(", "), answer.got())
    };
    outcome(
        requirement,
        1,
        &answer.sent,
        format!("200 with {}", fields.join(", ")),
        got,
        answer.status() == Some(200) && missing.is_empty(),
    )
}
