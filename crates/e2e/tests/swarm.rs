//! Desafio 5 and Desafio 3 as Docker Swarm stacks (`desafioN/stack.yaml`) on
//! a one-node swarm: images built and tagged, `docker stack deploy`, the
//! contract through the published port, a task killed and replaced, a
//! rolling update under load (both), and the database killed and recovering
//! (Desafio 3).
//!
//! Each test joins the swarm this engine is in, or creates one and leaves it
//! afterwards; the stacks, their volumes and a swarm created here are
//! removed even when the test fails ([`Swarm`]'s drop).

#![allow(clippy::unwrap_used, clippy::print_stderr)] // a failed unwrap is a failed test

use std::{
    collections::BTreeSet,
    sync::{
        atomic::{AtomicBool, AtomicU32, Ordering},
        Arc,
    },
    thread,
    time::{Duration, Instant},
};

use e2e::{docker, free_port, http, repo_root, run_in, serial, wait_until, Run};

/// The swarm the tests deploy to, and what to remove when done.
struct Swarm {
    /// `docker swarm init` ran here: leave the swarm at the end.
    created: bool,
    stacks: Vec<&'static str>,
    volumes: Vec<String>,
}

impl Swarm {
    /// Joins the swarm this engine is a manager of, or creates a one-node
    /// swarm (`--advertise-addr 127.0.0.1`: no network interface to choose).
    fn join_or_init() -> Self {
        let state = docker(&[
            "info",
            "--format",
            "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}",
        ])
        .ok()
        .stdout;
        let created = match state.trim() {
            "active true" => false,
            "inactive false" => {
                docker(&["swarm", "init", "--advertise-addr", "127.0.0.1"]).ok();
                true
            }
            other => panic!("this engine is in a swarm it cannot deploy to: {other}"),
        };
        Self {
            created,
            stacks: Vec::new(),
            volumes: Vec::new(),
        }
    }

    /// Removes `stack` (and `volumes`) at the end, and now, in case an
    /// interrupted run left it behind.
    fn stack(&mut self, stack: &'static str, volumes: &[&str]) {
        self.stacks.push(stack);
        self.volumes.extend(volumes.iter().map(|v| (*v).to_owned()));
        remove_stack(stack);
        for volume in volumes {
            docker(&["volume", "rm", "-f", volume]);
        }
    }
}

/// `docker stack rm`, then waits for its containers and networks to go: the
/// removal is asynchronous, and the next test needs the ports and names.
fn remove_stack(stack: &str) {
    let label = format!("label=com.docker.stack.namespace={stack}");
    docker(&["stack", "rm", stack]);
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        let containers = docker(&["ps", "-aq", "--filter", &label]).stdout;
        let networks = docker(&["network", "ls", "-q", "--filter", &label]).stdout;
        if containers.trim().is_empty() && networks.trim().is_empty() {
            return;
        }
        thread::sleep(Duration::from_millis(500));
    }
    eprintln!("stack {stack}: containers or networks still there after 60 s");
}

impl Drop for Swarm {
    fn drop(&mut self) {
        for stack in &self.stacks {
            remove_stack(stack);
        }
        for volume in &self.volumes {
            docker(&["volume", "rm", "-f", volume]);
        }
        if self.created {
            let run = docker(&["swarm", "leave", "--force"]);
            if !run.success() {
                eprintln!("`docker swarm leave --force` failed: {}", run.stderr);
            }
        }
    }
}

/// `docker args` run in `desafioN/` with `env`, its output echoed (the
/// README shows these outputs).
fn docker_in(challenge: &str, args: &[&str], env: &[(&str, String)]) -> Run {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    let run = run_in(&repo_root().join(challenge), "docker", args, &env);
    eprintln!("$ {}\n{}{}", run.command, run.stdout, run.stderr);
    run
}

fn deploy(stack: &str, env: &[(&str, String)]) {
    docker_in(
        stack,
        &[
            "stack",
            "deploy",
            "--resolve-image",
            "never",
            "-c",
            "stack.yaml",
            stack,
        ],
        env,
    )
    .ok();
}

/// Every service of `stack` runs all its replicas (a task with a
/// healthcheck counts once healthy), or `None`.
fn all_running(stack: &str) -> Option<()> {
    let replicas = docker(&["stack", "services", "--format", "{{.Replicas}}", stack]).stdout;
    let mut lines = replicas.lines().peekable();
    lines.peek()?;
    lines
        .all(|l| l.split_once('/').is_some_and(|(a, b)| a == b.trim()))
        .then_some(())
}

