//! Reliability under load, through the compose files, from the host:
//!
//! - load held: each challenge under a bounded load ([`e2e::load`]) for
//!   `RELIABILITY_HOLD_SECS` (default 30): no failed request, no restart,
//!   memory flat;
//! - faults: under that load, each dependency or upstream stopped, killed
//!   (SIGKILL) and restarted in turn, with the requests failed, the time to
//!   detect and the time to recover; no write acknowledged and then lost;
//!   Desafio 2's writer killed mid-run without a committed row lost;
//! - graceful shutdown: `docker compose down` under load: requests in
//!   flight when the signal comes get their whole answer, nothing is cut
//!   mid-answer, dependencies stop after their dependents, and every
//!   container exits on its stop signal, with exit code 0.
//!
//! Each test prints its figures as Markdown tables (`--nocapture`). Traffic
//! goes only to the stacks' published 127.0.0.1 ports.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::{
    collections::{BTreeMap, BTreeSet},
    thread,
    time::{Duration, SystemTime},
};

use e2e::{
    docker, free_port, http,
    load::{table, FaultFigures, FaultWindow, Load, Outcome, Plan, Record, Records, Request},
    observe, serial, wait_until, Cleanup, Stack,
};

/// `name` in seconds from the environment, or `default`: shorter runs
/// while developing (`RELIABILITY_HOLD_SECS=5 cargo test ...`).
fn secs_env(name: &str, default: f64) -> Duration {
    let secs = std::env::var(name)
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|s| *s > 0.0)
        .unwrap_or(default);
    Duration::from_secs_f64(secs)
}

/// How long the load is held: the issue's 30 s.
fn hold() -> Duration {
    secs_env("RELIABILITY_HOLD_SECS", 30.0)
}

