//! Helpers for the end-to-end tests: drive the Docker CLI exactly as a
//! learner types it, and wait for readiness by polling with a deadline,
//! never by sleeping and hoping.
//!
//! Every test file under `tests/` is one challenge. Tests of one challenge
//! share fixed container names (the write-ups' names), so they take
//! [`serial`] first; cargo runs the files one after another.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

pub mod readme;

pub mod browser;

pub mod raw;

pub mod load;

pub mod observe;

use std::{
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    sync::{Mutex, MutexGuard},
    thread,
    time::{Duration, Instant},
};

/// The workspace root (where `Cargo.toml` and `desafioN/` live).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/e2e sits two levels below the root")
        .to_path_buf()
}

/// One end-to-end test at a time on this machine.
///
/// Tests share the write-ups' fixed container, network and volume names,
/// and the host's CPU: two at once (two test binaries, or two checkouts)
/// would trip over each other. An in-process mutex orders the tests of one
/// binary; a file lock in the temp folder orders processes.
pub fn serial() -> Serial {
    static LOCK: Mutex<()> = Mutex::new(());
    let local = LOCK
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let path = std::env::temp_dir().join("desafios-e2e.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    // Released when the file closes, so a crashed test never holds it.
    file.lock()
        .unwrap_or_else(|e| panic!("lock {}: {e}", path.display()));
    Serial {
        _file: file,
        _local: local,
    }
}

/// Held for the length of one end-to-end test; see [`serial`].
#[derive(Debug)]
pub struct Serial {
    _file: std::fs::File,
    _local: MutexGuard<'static, ()>,
}

/// The captured result of a command.
#[derive(Debug)]
pub struct Run {
    pub command: String,
    pub status: std::process::ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(command: String, output: Output) -> Self {
        Self {
            command,
            status: output.status,
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// Panics with the whole output unless the command succeeded.
    #[track_caller]
    pub fn ok(self) -> Self {
        assert!(
            self.success(),
            "`{}` failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
            self.command,
            self.status,
            self.stdout,
            self.stderr
        );
        self
    }
}

/// The longest any one command may run: a cold build of the largest image
/// on a two-core machine fits well within it. A command still running then is
/// killed and the test fails, instead of hanging the whole suite.
pub const COMMAND_DEADLINE: Duration = Duration::from_secs(15 * 60);

/// Runs `program args` in `dir` with extra environment `env`, killed after
/// [`COMMAND_DEADLINE`].
pub fn run_in(dir: &Path, program: &str, args: &[&str], env: &[(String, String)]) -> Run {
    let command = format!("{program} {}", args.join(" "));
    let mut child = Command::new(program)
        .args(args)
        .current_dir(dir)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("DOCKER_BUILDKIT", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run `{command}`: {e} (is Docker installed?)"));
    // Drain both pipes on threads so a chatty command never blocks on a full pipe.
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for a child process") {
            break status;
        }
        if started.elapsed() > COMMAND_DEADLINE {
            let _ = child.kill();
            panic!("`{command}` still running after {COMMAND_DEADLINE:?}; killed");
        }
        thread::sleep(Duration::from_millis(20));
    };
    let output = Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    };
    Run::from(command, output)
}

/// `docker args`, from the workspace root.
pub fn docker(args: &[&str]) -> Run {
    run_in(&repo_root(), "docker", args, &[])
}

/// Polls `probe` every 200 ms until it returns `Some`, or panics after
/// `deadline` naming `what`.
#[track_caller]
pub fn wait_until<T>(what: &str, deadline: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(
            start.elapsed() < deadline,
            "timed out after {deadline:?} waiting for {what}"
        );
        thread::sleep(Duration::from_millis(200));
    }
}

/// A port on 127.0.0.1 that nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A compose project: one challenge's `compose.yaml`, with the environment a
/// learner could set (host ports). Dropping it runs `down -v`, so a failing
/// test leaves nothing behind.
#[derive(Debug)]
pub struct Stack {
    dir: PathBuf,
    env: Vec<(String, String)>,
    files: Vec<String>,
}

