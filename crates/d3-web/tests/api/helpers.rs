//! The test fixture, zero2prod style: real PostgreSQL and Redis (started
//! through Docker once per test run), and for every test its own fresh
//! database and its own Redis key prefix, so tests never share state.

#![allow(dead_code)]

use std::{
    path::Path,
    process::Command,
    sync::OnceLock,
    time::{Duration, Instant},
};

use axum::{body::Body, http::Request, Router};
use d3_web::{app, AppState, Config};
use http_body_util::BodyExt;
use kit::config::Env;
use sqlx::{Connection, Executor, PgConnection};
use tower::ServiceExt;

const PROJECT: &str = "d3-test";
/// Databases created by tests start with this, so a later run can drop them.
const DB_PREFIX: &str = "d3_t_";

/// Where the shared stores listen on the host.
#[derive(Debug)]
pub struct Stores {
    pub postgres: String,
    pub redis: String,
}

fn compose(args: &[&str]) -> std::process::Output {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("compose.test.yaml");
    let output = Command::new("docker")
        .args(["compose", "-p", PROJECT, "-f"])
        .arg(&file)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run docker compose (is Docker installed?): {e}"));
    assert!(
        output.status.success(),
        "docker compose {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn published(service: &str, port: &str) -> String {
    let out = compose(&["port", service, port]);
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Starts the stores once per test binary (compose waits for their
/// healthchecks) and drops the databases earlier runs left behind.
pub fn stores() -> &'static Stores {
    static STORES: OnceLock<Stores> = OnceLock::new();
    STORES.get_or_init(|| {
        compose(&["up", "-d", "--wait", "--wait-timeout", "120"]);
        let stores = Stores {
            postgres: published("db", "5432"),
            redis: published("cache", "6379"),
        };
        // A blocking context here (inside OnceLock), so a small runtime of
        // its own for the clean-up.
        let url = admin_url(&stores);
        std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime")
                .block_on(drop_old_databases(&url));
        })
        .join()
        .expect("clean-up thread");
        stores
    })
}

fn admin_url(stores: &Stores) -> String {
    format!("postgres://teste:teste@{}/teste", stores.postgres)
}

async fn drop_old_databases(url: &str) {
    let mut conn = connect(url).await;
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE $1")
            .bind(format!("{DB_PREFIX}%"))
            .fetch_all(&mut conn)
            .await
            .expect("list old test databases");
    for name in names {
        conn.execute(format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#).as_str())
            .await
            .expect("drop an old test database");
    }
}

pub async fn connect(url: &str) -> PgConnection {
    // The healthcheck passed, but give a just-started server a moment.
    let start = Instant::now();
    loop {
        match PgConnection::connect(url).await {
            Ok(conn) => return conn,
            Err(e) if start.elapsed() < Duration::from_secs(30) => {
                eprintln!("waiting for PostgreSQL: {e}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("cannot connect to the test PostgreSQL: {e}"),
        }
    }
}

/// A fresh, empty database; returns its URL.
pub async fn fresh_database() -> String {
    let stores = stores();
    let name = format!("{DB_PREFIX}{:016x}", fastrand::u64(..));
    let mut conn = connect(&admin_url(stores)).await;
    conn.execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
        .await
        .expect("create the test database");
    format!("postgres://teste:teste@{}/{name}", stores.postgres)
}

/// A URL on which nothing listens: a data store that is down.
pub fn closed_port_url(scheme: &str) -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    match scheme {
        "postgres" => format!("postgres://teste:teste@127.0.0.1:{port}/nada"),
        _ => format!("redis://127.0.0.1:{port}/"),
    }
}

/// The application under test, driven in-process.
#[derive(Debug, Clone)]
pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    pub database_url: String,
    pub prefix: String,
}

/// An answer: status, body text, content type.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: String,
    pub content_type: String,
}

impl Answer {
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// Settings for a test: its own database and key prefix, short TTLs off.
pub fn config(database_url: &str, redis_url: &str, prefix: &str) -> Config {
    Config::from_env(&Env::from_pairs([
        ("DATABASE_URL", database_url),
        ("REDIS_URL", redis_url),
        ("CACHE_PREFIX", prefix),
        ("DB_POOL_SIZE", "4"),
    ]))
    .expect("test config")
}

/// The app on a fresh database and a fresh prefix, both stores ready.
pub async fn spawn_app() -> TestApp {
    let database_url = fresh_database().await;
    let app = spawn_with(&database_url, &format!("redis://{}/", stores().redis)).await;
    assert!(
        app.state.wait_ready(Duration::from_secs(30)).await,
        "the stores did not become ready"
    );
    app
}

/// The app on the given stores, not waiting for them.
pub async fn spawn_with(database_url: &str, redis_url: &str) -> TestApp {
    spawn_replica(database_url, redis_url, &fresh_prefix()).await
}

/// A Redis key prefix no other test uses.
pub fn fresh_prefix() -> String {
    format!("t{:016x}:", fastrand::u64(..))
}

/// One replica of a service: replicas given the same database and prefix
/// share their data, each with its own pool and Redis connection, as the
/// Swarm stack's do. Not waiting for the stores.
pub async fn spawn_replica(database_url: &str, redis_url: &str, prefix: &str) -> TestApp {
    let state = AppState::start(&config(database_url, redis_url, prefix)).expect("start");
    TestApp {
        router: app(state.clone()),
        state,
        database_url: database_url.to_owned(),
        prefix: prefix.to_owned(),
    }
}

impl TestApp {
    pub async fn request(&self, request: Request<Body>) -> Answer {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router answers");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("a body")
            .to_bytes();
        Answer {
            status,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            content_type,
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.request(Request::get(path).body(Body::empty()).expect("request"))
            .await
    }

    pub async fn send_json(&self, method: &str, path: &str, body: impl Into<Body>) -> Answer {
        self.request(
            Request::builder()
                .method(method)
                .uri(path)
                .header("content-type", "application/json")
                .body(body.into())
                .expect("request"),
        )
        .await
    }

    pub async fn post(&self, path: &str, body: serde_json::Value) -> Answer {
        self.send_json("POST", path, body.to_string()).await
    }

    pub async fn put(&self, path: &str, body: serde_json::Value) -> Answer {
        self.send_json("PUT", path, body.to_string()).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.request(Request::delete(path).body(Body::empty()).expect("request"))
            .await
    }
}

/// A TCP forwarder on 127.0.0.1 in front of a real store, which a test can
/// switch off (open connections are cut, new ones closed at once) and on
/// again: a store going away and coming back, without touching the shared
/// containers other tests use.
#[derive(Debug)]
pub struct Outage {
    pub port: u16,
    up: tokio::sync::watch::Sender<bool>,
}

impl Outage {
    /// Starts forwarding to `upstream` (`host:port`), switched on.
    pub async fn forward_to(upstream: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the forwarder");
        let port = listener.local_addr().expect("its address").port();
        let (up, watch) = tokio::sync::watch::channel(true);
        let upstream = upstream.to_owned();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let mut watch = watch.clone();
                if !*watch.borrow() {
                    continue; // dropped: the connection closes at once
                }
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = watch.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        Self { port, up }
    }

    pub fn stop(&self) {
        self.up.send_replace(false);
    }

    pub fn start(&self) {
        self.up.send_replace(true);
    }
}

/// Polls `probe` every 50 ms until it returns true; panics after `deadline`.
pub async fn eventually<F, Fut>(what: &str, deadline: Duration, mut probe: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !probe().await {
        assert!(start.elapsed() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
