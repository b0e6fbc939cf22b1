//! The gateway's half of an HTTP/1.1 exchange with a replica: write one
//! request, read one whole answer, and say whether the connection may carry
//! another.
//!
//! Why not hyper's client: each of its connections is a task of its own,
//! fed through a channel, with a second HTTP state machine; callgrind put
//! that task alone at 39% of the gateway's work per proxied request. Here
//! the request's own task writes the request and reads the answer, on a
//! connection it takes from the pool and gives back (33.8k -> 24.5k
//! instructions per proxied request).
//!
//! What a proxy must get right is where an answer ends (RFC 9112 §6.3), or
//! the next answer on the connection would be read from the wrong place:
//!
//! 1. an answer to HEAD, and a 204 or 304, has no body whatever its headers
//!    say; a 1xx is an interim answer, skipped (101 is refused: the gateway
//!    upgrades nothing);
//! 2. `Transfer-Encoding: chunked`: chunks up to the last one. Any other
//!    transfer coding (`gzip, chunked`, say) is refused: the gateway passes
//!    bodies on decoded, without `Transfer-Encoding`, and a body still in
//!    gzip would reach the caller with nothing saying so;
//! 3. otherwise `Content-Length`, one valid number (repeated values must
//!    agree), else the answer is refused;
//! 4. otherwise: up to the end of the connection.
//!
//! A connection is reused only when the answer's end was certain: HTTP/1.1,
//! no `Connection: close`, no `Transfer-Encoding` beside a `Content-Length`,
//! and nothing sent past the end.

use std::{io, ops::Range};

use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use bytes::{Buf, Bytes, BytesMut};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// The longest answer head read (status line and headers).
const MAX_HEAD_BYTES: usize = 64 * 1024;
/// The most headers in one answer.
const MAX_HEADERS: usize = 100;
/// The longest chunk-size line or trailer line of a chunked answer.
const MAX_LINE_BYTES: usize = 4 * 1024;

/// One answer, read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// Whether the connection may carry another request.
    pub reusable: bool,
}

/// Why an exchange failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Not a byte of an answer came back: the request could not be written,
    /// or the connection ended first (a kept-alive connection that the
    /// replica closed just then, say).
    #[error("no answer: {0}")]
    NoAnswer(String),
    /// Some of an answer came back, but not a whole, well-formed one.
    #[error("broken answer: {0}")]
    Broken(String),
    /// The answer is larger than the caller accepts.
    #[error("answer larger than {0} bytes")]
    TooLarge(usize),
}

fn broken(why: impl Into<String>) -> Error {
    Error::Broken(why.into())
}

/// Where an answer's body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Empty,
    Length(usize),
    Chunked,
    UntilClose,
}

/// What the head of an answer says, besides its status and headers.
struct Head {
    status: StatusCode,
    headers: HeaderMap,
    framing: Framing,
    reusable: bool,
}

/// A connection to one replica, with the bytes read from it but not used
/// and a buffer for the next request's head (kept: one allocation less per
/// request).
#[derive(Debug)]
pub struct Conn {
    stream: TcpStream,
    read: BytesMut,
    write: Vec<u8>,
}

impl Conn {
    pub fn new(stream: TcpStream) -> Self {
        Self {
            stream,
            read: BytesMut::with_capacity(8 * 1024),
            write: Vec::with_capacity(1024),
        }
    }

