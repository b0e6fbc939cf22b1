use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn users_crud_round_trip() {
    let app = spawn_app().await;
    let empty = app.get("/users").await;
    assert_eq!(empty.status, 200);
    assert_eq!(empty.json()["total"], 0);

    let created = app
        .post("/users", json!({"name": "Ana", "email": "ana@test.com"}))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let user = created.json();
    let id = user["id"].as_i64().unwrap();
    assert_eq!(user["name"], "Ana");

    let fetched = app.get(&format!("/users/{id}")).await.json();
    assert_eq!(fetched["email"], "ana@test.com");

    let updated = app
        .put(&format!("/users/{id}"), json!({"name": "Ana Maria"}))
        .await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(updated.json()["name"], "Ana Maria");
    assert_eq!(updated.json()["email"], "ana@test.com");

    let deleted = app.delete(&format!("/users/{id}")).await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    assert_eq!(deleted.json()["id"], id);
    assert_eq!(app.get(&format!("/users/{id}")).await.status, 404);
    assert_eq!(app.delete(&format!("/users/{id}")).await.status, 404);
    assert_eq!(app.get("/users").await.json()["total"], 0);
}

#[tokio::test]
async fn a_duplicate_email_is_409_even_in_another_case() {
    let app = spawn_app().await;
    let first = app
        .post("/users", json!({"name": "Ana", "email": "ana@test.com"}))
        .await;
    assert_eq!(first.status, 201);
    for email in ["ana@test.com", "ANA@Test.com"] {
        let again = app
            .post("/users", json!({"name": "Outra", "email": email}))
            .await;
        assert_eq!(again.status, 409, "{}", again.body);
        assert_eq!(again.json()["error"], "conflict");
    }
    let bruno = app
        .post(
            "/users",
            json!({"name": "Bruno", "email": "bruno@test.com"}),
        )
        .await
        .json();
    let clash = app
        .put(
            &format!("/users/{}", bruno["id"]),
            json!({"email": "ana@test.com"}),
        )
        .await;
    assert_eq!(clash.status, 409, "{}", clash.body);
}

#[tokio::test]
async fn reads_say_whether_they_came_from_the_cache_and_writes_invalidate() {
    let app = spawn_app().await;
    let id = app
        .post("/users", json!({"name": "Ana", "email": "ana@test.com"}))
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let path = format!("/users/{id}");

    let miss = app.get(&path).await.json();
    assert_eq!(
        (miss["fonte"].as_str(), miss["from_cache"].as_bool()),
        (Some("banco_de_dados"), Some(false))
    );
    let hit = app.get(&path).await.json();
    assert_eq!(
        (hit["fonte"].as_str(), hit["from_cache"].as_bool()),
        (Some("cache"), Some(true))
    );
    assert_eq!(app.get("/users").await.json()["from_cache"], false);
    assert_eq!(app.get("/users").await.json()["from_cache"], true);

    app.put(&path, json!({"name": "Ana B"})).await;
    let after = app.get(&path).await.json();
    assert_eq!(after["from_cache"], false);
    assert_eq!(after["name"], "Ana B");
    let list = app.get("/users").await.json();
    assert_eq!(list["from_cache"], false);
    assert_eq!(list["users"][0]["name"], "Ana B");

    app.post("/users", json!({"name": "Bia", "email": "bia@test.com"}))
        .await;
    assert_eq!(app.get("/users").await.json()["total"], 2);
    app.delete(&path).await;
    let list = app.get("/users").await.json();
    assert_eq!(
        (list["total"].as_i64(), list["from_cache"].as_bool()),
        (Some(1), Some(false))
    );
}

#[tokio::test]
async fn missing_users_are_404_and_not_cached() {
    let app = spawn_app().await;
    assert_eq!(app.get("/users/1").await.status, 404);
    let created = app
        .post("/users", json!({"name": "Ana", "email": "ana@test.com"}))
        .await
        .json();
    assert_eq!(created["id"], 1);
    assert_eq!(app.get("/users/1").await.status, 200);
    assert_eq!(
        app.put("/users/999", json!({"name": "x"})).await.status,
        404
    );
}
