//! Typed configuration from environment variables, as containers are
//! configured: every setting has a default that works in the challenge's
//! compose file, and a bad value fails at start-up naming the variable. A
//! service reads its settings once in `main` into a plain struct.

use std::{collections::HashMap, fmt::Display, str::FromStr, time::Duration};

/// A setting that is present but cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("invalid value {value:?} for environment variable {name}: {reason}")]
pub struct ConfigError {
    pub name: String,
    pub value: String,
    pub reason: String,
}

/// Where settings come from: the process environment, or for tests a set of
/// pairs, so that tests never touch global state.
#[derive(Debug, Clone, Default)]
pub struct Env(HashMap<String, String>);

impl Env {
    /// The process environment (a variable that is not UTF-8 counts as unset).
    pub fn process() -> Self {
        Self::from_pairs(
            std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
        )
    }

    /// A fixed environment, for tests; a later pair wins over an earlier one.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let pairs = pairs.into_iter().map(|(k, v)| (k.into(), v.into()));
        Self(pairs.collect())
    }

    /// The raw value of `name`, treating an empty string as unset (compose
    /// turns `${X:-}` into an empty value, which means "use the default").
    pub fn raw(&self, name: &str) -> Option<String> {
        self.0.get(name).filter(|v| !v.trim().is_empty()).cloned()
    }

    /// `name` parsed as `T`, or `default` when unset.
    pub fn or<T>(&self, name: &str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: Display,
    {
        self.parsed(name, default, |v| {
            v.parse().map_err(|e: T::Err| e.to_string())
        })
    }

    /// A duration as [`parse_duration`] reads it, or `default` when unset.
    pub fn duration_or(&self, name: &str, default: Duration) -> Result<Duration, ConfigError> {
        self.parsed(name, default, parse_duration)
    }

    fn parsed<T>(
        &self,
        name: &str,
        default: T,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<T, ConfigError> {
        let Some(value) = self.raw(name) else {
            return Ok(default);
        };
        parse(value.trim()).map_err(|reason| ConfigError {
            name: name.to_owned(),
            value,
            reason,
        })
    }
}

/// The settings every HTTP service here reads the same way.
#[derive(Debug, Clone)]
pub struct Basics {
    /// `PORT`; the default is the write-up's port for the service.
    pub port: u16,
    /// `HOSTNAME`: Docker sets it to the container's short id, which the
    /// services show so a learner can tell replicas apart.
    pub container_name: String,
    /// `SHUTDOWN_GRACE` (default 5 s): how long a stop waits for in-flight
    /// requests.
    pub grace: Duration,
}

impl Basics {
    pub fn from_env(env: &Env, default_port: u16) -> Result<Self, ConfigError> {
        Ok(Self {
            port: env.or("PORT", default_port)?,
            container_name: env.or("HOSTNAME", "unknown".to_owned())?,
            grace: env.duration_or("SHUTDOWN_GRACE", Duration::from_secs(5))?,
        })
    }
}

/// Parses `5s`, `250ms`, `1m 30s`; a bare number means seconds, as a learner
/// typing `INTERVAL=5` would expect. Zero and more than a day are refused:
/// every duration here is a timeout, an interval or a lifetime, for which
/// both are typing errors that would fail later, or panic.
pub fn parse_duration(value: &str) -> Result<Duration, String> {
    const DAY: Duration = Duration::from_secs(24 * 60 * 60);
    const RANGE: &str = "must be more than 0 and at most a day (try 5s)";
    let value = value.trim();
    let parsed = match value.parse::<f64>() {
        Ok(secs) => Duration::try_from_secs_f64(secs).map_err(|_| RANGE)?,
        Err(_) => {
            humantime::parse_duration(value).map_err(|e| format!("{e} (try 5s, 250ms or 1m)"))?
        }
    };
    if parsed.is_zero() || parsed > DAY {
        return Err(RANGE.into());
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_when_unset_or_empty() {
        let env = Env::from_pairs([("EMPTY", "  ")]);
        assert_eq!(env.or("PORT", 8080u16).unwrap(), 8080);
        assert_eq!(env.or("EMPTY", 7u16).unwrap(), 7);
    }

    #[test]
    fn bad_values_name_the_variable() {
        let env = Env::from_pairs([("PORT", "eighty")]);
        let err = env.or("PORT", 8080u16).unwrap_err();
        assert_eq!(err.name, "PORT");
        let text = err.to_string();
        assert!(text.contains("PORT") && text.contains("eighty"), "{text}");
    }

    #[test]
    fn durations_accept_units_and_bare_seconds() {
        let env = Env::from_pairs([("A", "250ms"), ("B", "5"), ("C", "1.5"), ("D", "soon")]);
        assert_eq!(
            env.duration_or("A", Duration::ZERO).unwrap(),
            Duration::from_millis(250)
        );
        assert_eq!(
            env.duration_or("B", Duration::ZERO).unwrap(),
            Duration::from_secs(5)
        );
        assert_eq!(
            env.duration_or("C", Duration::ZERO).unwrap(),
            Duration::from_millis(1500)
        );
        assert_eq!(env.duration_or("D", Duration::ZERO).unwrap_err().name, "D");
        for absurd in ["-1", "0", "0s", "0ms", "2d", "1y", "inf", "NaN"] {
            assert!(parse_duration(absurd).is_err(), "{absurd}");
        }
    }

    #[test]
    fn later_pairs_win() {
        let env = Env::from_pairs([("X", "1"), ("X", "2")]);
        assert_eq!(env.or("X", 0u8).unwrap(), 2);
    }
}
