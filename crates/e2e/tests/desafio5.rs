//! Desafio 5 through its compose files: the services' direct ports, the
//! gateway's contract and refusals, request ids in the services' logs, an
//! upstream down, and scale-out with a replica stopped under load.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::{
    collections::BTreeSet,
    thread,
    time::{Duration, Instant},
};

use e2e::{docker, http, serial, wait_until};

fn url(port: u16, path: &str) -> String {
    format!("http://127.0.0.1:{port}{path}")
}

/// The gateway's `/health` entry for `upstream`.
fn upstream_health(gateway: u16, upstream: &str) -> serde_json::Value {
    http::get(&url(gateway, "/health")).json()["upstreams"][upstream].clone()
}

/// `GET target` written byte for byte on a socket; the whole answer.
fn raw_get(port: u16, target: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

#[test]
fn direct_ports_gateway_contract_request_ids_and_an_upstream_down() {
    let _guard = serial();
    let (stack, gateway, users, orders) = e2e::desafio5_direct();
    stack.up();

    // The write-up's direct calls, and the same through the gateway.
    let direct_users = http::get(&url(users, "/users"));
    assert_eq!(direct_users.status, 200);
    assert!(!direct_users.json().as_array().unwrap().is_empty());
    let direct_orders = http::get(&url(orders, "/orders"));
    assert_eq!(direct_orders.status, 200);
    for (port, path) in [
        (users, "/users"),
        (users, "/users/1"),
        (orders, "/orders"),
        (orders, "/orders/1"),
    ] {
        let direct = http::get(&url(port, path));
        let through = http::get(&url(gateway, path));
        assert_eq!(through.status, 200, "{path}: {}", through.body);
        assert_eq!(through.json(), direct.json(), "{path}");
    }
    let filtered = http::get(&url(gateway, "/orders?user_id=1")).json();
    let filtered = filtered.as_array().unwrap();
    assert!(!filtered.is_empty());
    assert!(filtered.iter().all(|o| o["user_id"] == 1), "{filtered:?}");
    let missing = http::get(&url(gateway, "/users/999"));
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["error"], "not_found");

    // Nothing but /users and /orders goes through.
    for path in ["/", "/admin", "/usersx", "/health/users"] {
        let answer = http::get(&url(gateway, path));
        assert_eq!(answer.status, 404, "{path}: {}", answer.body);
        assert_eq!(answer.json()["error"], "not_found");
    }
    // Targets a URL library would "clean up" before sending, so written raw.
    for target in [
        "/users/%2e%2e/health",
        "/users/../health",
        "http://example.com/users",
    ] {
        let answer = raw_get(gateway, target);
        assert!(answer.starts_with("HTTP/1.1 400"), "{target}: {answer}");
    }

    // A request id given to the gateway shows up in the service's log.
    let id = format!("e2e-{}", std::process::id());
    let answer = http::get_with(&url(gateway, "/users/2"), &[("x-request-id", &id)]).unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(answer.headers["x-request-id"], id.as_str());
    wait_until(
        "the request id in users_service's log",
        Duration::from_secs(10),
        || stack.logs("users_service").contains(&id).then_some(()),
    );
    wait_until(
        "the request id in the gateway's log",
        Duration::from_secs(10),
        || stack.logs("gateway").contains(&id).then_some(()),
    );

    // The gateway reports its upstreams.
    assert_eq!(upstream_health(gateway, "users_service")["state"], "up");
    assert_eq!(upstream_health(gateway, "orders_service")["state"], "up");

    // users_service stops: 503 JSON, quickly; orders still answer.
    stack.compose(&["stop", "users_service"]).ok();
    let started = Instant::now();
    let down = http::get(&url(gateway, "/users"));
    assert_eq!(down.status, 503, "{}", down.body);
    assert_eq!(down.json()["error"], "service_unavailable");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(http::get(&url(gateway, "/orders")).status, 200);
    wait_until(
        "/health to show users_service down",
        Duration::from_secs(10),
        || (upstream_health(gateway, "users_service")["state"] == "down").then_some(()),
    );

    // It comes back: the gateway finds it again by itself.
    stack.compose(&["start", "users_service"]).ok();
    wait_until(
        "the gateway to reach users_service again",
        Duration::from_secs(30),
        || (http::get(&url(gateway, "/users")).status == 200).then_some(()),
    );
}

#[test]
fn scaled_services_share_the_load_and_a_stopped_replica_costs_no_request() {
    let _guard = serial();
    let (stack, gateway) = e2e::desafio5_scalable();
    stack.up_scaled(&[("users_service", 3), ("orders_service", 3)]);
    wait_until(
        "the gateway to see 3 users replicas",
        Duration::from_secs(20),
        || {
            let health = upstream_health(gateway, "users_service");
            (health["replicas"].as_array().map(Vec::len) == Some(3)).then_some(())
        },
    );

    // Round robin: a few requests reach every replica.
    let mut served_by = BTreeSet::new();
    for _ in 0..12 {
        let answer = http::get(&url(gateway, "/users"));
        assert_eq!(answer.status, 200, "{}", answer.body);
        served_by.insert(answer.headers["x-served-by"].to_str().unwrap().to_owned());
    }
    assert_eq!(served_by.len(), 3, "{served_by:?}");

    // Stop one replica while a bounded stream of GETs runs: none may fail.
    let ids = stack.compose(&["ps", "-q", "users_service"]).ok().stdout;
    let victim = ids.lines().next().unwrap().trim().to_owned();
    let (load_running, wait_for_load) = std::sync::mpsc::channel::<()>();
    let stopper = thread::spawn(move || {
        // Stop only once the load is flowing, so the stop lands mid-stream.
        let _ = wait_for_load.recv();
        docker(&["stop", "--time", "5", &victim]).ok();
    });
    let started = Instant::now();
    let (mut sent, mut failures) = (0u32, Vec::new());
    let mut stopped_at = None;
    while sent < 2000 && started.elapsed() < Duration::from_secs(30) {
        match http::try_get(&url(gateway, "/users")) {
            Some(answer) if answer.status == 200 => {}
            Some(answer) => failures.push(format!("{}: {}", answer.status, answer.body)),
            None => failures.push("no answer".into()),
        }
        sent += 1;
        if sent == 20 {
            let _ = load_running.send(());
        }
        if stopped_at.is_none() && stopper.is_finished() {
            stopped_at = Some(Instant::now());
        }
        // Keep going for 3 s after the stop, past one DNS refresh.
        if stopped_at.is_some_and(|t| t.elapsed() > Duration::from_secs(3)) {
            break;
        }
    }
    stopper.join().unwrap();
    eprintln!(
        "scale-out: {sent} GETs while one of 3 replicas stopped, {} failed",
        failures.len()
    );
    assert!(
        stopped_at.is_some(),
        "the replica did not stop within the loop"
    );
    assert!(
        failures.is_empty(),
        "{} of {sent} failed: {failures:?}",
        failures.len()
    );
    wait_until(
        "the gateway to drop the stopped replica",
        Duration::from_secs(10),
        || {
            let health = upstream_health(gateway, "users_service");
            (health["replicas"].as_array().map(Vec::len) == Some(2)).then_some(())
        },
    );
}
