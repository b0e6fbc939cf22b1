//! Write-up 004's users: CRUD with a unique e-mail (a duplicate is 409),
//! the list cached for 60 s and each user for 300 s, every change
//! invalidating both (recorded in its transaction: see [`crate::cache`]).
//! Reads say where they came from (`fonte`, `from_cache`).

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

/// The cached list's key, as write-up 004 names it.
pub const LIST_KEY: &str = "users_list";
const LIST_LIMIT: i64 = 1000;

/// One user's key: `user_1`, `user_2`, as in write-up 004.
pub fn user_key(id: i32) -> String {
    format!("user_{id}")
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    pub id: i32,
    pub name: String,
    pub email: String,
    pub created_at: DateTime<Utc>,
}

from_row!(User {
    id,
    name,
    email,
    created_at
});

#[derive(Debug, Deserialize)]
pub struct UserInput {
    name: Option<String>,
    email: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct UserList {
    pub users: Vec<User>,
    pub total: usize,
    pub fonte: Fonte,
    pub from_cache: bool,
}

#[derive(Debug, Serialize)]
pub struct UserAnswer {
    #[serde(flatten)]
    pub user: User,
    pub fonte: Fonte,
    pub from_cache: bool,
}

#[derive(Debug, Serialize)]
pub struct Deleted {
    pub mensagem: &'static str,
    pub id: i32,
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users", get(list).post(create))
        .route("/users/{id}", get(fetch).put(update).delete(remove))
}

fn duplicate(email: &str) -> impl Fn(DbError) -> ApiError + '_ {
    move |e| match e {
        DbError::Duplicate(_) => ApiError::Conflict(format!("e-mail '{email}' já cadastrado")),
        other => other.into(),
    }
}

async fn list(State(state): State<AppState>) -> Result<Json<UserList>, ApiError> {
    let (users, fonte) = state
        .cache
        .read_through(&state.db, LIST_KEY, state.ttl.users_list, || async {
            state
                .db
                .run(|pool| {
                    sqlx::query_as::<_, User>(
                        "SELECT id, name, email, created_at FROM users ORDER BY id LIMIT $1",
                    )
                    .bind(LIST_LIMIT)
                    .fetch_all(pool)
                })
                .await
        })
        .await
        .map_err(ApiError::from)?;
    Ok(Json(UserList {
        total: users.len(),
        users,
        fonte,
        from_cache: fonte.from_cache(),
    }))
}

async fn fetch(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Json<UserAnswer>, ApiError> {
    let id = validate::id(&raw)?;
    // A missing user is not cached: it may be created a moment later.
    let (user, fonte) = state
        .cache
        .read_through(&state.db, &user_key(id), state.ttl.user, || async {
            state
                .db
                .run(|pool| {
                    sqlx::query_as::<_, User>(
                        "SELECT id, name, email, created_at FROM users WHERE id = $1",
                    )
                    .bind(id)
                    .fetch_optional(pool)
                })
                .await?
                .ok_or_else(|| ApiError::NotFound(format!("usuário {id} não encontrado")))
        })
        .await?;
    Ok(Json(UserAnswer {
        user,
        fonte,
        from_cache: fonte.from_cache(),
    }))
}

async fn create(
    State(state): State<AppState>,
    Json(body): Json<UserInput>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    let name = validate::required_text("name", body.name, 100)?;
    let email = validate::email(
        body.email
            .ok_or_else(|| ApiError::Unprocessable("campo 'email' é obrigatório".into()))?,
    )?;
    let db = &state.db;
    let mut tx = db.bounded(db.pool().begin()).await?;
    let user = db
        .bounded(
            sqlx::query_as::<_, User>(
                "INSERT INTO users (name, email) VALUES ($1, $2) \
                 RETURNING id, name, email, created_at",
            )
            .bind(&name)
            .bind(&email)
            .fetch_one(&mut *tx),
        )
        .await
        .map_err(duplicate(&email))?;
    state
        .cache
        .commit(db, tx, &[LIST_KEY, &user_key(user.id)])
        .await?;
    tracing::info!("POST /users: usuário {} criado", user.id);
    Ok((StatusCode::CREATED, Json(user)))
}

async fn update(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    Json(body): Json<UserInput>,
) -> Result<Json<User>, ApiError> {
    let id = validate::id(&raw)?;
    let name = validate::optional_text("name", body.name, 100)?;
    let email = body.email.map(validate::email).transpose()?;
    if name.is_none() && email.is_none() {
        return Err(ApiError::Unprocessable(
            "informe 'name' e/ou 'email' para atualizar".into(),
        ));
    }
    let shown_email = email.clone().unwrap_or_default();
    let db = &state.db;
    let mut tx = db.bounded(db.pool().begin()).await?;
    let user = db
        .bounded(
            sqlx::query_as::<_, User>(
                "UPDATE users SET name = COALESCE($1, name), email = COALESCE($2, email) \
                 WHERE id = $3 RETURNING id, name, email, created_at",
            )
            .bind(name)
            .bind(email)
            .bind(id)
            .fetch_optional(&mut *tx),
        )
        .await
        .map_err(duplicate(&shown_email))?
        .ok_or_else(|| ApiError::NotFound(format!("usuário {id} não encontrado")))?;
    state
        .cache
        .commit(db, tx, &[LIST_KEY, &user_key(id)])
        .await?;
    tracing::info!("PUT /users/{id}: usuário atualizado");
    Ok(Json(user))
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
            sqlx::query("DELETE FROM users WHERE id = $1")
                .bind(id)
                .execute(&mut *tx),
        )
        .await?
        .rows_affected();
    if deleted == 0 {
        return Err(ApiError::NotFound(format!("usuário {id} não encontrado")));
    }
    state
        .cache
        .commit(db, tx, &[LIST_KEY, &user_key(id)])
        .await?;
    tracing::info!("DELETE /users/{id}: usuário removido");
    Ok(Json(Deleted {
        mensagem: "usuário removido",
        id,
    }))
}
