use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn health_and_status_report_both_stores() {
    let app = spawn_app().await;
    assert_eq!(
        app.get("/health").await.json(),
        json!({"status": "healthy", "service": "web"})
    );
    let status = app.get("/status").await.json();
    assert_eq!(status["banco_dados"], "conectado");
    assert_eq!(status["cache"], "conectado");
    assert_eq!(status["status"], "ok");
    assert!(status["timestamp"].as_str().unwrap().contains('T'));
}

#[tokio::test]
async fn the_counter_goes_up_one_by_one() {
    let app = spawn_app().await;
    for expected in 1..=5 {
        let answer = app.get("/api/contador").await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(answer.json()["contador"], expected);
    }
}

#[tokio::test]
async fn stats_add_up() {
    let app = spawn_app().await;
    app.post("/api/posts", json!({"titulo": "a", "conteudo": "b"}))
        .await;
    app.post("/users", json!({"name": "Ana", "email": "a@b.c"}))
        .await;
    app.get("/api/contador").await;
    app.get("/api/contador").await;
    app.get("/").await;
    app.get("/api/posts/cache").await;
    let stats = app.get("/api/stats").await.json();
    assert_eq!(stats["total_posts"], 4);
    assert_eq!(stats["total_usuarios"], 1);
    assert_eq!(stats["total_alunos"], 3);
    assert_eq!(stats["total_acessos"], 1);
    assert_eq!(stats["total_requisicoes"], 2);
    assert_eq!(stats["total_visitas"], 1);
    assert_eq!(stats["posts_em_cache"], true);
    assert_eq!(stats["cache"], "conectado");
}
