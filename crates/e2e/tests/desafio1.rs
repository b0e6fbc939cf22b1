//! Desafio 1 through Docker: the compose file and write-up 001's manual
//! `docker network create` / `docker build` / `docker run` path.

use std::time::Duration;

use e2e::{docker, health_of, http, inspect, run_in, serial, wait_until, Cleanup, Stack};

const SERVER: &str = "desafio1-flask-server";
const CLIENT: &str = "desafio1-http-client";

fn start(port: u16) -> Stack {
    let stack = Stack::new("desafio1").env("D1_PORT", port);
    stack.up();
    stack
}

#[test]
fn compose_serves_the_write_up_contract_on_the_published_port() {
    let _serial = serial();
    let port = e2e::free_port();
    let _stack = start(port);
    let base = format!("http://127.0.0.1:{port}");

    let first = http::get(&format!("{base}/"));
    assert_eq!(first.status, 200);
    let first = first.json();
    for field in [
        "message",
        "timestamp",
        "request_number",
        "container_name",
        "status",
        "port",
    ] {
        assert!(first.get(field).is_some(), "missing {field}: {first}");
    }
    assert_eq!(first["port"], 8080);
    // The container's hostname is its short id, which `docker inspect` knows.
    assert_eq!(
        first["container_name"].as_str().unwrap(),
        inspect(SERVER, "{{.Config.Hostname}}")
    );
    let second = http::get(&format!("{base}/")).json();
    assert!(
        second["request_number"].as_u64() > first["request_number"].as_u64(),
        "{first} then {second}"
    );

    let stats = http::get(&format!("{base}/stats")).json();
    assert!(stats["total_requests"].as_u64().unwrap() >= 2, "{stats}");
    assert!(stats["start_time"].is_string() && stats["uptime_seconds"].is_number());

    let health = http::get(&format!("{base}/health"));
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["status"], "healthy");

    let missing = http::get(&format!("{base}/nada"));
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["error"], "not_found");

    assert_eq!(health_of(SERVER).as_deref(), Some("healthy"));
    let log = docker(&["logs", SERVER]).ok();
    assert!(
        log.stdout.contains("Requisição #1 recebida"),
        "{}",
        log.stdout
    );
}

#[test]
fn the_client_polls_by_name_and_survives_the_server_going_away() {
    let _serial = serial();
    let _stack = start(e2e::free_port());

    // The client's story, as `docker logs -f desafio1-http-client` shows it.
    let client_log = || docker(&["logs", CLIENT]).ok().stdout;
    wait_until(
        "two successful polls in the client's log",
        Duration::from_secs(30),
        || {
            let log = client_log();
            (log.matches("✅ Requisição bem-sucedida!").count() >= 2
                && log.contains("\nRequest Number: "))
            .then_some(())
        },
    );

    // Both names of the write-ups resolve on the custom network.
    for name in ["server", "flask-server"] {
        let url = format!("http://{name}:8080/health");
        let probe = docker(&[
            "run",
            "--rm",
            "--network",
            "desafio1-network",
            "d1-client",
            "--once",
            &url,
        ]);
        let probe = probe.ok();
        assert!(probe.stdout.contains("healthy"), "{name}: {}", probe.stdout);
    }

    docker(&["stop", SERVER]).ok();
    // SIGTERM was handled: a clean exit 0, not the SIGKILL (137) that
    // follows ten seconds of an ignored signal.
    assert_eq!(inspect(SERVER, "{{.State.ExitCode}}"), "0");
    wait_until(
        "the client to report the server gone",
        Duration::from_secs(30),
        || {
            let log = client_log();
            log.contains("❌ Não foi possível conectar ao servidor. Tentando novamente...")
                .then_some(())
        },
    );
    let successes_before = client_log().matches("✅").count();
    docker(&["start", SERVER]).ok();
    wait_until(
        "the client to reach the server again",
        Duration::from_secs(40),
        || (client_log().matches("✅").count() > successes_before).then_some(()),
    );
    assert_eq!(
        inspect(CLIENT, "{{.State.Running}}"),
        "true",
        "the client kept going"
    );
}

