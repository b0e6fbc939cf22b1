//! Desafio 5, users service: `GET /users` and `GET /users/{id}`.
//!
//! The data belongs to this service alone (a constant here): the orders
//! service never reads it, it only stores user ids. Every answer carries
//! `x-served-by` with the container's host name, so when the service is
//! scaled to several replicas a learner sees the gateway spread requests.

use axum::{extract::Path, routing::get, Router};
use kit::{ApiError, Json};
use serde::Serialize;

/// Settings, from the environment: `PORT`, `HOSTNAME`, `SHUTDOWN_GRACE`.
pub type Config = kit::config::Basics;

/// The write-up's port for this service.
pub const DEFAULT_PORT: u16 = 5003;

#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: u32,
    pub name: &'static str,
    pub email: &'static str,
}

/// This service's own data.
pub const USERS: [User; 3] = [
    User {
        id: 1,
        name: "Ana Souza",
        email: "ana@example.com",
    },
    User {
        id: 2,
        name: "Bruno Lima",
        email: "bruno@example.com",
    },
    User {
        id: 3,
        name: "Carla Dias",
        email: "carla@example.com",
    },
];

/// The full application: routes, `/health`, the shared layers, and
/// `x-served-by`.
pub fn app(config: &Config) -> Router {
    let routes = Router::new()
        .route("/users", get(list))
        .route("/users/{id}", get(one))
        .merge(kit::health::router("users_service"));
    kit::server::served_by(
        kit::server::app(routes, kit::server::Limits::default()),
        &config.container_name,
    )
}

async fn list() -> Json<[User; 3]> {
    tracing::info!("GET /users: {} usuários", USERS.len());
    Json(USERS)
}

async fn one(Path(id): Path<String>) -> Result<Json<User>, ApiError> {
    let id: u32 = id.parse().map_err(|_| {
        ApiError::BadRequest(format!("user id must be a positive integer, got {id:?}"))
    })?;
    let user = USERS
        .iter()
        .find(|u| u.id == id)
        .cloned()
        .ok_or_else(|| ApiError::NotFound(format!("user {id} not found")))?;
    tracing::info!("GET /users/{id}: {}", user.name);
    Ok(Json(user))
}
