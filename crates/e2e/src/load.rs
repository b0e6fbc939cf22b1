//! A small, bounded HTTP load generator for the reliability tests, and the
//! arithmetic that turns its records into figures (failures during a fault,
//! time to detect, time to recover).
//!
//! Why not wrk: wrk reports totals, while a fault figure needs every
//! request's start time and outcome on one clock shared with the fault's
//! commands. Why not reqwest: an HTTP library hides *where* a failed request
//! failed; here each worker speaks HTTP/1.1 itself over one kept-alive
//! `TcpStream`, so a failure is exactly one of: no connection at all, a
//! request that got no byte of answer, an answer cut in the middle, or no
//! answer in time (see [`Outcome`]). That is what the graceful-shutdown test
//! needs to tell a refused request from a truncated one.
//!
//! Every run is bounded three ways: a fixed number of workers, a deadline
//! and a maximum request count; and optionally paced to a total rate.

use std::{
    fmt,
    io::{ErrorKind, Read, Write},
    net::{SocketAddr, TcpStream},
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    thread::{self, JoinHandle},
    time::{Duration, Instant, SystemTime},
};

/// One request to send.
#[derive(Debug, Clone)]
pub struct Request {
    /// A short name for the tables ("read", "write", ...).
    pub label: &'static str,
    pub method: &'static str,
    pub path: String,
    /// A JSON body.
    pub body: Option<String>,
    /// Keep the answer's body in the [`Record`] (to read a created id).
    pub keep_answer: bool,
}

impl Request {
    pub fn get(label: &'static str, path: impl Into<String>) -> Self {
        Self {
            label,
            method: "GET",
            path: path.into(),
            body: None,
            keep_answer: false,
        }
    }

    /// A JSON POST whose answer is kept.
    pub fn post_json(label: &'static str, path: impl Into<String>, body: String) -> Self {
        Self {
            label,
            method: "POST",
            path: path.into(),
            body: Some(body),
            keep_answer: true,
        }
    }
}

/// How one request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    /// A complete answer with this status code.
    Answered(u16),
    /// No connection could be made: nothing was sent.
    Refused,
    /// Connected (or on a kept-alive connection), but the connection closed
    /// or reset before the first byte of an answer.
    Unanswered,
    /// Part of an answer arrived, then the connection ended: a cut answer.
    Truncated,
    /// Bytes arrived that are not an HTTP/1.1 answer.
    Malformed,
    /// No complete answer within the request timeout.
    TimedOut,
}

impl Outcome {
    /// A complete 2xx answer.
    pub fn is_success(self) -> bool {
        matches!(self, Self::Answered(s) if (200..300).contains(&s))
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Answered(s) => write!(f, "HTTP {s}"),
            Self::Refused => f.write_str("refused"),
            Self::Unanswered => f.write_str("closed before an answer"),
            Self::Truncated => f.write_str("truncated answer"),
            Self::Malformed => f.write_str("malformed answer"),
            Self::TimedOut => f.write_str("timed out"),
        }
    }
}

/// One request as it happened.
#[derive(Debug, Clone)]
pub struct Record {
    pub label: &'static str,
    /// When it started, on the load's clock ([`Load::now`]).
    pub start: Duration,
    pub latency: Duration,
    pub outcome: Outcome,
    /// Sent over a connection an earlier request had opened.
    pub reused: bool,
    /// The answer's body, if the request asked for it and it arrived.
    pub answer: Option<String>,
}

impl Record {
    pub fn end(&self) -> Duration {
        self.start + self.latency
    }

    pub fn ok(&self) -> bool {
        self.outcome.is_success()
    }
}

/// Builds request number `n` (0, 1, 2, ... over all workers).
pub type Maker = Arc<dyn Fn(u64) -> Request + Send + Sync>;

/// What to send, how hard and for how long.
#[derive(Clone)]
pub struct Plan {
    pub port: u16,
    /// Workers, each with one connection: the most requests in flight.
    pub concurrency: usize,
    /// Total requests per second over all workers; `None`: each worker sends
    /// its next request as soon as the last one is answered.
    pub rate: Option<f64>,
    /// The run stops at this deadline at the latest.
    pub duration: Duration,
    /// ... and after this many requests.
    pub max_requests: u64,
    /// Longest wait for one complete answer, connecting included.
    pub timeout: Duration,
    pub make: Maker,
}

