//! Bad input of every kind is a 4xx JSON answer, never a 5xx.

use axum::{body::Body, http::Request};
use serde_json::json;

use crate::helpers::{spawn_app, Answer};

#[track_caller]
fn assert_4xx(answer: &Answer, expected: u16, what: &str) {
    assert_eq!(answer.status, expected, "{what}: {}", answer.body);
    let body = answer.json();
    assert!(
        body["error"].is_string() && body["message"].is_string(),
        "{what}: {body}"
    );
}

#[tokio::test]
async fn malformed_wrong_typed_missing_and_empty_bodies() {
    let app = spawn_app().await;
    for path in ["/api/posts", "/users"] {
        assert_4xx(
            &app.send_json("POST", path, "{\"titulo\":").await,
            400,
            "truncated JSON",
        );
        assert_4xx(
            &app.send_json("POST", path, "not json").await,
            400,
            "not JSON",
        );
        assert_4xx(&app.send_json("POST", path, "[1,2]").await, 422, "an array");
        assert_4xx(&app.send_json("POST", path, "").await, 400, "empty body");
        assert_4xx(&app.post(path, json!({})).await, 422, "missing fields");
    }
    let cases = [
        (json!({"titulo": 5, "conteudo": "x"}), "number as titulo"),
        (json!({"titulo": "", "conteudo": "x"}), "empty titulo"),
        (json!({"titulo": "   ", "conteudo": "x"}), "blank titulo"),
        (json!({"titulo": "a\u{0}b", "conteudo": "x"}), "NUL byte"),
        (
            json!({"titulo": "t".repeat(201), "conteudo": "x"}),
            "titulo too long",
        ),
        (json!({"titulo": "t", "conteudo": null}), "null conteudo"),
    ];
    for (body, what) in cases {
        assert_4xx(&app.post("/api/posts", body).await, 422, what);
    }
    let cases = [
        (json!({"name": "Ana"}), "no email"),
        (json!({"name": "Ana", "email": "nao-e-email"}), "bad email"),
        (json!({"name": ["Ana"], "email": "a@b.c"}), "array as name"),
        (json!({"name": "A\u{0}", "email": "a@b.c"}), "NUL in name"),
    ];
    for (body, what) in cases {
        assert_4xx(&app.post("/users", body).await, 422, what);
    }
    assert_4xx(
        &app.put("/users/1", json!({})).await,
        422,
        "nothing to update",
    );
    // Nothing of the above was stored.
    assert_eq!(app.get("/api/posts").await.json()["total"], 3);
    assert_eq!(app.get("/users").await.json()["total"], 0);
}

#[tokio::test]
async fn wrong_content_type_and_oversized_bodies() {
    let app = spawn_app().await;
    let plain = app
        .request(
            Request::post("/users")
                .header("content-type", "text/plain")
                .body(Body::from("{\"name\":\"a\",\"email\":\"a@b.c\"}"))
                .unwrap(),
        )
        .await;
    assert_4xx(&plain, 415, "text/plain body");
    let big = format!(
        "{{\"titulo\":\"t\",\"conteudo\":\"{}\"}}",
        "x".repeat(1024 * 1024 + 1)
    );
    assert_4xx(
        &app.send_json("POST", "/api/posts", big).await,
        413,
        "over 1 MiB",
    );
}

#[tokio::test]
async fn ids_that_are_not_positive_integers_in_range() {
    let app = spawn_app().await;
    for id in [
        "abc",
        "-1",
        "0",
        "1.5",
        "99999999999",
        "2147483648",
        "1%3B%20DROP%20TABLE%20users",
        "%00",
    ] {
        for path in [format!("/users/{id}"), format!("/aluno/{id}")] {
            assert_4xx(&app.get(&path).await, 400, &path);
        }
        assert_4xx(&app.delete(&format!("/users/{id}")).await, 400, id);
        assert_4xx(
            &app.put(&format!("/users/{id}"), json!({"name": "x"})).await,
            400,
            id,
        );
    }
    assert_4xx(&app.get("/aluno/2147483647").await, 404, "largest id");
    assert_eq!(app.get("/todos").await.json()["total"], 3);
}

#[tokio::test]
async fn unknown_paths_and_methods_are_json() {
    let app = spawn_app().await;
    assert_4xx(&app.get("/nada").await, 404, "unknown path");
    assert_4xx(&app.delete("/api/posts").await, 405, "DELETE on a list");
}
