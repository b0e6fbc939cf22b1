//! A tiny curl, in three modes, on hyper-util's client (the gateway's).
//!
//! * Once (no interval): GET the URL, print the body to stdout, exit 0 on a
//!   2xx/3xx answer and with curl's exit codes otherwise (3 malformed URL,
//!   7 refused, 6 name not resolved, 28 timeout, 22 HTTP error). A `FROM
//!   scratch` image has no shell and no curl, so this is what its
//!   HEALTHCHECK runs.
//! * Ping (`--ping db` or `--ping db:5432`): what `ping db` tells a learner
//!   in an image that has it (the name resolves, on this network), plus
//!   whether the port takes a connection. Our images are `FROM scratch` and
//!   ICMP needs a capability they drop, so this is the way to look.
//! * Polling (`--interval 5s`): Desafio 1's client. One readable line per
//!   attempt, so `docker logs -f` tells the story, and failures are reported
//!   and survived: the loop never stops because the server is away.

use std::{
    error::Error,
    time::{Duration, Instant},
};

use chrono::Utc;
use http_body_util::{BodyExt, Empty, LengthLimitError, Limited};
use hyper::{body::Bytes, header, Request, StatusCode, Uri};

/// kit's pooled client (the gateway's): a GET has no body. Build one with
/// `kit::client::pooled(connect_timeout)`.
pub type Client = kit::client::Pooled<Empty<Bytes>>;

/// The largest body kept from an answer: enough for any page here, and a
/// bound on what a misbehaving server can make a 16 MiB container hold.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// `url` as a URI this client can fetch: `http://host[:port]/path`. These
/// images carry no TLS, so `https://` is refused here, with the reason,
/// rather than failing later on every attempt.
pub fn parse_url(url: &str) -> Result<Uri, String> {
    let uri: Uri = url
        .parse()
        .map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    match (uri.scheme_str(), uri.host()) {
        (Some("http"), Some(_)) => Ok(uri),
        (Some("https"), _) => Err(format!("{url}: only http:// URLs (no TLS here)")),
        _ => Err(format!("{url:?}: expected http://host[:port]/path")),
    }
}

/// What one attempt came to.
#[derive(Debug)]
pub enum Outcome {
    /// The server answered (any status).
    Answered {
        status: StatusCode,
        body: String,
        elapsed: Duration,
    },
    /// Nothing listens at the address: the server is down or still starting.
    Refused,
    /// The name does not resolve: wrong name, or not on the same network.
    UnknownHost,
    /// No answer within the timeout.
    TimedOut(Duration),
    /// Anything else (a reset connection, a malformed answer).
    Failed(String),
}

impl Outcome {
    /// curl's exit code for the same situation, so scripts written for curl
    /// read this one the same way.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Answered { status, .. } if status.as_u16() < 400 => 0,
            Self::Answered { .. } => 22,
            Self::UnknownHost => 6,
            Self::Refused => 7,
            Self::TimedOut(_) => 28,
            Self::Failed(_) => 1,
        }
    }
}

/// One GET of `url`, classified; `timeout` bounds the whole attempt, from
/// the connection to the body's last byte.
pub async fn fetch(client: &Client, url: &Uri, timeout: Duration) -> Outcome {
    let started = Instant::now();
    let attempt = async {
        let request = Request::get(url.clone())
            .header(
                header::USER_AGENT,
                concat!("fetch/", env!("CARGO_PKG_VERSION")),
            )
            .body(Empty::new())?;
        let response = client.request(request).await?;
        let status = response.status();
        let body = Limited::new(response.into_body(), MAX_BODY_BYTES);
        let body = body.collect().await?.to_bytes();
        Ok::<_, Box<dyn Error + Send + Sync>>((status, body))
    };
    match tokio::time::timeout(timeout, attempt).await {
        Ok(Ok((status, body))) => Outcome::Answered {
            status,
            body: String::from_utf8_lossy(&body).into_owned(),
            elapsed: started.elapsed(),
        },
        Ok(Err(e)) => classify(&*e, timeout),
        Err(_) => Outcome::TimedOut(timeout),
    }
}

