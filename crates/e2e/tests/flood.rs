//! Every published port of every challenge flooded as a hostile neighbour on
//! the same machine would: a thousand connections at once, each sending a
//! 1 MiB body but its last byte, pausing, then the last byte. No container
//! may be killed for memory or restart, and its `/health` must keep
//! answering 2xx within a second throughout. Only 127.0.0.1, bounded in
//! count and time. The figures are printed (`-- --nocapture`).

use std::{
    collections::BTreeMap,
    io::{Read, Write},
    net::{SocketAddr, TcpStream},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    thread,
    time::{Duration, Instant},
};

use e2e::{free_port, inspect, load::table, serial, Stack};

const CONNECTIONS: usize = 1000;
const BODY: usize = 1024 * 1024;
/// How long each flooding client holds its connection before the last byte.
const PAUSE: Duration = Duration::from_secs(6);
/// Between the starts of two flooding clients.
const STAGGER: Duration = Duration::from_millis(2);
/// The longest a `/health` probe may take during the flood.
const PROBE_BOUND: Duration = Duration::from_secs(1);

/// One published port and the container behind it.
struct Target {
    container: &'static str,
    port: u16,
    /// Where the bodies are sent: a JSON endpoint where there is one.
    path: &'static str,
}

struct Figures {
    container: &'static str,
    answers: BTreeMap<String, usize>,
    probes: usize,
    failed_probes: usize,
    worst_probe: Duration,
    peak_mib: Option<f64>,
    limit_mib: f64,
    oom_killed: bool,
    restarts: String,
}

/// One flooding client: what came back (a status code, or how it ended).
fn flooder(addr: SocketAddr, path: &str) -> String {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(5)) else {
        return "no connection".into();
    };
    let _ = stream.set_write_timeout(Some(Duration::from_secs(15)));
    let _ = stream.set_read_timeout(Some(Duration::from_secs(15)));
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: flood\r\ncontent-type: application/json\r\n\
         content-length: {BODY}\r\n\r\n"
    );
    let chunk = [b' '; 64 * 1024];
    let mut sent = 0;
    let mut whole = stream.write_all(head.as_bytes()).is_ok();
    while whole && sent < BODY - 1 {
        let n = chunk.len().min(BODY - 1 - sent);
        whole = stream.write_all(&chunk[..n]).is_ok();
        sent += n;
    }
    if whole {
        thread::sleep(PAUSE);
        let _ = stream.write_all(b" ");
    }
    let mut answer = [0u8; 64];
    match stream.read(&mut answer) {
        Ok(n) if n >= 12 && answer.starts_with(b"HTTP/1.1 ") => {
            String::from_utf8_lossy(&answer[9..12]).into_owned()
        }
        Ok(_) | Err(_) => "closed".into(),
    }
}

/// `GET /health` on a fresh connection: whether it was a 2xx, and how long
/// it took.
fn probe(addr: SocketAddr) -> (bool, Duration) {
    let started = Instant::now();
    let ok = (|| {
        let mut stream = TcpStream::connect_timeout(&addr, PROBE_BOUND).ok()?;
        stream.set_read_timeout(Some(PROBE_BOUND)).ok()?;
        stream
            .write_all(b"GET /health HTTP/1.1\r\nhost: probe\r\nconnection: close\r\n\r\n")
            .ok()?;
        let mut answer = [0u8; 12];
        stream.read_exact(&mut answer).ok()?;
        Some(answer.starts_with(b"HTTP/1.1 2"))
    })()
    .unwrap_or(false);
    (ok, started.elapsed())
}

/// The container's peak memory in MiB, from its cgroup (v1 or v2).
fn peak_mib(container: &str) -> Option<f64> {
    let id = inspect(container, "{{.Id}}");
    [
        format!("/sys/fs/cgroup/memory/docker/{id}/memory.max_usage_in_bytes"),
        format!("/sys/fs/cgroup/system.slice/docker-{id}.scope/memory.peak"),
        format!("/sys/fs/cgroup/docker/{id}/memory.peak"),
    ]
    .iter()
    .find_map(|path| std::fs::read_to_string(path).ok())
    .and_then(|text| text.trim().parse::<f64>().ok())
    .map(|bytes| bytes / 1048576.0)
}

