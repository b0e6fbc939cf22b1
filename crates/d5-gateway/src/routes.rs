//! What the gateway forwards, and where: the whole of its public surface.

use std::{collections::BTreeMap, sync::Arc};

use axum::{
    extract::{Request, State},
    response::Response,
    routing::{any, get},
    Router,
};
use kit::Json;
use serde::Serialize;

use crate::{discovery::UpstreamHealth, forward, Gateway};

/// The gateway with kit's shared layers (request id, bounds, JSON errors):
/// `/users...` to the users service, `/orders...` to the orders service,
/// its own `/health`, and a JSON 404 for everything else.
pub fn app(gateway: Arc<Gateway>) -> Router {
    let routes = Router::new()
        .route("/health", get(health))
        .route("/users", any(to_users))
        .route("/users/{*rest}", any(to_users))
        .route("/orders", any(to_orders))
        .route("/orders/{*rest}", any(to_orders))
        .with_state(gateway);
    kit::server::app(routes, kit::server::Limits::default())
}

async fn to_users(State(gateway): State<Arc<Gateway>>, request: Request) -> Response {
    forward::handle(&gateway, &gateway.users, request).await
}

async fn to_orders(State(gateway): State<Arc<Gateway>>, request: Request) -> Response {
    forward::handle(&gateway, &gateway.orders, request).await
}

#[derive(Debug, Serialize)]
struct Health {
    /// The gateway itself serves: Docker's healthcheck reads only this.
    status: &'static str,
    service: &'static str,
    upstreams: BTreeMap<&'static str, UpstreamHealth>,
}

async fn health(State(gateway): State<Arc<Gateway>>) -> Json<Health> {
    Json(Health {
        status: "healthy",
        service: "gateway",
        upstreams: [&*gateway.users, &*gateway.orders]
            .into_iter()
            .map(|u| (u.name, u.health()))
            .collect(),
    })
}
