//! `fetch` against a real local server: what each failure is called.

use std::time::Duration;

use axum::{routing::get, Router};
use fetch::{fetch, Outcome};

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let addr = listener.local_addr().expect("a bound address");
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}")
}

fn client() -> fetch::Client {
    kit::client::pooled(Duration::from_secs(1))
}

/// `fetch` of a URL given as text, as the command line gives it.
async fn fetch_text(url: &str, timeout: Duration) -> Outcome {
    let url = fetch::parse_url(url).expect("an http:// URL");
    fetch(&client(), &url, timeout).await
}

#[tokio::test]
async fn an_answer_carries_status_and_body() {
    let base = serve(Router::new().route("/", get(|| async { "olá" }))).await;
    match fetch_text(&format!("{base}/"), Duration::from_secs(2)).await {
        Outcome::Answered { status, body, .. } => {
            assert_eq!(status, 200);
            assert_eq!(body, "olá");
        }
        other => panic!("expected an answer, got {other:?}"),
    }
}

#[tokio::test]
async fn a_closed_port_is_refused() {
    // Bind then drop: the port is now free and nothing listens on it.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let outcome = fetch_text(&format!("http://{addr}/"), Duration::from_secs(2)).await;
    assert!(matches!(outcome, Outcome::Refused), "{outcome:?}");
    assert_eq!(outcome.exit_code(), 7);
}

#[tokio::test]
async fn a_slow_server_times_out() {
    let base = serve(Router::new().route(
        "/",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            "late"
        }),
    ))
    .await;
    let outcome = fetch_text(&format!("{base}/"), Duration::from_millis(200)).await;
    assert!(matches!(outcome, Outcome::TimedOut(_)), "{outcome:?}");
    assert_eq!(outcome.exit_code(), 28);
}

#[tokio::test]
async fn an_unknown_name_is_reported_as_such() {
    let outcome = fetch_text("http://no-such-host.invalid/", Duration::from_secs(3)).await;
    assert!(matches!(outcome, Outcome::UnknownHost), "{outcome:?}");
    assert_eq!(outcome.exit_code(), 6);
}

#[tokio::test]
async fn an_answer_over_the_bound_is_a_failure_not_memory_held() {
    let big = "x".repeat(fetch::MAX_BODY_BYTES + 1);
    let base = serve(Router::new().route("/", get(move || async move { big }))).await;
    let outcome = fetch_text(&format!("{base}/"), Duration::from_secs(5)).await;
    match &outcome {
        Outcome::Failed(reason) => assert!(reason.contains("bytes"), "{reason}"),
        other => panic!("expected a failure, got {other:?}"),
    }
    assert_eq!(outcome.exit_code(), 1);
}

#[tokio::test]
async fn a_server_that_does_not_speak_http_is_a_failure_with_the_reason() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        let (mut socket, _) = listener.accept().await.unwrap();
        socket.write_all(b"SSH-2.0-OpenSSH\r\n").await.unwrap();
    });
    let outcome = fetch_text(&format!("http://{addr}/"), Duration::from_secs(2)).await;
    match &outcome {
        Outcome::Failed(reason) => assert!(!reason.is_empty()),
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn only_http_urls_with_a_host_are_taken() {
    assert!(fetch::parse_url("http://flask-server:8080/").is_ok());
    let https = fetch::parse_url("https://example.com/").unwrap_err();
    assert!(https.contains("only http://"), "{https}");
    for bad in ["localhost:8080", "/health", "flask server", ""] {
        assert!(fetch::parse_url(bad).is_err(), "{bad}");
    }
}
