//! Write-up 002's view of the whole stack: `/status` (is each store
//! reachable), `/api/contador` (a Redis counter) and `/api/stats`.

use axum::{extract::State, routing::get, Router};
use chrono::Utc;
use kit::{ApiError, Json};
use serde::Serialize;

use crate::{alunos::VISITS_KEY, posts, AppState};

/// The Redis counter of `/api/contador`, as write-up 002 names it.
pub const COUNTER_KEY: &str = "contador_requisicoes";

/// `conectado` / `desconectado`, the write-up's words.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Conexao {
    Conectado,
    Desconectado,
}

impl From<bool> for Conexao {
    fn from(up: bool) -> Self {
        if up {
            Self::Conectado
        } else {
            Self::Desconectado
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Status {
    pub banco_dados: Conexao,
    pub cache: Conexao,
    /// `ok` when both answer, `degradado` otherwise.
    pub status: &'static str,
    pub timestamp: String,
}

#[derive(Debug, Serialize)]
pub struct Contador {
    pub contador: i64,
    pub chave: &'static str,
}

#[derive(Debug, Serialize)]
pub struct Stats {
    pub total_posts: i64,
    pub total_usuarios: i64,
    pub total_alunos: i64,
    pub total_acessos: i64,
    /// `null` while Redis is away.
    pub total_requisicoes: Option<i64>,
    pub total_visitas: Option<i64>,
    pub posts_em_cache: Option<bool>,
    pub cache: Conexao,
    pub timestamp: String,
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/status", get(status))
        .route("/api/contador", get(contador))
        .route("/api/stats", get(stats))
}

/// `datetime.now().isoformat()` of the Flask original, in UTC.
fn now_iso() -> String {
    Utc::now().format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

/// Always 200: the answer *is* the state of the dependencies, and the web
/// process itself is fine (its healthcheck is `/health`).
async fn status(State(state): State<AppState>) -> Json<Status> {
    let (db, cache) = tokio::join!(state.db.ping(), state.cache.ping());
    Json(Status {
        banco_dados: db.into(),
        cache: cache.into(),
        status: if db && cache { "ok" } else { "degradado" },
        timestamp: now_iso(),
    })
}

async fn contador(State(state): State<AppState>) -> Result<Json<Contador>, ApiError> {
    let contador = state.cache.incr(COUNTER_KEY).await?;
    Ok(Json(Contador {
        contador,
        chave: COUNTER_KEY,
    }))
}

async fn stats(State(state): State<AppState>) -> Result<Json<Stats>, ApiError> {
    let counts = state.db.run(|pool| {
        sqlx::query_as::<_, (i64, i64, i64, i64)>(
            "SELECT (SELECT count(*) FROM posts), (SELECT count(*) FROM users), \
                    (SELECT count(*) FROM alunos), (SELECT count(*) FROM logs)",
        )
        .fetch_one(pool)
    });
    let cached = async {
        // One failed call means Redis is away: do not wait three timeouts.
        let Ok(requisicoes) = state.cache.counter(COUNTER_KEY).await else {
            return (None, None, None);
        };
        let visitas = state.cache.counter(VISITS_KEY).await.ok();
        let em_cache = state.cache.exists(posts::CACHE_KEY).await.ok();
        (Some(requisicoes), visitas, em_cache)
    };
    let (counts, (total_requisicoes, total_visitas, posts_em_cache)) = tokio::join!(counts, cached);
    let (total_posts, total_usuarios, total_alunos, total_acessos) = counts?;
    Ok(Json(Stats {
        total_posts,
        total_usuarios,
        total_alunos,
        total_acessos,
        cache: total_requisicoes.is_some().into(),
        total_requisicoes,
        total_visitas,
        posts_em_cache,
        timestamp: now_iso(),
    }))
}
