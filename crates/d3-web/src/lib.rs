//! Desafio 3's web service: write-ups 001, 002, 003 and 004 served by one
//! axum application on PostgreSQL (sqlx) with a Redis cache.
//!
//! Start-up never waits for the data stores: the process listens at once
//! (so `/health` answers), while [`db::Database`] applies the schema and
//! [`cache::Cache`] connects in the background, each retrying with backoff.
//! While a store is away, the calls that need it answer 503 quickly, and
//! cached reads fall back to the database; nothing has to be restarted.
//!
//! One module per resource: [`posts`] (002), [`users`] (004), [`alunos`]
//! (001/003: visits, log, students) and [`status`] (002: status, counter,
//! stats).

pub mod alunos;
pub mod backoff;
pub mod cache;
pub mod config;
pub mod db;
pub mod error;
pub mod posts;
pub mod status;
pub mod users;
pub mod validate;

use std::time::Duration;

use axum::Router;

pub use cache::{Cache, Fonte};
pub use config::{Config, Ttl};
pub use db::Database;

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    pub db: Database,
    pub cache: Cache,
    pub ttl: Ttl,
}

/// Why the service could not start (the data stores being down is not one
/// of them: that is retried).
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("REDIS_URL/CACHE_HOST is not a usable Redis address: {0}")]
    RedisUrl(#[from] redis::RedisError),
}

impl AppState {
    /// The handles, with their connections started in the background.
    pub fn start(config: &Config) -> Result<Self, StartError> {
        let client = redis::Client::open(config.redis_url.as_str())?;
        let db = Database::new(config.database.clone(), config.pool_size, config.db_timeout);
        let cache = Cache::new(config.cache_prefix.clone(), config.cache_timeout);
        db.spawn_migrations();
        cache.spawn_connect(client);
        cache.spawn_sweeper(db.clone());
        Ok(Self {
            db,
            cache,
            ttl: config.ttl,
        })
    }

    /// Waits until the schema is applied, Redis answers and the cache is
    /// trusted (see [`cache`]), or `deadline` passes; true if all are ready.
    /// For tests and tools, never handlers.
    pub async fn wait_ready(&self, deadline: Duration) -> bool {
        let waiting = async {
            while !(self.db.is_ready()
                && self.cache.ensure_trusted(&self.db).await
                && self.cache.ping().await)
            {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        };
        tokio::time::timeout(deadline, waiting).await.is_ok()
    }
}

/// Every route, with `/health` and the shared layers of `kit`.
pub fn app(state: AppState) -> Router {
    let routes = Router::new()
        .merge(posts::router())
        .merge(users::router())
        .merge(alunos::router())
        .merge(status::router())
        .with_state(state)
        .merge(kit::health::router("web"));
    kit::server::app(routes, kit::server::Limits::default())
}