impl Stack {
    /// The stack in `desafioN/` (`challenge` is the folder name).
    pub fn new(challenge: &str) -> Self {
        Self::at(repo_root().join(challenge))
    }

    /// The stack whose `compose.yaml` is in `dir` (a copy in a temporary
    /// folder, say).
    pub fn at(dir: PathBuf) -> Self {
        let stack = Self {
            dir,
            env: Vec::new(),
            files: Vec::new(),
        };
        // Leftovers of an interrupted earlier run would hold the names.
        stack.compose(&["down", "-v", "--remove-orphans", "--timeout", "5"]);
        stack
    }

    /// Adds an extra compose file (`-f`), relative to the challenge folder.
    pub fn file(mut self, file: &str) -> Self {
        if self.files.is_empty() {
            self.files.push("compose.yaml".into());
        }
        self.files.push(file.into());
        self
    }

    /// Sets an environment variable for every compose command.
    pub fn env(mut self, key: &str, value: impl ToString) -> Self {
        self.env.push((key.into(), value.to_string()));
        self
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `docker compose <args>` in the challenge folder (not checked).
    pub fn compose(&self, args: &[&str]) -> Run {
        let mut full: Vec<&str> = vec!["compose"];
        for f in &self.files {
            full.extend(["-f", f.as_str()]);
        }
        full.extend_from_slice(args);
        run_in(&self.dir, "docker", &full, &self.env)
    }

    /// Builds and starts everything, returning once every service with a
    /// healthcheck is healthy (compose's own `--wait`).
    #[track_caller]
    pub fn up(&self) -> &Self {
        self.up_scaled(&[])
    }

    /// [`Stack::up`] with `--scale service=n` for each pair.
    #[track_caller]
    pub fn up_scaled(&self, scales: &[(&str, u32)]) -> &Self {
        let scales: Vec<String> = scales.iter().map(|(s, n)| format!("{s}={n}")).collect();
        let mut args = vec!["up", "-d", "--build", "--wait", "--wait-timeout", "600"];
        for scale in &scales {
            args.extend(["--scale", scale.as_str()]);
        }
        self.compose(&args).ok();
        self
    }

    /// `docker compose logs --no-color <service>`.
    pub fn logs(&self, service: &str) -> String {
        let run = self.compose(&["logs", "--no-color", "--no-log-prefix", service]);
        run.stdout + &run.stderr
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let run = self.compose(&["down", "-v", "--remove-orphans", "--timeout", "5"]);
        if !run.success() {
            eprintln!("cleanup `{}` failed: {}", run.command, run.stderr);
        }
    }
}

/// The health state Docker reports for a container (`healthy`, `starting`,
/// `unhealthy`), or `None` if it has no healthcheck or does not exist.
pub fn health_of(container: &str) -> Option<String> {
    let run = docker(&[
        "inspect",
        "--format",
        "{{if .State.Health}}{{.State.Health.Status}}{{end}}",
        container,
    ]);
    let status = run.stdout.trim().to_owned();
    (run.success() && !status.is_empty()).then_some(status)
}

/// Plain HTTP from the host, as `curl` would do it.
pub mod http {
    use std::time::Duration;

    /// An answer: status code and body text.
    #[derive(Debug, Clone)]
    pub struct Answer {
        pub status: u16,
        pub body: String,
        pub headers: reqwest::header::HeaderMap,
    }

    impl Answer {
        /// The body as JSON; panics with the body if it is not.
        #[track_caller]
        pub fn json(&self) -> serde_json::Value {
            serde_json::from_str(&self.body)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
        }
    }

    fn client() -> reqwest::blocking::Client {
        reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(10))
            .no_proxy()
            .build()
            .unwrap()
    }

    /// Sends `method url` with an optional JSON body; `Err` only when no
    /// answer came (refused, reset, timeout).
    pub fn send(method: &str, url: &str, json: Option<&str>) -> Result<Answer, String> {
        let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
        let mut request = client().request(method, url);
        if let Some(body) = json {
            request = request
                .header("content-type", "application/json")
                .body(body.to_owned());
        }
        let response = request.send().map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().map_err(|e| e.to_string())?;
        Ok(Answer {
            status,
            body,
            headers,
        })
    }

