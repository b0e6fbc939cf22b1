//! The path that compiles nothing: every compose file names a published
//! image beside its `build:` section, so `docker compose pull` and `up` start
//! a challenge without a Rust build.
//!
//! Tested end to end with a local registry (Debian's `docker-registry`
//! package, on 127.0.0.1) standing in for GitHub's: each challenge's images
//! are built and pushed as `.github/workflows/images.yml` pushes them, removed
//! from the engine, then pulled, started and asked, as a learner would.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use e2e::{docker, http, run_in, serial, wait_until, Stack};
use serde_json::Value;

/// What `image:` names when nothing is set: the workflow's registry.
const PUBLISHED: &str = "ghcr.io/desafios-docker/desafios-rust";

const CHALLENGES: [&str; 5] = ["desafio1", "desafio2", "desafio3", "desafio4", "desafio5"];

/// The images a challenge builds (services with a `build:` section), as its
/// compose file names them with the environment `env`.
/// (Only reads the file: a `Stack` would take the challenge down.)
fn built_images(challenge: &str, env: &[(&str, &str)]) -> Vec<(String, String)> {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let dir = e2e::repo_root().join(challenge);
    let config = run_in(
        &dir,
        "docker",
        &["compose", "config", "--format", "json"],
        &env,
    )
    .ok();
    let config: Value = serde_json::from_str(&config.stdout).unwrap();
    let mut images: Vec<(String, String)> = config["services"]
        .as_object()
        .unwrap()
        .values()
        .filter(|service| service.get("build").is_some())
        .map(|service| {
            let image = service["image"].as_str().unwrap().to_owned();
            let short = service["build"]["tags"][0]
                .as_str()
                .unwrap_or_else(|| panic!("{challenge}: no short tag beside {image}"))
                .to_owned();
            (image, short)
        })
        .collect();
    images.sort();
    images
}

#[test]
fn compose_files_name_the_published_image_of_this_version() {
    let version = env!("CARGO_PKG_VERSION");
    for challenge in CHALLENGES {
        let images = built_images(challenge, &[]);
        assert!(!images.is_empty(), "{challenge} builds no image");
        for (image, short) in images {
            assert_eq!(
                image,
                format!("{PUBLISHED}/{short}:{version}"),
                "{challenge}: the published name should be the short name under \
                 {PUBLISHED}, tagged with the workspace version (Cargo.toml)"
            );
        }
        let example =
            std::fs::read_to_string(e2e::repo_root().join(challenge).join(".env.example")).unwrap();
        assert!(
            example
                .lines()
                .any(|l| l == format!("DESAFIOS_TAG={version}")),
            "{challenge}/.env.example should list DESAFIOS_TAG={version}"
        );
    }
    // The checker's published image, as docs/checking.md names it.
    for doc in ["docs/checking.md", "docs/checking.pt-BR.md"] {
        let text = std::fs::read_to_string(e2e::repo_root().join(doc)).unwrap();
        let named = format!("{PUBLISHED}/desafios:{version}");
        assert!(text.contains(&named), "{doc} should name {named}");
    }
}

/// A `docker-registry` process on a free loopback port, storing into a
/// temporary folder; killed when dropped.
struct Registry {
    child: Child,
    port: u16,
    _storage: tempfile::TempDir,
}