impl fmt::Debug for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Plan")
            .field("port", &self.port)
            .field("concurrency", &self.concurrency)
            .field("rate", &self.rate)
            .field("duration", &self.duration)
            .field("max_requests", &self.max_requests)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Plan {
    /// 8 workers, 500 requests/s, 30 s, at most a million requests, 5 s per
    /// request; change any with the fields.
    pub fn new(port: u16, make: impl Fn(u64) -> Request + Send + Sync + 'static) -> Self {
        Self {
            port,
            concurrency: 8,
            rate: Some(500.0),
            duration: Duration::from_secs(30),
            max_requests: 1_000_000,
            timeout: Duration::from_secs(5),
            make: Arc::new(make),
        }
    }
}

#[derive(Debug, Default)]
struct Shared {
    stop: AtomicBool,
    issued: AtomicU64,
    ok: AtomicU64,
    failed: AtomicU64,
    /// End of the latest failed request, in µs on the load's clock, plus 1
    /// (0: none yet).
    last_failure_us: AtomicU64,
}

/// A running load; [`Load::stop`] or [`Load::finish`] returns its records.
#[derive(Debug)]
pub struct Load {
    origin: Instant,
    wall_origin: SystemTime,
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<Vec<Record>>>,
}

impl Load {
    /// Starts the workers now.
    pub fn start(plan: Plan) -> Self {
        let origin = Instant::now();
        let wall_origin = SystemTime::now();
        let shared = Arc::new(Shared::default());
        let workers = (0..plan.concurrency.max(1))
            .map(|index| {
                let plan = plan.clone();
                let shared = Arc::clone(&shared);
                thread::spawn(move || worker(&plan, index, origin, &shared))
            })
            .collect();
        Self {
            origin,
            wall_origin,
            shared,
            workers,
        }
    }

    /// Runs `plan` to its deadline or count and returns the records.
    pub fn run(plan: Plan) -> Records {
        Self::start(plan).finish()
    }

    /// Time since the load started: the clock of every [`Record`].
    pub fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    /// A wall-clock time (a Docker event's, say) on the load's clock; zero
    /// if it is before the start.
    pub fn at(&self, wall: SystemTime) -> Duration {
        wall.duration_since(self.wall_origin).unwrap_or_default()
    }

    /// The wall-clock time of the load's start.
    pub fn wall_origin(&self) -> SystemTime {
        self.wall_origin
    }

    /// Successful and failed requests so far.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.shared.ok.load(Ordering::Relaxed),
            self.shared.failed.load(Ordering::Relaxed),
        )
    }

    /// The end of the latest failed request so far.
    pub fn last_failure(&self) -> Option<Duration> {
        match self.shared.last_failure_us.load(Ordering::Relaxed) {
            0 => None,
            us => Some(Duration::from_micros(us - 1)),
        }
    }

    /// Waits until no request has failed for `quiet` since `since` (a
    /// recovered service), polling; panics after `deadline`.
    #[track_caller]
    pub fn wait_quiet(&self, since: Duration, quiet: Duration, deadline: Duration) {
        let (ok_before, _) = self.counts();
        crate::wait_until(
            &format!("{quiet:?} without a failed request"),
            deadline,
            || {
                let calm_from = self.last_failure().map_or(since, |f| f.max(since));
                let (ok, _) = self.counts();
                (self.now() >= calm_from + quiet && ok > ok_before).then_some(())
            },
        );
    }

    /// Stops the workers after their current request; the records, by
    /// start time.
    pub fn stop(self) -> Records {
        self.shared.stop.store(true, Ordering::Relaxed);
        self.finish()
    }

    /// Waits for the deadline or the count; the records, by start time.
    pub fn finish(self) -> Records {
        let mut all: Vec<Record> = self
            .workers
            .into_iter()
            .flat_map(|w| w.join().expect("a load worker panicked"))
            .collect();
        all.sort_by_key(|r| r.start);
        Records(all)
    }
}

