//! Write-up 002's posts: `GET/POST /api/posts` straight from PostgreSQL, and
//! `GET /api/posts/cache`, the same list through Redis (cache-aside, 60 s).

use axum::{
    extract::{Path, State},
    http::StatusCode,
    routing::get,
    Router,
};
use chrono::{DateTime, Utc};
use kit::{ApiError, Json};
use serde::{Deserialize, Serialize};

use crate::{cache::Fonte, db::from_row, error::DbError, validate, AppState};

/// The Redis key of the cached list, as write-up 002 names it.
pub const CACHE_KEY: &str = "posts_cache";
/// The lists return the newest posts, at most this many.
const LIST_LIMIT: i64 = 100;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Post {
    pub id: i32,
    pub titulo: String,
    pub conteudo: String,
    pub autor: String,
    pub data_criacao: DateTime<Utc>,
}

from_row!(Post {
    id,
    titulo,
    conteudo,
    autor,
    data_criacao
});

/// The body of `POST /api/posts`. Fields are optional here so that a
/// missing one gets our message, not serde's.
#[derive(Debug, Deserialize)]
pub struct NewPost {
    titulo: Option<String>,
    conteudo: Option<String>,
    autor: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct PostList {
    pub posts: Vec<Post>,
    pub total: usize,
    pub fonte: Fonte,
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/posts", get(list).post(create))
        .route("/api/posts/cache", get(list_cached))
        // Not in write-up 002: the browser page edits and deletes posts too.
        .route("/api/posts/{id}", get(fetch).put(update).delete(remove))
}

#[derive(Debug, Serialize)]
pub struct Deleted {
    pub mensagem: &'static str,
    pub id: i32,
}

async fn load(state: &AppState) -> Result<Vec<Post>, DbError> {
    state
        .db
        .run(|pool| {
            sqlx::query_as::<_, Post>(
                "SELECT id, titulo, conteudo, autor, data_criacao FROM posts \
                 ORDER BY id DESC LIMIT $1",
            )
            .bind(LIST_LIMIT)
            .fetch_all(pool)
        })
        .await
}

async fn list(State(state): State<AppState>) -> Result<Json<PostList>, ApiError> {
    let posts = load(&state).await?;
    Ok(Json(PostList {
        total: posts.len(),
        posts,
        fonte: Fonte::BancoDeDados,
    }))
}

async fn list_cached(State(state): State<AppState>) -> Result<Json<PostList>, ApiError> {
    let (posts, fonte) = state
        .cache
        .read_through(&state.db, CACHE_KEY, state.ttl.posts, || load(&state))
        .await?;
    tracing::info!(
        "GET /api/posts/cache: {} posts (fonte: {fonte:?})",
        posts.len()
    );
    Ok(Json(PostList {
        total: posts.len(),
        posts,
        fonte,
    }))
}

async fn create(
    State(state): State<AppState>,
    Json(body): Json<NewPost>,
) -> Result<(StatusCode, Json<Post>), ApiError> {
    let titulo = validate::required_text("titulo", body.titulo, 200)?;
    let conteudo = validate::required_text("conteudo", body.conteudo, 100_000)?;
    // Write-up 002's own example omits `autor`; the column's default applies.
    let autor =
        validate::optional_text("autor", body.autor, 100)?.unwrap_or_else(|| "Anônimo".to_owned());
    let db = &state.db;
    let mut tx = db.bounded(db.pool().begin()).await?;
    let post = db
        .bounded(
            sqlx::query_as::<_, Post>(
                "INSERT INTO posts (titulo, conteudo, autor) VALUES ($1, $2, $3) \
                 RETURNING id, titulo, conteudo, autor, data_criacao",
            )
            .bind(titulo)
            .bind(conteudo)
            .bind(autor)
            .fetch_one(&mut *tx),
        )
        .await?;
    state.cache.commit(db, tx, &[CACHE_KEY]).await?;
    tracing::info!("POST /api/posts: post {} criado", post.id);
    Ok((StatusCode::CREATED, Json(post)))
}

async fn fetch(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Json<Post>, ApiError> {
    let id = validate::id(&raw)?;
    state
        .db
        .run(|pool| {
            sqlx::query_as::<_, Post>(
                "SELECT id, titulo, conteudo, autor, data_criacao FROM posts WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
        })
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("post {id} não encontrado")))
}

async fn update(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    Json(body): Json<NewPost>,
) -> Result<Json<Post>, ApiError> {
    let id = validate::id(&raw)?;
    let titulo = validate::optional_text("titulo", body.titulo, 200)?;
    let conteudo = validate::optional_text("conteudo", body.conteudo, 100_000)?;
    let autor = validate::optional_text("autor", body.autor, 100)?;
    if titulo.is_none() && conteudo.is_none() && autor.is_none() {
        return Err(ApiError::Unprocessable(
            "informe 'titulo', 'conteudo' e/ou 'autor' para atualizar".into(),
        ));
    }
    let db = &state.db;
    let mut tx = db.bounded(db.pool().begin()).await?;
    let post = db
        .bounded(
            sqlx::query_as::<_, Post>(
                "UPDATE posts SET titulo = COALESCE($1, titulo), \
                 conteudo = COALESCE($2, conteudo), autor = COALESCE($3, autor) \
                 WHERE id = $4 RETURNING id, titulo, conteudo, autor, data_criacao",
            )
            .bind(titulo)
            .bind(conteudo)
            .bind(autor)
            .bind(id)
            .fetch_optional(&mut *tx),
        )
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("post {id} não encontrado")))?;
    state.cache.commit(db, tx, &[CACHE_KEY]).await?;
    tracing::info!("PUT /api/posts/{id}: post atualizado");
    Ok(Json(post))
}

async fn remove(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Json<Deleted>, ApiError> {
    let id = validate::id(&raw)?;
    let db = &state.db;
    let mut tx = db.bounded(db.pool().begin()).await?;
    let deleted = db
        .bounded(
            sqlx::query("DELETE FROM posts WHERE id = $1")
                .bind(id)
                .execute(&mut *tx),
        )
        .await?
        .rows_affected();
    if deleted == 0 {
        return Err(ApiError::NotFound(format!("post {id} não encontrado")));
    }
    state.cache.commit(db, tx, &[CACHE_KEY]).await?;
    tracing::info!("DELETE /api/posts/{id}: post removido");
    Ok(Json(Deleted {
        mensagem: "post removido",
        id,
    }))
}