    /// `GET url` with extra request headers; `Err` only when no answer came.
    pub fn get_with(url: &str, headers: &[(&str, &str)]) -> Result<Answer, String> {
        let mut request = client().get(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().map_err(|e| e.to_string())?;
        Ok(Answer {
            status,
            body,
            headers,
        })
    }

    /// `GET url`; panics if no answer came.
    #[track_caller]
    pub fn get(url: &str) -> Answer {
        send("GET", url, None).unwrap_or_else(|e| panic!("GET {url}: {e}"))
    }

    /// `GET url`, or `None` if nothing answered: for [`crate::wait_until`].
    pub fn try_get(url: &str) -> Option<Answer> {
        send("GET", url, None).ok()
    }
}

/// Removes the containers, networks and volumes a manual-path test created
/// (`docker run --name ...`), when dropped, pass or fail.
#[derive(Debug, Default)]
pub struct Cleanup {
    containers: Vec<String>,
    networks: Vec<String>,
    volumes: Vec<String>,
}

impl Cleanup {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn container(mut self, name: &str) -> Self {
        self.containers.push(name.into());
        self
    }

    pub fn network(mut self, name: &str) -> Self {
        self.networks.push(name.into());
        self
    }

    pub fn volume(mut self, name: &str) -> Self {
        self.volumes.push(name.into());
        self
    }

    /// Removes everything now (also done on drop); returns `self` so a test
    /// can clear leftovers of an interrupted earlier run before it starts.
    pub fn sweep(self) -> Self {
        self.remove_all();
        self
    }

    fn remove_all(&self) {
        for c in &self.containers {
            docker(&["rm", "-f", "-v", c]);
        }
        for n in &self.networks {
            docker(&["network", "rm", n]);
        }
        for v in &self.volumes {
            docker(&["volume", "rm", "-f", v]);
        }
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        self.remove_all();
    }
}

/// Puts `file` into `volume` as `/data/<name>` through `holder`, a stopped
/// container of `image` that mounts the volume at `/data` (`docker create`,
/// then `docker cp`): the way to seed a volume when the image has no shell.
/// Removing `holder` is the caller's (see [`Cleanup`]).
#[track_caller]
pub fn copy_into_volume(file: &Path, volume: &str, holder: &str, image: &str, name: &str) {
    let mount = format!("{volume}:/data");
    docker(&["create", "--name", holder, "-v", &mount, image]).ok();
    let source = file.to_str().expect("a UTF-8 path");
    docker(&["cp", source, &format!("{holder}:/data/{name}")]).ok();
}

/// Desafio 5 as `compose.yaml` starts it, the gateway and the services each
/// published on a free host port, not started yet: the stack and its
/// gateway, users and orders ports.
pub fn desafio5_direct() -> (Stack, u16, u16, u16) {
    let (gateway, users, orders) = (free_port(), free_port(), free_port());
    let stack = Stack::new("desafio5")
        .env("D5_GATEWAY_PORT", gateway)
        .env("D5_USERS_PORT", users)
        .env("D5_ORDERS_PORT", orders);
    (stack, gateway, users, orders)
}

/// Desafio 5 with `compose.scale.yaml`, so its services can be scaled out:
/// only the gateway published, on a free host port. The stack and that port.
pub fn desafio5_scalable() -> (Stack, u16) {
    let gateway = free_port();
    let stack = Stack::new("desafio5")
        .file("compose.scale.yaml")
        .env("D5_GATEWAY_PORT", gateway);
    (stack, gateway)
}

/// `docker inspect --format FORMAT target`, trimmed.
#[track_caller]
pub fn inspect(target: &str, format: &str) -> String {
    docker(&["inspect", "--format", format, target])
        .ok()
        .stdout
        .trim()
        .to_owned()
}
