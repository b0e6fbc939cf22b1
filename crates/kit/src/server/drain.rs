//! Request bodies that a handler leaves unread (a 404, a GET that ignores
//! its body) are read to the end, bounded in bytes and time. Otherwise hyper
//! closes the connection with bytes unread, the kernel answers them with a
//! TCP reset, the reset throws away our answer before the client reads it,
//! and a proxy in front (Desafio 3's page, Desafio 5's gateway) answers 502.

use std::{
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use axum::body::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming, SizeHint};

/// Most bytes read and thrown away after the answer; beyond, the connection
/// is closed (a body this large is kit's 413 anyway).
const MAX_BYTES: usize = 1024 * 1024;
/// Longest time spent reading them.
const MAX_TIME: Duration = Duration::from_secs(5);

/// A request body (hyper's `Incoming`), drained in the background if
/// dropped before its end.
#[derive(Debug)]
pub struct Drained(pub(super) Option<Incoming>);

impl Body for Drained {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        match self.0.as_mut() {
            Some(body) => Pin::new(body).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.0.as_ref().is_none_or(Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.0
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), Body::size_hint)
    }
}

impl Drop for Drained {
    fn drop(&mut self) {
        // Bodiless requests (most of them) cost nothing here.
        let Some(body) = self.0.take().filter(|b| !b.is_end_stream()) else {
            return;
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(drain(body));
        }
    }
}

async fn drain(mut body: Incoming) {
    let read = async {
        let mut left = MAX_BYTES;
        while let Some(Ok(frame)) = body.frame().await {
            let size = frame.data_ref().map_or(0, Bytes::len);
            let Some(rest) = left.checked_sub(size) else {
                return;
            };
            left = rest;
        }
    };
    let _ = tokio::time::timeout(MAX_TIME, read).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::{app, bind, serve, Limits};
    use axum::{routing::get, Router};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn an_unread_body_still_lets_the_answer_and_the_next_request_through() {
        let listener = bind(0).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let routes = Router::new().route("/ok", get(|| async { "ok" }));
        tokio::spawn(serve(
            listener,
            app(
                routes,
                Limits {
                    body_bytes: 1024 * 1024,
                    ..Limits::default()
                },
            ),
            async move {
                let _ = stopped.await;
            },
            Duration::from_secs(1),
        ));
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        // 600 KiB that GET /ok never reads, then a second request.
        let body = vec![b'x'; 600 * 1024];
        let head = format!(
            "GET /ok HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        let (mut reader, mut writer) = stream.split();
        let write = async {
            writer.write_all(head.as_bytes()).await.unwrap();
            writer.write_all(&body).await.unwrap();
            writer
                .write_all(b"GET /ok HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
                .await
                .unwrap();
        };
        let mut text = String::new();
        let read = reader.read_to_string(&mut text);
        let (_, read) = tokio::join!(write, read);
        read.unwrap();
        assert_eq!(text.matches("HTTP/1.1 200").count(), 2, "{text}");
    }
}
