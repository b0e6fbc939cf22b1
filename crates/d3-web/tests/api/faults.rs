//! The stores being away, for real: the app pointed at a port where nothing
//! listens. (Stopping and restarting the containers is in the end-to-end
//! tests, crates/e2e/tests/desafio3.rs.)

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{
    closed_port_url, eventually, fresh_database, spawn_with, stores, Outage, TestApp,
};

async fn timed_get(app: &TestApp, path: &str) -> (crate::helpers::Answer, Duration) {
    let start = Instant::now();
    let answer = app.get(path).await;
    (answer, start.elapsed())
}

#[tokio::test]
async fn without_postgres_the_app_serves_health_and_answers_503_quickly() {
    let redis = format!("redis://{}/", stores().redis);
    let app = spawn_with(&closed_port_url("postgres"), &redis).await;
    let (health, _) = timed_get(&app, "/health").await;
    assert_eq!(health.status, 200);

    let (status, took) = timed_get(&app, "/status").await;
    assert!(took < Duration::from_secs(2), "{took:?}");
    let status = status.json();
    assert_eq!(status["banco_dados"], "desconectado");
    assert_eq!(status["status"], "degradado");

    for path in [
        "/api/posts",
        "/api/posts/cache",
        "/users",
        "/users/1",
        "/todos",
        "/aluno/1",
        "/log",
        "/api/stats",
        "/",
    ] {
        let (answer, took) = timed_get(&app, path).await;
        assert_eq!(answer.status, 503, "{path}: {}", answer.body);
        assert_eq!(answer.json()["error"], "service_unavailable", "{path}");
        assert!(took < Duration::from_secs(2), "{path} took {took:?}");
    }
    let write = app
        .post("/api/posts", json!({"titulo": "t", "conteudo": "c"}))
        .await;
    assert_eq!(write.status, 503, "{}", write.body);
    // The counter lives in Redis only, which is up; the failed visits to
    // `/` were not counted there.
    assert_eq!(app.get("/api/contador").await.status, 200);
    assert_eq!(
        app.state
            .cache
            .counter(d3_web::alunos::VISITS_KEY)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn without_redis_reads_fall_back_to_the_database_and_counters_503() {
    let database = fresh_database().await;
    let app = spawn_with(&database, &closed_port_url("redis")).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while !app.state.db.is_ready() {
        assert!(Instant::now() < deadline, "schema not applied");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let status = app.get("/status").await.json();
    assert_eq!(
        (status["banco_dados"].as_str(), status["cache"].as_str()),
        (Some("conectado"), Some("desconectado"))
    );

    for _ in 0..2 {
        let (posts, took) = timed_get(&app, "/api/posts/cache").await;
        assert_eq!(posts.status, 200, "{}", posts.body);
        assert_eq!(posts.json()["fonte"], "banco_de_dados");
        assert!(took < Duration::from_secs(2), "{took:?}");
    }
    let created = app
        .post("/users", json!({"name": "Ana", "email": "ana@test.com"}))
        .await;
    assert_eq!(created.status, 201, "a write still works: {}", created.body);
    let user = app.get("/users/1").await.json();
    assert_eq!(user["from_cache"], false);
    assert_eq!(app.get("/users").await.json()["total"], 1);

    for path in ["/api/contador", "/"] {
        let (answer, took) = timed_get(&app, path).await;
        assert_eq!(answer.status, 503, "{path}: {}", answer.body);
        assert!(took < Duration::from_secs(2), "{path} took {took:?}");
    }
    assert_eq!(
        app.get("/log").await.json()["total"],
        0,
        "a visit Redis could not count is not recorded either"
    );
    let stats = app.get("/api/stats").await.json();
    assert_eq!(stats["total_requisicoes"], serde_json::Value::Null);
    assert_eq!(stats["cache"], "desconectado");
}

#[tokio::test]
async fn postgres_going_away_and_coming_back_needs_no_restart() {
    let stores = stores();
    let outage = Outage::forward_to(&stores.postgres).await;
    let database = fresh_database().await;
    let through_proxy =
        database.replacen(&stores.postgres, &format!("127.0.0.1:{}", outage.port), 1);
    let app = spawn_with(&through_proxy, &format!("redis://{}/", stores.redis)).await;
    assert!(app.state.wait_ready(Duration::from_secs(30)).await);
    let created = app
        .post("/api/posts", json!({"titulo": "antes", "conteudo": "x"}))
        .await;
    assert_eq!(created.status, 201);

    outage.stop();
    let (answer, took) = timed_get(&app, "/api/posts").await;
    assert_eq!(answer.status, 503, "{}", answer.body);
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert_eq!(
        app.get("/status").await.json()["banco_dados"],
        "desconectado"
    );

    outage.start();
    eventually(
        "the database calls to succeed again",
        Duration::from_secs(10),
        || async { app.get("/api/posts").await.status == 200 },
    )
    .await;
    let posts = app.get("/api/posts").await.json();
    assert_eq!(
        posts["total"], 4,
        "the acknowledged write is there: {posts}"
    );
    assert_eq!(app.get("/status").await.json()["status"], "ok");
}

#[tokio::test]
async fn redis_going_away_and_coming_back_leaves_no_stale_copy() {
    let stores = stores();
    let outage = Outage::forward_to(&stores.redis).await;
    let database = fresh_database().await;
    let app = spawn_with(&database, &format!("redis://127.0.0.1:{}/", outage.port)).await;
    assert!(app.state.wait_ready(Duration::from_secs(30)).await);
    app.get("/api/posts/cache").await;
    assert_eq!(app.get("/api/posts/cache").await.json()["fonte"], "cache");

    outage.stop();
    let (answer, took) = timed_get(&app, "/api/posts/cache").await;
    assert_eq!(answer.json()["fonte"], "banco_de_dados");
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert_eq!(app.get("/api/contador").await.status, 503);
    // This write cannot delete the cached copy now (it still sits in Redis).
    let created = app
        .post("/api/posts", json!({"titulo": "durante", "conteudo": "x"}))
        .await;
    assert_eq!(created.status, 201);

    outage.start();
    eventually(
        "Redis calls to succeed again",
        Duration::from_secs(15),
        || async { app.get("/api/contador").await.status == 200 },
    )
    .await;
    let after = app.get("/api/posts/cache").await.json();
    assert_eq!(
        after["total"], 4,
        "the copy from before the outage was dropped: {after}"
    );
    assert_eq!(after["fonte"], "banco_de_dados");
    assert_eq!(
        app.get("/api/posts/cache").await.json()["fonte"],
        "cache",
        "trusted again once the pending invalidation was swept"
    );
}
