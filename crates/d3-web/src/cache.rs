//! The Redis side: one multiplexed connection that reconnects by itself,
//! calls bounded in time, and cache-aside reads that fall back to the
//! database when Redis is away.
//!
//! Redis is an optimisation for reads, so its absence must never break
//! them: [`Cache::read_through`] answers from PostgreSQL and says so
//! (`fonte: banco_de_dados`). The counters live only in Redis, so they answer
//! 503 instead.
//!
//! # Fresh after an acknowledged write
//!
//! Plain cache-aside has a race: a reader misses, loads the old row, a
//! writer commits and deletes the key, and only then does the reader store
//! its old copy, which is served for the whole TTL. So every cached key has
//! a generation beside it (`<key>:geracao`, a Redis integer):
//!
//! - a reader reads the key and its generation in one `MGET`; on a miss it
//!   loads from PostgreSQL and stores its copy with a Lua script that sets
//!   the key (with its TTL) only if the generation is still the one it saw;
//! - a writer, after its commit, runs one Lua script that increments the
//!   generation and deletes the key, atomically.
//!
//! A reader that loaded before the commit saw the old generation, so its
//! store is refused; a reader that saw the new generation started after the
//! commit, so it loaded the new row. The generation never expires: one that
//! vanished and started again from 1 could equal the number a slow reader
//! saw, and let its old copy in.
//!
//! # An invalidation Redis did not get
//!
//! If Redis is away when a write commits, the deletion cannot happen then,
//! and a copy stored before the outage would be served after it, by this
//! replica or by any other (the Swarm stack runs two), or after a restart.
//! So the write records the keys it makes stale in PostgreSQL, in the
//! table `cache_pendente`, inside its own transaction, and deletes those
//! rows only once Redis has run the invalidation. A replica does not trust
//! Redis from its start, nor after any failed Redis call: until it has
//! swept that table (invalidated every key in it, then deleted the rows),
//! its reads go to PostgreSQL and store nothing. A task per replica probes
//! Redis and sweeps every [`PROBE_INTERVAL`]; a read that finds the cache
//! untrusted tries the sweep itself, so trust comes back with Redis.
//!
//! # An acknowledged write waits for its invalidation
//!
//! The sweeps alone leave a window: a replica that saw no failure keeps
//! trusting Redis, so when only *another* replica lost Redis during a
//! write, it would serve the old copy until its next sweep, after the
//! write was acknowledged. So a write whose invalidation failed is not
//! acknowledged at once ([`Cache::commit`]): it retries the invalidation
//! itself, with backoff, and polls its own rows of `cache_pendente` (one
//! `SELECT` by primary key). Those rows are deleted only after Redis has
//! run the invalidation, by this write's retry or by any replica's sweep,
//! so once they are gone no replica can serve the old copy, and the write
//! is acknowledged. If they are still there after
//! [`Cache::invalidation_bound`] (a probe interval plus three Redis
//! timeouts: 2.5 s by default), no replica reached Redis in that time: a
//! replica that trusts Redis starts a sweep every probe interval, which
//! either drops the keys or fails a Redis call and stops trusting. So
//! every replica now reads from PostgreSQL until it has swept, and the
//! write is acknowledged then: it is committed, and the wait never turns
//! into an error.
//!
//! The cost falls only on writes while Redis is away for their replica:
//! each is answered as soon as Redis is back for it or another replica has
//! swept (within about a probe interval), and after the bound when no
//! replica reaches Redis. With Redis up, a write makes the same calls as
//! before: its transaction, one script, one `DELETE`.
//!
//! What remains: a replica that cannot read `cache_pendente` (PostgreSQL
//! away for it alone) but still reaches Redis keeps its trust and serves
//! its cached copies, as the README's experiment with the database stopped
//! shows; if meanwhile another replica, which reaches PostgreSQL but not
//! Redis, writes, the first may serve the old copy until it can sweep. That
//! takes two faults at once, on two replicas. (A lease, trusting Redis only
//! for a while after each complete sweep, would close it, but would also
//! stop serving cached copies soon after PostgreSQL stops.) And the bound
//! assumes a sweep reads `cache_pendente` within one Redis timeout and the
//! sweeper's timer is not late by more: a database or machine slower than
//! that widens the window by as much.