/// The ids of the running containers of one service of a stack.
fn task_containers(service: &str) -> Vec<String> {
    let label = format!("label=com.docker.swarm.service.name={service}");
    docker(&["ps", "-q", "--filter", &label])
        .ok()
        .stdout
        .lines()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect()
}

/// `docker service inspect --format FORMAT service`, trimmed.
fn service_field(service: &str, format: &str) -> String {
    docker(&["service", "inspect", "--format", format, service])
        .ok()
        .stdout
        .trim()
        .to_owned()
}

fn url(port: u16, path: &str) -> String {
    format!("http://127.0.0.1:{port}{path}")
}

/// The replica addresses the gateway's `/health` lists for `upstream`.
fn gateway_replicas(port: u16, upstream: &str) -> Option<BTreeSet<String>> {
    let health = http::try_get(&url(port, "/health"))?;
    let replicas = health.json()["upstreams"][upstream]["replicas"].clone();
    Some(
        replicas
            .as_array()?
            .iter()
            .filter_map(|r| r["addr"].as_str().map(str::to_owned))
            .collect(),
    )
}

/// Bounded GET traffic on several threads until `stop` is set, at most
/// `limit` long and `max_per_thread` requests per thread; every answer that
/// is not a 200 is a failure.
struct Load {
    stop: Arc<AtomicBool>,
    /// Requests answered or failed so far, all threads together.
    sent: Arc<AtomicU32>,
    threads: Vec<thread::JoinHandle<(u32, Vec<String>)>>,
}

impl Load {
    fn start(port: u16, paths: &'static [&'static str], limit: Duration) -> Self {
        const THREADS: usize = 3;
        const MAX_PER_THREAD: u32 = 20_000;
        let stop = Arc::new(AtomicBool::new(false));
        let total = Arc::new(AtomicU32::new(0));
        let threads = (0..THREADS)
            .map(|t| {
                let stop = Arc::clone(&stop);
                let total = Arc::clone(&total);
                thread::spawn(move || {
                    let started = Instant::now();
                    let (mut sent, mut failures) = (0u32, Vec::new());
                    while !stop.load(Ordering::Relaxed)
                        && started.elapsed() < limit
                        && sent < MAX_PER_THREAD
                    {
                        let path = paths[(sent as usize + t) % paths.len()];
                        match http::try_get(&url(port, path)) {
                            Some(answer) if answer.status == 200 => {}
                            Some(answer) => {
                                failures.push(format!("{path}: {} {}", answer.status, answer.body));
                            }
                            None => failures.push(format!("{path}: no answer")),
                        }
                        sent += 1;
                        total.fetch_add(1, Ordering::Relaxed);
                    }
                    (sent, failures)
                })
            })
            .collect();
        Self {
            stop,
            sent: total,
            threads,
        }
    }

    /// Waits until `more` requests beyond those sent so far have gone out.
    fn wait_for(&self, more: u32) {
        let target = self.sent.load(Ordering::Relaxed) + more;
        wait_until("the load to flow", Duration::from_secs(20), || {
            (self.sent.load(Ordering::Relaxed) >= target).then_some(())
        });
    }

    /// Stops the load; (requests sent, failures).
    fn finish(self) -> (u32, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        let (mut sent, mut failures) = (0, Vec::new());
        for thread in self.threads {
            let (s, f) = thread.join().unwrap();
            sent += s;
            failures.extend(f);
        }
        (sent, failures)
    }
}

