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

fn client() -> reqwest::Client {
    kit::http_client::build(
        "test",
        kit::http_client::Timeouts {
            connect: Duration::from_secs(1),
            total: Duration::from_secs(5),
        },
    )
    .expect("a client")
}

#[tokio::test]
async fn an_answer_carries_status_and_body() {
    let base = serve(Router::new().route("/", get(|| async { "olá" }))).await;
    match fetch(&client(), &format!("{base}/"), Duration::from_secs(2)).await {
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
    let outcome = fetch(
        &client(),
        &format!("http://{addr}/"),
        Duration::from_secs(2),
    )
    .await;
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
    let outcome = fetch(&client(), &format!("{base}/"), Duration::from_millis(200)).await;
    assert!(matches!(outcome, Outcome::TimedOut(_)), "{outcome:?}");
    assert_eq!(outcome.exit_code(), 28);
}

#[tokio::test]
async fn an_unknown_name_is_reported_as_such() {
    let outcome = fetch(
        &client(),
        "http://no-such-host.invalid/",
        Duration::from_secs(3),
    )
    .await;
    assert!(matches!(outcome, Outcome::UnknownHost), "{outcome:?}");
    assert_eq!(outcome.exit_code(), 6);
}