fn classify(error: &(dyn Error + 'static), timeout: Duration) -> Outcome {
    // The client wraps the cause; walk the chain for what a learner can act
    // on, and keep every step's words for anything else.
    let mut source = Some(error);
    let mut words = Vec::new();
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => return Outcome::Refused,
                std::io::ErrorKind::TimedOut => return Outcome::TimedOut(timeout),
                _ => {}
            }
        }
        if cause.is::<LengthLimitError>() {
            return Outcome::Failed(format!("answer over {MAX_BODY_BYTES} bytes"));
        }
        let text = cause.to_string();
        if text == "dns error" {
            return Outcome::UnknownHost;
        }
        words.push(text);
        source = cause.source();
    }
    Outcome::Failed(words.join(": "))
}

/// `fetch --ping HOST[:PORT]`: resolves HOST and, given a PORT, opens a TCP
/// connection to it. The line to print, and curl's exit code for the same
/// failure (6 not resolved, 7 refused, 28 timed out).
pub async fn ping(target: &str, timeout: Duration) -> (String, u8) {
    let (host, port) = match target.rsplit_once(':') {
        Some((host, port)) => match port.parse::<u16>() {
            Ok(port) => (host, Some(port)),
            Err(_) => return (format!("{target}: {port:?} is not a port"), 2),
        },
        None => (target, None),
    };
    let resolved =
        tokio::time::timeout(timeout, tokio::net::lookup_host((host, port.unwrap_or(0))));
    let addrs: Vec<std::net::SocketAddr> = match resolved.await {
        Ok(Ok(addrs)) => addrs.collect(),
        Ok(Err(_)) => return (format!("{host}: nome não resolvido (está nesta rede?)"), 6),
        Err(_) => {
            return (
                format!("{host}: sem resposta do DNS em {}", humanize(timeout)),
                28,
            )
        }
    };
    let ips: Vec<String> = addrs.iter().map(|a| a.ip().to_string()).collect();
    let mut line = format!("{host} ({})", ips.join(", "));
    let (Some(port), Some(first)) = (port, addrs.first()) else {
        return (line, 0);
    };
    let started = Instant::now();
    match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(first)).await {
        Ok(Ok(_)) => {
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            line.push_str(&format!(": porta {port} aceitou a conexão em {ms:.1} ms"));
            (line, 0)
        }
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            line.push_str(&format!(": porta {port} recusou a conexão"));
            (line, 7)
        }
        Ok(Err(e)) => {
            line.push_str(&format!(": porta {port}: {e}"));
            (line, 1)
        }
        Err(_) => {
            line.push_str(&format!(
                ": porta {port} sem resposta em {}",
                humanize(timeout)
            ));
            (line, 28)
        }
    }
}

/// What the polling client prints for attempt number `attempt`: the
/// write-up's client's own words first (`✅ Requisição bem-sucedida!` and
/// `Request Number: N`, `❌ Não foi possível conectar ao servidor. Tentando
/// novamente...`, `⏱️ Timeout na requisição`), then the detail.
pub fn describe(attempt: u64, url: &str, outcome: &Outcome, interval: Duration) -> String {
    let now = Utc::now().format("%Y-%m-%d %H:%M:%S");
    let retry = humanize(interval);
    let unreachable = "❌ Não foi possível conectar ao servidor. Tentando novamente...";
    match outcome {
        Outcome::Answered {
            status,
            body,
            elapsed,
        } => {
            let ms = elapsed.as_secs_f64() * 1000.0;
            let detail = summary(body);
            if status.is_success() {
                let number = request_number(body).unwrap_or_else(|| "-".into());
                format!(
                    "✅ Requisição bem-sucedida! #{attempt} [{now}] {status} em {ms:.1} ms | {detail}\n\
                     Request Number: {number}"
                )
            } else {
                format!("⚠️  #{attempt} [{now}] {status} em {ms:.1} ms | {detail}")
            }
        }
        Outcome::Refused => format!(
            "{unreachable} #{attempt} [{now}] conexão recusada em {url}: servidor parado ou iniciando; nova tentativa em {retry}"
        ),
        Outcome::UnknownHost => format!(
            "{unreachable} #{attempt} [{now}] nome não resolvido em {url}: o servidor está na mesma rede? Nova tentativa em {retry}"
        ),
        Outcome::TimedOut(t) => format!(
            "⏱️ Timeout na requisição #{attempt} [{now}] sem resposta em {} de {url}; nova tentativa em {retry}",
            humanize(*t)
        ),
        Outcome::Failed(reason) => {
            format!("❌ #{attempt} [{now}] falha em {url}: {reason}; nova tentativa em {retry}")
        }
    }
}

