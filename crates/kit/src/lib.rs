//! The shared spine of every service in the challenges.
//!
//! Each service binary is a thin `main.rs`: read its [`config`], call
//! [`telemetry::init`], build its `Router`, and hand it to [`server::serve`]
//! with [`shutdown::signal`]. Everything a service would otherwise copy lives
//! here exactly once, so a learner reading one service has seen them all.

pub mod config;
pub mod error;
pub mod health;
pub mod http_client;
pub mod server;
pub mod shutdown;
pub mod telemetry;

pub use error::{ApiError, Json};
