//! Desafio 5, orders service: `GET /orders`, `GET /orders/{id}` and
//! `GET /orders?user_id=N`.
//!
//! Orders refer to users by id only; this service never calls the users
//! service and owns its data alone, which is what makes the two independent
//! (each can be deployed, scaled and restarted on its own).

use axum::{
    extract::{rejection::QueryRejection, Path, Query},
    routing::get,
    Router,
};
use kit::{ApiError, Json};
use serde::{Deserialize, Serialize};

/// Settings, from the environment: `PORT`, `HOSTNAME`, `SHUTDOWN_GRACE`.
pub type Config = kit::config::Basics;

/// The write-up's port for this service.
pub const DEFAULT_PORT: u16 = 5002;

#[derive(Debug, Clone, Serialize)]
pub struct Order {
    pub id: u32,
    pub user_id: u32,
    pub product: &'static str,
    pub quantity: u32,
    /// In cents, so no float ever rounds a price.
    pub total_cents: u64,
}

/// This service's own data.
pub const ORDERS: [Order; 4] = [
    Order {
        id: 1,
        user_id: 1,
        product: "Notebook",
        quantity: 1,
        total_cents: 450_000,
    },
    Order {
        id: 2,
        user_id: 1,
        product: "Mouse",
        quantity: 2,
        total_cents: 15_000,
    },
    Order {
        id: 3,
        user_id: 2,
        product: "Teclado",
        quantity: 1,
        total_cents: 22_000,
    },
    Order {
        id: 4,
        user_id: 3,
        product: "Monitor",
        quantity: 1,
        total_cents: 120_000,
    },
];

/// The full application: routes, `/health`, the shared layers, and
/// `x-served-by`.
pub fn app(config: &Config) -> Router {
    let routes = Router::new()
        .route("/orders", get(list))
        .route("/orders/{id}", get(one))
        .merge(kit::health::router("orders_service"));
    kit::server::served_by(
        kit::server::app(routes, kit::server::Limits::default()),
        &config.container_name,
    )
}

#[derive(Debug, Deserialize)]
struct Filter {
    user_id: Option<String>,
}

fn parse_id(what: &str, raw: &str) -> Result<u32, ApiError> {
    raw.parse().map_err(|_| {
        ApiError::BadRequest(format!("{what} must be a positive integer, got {raw:?}"))
    })
}

async fn list(filter: Result<Query<Filter>, QueryRejection>) -> Result<Json<Vec<Order>>, ApiError> {
    let Query(filter) = filter.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let user_id = filter
        .user_id
        .as_deref()
        .map(|raw| parse_id("user_id", raw))
        .transpose()?;
    let orders: Vec<Order> = ORDERS
        .iter()
        .filter(|o| user_id.is_none_or(|u| o.user_id == u))
        .cloned()
        .collect();
    match user_id {
        Some(u) => tracing::info!("GET /orders?user_id={u}: {} pedidos", orders.len()),
        None => tracing::info!("GET /orders: {} pedidos", orders.len()),
    }
    Ok(Json(orders))
}

async fn one(Path(id): Path<String>) -> Result<Json<Order>, ApiError> {
    let id = parse_id("order id", &id)?;
    let order = ORDERS
        .iter()
        .find(|o| o.id == id)
        .cloned()
        .ok_or_else(|| ApiError::NotFound(format!("order {id} not found")))?;
    tracing::info!("GET /orders/{id}: {}", order.product);
    Ok(Json(order))
}
