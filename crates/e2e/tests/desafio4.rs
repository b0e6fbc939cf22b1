//! Desafio 4 through its compose file: A's and B's contracts from the host,
//! and B's answers while A is stopped, slow or answering garbage.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::time::{Duration, Instant};

use e2e::{free_port, http, serial, wait_until, Stack};

struct Ports {
    a: u16,
    b: u16,
}

fn stack() -> (Stack, Ports) {
    let ports = Ports {
        a: free_port(),
        b: free_port(),
    };
    let stack = Stack::new("desafio4")
        .env("D4_A_PORT", ports.a)
        .env("D4_B_PORT", ports.b);
    (stack, ports)
}

/// `GET /info` on B, with how long the answer took.
fn info(ports: &Ports) -> (http::Answer, Duration) {
    let started = Instant::now();
    let answer = http::get(&format!("http://127.0.0.1:{}/info", ports.b));
    (answer, started.elapsed())
}

#[test]
fn contracts_and_b_answering_503_while_a_is_stopped() {
    let _guard = serial();
    let (stack, ports) = stack();
    stack.up();

    let users = http::get(&format!("http://127.0.0.1:{}/usuarios", ports.a));
    assert_eq!(users.status, 200);
    let users = users.json();
    let users = users.as_array().unwrap();
    assert!(!users.is_empty());
    for user in users {
        for field in ["nome", "idade", "ativo_desde"] {
            assert!(user.get(field).is_some(), "missing {field} in {user}");
        }
    }

    let (answer, _) = info(&ports);
    assert_eq!(answer.status, 200, "{}", answer.body);
    let lines = answer.json();
    let lines = lines.as_array().unwrap();
    assert_eq!(lines.len(), users.len());
    let expected = format!(
        "Usuário {} ({} anos) - ativo desde {}",
        users[0]["nome"].as_str().unwrap(),
        users[0]["idade"],
        users[0]["ativo_desde"]
    );
    assert_eq!(lines[0], expected.as_str());

    // A goes away: B says so, quickly, as JSON.
    stack.compose(&["stop", "service_a"]).ok();
    let (answer, took) = info(&ports);
    assert_eq!(answer.status, 503, "{}", answer.body);
    assert_eq!(answer.json()["error"], "service_unavailable");
    assert!(took < Duration::from_secs(2), "B took {took:?}");

    // A comes back: B recovers without being touched.
    stack.compose(&["start", "service_a"]).ok();
    wait_until("B to answer 200 again", Duration::from_secs(30), || {
        let (answer, _) = info(&ports);
        (answer.status == 200).then_some(())
    });
}

#[test]
fn b_answers_504_for_a_slow_a_and_502_for_garbage_then_recovers() {
    let _guard = serial();
    let (stack, ports) = stack();
    // The fault switch of service_a (FAULT, see its crate docs), set through
    // the compose file's D4_A_FAULT.
    let stack = stack.env("D4_A_FAULT", "slow");
    stack.up();
    let (answer, took) = info(&ports);
    assert_eq!(answer.status, 504, "{}", answer.body);
    assert_eq!(answer.json()["error"], "gateway_timeout");
    assert!(took < Duration::from_secs(2), "B took {took:?}");

    let stack = stack.env("D4_A_FAULT", "garbage");
    stack.compose(&["up", "-d", "--wait", "service_a"]).ok();
    let answer = wait_until("B to see A's garbage", Duration::from_secs(30), || {
        let (answer, _) = info(&ports);
        (answer.status != 504).then_some(answer)
    });
    assert_eq!(answer.status, 502, "{}", answer.body);
    assert_eq!(answer.json()["error"], "bad_gateway");

    let stack = stack.env("D4_A_FAULT", "");
    stack.compose(&["up", "-d", "--wait", "service_a"]).ok();
    wait_until("B to answer 200 again", Duration::from_secs(30), || {
        let (answer, _) = info(&ports);
        (answer.status == 200).then_some(())
    });
}