fn worker(plan: &Plan, index: usize, origin: Instant, shared: &Shared) -> Vec<Record> {
    let addr = SocketAddr::from(([127, 0, 0, 1], plan.port));
    let workers = plan.concurrency.max(1);
    // Each worker's share of the rate, its first slot staggered so that the
    // workers do not fire together.
    let interval = plan
        .rate
        .filter(|r| *r > 0.0)
        .map(|r| Duration::from_secs_f64(workers as f64 / r));
    let mut next = origin + interval.map_or(Duration::ZERO, |i| i * index as u32 / workers as u32);
    let mut connection: Option<TcpStream> = None;
    let mut records = Vec::new();
    loop {
        if shared.stop.load(Ordering::Relaxed) || origin.elapsed() >= plan.duration {
            break;
        }
        if let Some(interval) = interval {
            let now = Instant::now();
            if next > now {
                // Pacing to the asked rate, not waiting for anything.
                thread::sleep((next - now).min(plan.duration.saturating_sub(origin.elapsed())));
                if shared.stop.load(Ordering::Relaxed) || origin.elapsed() >= plan.duration {
                    break;
                }
            }
            // A late worker does not burst to catch up.
            next = (next + interval).max(Instant::now());
        }
        let n = shared.issued.fetch_add(1, Ordering::Relaxed);
        if n >= plan.max_requests {
            break;
        }
        let request = (plan.make)(n);
        let started = Instant::now();
        let reused = connection.is_some();
        let (outcome, answer) = exchange(&mut connection, addr, plan.port, &request, plan.timeout);
        let record = Record {
            label: request.label,
            start: started - origin,
            latency: started.elapsed(),
            outcome,
            reused,
            answer: if request.keep_answer { answer } else { None },
        };
        if record.ok() {
            shared.ok.fetch_add(1, Ordering::Relaxed);
        } else {
            shared.failed.fetch_add(1, Ordering::Relaxed);
            let end = u64::try_from(record.end().as_micros()).unwrap_or(u64::MAX - 1);
            shared.last_failure_us.fetch_max(end + 1, Ordering::Relaxed);
        }
        let no_server = matches!(record.outcome, Outcome::Refused | Outcome::Unanswered);
        records.push(record);
        if no_server {
            // Nobody listens (a stopped service): back off a little, as a
            // client would, instead of spinning on refusals.
            thread::sleep(NO_SERVER_PAUSE);
        }
    }
    records
}

/// A worker's pause after a request found no server.
const NO_SERVER_PAUSE: Duration = Duration::from_millis(5);

/// One request and its answer on `connection` (opened if needed, dropped
/// after any failure or a `Connection: close`).
fn exchange(
    connection: &mut Option<TcpStream>,
    addr: SocketAddr,
    port: u16,
    request: &Request,
    timeout: Duration,
) -> (Outcome, Option<String>) {
    let deadline = Instant::now() + timeout;
    let mut stream = match connection.take() {
        Some(stream) => stream,
        None => match TcpStream::connect_timeout(&addr, timeout) {
            Ok(stream) => {
                let _ = stream.set_nodelay(true);
                stream
            }
            Err(e) if is_timeout(&e) => return (Outcome::TimedOut, None),
            Err(_) => return (Outcome::Refused, None),
        },
    };
    let mut head = format!(
        "{} {} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\nuser-agent: e2e-load\r\n",
        request.method, request.path
    );
    if let Some(body) = &request.body {
        head.push_str(&format!(
            "content-type: application/json\r\ncontent-length: {}\r\n",
            body.len()
        ));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    if let Some(body) = &request.body {
        bytes.extend_from_slice(body.as_bytes());
    }
    let _ = stream.set_write_timeout(Some(timeout));
    if let Err(e) = stream.write_all(&bytes) {
        let outcome = if is_timeout(&e) {
            Outcome::TimedOut
        } else {
            Outcome::Unanswered
        };
        return (outcome, None);
    }

    let mut buffer = Vec::with_capacity(4096);
    let mut chunk = [0u8; 16 * 1024];
    loop {
        match parse(&buffer, request.method == "HEAD") {
            Parsed::Complete(answer) => {
                if !answer.close {
                    *connection = Some(stream);
                }
                let body = String::from_utf8_lossy(&answer.body).into_owned();
                return (Outcome::Answered(answer.status), Some(body));
            }
            Parsed::Malformed => return (Outcome::Malformed, None),
            Parsed::Incomplete { until_eof } => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return (Outcome::TimedOut, None);
                }
                let _ = stream.set_read_timeout(Some(left));
                match stream.read(&mut chunk) {
                    Ok(0) if until_eof => {
                        // The body ran to the end of the connection.
                        return match parse_head(&buffer) {
                            Some(head) => (
                                Outcome::Answered(head.status),
                                Some(String::from_utf8_lossy(&buffer[head.len..]).into_owned()),
                            ),
                            None => (Outcome::Malformed, None),
                        };
                    }
                    Ok(0) => return (cut(&buffer), None),
                    Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) if is_timeout(&e) => return (Outcome::TimedOut, None),
                    Err(_) => return (cut(&buffer), None),
                }
            }
        }
    }
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

