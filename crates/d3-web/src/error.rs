//! What can go wrong with the data stores, and how each case reaches the
//! client. Handlers use `?`; the status is decided here, once.

use kit::ApiError;

/// A PostgreSQL call that did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// Not reachable, not answering in time, or the schema is not applied
    /// yet: the client may retry later (503).
    #[error("banco de dados indisponível: {0}")]
    Unavailable(String),
    /// A unique constraint refused the row (409).
    #[error("{0}")]
    Duplicate(String),
    /// Anything else is a bug of ours (500, detail only in the log).
    #[error("database error: {0}")]
    Other(sqlx::Error),
}

impl From<sqlx::Error> for DbError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                Self::Duplicate(db.message().to_owned())
            }
            // 57P01..57P03: the server is shutting down or starting up.
            sqlx::Error::Database(db) if db.code().is_some_and(|code| code.starts_with("57P")) => {
                Self::Unavailable(db.message().to_owned())
            }
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::Protocol(_)
            | sqlx::Error::Tls(_) => Self::Unavailable(error.to_string()),
            _ => Self::Other(error),
        }
    }
}

impl From<DbError> for ApiError {
    fn from(error: DbError) -> Self {
        match error {
            DbError::Unavailable(detail) => {
                tracing::warn!("PostgreSQL indisponível: {detail}");
                ApiError::Unavailable("banco de dados indisponível; tente novamente".into())
            }
            DbError::Duplicate(detail) => ApiError::Conflict(detail),
            DbError::Other(e) => ApiError::Internal(e.to_string()),
        }
    }
}

/// A Redis call that did not succeed. Callers that can do without the cache
/// ignore it; the counters, which live only in Redis, answer 503.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cache ainda não conectado")]
    NotConnected,
    #[error("cache não respondeu a tempo")]
    Timeout,
    #[error("erro do Redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("valor inválido no cache: {0}")]
    Decode(#[from] serde_json::Error),
}

impl From<CacheError> for ApiError {
    fn from(error: CacheError) -> Self {
        tracing::warn!("Redis indisponível: {error}");
        ApiError::Unavailable("cache (Redis) indisponível; tente novamente".into())
    }
}
