//! The gateway's settings, from the environment, read once at start.

use std::time::Duration;

use kit::config::{ConfigError, Env};

/// Settings, from the environment. A duration of 0 or over a day is refused
/// at start-up with the variable's name.
#[derive(Debug, Clone)]
pub struct Config {
    /// `PORT`, default 5004 as in the write-up.
    pub port: u16,
    /// `USERS_SERVICE`, default `users_service:5003`.
    pub users: String,
    /// `ORDERS_SERVICE`, default `orders_service:5002`.
    pub orders: String,
    /// `CONNECT_TIMEOUT`, default 500 ms: a replica that takes longer to
    /// accept a connection is treated as gone.
    pub connect_timeout: Duration,
    /// `UPSTREAM_TIMEOUT`, default 2 s: the bound on one upstream call, up
    /// to the answer's head; its body may then pause this long between
    /// two pieces.
    pub upstream_timeout: Duration,
    /// `DISCOVERY_INTERVAL`, default 2 s: how often DNS is asked again.
    pub discovery_interval: Duration,
    /// `REPLICA_DOWN_FOR`, default 5 s: how long a replica that refused a
    /// connection is skipped before it is tried again.
    pub replica_down_for: Duration,
    /// `SHUTDOWN_GRACE`, default 5 s: how long a stop waits for in-flight
    /// requests.
    pub grace: Duration,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let secs = Duration::from_secs;
        Ok(Self {
            port: env.or("PORT", 5004)?,
            users: service(env, "USERS_SERVICE", "users_service:5003")?,
            orders: service(env, "ORDERS_SERVICE", "orders_service:5002")?,
            connect_timeout: env.duration_or("CONNECT_TIMEOUT", Duration::from_millis(500))?,
            upstream_timeout: env.duration_or("UPSTREAM_TIMEOUT", secs(2))?,
            discovery_interval: env.duration_or("DISCOVERY_INTERVAL", secs(2))?,
            replica_down_for: env.duration_or("REPLICA_DOWN_FOR", secs(5))?,
            grace: env.duration_or("SHUTDOWN_GRACE", secs(5))?,
        })
    }
}

/// A `host:port` setting, such as `users_service:5003`.
fn service(env: &Env, name: &str, default: &str) -> Result<String, ConfigError> {
    let value = env.raw(name).unwrap_or_else(|| default.to_owned());
    let valid = value.rsplit_once(':').is_some_and(|(host, port)| {
        !host.is_empty() && !host.contains('/') && port.parse::<u16>().is_ok()
    });
    if valid {
        return Ok(value);
    }
    Err(ConfigError {
        name: name.to_owned(),
        value,
        reason: "expected host:port, such as users_service:5003".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_addresses_need_a_host_and_a_port() {
        let env = |value: &str| Env::from_pairs([("USERS_SERVICE", value)]);
        let config = Config::from_env(&env("users_service:5003")).unwrap();
        assert_eq!(config.users, "users_service:5003");
        for bad in ["users_service", ":5003", "http://x:1", "x:99999"] {
            let err = Config::from_env(&env(bad)).unwrap_err();
            assert_eq!(err.name, "USERS_SERVICE", "{bad}");
        }
    }

    #[test]
    fn durations_that_make_no_sense_are_refused_by_name() {
        for (name, value) in [("DISCOVERY_INTERVAL", "0"), ("UPSTREAM_TIMEOUT", "1y")] {
            let err = Config::from_env(&Env::from_pairs([(name, value)])).unwrap_err();
            assert_eq!(err.name, name);
        }
    }
}