/// A connection that ended early: before any byte, or mid-answer.
fn cut(buffer: &[u8]) -> Outcome {
    if buffer.is_empty() {
        Outcome::Unanswered
    } else {
        Outcome::Truncated
    }
}

struct Head {
    status: u16,
    /// Bytes up to and including the blank line.
    len: usize,
    content_length: Option<usize>,
    chunked: bool,
    close: bool,
}

fn parse_head(buffer: &[u8]) -> Option<Head> {
    let end = buffer.windows(4).position(|w| w == b"\r\n\r\n")?;
    let text = std::str::from_utf8(&buffer[..end]).ok()?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next()?;
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next()?;
    if !version.starts_with("HTTP/1.") {
        return None;
    }
    let status = parts.next()?.parse().ok()?;
    let mut head = Head {
        status,
        len: end + 4,
        content_length: None,
        chunked: false,
        close: version == "HTTP/1.0",
    };
    for line in lines {
        let (name, value) = line.split_once(':')?;
        let value = value.trim().to_ascii_lowercase();
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => head.content_length = Some(value.parse().ok()?),
            "transfer-encoding" => head.chunked = value.contains("chunked"),
            "connection" => head.close = value.contains("close"),
            _ => {}
        }
    }
    Some(head)
}

struct Answer {
    status: u16,
    body: Vec<u8>,
    close: bool,
}

enum Parsed {
    Complete(Answer),
    /// More bytes needed; `until_eof`: the body is delimited by the end of
    /// the connection.
    Incomplete {
        until_eof: bool,
    },
    Malformed,
}

fn parse(buffer: &[u8], head_only: bool) -> Parsed {
    let incomplete = Parsed::Incomplete { until_eof: false };
    if !buffer.windows(4).any(|w| w == b"\r\n\r\n") {
        return if buffer.len() > 64 * 1024 {
            Parsed::Malformed
        } else {
            incomplete
        };
    }
    let Some(head) = parse_head(buffer) else {
        return Parsed::Malformed;
    };
    let rest = &buffer[head.len..];
    let bodiless = head_only || head.status == 204 || head.status == 304 || head.status < 200;
    let complete = |body: Vec<u8>, close: bool| {
        Parsed::Complete(Answer {
            status: head.status,
            body,
            close,
        })
    };
    if bodiless {
        return complete(Vec::new(), head.close);
    }
    if head.chunked {
        return match dechunk(rest) {
            Some(Ok(body)) => complete(body, head.close),
            Some(Err(())) => Parsed::Malformed,
            None => incomplete,
        };
    }
    match head.content_length {
        Some(n) if rest.len() >= n => complete(rest[..n].to_vec(), head.close),
        Some(_) => incomplete,
        None => Parsed::Incomplete { until_eof: true },
    }
}

