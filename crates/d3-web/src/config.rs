//! Settings of the web service, read once from the environment.
//!
//! Two ways to say where the data stores are, because the write-ups use
//! both: whole URLs (`DATABASE_URL`, `REDIS_URL`, as compose files usually
//! do) or write-up 003's pieces (`DB_HOST`, `DB_NAME`, `DB_USER`, `DB_PASS`,
//! `CACHE_HOST`) for the manual `docker run` path. A URL wins when both are
//! given. Any secret can also come from a file named by `<NAME>_FILE` (a
//! compose secret), so the password never appears in `docker inspect`.

use std::time::Duration;

use kit::config::{ConfigError, Env};
use sqlx::postgres::PgConnectOptions;

/// Everything the service needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    /// `PORT`, default 5000 as in write-ups 001 and 002.
    pub port: u16,
    /// Where PostgreSQL is.
    pub database: PgConnectOptions,
    /// Where Redis is, as a `redis://` URL.
    pub redis_url: String,
    /// `CACHE_PREFIX`: prepended to every Redis key, so several instances
    /// (or tests) can share one Redis without seeing each other's keys.
    pub cache_prefix: String,
    /// `DB_POOL_SIZE`: at most this many PostgreSQL connections.
    pub pool_size: u32,
    /// `DB_TIMEOUT`: longest wait for a connection or a query before the
    /// call answers 503. Short, so a stopped database is reported quickly
    /// instead of hanging the client.
    pub db_timeout: Duration,
    /// `CACHE_TIMEOUT`: longest wait for Redis before falling back.
    pub cache_timeout: Duration,
    /// Cache lifetimes: posts and the user list 60 s, one user 300 s.
    pub ttl: Ttl,
    /// `SHUTDOWN_GRACE`: how long a stop waits for in-flight requests.
    pub grace: Duration,
}

/// How long each cached answer lives.
#[derive(Debug, Clone, Copy)]
pub struct Ttl {
    pub posts: Duration,
    pub users_list: Duration,
    pub user: Duration,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            port: env.or("PORT", 5000)?,
            database: database(env)?,
            redis_url: redis_url(env)?,
            cache_prefix: env.or("CACHE_PREFIX", String::new())?,
            pool_size: env.or("DB_POOL_SIZE", 10)?,
            db_timeout: env.duration_or("DB_TIMEOUT", Duration::from_millis(1500))?,
            cache_timeout: env.duration_or("CACHE_TIMEOUT", Duration::from_millis(500))?,
            ttl: Ttl {
                posts: env.duration_or("POSTS_CACHE_TTL", Duration::from_secs(60))?,
                users_list: env.duration_or("USERS_CACHE_TTL", Duration::from_secs(60))?,
                user: env.duration_or("USER_CACHE_TTL", Duration::from_secs(300))?,
            },
            grace: env.duration_or("SHUTDOWN_GRACE", Duration::from_secs(5))?,
        })
    }
}

/// `NAME`, or the contents of the file `NAME_FILE` names (trailing newline
/// dropped: `echo secret > file` adds one).
pub fn secret(env: &Env, name: &str) -> Result<Option<String>, ConfigError> {
    if let Some(value) = env.raw(name) {
        return Ok(Some(value));
    }
    let file_var = format!("{name}_FILE");
    let Some(path) = env.raw(&file_var) else {
        return Ok(None);
    };
    std::fs::read_to_string(&path)
        .map(|text| Some(text.trim_end_matches(['\r', '\n']).to_owned()))
        .map_err(|e| ConfigError {
            name: file_var,
            value: path,
            reason: format!("cannot read the file: {e}"),
        })
}

fn database(env: &Env) -> Result<PgConnectOptions, ConfigError> {
    if let Some(url) = secret(env, "DATABASE_URL")? {
        return url.parse::<PgConnectOptions>().map_err(|e| ConfigError {
            name: "DATABASE_URL".into(),
            // The URL may hold a password: name the problem, not the value.
            value: "(hidden)".into(),
            reason: e.to_string(),
        });
    }
    // Built piece by piece rather than as a URL, so a password with `@` or
    // `/` in it needs no escaping. Defaults are write-up 002's names.
    let mut options = PgConnectOptions::new_without_pgpass()
        .host(&env.or("DB_HOST", "db".to_owned())?)
        .port(env.or("DB_PORT", 5432)?)
        .database(&env.or("DB_NAME", "aplicacao".to_owned())?)
        .username(&env.or("DB_USER", "usuario".to_owned())?);
    if let Some(password) = secret(env, "DB_PASS")? {
        options = options.password(&password);
    }
    Ok(options)
}

fn redis_url(env: &Env) -> Result<String, ConfigError> {
    if let Some(url) = secret(env, "REDIS_URL")? {
        return Ok(url);
    }
    let host: String = env.or("CACHE_HOST", "cache".to_owned())?;
    let port: u16 = env.or("CACHE_PORT", 6379)?;
    Ok(format!("redis://{host}:{port}/"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn write_up_003_variables_build_the_connection() {
        let env = Env::from_pairs([
            ("DB_HOST", "db"),
            ("DB_NAME", "meubanco"),
            ("DB_USER", "postgres"),
            ("DB_PASS", "p@ss/word"),
            ("CACHE_HOST", "cache"),
        ]);
        let config = Config::from_env(&env).unwrap();
        assert_eq!(config.database.get_host(), "db");
        assert_eq!(config.database.get_database(), Some("meubanco"));
        assert_eq!(config.database.get_username(), "postgres");
        assert_eq!(config.redis_url, "redis://cache:6379/");
        assert_eq!(config.port, 5000);
    }

    #[test]
    fn urls_win_and_passwords_come_from_files() {
        let dir = std::env::temp_dir().join(format!("d3-secret-{}", std::process::id()));
        std::fs::write(&dir, "s3cret\n").unwrap();
        let env = Env::from_pairs([
            ("DB_HOST", "ignored"),
            ("DATABASE_URL", "postgres://u@pg:5433/x"),
            ("REDIS_URL", "redis://r:6380/2"),
            ("DB_PASS_FILE", dir.to_str().unwrap()),
        ]);
        let config = Config::from_env(&env).unwrap();
        assert_eq!(config.database.get_host(), "pg");
        assert_eq!(config.database.get_port(), 5433);
        assert_eq!(config.redis_url, "redis://r:6380/2");
        assert_eq!(secret(&env, "DB_PASS").unwrap().as_deref(), Some("s3cret"));
        std::fs::remove_file(&dir).unwrap();
    }

    #[test]
    fn a_missing_password_file_is_named() {
        let env = Env::from_pairs([("DB_PASS_FILE", "/nonexistent/d3")]);
        let err = Config::from_env(&env).unwrap_err();
        assert_eq!(err.name, "DB_PASS_FILE");
    }
}
