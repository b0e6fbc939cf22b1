//! Generated bad input against every endpoint of every challenge's HTTP
//! services, through their published 127.0.0.1 ports.
//!
//! What is generated, and why: a seeded generator (fastrand; the seed is
//! printed and `BAD_INPUT_SEED` replays it) mutates a plausible request for
//! each endpoint into one of the shapes that break servers in practice:
//! malformed, truncated and deeply nested JSON, wrong types, invalid UTF-8
//! and NUL bytes (body, path, query), path traversal in plain and encoded
//! forms, odd ids and queries, wrong or missing Content-Type, lying,
//! duplicate and conflicting Content-Length (request smuggling shapes),
//! broken chunked bodies, oversized bodies, oversized and too many headers,
//! control bytes in headers, junk methods and request lines. The bytes are
//! written by hand over a raw TCP connection (`e2e::raw`): a real client
//! library refuses to produce most of them. Cases go over a few kept-alive
//! connections, as a busy client's would.
//!
//! Every case must get a final answer or a close within a bound (no hangs),
//! never a 5xx, and every 4xx the application produces must be JSON with
//! an `error` field. Requests hyper itself refuses before the application
//! sees them (an unparseable head, 431) get its bodiless 400/431 and a
//! close; that is allowed only for the cases marked [`Layer::Wire`]. Slow
//! clients run at the same time: heads sent a byte at a time or never
//! finished must be cut off by the server's head timeout, slow bodies by
//! its request timeout, and the generated cases keep being served
//! meanwhile. At the end no service may have logged a panic or restarted.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::{
    fmt::Write as _,
    thread,
    time::{Duration, Instant},
};

use e2e::{
    docker, free_port,
    raw::{Conn, Outcome, Response},
    serial, Stack,
};

/// Generated cases per endpoint.
const CASES: usize = 1000;
/// kit::server::HEAD_TIMEOUT: how long a server waits for a request head.
const HEAD_TIMEOUT: Duration = Duration::from_secs(5);
/// kit::server::Limits::default().request_timeout.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest any answer may take: the request timeout plus slack for a
/// busy 2-core machine. Beyond it the case counts as a hang.
const ANSWER_WITHIN: Duration = Duration::from_secs(15);
/// kit::server::MAX_HEAD_BYTES: the largest request head accepted.
const MAX_HEAD_BYTES: usize = 8 * 1024;
/// kit's body limit (64 KiB).
const BODY_LIMIT: usize = 64 * 1024;

/// One route of one service, as the learner reaches it.
#[derive(Debug, Clone, Copy)]
struct Endpoint {
    /// The compose service answering (its logs are checked for panics).
    service: &'static str,
    port: u16,
    /// `{id}` is replaced by a generated id.
    path: &'static str,
    methods: &'static [&'static str],
    /// A valid JSON body, the seed of the broken ones.
    body: Option<&'static str>,
}

/// Who may refuse a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layer {
    /// The request is valid HTTP: the application must answer, with JSON
    /// if it is a 4xx.
    App,
    /// The HTTP framing itself is broken or over a bound: hyper may answer
    /// a bodiless 400/431 or just close.
    Wire,
}

#[derive(Debug)]
struct Case {
    kind: &'static str,
    bytes: Vec<u8>,
    layer: Layer,
    /// A HEAD request: its answer has no body to check.
    head: bool,
    /// Sent on a connection of its own, marked `connection: close`: its
    /// framing is ambiguous, so nothing may follow it on the connection.
    alone: bool,
}

