//! A deliberately naive HTTP/1.1 client over a plain TCP stream.
//!
//! It sends whatever bytes it is given (broken heads, lying lengths, NUL
//! bytes, one byte at a time), which a real client library refuses to
//! produce, and reads answers back under a deadline, so a server that never
//! answers fails a test instead of hanging it.

use std::{
    io::{ErrorKind, Read, Write},
    net::{Shutdown, TcpStream},
    time::{Duration, Instant},
};

/// One parsed answer.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// Names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The first header called `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The server said it closes the connection after this answer.
    pub fn closes(&self) -> bool {
        self.header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
    }
}

/// What came back for one request.
#[derive(Debug)]
pub enum Outcome {
    Answered(Response),
    /// The server closed (or reset) the connection before sending a byte.
    Closed,
    /// Nothing (or not all of it) within the deadline.
    TimedOut,
    /// Bytes that are not an HTTP/1.1 answer, or a close in the middle of one.
    Garbled(String),
}

/// One client connection. Bytes read past an answer are kept for the next.
#[derive(Debug)]
pub struct Conn {
    stream: TcpStream,
    pending: Vec<u8>,
    /// Answers read on this connection so far.
    pub answers: usize,
}

impl Conn {
    /// Connects to `127.0.0.1:port`.
    pub fn open(port: u16, timeout: Duration) -> std::io::Result<Self> {
        let stream = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), timeout)?;
        stream.set_nodelay(true)?;
        stream.set_write_timeout(Some(timeout))?;
        Ok(Self {
            stream,
            pending: Vec::new(),
            answers: 0,
        })
    }

    pub fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// Ends the writing side (the server sees end of input).
    pub fn finish_writing(&self) {
        let _ = self.stream.shutdown(Shutdown::Write);
    }

    /// Waits at most `wait` for the server to close: true if it did (end of
    /// input or a reset), false if the connection is still open. Any answer
    /// bytes that arrive meanwhile are kept.
    pub fn closed_within(&mut self, wait: Duration) -> bool {
        let deadline = Instant::now() + wait;
        let mut chunk = [0u8; 4096];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            let _ = self.stream.set_read_timeout(Some(left));
            match self.stream.read(&mut chunk) {
                Ok(0) => return true,
                Ok(n) => self.pending.extend_from_slice(&chunk[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return false
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return true,
            }
        }
    }

    /// Bytes received but not parsed (for instance a 408 before a close).
    pub fn unparsed(&self) -> &[u8] {
        &self.pending
    }

    /// Reads one final (non-1xx) answer within `wait`. `to_head` says the
    /// request was a HEAD, whose answer has no body whatever it declares.
    pub fn read_response(&mut self, to_head: bool, wait: Duration) -> Outcome {
        let deadline = Instant::now() + wait;
        loop {
            let head_end = match self.fill_until(deadline, |buf| find(buf, b"\r\n\r\n")) {
                Ok(end) => end,
                Err(outcome) => return outcome,
            };
            let head = self.pending.drain(..head_end + 4).collect::<Vec<u8>>();
            let (status, headers) = match parse_head(&head) {
                Ok(parsed) => parsed,
                Err(e) => return Outcome::Garbled(e),
            };
            if (100..200).contains(&status) {
                continue;
            }
            let mut response = Response {
                status,
                headers,
                body: Vec::new(),
            };
            let body = if to_head || status == 204 || status == 304 {
                Ok(Vec::new())
            } else if response
                .header("transfer-encoding")
                .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
            {
                self.read_chunked(deadline)
            } else if let Some(length) = response.header("content-length") {
                match length.trim().parse::<usize>() {
                    Ok(n) => self
                        .fill_until(deadline, |buf| (buf.len() >= n).then_some(n))
                        .map(|n| self.pending.drain(..n).collect()),
                    Err(_) => return Outcome::Garbled(format!("content-length {length:?}")),
                }
            } else {
                self.read_to_close(deadline)
            };
            return match body {
                Ok(body) => {
                    response.body = body;
                    self.answers += 1;
                    Outcome::Answered(response)
                }
                Err(Outcome::Closed) => Outcome::Garbled("closed inside a body".into()),
                Err(other) => other,
            };
        }
    }

    /// Reads until `done` finds what it needs in the buffer.
    fn fill_until<T>(
        &mut self,
        deadline: Instant,
        mut done: impl FnMut(&[u8]) -> Option<T>,
    ) -> Result<T, Outcome> {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            if let Some(found) = done(&self.pending) {
                return Ok(found);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Outcome::TimedOut);
            }
            let _ = self.stream.set_read_timeout(Some(left));
            match self.stream.read(&mut chunk) {
                Ok(0) => {
                    return Err(if self.pending.is_empty() {
                        Outcome::Closed
                    } else {
                        Outcome::Garbled(format!(
                            "closed after {} bytes: {:?}",
                            self.pending.len(),
                            String::from_utf8_lossy(&self.pending[..self.pending.len().min(200)])
                        ))
                    })
                }
                Ok(n) => self.pending.extend_from_slice(&chunk[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Err(Outcome::TimedOut)
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(if self.pending.is_empty() {
                        Outcome::Closed
                    } else {
                        Outcome::Garbled(format!("{e} after {} bytes", self.pending.len()))
                    })
                }
            }
        }
    }

    fn read_chunked(&mut self, deadline: Instant) -> Result<Vec<u8>, Outcome> {
        let mut body = Vec::new();
        loop {
            let line_end = self.fill_until(deadline, |buf| find(buf, b"\r\n"))?;
            let line = String::from_utf8_lossy(&self.pending[..line_end]).into_owned();
            self.pending.drain(..line_end + 2);
            let size_text = line.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size_text, 16)
                .map_err(|_| Outcome::Garbled(format!("chunk size {line:?}")))?;
            if size == 0 {
                // Trailers, if any, end with an empty line.
                loop {
                    let end = self.fill_until(deadline, |buf| find(buf, b"\r\n"))?;
                    self.pending.drain(..end + 2);
                    if end == 0 {
                        return Ok(body);
                    }
                }
            }
            self.fill_until(deadline, |buf| (buf.len() >= size + 2).then_some(()))?;
            body.extend(self.pending.drain(..size));
            self.pending.drain(..2);
        }
    }

    fn read_to_close(&mut self, deadline: Instant) -> Result<Vec<u8>, Outcome> {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Outcome::TimedOut);
            }
            let _ = self.stream.set_read_timeout(Some(left));
            match self.stream.read(&mut chunk) {
                Ok(0) => return Ok(std::mem::take(&mut self.pending)),
                Ok(n) => self.pending.extend_from_slice(&chunk[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Err(Outcome::TimedOut)
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return Ok(std::mem::take(&mut self.pending)),
            }
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

type Head = (u16, Vec<(String, String)>);

fn parse_head(head: &[u8]) -> Result<Head, String> {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    let status = parts
        .next()
        .and_then(|s| s.parse::<u16>().ok())
        .filter(|_| version.starts_with("HTTP/1."))
        .ok_or_else(|| format!("status line {status_line:?}"))?;
    let headers = lines
        .filter(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Ok((status, headers))
}
