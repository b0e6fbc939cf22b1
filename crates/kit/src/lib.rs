//! The shared spine of every service in the challenges.
//!
//! Each service binary is a thin `main.rs`: it reads its [`config`], builds
//! its `Router` with [`server::app`], and hands both to [`service::run`],
//! which sets up [`telemetry`], binds, and serves until [`shutdown::signal`]. Everything a service would otherwise copy lives
//! here exactly once, so a learner reading one service has seen them all.

pub mod config;
pub mod error;
pub mod health;
pub mod http_client;
pub mod request_id;
pub mod server;
pub mod service;
pub mod shutdown;
pub mod target;
pub mod telemetry;

pub use error::{ApiError, Json};