fn flood(target: &Target) -> Figures {
    let addr = SocketAddr::from(([127, 0, 0, 1], target.port));
    let flooding = Arc::new(AtomicBool::new(true));
    let prober = {
        let flooding = Arc::clone(&flooding);
        thread::spawn(move || {
            let mut results = Vec::new();
            while flooding.load(Ordering::Relaxed) {
                results.push(probe(addr));
                thread::sleep(Duration::from_millis(200));
            }
            results
        })
    };
    let path = target.path;
    // Started over about two seconds, so that the bodies' first bytes do
    // not all compete for this machine's two cores at once; each client
    // then holds its connection for longer than that, so all of them are
    // open together.
    let clients: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            thread::sleep(STAGGER);
            thread::Builder::new()
                .stack_size(128 * 1024)
                .spawn(move || flooder(addr, path))
                .expect("a flooding thread")
        })
        .collect();
    let mut answers = BTreeMap::new();
    for client in clients {
        let answer = client.join().unwrap_or_else(|_| "panicked".into());
        *answers.entry(answer).or_insert(0) += 1;
    }
    flooding.store(false, Ordering::Relaxed);
    let probes = prober.join().expect("the prober");
    Figures {
        container: target.container,
        answers,
        probes: probes.len(),
        failed_probes: probes.iter().filter(|(ok, _)| !ok).count(),
        worst_probe: probes.iter().map(|(_, t)| *t).max().unwrap_or_default(),
        peak_mib: peak_mib(target.container),
        limit_mib: inspect(target.container, "{{.HostConfig.Memory}}")
            .parse::<f64>()
            .unwrap_or(0.0)
            / 1048576.0,
        oom_killed: inspect(target.container, "{{.State.OOMKilled}}") == "true",
        restarts: inspect(target.container, "{{.RestartCount}}"),
    }
}

fn check(stack: &Stack, targets: &[Target]) {
    let figures: Vec<Figures> = targets.iter().map(flood).collect();
    let rows: Vec<Vec<String>> = figures
        .iter()
        .map(|f| {
            vec![
                f.container.to_owned(),
                format!("{:?}", f.answers),
                format!("{}/{}", f.probes - f.failed_probes, f.probes),
                format!("{:.0} ms", f.worst_probe.as_secs_f64() * 1000.0),
                f.peak_mib.map_or("n/a".into(), |p| format!("{p:.1}")),
                format!("{:.0}", f.limit_mib),
                f.oom_killed.to_string(),
                f.restarts.clone(),
            ]
        })
        .collect();
    println!(
        "{CONNECTIONS} connections x 1 MiB bodies, {PAUSE:?} pause\n{}",
        table(
            &[
                "container",
                "answers",
                "health 2xx",
                "worst probe",
                "peak MiB",
                "limit MiB",
                "OOM killed",
                "restarts",
            ],
            &rows
        )
    );
    for f in &figures {
        assert!(!f.oom_killed, "{} was killed for memory", f.container);
        assert_eq!(f.restarts, "0", "{} restarted", f.container);
        assert!(f.probes > 0, "{}: no probe ran", f.container);
        assert_eq!(f.failed_probes, 0, "{}: /health failed", f.container);
        assert!(
            f.worst_probe < PROBE_BOUND,
            "{}: /health took {:?}",
            f.container,
            f.worst_probe
        );
        if let Some(peak) = f.peak_mib {
            assert!(peak < f.limit_mib, "{}: peak {peak:.1} MiB", f.container);
        }
        // Refused (413, 405, 404) or shed (503), never an error of its own.
        for answer in f.answers.keys() {
            assert!(
                matches!(answer.as_str(), "413" | "405" | "404" | "503" | "closed"),
                "{}: {answer} in {:?}",
                f.container,
                f.answers
            );
        }
    }
    let running = stack.compose(&["ps", "--status", "running", "-q"]).ok();
    assert!(!running.stdout.trim().is_empty(), "nothing left running");
}

#[test]
fn desafio1_and_4_hold_a_flood_of_bodies() {
    let _serial = serial();
    let d1 = free_port();
    let stack = Stack::new("desafio1").env("D1_PORT", d1);
    stack.up();
    check(
        &stack,
        &[Target {
            container: "desafio1-flask-server",
            port: d1,
            path: "/",
        }],
    );
    drop(stack);
    let (a, b) = (free_port(), free_port());
    let stack = Stack::new("desafio4")
        .env("D4_A_PORT", a)
        .env("D4_B_PORT", b);
    stack.up();
    check(
        &stack,
        &[
            Target {
                container: "desafio4-service_a",
                port: a,
                path: "/usuarios",
            },
            Target {
                container: "desafio4-service_b",
                port: b,
                path: "/info",
            },
        ],
    );
}

#[test]
fn desafio3_holds_a_flood_of_bodies() {
    let _serial = serial();
    let (web, page) = (free_port(), free_port());
    let stack = Stack::new("desafio3")
        .env("D3_WEB_PORT", web)
        .env("D3_PAGE_PORT", page);
    stack.up();
    check(
        &stack,
        &[
            Target {
                container: "web-flask",
                port: web,
                path: "/users",
            },
            Target {
                container: "page-usuarios",
                port: page,
                path: "/users",
            },
        ],
    );
}

#[test]
fn desafio5_holds_a_flood_of_bodies() {
    let _serial = serial();
    let (stack, gateway, users, orders) = e2e::desafio5_direct();
    stack.up();
    check(
        &stack,
        &[
            Target {
                container: "desafio5-gateway",
                port: gateway,
                path: "/users",
            },
            Target {
                container: "desafio5-users_service-1",
                port: users,
                path: "/users",
            },
            Target {
                container: "desafio5-orders_service-1",
                port: orders,
                path: "/orders",
            },
        ],
    );
}
