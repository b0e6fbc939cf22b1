//! What Docker can tell about a stack's containers while it runs: their
//! memory, how often they were restarted, and how long each took to stop.

use std::{
    collections::BTreeMap,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use crate::docker;

/// The names of a compose project's containers, running or not, sorted.
pub fn containers(project: &str) -> Vec<String> {
    let label = format!("label=com.docker.compose.project={project}");
    let mut names: Vec<String> =
        docker(&["ps", "-a", "--filter", &label, "--format", "{{.Names}}"])
            .ok()
            .stdout
            .lines()
            .map(str::to_owned)
            .collect();
    names.sort();
    names
}

/// Memory in use per container, in MiB (`docker stats`' figure: the
/// cgroup's usage without the page cache).
pub fn memory_mib(containers: &[String]) -> BTreeMap<String, f64> {
    let mut args = vec![
        "stats",
        "--no-stream",
        "--format",
        "{{.Name}}\t{{.MemUsage}}",
    ];
    args.extend(containers.iter().map(String::as_str));
    docker(&args)
        .ok()
        .stdout
        .lines()
        .filter_map(|line| {
            let (name, usage) = line.split_once('\t')?;
            let used = usage.split('/').next()?.trim();
            Some((name.to_owned(), parse_size_mib(used)?))
        })
        .collect()
}

/// `"12.5MiB"`, `"800KiB"`, `"1.2GiB"`, `"512B"` (and kB/MB/GB) in MiB.
pub fn parse_size_mib(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.trim().parse().ok()?;
    let factor = match unit.trim() {
        "B" => 1.0 / (1024.0 * 1024.0),
        "KiB" => 1.0 / 1024.0,
        "kB" | "KB" => 1000.0 / (1024.0 * 1024.0),
        "MiB" => 1.0,
        "MB" => 1_000_000.0 / (1024.0 * 1024.0),
        "GiB" => 1024.0,
        "GB" => 1e9 / (1024.0 * 1024.0),
        _ => return None,
    };
    Some(number * factor)
}

/// What each container of `project` waits for (compose's `depends_on`),
/// as container names, from the labels compose puts on every container.
pub fn dependencies(project: &str) -> BTreeMap<String, Vec<String>> {
    let label = format!("label=com.docker.compose.project={project}");
    let format = "{{.Names}}\t{{.Label \"com.docker.compose.service\"}}\t{{.Label \"com.docker.compose.depends_on\"}}";
    let listed = docker(&["ps", "-a", "--filter", &label, "--format", format]).ok();
    let rows: Vec<Vec<&str>> = listed
        .stdout
        .lines()
        .map(|line| line.split('\t').collect())
        .collect();
    let containers_of = |service: &str| -> Vec<String> {
        rows.iter()
            .filter(|row| row.get(1) == Some(&service))
            .map(|row| row[0].to_owned())
            .collect()
    };
    rows.iter()
        .map(|row| {
            // "db:service_healthy:false,cache:service_healthy:false"
            let waits_for = row
                .get(2)
                .unwrap_or(&"")
                .split(',')
                .filter_map(|entry| entry.split(':').next())
                .filter(|service| !service.is_empty())
                .flat_map(containers_of)
                .collect();
            (row[0].to_owned(), waits_for)
        })
        .collect()
}

/// `RestartCount` of a container (restarts by its restart policy).
pub fn restart_count(container: &str) -> u32 {
    crate::inspect(container, "{{.RestartCount}}")
        .parse()
        .unwrap_or_else(|e| panic!("RestartCount of {container}: {e}"))
}

/// How one container stopped, from the engine's events.
#[derive(Debug, Clone)]
pub struct Stop {
    pub container: String,
    /// The signal the engine sent first (15 = SIGTERM, 2 = SIGINT, 9 = SIGKILL).
    pub signal: String,
    /// From that signal to the container's exit.
    pub took: Duration,
    pub exit_code: i32,
    /// The exit, as a wall-clock time.
    pub died_at: SystemTime,
    /// The signal, as a wall-clock time.
    pub signalled_at: SystemTime,
}

fn unix(time: SystemTime) -> String {
    let d = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    format!("{}.{:09}", d.as_secs(), d.subsec_nanos())
}

/// Every container of `project` that the engine signalled and saw exit
/// between `since` and `until` (`docker events`, replayed), by name.
pub fn stops(project: &str, since: SystemTime, until: SystemTime) -> Vec<Stop> {
    let label = format!("label=com.docker.compose.project={project}");
    let run = docker(&[
        "events",
        "--since",
        &unix(since),
        "--until",
        &unix(until),
        "--filter",
        "type=container",
        "--filter",
        &label,
        "--format",
        "{{json .}}",
    ])
    .ok();
    let mut kills: BTreeMap<String, (SystemTime, String)> = BTreeMap::new();
    let mut out = Vec::new();
    for line in run.stdout.lines() {
        let Ok(event) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let attributes = &event["Actor"]["Attributes"];
        let name = attributes["name"].as_str().unwrap_or_default().to_owned();
        let at = UNIX_EPOCH + Duration::from_nanos(event["timeNano"].as_u64().unwrap_or_default());
        match event["Action"].as_str() {
            Some("kill") => {
                let signal = attributes["signal"].as_str().unwrap_or_default().to_owned();
                kills.entry(name).or_insert((at, signal));
            }
            Some("die") => {
                if let Some((signalled_at, signal)) = kills.remove(&name) {
                    out.push(Stop {
                        took: at.duration_since(signalled_at).unwrap_or_default(),
                        exit_code: attributes["exitCode"]
                            .as_str()
                            .and_then(|c| c.parse().ok())
                            .unwrap_or(-1),
                        container: name,
                        signal,
                        died_at: at,
                        signalled_at,
                    });
                }
            }
            _ => {}
        }
    }
    out.sort_by(|a, b| a.container.cmp(&b.container));
    out
}

#[cfg(test)]
mod tests {
    use super::parse_size_mib;

    #[test]
    fn sizes_in_mib() {
        assert_eq!(parse_size_mib("12.5MiB"), Some(12.5));
        assert_eq!(parse_size_mib("512KiB"), Some(0.5));
        assert_eq!(parse_size_mib("1GiB"), Some(1024.0));
        assert_eq!(parse_size_mib("0B"), Some(0.0));
        assert_eq!(parse_size_mib("oops"), None);
    }
}
