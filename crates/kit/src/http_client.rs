//! The one way services build an outgoing HTTP client.
//!
//! reqwest's defaults wait forever, and a client that waits forever turns a
//! slow upstream into a hung caller. Every client here has both a connect
//! bound and a total bound.

use std::time::Duration;

/// Timeouts for an outgoing client.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// Time to open the TCP connection.
    pub connect: Duration,
    /// Time for the whole request, connection and body included.
    pub total: Duration,
}

/// A client with `timeouts`, a user agent naming `service`, and no
/// proxy from the environment (traffic stays on the compose network).
pub fn build(service: &str, timeouts: Timeouts) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .user_agent(format!("{service}/{}", env!("CARGO_PKG_VERSION")))
        .connect_timeout(timeouts.connect)
        .timeout(timeouts.total)
        .pool_idle_timeout(crate::server::POOL_IDLE)
        .no_proxy()
        .build()
}
