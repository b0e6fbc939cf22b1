//! Desafio 3 through its compose file (web, db, cache, client, page) and
//! through write-up 003's manual `docker run` path: every endpoint from the
//! host, the cache flip and its invalidation, users CRUD, bad input, and
//! the stores stopped and started under a running `web`.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::time::{Duration, Instant};

use e2e::{docker, free_port, http, inspect, serial, wait_until, Cleanup, Stack};
use serde_json::{json, Value};

struct Api {
    base: String,
    /// The page's published port.
    page_port: u16,
}

impl Api {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn get(&self, path: &str) -> http::Answer {
        http::get(&self.url(path))
    }

    fn send(&self, method: &str, path: &str, body: &str) -> http::Answer {
        http::send(method, &self.url(path), Some(body))
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    fn post(&self, path: &str, body: Value) -> http::Answer {
        self.send("POST", path, &body.to_string())
    }

    /// GET with its duration.
    fn timed(&self, path: &str) -> (http::Answer, Duration) {
        let started = Instant::now();
        let answer = self.get(path);
        (answer, started.elapsed())
    }
}

fn stack() -> (Stack, Api) {
    let (port, page_port) = (free_port(), free_port());
    let stack = Stack::new("desafio3")
        .env("D3_WEB_PORT", port)
        .env("D3_PAGE_PORT", page_port);
    (
        stack,
        Api {
            base: format!("http://127.0.0.1:{port}"),
            page_port,
        },
    )
}

/// Waits until `web` has its schema: it reports healthy as soon as it
/// listens, and applies the migrations once it reaches PostgreSQL.
fn schema_ready(api: &Api) {
    wait_until("web to have its schema", Duration::from_secs(60), || {
        http::try_get(&api.url("/todos")).filter(|a| a.status == 200)
    });
}

#[test]
fn every_endpoint_the_cache_flip_and_users_crud_from_the_host() {
    let _guard = serial();
    let (stack, api) = stack();
    stack.up();

    assert_eq!(api.get("/health").json()["status"], "healthy");
    let status = api.get("/status").json();
    assert_eq!(
        (
            status["banco_dados"].as_str(),
            status["cache"].as_str(),
            status["status"].as_str()
        ),
        (Some("conectado"), Some("conectado"), Some("ok"))
    );

    // 001/003: the visit counter, the log, the students.
    let visit = api.get("/");
    assert_eq!(visit.status, 200);
    assert_eq!(
        visit.body,
        "Banco PostgreSQL tem 1 registros. Redis conta 1 visitas."
    );
    assert_eq!(
        api.get("/").body,
        "Banco PostgreSQL tem 2 registros. Redis conta 2 visitas."
    );
    assert_eq!(api.get("/log").json()["total"], 2);
    assert_eq!(api.get("/todos").json()["total"], 3);
    assert_eq!(api.get("/aluno/2").json()["nome"], "Bruno Lima");
    assert_eq!(api.get("/aluno/99").status, 404);

    // 002: posts, the cached list's `fonte`, the counter, the stats.
    assert_eq!(api.get("/api/posts").json()["total"], 3);
    let first = api.get("/api/posts/cache").json()["fonte"].clone();
    // The client may have read the list first; either way the next is cached.
    assert!(first == "banco_de_dados" || first == "cache", "{first}");
    assert_eq!(api.get("/api/posts/cache").json()["fonte"], "cache");
    let created = api.post(
        "/api/posts",
        json!({"titulo": "Novo Post", "conteudo": "Conteúdo aqui", "autor": "Você"}),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let after = api.get("/api/posts/cache").json();
    assert_eq!(
        after["fonte"], "banco_de_dados",
        "the write invalidated the copy"
    );
    assert_eq!(after["total"], 4);
    let one = api.get("/api/contador").json()["contador"]
        .as_i64()
        .unwrap();
    let two = api.get("/api/contador").json()["contador"]
        .as_i64()
        .unwrap();
    assert!(two > one, "{one} then {two}");
    let stats = api.get("/api/stats").json();
    assert_eq!(stats["total_posts"], 4);
    assert!(stats["total_requisicoes"].as_i64().unwrap() >= two);

    // 004: users CRUD, 409 on a duplicate, cache and invalidation.
    let ana = api.post("/users", json!({"name": "Ana", "email": "ana@test.com"}));
    assert_eq!(ana.status, 201, "{}", ana.body);
    let id = ana.json()["id"].as_i64().unwrap();
    let dup = api.post("/users", json!({"name": "Ana 2", "email": "ana@test.com"}));
    assert_eq!(dup.status, 409, "{}", dup.body);
    assert_eq!(api.get(&format!("/users/{id}")).json()["from_cache"], false);
    assert_eq!(api.get(&format!("/users/{id}")).json()["from_cache"], true);
    assert_eq!(api.get("/users").json()["total"], 1);
    assert_eq!(api.get("/users").json()["from_cache"], true);
    let put = api.send("PUT", &format!("/users/{id}"), r#"{"name":"Ana Maria"}"#);
    assert_eq!(put.status, 200, "{}", put.body);
    let fresh = api.get(&format!("/users/{id}")).json();
    assert_eq!(
        (fresh["name"].as_str(), fresh["from_cache"].as_bool()),
        (Some("Ana Maria"), Some(false))
    );
    assert_eq!(api.send("DELETE", &format!("/users/{id}"), "").status, 200);
    assert_eq!(api.get(&format!("/users/{id}")).status, 404);
    assert_eq!(api.get("/users").json()["total"], 0);

    // The client container prints its rounds.
    let logs = wait_until("the client's first round", Duration::from_secs(30), || {
        let logs = stack.logs("client");
        logs.contains("/api/posts/cache  HTTP 200").then_some(logs)
    });
    assert!(
        logs.contains("banco_dados=conectado cache=conectado"),
        "{logs}"
    );
}

#[test]
fn bad_input_is_4xx_json_and_never_5xx() {
    let _guard = serial();
    let (stack, api) = stack();
    stack.up();
    let big = format!(
        r#"{{"titulo":"t","conteudo":"{}"}}"#,
        "x".repeat(1024 * 1024 + 10)
    );
    let bodies = [
        ("POST", "/api/posts", "{\"titulo\":".to_owned(), 400),
        (
            "POST",
            "/api/posts",
            r#"{"titulo": 5, "conteudo": "x"}"#.to_owned(),
            422,
        ),
        ("POST", "/api/posts", r#"{"conteudo": "x"}"#.to_owned(), 422),
        (
            "POST",
            "/api/posts",
            r#"{"titulo": "", "conteudo": "x"}"#.to_owned(),
            422,
        ),
        (
            "POST",
            "/api/posts",
            r#"{"titulo": "a\u0000b", "conteudo": "x"}"#.to_owned(),
            422,
        ),
        ("POST", "/api/posts", big, 413),
        (
            "POST",
            "/users",
            r#"{"name": "x", "email": "não"}"#.to_owned(),
            422,
        ),
        ("POST", "/users", "[]".to_owned(), 422),
        ("PUT", "/users/1", "{}".to_owned(), 422),
    ];
    for (method, path, body, expected) in bodies {
        let answer = api.send(method, path, &body);
        assert_eq!(answer.status, expected, "{method} {path}: {}", answer.body);
        assert!(answer.json()["error"].is_string());
    }
    for path in [
        "/aluno/abc",
        "/aluno/-1",
        "/aluno/0",
        "/users/99999999999",
        "/users/1.5",
        "/aluno/1%27%20OR%20%271%27=%271",
    ] {
        let answer = api.get(path);
        assert_eq!(answer.status, 400, "{path}: {}", answer.body);
        assert!(answer.json()["error"].is_string());
    }
    let sql = api.post(
        "/api/posts",
        json!({"titulo": "'); DROP TABLE posts; --", "conteudo": "x"}),
    );
    assert_eq!(sql.status, 201, "{}", sql.body);
    assert_eq!(
        api.get("/api/posts").json()["total"],
        4,
        "the table is still there"
    );
    assert!(!stack.logs("web").contains("panicked"));
}

#[test]
fn stopping_the_database_then_the_cache_and_recovering() {
    let _guard = serial();
    let (stack, api) = stack();
    stack.up();
    let kept = api.post(
        "/api/posts",
        json!({"titulo": "antes da falha", "conteudo": "x"}),
    );
    assert_eq!(kept.status, 201);
    api.get("/api/posts/cache");

    stack.compose(&["stop", "db"]).ok();
    let (status, took) = api.timed("/status");
    assert_eq!(status.json()["banco_dados"], "desconectado");
    assert!(took < Duration::from_secs(2), "/status took {took:?}");
    for path in ["/api/posts", "/users", "/todos", "/api/stats"] {
        let (answer, took) = api.timed(path);
        assert_eq!(answer.status, 503, "{path}: {}", answer.body);
        assert_eq!(answer.json()["error"], "service_unavailable");
        assert!(took < Duration::from_secs(2), "{path} took {took:?}");
    }
    assert_eq!(
        api.post("/api/posts", json!({"titulo": "t", "conteudo": "c"}))
            .status,
        503
    );
    assert_eq!(e2e::health_of("web-flask").as_deref(), Some("healthy"));

    stack.compose(&["start", "db"]).ok();
    wait_until(
        "web to reach PostgreSQL again",
        Duration::from_secs(60),
        || (api.get("/api/posts").status == 200).then_some(()),
    );
    let posts = api.get("/api/posts").json();
    assert!(posts["posts"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["titulo"] == "antes da falha"));
    assert_eq!(api.get("/status").json()["status"], "ok");

    stack.compose(&["stop", "cache"]).ok();
    for _ in 0..2 {
        let (answer, took) = api.timed("/api/posts/cache");
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(answer.json()["fonte"], "banco_de_dados");
        assert!(took < Duration::from_secs(2), "took {took:?}");
    }
    let (counter, took) = api.timed("/api/contador");
    assert_eq!(counter.status, 503, "{}", counter.body);
    assert!(took < Duration::from_secs(2), "took {took:?}");
    assert_eq!(api.get("/status").json()["cache"], "desconectado");
    // A write while Redis is away must not leave a stale copy behind.
    assert_eq!(
        api.post(
            "/api/posts",
            json!({"titulo": "sem cache", "conteudo": "x"})
        )
        .status,
        201
    );

    stack.compose(&["start", "cache"]).ok();
    wait_until("web to reach Redis again", Duration::from_secs(60), || {
        (api.get("/api/contador").status == 200).then_some(())
    });
    let listed = api.get("/api/posts/cache").json();
    assert!(
        listed["posts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["titulo"] == "sem cache"),
        "stale cache after the outage: {listed}"
    );
    assert_eq!(api.get("/api/posts/cache").json()["fonte"], "cache");
}

#[test]
fn data_survives_down_and_up_and_down_v_resets_it() {
    let _guard = serial();
    let (stack, api) = stack();
    stack.up();
    assert_eq!(
        api.post(
            "/api/posts",
            json!({"titulo": "persistente", "conteudo": "x"})
        )
        .status,
        201
    );
    stack.compose(&["down", "--timeout", "5"]).ok();
    stack.up();
    let posts = api.get("/api/posts").json();
    assert_eq!(
        posts["total"], 4,
        "kept, and the seed not repeated: {posts}"
    );
    stack.compose(&["down", "-v", "--timeout", "5"]).ok();
    stack.up();
    assert_eq!(api.get("/api/posts").json()["total"], 3);
}

#[test]
fn only_web_reaches_the_data_stores() {
    let _guard = serial();
    let (stack, _api) = stack();
    stack.up();
    let back = "desafio3_rede-aplicacao";
    assert_eq!(inspect(back, "{{.Internal}}"), "true");
    let members = inspect(back, "{{range .Containers}}{{.Name}} {{end}}");
    let mut names: Vec<&str> = members.split_whitespace().collect();
    names.sort_unstable();
    assert_eq!(names, ["cache-redis", "db-postgresql", "web-flask"]);
    // From the front network (where client and page are), `db` does not
    // even resolve; from the back one it does (it answers, though not HTTP).
    let probe = |network: &str, url: &str| {
        docker(&[
            "run",
            "--rm",
            "--network",
            network,
            "--entrypoint",
            "/fetch",
            "d3-web",
            "--timeout",
            "2s",
            url,
        ])
    };
    let from_front = probe("desafio3_frontend", "http://db:5432/");
    assert!(from_front.stderr.contains("UnknownHost"), "{from_front:?}");
    let from_back = probe(back, "http://db:5432/");
    assert!(!from_back.stderr.contains("UnknownHost"), "{from_back:?}");
    assert!(probe("desafio3_frontend", "http://web:5000/health").success());
    assert!(stack
        .compose(&["port", "db", "5432"])
        .stdout
        .trim()
        .is_empty());
    assert!(stack
        .compose(&["port", "cache", "6379"])
        .stdout
        .trim()
        .is_empty());
}

/// Write-up 002's `docker exec` commands, in the form that works here, and
/// the Redis keys and lifetimes the write-ups name, read from the real Redis.
#[test]
fn write_up_names_commands_and_redis_keys_as_written() {
    let _guard = serial();
    let (stack, api) = stack();
    stack.up();
    schema_ready(&api);
    let exec = |args: &[&str]| {
        let mut all = vec!["exec"];
        all.extend_from_slice(args);
        docker(&all)
    };
    // `docker exec web-flask ping db` and `... redis-cli -h cache ping`:
    // `web-flask` is FROM scratch, so its `/fetch --ping` looks instead.
    for target in ["db", "db:5432", "cache:6379"] {
        let run = exec(&["web-flask", "/fetch", "--ping", target]);
        assert!(run.success(), "{target}: {run:?}");
        assert!(
            run.stdout.starts_with(target.split(':').next().unwrap()),
            "{run:?}"
        );
    }
    // The names write-up 004 uses resolve on the stack's networks too.
    for (container, target) in [
        ("web-flask", "redis:6379"),
        ("page-usuarios", "api:5000"),
        ("web-flask", "frontend:8501"),
    ] {
        let run = exec(&[container, "/fetch", "--ping", target]);
        assert!(run.success(), "{container} -> {target}: {run:?}");
    }
    // The page is not on the stores' network: `db` does not resolve there.
    let run = exec(&["page-usuarios", "/fetch", "--ping", "db:5432"]);
    assert_eq!(run.code(), Some(6), "{run:?}");
    // The stores' own clients, in their containers (`-it` for a prompt).
    let pong = exec(&["cache-redis", "redis-cli", "ping"]);
    assert_eq!(pong.stdout.trim(), "PONG", "{pong:?}");
    let count = exec(&[
        "db-postgresql",
        "psql",
        "-U",
        "usuario",
        "-d",
        "aplicacao",
        "-tAc",
        "SELECT count(*) FROM posts",
    ]);
    assert_eq!(count.stdout.trim(), "3", "{count:?}");

    let redis = |args: &[&str]| {
        let mut all = vec!["cache-redis", "redis-cli"];
        all.extend_from_slice(args);
        exec(&all).stdout.trim().to_owned()
    };
    // 001: `GET /` counts under `contador`; 002: `/api/contador` under
    // `contador_requisicoes` (the client container may count too).
    let visit = api.get("/").body;
    let visits = redis(&["GET", "contador"]);
    assert!(
        visit.ends_with(&format!("Redis conta {visits} visitas.")),
        "{visit} / {visits}"
    );
    let counted = api.get("/api/contador").json()["contador"]
        .as_i64()
        .unwrap();
    let stored: i64 = redis(&["GET", "contador_requisicoes"]).parse().unwrap();
    assert!(stored >= counted, "{stored} < {counted}");
    // The cached copies and their lifetimes: 60 s for the lists, 300 s for
    // one user.
    let id = api
        .post("/users", json!({"name": "Ana", "email": "ana@keys.test"}))
        .json()["id"]
        .as_i64()
        .unwrap();
    api.get("/api/posts/cache");
    api.get("/users");
    api.get(&format!("/users/{id}"));
    let ttl = |key: &str| -> i64 { redis(&["TTL", key]).parse().unwrap() };
    for (key, lifetime) in [
        ("posts_cache".to_owned(), 60),
        ("users_list".to_owned(), 60),
        (format!("user_{id}"), 300),
    ] {
        let left = ttl(&key);
        assert!(
            left > lifetime - 30 && left <= lifetime,
            "{key}: TTL {left}, expected about {lifetime}"
        );
    }
}

#[test]
fn the_manual_docker_run_path_of_write_up_003() {
    let _guard = serial();
    // The image the compose file builds is the one write-up 003 runs.
    Stack::new("desafio3").compose(&["build", "web"]).ok();
    let _cleanup = Cleanup::new()
        .container("d3-manual-web")
        .container("d3-manual-db")
        .container("d3-manual-cache")
        .network("minha-rede")
        .volume("d3-manual-pgdata")
        .sweep();
    docker(&["network", "create", "minha-rede"]).ok();
    let port = free_port();
    // web first, on purpose: it must wait for the stores by itself.
    docker(&[
        "run",
        "-d",
        "--name",
        "d3-manual-web",
        "--network",
        "minha-rede",
        "-p",
        &format!("127.0.0.1:{port}:5000"),
        "-e",
        "DB_HOST=db",
        "-e",
        "DB_NAME=meubanco",
        "-e",
        "DB_USER=postgres",
        "-e",
        "DB_PASS=postgres",
        "-e",
        "CACHE_HOST=cache",
        "d3-web",
    ])
    .ok();
    let api = Api {
        base: format!("http://127.0.0.1:{port}"),
        page_port: 0,
    };
    let health = wait_until("web to listen", Duration::from_secs(30), || {
        http::try_get(&api.url("/health"))
    });
    assert_eq!(health.status, 200);
    assert_eq!(api.get("/status").json()["status"], "degradado");

    docker(&[
        "run",
        "-d",
        "--name",
        "d3-manual-db",
        "--network",
        "minha-rede",
        "--network-alias",
        "db",
        "-e",
        "POSTGRES_PASSWORD=postgres",
        "-e",
        "POSTGRES_DB=meubanco",
        "-v",
        "d3-manual-pgdata:/var/lib/postgresql/data",
        "postgres:16-bookworm",
    ])
    .ok();
    docker(&[
        "run",
        "-d",
        "--name",
        "d3-manual-cache",
        "--network",
        "minha-rede",
        "--network-alias",
        "cache",
        "redis:7-bookworm",
    ])
    .ok();
    let first = wait_until("web to reach both stores", Duration::from_secs(90), || {
        let answer = http::try_get(&api.url("/"))?;
        (answer.status == 200).then_some(answer)
    });
    assert_eq!(
        first.body,
        "Banco PostgreSQL tem 1 registros. Redis conta 1 visitas."
    );
    assert_eq!(
        api.get("/").body,
        "Banco PostgreSQL tem 2 registros. Redis conta 2 visitas."
    );
}

/// Write-up 004's front end, in a real headless Chromium: list, create,
/// edit and delete users and posts through the page, checked in the API.
#[test]
fn the_page_manages_users_and_posts_in_a_real_browser() {
    let _guard = serial();
    let (stack, api) = stack();
    stack.up();
    schema_ready(&api);
    let mut browser = e2e::browser::Browser::launch();
    browser.goto(&format!("http://127.0.0.1:{}/", api.page_port));
    let source = "document.getElementById('users-source').textContent";
    let tab = |b: &mut e2e::browser::Browser, id: &str| {
        b.eval(&format!(
            "document.getElementById('tab-{id}').click(); true"
        ));
    };
    // Write-up 004's three tabs: Listar, Criar, Editar/Deletar.
    let tabs = browser.eval(
        "Array.from(document.querySelectorAll('nav button')).map(b => b.textContent).join('|')",
    );
    assert_eq!(tabs, "Listar|Criar|Editar/Deletar|Posts");
    browser.wait_for(
        "the (empty) user list",
        &format!("{source}.startsWith('Carregado do')"),
    );

    let create = |b: &mut e2e::browser::Browser, name: &str, email: &str| {
        b.eval(&format!(
            "document.getElementById('message').className = '';
             document.getElementById('create-name').value = {name:?};
             document.getElementById('create-email').value = {email:?};
             document.getElementById('create-save').click(); true"
        ));
        b.wait_for(
            "the page's answer",
            "document.getElementById('message').className !== '' && document.getElementById('message').className + ': ' + document.getElementById('message').textContent",
        )
    };
    tab(&mut browser, "create");
    let message = create(&mut browser, "Ana", "ana@test.com");
    assert!(
        message
            .as_str()
            .unwrap()
            .starts_with("ok: Usuário criado: Ana"),
        "{message}"
    );
    let message = create(&mut browser, "Outra Ana", "ana@test.com");
    let message = message.as_str().unwrap();
    assert!(
        message.starts_with("erro: ") && message.contains("já cadastrado"),
        "{message}"
    );

    // "Listar": first from PostgreSQL (the write invalidated the list),
    // then from the cache, in 004's words.
    let user_rows = |table: &str| {
        format!("Array.from(document.querySelectorAll('#{table} tbody tr')).map(r => r.textContent).join('|')")
    };
    tab(&mut browser, "list");
    browser.wait_for(
        "Ana in the list",
        &format!("({}).includes('ana@test.com')", user_rows("users-table")),
    );
    assert_eq!(
        browser.eval(source),
        "Carregado do PostgreSQL → Redis (cache armazenado)"
    );
    // Read only now, so the page's read above was the one that missed.
    assert_eq!(api.get("/users").json()["users"][0]["name"], "Ana");
    // Shown again until the copy the last read stored is what answers.
    browser.wait_for(
        "the list from the cache",
        &format!(
            "{source} === 'Carregado do cache Redis! (1 usuários)' || \
             (document.getElementById('tab-list').click(), false)"
        ),
    );

    // "Editar/Deletar".
    tab(&mut browser, "edit");
    browser.wait_for(
        "Ana in the edit table",
        &format!("({}).includes('ana@test.com')", user_rows("edit-table")),
    );
    browser.eval("document.querySelector('#edit-table tbody tr .edit').click(); true");
    assert_eq!(
        browser.eval("document.getElementById('user-email').value"),
        "ana@test.com"
    );
    browser.eval(
        "document.getElementById('user-name').value = 'Ana Maria';
         document.getElementById('user-save').click(); true",
    );
    browser.wait_for(
        "the edited name",
        &format!("({}).includes('Ana Maria')", user_rows("edit-table")),
    );
    assert_eq!(api.get("/users").json()["users"][0]["name"], "Ana Maria");
    browser.eval("document.querySelector('#edit-table tbody tr .delete').click(); true");
    browser.wait_for(
        "an empty user table",
        "document.querySelectorAll('#edit-table tbody tr').length === 0 && document.getElementById('message').className === 'ok'",
    );
    assert_eq!(api.get("/users").json()["total"], 0);

    // Posts: the three seed posts, then create, edit, delete.
    tab(&mut browser, "posts");
    browser.wait_for(
        "the three seed posts",
        "document.querySelectorAll('#posts-table tbody tr').length === 3",
    );
    let post_rows = "Array.from(document.querySelectorAll('#posts-table tbody tr')).map(r => r.textContent).join('|')";
    browser.eval(
        "document.getElementById('post-titulo').value = 'Post do navegador';
         document.getElementById('post-conteudo').value = 'escrito no Chromium';
         document.getElementById('post-save').click(); true",
    );
    browser.wait_for(
        "the new post",
        &format!("({post_rows}).includes('Post do navegador')"),
    );
    let newest = api.get("/api/posts").json()["posts"][0].clone();
    assert_eq!(
        (newest["titulo"].as_str(), newest["autor"].as_str()),
        (Some("Post do navegador"), Some("Anônimo"))
    );

    browser.eval("document.querySelector('#posts-table tbody tr .edit').click(); true");
    browser.eval(
        "document.getElementById('post-titulo').value = 'Post editado';
         document.getElementById('post-save').click(); true",
    );
    browser.wait_for(
        "the edited post",
        &format!("({post_rows}).includes('Post editado')"),
    );
    assert_eq!(
        api.get(&format!("/api/posts/{}", newest["id"])).json()["titulo"],
        "Post editado"
    );

    browser.eval("document.querySelector('#posts-table tbody tr .delete').click(); true");
    browser.wait_for(
        "three posts again",
        "document.querySelectorAll('#posts-table tbody tr').length === 3",
    );
    assert_eq!(api.get(&format!("/api/posts/{}", newest["id"])).status, 404);
}
