//! The gateway in front of an upstream that answers with broken or tricky
//! HTTP, over real sockets on both sides. Whatever the upstream sends, the
//! gateway's client gets a well-framed answer (a 502 where the upstream's
//! was broken) and a request pipelined behind it on the same connection gets
//! its own answer; or, when the upstream breaks off in the middle of a body
//! whose head has gone out already, the connection ends inside that answer,
//! so that no byte is ever read as the start of another one.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::{net::SocketAddr, time::Duration};

use d5_gateway::{app, Config, Gateway};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

/// An upstream that reads a request head, writes `answer` as it is, and
/// closes the connection.
async fn hostile(answer: &'static [u8]) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if socket.read(&mut byte).await.unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(byte[0]);
                }
                let _ = socket.write_all(answer).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    addr
}

/// The gateway, served on a loopback port, with `upstream` as its only
/// users replica.
async fn gateway_before(upstream: SocketAddr) -> SocketAddr {
    let config =
        Config::from_env(&kit::config::Env::from_pairs([("UPSTREAM_TIMEOUT", "2s")])).unwrap();
    let gateway = Gateway::new(config);
    gateway.users.set_replicas(vec![upstream]);
    let listener = kit::server::bind(0).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let never = std::future::pending::<()>();
    tokio::spawn(kit::server::serve(
        listener,
        app(gateway),
        never,
        Duration::ZERO,
    ));
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// One answer as a strict HTTP/1.1 client reads it.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// How a byte stream from the gateway reads: the whole answers in it, and
/// whether it ended cleanly between two answers or inside one.
#[derive(Debug)]
struct Read {
    answers: Vec<Answer>,
    cut_inside_an_answer: bool,
}

/// Reads answers as RFC 9112 frames them: CRLF line ends only, one
/// Content-Length or chunked, never both. A violation fails the test.
fn read_answers(mut bytes: &[u8]) -> Read {
    let mut answers = Vec::new();
    loop {
        if bytes.is_empty() {
            return Read {
                answers,
                cut_inside_an_answer: false,
            };
        }
        let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") else {
            return Read {
                answers,
                cut_inside_an_answer: true,
            };
        };
        let head = std::str::from_utf8(&bytes[..end]).unwrap();
        bytes = &bytes[end + 4..];
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap();
        assert!(status_line.starts_with("HTTP/1.1 "), "{status_line:?}");
        let status: u16 = status_line[9..12].parse().unwrap();
        let headers: Vec<(String, String)> = lines
            .map(|line| {
                assert!(!line.contains('\n'), "bare LF in {line:?}");
                let (name, value) = line.split_once(':').unwrap();
                (name.to_owned(), value.trim().to_owned())
            })
            .collect();
        let mut answer = Answer {
            status,
            headers,
            body: Vec::new(),
        };
        let lengths = answer.header("content-length");
        let chunked = answer.header("transfer-encoding");
        assert!(
            lengths.len() + chunked.len() <= 1,
            "ambiguous framing: {answer:?}"
        );
        if let Some(length) = lengths.first() {
            let length: usize = length.parse().unwrap();
            if bytes.len() < length {
                return Read {
                    answers,
                    cut_inside_an_answer: true,
                };
            }
            answer.body = bytes[..length].to_vec();
            bytes = &bytes[length..];
        } else if let Some(coding) = chunked.first() {
            assert_eq!(*coding, "chunked");
            loop {
                let Some(line_end) = bytes.windows(2).position(|w| w == b"\r\n") else {
                    return Read {
                        answers,
                        cut_inside_an_answer: true,
                    };
                };
                let size = std::str::from_utf8(&bytes[..line_end]).unwrap();
                let size = usize::from_str_radix(size, 16).unwrap();
                bytes = &bytes[line_end + 2..];
                if bytes.len() < size + 2 {
                    return Read {
                        answers,
                        cut_inside_an_answer: true,
                    };
                }
                answer.body.extend_from_slice(&bytes[..size]);
                assert_eq!(&bytes[size..size + 2], b"\r\n");
                bytes = &bytes[size + 2..];
                if size == 0 {
                    break;
                }
            }
        } else {
            assert!(matches!(answer.status, 204 | 304), "no framing: {answer:?}");
        }
        answers.push(answer);
    }
}

/// `GET /users` and `GET /health` pipelined on one connection to the
/// gateway in front of an upstream answering `upstream_answer`.
async fn pipelined(upstream_answer: &'static [u8]) -> Read {
    let gateway = gateway_before(hostile(upstream_answer).await).await;
    let mut stream = TcpStream::connect(gateway).await.unwrap();
    stream
        .write_all(
            b"GET /users HTTP/1.1\r\nhost: gw\r\n\r\n\
              GET /health HTTP/1.1\r\nhost: gw\r\nconnection: close\r\n\r\n",
        )
        .await
        .unwrap();
    let mut bytes = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut bytes))
        .await
        .expect("the gateway ends the connection in bounded time")
        .unwrap();
    read_answers(&bytes)
}

