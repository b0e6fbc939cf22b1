//! Write-ups 001 and 003: the visit counter at `/` (Redis counts, PostgreSQL
//! records each access), the access log at `/log`, and the students at
//! `/todos` and `/aluno/{id}`.

use axum::{
    extract::{Path, State},
    routing::get,
    Router,
};
use chrono::{DateTime, Utc};
use kit::{ApiError, Json};
use serde::Serialize;

use crate::{db::from_row, error::DbError, validate, AppState};

/// The Redis counter of visits to `/`, under write-up 001's key.
pub const VISITS_KEY: &str = "contador";
/// `/log` shows the latest accesses, at most this many.
const LOG_LIMIT: i64 = 100;

#[derive(Debug, Clone, Serialize)]
pub struct Aluno {
    pub id: i32,
    pub nome: String,
    pub curso: String,
}

#[derive(Debug, Serialize)]
pub struct Acesso {
    pub id: i32,
    pub mensagem: String,
    pub data_hora: DateTime<Utc>,
}

from_row!(Aluno { id, nome, curso });
from_row!(Acesso {
    id,
    mensagem,
    data_hora
});

#[derive(Debug, Serialize)]
pub struct Alunos {
    pub alunos: Vec<Aluno>,
    pub total: usize,
}

#[derive(Debug, Serialize)]
pub struct Log {
    pub registros: Vec<Acesso>,
    pub total: usize,
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(visit))
        .route("/log", get(log))
        .route("/todos", get(todos))
        .route("/aluno/{id}", get(aluno))
}

/// Counts the visit in Redis, records it in PostgreSQL, and answers with
/// both totals, word for word as write-up 003 shows.
///
/// Both stores or neither: the transaction is opened first (so a stopped
/// database means no visit is counted) and rolled back if Redis cannot
/// count it (so a stopped cache means no access is recorded). If the
/// insert or the commit fails after Redis counted, the count is taken back
/// with `DECR` (and logged). A commit whose answer is lost (a timeout) may
/// still have been applied; then Redis is left one visit short, the smaller
/// error, and the warning names the visit.
async fn visit(State(state): State<AppState>) -> Result<String, ApiError> {
    let db = &state.db;
    let mut tx = db.bounded(db.pool().begin()).await?;
    let visitas = state.cache.incr(VISITS_KEY).await?;
    let recorded = async {
        let registros: i64 = db
            .bounded(
                sqlx::query_scalar(
                    "WITH novo AS (INSERT INTO logs (mensagem) VALUES ($1) RETURNING 1) \
                     SELECT (SELECT count(*) FROM logs) + (SELECT count(*) FROM novo)",
                )
                .bind(format!("Acesso número {visitas}"))
                .fetch_one(&mut *tx),
            )
            .await?;
        db.bounded(tx.commit()).await?;
        Ok::<_, DbError>(registros)
    }
    .await;
    let registros = match recorded {
        Ok(registros) => registros,
        Err(e) => {
            match state.cache.decr(VISITS_KEY).await {
                Ok(_) => tracing::warn!(
                    "GET /: visita {visitas} descontada do Redis; o PostgreSQL não confirmou o registro"
                ),
                Err(redis) => tracing::error!(
                    "GET /: visita {visitas} contada no Redis mas não registrada no \
                     PostgreSQL, e o desconto falhou: {redis}"
                ),
            }
            return Err(e.into());
        }
    };
    tracing::info!("GET /: {registros} registros, {visitas} visitas");
    Ok(format!(
        "Banco PostgreSQL tem {registros} registros. Redis conta {visitas} visitas."
    ))
}

async fn log(State(state): State<AppState>) -> Result<Json<Log>, ApiError> {
    let registros = state
        .db
        .run(|pool| {
            sqlx::query_as::<_, Acesso>(
                "SELECT id, mensagem, data_hora FROM logs ORDER BY id DESC LIMIT $1",
            )
            .bind(LOG_LIMIT)
            .fetch_all(pool)
        })
        .await?;
    Ok(Json(Log {
        total: registros.len(),
        registros,
    }))
}

async fn todos(State(state): State<AppState>) -> Result<Json<Alunos>, ApiError> {
    let alunos = state
        .db
        .run(|pool| {
            sqlx::query_as::<_, Aluno>("SELECT id, nome, curso FROM alunos ORDER BY id")
                .fetch_all(pool)
        })
        .await?;
    Ok(Json(Alunos {
        total: alunos.len(),
        alunos,
    }))
}

async fn aluno(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Json<Aluno>, ApiError> {
    let id = validate::id(&raw)?;
    state
        .db
        .run(|pool| {
            sqlx::query_as::<_, Aluno>("SELECT id, nome, curso FROM alunos WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
        })
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("aluno {id} não encontrado")))
}