use std::{
    collections::BTreeSet,
    future::Future,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, LazyLock, OnceLock,
    },
    time::Duration,
};

use redis::{
    aio::{ConnectionManager, ConnectionManagerConfig},
    AsyncCommands, Script,
};
use serde::{de::DeserializeOwned, Serialize};
use sqlx::PgConnection;

use crate::{
    backoff::Backoff,
    db::Database,
    error::{CacheError, DbError},
};

/// How often each replica probes Redis and sweeps `cache_pendente` (from
/// the start of one sweep to the start of the next, while it trusts Redis).
pub const PROBE_INTERVAL: Duration = Duration::from_secs(1);
/// The first pause of a write waiting for its invalidation; each next one
/// doubles, up to [`WAIT_POLL_MAX`].
const WAIT_POLL_FIRST: Duration = Duration::from_millis(25);
const WAIT_POLL_MAX: Duration = Duration::from_millis(200);
/// Rows of `cache_pendente` invalidated per Redis call while sweeping.
const SWEEP_BATCH: i64 = 500;
/// A sweep gives up (and tries again later) after this many batches.
const SWEEP_BATCHES: usize = 20;

/// Sets the key only if its generation is still the one the reader saw
/// (`''` for none). KEYS: value, generation. ARGV: generation seen, TTL in
/// seconds, value.
static STORE_IF_CURRENT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if (redis.call('GET', KEYS[2]) or '') == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[3], 'EX', ARGV[2])
  return 1
end
return 0
",
    )
});

/// Moves every generation on and deletes every copy, in one step. KEYS:
/// value, generation, value, generation, ...
static INVALIDATE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
for i = 1, #KEYS, 2 do
  redis.call('INCR', KEYS[i + 1])
  redis.call('DEL', KEYS[i])
end
return #KEYS / 2
",
    )
});

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

/// What a cache-aside lookup found.
#[derive(Debug)]
pub enum Lookup<T> {
    /// The cached copy.
    Hit(T),
    /// No copy; a copy loaded from now on may be stored against this.
    Miss(Generation),
}

/// A key's generation as a reader saw it before loading from PostgreSQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generation(String);

/// The keys a write made stale, recorded in its transaction, to drop from
/// Redis once it has committed.
#[derive(Debug)]
struct Invalidation {
    ids: Vec<i64>,
    keys: Vec<String>,
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
    /// Moves on at every failed Redis call (and starts at 1: a replica
    /// trusts nothing before its first sweep).
    failures: AtomicU64,
    /// The value `failures` had when the last complete sweep began: the
    /// cache is trusted while no failure came after it.
    swept: AtomicU64,
    /// One sweep at a time.
    sweeping: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner")
            .field("connected", &self.connection.get().is_some())
            .field("prefix", &self.prefix)
            .field("failures", &self.failures)
            .field("swept", &self.swept)
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
                failures: AtomicU64::new(1),
                swept: AtomicU64::new(0),
                sweeping: tokio::sync::Mutex::new(()),
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

    /// Probes Redis and sweeps `cache_pendente` every [`PROBE_INTERVAL`],
    /// sooner while the cache is not trusted, for as long as the process
    /// runs.
    pub fn spawn_sweeper(&self, db: Database) -> tokio::task::JoinHandle<()> {
        let cache = self.clone();
        tokio::spawn(async move {
            let first_retry = Duration::from_millis(100);
            let mut backoff = Backoff::new(first_retry, PROBE_INTERVAL);
            loop {
                let began = tokio::time::Instant::now();
                let trusted = {
                    let _one = cache.inner.sweeping.lock().await;
                    cache.sweep(&db).await
                };
                // While trusted, one sweep starts every PROBE_INTERVAL,
                // however long the last one took: the bound a write waits
                // for its invalidation counts on it.
                let next = if trusted {
                    backoff = Backoff::new(first_retry, PROBE_INTERVAL);
                    began + PROBE_INTERVAL
                } else {
                    tokio::time::Instant::now() + backoff.next_delay()
                };
                tokio::time::sleep_until(next).await;
            }
        })
    }

