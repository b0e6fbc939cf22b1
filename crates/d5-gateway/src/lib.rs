//! Desafio 5's API gateway: the single entry point in front of the users and
//! orders services.
//!
//! It forwards `/users...` to `users_service` and `/orders...` to
//! `orders_service` and nothing else: every other path is a 404 here, so the
//! services' other routes (and anything else on their network) stay private.
//! One file per part:
//!
//! - [`config`]: the settings, from the environment;
//! - [`routes`]: what is forwarded where, and the gateway's own `/health`;
//! - [`forward`]: sending one request to a replica, and what to answer when
//!   that fails (502, 503, 504 as JSON);
//! - [`discovery`]: the replicas of each service, found through DNS.

pub mod config;
pub mod discovery;
pub mod forward;
pub mod routes;

use std::{sync::Arc, time::Duration};

pub use config::Config;
use discovery::Upstream;
pub use routes::app;

/// The gateway's state: its upstreams and the client that calls them.
#[derive(Debug)]
pub struct Gateway {
    pub config: Config,
    pub users: Arc<Upstream>,
    pub orders: Arc<Upstream>,
    client: forward::Client,
}

impl Gateway {
    pub fn new(config: Config) -> Arc<Self> {
        let upstream = |name, addr: &String| {
            Arc::new(Upstream::new(name, addr.clone(), config.replica_down_for))
        };
        Arc::new(Self {
            users: upstream("users_service", &config.users),
            orders: upstream("orders_service", &config.orders),
            client: kit::client::pooled(config.connect_timeout),
            config,
        })
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