    /// Whether an idle connection may still be used: the replica has not
    /// closed it nor sent anything unasked. One `recv` that would block at
    /// most, and only when the event loop saw the socket become readable
    /// since the last one (the same `recv` would otherwise come right after
    /// the next request is written).
    pub fn is_usable(&self) -> bool {
        let mut probe = [0u8; 1];
        matches!(self.stream.try_read(&mut probe), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
    }

    /// Sends one request and reads its whole answer, of at most `max_body`
    /// bytes. `headers` go as they are, but for `Content-Length`, which is
    /// written from `body`. Not cancel-safe: a connection whose exchange was
    /// dropped half-way must be dropped too.
    pub async fn exchange(
        &mut self,
        method: &Method,
        target: &str,
        headers: &HeaderMap,
        body: &Bytes,
        max_body: usize,
    ) -> Result<Answer, Error> {
        self.write_request(method, target, headers, body)
            .await
            .map_err(|e| Error::NoAnswer(format!("writing the request: {e}")))?;
        let head = self.read_head(*method == Method::HEAD).await?;
        let body = match head.framing {
            Framing::Empty => Bytes::new(),
            Framing::Length(length) if length > max_body => return Err(Error::TooLarge(max_body)),
            Framing::Length(length) => self.read_exact(length).await?,
            Framing::Chunked => self.read_chunked(max_body).await?,
            Framing::UntilClose => self.read_to_end(max_body).await?,
        };
        Ok(Answer {
            status: head.status,
            headers: head.headers,
            body,
            // Bytes past the answer's end: the replica and we disagree about
            // where it ended, so nothing more is read from this connection.
            reusable: head.reusable && head.framing != Framing::UntilClose && self.read.is_empty(),
        })
    }

    /// The request head, then the body, in one write when it is small.
    async fn write_request(
        &mut self,
        method: &Method,
        target: &str,
        headers: &HeaderMap,
        body: &Bytes,
    ) -> io::Result<()> {
        let mut out = std::mem::take(&mut self.write);
        out.clear();
        out.extend_from_slice(method.as_str().as_bytes());
        out.push(b' ');
        out.extend_from_slice(target.as_bytes());
        out.extend_from_slice(b" HTTP/1.1\r\n");
        // Names and values are valid by construction (`HeaderName` and
        // `HeaderValue` refuse CR, LF and NUL), so they go as they are.
        for (name, value) in headers {
            if name == header::CONTENT_LENGTH {
                continue;
            }
            out.extend_from_slice(name.as_str().as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        // A body always has its length; so does a POST, PUT or PATCH without
        // one (a server may otherwise wait for a body).
        if !body.is_empty() || matches!(*method, Method::POST | Method::PUT | Method::PATCH) {
            out.extend_from_slice(b"content-length: ");
            out.extend_from_slice(body.len().to_string().as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        let written = if body.len() <= 16 * 1024 {
            out.extend_from_slice(body);
            self.stream.write_all(&out).await
        } else {
            match self.stream.write_all(&out).await {
                Ok(()) => self.stream.write_all(body).await,
                Err(e) => Err(e),
            }
        };
        // Kept for the next request, unless a large body made it large.
        if out.capacity() <= 64 * 1024 {
            self.write = out;
        }
        written
    }

    /// Reads more bytes; `Ok(false)` at the end of the connection.
    async fn fill(&mut self) -> io::Result<bool> {
        if self.read.capacity() - self.read.len() < 1024 {
            self.read.reserve(8 * 1024);
        }
        Ok(self.stream.read_buf(&mut self.read).await? > 0)
    }

    /// Reads the answer's head, past any interim (1xx) answers.
    async fn read_head(&mut self, to_head: bool) -> Result<Head, Error> {
        // Whether any byte came back: an exchange starts with nothing read
        // (a connection is reused only when its last answer ended exactly).
        let mut received = false;
        loop {
            let parsed = if self.read.is_empty() {
                None
            } else {
                parse_head(&self.read, to_head)?
            };
            if let Some((length, head)) = parsed {
                // The values are slices of the head's bytes: no copies.
                let bytes = self.read.split_to(length).freeze();
                let Some(head) = head.finish(&bytes)? else {
                    continue; // an interim answer
                };
                return Ok(head);
            }
            if self.read.len() > MAX_HEAD_BYTES {
                return Err(broken(format!("head longer than {MAX_HEAD_BYTES} bytes")));
            }
            match self.fill().await {
                Ok(true) => received = true,
                Ok(false) if received => return Err(broken("connection closed within the head")),
                Ok(false) => return Err(Error::NoAnswer("connection closed".into())),
                Err(e) if received => return Err(broken(e.to_string())),
                Err(e) => return Err(Error::NoAnswer(e.to_string())),
            }
        }
    }

    /// Exactly `length` bytes (the caller has bounded it).
    async fn read_exact(&mut self, length: usize) -> Result<Bytes, Error> {
        // Room for all of it at once, rather than growing step by step.
        self.read.reserve(length.saturating_sub(self.read.len()));
        while self.read.len() < length {
            if !self.fill().await.map_err(|e| broken(e.to_string()))? {
                return Err(broken("connection closed within the body"));
            }
        }
        Ok(self.read.split_to(length).freeze())
    }

    /// Everything up to the end of the connection.
    async fn read_to_end(&mut self, max_body: usize) -> Result<Bytes, Error> {
        loop {
            if self.read.len() > max_body {
                return Err(Error::TooLarge(max_body));
            }
            if !self.fill().await.map_err(|e| broken(e.to_string()))? {
                return Ok(self.read.split().freeze());
            }
        }
    }

    /// One line (without its CRLF) of a chunked body.
    async fn read_line(&mut self) -> Result<Bytes, Error> {
        loop {
            if let Some(end) = self.read.windows(2).position(|w| w == b"\r\n") {
                let line = self.read.split_to(end).freeze();
                self.read.advance(2);
                return Ok(line);
            }
            if self.read.len() > MAX_LINE_BYTES {
                return Err(broken("chunk line too long"));
            }
            if !self.fill().await.map_err(|e| broken(e.to_string()))? {
                return Err(broken("connection closed within a chunked body"));
            }
        }
    }

    /// The chunks of a chunked body, joined; trailers are read and dropped.
    async fn read_chunked(&mut self, max_body: usize) -> Result<Bytes, Error> {
        let mut body = BytesMut::new();
        loop {
            let size = chunk_size(&self.read_line().await?)?;
            if size == 0 {
                break;
            }
            if body.len() + size > max_body {
                return Err(Error::TooLarge(max_body));
            }
            let data = self.read_exact(size + 2).await?;
            if !data.ends_with(b"\r\n") {
                return Err(broken("chunk not followed by CRLF"));
            }
            body.extend_from_slice(&data[..size]);
        }
        // Trailer fields, up to an empty line.
        let mut trailers = 0;
        while !self.read_line().await?.is_empty() {
            trailers += 1;
            if trailers > MAX_HEADERS {
                return Err(broken("too many trailer fields"));
            }
        }
        Ok(body.freeze())
    }
}

/// The size in a chunk-size line: hex digits, then maybe `;` extensions.
fn chunk_size(line: &[u8]) -> Result<usize, Error> {
    let digits = line.split(|&b| b == b';').next().unwrap_or_default();
    let digits = digits.trim_ascii_end();
    if digits.is_empty() || digits.len() > 15 || !digits.iter().all(u8::is_ascii_hexdigit) {
        return Err(broken("invalid chunk size"));
    }
    let text = std::str::from_utf8(digits).map_err(|_| broken("invalid chunk size"))?;
    usize::from_str_radix(text, 16).map_err(|_| broken("invalid chunk size"))
}

/// A parsed head, as positions in the bytes it was parsed from.
struct Parsed {
    status: StatusCode,
    http11: bool,
    to_head: bool,
    headers: Vec<(HeaderName, Range<usize>)>,
}

/// Parses a complete head at the start of `read`: its length and what it
/// holds, or `None` when more bytes are needed.
fn parse_head(read: &[u8], to_head: bool) -> Result<Option<(usize, Parsed)>, Error> {
    // Left uninitialised: httparse writes the ones it fills, and zeroing a
    // hundred slots per answer was a tenth of this function's work.
    let mut slots = [const { std::mem::MaybeUninit::<httparse::Header>::uninit() }; MAX_HEADERS];
    let mut answer = httparse::Response::new(&mut []);
    let length = match httparse::ParserConfig::default().parse_response_with_uninit_headers(
        &mut answer,
        read,
        &mut slots,
    ) {
        Ok(httparse::Status::Complete(length)) => length,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(broken(e.to_string())),
    };
    let status = answer
        .code
        .and_then(|code| StatusCode::from_u16(code).ok())
        .ok_or_else(|| broken("invalid status"))?;
    // httparse's slices point into `read`: their offsets are kept, so that
    // the values can be cut from the same bytes later, without a copy.
    let start = read.as_ptr() as usize;
    let mut headers = Vec::with_capacity(answer.headers.len());
    for field in answer.headers.iter() {
        let name = HeaderName::from_bytes(field.name.as_bytes())
            .map_err(|_| broken(format!("invalid header name {:?}", field.name)))?;
        let from = field.value.as_ptr() as usize - start;
        headers.push((name, from..from + field.value.len()));
    }
    Ok(Some((
        length,
        Parsed {
            status,
            http11: answer.version == Some(1),
            to_head,
            headers,
        },
    )))
}

impl Parsed {
    /// The head, with its values taken from `bytes` (the head's own bytes,
    /// which `parse_head` read); `None` for an interim (1xx) answer.
    fn finish(self, bytes: &Bytes) -> Result<Option<Head>, Error> {
        if self.status == StatusCode::SWITCHING_PROTOCOLS {
            return Err(broken("101: the gateway does not switch protocols"));
        }
        if self.status.is_informational() {
            return Ok(None);
        }
        let mut headers = HeaderMap::with_capacity(self.headers.len());
        let mut reusable = self.http11;
        let (mut chunked, mut length) = (false, None::<usize>);
        for (name, range) in self.headers {
            let value = HeaderValue::from_maybe_shared(bytes.slice(range))
                .map_err(|_| broken(format!("invalid value for {name}")))?;
            // Only the framing headers are read; obs-text in one reads as "".
            let text = || value.to_str().unwrap_or_default();
            if name == header::TRANSFER_ENCODING {
                // Exactly one coding, `chunked`, over all the header's lines.
                for coding in text().split(',').map(str::trim) {
                    if chunked || !coding.eq_ignore_ascii_case("chunked") {
                        return Err(broken(format!("transfer coding {coding:?} not relayed")));
                    }
                    chunked = true;
                }
            } else if name == header::CONTENT_LENGTH {
                for item in text().split(',') {
                    let item = item.trim();
                    let n = (!item.is_empty() && item.bytes().all(|b| b.is_ascii_digit()))
                        .then(|| item.parse::<usize>().ok())
                        .flatten()
                        .ok_or_else(|| broken("invalid content-length"))?;
                    if length.is_some_and(|known| known != n) {
                        return Err(broken("conflicting content-length values"));
                    }
                    length = Some(n);
                }
            } else if name == header::CONNECTION
                && text()
                    .split(',')
                    .any(|t| t.trim().eq_ignore_ascii_case("close"))
            {
                reusable = false;
            }
            headers.append(name, value);
        }
        let framing = if self.to_head
            || self.status == StatusCode::NO_CONTENT
            || self.status == StatusCode::NOT_MODIFIED
        {
            Framing::Empty
        } else if chunked {
            // Both framings at once is how requests get smuggled: never
            // trust this connection's boundaries again.
            if length.is_some() {
                reusable = false;
            }
            Framing::Chunked
        } else {
            match length {
                Some(0) => Framing::Empty,
                Some(n) => Framing::Length(n),
                None => Framing::UntilClose,
            }
        };
        Ok(Some(Head {
            status: self.status,
            headers,
            framing,
            reusable,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    const MAX: usize = 1024;

    /// A replica that reads one request head (and a body of the declared
    /// length), sends it back to the test, then writes `reply` and closes.
    async fn replica(reply: impl Into<Vec<u8>>) -> (Conn, tokio::task::JoinHandle<Vec<u8>>) {
        let reply = reply.into();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                let n = socket.read(&mut buf).await.unwrap();
                got.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&got).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length: "))
                        .map_or(0, |v| v.trim().parse::<usize>().unwrap());
                    if got.len() >= end + 4 + length {
                        break;
                    }
                }
                if n == 0 {
                    break;
                }
            }
            socket.write_all(&reply).await.unwrap();
            socket.shutdown().await.unwrap();
            got
        });
        let stream = TcpStream::connect(addr).await.unwrap();
        (Conn::new(stream), server)
    }

    async fn get(reply: impl Into<Vec<u8>>) -> Result<Answer, Error> {
        let (mut conn, _) = replica(reply).await;
        let headers = HeaderMap::new();
        conn.exchange(&Method::GET, "/users", &headers, &Bytes::new(), MAX)
            .await
    }

    #[tokio::test]
    async fn writes_the_request_with_its_length_and_reads_a_sized_answer() {
        let (mut conn, server) =
            replica(b"HTTP/1.1 201 Created\r\nx-served-by: a\r\ncontent-length: 2\r\n\r\nok").await;
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("users_service"));
        // The caller's length is replaced by the body's own.
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("99"));
        let body = Bytes::from_static(b"{\"a\":1}");
        let answer = conn
            .exchange(&Method::POST, "/users?x=1", &headers, &body, MAX)
            .await
            .unwrap();
        assert_eq!(answer.status, StatusCode::CREATED);
        assert_eq!(answer.headers["x-served-by"], "a");
        assert_eq!(answer.body, "ok");
        assert!(answer.reusable);
        let sent = String::from_utf8(server.await.unwrap()).unwrap();
        assert_eq!(
            sent,
            "POST /users?x=1 HTTP/1.1\r\nhost: users_service\r\ncontent-length: 7\r\n\r\n{\"a\":1}"
        );
    }

    #[tokio::test]
    async fn a_chunked_answer_is_joined_and_its_trailers_dropped() {
        let answer = get(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n\
              3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nx-trailer: t\r\n\r\n")
        .await
        .unwrap();
        assert_eq!(answer.body, "abcde");
        assert!(answer.reusable);
    }

    #[tokio::test]
    async fn an_answer_without_length_ends_with_the_connection() {
        let answer = get(b"HTTP/1.1 200 OK\r\n\r\nuntil the end").await.unwrap();
        assert_eq!(answer.body, "until the end");
        assert!(!answer.reusable);
    }

    #[tokio::test]
    async fn interim_answers_are_skipped() {
        let answer = get(b"HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n\
              HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\nx")
        .await
        .unwrap();
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.body, "x");
        assert!(answer.headers.get("link").is_none());
    }

    #[tokio::test]
    async fn head_204_and_304_have_no_body_whatever_they_declare() {
        for status in ["204 No Content", "304 Not Modified"] {
            let reply = format!("HTTP/1.1 {status}\r\ncontent-length: 5\r\n\r\n");
            let answer = get(reply).await.unwrap();
            assert!(answer.body.is_empty(), "{status}");
            assert!(answer.reusable, "{status}");
        }
        let (mut conn, _) = replica(b"HTTP/1.1 200 OK\r\ncontent-length: 169\r\n\r\n").await;
        let answer = conn
            .exchange(
                &Method::HEAD,
                "/users",
                &HeaderMap::new(),
                &Bytes::new(),
                MAX,
            )
            .await
            .unwrap();
        assert!(answer.body.is_empty());
        assert_eq!(answer.headers[header::CONTENT_LENGTH], "169");
        assert!(answer.reusable);
    }

    #[tokio::test]
    async fn both_framings_or_connection_close_end_the_connection() {
        let answer = get(
            b"HTTP/1.1 200 OK\r\ncontent-length: 50\r\ntransfer-encoding: chunked\r\n\r\n\
              1\r\nx\r\n0\r\n\r\n",
        )
        .await
        .unwrap();
        assert_eq!(answer.body, "x");
        assert!(!answer.reusable);
        let answer = get(b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 1\r\n\r\nx")
            .await
            .unwrap();
        assert!(!answer.reusable);
        let answer = get(b"HTTP/1.0 200 OK\r\ncontent-length: 1\r\n\r\nx")
            .await
            .unwrap();
        assert!(!answer.reusable);
        // More than the answer declared: the connection is out of step.
        let answer = get(b"HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\nxHTTP/1.1 200 OK\r\n")
            .await
            .unwrap();
        assert!(!answer.reusable);
    }

    #[tokio::test]
    async fn malformed_answers_are_refused() {
        for reply in [
            &b"garbage\r\n\r\n"[..],
            b"HTTP/1.1 200 OK\r\ncontent-length: 1, 2\r\n\r\nx",
            b"HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n",
            b"HTTP/1.1 200 OK\r\ncontent-length: +1\r\n\r\nx",
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1\r\nxy0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort",
            b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n\r\n",
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ntransfer-encoding: chunked\r\n\r\n",
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\nzipped",
            b"HTTP/1.1 200 OK\r\ncontent-len",
        ] {
            let got = get(reply).await;
            assert!(
                matches!(got, Err(Error::Broken(_))),
                "{:?}: {got:?}",
                String::from_utf8_lossy(reply)
            );
        }
    }

    #[tokio::test]
    async fn an_answer_over_the_bound_is_refused_however_it_is_framed() {
        for reply in [
            &b"HTTP/1.1 200 OK\r\ncontent-length: 2000\r\n\r\n"[..],
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n7d0\r\n",
        ] {
            assert!(matches!(get(reply).await, Err(Error::TooLarge(MAX))));
        }
        let long = format!("HTTP/1.1 200 OK\r\n\r\n{}", "x".repeat(MAX + 1));
        assert!(matches!(get(long).await, Err(Error::TooLarge(MAX))));
    }

    #[tokio::test]
    async fn a_connection_closed_before_any_byte_is_no_answer() {
        assert!(matches!(get(b"").await, Err(Error::NoAnswer(_))));
    }

    #[tokio::test]
    async fn an_idle_connection_closed_by_the_replica_is_not_usable() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let conn = Conn::new(TcpStream::connect(addr).await.unwrap());
        let (socket, _) = listener.accept().await.unwrap();
        assert!(conn.is_usable(), "open and quiet");
        drop(socket);
        // The close reaches the event loop when the socket is next polled.
        conn.stream.readable().await.unwrap();
        assert!(!conn.is_usable(), "closed by the replica");
    }

    #[test]
    fn chunk_sizes() {
        assert_eq!(chunk_size(b"1a").unwrap(), 26);
        assert_eq!(chunk_size(b"A;name=value").unwrap(), 10);
        assert_eq!(chunk_size(b"0").unwrap(), 0);
        for bad in [&b""[..], b";x", b"-1", b"0x1", b"fffffffffffffffff"] {
            assert!(
                chunk_size(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
