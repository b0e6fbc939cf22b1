//! The PostgreSQL side: a lazily connecting pool, the schema applied in the
//! background with backoff, and a bound on every call.
//!
//! The pool never connects at start-up, so the process serves `/health` at
//! once even when PostgreSQL is still booting (or stopped). Until the
//! migrations have run, and whenever the database cannot be reached within
//! `db_timeout`, a call fails with [`DbError::Unavailable`], which the
//! client sees as 503.

use std::{
    future::Future,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

use sqlx::{postgres::PgPoolOptions, PgPool};

use crate::{backoff::Backoff, error::DbError};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The database handle every handler shares.
#[derive(Debug, Clone)]
pub struct Database {
    pool: PgPool,
    ready: Arc<AtomicBool>,
    timeout: Duration,
}

impl Database {
    /// A pool that connects on first use; nothing is contacted here.
    pub fn new(options: sqlx::postgres::PgConnectOptions, size: u32, timeout: Duration) -> Self {
        let pool = PgPoolOptions::new()
            .max_connections(size)
            .min_connections(0)
            // A stopped database must turn into a 503 quickly, not a hang.
            .acquire_timeout(timeout)
            .connect_lazy_with(options);
        Self {
            pool,
            ready: Arc::new(AtomicBool::new(false)),
            timeout,
        }
    }

    /// Applies the schema, retrying with backoff until PostgreSQL answers.
    /// Several instances may race here: sqlx takes an advisory lock, and an
    /// applied migration is recorded, so the seed rows go in exactly once.
    pub fn spawn_migrations(&self) -> tokio::task::JoinHandle<()> {
        let db = self.clone();
        tokio::spawn(async move {
            let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(5));
            loop {
                match MIGRATOR.run(&db.pool).await {
                    Ok(()) => {
                        db.ready.store(true, Ordering::Release);
                        tracing::info!("PostgreSQL conectado; esquema pronto");
                        return;
                    }
                    Err(e) => {
                        let wait = backoff.next_delay();
                        tracing::warn!(
                            "PostgreSQL ainda não disponível ({e}); nova tentativa em {wait:?}"
                        );
                        tokio::time::sleep(wait).await;
                    }
                }
            }
        })
    }

    /// Whether the schema has been applied.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// Runs `query` against the pool, bounded by the timeout, once the
    /// schema exists.
    pub async fn run<'a, T, F, Fut>(&'a self, query: F) -> Result<T, DbError>
    where
        F: FnOnce(&'a PgPool) -> Fut,
        Fut: Future<Output = Result<T, sqlx::Error>> + 'a,
    {
        self.bounded(query(&self.pool)).await
    }

    /// Awaits any database future (a transaction's steps, say) under the
    /// same rules as [`Database::run`].
    pub async fn bounded<T>(
        &self,
        future: impl Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T, DbError> {
        if !self.is_ready() {
            return Err(DbError::Unavailable("esquema ainda não aplicado".into()));
        }
        match tokio::time::timeout(self.timeout, future).await {
            Ok(result) => result.map_err(DbError::from),
            Err(_) => Err(DbError::Unavailable(format!(
                "sem resposta em {:?}",
                self.timeout
            ))),
        }
    }

    /// `SELECT 1`, for `/status`: true when PostgreSQL answers in time.
    pub async fn ping(&self) -> bool {
        let probe = sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(&self.pool);
        matches!(tokio::time::timeout(self.timeout, probe).await, Ok(Ok(1)))
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}
