//! Kept-alive HTTP/1.1 connections to the replicas, for one serving thread.
//!
//! The gateway forwards with its own HTTP/1.1 exchange ([`crate::h1`])
//! rather than reqwest, which parses a URL string (host names through IDNA
//! included) and runs its redirect policy on every request: callgrind
//! counted those at more than a quarter of the gateway's work per request.
//! (A proxy must not follow redirects anyway: the caller sees them.)
//!
//! hyper-util's pooled client finds a connection in a hash map keyed by
//! scheme and authority (SipHash, a lock, and a waiter list) on every
//! request; callgrind put that, with its bookkeeping on return, at about
//! 8% of the gateway's work per request. Here each serving thread keeps, per
//! replica address, a short list of idle connections.

use std::{
    net::SocketAddr,
    sync::Mutex,
    time::{Duration, Instant},
};

use tokio::net::TcpStream;

use crate::h1::Conn;

/// Why no connection could be had.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("connect to {0} timed out after {1:?}")]
    Timeout(SocketAddr, Duration),
    #[error("connect to {0}: {1}")]
    Io(SocketAddr, std::io::Error),
}

/// Idle connections by replica address. One per serving thread: a
/// connection belongs to the event loop of the runtime that opened it.
#[derive(Debug)]
pub struct Pool {
    connect_timeout: Duration,
    /// A connection idle for longer is closed rather than reused: the
    /// services close theirs after 5 s idle, and reusing one just as it
    /// closes would fail the request.
    idle_for: Duration,
    /// A handful of replicas at most: a list beats a hash map here.
    idle: Mutex<Vec<(SocketAddr, Vec<Idle>)>>,
}

/// A connection waiting for its next request, and since when.
type Idle = (Conn, Instant);

/// Most idle connections kept per replica; more are closed on return.
const MAX_IDLE_PER_REPLICA: usize = 64;

impl Pool {
    pub fn new(connect_timeout: Duration, idle_for: Duration) -> Self {
        Self {
            connect_timeout,
            idle_for,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// An idle connection to `addr` that is still open, if there is one.
    pub fn take(&self, addr: SocketAddr) -> Option<Conn> {
        let mut idle = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let list = idle.iter_mut().find(|(a, _)| *a == addr)?;
        while let Some((connection, since)) = list.1.pop() {
            if since.elapsed() < self.idle_for && connection.is_usable() {
                return Some(connection);
            }
        }
        None
    }

    /// A new connection to `addr`, within the connect timeout.
    pub async fn connect(&self, addr: SocketAddr) -> Result<Conn, ConnectError> {
        let stream = tokio::time::timeout(self.connect_timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| ConnectError::Timeout(addr, self.connect_timeout))?
            .map_err(|e| ConnectError::Io(addr, e))?;
        // Small requests and answers: send each at once.
        let _ = stream.set_nodelay(true);
        Ok(Conn::new(stream))
    }

    /// Gives back a connection whose exchange completed, for reuse.
    pub fn put(&self, addr: SocketAddr, connection: Conn) {
        let mut idle = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        match idle.iter_mut().find(|(a, _)| *a == addr) {
            Some((_, list)) if list.len() < MAX_IDLE_PER_REPLICA => list.push((connection, now)),
            Some(_) => {}
            None => {
                // Replicas come and go (a scale-down, a rolling update):
                // forget the addresses left with nothing idle.
                idle.retain(|(_, list)| !list.is_empty());
                idle.push((addr, vec![(connection, now)]));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_connection_is_reused_until_it_has_idled_too_long() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let app = axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));
            axum::serve(listener, app).await
        });
        let pool = Pool::new(Duration::from_secs(1), Duration::from_millis(300));
        assert!(pool.take(addr).is_none());
        let mut connection = pool.connect(addr).await.unwrap();
        let mut headers = axum::http::HeaderMap::new();
        headers.insert("host", axum::http::HeaderValue::from_static("test"));
        let answer = connection
            .exchange(
                &axum::http::Method::GET,
                "/",
                &headers,
                &Default::default(),
                1024,
            )
            .await
            .unwrap();
        assert_eq!(answer.status, 200);
        assert_eq!(answer.body, "ok");
        assert!(answer.reusable);
        pool.put(addr, connection);
        let again = pool.take(addr);
        assert!(again.is_some(), "a fresh idle connection is reused");
        pool.put(addr, again.unwrap());
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert!(pool.take(addr).is_none(), "an old one is dropped");
    }

    #[tokio::test]
    async fn connecting_to_a_closed_port_fails_fast() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let pool = Pool::new(Duration::from_secs(1), Duration::from_secs(1));
        assert!(matches!(
            pool.connect(addr).await,
            Err(ConnectError::Io(..))
        ));
    }
}