    /// How long a write whose invalidation failed waits at most before it
    /// is acknowledged: [`PROBE_INTERVAL`] plus three Redis timeouts,
    /// because a replica that trusts Redis starts a sweep every probe
    /// interval and has, within two Redis calls of it (the probe, then the
    /// invalidation script), either dropped the keys or failed a call and
    /// stopped trusting Redis, with one timeout more for that sweep's read
    /// of `cache_pendente` and a late timer. Every replica runs with the
    /// same `CACHE_TIMEOUT`.
    pub fn invalidation_bound(&self) -> Duration {
        PROBE_INTERVAL + 3 * self.inner.timeout
    }

    /// The key as stored, with this instance's prefix.
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.inner.prefix)
    }

    fn generation_key(key: &str) -> String {
        format!("{key}:geracao")
    }

    async fn call<T, F, Fut>(&self, command: F) -> Result<T, CacheError>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let result = match self.inner.connection.get().cloned() {
            None => Err(CacheError::NotConnected),
            Some(connection) => {
                match tokio::time::timeout(self.inner.timeout, command(connection)).await {
                    Ok(result) => result.map_err(CacheError::from),
                    Err(_) => Err(CacheError::Timeout),
                }
            }
        };
        if let Err(e) = &result {
            // Whatever Redis missed meanwhile (an invalidation by another
            // replica, say) is known only to `cache_pendente`.
            self.distrust(&format!("Redis falhou ({e})"));
        }
        result
    }

    /// Stops trusting the cache until the next complete sweep.
    fn distrust(&self, why: &str) {
        let was_trusted = self.is_trusted();
        self.inner.failures.fetch_add(1, Ordering::SeqCst);
        if was_trusted {
            tracing::warn!("{why}; cache fora de uso até a próxima varredura");
        }
    }

    /// Whether cached copies may be served and stored: no Redis call has
    /// failed since the last complete sweep of `cache_pendente`.
    pub fn is_trusted(&self) -> bool {
        let swept = self.inner.swept.load(Ordering::SeqCst);
        swept >= self.inner.failures.load(Ordering::SeqCst)
    }

    /// True if the cache is trusted, sweeping first if it is not. Bounded
    /// by the cache timeout: a read waits no longer for Redis than it would
    /// for a cached copy. (Dropping a sweep midway is harmless: it is
    /// repeated whole.)
    pub async fn ensure_trusted(&self, db: &Database) -> bool {
        if self.is_trusted() {
            return true;
        }
        let sweep = async {
            let _one = self.inner.sweeping.lock().await;
            // The sweep this one waited for may have done it already.
            self.is_trusted() || self.sweep(db).await
        };
        tokio::time::timeout(self.inner.timeout, sweep)
            .await
            .unwrap_or(false)
    }

    /// Invalidates every key left in `cache_pendente` and deletes those
    /// rows; the cache is trusted again if no Redis call failed meanwhile.
    /// The caller holds `sweeping`.
    async fn sweep(&self, db: &Database) -> bool {
        let began = self.inner.failures.load(Ordering::SeqCst);
        if !(self.ping().await && db.is_ready()) {
            return false;
        }
        let mut invalidated = 0;
        for batch in 1..=SWEEP_BATCHES {
            let rows = db
                .run(|pool| {
                    sqlx::query_as::<_, (i64, String)>(
                        "SELECT id, chave FROM cache_pendente ORDER BY id LIMIT $1",
                    )
                    .bind(SWEEP_BATCH)
                    .fetch_all(pool)
                })
                .await;
            let rows = match rows {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::debug!("varredura do cache adiada: {e}");
                    return false;
                }
            };
            let full = rows.len() as i64 == SWEEP_BATCH;
            if !rows.is_empty() {
                let (ids, keys): (Vec<i64>, BTreeSet<String>) = rows.into_iter().unzip();
                if self.drop_keys(keys.into_iter().collect()).await.is_err() {
                    return false;
                }
                invalidated += ids.len();
                if let Err(e) = forget(db, &ids).await {
                    tracing::debug!("varredura do cache adiada: {e}");
                    return false;
                }
            }
            if !full {
                break;
            }
            if batch == SWEEP_BATCHES {
                // Not trusted until a sweep gets through them all: a write
                // waiting for its rows counts on every trusting replica
                // having reached them.
                self.distrust(&format!(
                    "mais de {} invalidações pendentes",
                    SWEEP_BATCH * SWEEP_BATCHES as i64
                ));
                return false;
            }
        }
        let was_trusted = self.is_trusted();
        self.inner.swept.fetch_max(began, Ordering::SeqCst);
        if !was_trusted && self.is_trusted() {
            tracing::info!("cache em uso: {invalidated} invalidações pendentes aplicadas");
        }
        self.is_trusted()
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

    /// `DECR` of a counter: takes back an `INCR` whose other half failed.
    pub async fn decr(&self, name: &str) -> Result<i64, CacheError> {
        let key = self.key(name);
        self.call(|mut c| async move { c.decr(key, 1).await }).await
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

    /// Commits a write's transaction `tx`, which makes the cached copies
    /// `names` stale: they are recorded in `cache_pendente` inside `tx` (so
    /// they are dropped even if Redis is away when it commits, or the
    /// process stops right after), then dropped from Redis. Returns once no
    /// replica can serve those copies any more, or after
    /// [`Cache::invalidation_bound`] (see the module docs); an error only
    /// if the transaction did not commit.
    pub async fn commit(
        &self,
        db: &Database,
        mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
        names: &[&str],
    ) -> Result<(), DbError> {
        let stale = self.record(db, &mut tx, names).await?;
        db.bounded(tx.commit()).await?;
        self.invalidate(db, stale).await;
        Ok(())
    }

    async fn record(
        &self,
        db: &Database,
        tx: &mut PgConnection,
        names: &[&str],
    ) -> Result<Invalidation, DbError> {
        let keys: Vec<String> = names.iter().map(|n| self.key(n)).collect();
        let ids = db
            .bounded(
                sqlx::query_scalar::<_, i64>(
                    "INSERT INTO cache_pendente (chave) SELECT unnest($1::text[]) RETURNING id",
                )
                .bind(&keys)
                .fetch_all(&mut *tx),
            )
            .await?;
        Ok(Invalidation { ids, keys })
    }

    /// After the commit: drops the copies and their generations move on.
    /// If Redis cannot be told now, the rows stay in `cache_pendente`, this
    /// replica stops trusting Redis until it has swept them, and the write
    /// waits (bounded) until the keys are dropped, by its own retries or by
    /// any replica's sweep.
    async fn invalidate(&self, db: &Database, done: Invalidation) {
        let deadline = tokio::time::Instant::now() + self.invalidation_bound();
        let first = match self.drop_keys(done.keys.clone()).await {
            Ok(()) => {
                self.forget_done(db, &done.ids).await;
                return;
            }
            Err(e) => e,
        };
        let waiting = async {
            let mut backoff = Backoff::new(WAIT_POLL_FIRST, WAIT_POLL_MAX);
            loop {
                tokio::time::sleep(backoff.next_delay()).await;
                // Gone: a sweep ran the invalidation, then deleted them.
                if let Ok(false) = pending(db, &done.ids).await {
                    return Dropped::BySweep;
                }
                if self.drop_keys(done.keys.clone()).await.is_ok() {
                    return Dropped::ByRetry;
                }
            }
        };
        let started = std::time::Instant::now();
        match tokio::time::timeout_at(deadline, waiting).await {
            Ok(Dropped::ByRetry) => {
                self.forget_done(db, &done.ids).await;
                tracing::info!(
                    "cache invalidado numa nova tentativa após {:?} (antes: {first})",
                    started.elapsed()
                );
            }
            Ok(Dropped::BySweep) => tracing::info!(
                "cache invalidado pela varredura de uma réplica após {:?} (antes: {first})",
                started.elapsed()
            ),
            Err(_) => tracing::warn!(
                "cache ainda não invalidado após {:?} ({first}): nenhuma réplica alcançou o \
                 Redis nesse tempo, e todas leem do banco até varrer; escrita confirmada",
                self.invalidation_bound()
            ),
        }
    }

    /// Deletes the rows of an invalidation Redis has run.
    async fn forget_done(&self, db: &Database, ids: &[i64]) {
        if let Err(e) = forget(db, ids).await {
            // Harmless: a later sweep invalidates these keys once more.
            tracing::debug!("invalidação feita, mas não apagada de cache_pendente: {e}");
        }
    }

    /// The invalidation script over `keys` (already prefixed).
    async fn drop_keys(&self, keys: Vec<String>) -> Result<(), CacheError> {
        if keys.is_empty() {
            return Ok(());
        }
        self.call(|mut c| async move {
            let mut invocation = INVALIDATE.prepare_invoke();
            for key in &keys {
                invocation.key(key).key(Self::generation_key(key));
            }
            invocation.invoke_async::<i64>(&mut c).await
        })
        .await
        .map(drop)
    }

    /// The cached copy of `name`, or on a miss the generation to store a
    /// freshly loaded copy against.
    pub async fn lookup<T: DeserializeOwned>(&self, name: &str) -> Result<Lookup<T>, CacheError> {
        let key = self.key(name);
        let generation = Self::generation_key(&key);
        let (raw, seen): (Option<Vec<u8>>, Option<String>) = self
            .call(|mut c| async move {
                redis::cmd("MGET")
                    .arg(key)
                    .arg(generation)
                    .query_async(&mut c)
                    .await
            })
            .await?;
        match raw {
            Some(bytes) => Ok(Lookup::Hit(serde_json::from_slice(&bytes)?)),
            None => Ok(Lookup::Miss(Generation(seen.unwrap_or_default()))),
        }
    }

    /// Stores `value` under `name` for `ttl` unless a write invalidated the
    /// key since `seen` was read; false when refused.
    pub async fn store_if_current<T: Serialize>(
        &self,
        name: &str,
        seen: &Generation,
        value: &T,
        ttl: Duration,
    ) -> Result<bool, CacheError> {
        let key = self.key(name);
        let generation = Self::generation_key(&key);
        let bytes = serde_json::to_vec(value)?;
        let seconds = ttl.as_secs().max(1);
        let seen = seen.0.clone();
        let stored: i64 = self
            .call(|mut c| async move {
                let mut invocation = STORE_IF_CURRENT.prepare_invoke();
                invocation
                    .key(key)
                    .key(generation)
                    .arg(seen)
                    .arg(seconds)
                    .arg(bytes);
                invocation.invoke_async(&mut c).await
            })
            .await?;
        Ok(stored == 1)
    }

    /// Cache-aside: the cached copy of `name` if there is one, otherwise
    /// `load` from the database, stored for `ttl` unless a write came in
    /// between. Redis trouble is logged and answered from the database.
    pub async fn read_through<T, E, F, Fut>(
        &self,
        db: &Database,
        name: &str,
        ttl: Duration,
        load: F,
    ) -> Result<(T, Fonte), E>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        if !self.ensure_trusted(db).await {
            return Ok((load().await?, Fonte::BancoDeDados));
        }
        let seen = match self.lookup::<T>(name).await {
            Ok(Lookup::Hit(value)) => return Ok((value, Fonte::Cache)),
            Ok(Lookup::Miss(seen)) => Some(seen),
            Err(e) => {
                tracing::debug!("cache ignorado para {name}: {e}");
                None
            }
        };
        let value = load().await?;
        // Not worth waiting for a store that just failed us, nor storing
        // while an invalidation may be pending.
        if let Some(seen) = seen.filter(|_| self.is_trusted()) {
            match self.store_if_current(name, &seen, &value, ttl).await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::debug!("cópia de {name} não gravada: invalidada durante a leitura")
                }
                Err(e) => tracing::debug!("cache não gravado para {name}: {e}"),
            }
        }
        Ok((value, Fonte::BancoDeDados))
    }
}

/// How a write's invalidation reached Redis after its first try failed.
enum Dropped {
    BySweep,
    ByRetry,
}

/// Whether any of the rows `ids` of `cache_pendente` is still there.
async fn pending(db: &Database, ids: &[i64]) -> Result<bool, DbError> {
    db.run(|pool| {
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM cache_pendente WHERE id = ANY($1))")
            .bind(ids)
            .fetch_one(pool)
    })
    .await
}

/// Deletes rows of `cache_pendente` whose keys Redis has dropped.
async fn forget(db: &Database, ids: &[i64]) -> Result<(), DbError> {
    db.run(|pool| {
        sqlx::query("DELETE FROM cache_pendente WHERE id = ANY($1)")
            .bind(ids)
            .execute(pool)
    })
    .await
    .map(drop)
}
