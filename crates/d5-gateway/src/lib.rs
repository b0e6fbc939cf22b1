//! Desafio 5's API gateway: the single entry point in front of the users and
//! orders services.
//!
//! It forwards `/users...` to `users_service` and `/orders...` to
//! `orders_service` and nothing else: every other path is a 404 here, so the
//! services' other routes (and anything else on their network) stay private.
//! Each service may run as several replicas; [`upstream`] finds them through
//! DNS and spreads requests over them, and [`proxy`] bounds every call in time
//! and turns each way an upstream fails into a JSON 502, 503 or 504.

pub mod h1;
pub mod pool;
pub mod proxy;
pub mod runner;
pub mod upstream;

use std::{
    collections::BTreeMap,
    convert::Infallible,
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use axum::{
    body::{Bytes, HttpBody},
    extract::{Request, State},
    response::Response,
    routing::get,
    Router,
};
use kit::{config::Env, Json};
use serde::Serialize;
use tower::Service;
use upstream::{ServiceAddr, Upstream, UpstreamHealth};

/// Settings, from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `PORT`, default 5004 as in the write-up.
    pub port: u16,
    /// `USERS_SERVICE`, default `users_service:5003`.
    pub users: ServiceAddr,
    /// `ORDERS_SERVICE`, default `orders_service:5002`.
    pub orders: ServiceAddr,
    /// `CONNECT_TIMEOUT`, default 500 ms: a replica that takes longer to
    /// accept a connection is treated as gone.
    pub connect_timeout: Duration,
    /// `UPSTREAM_TIMEOUT`, default 2 s: the bound on one upstream call.
    pub upstream_timeout: Duration,
    /// `DISCOVERY_INTERVAL`, default 2 s: how often DNS is asked again.
    pub discovery_interval: Duration,
    /// `REPLICA_DOWN_FOR`, default 5 s: how long a replica that refused a
    /// connection is skipped before it is tried again.
    pub replica_down_for: Duration,
    /// `SHUTDOWN_GRACE`: how long a stop waits for in-flight requests.
    pub grace: Duration,
    /// `GATEWAY_THREADS`, default one per CPU: serving threads, each with
    /// its own runtime (see [`runner`]).
    pub threads: usize,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, kit::config::ConfigError> {
        let addr = |name: &str, default: &str| -> Result<ServiceAddr, kit::config::ConfigError> {
            let raw = env.raw(name).unwrap_or_else(|| default.to_owned());
            raw.trim()
                .parse()
                .map_err(|e: upstream::BadServiceAddr| kit::config::ConfigError {
                    name: name.to_owned(),
                    value: raw.clone(),
                    reason: e.to_string(),
                })
        };
        Ok(Self {
            port: env.or("PORT", 5004)?,
            users: addr("USERS_SERVICE", "users_service:5003")?,
            orders: addr("ORDERS_SERVICE", "orders_service:5002")?,
            connect_timeout: env.duration_or("CONNECT_TIMEOUT", Duration::from_millis(500))?,
            upstream_timeout: env.duration_or("UPSTREAM_TIMEOUT", Duration::from_secs(2))?,
            discovery_interval: env.duration_or("DISCOVERY_INTERVAL", Duration::from_secs(2))?,
            replica_down_for: env.duration_or("REPLICA_DOWN_FOR", Duration::from_secs(5))?,
            grace: env.duration_or("SHUTDOWN_GRACE", Duration::from_secs(5))?,
            threads: env.or(
                "GATEWAY_THREADS",
                std::thread::available_parallelism().map_or(1, usize::from),
            )?,
        })
    }
}

/// The gateway's state: its upstreams and a pool of connections to them.
#[derive(Debug)]
pub struct Gateway {
    pub config: Config,
    pub users: Arc<Upstream>,
    pub orders: Arc<Upstream>,
    pool: pool::Pool,
}

impl Gateway {
    pub fn new(config: Config) -> Arc<Self> {
        Arc::new(Self {
            users: Arc::new(Upstream::new(
                "users_service",
                config.users.clone(),
                config.replica_down_for,
            )),
            orders: Arc::new(Upstream::new(
                "orders_service",
                config.orders.clone(),
                config.replica_down_for,
            )),
            pool: pool(&config),
            config,
        })
    }

    /// The same upstreams (replica sets and down marks are shared) with a
    /// connection pool of its own, for another serving thread: a pooled
    /// connection lives on the thread that opened it, and handing requests
    /// to it from another thread costs more than the proxying itself.
    pub fn sibling(&self) -> Arc<Self> {
        Arc::new(Self {
            config: self.config.clone(),
            users: Arc::clone(&self.users),
            orders: Arc::clone(&self.orders),
            pool: pool(&self.config),
        })
    }

    /// The upstream that serves `path`, by its first segment.
    pub fn route(&self, path: &str) -> Option<&Arc<Upstream>> {
        let first = path.trim_start_matches('/').split('/').next()?;
        match first {
            "users" => Some(&self.users),
            "orders" => Some(&self.orders),
            _ => None,
        }
    }

    /// Asks DNS for every upstream's replicas once.
    pub async fn discover(&self) {
        let timeout = self.config.discovery_interval.max(Duration::from_secs(1));
        tokio::join!(self.users.refresh(timeout), self.orders.refresh(timeout));
    }

    /// Keeps asking DNS every `discovery_interval`, for as long as the
    /// process runs, so replicas that come and go are noticed.
    pub fn spawn_discovery(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let gateway = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(gateway.config.discovery_interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                gateway.discover().await;
            }
        })
    }
}

/// Connections to the replicas, for one serving thread. Idle ones are let
/// go before the services close them.
fn pool(config: &Config) -> pool::Pool {
    pool::Pool::new(config.connect_timeout, kit::http_client::POOL_IDLE)
}

#[derive(Debug, Serialize)]
struct Health {
    /// The gateway itself serves: Docker's healthcheck reads only this.
    status: &'static str,
    service: &'static str,
    upstreams: BTreeMap<&'static str, UpstreamHealth>,
}

async fn health(State(gateway): State<Arc<Gateway>>) -> Json<Health> {
    Json(Health {
        status: "healthy",
        service: "gateway",
        upstreams: [&*gateway.users, &*gateway.orders]
            .into_iter()
            .map(|u| (u.name, u.health()))
            .collect(),
    })
}

/// The gateway as one service: `/users...` and `/orders...` go straight to
/// [`proxy::handle`], everything else (`/health`, JSON 404s) to a `Router`
/// with kit's shared layers.
#[derive(Debug, Clone)]
pub struct App {
    gateway: Arc<Gateway>,
    rest: Router,
}

/// The full application (see [`App`]).
pub fn app(gateway: Arc<Gateway>) -> App {
    let rest = Router::new()
        .route("/health", get(health))
        .with_state(Arc::clone(&gateway));
    App {
        gateway,
        rest: kit::server::app(rest, kit::server::Limits::default()),
    }
}

impl<B> Service<Request<B>> for App
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        if let Some(upstream) = self.gateway.route(request.uri().path()) {
            let upstream = Arc::clone(upstream);
            let gateway = Arc::clone(&self.gateway);
            Box::pin(async move { Ok(proxy::handle(gateway, upstream, request).await) })
        } else {
            // A Router is always ready; it needs no poll_ready first.
            Box::pin(self.rest.call(request))
        }
    }
}