const METHODS: &[&str] = &[
    "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE",
];
const JSON_TOKENS: &[&str] = &[
    "{", "}", "[", "]", ":", ",", "\"", "\"a\"", "1", "-1e999", "1e400", "0x10", "true", "nul",
    "null", "\\u", "\\ud800", "NaN", "Infinity", "'x'", " ", "\n", "//", "/*", "\u{feff}",
];
const FIELDS: &[&str] = &["name", "email", "titulo", "conteudo", "id", "user_id"];
const IDS: &[&str] = &[
    "1",
    "2",
    "3",
    "0",
    "-1",
    "2147483648",
    "-2147483649",
    "99999999999999999999",
    "abc",
    "1.5",
    "1e3",
    "%00",
    "%ff",
    "%F0%9F%92%A9",
    "1%20OR%201=1",
    "%27",
    "%22",
    "",
    "+1",
    "0x1",
    "%2e%2e",
    "..",
    "%252e%252e%252f",
    "1;DROP%20TABLE%20users",
];
const TRAVERSALS: &[&str] = &[
    "/../../../../etc/passwd",
    "/..%2f..%2f..%2fetc%2fpasswd",
    "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
    "/%252e%252e/%252e%252e/etc/passwd",
    "/..;/..;/etc/passwd",
    "/.%00./.%00./etc/passwd",
    "//etc/passwd",
    "/./././health",
    "/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
    "/..%5c..%5cwindows%5cwin.ini",
    "/users/../../orders",
    "/api/../users",
    "/health/..",
];
const QUERIES: &[&str] = &[
    "user_id=abc",
    "user_id=",
    "user_id=-1",
    "user_id=1&user_id=2",
    "user_id=99999999999999999999",
    "user_id=%00",
    "user_id=%zz",
    "a[b][c]=1",
    "=",
    "&&&",
    "%",
    "user_id=1%27%20OR%201=1",
    "x=%F0%9F%92%A9",
];
const CONTENT_TYPES: &[&str] = &[
    "text/plain",
    "application/json; charset=latin1",
    "application/jsonx",
    "",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "*/*",
    "application/problem+json",
    "APPLICATION/JSON",
    "application/json; charset=utf-8; charset=utf-16",
    ";;;",
];

