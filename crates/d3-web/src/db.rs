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
    pin::Pin,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

use sqlx::{
    error::BoxDynError,
    migrate::{Migration, MigrationSource, MigrationType, Migrator},
    postgres::PgPoolOptions,
    PgPool,
};

use crate::{backoff::Backoff, error::DbError};

/// The schema: the files of `migrations/`, in order, compiled into the
/// binary as `sqlx::migrate!` would embed them. Neither that macro nor
/// sqlx's derives are used (the row types get `FromRow` from `from_row!`):
/// sqlx's macros compile sqlx a second time, for the machine that builds,
/// about 20 s of this challenge's first build on 2 cores. A test checks
/// this list against the folder.
const SCHEMA: [(i64, &str, &str); 2] = [
    (
        1,
        "schema and seed",
        include_str!("../migrations/0001_schema_and_seed.sql"),
    ),
    (
        2,
        "cache pendente",
        include_str!("../migrations/0002_cache_pendente.sql"),
    ),
];

/// `impl FromRow` for a row type whose fields are named as its columns,
/// as `#[derive(sqlx::FromRow)]` would write it (see [`SCHEMA`] for why the
/// derive is not used): `from_row!(Aluno { id, nome, curso });`.
macro_rules! from_row {
    ($row_type:ident { $($column:ident),+ $(,)? }) => {
        impl sqlx::FromRow<'_, sqlx::postgres::PgRow> for $row_type {
            fn from_row(row: &sqlx::postgres::PgRow) -> sqlx::Result<Self> {
                use sqlx::Row;
                Ok(Self {
                    $($column: row.try_get(stringify!($column))?),+
                })
            }
        }
    };
}
pub(crate) use from_row;

/// [`SCHEMA`] as sqlx's migrator reads a folder: the same versions and
/// checksums, so a database migrated by either accepts the other.
#[derive(Debug)]
struct Schema;

impl MigrationSource<'static> for Schema {
    fn resolve(self) -> Pin<Box<dyn Future<Output = Result<Vec<Migration>, BoxDynError>> + Send>> {
        let migrations = SCHEMA.map(|(version, description, sql)| {
            Migration::new(
                version,
                description.into(),
                MigrationType::Simple,
                sql.into(),
                false,
            )
        });
        Box::pin(std::future::ready(Ok(migrations.into())))
    }
}

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
            let migrator = match Migrator::new(Schema).await {
                Ok(migrator) => migrator,
                // Only a malformed SCHEMA gets here, and its test catches that.
                Err(e) => {
                    tracing::error!("esquema inválido: {e}");
                    return;
                }
            };
            loop {
                match migrator.run(&db.pool).await {
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

#[cfg(test)]
mod tests {
    use super::SCHEMA;

    /// `SCHEMA` names every file of `migrations/` as sqlx would read it
    /// (`<version>_<description>.sql`), in order, with its exact contents.
    #[test]
    fn schema_is_the_migrations_folder() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
        files.sort();
        let listed: Vec<_> = SCHEMA
            .iter()
            .map(|&(version, description, sql)| (version, description.to_owned(), sql.to_owned()))
            .collect();
        let on_disk: Vec<_> = files
            .iter()
            .map(|path| {
                let name = path.file_stem().unwrap().to_str().unwrap();
                let (version, description) = name.split_once('_').unwrap();
                let sql = std::fs::read_to_string(path).unwrap();
                (version.parse().unwrap(), description.replace('_', " "), sql)
            })
            .collect();
        assert_eq!(listed, on_disk);
    }
}
