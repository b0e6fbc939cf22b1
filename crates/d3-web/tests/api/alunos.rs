use crate::helpers::spawn_app;

#[tokio::test]
async fn each_visit_is_counted_in_redis_and_recorded_in_postgres() {
    let app = spawn_app().await;
    let first = app.get("/").await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert!(
        first.content_type.starts_with("text/plain"),
        "{}",
        first.content_type
    );
    assert_eq!(
        first.body,
        "Banco PostgreSQL tem 1 registros. Redis conta 1 visitas."
    );
    assert_eq!(
        app.get("/").await.body,
        "Banco PostgreSQL tem 2 registros. Redis conta 2 visitas."
    );
    // Under write-up 001's key, as `redis-cli GET contador` shows it.
    assert_eq!(app.state.cache.counter("contador").await.unwrap(), 2);
    let log = app.get("/log").await.json();
    assert_eq!(log["total"], 2);
    assert_eq!(log["registros"][0]["mensagem"], "Acesso número 2");
    assert!(log["registros"][0]["data_hora"].is_string());
}

#[tokio::test]
async fn students_are_listed_and_fetched_by_id() {
    let app = spawn_app().await;
    let todos = app.get("/todos").await.json();
    assert_eq!(todos["total"], 3);
    let ana = app.get("/aluno/1").await;
    assert_eq!(ana.status, 200);
    assert_eq!(ana.json(), todos["alunos"][0]);
    assert_eq!(ana.json()["nome"], "Ana Souza");
    let missing = app.get("/aluno/999").await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["error"], "not_found");
}

#[tokio::test]
async fn the_seed_is_applied_once_even_when_the_app_starts_again() {
    let app = spawn_app().await;
    // A second instance on the same database: the restart case.
    let again = crate::helpers::spawn_with(
        &app.database_url,
        &format!("redis://{}/", crate::helpers::stores().redis),
    )
    .await;
    assert!(
        again
            .state
            .wait_ready(std::time::Duration::from_secs(30))
            .await
    );
    assert_eq!(again.get("/todos").await.json()["total"], 3);
    assert_eq!(again.get("/api/posts").await.json()["total"], 3);
}

#[tokio::test]
async fn a_visit_postgres_did_not_record_is_not_counted_in_redis() {
    let app = spawn_app().await;
    assert_eq!(app.get("/").await.status, 200);
    // A check PostgreSQL makes only at commit: the insert goes through and
    // the commit fails, after Redis has counted the visit.
    let mut admin = crate::helpers::connect(&app.database_url).await;
    sqlx::raw_sql(
        "CREATE FUNCTION recusa() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN RAISE EXCEPTION 'recusado no commit'; END $$; \
         CREATE CONSTRAINT TRIGGER recusa_no_commit AFTER INSERT ON logs \
         DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION recusa();",
    )
    .execute(&mut admin)
    .await
    .unwrap();

    let refused = app.get("/").await;
    assert!(
        refused.status >= 500,
        "{}: {}",
        refused.status,
        refused.body
    );
    assert_eq!(
        app.state.cache.counter("contador").await.unwrap(),
        1,
        "Redis counts only the visit PostgreSQL recorded"
    );
    assert_eq!(app.get("/log").await.json()["total"], 1);
}