#[test]
fn our_containers_are_hardened() {
    let _serial = serial();
    let _stack = start(e2e::free_port());
    for container in [SERVER, CLIENT] {
        assert_eq!(
            inspect(container, "{{.Config.User}}"),
            "65532:65532",
            "{container}"
        );
        assert_eq!(
            inspect(container, "{{.HostConfig.ReadonlyRootfs}}"),
            "true",
            "{container}"
        );
        assert_eq!(
            inspect(container, "{{.HostConfig.CapDrop}}"),
            "[ALL]",
            "{container}"
        );
        assert!(
            inspect(container, "{{.HostConfig.SecurityOpt}}").contains("no-new-privileges"),
            "{container}"
        );
    }
    // Published on loopback only.
    let bindings = inspect(SERVER, "{{json .HostConfig.PortBindings}}");
    assert!(bindings.contains("\"HostIp\":\"127.0.0.1\""), "{bindings}");
}

#[test]
fn the_manual_docker_run_path_of_write_up_001_works() {
    let _serial = serial();
    let _cleanup = Cleanup::new()
        .container("client")
        .container("server")
        .network("desafio1-net")
        .sweep();
    let dir = e2e::repo_root().join("desafio1");
    let sh = |args: &[&str]| run_in(&dir, "docker", args, &[]).ok();

    sh(&["network", "create", "desafio1-net"]);
    sh(&["build", "-t", "d1-server", "-f", "Dockerfile.server", ".."]);
    sh(&["build", "-t", "d1-client", "-f", "Dockerfile.client", ".."]);
    sh(&[
        "run",
        "-d",
        "--network",
        "desafio1-net",
        "--name",
        "server",
        "d1-server",
    ]);
    sh(&[
        "run",
        "-d",
        "--network",
        "desafio1-net",
        "--name",
        "client",
        "d1-client",
    ]);

    let log = wait_until(
        "`docker logs client` to show an answer",
        Duration::from_secs(30),
        || {
            let log = sh(&["logs", "client"]).stdout;
            log.contains("✅ Requisição bem-sucedida!").then_some(log)
        },
    );
    assert!(log.contains("http://server:8080/"), "{log}");
    wait_until(
        "the image's own healthcheck to pass",
        Duration::from_secs(40),
        || (health_of("server").as_deref() == Some("healthy")).then_some(()),
    );
}

#[test]
fn logs_switch_to_json_and_a_bad_setting_is_named() {
    let _serial = serial();
    let name = "desafio1-test-json-logs";
    let _cleanup = Cleanup::new().container(name).sweep();
    let dir = e2e::repo_root().join("desafio1");
    run_in(
        &dir,
        "docker",
        &["build", "-t", "d1-server", "-f", "Dockerfile.server", ".."],
        &[],
    )
    .ok();

    docker(&[
        "run",
        "-d",
        "--name",
        name,
        "-e",
        "LOG_FORMAT=json",
        "d1-server",
    ])
    .ok();
    let line = wait_until("the start-up log line", Duration::from_secs(20), || {
        let out = docker(&["logs", name]).stdout;
        out.lines()
            .find(|l| l.contains("ouvindo em"))
            .map(str::to_owned)
    });
    let event: serde_json::Value =
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
    assert_eq!(event["level"], "INFO", "{event}");
    assert!(
        event["message"].as_str().unwrap().contains("0.0.0.0:8080"),
        "{event}"
    );

    let bad = docker(&["run", "--rm", "-e", "PORT=eighty", "d1-server"]);
    assert_eq!(bad.code(), Some(1), "{bad:?}");
    let said = bad.stdout + &bad.stderr;
    assert!(said.contains("PORT") && said.contains("eighty"), "{said}");
}
