//! The Redis side: one multiplexed connection that reconnects by itself,
//! calls bounded in time, and cache-aside reads that fall back to the
//! database when Redis is away.
//!
//! Redis is an optimisation for reads, so its absence must never break
//! them: [`Cache::read_through`] answers from PostgreSQL and says so
//! (`fonte: banco_de_dados`). The counters live only in Redis, so they answer
//! 503 instead.
//!
//! A write invalidates the cached copies. If Redis is away at that moment
//! the key is remembered and deleted before the cache is trusted again;
//! otherwise a copy saved before the outage could be served after it.

use std::{
    collections::HashSet,
    future::Future,
    sync::{Arc, Mutex, OnceLock},
    time::Duration,
};

use redis::{
    aio::{ConnectionManager, ConnectionManagerConfig},
    AsyncCommands,
};
use serde::{de::DeserializeOwned, Serialize};

use crate::{backoff::Backoff, error::CacheError};

/// Where an answer came from, in write-up 002's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fonte {
    Cache,
    BancoDeDados,
}

impl Fonte {
    /// The word the JSON answers use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cache => "cache",
            Self::BancoDeDados => "banco_de_dados",
        }
    }

    pub fn from_cache(self) -> bool {
        self == Self::Cache
    }
}

/// The Redis handle every handler shares.
#[derive(Debug, Clone)]
pub struct Cache {
    inner: Arc<Inner>,
}

struct Inner {
    connection: OnceLock<ConnectionManager>,
    prefix: String,
    timeout: Duration,
    /// Keys whose invalidation failed while Redis was away.
    unflushed: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner")
            .field("connected", &self.connection.get().is_some())
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl Cache {
    /// A handle that is not connected yet; see [`Cache::spawn_connect`].
    pub fn new(prefix: String, timeout: Duration) -> Self {
        Self {
            inner: Arc::new(Inner {
                connection: OnceLock::new(),
                prefix,
                timeout,
                unflushed: Mutex::new(HashSet::new()),
            }),
        }
    }

    /// Connects in the background, retrying with backoff until Redis answers.
    /// After that first connection the manager reconnects by itself.
    pub fn spawn_connect(&self, client: redis::Client) -> tokio::task::JoinHandle<()> {
        let cache = self.clone();
        tokio::spawn(async move {
            let timeout = cache.inner.timeout;
            // Few retries inside the manager: a caller waiting on a
            // reconnect should fall back quickly, and the next call retries.
            let config = ConnectionManagerConfig::new()
                .set_connection_timeout(timeout)
                .set_response_timeout(timeout)
                .set_number_of_retries(1)
                .set_max_delay(1000)
                // One small command per request: do not let Nagle's
                // algorithm hold it back waiting for more to send.
                .set_tcp_settings(redis::io::tcp::TcpSettings::default().set_nodelay(true));
            let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(5));
            loop {
                match ConnectionManager::new_with_config(client.clone(), config.clone()).await {
                    Ok(manager) => {
                        let _ = cache.inner.connection.set(manager);
                        tracing::info!("Redis conectado");
                        return;
                    }
                    Err(e) => {
                        let wait = backoff.next_delay();
                        tracing::warn!(
                            "Redis ainda não disponível ({e}); nova tentativa em {wait:?}"
                        );
                        tokio::time::sleep(wait).await;
                    }
                }
            }
        })
    }

    /// The key as stored, with this instance's prefix.
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.inner.prefix)
    }

    async fn call<T, F, Fut>(&self, command: F) -> Result<T, CacheError>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let connection = self
            .inner
            .connection
            .get()
            .cloned()
            .ok_or(CacheError::NotConnected)?;
        match tokio::time::timeout(self.inner.timeout, command(connection)).await {
            Ok(result) => Ok(result?),
            Err(_) => Err(CacheError::Timeout),
        }
    }

    /// `PING`, for `/status`.
    pub async fn ping(&self) -> bool {
        self.call(|mut c| async move { redis::cmd("PING").query_async::<String>(&mut c).await })
            .await
            .is_ok()
    }

    /// `INCR` of a counter.
    pub async fn incr(&self, name: &str) -> Result<i64, CacheError> {
        let key = self.key(name);
        self.call(|mut c| async move { c.incr(key, 1).await }).await
    }

    /// A counter's value (0 when absent).
    pub async fn counter(&self, name: &str) -> Result<i64, CacheError> {
        let key = self.key(name);
        let value: Option<i64> = self.call(|mut c| async move { c.get(key).await }).await?;
        Ok(value.unwrap_or(0))
    }

    /// Whether a key exists (for `/api/stats`).
    pub async fn exists(&self, name: &str) -> Result<bool, CacheError> {
        let key = self.key(name);
        self.call(|mut c| async move { c.exists(key).await }).await
    }

    /// Deletes cached copies after a write. If Redis cannot be told now, the
    /// keys are remembered and deleted before the next cached read.
    pub async fn invalidate(&self, names: &[&str]) {
        let keys: Vec<String> = names.iter().map(|n| self.key(n)).collect();
        let attempt = keys.clone();
        if let Err(e) = self
            .call(|mut c| async move { c.del::<_, ()>(attempt).await })
            .await
        {
            tracing::warn!("cache não invalidado agora ({e}); será antes da próxima leitura");
            self.lock_unflushed().extend(keys);
        }
    }

    fn lock_unflushed(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.inner
            .unflushed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Deletes what earlier invalidations could not; an error means the
    /// cache cannot be trusted yet.
    async fn flush_pending(&self) -> Result<(), CacheError> {
        let pending: Vec<String> = {
            let set = self.lock_unflushed();
            if set.is_empty() {
                return Ok(());
            }
            set.iter().cloned().collect()
        };
        let keys = pending.clone();
        self.call(|mut c| async move { c.del::<_, ()>(keys).await })
            .await?;
        let mut set = self.lock_unflushed();
        for key in &pending {
            set.remove(key);
        }
        Ok(())
    }

    async fn get_json<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, CacheError> {
        self.flush_pending().await?;
        let key = self.key(name);
        let raw: Option<Vec<u8>> = self.call(|mut c| async move { c.get(key).await }).await?;
        Ok(raw
            .map(|bytes| serde_json::from_slice(&bytes))
            .transpose()?)
    }

    async fn set_json<T: Serialize>(
        &self,
        name: &str,
        value: &T,
        ttl: Duration,
    ) -> Result<(), CacheError> {
        let key = self.key(name);
        let bytes = serde_json::to_vec(value)?;
        let seconds = ttl.as_secs().max(1);
        self.call(|mut c| async move { c.set_ex::<_, _, ()>(key, bytes, seconds).await })
            .await
    }

    /// Cache-aside: the cached copy of `name` if there is one, otherwise
    /// `load` from the database, stored for `ttl`. Redis trouble is logged
    /// and answered from the database.
    pub async fn read_through<T, E, F, Fut>(
        &self,
        name: &str,
        ttl: Duration,
        load: F,
    ) -> Result<(T, Fonte), E>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let cache_usable = match self.get_json::<T>(name).await {
            Ok(Some(value)) => return Ok((value, Fonte::Cache)),
            Ok(None) => true,
            Err(e) => {
                tracing::debug!("cache ignorado para {name}: {e}");
                false
            }
        };
        let value = load().await?;
        // Not worth waiting for a store that just failed us.
        if cache_usable {
            if let Err(e) = self.set_json(name, &value, ttl).await {
                tracing::debug!("cache não gravado para {name}: {e}");
            }
        }
        Ok((value, Fonte::BancoDeDados))
    }
}
