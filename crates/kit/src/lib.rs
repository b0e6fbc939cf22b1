//! The shared spine of every service in the challenges.
//!
//! Each service binary is a thin `main.rs`: it reads its [`config`], builds
//! its `Router` with [`server::app`], and hands both to [`service::run`],
//! which sets up [`telemetry`], binds, and serves until [`shutdown::signal`].

pub mod client;
pub mod config;
pub mod error;
pub mod health;
pub mod request_id;
pub mod server;
pub mod service;
pub mod shutdown;
pub mod target;
pub mod telemetry;

pub use error::{ApiError, Json};
