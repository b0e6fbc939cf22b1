//! The pooled HTTP client of the programs that speak to a service through
//! hyper directly: the gateway, which forwards, and `fetch`, the health
//! probe and Desafio 1's client. hyper-util's client, set up once for both.
//! (The services that call another one with JSON use reqwest.)

use std::time::Duration;

use hyper::body::Body;
use hyper_util::{
    client::legacy::{connect::HttpConnector, Client},
    rt::{TokioExecutor, TokioTimer},
};

/// hyper-util's pooled client over plain TCP, sending bodies of type `B`.
pub type Pooled<B> = Client<HttpConnector, B>;

/// A client that gives up on a connection not made within `connect_timeout`
/// and keeps kept-alive connections for the next request.
pub fn pooled<B>(connect_timeout: Duration) -> Pooled<B>
where
    B: Body + Send + 'static,
    B::Data: Send,
{
    let mut connector = HttpConnector::new();
    connector.set_connect_timeout(Some(connect_timeout));
    connector.set_nodelay(true);
    Client::builder(TokioExecutor::new())
        // Let go of idle connections before the services close them.
        .pool_idle_timeout(crate::server::POOL_IDLE)
        .pool_timer(TokioTimer::new())
        .build(connector)
}