/// A mutation of a plausible request: (kind, what it does to the parts).
fn generate(rng: &mut fastrand::Rng, ep: &Endpoint) -> Case {
    let mut method = if rng.u8(..10) == 0 {
        rng.choice(METHODS).unwrap().to_string()
    } else {
        rng.choice(ep.methods).unwrap().to_string()
    };
    let mut path = ep.path.replace("{id}", rng.choice(IDS).unwrap());
    let template = ep.body.unwrap_or(r#"{"a":[1,2,{"b":"c"}],"d":null}"#);
    let mut body: Vec<u8> = if ep.body.is_some() || rng.bool() {
        template.as_bytes().to_vec()
    } else {
        Vec::new()
    };
    let mut headers: Vec<(Vec<u8>, Vec<u8>)> = vec![
        (
            b"host".to_vec(),
            format!("127.0.0.1:{}", ep.port).into_bytes(),
        ),
        (b"content-type".to_vec(), b"application/json".to_vec()),
    ];
    let mut layer = Layer::App;
    let mut alone = false;
    let mut version = "HTTP/1.1";
    // Set when the kind writes its own framing headers.
    let mut framing: Option<Vec<(Vec<u8>, Vec<u8>)>> = None;
    let mut line: Option<Vec<u8>> = None;

    let kind = match rng.u8(..21) {
        0 => {
            body = (0..rng.usize(1..40))
                .map(|_| *rng.choice(JSON_TOKENS).unwrap())
                .collect::<String>()
                .into_bytes();
            "malformed JSON"
        }
        1 => {
            let t = template.as_bytes();
            body = t[..rng.usize(0..t.len())].to_vec();
            "truncated JSON"
        }
        2 => {
            let mut text = String::from("{");
            let fields: Vec<&str> = FIELDS.iter().copied().filter(|_| rng.bool()).collect();
            for (i, field) in fields.into_iter().enumerate() {
                if i > 0 {
                    text.push(',');
                }
                let _ = write!(text, "\"{field}\":{}", random_value(rng, 0));
            }
            text.push('}');
            body = if rng.u8(..5) == 0 {
                random_value(rng, 0).into_bytes()
            } else {
                text.into_bytes()
            };
            "wrong types"
        }
        3 => {
            let depth = if rng.u8(..4) == 0 {
                rng.usize(10_000..200_000)
            } else {
                rng.usize(100..3_000)
            };
            let (open, close) = if rng.bool() {
                ("[", "]")
            } else {
                ("{\"a\":", "}")
            };
            let mut text = open.repeat(depth);
            if rng.bool() {
                text.push('1');
                text.push_str(&close.repeat(depth));
            }
            body = text.into_bytes();
            "deeply nested JSON"
        }
        4 => {
            let bad: &[&[u8]] = &[
                b"\xff",
                b"\xfe\xff",
                b"\xc0\xaf",
                b"\xed\xa0\x80",
                b"\x80",
                b"\xf8\x88\x80\x80\x80",
                b"\xe2\x82",
            ];
            if body.is_empty() {
                body = template.as_bytes().to_vec();
            }
            for _ in 0..rng.usize(1..4) {
                let at = rng.usize(..=body.len());
                let bytes = rng.choice(bad).unwrap();
                body.splice(at..at, bytes.iter().copied());
            }
            "invalid UTF-8 body"
        }
        5 => {
            match rng.u8(..4) {
                0 => {
                    if body.is_empty() {
                        body = template.as_bytes().to_vec();
                    }
                    let at = rng.usize(..=body.len());
                    body.insert(at, 0);
                }
                1 => body = br#"{"name":"a\u0000b","email":"a\u0000@b.c","titulo":"\u0000","conteudo":"x"}"#.to_vec(),
                2 => path.push_str("%00"),
                _ => path.push_str("?user_id=1%00"),
            }
            "NUL bytes"
        }
        6 => {
            let trick = rng.choice(TRAVERSALS).unwrap();
            path = match rng.u8(..3) {
                0 => trick.to_string(),
                1 => format!("{}{trick}", ep.path.replace("/{id}", "")),
                _ => format!("{trick}{path}"),
            };
            "path traversal"
        }
        7 => {
            path = format!("{path}?{}", rng.choice(QUERIES).unwrap());
            "odd query"
        }
        8 => {
            if rng.u8(..4) == 0 {
                headers.retain(|(n, _)| n != b"content-type");
            } else {
                headers[1].1 = rng.choice(CONTENT_TYPES).unwrap().as_bytes().to_vec();
            }
            "bad content-type"
        }
        9 => {
            layer = Layer::Wire;
            alone = true;
            let n = body.len();
            let cl = |v: String| (b"content-length".to_vec(), v.into_bytes());
            framing = Some(match rng.u8(..9) {
                0 => vec![cl("abc".into())],
                1 => vec![cl("-1".into())],
                2 => vec![cl("1e3".into())],
                3 => vec![cl("99999999999999999999".into())],
                4 => vec![cl(format!("+{n}"))],
                5 => vec![cl(n.to_string()), cl((n / 2).to_string())],
                6 => vec![cl(n.to_string()), cl(n.to_string())],
                7 => vec![cl((n / 2).to_string())],
                _ => {
                    body = chunked(&body);
                    vec![
                        cl(body.len().to_string()),
                        (b"transfer-encoding".to_vec(), b"chunked".to_vec()),
                    ]
                }
            });
            "bad content-length"
        }
        10 => {
            layer = Layer::Wire;
            alone = true;
            let size = rng.usize(17 * 1024..64 * 1024);
            headers.push((b"x-big".to_vec(), vec![b'a'; size]));
            "huge header"
        }
        11 => {
            layer = Layer::Wire;
            alone = true;
            for i in 0..rng.usize(101..400) {
                headers.push((format!("x-h{i}").into_bytes(), b"v".to_vec()));
            }
            "too many headers"
        }
        12 => {
            layer = Layer::Wire;
            alone = true;
            let junk: &[(&[u8], &[u8])] = &[
                (b"bad header", b"x"),
                (b"x\x01y", b"x"),
                (b"x-ctl", b"a\x01b"),
                (b"x-nul", b"a\x00b"),
                (b"x-del", b"a\x7fb"),
                (b"", b"empty name"),
                (b"x-obs", b"\xff\xfe"),
                (b"x-fold", b"a\r\n folded"),
                (b"x-cr", b"a\rb"),
            ];
            let (n, v) = rng.choice(junk).unwrap();
            headers.push((n.to_vec(), v.to_vec()));
            "header junk"
        }
        13 => {
            let id: Vec<u8> = match rng.u8(..5) {
                0 => vec![b'i'; rng.usize(1000..12_000)],
                1 => b"\xc3\xa9\xe2\x82\xac".to_vec(),
                2 => Vec::new(),
                3 => b"../../etc/passwd".to_vec(),
                _ => b"<script>alert(1)</script>".to_vec(),
            };
            headers.push((b"x-request-id".to_vec(), id.clone()));
            if rng.bool() {
                headers.push((b"x-request-id".to_vec(), id));
            }
            "request-id abuse"
        }
        14 => {
            layer = Layer::Wire;
            alone = true;
            let size = BODY_LIMIT + rng.usize(1..64 * 1024);
            let mut text = Vec::with_capacity(size + 2);
            text.push(b'"');
            text.resize(size + 1, b'a');
            text.push(b'"');
            body = text;
            "huge body"
        }
        15 => {
            layer = Layer::Wire;
            alone = true;
            let garbage: &[&[u8]] = &[
                b"zz\r\nabc\r\n0\r\n\r\n",
                b"-1\r\nabc\r\n0\r\n\r\n",
                b"fffffffffffffffffffff\r\nabc\r\n0\r\n\r\n",
                b"3\r\nabcdef\r\n0\r\n\r\n",
                b"3;ext=1\r\nabc\r\n0\r\nx-trailer: 1\r\n\r\n",
                b"0\r\n\r\n",
                b"3\nabc\n0\n\n",
            ];
            body = rng.choice(garbage).unwrap().to_vec();
            framing = Some(vec![(b"transfer-encoding".to_vec(), b"chunked".to_vec())]);
            "broken chunked body"
        }
        16 => {
            let odd = [
                "get", "GETT", "BREW", "PROPFIND", "M-SEARCH", "X", "PATCH", "OPTIONS", "HEAD",
            ];
            method = rng.choice(&odd).unwrap().to_string();
            if rng.u8(..4) == 0 {
                method = "A".repeat(rng.usize(100..2000));
            }
            "odd method"
        }
        17 => {
            layer = Layer::Wire;
            alone = true;
            let lines: &[&[u8]] = &[
                b"GET  /health HTTP/1.1",
                b"GET /health HTTP/1.2",
                b"GET /health HTTP/2.0",
                b"GET /health",
                b"GET /health HTTP/1.1 extra",
                b"GET http://evil.example/users HTTP/1.1",
                b"GET http://127.0.0.1:1/health HTTP/1.1",
                b"OPTIONS * HTTP/1.1",
                b"CONNECT evil.example:443 HTTP/1.1",
                b"G\x00ET /health HTTP/1.1",
                b"GET /\xff\xfe HTTP/1.1",
                b"GET /<>{}|^` HTTP/1.1",
                b"GET /health#frag HTTP/1.1",
                b"GET /he alth HTTP/1.1",
                b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
                b"",
            ];
            line = Some(rng.choice(lines).unwrap().to_vec());
            "request line junk"
        }
        18 => {
            let expect: &[u8] = if rng.u8(..3) == 0 {
                layer = Layer::Wire;
                alone = true;
                b"999-nonsense"
            } else {
                b"100-continue"
            };
            headers.push((b"expect".to_vec(), expect.to_vec()));
            "expect"
        }
        19 => {
            alone = true;
            version = "HTTP/1.0";
            headers.retain(|(n, _)| n != b"host");
            "HTTP/1.0 without host"
        }
        _ => "plausible",
    };

    let head = line.is_none() && method == "HEAD";
    let mut bytes = line.unwrap_or_else(|| format!("{method} {path} {version}").into_bytes());
    bytes.extend_from_slice(b"\r\n");
    for (name, value) in &headers {
        bytes.extend_from_slice(name);
        bytes.extend_from_slice(b": ");
        bytes.extend_from_slice(value);
        bytes.extend_from_slice(b"\r\n");
    }
    match framing {
        Some(framing) => {
            for (name, value) in framing {
                bytes.extend_from_slice(&name);
                bytes.extend_from_slice(b": ");
                bytes.extend_from_slice(&value);
                bytes.extend_from_slice(b"\r\n");
            }
        }
        None => {
            let _ = write!(ByteWriter(&mut bytes), "content-length: {}\r\n", body.len());
        }
    }
    if alone {
        bytes.extend_from_slice(b"connection: close\r\n");
    }
    bytes.extend_from_slice(b"\r\n");
    if bytes.len() > MAX_HEAD_BYTES {
        // hyper refuses the head (431) and closes, whatever the kind.
        layer = Layer::Wire;
    }
    bytes.extend_from_slice(&body);
    Case {
        kind,
        bytes,
        layer,
        head,
        alone,
    }
}

/// `write!` into a byte vector.
struct ByteWriter<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for ByteWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// A JSON value of a random type, as text (so it can hold what serde_json
/// would never write: lone surrogates, huge exponents).
fn random_value(rng: &mut fastrand::Rng, depth: u8) -> String {
    match rng.u8(..12) {
        0 => "null".into(),
        1 => rng.bool().to_string(),
        2 => rng.i64(..).to_string(),
        3 => rng
            .choice([
                "1e308",
                "-1e999",
                "-0.0",
                "1.7976931348623157e309",
                "123456789012345678901234567890",
            ])
            .unwrap()
            .into(),
        4 => "\"\"".into(),
        5 => format!("\"{}\"", "x".repeat(rng.usize(200..20_000))),
        6 => rng
            .choice([
                r#""\ud800""#,
                r#""\u0000""#,
                r#""é😀""#,
                r#""a\"b""#,
                r#""\/\b\f""#,
                r#""   ""#,
                r#""<b>x</b>""#,
            ])
            .unwrap()
            .into(),
        7 => "\"ana@example.com\"".into(),
        8 if depth < 3 => format!(
            "[{}]",
            (0..rng.usize(0..4))
                .map(|_| random_value(rng, depth + 1))
                .collect::<Vec<_>>()
                .join(",")
        ),
        9 if depth < 3 => format!("{{\"k\":{}}}", random_value(rng, depth + 1)),
        _ => rng.i32(-5..100).to_string(),
    }
}

/// `body` as one chunk and the last chunk.
fn chunked(body: &[u8]) -> Vec<u8> {
    let mut out = format!("{:x}\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out.extend_from_slice(b"\r\n0\r\n\r\n");
    out
}

/// How one endpoint's cases went.
#[derive(Debug, Default)]
struct Tally {
    cases: usize,
    ok: usize,
    json_4xx: usize,
    bare_4xx: usize,
    closed: usize,
    slowest: Duration,
    failures: Vec<String>,
}

/// A kept-alive connection and the way to replace it.
struct Client {
    port: u16,
    conn: Option<Conn>,
}

impl Client {
    /// Sends one case and reads everything it gets back. A kept-alive
    /// connection the server closed in between is retried once on a fresh
    /// one: that race is the client's, not the server's.
    fn exchange(&mut self, case: &Case) -> Vec<Outcome> {
        for attempt in 0..2 {
            let reused = !case.alone && self.conn.as_ref().is_some_and(|c| c.answers > 0);
            let mut conn = match self.conn.take().filter(|_| !case.alone) {
                Some(conn) => conn,
                None => match Conn::open(self.port, ANSWER_WITHIN) {
                    Ok(conn) => conn,
                    Err(e) => return vec![Outcome::Garbled(format!("connect: {e}"))],
                },
            };
            // A failed write (the server refused early and closed) still
            // leaves its answer to read.
            let _ = conn.send(&case.bytes);
            let first = conn.read_response(case.head, ANSWER_WITHIN);
            if reused && attempt == 0 && matches!(first, Outcome::Closed) {
                continue;
            }
            let mut outcomes = vec![first];
            if case.alone {
                // Everything the server sends until it closes is checked.
                while let Outcome::Answered(_) = outcomes.last().unwrap() {
                    outcomes.push(conn.read_response(false, Duration::from_secs(3)));
                }
                if let Some(Outcome::Closed) = outcomes.last() {
                    outcomes.pop();
                    if outcomes.is_empty() {
                        outcomes.push(Outcome::Closed);
                    }
                }
            } else if let Some(Outcome::Answered(r)) = outcomes.first() {
                if !r.closes() {
                    self.conn = Some(conn);
                }
            }
            return outcomes;
        }
        vec![Outcome::Closed]
    }
}

/// Why `outcome` is not acceptable for `case`, if it is not.
fn judge(case: &Case, outcome: &Outcome, tally: &mut Tally) -> Option<String> {
    match outcome {
        Outcome::Answered(r) if r.status >= 500 => Some(format!("{} {}", r.status, text(r))),
        Outcome::Answered(r) if (400..500).contains(&r.status) => {
            let is_json = r
                .header("content-type")
                .is_some_and(|t| t.starts_with("application/json"));
            let body: Option<serde_json::Value> = serde_json::from_slice(&r.body).ok();
            let has_error = body.as_ref().is_some_and(|b| b["error"].is_string());
            if (case.head && is_json) || (!case.head && has_error) {
                tally.json_4xx += 1;
                None
            } else if case.layer == Layer::Wire && r.body.is_empty() {
                tally.bare_4xx += 1;
                None
            } else {
                Some(format!("{} without a JSON error: {}", r.status, text(r)))
            }
        }
        Outcome::Answered(_) => {
            tally.ok += 1;
            None
        }
        Outcome::Closed if case.layer == Layer::Wire => {
            tally.closed += 1;
            None
        }
        Outcome::Closed => Some("closed without an answer".into()),
        Outcome::TimedOut => Some(format!("no answer within {ANSWER_WITHIN:?}")),
        Outcome::Garbled(e) => Some(format!("garbled answer: {e}")),
    }
}

fn text(r: &Response) -> String {
    String::from_utf8_lossy(&r.body[..r.body.len().min(300)]).into_owned()
}

fn printable(bytes: &[u8]) -> String {
    let shown = &bytes[..bytes.len().min(300)];
    format!("{:?}", String::from_utf8_lossy(shown))
}

/// Runs [`CASES`] generated cases against `ep`, over kept-alive connections.
fn fuzz(ep: Endpoint, seed: u64) -> Tally {
    let mut rng = fastrand::Rng::with_seed(seed ^ hash(ep.service) ^ hash(ep.path).rotate_left(1));
    let mut client = Client {
        port: ep.port,
        conn: None,
    };
    let mut tally = Tally::default();
    for _ in 0..CASES {
        let case = generate(&mut rng, &ep);
        let started = Instant::now();
        let outcomes = client.exchange(&case);
        tally.slowest = tally.slowest.max(started.elapsed());
        tally.cases += 1;
        for outcome in &outcomes {
            if let Some(why) = judge(&case, outcome, &mut tally) {
                tally.failures.push(format!(
                    "{} {} [{}]: {why}\n    request: {}",
                    ep.service,
                    ep.path,
                    case.kind,
                    printable(&case.bytes)
                ));
            }
        }
    }
    tally
}

fn hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// Slow clients against one port; each returns why it failed, if it did.
fn slow_clients(port: u16, body_path: &'static str) -> Vec<thread::JoinHandle<Option<String>>> {
    let mut handles = Vec::new();
    // A head sent one byte every 200 ms, for ever: cut off by the head
    // timeout, however steadily bytes arrive.
    for _ in 0..6 {
        handles.push(thread::spawn(move || {
            let mut conn = Conn::open(port, ANSWER_WITHIN).ok()?;
            let started = Instant::now();
            let bound = HEAD_TIMEOUT + Duration::from_secs(4);
            conn.send(b"GET /health HTTP/1.1\r\nhost: x\r\nx-slow: ")
                .ok()?;
            while started.elapsed() < bound {
                if conn.send(b"a").is_err() || conn.closed_within(Duration::from_millis(200)) {
                    return None;
                }
            }
            Some(format!(
                "{port}: byte-by-byte head still open after {bound:?}"
            ))
        }));
    }
    // A head that stops half-way and never ends.
    for _ in 0..6 {
        handles.push(thread::spawn(move || {
            let mut conn = Conn::open(port, ANSWER_WITHIN).ok()?;
            conn.send(b"POST /health HTTP/1.1\r\nhost: x\r\ncontent-le")
                .ok()?;
            let bound = HEAD_TIMEOUT + Duration::from_secs(4);
            (!conn.closed_within(bound))
                .then(|| format!("{port}: unfinished head still open after {bound:?}"))
        }));
    }
    // A body trickled a byte every 300 ms: the request timeout answers it.
    for _ in 0..2 {
        handles.push(thread::spawn(move || {
            let mut conn = Conn::open(port, ANSWER_WITHIN).ok()?;
            let head = format!(
                "POST {body_path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 200\r\n\r\n{{\"name\":\""
            );
            conn.send(head.as_bytes()).ok()?;
            let started = Instant::now();
            let bound = REQUEST_TIMEOUT + Duration::from_secs(5);
            while started.elapsed() < bound {
                let _ = conn.send(b"a");
                match conn.read_response(false, Duration::from_millis(300)) {
                    Outcome::TimedOut => continue,
                    Outcome::Answered(r) if r.status >= 500 => {
                        return Some(format!("{port}: slow body got {} {}", r.status, text(&r)))
                    }
                    Outcome::Answered(r)
                        if r.status >= 400
                            && !serde_json::from_slice::<serde_json::Value>(&r.body)
                                .is_ok_and(|b| b["error"].is_string()) =>
                    {
                        return Some(format!("{port}: slow body got a non-JSON {}", r.status))
                    }
                    _ => return None,
                }
            }
            Some(format!("{port}: slow body unanswered after {bound:?}"))
        }));
    }
    handles
}

/// Fuzzes every endpoint (one thread each) while slow clients hold
/// connections to every port, then checks the services' logs and restarts.
fn attack(
    stack: &Stack,
    since: Instant,
    endpoints: &[Endpoint],
    slow_targets: &[(u16, &'static str)],
) {
    let seed = std::env::var("BAD_INPUT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    eprintln!("bad_input: seed {seed} (BAD_INPUT_SEED={seed} replays it)");
    let started = Instant::now();
    let slow: Vec<_> = slow_targets
        .iter()
        .flat_map(|&(port, path)| slow_clients(port, path))
        .collect();
    // With the slow clients connected, a normal request is still answered
    // at once.
    for &(port, _) in slow_targets {
        let asked = Instant::now();
        let mut conn = Conn::open(port, ANSWER_WITHIN).unwrap();
        conn.send(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n")
            .unwrap();
        match conn.read_response(false, Duration::from_secs(2)) {
            Outcome::Answered(r) if r.status == 200 => {}
            other => panic!("{port}: /health beside slow clients: {other:?}"),
        }
        assert!(asked.elapsed() < Duration::from_secs(2));
    }
    let fuzzers: Vec<_> = endpoints
        .iter()
        .map(|&ep| thread::spawn(move || (ep, fuzz(ep, seed))))
        .collect();
    let mut failures = Vec::new();
    for fuzzer in fuzzers {
        let (ep, tally) = fuzzer.join().unwrap();
        eprintln!(
            "  {:<15} {:<18} {} cases: {} 2xx/3xx, {} JSON 4xx, {} bare 4xx (hyper), {} closed; slowest {:?}",
            ep.service,
            ep.path,
            tally.cases,
            tally.ok,
            tally.json_4xx,
            tally.bare_4xx,
            tally.closed,
            tally.slowest
        );
        assert!(tally.cases >= CASES);
        failures.extend(tally.failures);
    }
    for handle in slow {
        failures.extend(handle.join().unwrap());
    }
    let mut services: Vec<&str> = endpoints.iter().map(|ep| ep.service).collect();
    services.sort_unstable();
    services.dedup();
    for service in services {
        let logs = stack.logs(service);
        if let Some(line) = logs.lines().find(|l| l.to_lowercase().contains("panic")) {
            failures.push(format!("{service} logged a panic: {line}"));
        }
        for id in stack
            .compose(&["ps", "-q", service])
            .stdout
            .split_whitespace()
        {
            let restarts = docker(&["inspect", "--format", "{{.RestartCount}}", id]);
            if restarts.stdout.trim() != "0" {
                failures.push(format!(
                    "{service} restarted {} times",
                    restarts.stdout.trim()
                ));
            }
        }
    }
    eprintln!(
        "bad_input: {} endpoints in {:?} ({:?} with the start-up)",
        endpoints.len(),
        started.elapsed(),
        since.elapsed()
    );
    assert!(
        failures.is_empty(),
        "seed {seed}: {} failures, first ones:\n{}",
        failures.len(),
        failures
            .iter()
            .take(25)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

const GET: &[&str] = &["GET"];
const USER: &str = r#"{"name":"Ana","email":"ana@example.com"}"#;
const POST: &str = r#"{"titulo":"Olá","conteudo":"texto"}"#;

fn ep(service: &'static str, port: u16, path: &'static str) -> Endpoint {
    Endpoint {
        service,
        port,
        path,
        methods: GET,
        body: None,
    }
}

fn with_body(
    service: &'static str,
    port: u16,
    path: &'static str,
    methods: &'static [&'static str],
    body: &'static str,
) -> Endpoint {
    Endpoint {
        service,
        port,
        path,
        methods,
        body: Some(body),
    }
}

#[test]
fn desafio1_server() {
    let _guard = serial();
    let since = Instant::now();
    let port = free_port();
    let stack = Stack::new("desafio1").env("D1_PORT", port);
    stack.up();
    let s = "flask-server";
    attack(
        &stack,
        since,
        &[
            ep(s, port, "/"),
            ep(s, port, "/stats"),
            ep(s, port, "/health"),
        ],
        &[(port, "/")],
    );
}

#[test]
fn desafio3_web_and_page() {
    let _guard = serial();
    let since = Instant::now();
    let (web, page) = (free_port(), free_port());
    let stack = Stack::new("desafio3")
        .env("D3_WEB_PORT", web)
        .env("D3_PAGE_PORT", page);
    stack.up();
    const RW: &[&str] = &["GET", "POST"];
    const ONE: &[&str] = &["GET", "PUT", "DELETE"];
    attack(
        &stack,
        since,
        &[
            with_body("web", web, "/users", RW, USER),
            with_body("web", web, "/users/{id}", ONE, USER),
            with_body("web", web, "/api/posts", RW, POST),
            ep("web", web, "/api/posts/cache"),
            with_body("web", web, "/api/posts/{id}", ONE, POST),
            ep("web", web, "/"),
            ep("web", web, "/log"),
            ep("web", web, "/todos"),
            ep("web", web, "/aluno/{id}"),
            ep("web", web, "/status"),
            ep("web", web, "/api/contador"),
            ep("web", web, "/api/stats"),
            ep("web", web, "/health"),
            ep("page", page, "/"),
            with_body("page", page, "/users", RW, USER),
            with_body("page", page, "/users/{id}", ONE, USER),
            with_body("page", page, "/api/posts", RW, POST),
            ep("page", page, "/status"),
            ep("page", page, "/health"),
        ],
        &[(web, "/users"), (page, "/api/posts")],
    );
}

#[test]
fn desafio4_services() {
    let _guard = serial();
    let since = Instant::now();
    let (a, b) = (free_port(), free_port());
    let stack = Stack::new("desafio4")
        .env("D4_A_PORT", a)
        .env("D4_B_PORT", b);
    stack.up();
    attack(
        &stack,
        since,
        &[
            ep("service_a", a, "/usuarios"),
            ep("service_a", a, "/health"),
            ep("service_b", b, "/info"),
            ep("service_b", b, "/health"),
        ],
        &[(a, "/usuarios"), (b, "/info")],
    );
}

#[test]
fn desafio5_gateway_and_services() {
    let _guard = serial();
    let since = Instant::now();
    let (stack, gateway, users, orders) = e2e::desafio5_direct();
    stack.up();
    attack(
        &stack,
        since,
        &[
            ep("gateway", gateway, "/users"),
            ep("gateway", gateway, "/users/{id}"),
            ep("gateway", gateway, "/orders"),
            ep("gateway", gateway, "/orders/{id}"),
            ep("gateway", gateway, "/health"),
            ep("users_service", users, "/users"),
            ep("users_service", users, "/users/{id}"),
            ep("users_service", users, "/health"),
            ep("orders_service", orders, "/orders"),
            ep("orders_service", orders, "/orders/{id}"),
            ep("orders_service", orders, "/health"),
        ],
        &[(gateway, "/users"), (users, "/users"), (orders, "/orders")],
    );
}