#[test]
fn desafio5_stack_spreads_survives_a_killed_task_and_rolls_an_update_without_errors() {
    let _guard = serial();
    let started = Instant::now();
    let mut swarm = Swarm::join_or_init();
    swarm.stack("desafio5", &[]);
    let port = free_port();
    let v1 = [
        ("D5_TAG", "1".to_owned()),
        ("D5_GATEWAY_TAG", "1".to_owned()),
        ("D5_GATEWAY_PORT", port.to_string()),
    ];

    // A stack does not build: build and tag first.
    docker_in("desafio5", &["compose", "-f", "stack.yaml", "build"], &v1).ok();
    deploy("desafio5", &v1);
    wait_until(
        "the gateway to see 3 replicas of each service",
        Duration::from_secs(120),
        || {
            all_running("desafio5")?;
            let users = gateway_replicas(port, "users_service")?;
            let orders = gateway_replicas(port, "orders_service")?;
            (users.len() == 3 && orders.len() == 3).then_some(())
        },
    );
    docker_in("desafio5", &["stack", "services", "desafio5"], &[]).ok();

    // The contract through the published gateway.
    let users = http::get(&url(port, "/users"));
    assert_eq!(users.status, 200, "{}", users.body);
    assert!(!users.json().as_array().unwrap().is_empty());
    assert_eq!(http::get(&url(port, "/users/1")).json()["id"], 1);
    let filtered = http::get(&url(port, "/orders?user_id=1")).json();
    let filtered = filtered.as_array().unwrap();
    assert!(!filtered.is_empty());
    assert!(filtered.iter().all(|o| o["user_id"] == 1), "{filtered:?}");
    assert_eq!(http::get(&url(port, "/users/999")).status, 404);
    assert_eq!(http::get(&url(port, "/admin")).status, 404);

    // Round robin over the three tasks.
    let served_by: BTreeSet<String> = (0..12)
        .map(|_| {
            let answer = http::get(&url(port, "/users"));
            assert_eq!(answer.status, 200, "{}", answer.body);
            answer.headers["x-served-by"].to_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(served_by.len(), 3, "{served_by:?}");

    // A task killed under load: no request fails, the gateway drops its
    // address, and Swarm starts a replacement the gateway then finds.
    let victim = task_containers("desafio5_users_service")
        .into_iter()
        .next()
        .unwrap();
    let victim_ip = e2e::inspect(
        &victim,
        "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
    );
    let before = gateway_replicas(port, "users_service").unwrap();
    assert!(
        before.contains(&format!("{victim_ip}:5003")),
        "{victim_ip} not in {before:?}"
    );
    let load = Load::start(port, &["/users"], Duration::from_secs(20));
    load.wait_for(20); // the kill lands mid-stream
    docker(&["kill", &victim]).ok();
    let after = wait_until(
        "the gateway to replace the killed task's address",
        Duration::from_secs(30),
        || {
            let now = gateway_replicas(port, "users_service")?;
            (now.len() == 3 && now != before).then_some(now)
        },
    );
    let (sent, failures) = load.finish();
    eprintln!(
        "task killed: {sent} GETs, {} failed; replicas {before:?} -> {after:?}",
        failures.len()
    );
    assert!(
        !after.contains(&format!("{victim_ip}:5003")),
        "{victim_ip} still listed: {after:?}"
    );
    assert!(
        failures.is_empty(),
        "{} of {sent} failed: {failures:?}",
        failures.len()
    );

    // Rolling update of both services to a new tag under a steady load.
    let v2 = [
        ("D5_TAG", "2".to_owned()),
        ("D5_GATEWAY_TAG", "1".to_owned()),
        ("D5_GATEWAY_PORT", port.to_string()),
    ];
    docker_in(
        "desafio5",
        &[
            "compose",
            "-f",
            "stack.yaml",
            "build",
            "users_service",
            "orders_service",
        ],
        &v2,
    )
    .ok();
    let load = Load::start(port, &["/users", "/orders"], Duration::from_secs(60));
    let update_started = Instant::now();
    deploy("desafio5", &v2);
    let services = ["desafio5_users_service", "desafio5_orders_service"];
    let outcome = wait_until(
        "both rolling updates to end",
        Duration::from_secs(90),
        || {
            let states: Vec<String> = services
                .iter()
                .map(|s| service_field(s, "{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}"))
                .collect();
            states
                .iter()
                .all(|s| !s.is_empty() && s != "updating" && s != "rollback_started")
                .then_some(states)
        },
    );
    let update_took = update_started.elapsed();
    // More traffic once the last old task is gone.
    load.wait_for(200);
    let (sent, failures) = load.finish();
    eprintln!(
        "rolling update: {outcome:?} in {update_took:?}; {sent} GETs through the gateway, {} failed",
        failures.len()
    );
    assert_eq!(outcome, ["completed", "completed"]);
    for service in services {
        let image = service_field(service, "{{.Spec.TaskTemplate.ContainerSpec.Image}}");
        assert!(image.ends_with(":2"), "{service} runs {image}");
    }
    docker_in(
        "desafio5",
        &["service", "ps", "desafio5_users_service"],
        &[],
    )
    .ok();
    assert!(
        failures.is_empty(),
        "{} of {sent} failed: {failures:?}",
        failures.len()
    );
    assert_eq!(gateway_replicas(port, "users_service").unwrap().len(), 3);
    eprintln!("desafio5 stack test: {:?}", started.elapsed());
}

#[test]
fn desafio3_stack_serves_through_the_edge_recovers_its_database_and_rolls_web_without_errors() {
    let _guard = serial();
    let started = Instant::now();
    let mut swarm = Swarm::join_or_init();
    swarm.stack(
        "desafio3",
        &["desafio3_dados_postgres", "desafio3_dados_redis"],
    );
    let port = free_port();
    let page_port = free_port();
    let env = |web_tag: &str| {
        [
            ("D3_TAG", web_tag.to_owned()),
            ("D3_CLIENT_TAG", "1".to_owned()),
            ("D3_PAGE_TAG", "1".to_owned()),
            ("D3_WEB_PORT", port.to_string()),
            ("D3_PAGE_PORT", page_port.to_string()),
        ]
    };
    let env_v1 = env("1");

    docker_in(
        "desafio3",
        &["compose", "-f", "stack.yaml", "build"],
        &env_v1,
    )
    .ok();
    deploy("desafio3", &env_v1);
    wait_until(
        "web, through the edge, to reach PostgreSQL and Redis",
        Duration::from_secs(180),
        || {
            all_running("desafio3")?;
            let status = http::try_get(&url(port, "/status"))?;
            (status.status == 200 && status.json()["status"] == "ok").then_some(())
        },
    );
    // Each web replica applies (or finds) the schema on its own, retrying
    // with backoff: until then it answers 503. Four 200s in a row through
    // the edge's round robin: both are ready.
    let mut in_a_row = 0;
    wait_until(
        "both web replicas to have the schema",
        Duration::from_secs(60),
        || {
            let ok = http::try_get(&url(port, "/todos")).is_some_and(|a| a.status == 200);
            in_a_row = if ok { in_a_row + 1 } else { 0 };
            (in_a_row >= 4).then_some(())
        },
    );
    docker_in("desafio3", &["stack", "ps", "desafio3"], &[]).ok();

    // The client and the page run beside web (all_running counted them), with
    // no depends_on: the page passes its API calls on to web by name, and the
    // client has begun its rounds.
    let page = http::get(&url(page_port, "/health"));
    assert_eq!(page.status, 200, "{}", page.body);
    let through_page = http::get(&url(page_port, "/api/posts"));
    assert_eq!(through_page.status, 200, "{}", through_page.body);
    // compose.yaml's aliases resolve on the overlay networks too: `api`
    // (web) and `frontend` (the page), asked from inside a web task.
    let web = task_containers("desafio3_web");
    for alias in ["http://api:5000/health", "http://frontend:8501/health"] {
        docker(&[
            "exec",
            &web[0],
            "/fetch",
            "--quiet",
            "--timeout",
            "2s",
            alias,
        ])
        .ok();
    }
    wait_until(
        "the client's first round in its log",
        Duration::from_secs(20),
        || {
            let logs = docker(&["service", "logs", "--raw", "desafio3_client"]).stdout;
            logs.contains("Rodada #1").then_some(())
        },
    );

    // The password is a Swarm secret: a file in the tasks, not in their spec.
    let password =
        std::fs::read_to_string(repo_root().join("desafio3/secrets/db_password.txt")).unwrap();
    for service in ["desafio3_web", "desafio3_db"] {
        let spec = docker(&["service", "inspect", service]).ok().stdout;
        assert!(
            !spec.contains(password.trim()),
            "{service} spec shows the password"
        );
        assert!(
            spec.contains("desafio3_db_password"),
            "{service}: no secret"
        );
    }

    // The contract through the published port.
    let visit = http::get(&url(port, "/"));
    assert_eq!(visit.status, 200);
    assert!(
        visit.body.starts_with("Banco PostgreSQL tem "),
        "{}",
        visit.body
    );
    assert_eq!(http::get(&url(port, "/todos")).json()["total"], 3);
    assert_eq!(
        http::get(&url(port, "/aluno/2")).json()["nome"],
        "Bruno Lima"
    );
    let created = http::send(
        "POST",
        &url(port, "/api/posts"),
        Some(r#"{"titulo": "antes da falha", "conteudo": "swarm"}"#),
    )
    .unwrap();
    assert_eq!(created.status, 201, "{}", created.body);
    let bad = http::send(
        "POST",
        &url(port, "/api/posts"),
        Some(r#"{"conteudo": "x"}"#),
    )
    .unwrap();
    assert_eq!(bad.status, 422, "{}", bad.body);

    // Both web replicas answer: the edge logs which one served each request.
    for _ in 0..10 {
        assert_eq!(http::get(&url(port, "/api/posts")).status, 200);
    }
    let replicas = wait_until(
        "the edge's log to show both web replicas",
        Duration::from_secs(10),
        || {
            let logs = docker(&["service", "logs", "--raw", "desafio3_edge"]).stdout;
            let served: BTreeSet<String> = logs
                .lines()
                .filter(|l| l.contains("/api/posts") && l.contains(" 200 -> "))
                .filter_map(|l| l.split(" -> ").nth(1))
                .filter_map(|rest| rest.split_whitespace().next())
                .map(str::to_owned)
                .collect();
            (served.len() == 2).then_some(served)
        },
    );
    eprintln!("web replicas seen by the edge: {replicas:?}");

    // The database task killed: web answers 503, Swarm starts another task
    // on the same volume, and web reconnects by itself.
    let db = task_containers("desafio3_db");
    assert_eq!(db.len(), 1, "{db:?}");
    docker(&["kill", &db[0]]).ok();
    let killed = Instant::now();
    wait_until(
        "web to answer 503 without its database",
        Duration::from_secs(10),
        || (http::get(&url(port, "/api/posts")).status == 503).then_some(()),
    );
    let posts = wait_until(
        "web to reach the replacement database",
        Duration::from_secs(90),
        || {
            let answer = http::get(&url(port, "/api/posts"));
            (answer.status == 200).then(|| answer.json())
        },
    );
    eprintln!(
        "database killed: web answered 200 again after {:?}",
        killed.elapsed()
    );
    assert!(
        posts["posts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["titulo"] == "antes da falha"),
        "the volume kept the data: {posts}"
    );
    let replacement = task_containers("desafio3_db");
    assert_eq!(replacement.len(), 1);
    assert_ne!(replacement[0], db[0], "a new task, not the old container");
    assert_eq!(http::get(&url(port, "/status")).json()["status"], "ok");

    // Rolling update of web to a new tag under a steady load through the
    // edge: start-first, one task at a time, each healthy before the old
    // one stops.
    // A new tag on the same image: `D3_TAG=2 docker compose -f stack.yaml
    // build web` (the README's command) gives this image again from the
    // cache; tagging it skips a rebuild when the sources changed meanwhile.
    docker(&["tag", "d3-web:1", "d3-web:2"]).ok();
    let env_v2 = env("2");
    let load = Load::start(port, &["/api/posts", "/health"], Duration::from_secs(60));
    load.wait_for(20);
    let update_started = Instant::now();
    deploy("desafio3", &env_v2);
    let outcome = wait_until(
        "web's rolling update to end",
        Duration::from_secs(60),
        || {
            let state = service_field(
                "desafio3_web",
                "{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}",
            );
            (!state.is_empty() && state != "updating" && state != "rollback_started")
                .then_some(state)
        },
    );
    let update_took = update_started.elapsed();
    // More traffic once the last old task is gone.
    load.wait_for(200);
    let (sent, failures) = load.finish();
    eprintln!(
        "web rolling update: {outcome} in {update_took:?}; {sent} GETs through the edge, {} failed",
        failures.len()
    );
    docker_in("desafio3", &["service", "ps", "desafio3_web"], &[]).ok();
    // A request the edge passed to a second replica (a stopping task
    // refused it) names both in its log line: `-> a:5000, b:5000`.
    let logs = docker(&["service", "logs", "--raw", "desafio3_edge"]).stdout;
    let retried = logs
        .lines()
        .filter(|l| l.split(" -> ").nth(1).is_some_and(|u| u.contains(", ")))
        .count();
    eprintln!("requests the edge retried on another replica: {retried}");
    assert_eq!(outcome, "completed");
    let image = service_field("desafio3_web", "{{.Spec.TaskTemplate.ContainerSpec.Image}}");
    assert!(image.ends_with(":2"), "desafio3_web runs {image}");
    assert!(
        failures.is_empty(),
        "{} of {sent} failed: {failures:?}",
        failures.len()
    );
    // The client and page were left alone and still run.
    for service in ["desafio3_client", "desafio3_page"] {
        let image = service_field(service, "{{.Spec.TaskTemplate.ContainerSpec.Image}}");
        assert!(image.ends_with(":1"), "{service} runs {image}");
        assert_eq!(task_containers(service).len(), 1, "{service}");
    }
    assert_eq!(http::get(&url(page_port, "/health")).status, 200);
    eprintln!("desafio3 stack test: {:?}", started.elapsed());
}
