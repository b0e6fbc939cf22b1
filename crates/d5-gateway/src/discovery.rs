//! Replica discovery: an upstream service and its replicas, found through DNS.
//!
//! Compose (`--scale`) and Swarm (`endpoint_mode: dnsrr`) both publish one A
//! record per replica under the service name, so asking DNS for the name,
//! again every few seconds, is all the discovery a gateway needs: no registry,
//! no sidecar. Between two lookups, a replica that refuses a connection is
//! skipped for a while (a passive health check), so a stopped container costs
//! at most one retried request, not one failure per lookup interval.

use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex, PoisonError, RwLock,
    },
    time::{Duration, Instant},
};

use axum::http::HeaderValue;
use serde::Serialize;

/// A lock is poisoned only by a panic while it was held; every value kept
/// under one here is whole at any moment, so it is used as it is.
fn unpoison<G>(lock: Result<G, PoisonError<G>>) -> G {
    lock.unwrap_or_else(PoisonError::into_inner)
}

/// One replica: an IP address and port from DNS.
#[derive(Debug)]
pub struct Replica {
    pub addr: SocketAddr,
    /// Until when to skip it, after it refused a connection.
    down_until: Mutex<Option<Instant>>,
}

impl Replica {
    fn is_up(&self) -> bool {
        unpoison(self.down_until.lock()).is_none_or(|until| until <= Instant::now())
    }
}

/// A named service behind the gateway.
#[derive(Debug)]
pub struct Upstream {
    /// The compose service name, used in logs, errors and `/health`.
    pub name: &'static str,
    /// `host:port`, as configured (checked by [`crate::config`]).
    pub addr: String,
    /// Sent as `Host`, so the service sees its own name, not an IP.
    pub host_header: HeaderValue,
    replicas: RwLock<Arc<Vec<Arc<Replica>>>>,
    next: AtomicUsize,
    down_for: Duration,
    dns_error: RwLock<Option<String>>,
}

impl Upstream {
    pub fn new(name: &'static str, addr: String, down_for: Duration) -> Self {
        let host_header =
            HeaderValue::from_str(&addr).unwrap_or(HeaderValue::from_static("upstream"));
        Self {
            name,
            addr,
            host_header,
            replicas: RwLock::new(Arc::new(Vec::new())),
            next: AtomicUsize::new(0),
            down_for,
            dns_error: RwLock::new(None),
        }
    }

    /// The current replicas (a cheap snapshot).
    pub fn replicas(&self) -> Arc<Vec<Arc<Replica>>> {
        unpoison(self.replicas.read()).clone()
    }

    /// Replaces the replica set, keeping the down marks of those that stay.
    pub fn set_replicas(&self, addrs: Vec<SocketAddr>) {
        let old = self.replicas();
        let fresh: Vec<Arc<Replica>> = addrs
            .into_iter()
            .map(|addr| {
                old.iter()
                    .find(|r| r.addr == addr)
                    .cloned()
                    .unwrap_or_else(|| {
                        let down_until = Mutex::new(None);
                        Arc::new(Replica { addr, down_until })
                    })
            })
            .collect();
        if fresh.iter().map(|r| r.addr).ne(old.iter().map(|r| r.addr)) {
            let list: Vec<String> = fresh.iter().map(|r| r.addr.to_string()).collect();
            tracing::info!(
                "{}: {} réplica(s) [{}]",
                self.name,
                fresh.len(),
                list.join(", ")
            );
        }
        *unpoison(self.replicas.write()) = Arc::new(fresh);
    }

    fn set_dns_error(&self, error: Option<String>) {
        *unpoison(self.dns_error.write()) = error;
    }

    /// Looks the service name up once and updates the replica set.
    pub async fn refresh(&self, timeout: Duration) {
        let lookup = tokio::net::lookup_host(self.addr.as_str());
        match tokio::time::timeout(timeout, lookup).await {
            Ok(Ok(found)) => {
                let mut addrs: Vec<SocketAddr> = found.collect();
                addrs.sort();
                addrs.dedup();
                self.set_replicas(addrs);
                self.set_dns_error(None);
            }
            Ok(Err(e)) => {
                // Docker's DNS forgets a name when its last container stops:
                // there is no replica left to call.
                self.set_replicas(Vec::new());
                self.set_dns_error(Some(e.to_string()));
            }
            Err(_) => {
                // A slow resolver says nothing about the replicas: keep them.
                self.set_dns_error(Some(format!("DNS lookup took longer than {timeout:?}")));
            }
        }
    }

