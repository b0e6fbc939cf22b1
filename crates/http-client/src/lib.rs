//! The one way a service builds its outgoing HTTP client: Desafio 4's
//! service B calling A, Desafio 3's page and client calling the API.
//!
//! A crate of its own, not a kit module: every image builds the whole
//! workspace's feature set, so reqwest behind a kit feature was compiled
//! into every challenge, Desafio 1's included. Only its three callers
//! depend on this crate, so only their builds compile reqwest.

use std::time::Duration;

/// How long a call may wait: for the connection, and for the whole answer.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// Time to open the TCP connection.
    pub connect: Duration,
    /// Time for the whole request, connection and body included.
    pub total: Duration,
}

/// A client sending `user_agent`, bounded by `timeouts`.
pub fn build(user_agent: &str, timeouts: Timeouts) -> reqwest::Result<reqwest::Client> {
    // reqwest's defaults wait for ever, and a caller waiting for ever on a
    // slow service hangs its own callers: both bounds are set.
    reqwest::Client::builder()
        .user_agent(user_agent)
        .connect_timeout(timeouts.connect)
        .timeout(timeouts.total)
        // Let go of an idle connection before the service closes it.
        .pool_idle_timeout(kit::server::POOL_IDLE)
        // Not through a proxy named in the environment (HTTP_PROXY): the
        // call stays on the compose network.
        .no_proxy()
        .build()
}
