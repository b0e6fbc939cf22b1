//! Typed configuration from environment variables.
//!
//! Containers are configured through the environment, so every setting has
//! a default that works inside the challenge's compose file, and a bad value
//! fails at start-up with a message that names the variable. A service reads
//! its settings once in `main` into a plain struct and passes it down; no
//! handler ever calls `std::env::var`.

use std::{fmt::Display, str::FromStr, time::Duration};

/// A setting that is present but cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("invalid value {value:?} for environment variable {name}: {reason}")]
pub struct ConfigError {
    pub name: String,
    pub value: String,
    pub reason: String,
}

/// Where settings come from. [`Env::process`] reads the real environment;
/// tests build one from pairs so they never touch global state.
#[derive(Debug, Clone, Default)]
pub struct Env {
    pairs: Option<Vec<(String, String)>>,
}

impl Env {
    /// The process environment.
    pub fn process() -> Self {
        Self { pairs: None }
    }

    /// A fixed environment, for tests.
    pub fn from_pairs<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Self {
            pairs: Some(
                pairs
                    .into_iter()
                    .map(|(k, v)| (k.into(), v.into()))
                    .collect(),
            ),
        }
    }

    /// The raw value of `name`, treating an empty string as unset (compose
    /// turns `${X:-}` into an empty value, which means "use the default").
    pub fn raw(&self, name: &str) -> Option<String> {
        let value = match &self.pairs {
            None => std::env::var(name).ok(),
            Some(pairs) => pairs
                .iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone()),
        };
        value.filter(|v| !v.trim().is_empty())
    }

    /// `name` parsed as `T`, or `None` when unset.
    pub fn optional<T>(&self, name: &str) -> Result<Option<T>, ConfigError>
    where
        T: FromStr,
        T::Err: Display,
    {
        let Some(value) = self.raw(name) else {
            return Ok(None);
        };
        match value.trim().parse::<T>() {
            Ok(parsed) => Ok(Some(parsed)),
            Err(e) => Err(ConfigError {
                name: name.to_owned(),
                reason: e.to_string(),
                value,
            }),
        }
    }

    /// `name` parsed as `T`, or `default` when unset.
    pub fn or<T>(&self, name: &str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: Display,
    {
        Ok(self.optional(name)?.unwrap_or(default))
    }

    /// A duration such as `5s`, `250ms` or `1m 30s`.
    pub fn duration_or(&self, name: &str, default: Duration) -> Result<Duration, ConfigError> {
        match self.raw(name) {
            None => Ok(default),
            Some(value) => parse_duration(&value).map_err(|reason| ConfigError {
                name: name.to_owned(),
                value,
                reason,
            }),
        }
    }
}

impl Env {
    /// A duration as [`Env::duration_or`] reads it, refused at start-up
    /// unless it lies in `range`: a timeout of 0 or an interval of a year is
    /// a typing error, and would otherwise fail much later, or panic.
    pub fn duration_in(
        &self,
        name: &str,
        default: Duration,
        range: std::ops::RangeInclusive<Duration>,
    ) -> Result<Duration, ConfigError> {
        let value = self.duration_or(name, default)?;
        if range.contains(&value) {
            return Ok(value);
        }
        Err(ConfigError {
            name: name.to_owned(),
            value: self.raw(name).unwrap_or_default(),
            reason: format!(
                "must be between {} and {}",
                humantime::format_duration(*range.start()),
                humantime::format_duration(*range.end())
            ),
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

/// The longest duration any setting accepts: a day.
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 60 * 60);

/// Parses `5s`, `250ms`, `1m`; a bare number means seconds, as a learner
/// typing `INTERVAL=5` would expect. Zero and more than a day are refused:
/// every duration here is a timeout, an interval or a lifetime, for which
/// both are typing errors that would fail later, or panic.
pub fn parse_duration(value: &str) -> Result<Duration, String> {
    let value = value.trim();
    let parsed = match value.parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs > 0.0 && secs <= MAX_DURATION.as_secs_f64() => {
            Duration::from_secs_f64(secs)
        }
        Ok(_) => return Err("must be more than 0 and at most a day (try 5s)".into()),
        Err(_) => {
            humantime::parse_duration(value).map_err(|e| format!("{e} (try 5s, 250ms or 1m)"))?
        }
    };
    if parsed.is_zero() || parsed > MAX_DURATION {
        return Err("must be more than 0 and at most a day (try 5s)".into());
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
    fn durations_out_of_range_are_refused_with_the_name() {
        let range = Duration::from_millis(10)..=Duration::from_secs(60);
        let env = Env::from_pairs([("A", "5ms"), ("B", "2h"), ("C", "2s")]);
        for name in ["A", "B"] {
            let err = env
                .duration_in(name, Duration::ZERO, range.clone())
                .unwrap_err();
            assert_eq!(err.name, name);
            assert!(err.to_string().contains("between 10ms and 1m"), "{err}");
        }
        assert_eq!(
            env.duration_in("C", Duration::ZERO, range).unwrap(),
            Duration::from_secs(2)
        );
    }

    #[test]
    fn later_pairs_win() {
        let env = Env::from_pairs([("X", "1"), ("X", "2")]);
        assert_eq!(env.or("X", 0u8).unwrap(), 2);
    }
}