    /// The next replica in round-robin order that is not marked down and is
    /// not `exclude`. When every candidate is marked down, one is returned
    /// anyway: marks can be stale, and trying is how a replica comes back.
    pub fn pick(&self, exclude: Option<SocketAddr>) -> Option<Arc<Replica>> {
        let replicas = self.replicas();
        let n = replicas.len();
        if n == 0 {
            return None;
        }
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let candidates = (0..n)
            .map(|i| &replicas[(start + i) % n])
            .filter(|r| Some(r.addr) != exclude);
        let mut fallback = None;
        for replica in candidates {
            if replica.is_up() {
                return Some(Arc::clone(replica));
            }
            fallback.get_or_insert_with(|| Arc::clone(replica));
        }
        fallback
    }

    /// Skips `replica` for a while: it refused a connection.
    pub fn mark_down(&self, replica: &Replica) {
        let until = Instant::now() + self.down_for;
        *unpoison(replica.down_until.lock()) = Some(until);
        tracing::warn!(
            "{}: réplica {} marcada como fora do ar",
            self.name,
            replica.addr
        );
    }

    /// What `/health` shows about this upstream.
    pub fn health(&self) -> UpstreamHealth {
        let replicas: Vec<ReplicaHealth> = self
            .replicas()
            .iter()
            .map(|r| ReplicaHealth {
                addr: r.addr.to_string(),
                state: if r.is_up() { "up" } else { "down" },
            })
            .collect();
        let up = replicas.iter().filter(|r| r.state == "up").count();
        let state = match up {
            0 => "down",
            n if n == replicas.len() => "up",
            _ => "degraded",
        };
        UpstreamHealth {
            state,
            address: self.addr.clone(),
            replicas,
            dns_error: unpoison(self.dns_error.read()).clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ReplicaHealth {
    pub addr: String,
    pub state: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct UpstreamHealth {
    /// `up` (every replica up), `degraded` (some), `down` (none, or none found).
    pub state: &'static str,
    pub address: String,
    pub replicas: Vec<ReplicaHealth>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns_error: Option<String>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn addr(last: u8) -> SocketAddr {
        SocketAddr::from(([10, 0, 0, last], 5003))
    }

    fn upstream(addrs: &[SocketAddr]) -> Upstream {
        let u = Upstream::new(
            "users_service",
            "users_service:5003".to_owned(),
            Duration::from_secs(60),
        );
        u.set_replicas(addrs.to_vec());
        u
    }

    #[test]
    fn round_robin_visits_every_replica_in_turn() {
        let u = upstream(&[addr(1), addr(2), addr(3)]);
        let picked: Vec<u8> = (0..6)
            .map(|_| match u.pick(None).unwrap().addr.ip() {
                std::net::IpAddr::V4(ip) => ip.octets()[3],
                std::net::IpAddr::V6(_) => 0,
            })
            .collect();
        assert_eq!(picked, [1, 2, 3, 1, 2, 3]);
    }

    #[test]
    fn a_replica_marked_down_is_skipped_and_excluded_ones_too() {
        let u = upstream(&[addr(1), addr(2)]);
        let first = u.pick(None).unwrap();
        u.mark_down(&first);
        for _ in 0..4 {
            assert_ne!(u.pick(None).unwrap().addr, first.addr);
        }
        assert_eq!(u.health().state, "degraded");
        // Only the excluded one left: nothing else to try.
        let single = upstream(&[addr(1)]);
        assert!(single.pick(Some(addr(1))).is_none());
        // All marked down: one is still offered, so it can come back.
        let other = u.pick(None).unwrap();
        u.mark_down(&other);
        assert!(u.pick(None).is_some());
        assert_eq!(u.health().state, "down");
    }

    #[test]
    fn a_new_replica_set_keeps_the_marks_of_those_that_stay() {
        let u = upstream(&[addr(1), addr(2)]);
        let first = u.pick(None).unwrap();
        u.mark_down(&first);
        u.set_replicas(vec![addr(1), addr(2), addr(3)]);
        let health = u.health();
        assert_eq!(health.replicas.len(), 3);
        assert_eq!(
            health.replicas.iter().filter(|r| r.state == "down").count(),
            1
        );
        u.set_replicas(Vec::new());
        assert!(u.pick(None).is_none());
        assert_eq!(u.health().state, "down");
    }

    #[tokio::test]
    async fn dns_finds_the_replicas_and_forgets_them_when_the_name_goes() {
        let u = Upstream::new(
            "users_service",
            "127.0.0.1:5003".to_owned(),
            Duration::from_secs(5),
        );
        u.refresh(Duration::from_secs(2)).await;
        assert_eq!(u.health().replicas[0].addr, "127.0.0.1:5003");
        assert!(u.health().dns_error.is_none());

        let gone = Upstream::new(
            "users_service",
            "users-service.invalid:5003".to_owned(),
            Duration::from_secs(5),
        );
        gone.set_replicas(vec![addr(1)]);
        gone.refresh(Duration::from_secs(5)).await;
        let health = gone.health();
        assert!(health.dns_error.is_some(), "{health:?}");
        assert_eq!(health.state, "down");
    }
}