/// The two answers of [`pipelined`], both whole, the second the gateway's
/// own `/health`.
async fn both_answered(upstream_answer: &'static [u8]) -> Answer {
    let mut read = pipelined(upstream_answer).await;
    assert!(!read.cut_inside_an_answer, "{read:?}");
    assert_eq!(read.answers.len(), 2, "{read:?}");
    let health = read.answers.pop().unwrap();
    assert_eq!(health.status, 200, "{health:?}");
    let health: serde_json::Value = serde_json::from_slice(&health.body).unwrap();
    assert_eq!(health["service"], "gateway");
    read.answers.pop().unwrap()
}

fn assert_bad_gateway(answer: &Answer) {
    assert_eq!(answer.status, 502, "{answer:?}");
    let body: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(body["error"], "bad_gateway", "{body}");
}

#[tokio::test]
async fn chunked_with_a_content_length_is_a_502() {
    let answer = both_answered(
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-length: 50\r\n\r\n\
          1\r\nx\r\n0\r\n\r\n",
    )
    .await;
    assert_bad_gateway(&answer);
}

#[tokio::test]
async fn two_different_content_lengths_are_a_502() {
    let answer =
        both_answered(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\nhello!")
            .await;
    assert_bad_gateway(&answer);
}

#[tokio::test]
async fn a_content_length_list_of_one_value_is_passed_on_as_one_number() {
    let answer = both_answered(b"HTTP/1.1 200 OK\r\ncontent-length: 5, 5\r\n\r\nhello").await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.header("content-length"), ["5"]);
    assert_eq!(answer.body, b"hello");
}

#[tokio::test]
async fn a_body_shorter_than_its_length_ends_the_connection_inside_the_answer() {
    let read = pipelined(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nh").await;
    assert!(read.cut_inside_an_answer, "{read:?}");
    assert!(read.answers.is_empty(), "{read:?}");
}

#[tokio::test]
async fn an_interim_1xx_is_skipped() {
    let answer = both_answered(
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok",
    )
    .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.body, b"ok");
}

#[tokio::test]
async fn bare_lf_line_ends_still_give_a_well_framed_answer() {
    let answer = both_answered(b"HTTP/1.1 200 OK\ncontent-length: 2\n\nok").await;
    // httparse reads bare LF leniently; either way the caller gets CRLF.
    match answer.status {
        200 => assert_eq!(answer.body, b"ok"),
        _ => assert_bad_gateway(&answer),
    }
}

#[tokio::test]
async fn an_obsolete_folded_header_is_a_502() {
    let answer =
        both_answered(b"HTTP/1.1 200 OK\r\nx-a: b\r\n c\r\ncontent-length: 2\r\n\r\nok").await;
    assert_bad_gateway(&answer);
}

#[tokio::test]
async fn a_transfer_coding_other_than_chunked_is_a_502() {
    for answer in [
        &b"HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\n\x1f\x8b\x08\x00"[..],
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\n4\r\n\x1f\x8b\x08\x00\r\n0\r\n\r\n",
    ] {
        assert_bad_gateway(&both_answered(answer).await);
    }
}

#[tokio::test]
async fn bytes_that_are_not_http_are_a_502() {
    assert_bad_gateway(&both_answered(b"SSH-2.0-OpenSSH_9.6\r\n\r\n").await);
}

#[tokio::test]
async fn extra_bytes_after_a_whole_answer_are_not_passed_on() {
    let answer = both_answered(
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok\
          HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nevil",
    )
    .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.body, b"ok");
}

#[tokio::test]
async fn an_answer_declared_over_the_bound_is_a_502_and_one_growing_past_it_is_cut() {
    let declared: &'static [u8] = Box::leak(
        format!(
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n",
            d5_gateway::forward::MAX_ANSWER_BYTES + 1
        )
        .into_bytes()
        .into_boxed_slice(),
    );
    assert_bad_gateway(&both_answered(declared).await);

    let mut chunked = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..9 {
        chunked.extend_from_slice(b"100000\r\n");
        chunked.extend_from_slice(&vec![b' '; 1024 * 1024]);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let read = pipelined(Box::leak(chunked.into_boxed_slice())).await;
    assert!(read.cut_inside_an_answer, "{} answers", read.answers.len());
    assert!(read.answers.is_empty());
}

#[tokio::test]
async fn a_caller_body_with_broken_chunks_is_a_400_not_a_502() {
    // An upstream that reads and never answers: the caller's body is the
    // only thing that can fail.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let gateway = gateway_before(silent).await;
    for body in [&b"3\r\nabcdef\r\n0\r\n\r\n"[..], b"zz\r\nabc\r\n0\r\n\r\n"] {
        let mut stream = TcpStream::connect(gateway).await.unwrap();
        let mut request = b"PUT /users HTTP/1.1\r\nhost: gw\r\ncontent-type: application/json\r\n\
                            transfer-encoding: chunked\r\nconnection: close\r\n\r\n"
            .to_vec();
        request.extend_from_slice(body);
        stream.write_all(&request).await.unwrap();
        let mut bytes = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut bytes))
            .await
            .unwrap()
            .unwrap();
        let read = read_answers(&bytes);
        assert_eq!(read.answers.len(), 1, "{read:?}");
        assert_eq!(read.answers[0].status, 400, "{read:?}");
    }
}