/// `request_number` of a Desafio 1 answer, as text.
fn request_number(body: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    Some(value.get("request_number")?.to_string())
}

/// The fields that tell the story of Desafio 1 (which request, which
/// container), or the start of the body for anything else.
fn summary(body: &str) -> String {
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str(body) {
        let mut parts = Vec::new();
        for key in ["request_number", "container_name"] {
            if let Some(value) = map.get(key) {
                let text = value
                    .as_str()
                    .map_or_else(|| value.to_string(), str::to_owned);
                parts.push(format!("{key}={text}"));
            }
        }
        if !parts.is_empty() {
            return parts.join(" ");
        }
    }
    let mut text: String = body.chars().take(120).collect();
    if text.len() < body.len() {
        text.push('…');
    }
    text.replace('\n', " ")
}

fn humanize(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_curl() {
        let ok = Outcome::Answered {
            status: StatusCode::OK,
            body: String::new(),
            elapsed: Duration::ZERO,
        };
        let missing = Outcome::Answered {
            status: StatusCode::NOT_FOUND,
            body: String::new(),
            elapsed: Duration::ZERO,
        };
        assert_eq!(ok.exit_code(), 0);
        assert_eq!(missing.exit_code(), 22);
        assert_eq!(Outcome::Refused.exit_code(), 7);
        assert_eq!(Outcome::UnknownHost.exit_code(), 6);
        assert_eq!(Outcome::TimedOut(Duration::from_secs(5)).exit_code(), 28);
    }

    #[tokio::test]
    async fn ping_resolves_and_says_whether_the_port_takes_a_connection() {
        let second = Duration::from_secs(1);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let open = listener.local_addr().unwrap().port();
        let (line, code) = ping(&format!("localhost:{open}"), second).await;
        assert_eq!(code, 0, "{line}");
        assert!(line.contains(&format!("porta {open} aceitou")), "{line}");
        drop(listener);
        let (line, code) = ping(&format!("127.0.0.1:{open}"), second).await;
        assert_eq!((code, line.contains("recusou")), (7, true), "{line}");
        let (line, code) = ping("localhost", second).await;
        assert_eq!(code, 0, "{line}");
        assert!(line.starts_with("localhost ("), "{line}");
        let (line, code) = ping("localhost:http", second).await;
        assert_eq!(code, 2, "{line}");
    }

    #[test]
    fn a_desafio1_answer_is_summarised_by_its_story_fields() {
        let body = r#"{"message":"oi","request_number":7,"container_name":"abc","port":8080}"#;
        let text = summary(body);
        assert!(text.contains("request_number=7"), "{text}");
        assert!(text.contains("container_name=abc"), "{text}");
        assert!(!text.contains("8080") && !text.contains("oi"), "{text}");
    }

    #[test]
    fn other_bodies_are_cut_to_one_line() {
        let text = summary(&"line\n".repeat(100));
        assert!(!text.contains('\n'));
        assert!(text.ends_with('…'));
    }

    #[test]
    fn lines_start_with_the_write_ups_words_and_say_when_the_next_try_comes() {
        let five = Duration::from_secs(5);
        let line = describe(3, "http://x:1/", &Outcome::Refused, five);
        assert!(
            line.starts_with("❌ Não foi possível conectar ao servidor. Tentando novamente... #3 "),
            "{line}"
        );
        assert!(
            line.contains("conexão recusada") && line.contains("5s"),
            "{line}"
        );
        let timed_out = Outcome::TimedOut(Duration::from_millis(1500));
        let line = describe(4, "http://x:1/", &timed_out, five);
        assert!(line.starts_with("⏱️ Timeout na requisição #4 "), "{line}");
        assert!(line.contains("1500ms"), "{line}");
        let answered = Outcome::Answered {
            status: StatusCode::OK,
            body: r#"{"request_number":7,"container_name":"abc"}"#.into(),
            elapsed: Duration::from_millis(2),
        };
        let text = describe(5, "http://x:1/", &answered, five);
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[0].starts_with("✅ Requisição bem-sucedida! #5 "),
            "{text}"
        );
        assert_eq!(lines[1], "Request Number: 7");
    }
}