/// Requests per second of the held load and the fault runs.
fn rate() -> f64 {
    std::env::var("RELIABILITY_RATE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500.0)
}

/// How long a stopped or killed dependency stays away.
fn outage() -> Duration {
    secs_env("RELIABILITY_OUTAGE_SECS", 2.0)
}

/// A recovered service answers without a failure for this long.
const QUIET: Duration = Duration::from_secs(1);

/// Memory samples are taken after this much load (connection pools and
/// allocator arenas grow once, at first), and at the end.
const WARM_UP: Duration = Duration::from_secs(5);

/// "Flat": from the warm sample to the end, a container grows by less than
/// this many MiB, or less than [`FLAT_RATIO`] of its size, whichever is
/// larger. A leak of one small allocation per request (500 per second)
/// would break it within the 30 s.
const FLAT_MIB: f64 = 4.0;
const FLAT_RATIO: f64 = 0.20;

/// Prints how long a test took once it held the lock (stack start-up
/// included), when dropped.
struct Timer(&'static str, std::time::Instant);

impl Timer {
    fn start(name: &'static str) -> Self {
        Self(name, std::time::Instant::now())
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        println!(
            "\n{}: {:.1} s after taking the lock",
            self.0,
            self.1.elapsed().as_secs_f64()
        );
    }
}

fn plan(port: u16, make: impl Fn(u64) -> Request + Send + Sync + 'static) -> Plan {
    let mut plan = Plan::new(port, make);
    plan.rate = Some(rate());
    plan
}

fn ms(d: Duration) -> String {
    format!("{} ms", d.as_millis())
}

fn outcomes(records: &Records) -> String {
    records
        .outcomes()
        .iter()
        .map(|(o, n)| format!("{o}: {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs `plan` for [`hold`] on `project` and checks the three criteria:
/// no failed request, no restart, memory flat. Returns the records.
fn held(project: &str, mut plan: Plan) -> Records {
    let names = observe::containers(project);
    let restarts: BTreeMap<String, u32> = names
        .iter()
        .map(|n| (n.clone(), observe::restart_count(n)))
        .collect();
    let idle = observe::memory_mib(&names);
    plan.duration = hold();
    let load = Load::start(plan);
    // A measurement schedule, not a readiness wait: the sample is taken at
    // a fixed point of the run.
    thread::sleep(WARM_UP.min(hold() / 3).saturating_sub(load.now()));
    let warm = observe::memory_mib(&names);
    let records = load.finish();
    let end = observe::memory_mib(&names);

    let mut rows = Vec::new();
    let mut growing = Vec::new();
    for name in &names {
        let (Some(w), Some(e)) = (warm.get(name), end.get(name)) else {
            panic!("no memory figure for {name}: {warm:?} {end:?}");
        };
        let allowed = FLAT_MIB.max(w * FLAT_RATIO);
        if e - w > allowed {
            growing.push(format!("{name}: {w:.1} -> {e:.1} MiB"));
        }
        let restarted = observe::restart_count(name) - restarts[name];
        rows.push(vec![
            name.clone(),
            format!("{:.1}", idle.get(name).copied().unwrap_or_default()),
            format!("{w:.1}"),
            format!("{e:.1}"),
            format!("{:+.1}", e - w),
            restarted.to_string(),
        ]);
        assert_eq!(restarted, 0, "{name} was restarted under load");
    }
    println!(
        "\n{project}, load held {:?} at {:.0} req/s offered: {} requests, {:.0} req/s, p50 {:?}, p99 {:?}, {} failed ({})\n{}",
        hold(),
        rate(),
        records.len(),
        records.throughput(),
        records.latency_percentile(50.0),
        records.latency_percentile(99.0),
        records.failed(),
        outcomes(&records),
        table(
            &["container", "idle MiB", "after warm-up MiB", "end MiB", "growth MiB", "restarts"],
            &rows
        )
    );
    assert_eq!(records.failed(), 0, "{}", outcomes(&records));
    assert!(growing.is_empty(), "memory not flat: {growing:?}");
    records
}

#[derive(Debug, Clone, Copy)]
enum Fault {
    Stop,
    Kill,
    Restart,
}

impl Fault {
    const ALL: [Self; 3] = [Self::Stop, Self::Kill, Self::Restart];

    fn name(self) -> &'static str {
        match self {
            Self::Stop => "stop",
            Self::Kill => "kill -9",
            Self::Restart => "restart",
        }
    }
}

/// Stops (`docker stop`, SIGTERM), kills (SIGKILL) or restarts `container`
/// under `load`; a stopped or killed one is started again after
/// [`outage`]. Returns once the load has seen [`QUIET`] without a failure.
fn inject(load: &Load, container: &str, fault: Fault) -> FaultWindow {
    let fault_at = load.now();
    match fault {
        Fault::Stop | Fault::Kill => {
            match fault {
                Fault::Stop => docker(&["stop", container]).ok(),
                _ => docker(&["kill", "--signal", "KILL", container]).ok(),
            };
            // The outage itself: the dependency stays away this long.
            thread::sleep(outage().saturating_sub(load.now() - fault_at));
            docker(&["start", container]).ok();
        }
        Fault::Restart => {
            docker(&["restart", container]).ok();
        }
    }
    let back_at = load.now();
    load.wait_quiet(back_at, QUIET, Duration::from_secs(90));
    FaultWindow {
        fault_at,
        back_at,
        until: load.now(),
    }
}

/// Runs every fault on every container in turn under one load; the
/// figures, named "container fault".
fn faults(
    mut plan: Plan,
    targets: &[(&str, &str)],
    between: impl Fn(),
) -> (Vec<FaultFigures>, Records) {
    plan.duration = Duration::from_secs(600);
    let load = Load::start(plan);
    load.wait_quiet(Duration::ZERO, QUIET, Duration::from_secs(30));
    let mut windows = Vec::new();
    for (label, container) in targets {
        for fault in Fault::ALL {
            windows.push((
                format!("{label}: {}", fault.name()),
                inject(&load, container, fault),
            ));
            between();
        }
    }
    let records = load.stop();
    let figures = windows
        .iter()
        .map(|(name, window)| records.fault(name.clone(), window, |r| !r.ok()))
        .collect();
    (figures, records)
}

fn print_faults(title: &str, figures: &[FaultFigures]) {
    let rows: Vec<Vec<String>> = figures.iter().map(FaultFigures::row).collect();
    println!(
        "\n{title}\n{}",
        table(
            &[
                "fault",
                "requests",
                "failed",
                "time to detect",
                "time to recover"
            ],
            &rows
        )
    );
}

/// Every fault was noticed and recovered from, with failures only while
/// the dependency was away (bounded by the window).
fn assert_recovered(figures: &[FaultFigures]) {
    for f in figures {
        if let Some(recover) = f.recover {
            assert!(
                recover < Duration::from_secs(30),
                "{}: recovery took {recover:?}",
                f.name
            );
        }
    }
}

/// `docker compose down` under an unpaced load (every worker always has a
/// request on its way), then:
///
/// - every request in flight when the command began gets its whole answer;
/// - no answer at all is cut (some bytes, then the end of the connection),
///   malformed, late or an error other than a dependency's 503: a request
///   the server had started to read is answered in full;
/// - compose stops a container only once everything that depends on it has
///   exited (web before db and cache, service_b before service_a, the
///   gateway before the services), so no request fails because its
///   dependency went first. A 503 is then a dependency slower than the
///   service's bound for reasons of its own, answered as designed. Seen once
///   on a saturated CI machine: eight writes to PostgreSQL, sent within
///   11 ms of each other while `down` ran, were answered 503 (that `down`
///   took 5.6 s; 1.1 s on an idle machine);
/// - the only failures are requests that got no byte of an answer:
///   `refused` (nothing listens on the port any more) or `closed before an
///   answer` (sent on a kept-alive connection just as the stopping server
///   closed it as idle, or accepted by Docker's port proxy after the
///   container stopped listening): the server never read them, and an HTTP
///   client may send such an idempotent request again (RFC 9110 §9.2.2);
/// - every container exits on its stop signal, code 0, within 3 s of the
///   engine's `kill` event (to its `die` event; see the bound's comment).
///
/// Returns the rows (container, signal, stop time, exit code) and a summary.
fn graceful_down(stack: &Stack, project: &str, mut plan: Plan) -> (Vec<Vec<String>>, String) {
    plan.rate = None;
    plan.duration = Duration::from_secs(60);
    plan.max_requests = 2_000_000;
    let concurrency = plan.concurrency;
    let containers = observe::containers(project);
    let dependencies = observe::dependencies(project);
    // Every stack stopped here has a `depends_on`: the order check below
    // must have something to check.
    assert!(
        dependencies.values().any(|waits_for| !waits_for.is_empty()),
        "{project}: no depends_on found on its containers: {dependencies:?}"
    );
    let load = Load::start(plan);
    wait_until("the load to flow", Duration::from_secs(10), || {
        (load.counts().0 >= 500).then_some(())
    });
    let down_started = SystemTime::now();
    let before = load.now();
    stack.compose(&["down", "--timeout", "10"]).ok();
    let down_took = load.now() - before;
    let records = load.stop();
    let stops = observe::stops(
        project,
        down_started - Duration::from_secs(1),
        SystemTime::now(),
    );
    // Requests already on their way when the command was typed: all must
    // get their whole answer (the signal comes later still).
    let in_flight: Vec<_> = records
        .iter()
        .filter(|r| r.start < before && r.end() > before)
        .collect();
    // A whole answer: a 2xx, or the service's own 503 for a dependency
    // that did not answer in time (the stop order is asserted below).
    let whole = |r: &Record| r.ok() || r.outcome == Outcome::Answered(503);
    let in_flight_failed: Vec<String> = in_flight
        .iter()
        .filter(|r| !whole(r))
        .map(|r| format!("{} at {:?}: {}", r.label, r.start, r.outcome))
        .collect();
    let during = Records(
        records
            .iter()
            .filter(|r| r.start >= before)
            .cloned()
            .collect(),
    );
    let bad: Vec<String> = records
        .iter()
        .filter(|r| !whole(r) && !matches!(r.outcome, Outcome::Refused | Outcome::Unanswered))
        .map(|r| {
            format!(
                "{} at {:?} (took {:?}): {}",
                r.label, r.start, r.latency, r.outcome
            )
        })
        .collect();
    let summary = format!(
        "{project}: `docker compose down` took {} under an unpaced load of {} workers; {} requests in flight when it began, {} answered 2xx; requests sent after it began: {}",
        ms(down_took),
        concurrency,
        in_flight.len(),
        in_flight.iter().filter(|r| r.ok()).count(),
        outcomes(&during),
    );
    let rows: Vec<Vec<String>> = stops
        .iter()
        .map(|s| {
            vec![
                s.container.clone(),
                s.signal.clone(),
                ms(s.took),
                s.exit_code.to_string(),
            ]
        })
        .collect();
    println!(
        "\n{summary}\n{}",
        table(
            &["container", "signal", "signal to exit", "exit code"],
            &rows
        )
    );
    assert!(
        in_flight_failed.is_empty(),
        "in flight when down began, and failed: {in_flight_failed:?}"
    );
    assert!(bad.is_empty(), "cut, late or failed answers: {bad:?}");
    let left = observe::containers(project);
    assert!(left.is_empty(), "down left containers: {left:?}");
    let stopped: Vec<&String> = stops.iter().map(|s| &s.container).collect();
    assert_eq!(
        stopped,
        containers.iter().collect::<Vec<_>>(),
        "a container without a stop event"
    );
    // `took` runs from the engine's kill event to its die event, so it also
    // holds the engine's own work after the exit (the published port's
    // proxy and network torn down while the load still hammers that port).
    // Measured for service_b: at rest, kill -> exit 8 ms and kill -> die
    // 36 ms; under strace the process was gone 34 ms after SIGTERM; yet on a
    // saturated 2-core CI machine kill -> die once took 1.05 s. The bound is
    // there to catch a process that waits out its drain grace (5 s) or the
    // engine's stop timeout (10 s, then SIGKILL, also caught above), not to
    // time the engine.
    let stop_of: BTreeMap<&str, &observe::Stop> =
        stops.iter().map(|s| (s.container.as_str(), s)).collect();
    for (dependent, waits_for) in &dependencies {
        for dependency in waits_for {
            let (first, then) = (stop_of[dependent.as_str()], stop_of[dependency.as_str()]);
            assert!(
                then.signalled_at >= first.died_at,
                "{dependency} was signalled before {dependent}, which depends on it, had exited"
            );
        }
    }
    for s in &stops {
        assert_ne!(s.signal, "9", "{} was killed", s.container);
        assert_eq!(s.exit_code, 0, "{}: {s:?}", s.container);
        assert!(
            s.took < Duration::from_secs(3),
            "{} took {:?} to stop",
            s.container,
            s.took
        );
    }
    (rows, summary)
}

fn url(port: u16, path: &str) -> String {
    format!("http://127.0.0.1:{port}{path}")
}

// ---------------------------------------------------------------- Desafio 1

#[test]
fn desafio1_holds_load_and_stops_gracefully() {
    let _guard = serial();
    let _timer = Timer::start("desafio1_holds_load_and_stops_gracefully");
    let port = free_port();
    let stack = Stack::new("desafio1").env("D1_PORT", port);
    stack.up();
    let make = |_| Request::get("GET /", "/");
    held("desafio1", plan(port, make));
    graceful_down(&stack, "desafio1", plan(port, make));
}

// ---------------------------------------------------------------- Desafio 2

/// Rows put in the file before the writers start. Each run reads every
/// row inside its transaction and prints them all, so a fuller file keeps
/// each run alive long enough to be killed in the middle of it.
const D2_SEED_ROWS: i64 = 20_000;

/// A `data.db` with the writer's schema and [`D2_SEED_ROWS`] rows, owned by
/// the image's user, copied into `volume` through `holder`.
fn d2_seed(volume: &str, holder: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.db");
    let mut db = rusqlite::Connection::open(&path).unwrap();
    let tx = db.transaction().unwrap();
    tx.execute_batch(d2_writer::SCHEMA).unwrap();
    for i in 0..D2_SEED_ROWS {
        tx.execute(
            "INSERT INTO alunos (nome, idade, curso, criado_em) VALUES (?1, 20, 'Semente', '2026-01-01 00:00:00')",
            [format!("Semente {i}")],
        )
        .unwrap();
    }
    tx.commit().unwrap();
    drop(db);
    // `docker cp` makes the copy root's (the scratch image has no user
    // database for `cp -a`), keeping its mode: writable by all, so the
    // writer (user 65532) can write it.
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o666)).unwrap();
    e2e::copy_into_volume(&path, volume, holder, "d2-image", "data.db");
}

/// Four writers insert in a loop (`docker run` of the writer image, again
/// and again) on a file of [`D2_SEED_ROWS`] rows, while a killer sends
/// SIGKILL to whichever writer is running, until a few kills have landed
/// (bounded in runs and time). Then: the writer still opens the file and
/// reads every row, `PRAGMA integrity_check` says ok, and every row a run
/// printed as added is there.
#[test]
fn desafio2_killed_writers_lose_no_committed_row() {
    let _guard = serial();
    let _timer = Timer::start("desafio2_killed_writers_lose_no_committed_row");
    let volume = "desafio2-test-kill";
    const WRITERS: usize = 4;
    const MAX_RUNS: usize = 12;
    const KILLS: usize = 4;
    let names: Vec<String> = (0..WRITERS)
        .flat_map(|w| (0..MAX_RUNS).map(move |r| format!("d2-kill-{w}-{r}")))
        .collect();
    let holder = "d2-kill-holder";
    let cleanup = names
        .iter()
        .fold(Cleanup::new().container(holder).volume(volume), |c, n| {
            c.container(n)
        });
    let _cleanup = cleanup.sweep();
    let dir = e2e::repo_root();
    e2e::run_in(
        &dir,
        "docker",
        &["build", "-t", "d2-image", "-f", "desafio2/Dockerfile", "."],
        &[],
    )
    .ok();
    d2_seed(volume, holder);
    let mount = format!("{volume}:/data");

    struct Run {
        exit_code: Option<i32>,
        added: Option<String>,
    }
    let started = std::time::Instant::now();
    let deadline = Duration::from_secs(90);
    let landed = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let mount = mount.clone();
            let landed = std::sync::Arc::clone(&landed);
            thread::spawn(move || {
                let mut runs = Vec::new();
                for r in 0..MAX_RUNS {
                    if started.elapsed() > deadline
                        || landed.load(std::sync::atomic::Ordering::Relaxed) >= KILLS
                    {
                        break;
                    }
                    let name = format!("d2-kill-{w}-{r}");
                    // Attached, so the output comes straight back; no log
                    // kept by the engine (each run prints every row).
                    let run = docker(&[
                        "run",
                        "--rm",
                        "--log-driver",
                        "none",
                        "--name",
                        &name,
                        "-v",
                        &mount,
                        "d2-image",
                    ]);
                    if run.code() == Some(137) {
                        landed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    let added = run
                        .stdout
                        .lines()
                        .find_map(|l| l.strip_prefix("Aluno adicionado: "))
                        .map(str::to_owned);
                    runs.push(Run {
                        exit_code: run.code(),
                        added,
                    });
                }
                runs
            })
        })
        .collect();
    let killer = {
        let done = std::sync::Arc::clone(&done);
        thread::spawn(move || {
            let mut sent = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) && started.elapsed() < deadline {
                let running = docker(&[
                    "ps",
                    "-q",
                    "--filter",
                    "name=d2-kill-",
                    "--filter",
                    "status=running",
                ])
                .stdout;
                if let Some(id) = running.lines().next() {
                    if docker(&["kill", "--signal", "KILL", id.trim()]).success() {
                        sent += 1;
                    }
                }
            }
            sent
        })
    };
    let runs: Vec<Run> = writers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let sent = killer.join().unwrap();

    // The file after the kills: the writer opens it, rolls back whatever a
    // killed run left half done, adds one more row and prints them all.
    let last = docker(&[
        "run",
        "--rm",
        "--log-driver",
        "none",
        "-v",
        &mount,
        "d2-image",
    ])
    .ok();
    let table_ids: BTreeSet<i64> = last
        .stdout
        .lines()
        .filter_map(|l| {
            l.strip_prefix("| ")?
                .split(" |")
                .next()?
                .trim()
                .parse()
                .ok()
        })
        .collect();
    let printed: Vec<(i64, String)> = runs
        .iter()
        .filter_map(|r| r.added.as_ref())
        .map(|a| {
            // "#12 Ana Souza (20 anos), Curso"
            let (id, rest) = a.trim_start_matches('#').split_once(' ').unwrap();
            (
                id.parse().unwrap(),
                rest.split(" (").next().unwrap().to_owned(),
            )
        })
        .collect();
    let missing: Vec<&(i64, String)> = printed
        .iter()
        .filter(|(id, nome)| {
            !table_ids.contains(id)
                || !last.stdout.lines().any(|l| {
                    l.strip_prefix("| ").is_some_and(|rest| {
                        rest.starts_with(&format!("{id} ")) && l.contains(nome.as_str())
                    })
                })
        })
        .collect();

    // Every page of the file, checked by SQLite itself on a copy.
    let copy = tempfile::tempdir().unwrap();
    let copy_path = copy.path().join("data.db");
    docker(&[
        "cp",
        &format!("{holder}:/data/data.db"),
        copy_path.to_str().unwrap(),
    ])
    .ok();
    let db = rusqlite::Connection::open(&copy_path).unwrap();
    let integrity: String = db
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    let rows: i64 = db
        .query_row("SELECT count(*) FROM alunos", [], |row| row.get(0))
        .unwrap();

    let killed = runs.iter().filter(|r| r.exit_code == Some(137)).count();
    let succeeded = runs.iter().filter(|r| r.exit_code == Some(0)).count();
    let other: Vec<Option<i32>> = runs
        .iter()
        .map(|r| r.exit_code)
        .filter(|c| *c != Some(0) && *c != Some(137))
        .collect();
    println!(
        "\ndesafio2: {} writer runs by {WRITERS} writers at once on a file of {D2_SEED_ROWS} rows, {sent} SIGKILLs sent to running writers\n{}",
        runs.len(),
        table(
            &[
                "runs",
                "killed mid-run (exit 137)",
                "of which had committed",
                "succeeded",
                "rows printed as added",
                "missing afterwards",
                "rows in the file",
                "integrity_check"
            ],
            &[vec![
                runs.len().to_string(),
                killed.to_string(),
                // Rows beyond the seed, the successful runs' and the last
                // run's: rows of killed runs that had committed.
                (rows - D2_SEED_ROWS - succeeded as i64 - 1).to_string(),
                succeeded.to_string(),
                printed.len().to_string(),
                missing.len().to_string(),
                rows.to_string(),
                integrity.clone(),
            ]]
        )
    );
    assert_eq!(integrity, "ok");
    assert!(missing.is_empty(), "committed rows lost: {missing:?}");
    assert!(other.is_empty(), "runs failed with {other:?}");
    assert!(killed > 0, "no run was killed mid-run");
    assert!(
        runs.iter()
            .filter(|r| r.exit_code == Some(0))
            .all(|r| r.added.is_some()),
        "a successful run printed no row"
    );
    // Each successful run added one row, the last run one more; a killed
    // run added one or none (killed after or before its commit).
    let seeded = D2_SEED_ROWS as usize;
    assert!(
        (seeded + succeeded + 1..=seeded + succeeded + 1 + killed).contains(&(rows as usize)),
        "{rows} rows after {succeeded} successful and {killed} killed runs"
    );
    assert_eq!(rows as usize, table_ids.len());
}

