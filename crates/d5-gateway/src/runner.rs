//! Serving on one single-threaded runtime per CPU, the way nginx runs one
//! worker process per CPU.
//!
//! On tokio's work-stealing runtime, one proxied request wakes several tasks
//! (the client's connection, the handler, the pooled upstream connection),
//! often on different worker threads; on a small machine those cross-thread
//! wake-ups cost more CPU than the proxying itself. Here each thread has its
//! own runtime, its own listening socket on the same port (`SO_REUSEPORT`:
//! the kernel spreads new connections over them) and its own connection
//! pool, so a request never leaves the thread that accepted it. The replica
//! sets are shared by all threads.

use std::{
    io,
    net::SocketAddr,
    sync::{mpsc, Arc},
    thread::{self, JoinHandle},
};

use tokio::{
    net::{TcpListener, TcpSocket},
    sync::watch,
};

use crate::{app, Gateway};

/// The serving threads, until [`Running::stop`].
#[derive(Debug)]
pub struct Running {
    port: u16,
    stop: watch::Sender<bool>,
    threads: Vec<JoinHandle<io::Result<()>>>,
}

impl Running {
    /// The port every thread listens on (useful when asked for port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops accepting, lets in-flight requests finish (each thread bounded
    /// by the configured grace), and waits for the threads.
    pub fn stop(self) -> io::Result<()> {
        let _ = self.stop.send(true);
        for thread in self.threads {
            thread
                .join()
                .map_err(|_| io::Error::other("a serving thread panicked"))??;
        }
        Ok(())
    }
}

/// Starts `threads` serving threads on `port` (0: any free port, the same
/// for all). Returns once every thread listens, or with the first bind error.
pub fn start(gateway: &Arc<Gateway>, port: u16, threads: usize) -> io::Result<Running> {
    let (stop, stopped) = watch::channel(false);
    let mut running = Running {
        port,
        stop,
        threads: Vec::new(),
    };
    for index in 0..threads.max(1) {
        let gateway = gateway.sibling();
        let stopped = stopped.clone();
        let (ready, is_ready) = mpsc::channel::<io::Result<u16>>();
        let port = running.port;
        let thread = thread::Builder::new()
            .name(format!("gateway-{index}"))
            .spawn(move || serve_one(gateway, port, stopped, ready))?;
        running.threads.push(thread);
        // The first thread learns the real port; the others reuse it.
        running.port = is_ready
            .recv()
            .map_err(|_| io::Error::other("a serving thread died while starting"))??;
    }
    Ok(running)
}

fn serve_one(
    gateway: Arc<Gateway>,
    port: u16,
    mut stopped: watch::Receiver<bool>,
    ready: mpsc::Sender<io::Result<u16>>,
) -> io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = match listen(port).and_then(|l| Ok((l.local_addr()?.port(), l))) {
            Ok((port, listener)) => {
                let _ = ready.send(Ok(port));
                listener
            }
            Err(e) => {
                let _ = ready.send(Err(e));
                return Ok(());
            }
        };
        let grace = gateway.config.grace;
        let shutdown = async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        };
        kit::server::serve(listener, app(gateway), shutdown, grace).await
    })
}

/// `0.0.0.0:port` with `SO_REUSEPORT`, so several threads can each have
/// their own listening socket on it.
fn listen(port: u16) -> io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.set_reuseport(true)?;
    socket.bind(SocketAddr::from(([0, 0, 0, 0], port)))?;
    socket.listen(1024)
}