impl Registry {
    fn start() -> Self {
        let program = PathBuf::from(
            std::env::var("DOCKER_REGISTRY_BIN")
                .unwrap_or_else(|_| "/usr/bin/docker-registry".into()),
        );
        assert!(
            program.exists(),
            "{} not found: install Debian's docker-registry package \
             (apt-get install docker-registry), or name the binary in DOCKER_REGISTRY_BIN",
            program.display()
        );
        let storage = tempfile::tempdir().unwrap();
        let port = e2e::free_port();
        // The package's own config asks for htpasswd logins; this one does not.
        let config = storage.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\n\
                 storage: {{filesystem: {{rootdirectory: {}}}}}\n\
                 http: {{addr: \"127.0.0.1:{port}\"}}\n",
                storage.path().join("data").display()
            ),
        )
        .unwrap();
        let child = Command::new(&program)
            .args(["serve", config.to_str().unwrap()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            // It logs every lookup of a layer it lacks (each push asks).
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", program.display()));
        let registry = Self {
            child,
            port,
            _storage: storage,
        };
        let api = format!("http://127.0.0.1:{port}/v2/");
        wait_until("the registry's API", Duration::from_secs(30), || {
            http::try_get(&api).filter(|a| a.status == 200)
        });
        registry
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn image_exists(image: &str) -> bool {
    docker(&["image", "inspect", "--format", "{{.Id}}", image]).success()
}

/// A challenge answers, started from pulled images.
fn check_answers(challenge: &str, stack: &Stack) {
    let get = |port: u16, path: &str| http::get(&format!("http://127.0.0.1:{port}{path}"));
    match challenge {
        "desafio1" => {
            let home = get(8080, "/").json();
            assert_eq!(home["status"], "running", "{home}");
        }
        "desafio2" => {
            // A one-shot program: `docker compose run`, as its README says.
            let run = stack.compose(&["run", "--rm", "writer"]).ok();
            assert!(run.stdout.contains("Total: 1 aluno "), "{}", run.stdout);
        }
        "desafio3" => {
            assert_eq!(get(5000, "/health").json()["status"], "healthy");
            assert_eq!(get(8501, "/").status, 200);
        }
        "desafio4" => {
            let info = get(7000, "/info");
            assert_eq!(info.status, 200, "{}", info.body);
        }
        "desafio5" => {
            let users = get(5004, "/users").json();
            assert!(users.as_array().is_some_and(|u| !u.is_empty()), "{users}");
        }
        other => unreachable!("{other}"),
    }
}

#[test]
fn pushed_images_are_pulled_and_started_without_a_build() {
    let _serial = serial();
    let registry = Registry::start();
    let repository = format!("127.0.0.1:{}/desafios", registry.port);
    let env = [
        ("DESAFIOS_REGISTRY", repository.as_str()),
        ("DESAFIOS_TAG", "registry-test"),
    ];
    for challenge in CHALLENGES {
        let mut stack = Stack::new(challenge);
        for (key, value) in env {
            stack = stack.env(key, value);
        }
        let images = built_images(challenge, &env);

        // What the publishing workflow does, with this registry's name.
        // (`docker compose push` would push the short `build.tags` names as
        // well, to Docker Hub.)
        stack.compose(&["build"]).ok();
        for (image, _) in &images {
            docker(&["push", image]).ok();
        }

        // A machine that never built: neither name is left on the engine.
        for (image, short) in &images {
            docker(&["image", "rm", image, short]).ok();
            assert!(!image_exists(image) && !image_exists(short));
        }

        // The learner's way: pull, up. (`--policy missing`: Desafio 3's
        // postgres and redis are local stand-ins here, with no Docker Hub to
        // pull them from; a learner's plain `docker compose pull` fetches them.)
        stack.compose(&["pull", "--policy", "missing"]).ok();
        for (image, _) in &images {
            assert!(
                image_exists(image),
                "`docker compose pull` did not fetch {image}"
            );
        }
        if challenge != "desafio2" {
            // Desafio 2's one program is started by `run`, in check_answers.
            stack
                .compose(&["up", "-d", "--wait", "--wait-timeout", "300"])
                .ok();
        }
        check_answers(challenge, &stack);
        for (image, short) in &images {
            // A build would have tagged the short name again.
            assert!(!image_exists(short), "{challenge}: `up` built {short}");
            // The other tests' name for the same image, and this registry's gone.
            docker(&["tag", image, short]).ok();
        }
        drop(stack);
        for (image, _) in &images {
            docker(&["image", "rm", image]).ok();
        }
    }
}
