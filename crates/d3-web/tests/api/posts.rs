use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_three_seed_posts_come_from_the_database() {
    let app = spawn_app().await;
    let answer = app.get("/api/posts").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let body = answer.json();
    assert_eq!(body["total"], 3);
    assert_eq!(body["fonte"], "banco_de_dados");
    let post = &body["posts"][0];
    for field in ["id", "titulo", "conteudo", "autor", "data_criacao"] {
        assert!(post.get(field).is_some(), "missing {field}: {post}");
    }
}

#[tokio::test]
async fn a_created_post_is_201_and_listed() {
    let app = spawn_app().await;
    let answer = app
        .post(
            "/api/posts",
            json!({"titulo": "Novo Post", "conteudo": "Conteúdo aqui", "autor": "Você"}),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let post = answer.json();
    assert_eq!(post["titulo"], "Novo Post");
    assert_eq!(post["autor"], "Você");
    let list = app.get("/api/posts").await.json();
    assert_eq!(list["total"], 4);
    assert_eq!(list["posts"][0]["id"], post["id"], "newest first");
}

#[tokio::test]
async fn autor_is_optional_as_in_the_write_up_example() {
    let app = spawn_app().await;
    let answer = app
        .post(
            "/api/posts",
            json!({"titulo": "Test", "conteudo": "Testando"}),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(answer.json()["autor"], "Anônimo");
}

#[tokio::test]
async fn the_cached_list_flips_to_cache_and_a_write_invalidates_it() {
    let app = spawn_app().await;
    let first = app.get("/api/posts/cache").await.json();
    assert_eq!(first["fonte"], "banco_de_dados");
    let second = app.get("/api/posts/cache").await.json();
    assert_eq!(second["fonte"], "cache");
    assert_eq!(second["posts"], first["posts"]);

    let created = app
        .post("/api/posts", json!({"titulo": "t", "conteudo": "c"}))
        .await;
    assert_eq!(created.status, 201);
    let after = app.get("/api/posts/cache").await.json();
    assert_eq!(
        after["fonte"], "banco_de_dados",
        "the write invalidated the copy"
    );
    assert_eq!(after["total"], 4);
    assert_eq!(app.get("/api/posts/cache").await.json()["fonte"], "cache");
}

#[tokio::test]
async fn sql_looking_text_is_stored_verbatim() {
    let app = spawn_app().await;
    let evil = "'); DROP TABLE posts; --";
    let answer = app
        .post(
            "/api/posts",
            json!({"titulo": evil, "conteudo": "x' OR '1'='1"}),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(answer.json()["titulo"], evil);
    let list = app.get("/api/posts").await;
    assert_eq!(list.status, 200);
    assert_eq!(list.json()["total"], 4, "the table is still there");
}

#[tokio::test]
async fn posts_can_be_edited_and_deleted_and_both_invalidate_the_cache() {
    let app = spawn_app().await;
    app.get("/api/posts/cache").await;
    let edited = app.put("/api/posts/1", json!({"titulo": "Editado"})).await;
    assert_eq!(edited.status, 200, "{}", edited.body);
    assert_eq!(edited.json()["titulo"], "Editado");
    assert_eq!(edited.json()["autor"], "Sistema", "untouched fields stay");
    let after = app.get("/api/posts/cache").await.json();
    assert_eq!(after["fonte"], "banco_de_dados");
    assert!(after["posts"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["titulo"] == "Editado"));

    let deleted = app.delete("/api/posts/1").await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    let after = app.get("/api/posts/cache").await.json();
    assert_eq!(
        (after["fonte"].as_str(), after["total"].as_i64()),
        (Some("banco_de_dados"), Some(2))
    );
    assert_eq!(app.get("/api/posts/1").await.status, 404);
    assert_eq!(app.delete("/api/posts/1").await.status, 404);
    assert_eq!(
        app.put("/api/posts/1", json!({"autor": "x"})).await.status,
        404
    );
    assert_eq!(app.put("/api/posts/2", json!({})).await.status, 422);
    assert_eq!(app.get("/api/posts/abc").await.status, 400);
    assert_eq!(app.get("/api/posts/2").await.json()["id"], 2);
}