/// A chunked body: `None` while incomplete, `Err` if malformed.
fn dechunk(mut rest: &[u8]) -> Option<Result<Vec<u8>, ()>> {
    let mut body = Vec::new();
    loop {
        let line_end = rest.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&rest[..line_end]).ok();
        let Some(size) = size_text
            .and_then(|t| t.split(';').next())
            .and_then(|t| usize::from_str_radix(t.trim(), 16).ok())
        else {
            return Some(Err(()));
        };
        rest = &rest[line_end + 2..];
        if size == 0 {
            // Trailers (none expected) end with an empty line.
            return rest.windows(2).any(|w| w == b"\r\n").then_some(Ok(body));
        }
        if rest.len() < size + 2 {
            return None;
        }
        body.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

/// Every request of one run, ordered by start time.
#[derive(Debug, Clone, Default)]
pub struct Records(pub Vec<Record>);

impl std::ops::Deref for Records {
    type Target = [Record];
    fn deref(&self) -> &[Record] {
        &self.0
    }
}

impl Records {
    /// The requests that started in `[from, to)`.
    pub fn between(&self, from: Duration, to: Duration) -> impl Iterator<Item = &Record> {
        self.0
            .iter()
            .filter(move |r| r.start >= from && r.start < to)
    }

    /// How many requests did not get a complete 2xx answer.
    pub fn failed(&self) -> usize {
        self.0.iter().filter(|r| !r.ok()).count()
    }

    /// Each outcome and how often it happened, most frequent first.
    pub fn outcomes(&self) -> Vec<(Outcome, usize)> {
        let mut counts = std::collections::BTreeMap::new();
        for r in &self.0 {
            *counts.entry(r.outcome).or_insert(0) += 1;
        }
        let mut list: Vec<_> = counts.into_iter().collect();
        list.sort_by_key(|entry| std::cmp::Reverse(entry.1));
        list
    }

    /// The `p`-th percentile (0..=100) of successful requests' latency.
    pub fn latency_percentile(&self, p: f64) -> Duration {
        let mut latencies: Vec<Duration> = self
            .0
            .iter()
            .filter(|r| r.ok())
            .map(|r| r.latency)
            .collect();
        if latencies.is_empty() {
            return Duration::ZERO;
        }
        latencies.sort_unstable();
        let rank = ((p / 100.0) * (latencies.len() - 1) as f64).round() as usize;
        latencies[rank.min(latencies.len() - 1)]
    }

    /// Requests per second between the first start and the last end.
    pub fn throughput(&self) -> f64 {
        let (Some(first), Some(last)) = (
            self.0.first().map(|r| r.start),
            self.0.iter().map(Record::end).max(),
        ) else {
            return 0.0;
        };
        let span = (last - first).as_secs_f64();
        if span > 0.0 {
            self.0.len() as f64 / span
        } else {
            0.0
        }
    }

    /// The figures of one fault: see [`FaultFigures`].
    pub fn fault(
        &self,
        name: impl Into<String>,
        window: &FaultWindow,
        is_failure: impl Fn(&Record) -> bool,
    ) -> FaultFigures {
        let inside: Vec<&Record> = self.between(window.fault_at, window.until).collect();
        let failures: Vec<&Record> = inside.iter().copied().filter(|r| is_failure(r)).collect();
        let detect = failures
            .iter()
            .map(|r| r.end())
            .min()
            .map(|end| end.saturating_sub(window.fault_at));
        // Recovered with the first good answer after the last failure: from
        // there on, every request of the window succeeded.
        let recover = failures.iter().map(|r| r.start).max().and_then(|last| {
            inside
                .iter()
                .filter(|r| r.start > last && !is_failure(r))
                .map(|r| r.end())
                .min()
                .map(|end| end.saturating_sub(window.back_at))
        });
        FaultFigures {
            name: name.into(),
            requests: inside.len(),
            failed: failures.len(),
            detect,
            recover,
        }
    }
}

/// When a fault began, when the dependency was given back, and the end of
/// the observation (after a quiet spell), all on the load's clock.
#[derive(Debug, Clone, Copy)]
pub struct FaultWindow {
    pub fault_at: Duration,
    pub back_at: Duration,
    pub until: Duration,
}

/// What one fault cost.
#[derive(Debug, Clone)]
pub struct FaultFigures {
    pub name: String,
    /// Requests started during the window.
    pub requests: usize,
    /// Of those, the ones that failed.
    pub failed: usize,
    /// From the fault's command to the end of the first failed request.
    pub detect: Option<Duration>,
    /// From the dependency's return (its start command done) to the first
    /// good answer after which nothing failed; `None` if nothing failed.
    pub recover: Option<Duration>,
}

impl FaultFigures {
    /// A row for [`table`]: fault, requests, failed, detect, recover.
    pub fn row(&self) -> Vec<String> {
        let ms = |d: Option<Duration>| {
            d.map_or_else(|| "-".to_owned(), |d| format!("{} ms", d.as_millis()))
        };
        vec![
            self.name.clone(),
            self.requests.to_string(),
            self.failed.to_string(),
            ms(self.detect),
            ms(self.recover),
        ]
    }
}

/// A Markdown table.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = format!("| {} |\n", header.join(" | "));
    out.push_str(&format!(
        "|{}|\n",
        header.iter().map(|_| "---").collect::<Vec<_>>().join("|")
    ));
    for row in rows {
        out.push_str(&format!("| {} |\n", row.join(" | ")));
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_length_chunked_and_cut_answers() {
        let full = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
        assert!(
            matches!(parse(full, false), Parsed::Complete(a) if a.status == 200 && a.body == b"ok" && !a.close)
        );
        assert!(matches!(
            parse(&full[..full.len() - 1], false),
            Parsed::Incomplete { until_eof: false }
        ));
        let chunked = b"HTTP/1.1 201 Created\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\n\r\n";
        assert!(
            matches!(parse(chunked, false), Parsed::Complete(a) if a.status == 201 && a.body == b"abc" && a.close)
        );
        assert!(matches!(
            parse(&chunked[..chunked.len() - 3], false),
            Parsed::Incomplete { .. }
        ));
        assert!(matches!(
            parse(b"SSH-2.0\r\n\r\n", false),
            Parsed::Malformed
        ));
        assert_eq!(cut(b""), Outcome::Unanswered);
        assert_eq!(cut(b"HTTP/1.1 2"), Outcome::Truncated);
    }

    fn record(start_ms: u64, latency_ms: u64, status: u16) -> Record {
        Record {
            label: "t",
            start: Duration::from_millis(start_ms),
            latency: Duration::from_millis(latency_ms),
            outcome: Outcome::Answered(status),
            reused: true,
            answer: None,
        }
    }

    #[test]
    fn fault_figures_from_records() {
        let records = Records(vec![
            record(0, 1, 200),
            record(100, 5, 503),
            record(200, 5, 503),
            record(300, 1, 200),
            record(400, 2, 503),
            record(500, 3, 200),
            record(600, 1, 200),
        ]);
        let window = FaultWindow {
            fault_at: Duration::from_millis(50),
            back_at: Duration::from_millis(350),
            until: Duration::from_millis(700),
        };
        let figures = records.fault("db stop", &window, |r| !r.ok());
        assert_eq!(figures.requests, 6);
        assert_eq!(figures.failed, 3);
        assert_eq!(figures.detect, Some(Duration::from_millis(55)));
        assert_eq!(figures.recover, Some(Duration::from_millis(153)));
        let calm = records.fault(
            "none",
            &FaultWindow {
                fault_at: Duration::from_millis(550),
                ..window
            },
            |r| !r.ok(),
        );
        assert_eq!((calm.failed, calm.detect, calm.recover), (0, None, None));
    }

    #[test]
    fn a_local_server_is_loaded_within_bounds() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        thread::spawn(move || {
            for stream in listener.incoming().take(4) {
                let mut stream = stream.unwrap();
                thread::spawn(move || {
                    let mut buf = [0u8; 1024];
                    while let Ok(n) = stream.read(&mut buf) {
                        if n == 0
                            || stream
                                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                                .is_err()
                        {
                            break;
                        }
                    }
                });
            }
        });
        let mut plan = Plan::new(port, |n| Request::get("read", format!("/{n}")));
        plan.concurrency = 2;
        plan.rate = None;
        plan.max_requests = 50;
        plan.duration = Duration::from_secs(10);
        let records = Load::run(plan);
        assert_eq!(records.len(), 50);
        assert_eq!(records.failed(), 0, "{:?}", records.outcomes());
        assert!(records.iter().filter(|r| r.reused).count() >= 48);
    }
}