// ---------------------------------------------------------------- Desafio 3

/// Visits (PostgreSQL + Redis), cached reads, writes, the Redis counter
/// and a plain database read, in turn.
fn d3_request(n: u64) -> Request {
    match n % 5 {
        0 => Request::get("visit", "/"),
        1 => Request::get("cached read", "/api/posts/cache"),
        2 => Request::post_json(
            "write",
            "/api/posts",
            format!(r#"{{"titulo":"carga {n}","conteudo":"escrito sob carga"}}"#),
        ),
        3 => Request::get("counter", "/api/contador"),
        _ => Request::get("read", "/aluno/1"),
    }
}

/// The ids of the posts whose creation was acknowledged (201).
fn acknowledged_posts(records: &Records) -> Vec<i64> {
    records
        .iter()
        .filter(|r| r.label == "write" && r.outcome == Outcome::Answered(201))
        .map(|r| {
            let body: serde_json::Value =
                serde_json::from_str(r.answer.as_deref().unwrap()).unwrap();
            body["id"].as_i64().unwrap()
        })
        .collect()
}

#[test]
fn desafio3_holds_load_survives_db_and_cache_faults_and_stops_gracefully() {
    let _guard = serial();
    let _timer =
        Timer::start("desafio3_holds_load_survives_db_and_cache_faults_and_stops_gracefully");
    let (port, page_port) = (free_port(), free_port());
    let stack = Stack::new("desafio3")
        .env("D3_WEB_PORT", port)
        .env("D3_PAGE_PORT", page_port);
    stack.up();

    let held_records = held("desafio3", plan(port, d3_request));
    let (figures, fault_records) = faults(
        plan(port, d3_request),
        &[("db", "db-postgresql"), ("cache", "cache-redis")],
        || {},
    );

    // Every acknowledged write is readable afterwards.
    let mut ids = acknowledged_posts(&held_records);
    ids.extend(acknowledged_posts(&fault_records));
    let ids = std::sync::Arc::new(ids);
    let mut check = {
        let ids = std::sync::Arc::clone(&ids);
        Plan::new(port, move |n| {
            Request::get("check", format!("/api/posts/{}", ids[n as usize]))
        })
    };
    check.rate = None;
    check.concurrency = 4;
    check.max_requests = ids.len() as u64;
    check.duration = Duration::from_secs(120);
    let checked = Load::run(check);
    let lost = checked
        .iter()
        .filter(|r| r.outcome == Outcome::Answered(404))
        .count();
    print_faults(
        &format!(
            "desafio3 faults under {:.0} req/s (visit, cached read, write, counter, read); {} writes acknowledged, {} read back, {lost} lost",
            rate(),
            ids.len(),
            checked.iter().filter(|r| r.ok()).count()
        ),
        &figures,
    );
    assert_eq!(checked.len(), ids.len());
    assert_eq!(lost, 0, "acknowledged writes lost");
    assert_eq!(checked.failed(), 0, "{}", outcomes(&checked));
    assert!(
        fault_records.iter().all(|r| !matches!(
            r.outcome,
            Outcome::Answered(500..=502) | Outcome::Answered(504..)
        )),
        "an answer other than 503 while a store was away: {}",
        outcomes(&fault_records)
    );
    assert_recovered(&figures);
    for f in &figures {
        assert!(
            f.failed > 0 || f.name.contains("restart"),
            "{}: the fault went unnoticed",
            f.name
        );
    }

    graceful_down(&stack, "desafio3", plan(port, d3_request));
}

// ---------------------------------------------------------------- Desafio 4

#[test]
fn desafio4_holds_load_survives_service_a_faults_and_stops_gracefully() {
    let _guard = serial();
    let _timer = Timer::start("desafio4_holds_load_survives_service_a_faults_and_stops_gracefully");
    let (a, b) = (free_port(), free_port());
    let stack = Stack::new("desafio4")
        .env("D4_A_PORT", a)
        .env("D4_B_PORT", b);
    stack.up();
    let make = |_| Request::get("info", "/info");
    held("desafio4", plan(b, make));
    let (figures, records) = faults(plan(b, make), &[("service_a", "desafio4-service_a")], || {});
    print_faults(
        &format!("desafio4 faults under {:.0} req/s of GET /info", rate()),
        &figures,
    );
    assert!(
        records.iter().all(|r| r.ok()
            || r.outcome == Outcome::Answered(503)
            || r.outcome == Outcome::Answered(502)),
        "{}",
        outcomes(&records)
    );
    assert_recovered(&figures);
    graceful_down(&stack, "desafio4", plan(b, make));
}

// ---------------------------------------------------------------- Desafio 5

fn d5_request(n: u64) -> Request {
    match n % 4 {
        0 => Request::get("users", "/users"),
        1 => Request::get("orders", "/orders"),
        2 => Request::get("user", "/users/1"),
        _ => Request::get("orders of a user", "/orders?user_id=1"),
    }
}

/// The number of replicas the gateway knows for `upstream`.
fn replicas(gateway: u16, upstream: &str) -> Option<usize> {
    let health = http::try_get(&url(gateway, "/health"))?;
    health.json()["upstreams"][upstream]["replicas"]
        .as_array()
        .map(Vec::len)
}

#[test]
fn desafio5_holds_load_survives_upstream_faults_and_stops_gracefully() {
    let _guard = serial();
    let _timer = Timer::start("desafio5_holds_load_survives_upstream_faults_and_stops_gracefully");
    let (stack, gateway, _, _) = e2e::desafio5_direct();
    stack.up();
    held("desafio5", plan(gateway, d5_request));
    let (figures, records) = faults(
        plan(gateway, d5_request),
        &[
            ("users_service", "desafio5-users_service-1"),
            ("orders_service", "desafio5-orders_service-1"),
        ],
        || {},
    );
    print_faults(
        &format!(
            "desafio5 faults under {:.0} req/s through the gateway (one replica each)",
            rate()
        ),
        &figures,
    );
    assert!(
        records
            .iter()
            .all(|r| r.ok() || matches!(r.outcome, Outcome::Answered(502..=504))),
        "{}",
        outcomes(&records)
    );
    assert_recovered(&figures);
    graceful_down(&stack, "desafio5", plan(gateway, d5_request));
}

#[test]
fn desafio5_one_of_three_replicas_away_costs_no_get() {
    let _guard = serial();
    let _timer = Timer::start("desafio5_one_of_three_replicas_away_costs_no_get");
    let (stack, gateway) = e2e::desafio5_scalable();
    stack.up_scaled(&[("users_service", 3)]);
    let three = || {
        wait_until(
            "the gateway to see 3 users replicas",
            Duration::from_secs(30),
            || (replicas(gateway, "users_service") == Some(3)).then_some(()),
        );
    };
    three();
    let make = |n: u64| {
        if n.is_multiple_of(2) {
            Request::get("users", "/users")
        } else {
            Request::get("user", "/users/2")
        }
    };
    let (figures, _) = faults(
        plan(gateway, make),
        &[("1 of 3 users_service replicas", "desafio5-users_service-2")],
        three,
    );
    print_faults(
        &format!(
            "desafio5 with users_service=3, one replica faulted under {:.0} req/s of GETs",
            rate()
        ),
        &figures,
    );
    for f in &figures {
        assert_eq!(f.failed, 0, "{}: GETs failed with a replica away", f.name);
    }
}
