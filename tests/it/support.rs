//! A small HTTP server for tests: fixed delay, chosen statuses, an optional stall.
//! It counts what it received so tests can check the client's accounting.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::OnceCell;
use tokio::time::Instant;

/// How the server behaves.
#[derive(Clone, Debug, Default)]
pub struct Behaviour {
    /// Delay of every answer.
    pub delay: Duration,
    /// `(start, length)`: counted from the first request, requests wait until the stall ends.
    pub stall: Option<(Duration, Duration)>,
}

struct Shared {
    behaviour: Behaviour,
    received: AtomicU64,
    first: OnceCell<Instant>,
}

/// A running test server on 127.0.0.1, port chosen by the OS.
pub struct TestServer {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl TestServer {
    /// Starts serving `POST /ok` (2xx after the delay), `POST /status/{code}` and a failing
    /// `POST /endpoints/{name}/invocations`.
    pub async fn start(behaviour: Behaviour) -> TestServer {
        let shared = Arc::new(Shared {
            behaviour,
            received: AtomicU64::new(0),
            first: OnceCell::new(),
        });
        let app = Router::new()
            .route("/ok", post(ok))
            .route("/status/{code}", post(status))
            .route("/endpoints/{name}/invocations", post(internal_failure))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        TestServer { addr, shared, task }
    }

    /// URL of a path on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Requests received so far.
    pub fn received(&self) -> u64 {
        self.shared.received.load(Ordering::SeqCst)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn ok(State(s): State<Arc<Shared>>, body: axum::body::Bytes) -> (StatusCode, String) {
    s.received.fetch_add(1, Ordering::SeqCst);
    let now = Instant::now();
    let first = *s.first.get_or_init(|| async { now }).await;
    if let Some((start, len)) = s.behaviour.stall {
        let (from, to) = (first + start, first + start + len);
        if now >= from && now < to {
            tokio::time::sleep_until(to).await;
        }
    }
    tokio::time::sleep(s.behaviour.delay).await;
    (StatusCode::OK, format!("{{\"bytes\":{}}}", body.len()))
}

async fn status(State(s): State<Arc<Shared>>, Path(code): Path<u16>) -> (StatusCode, HeaderMap) {
    s.received.fetch_add(1, Ordering::SeqCst);
    let mut headers = HeaderMap::new();
    if code == 400 {
        headers.insert(
            "x-amzn-ErrorType",
            "ThrottlingException:http://internal.amazon.com/"
                .parse()
                .unwrap(),
        );
    }
    (StatusCode::from_u16(code).unwrap(), headers)
}

/// SageMaker's `InvokeEndpoint` path, always answered 500 InternalFailure (which the SDK
/// retries), so a test can count the attempts that reached the server.
async fn internal_failure(State(s): State<Arc<Shared>>) -> (StatusCode, HeaderMap, String) {
    s.received.fetch_add(1, Ordering::SeqCst);
    let mut headers = HeaderMap::new();
    headers.insert("x-amzn-ErrorType", "InternalFailure".parse().unwrap());
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        headers,
        r#"{"message":"injected"}"#.to_string(),
    )
}

/// A plain POST target for `url` with its own client: `timeout` per request, a pool for
/// `max_in_flight` connections.
pub fn post_target(
    url: &str,
    timeout: std::time::Duration,
    max_in_flight: usize,
) -> loadtest::endpoint::http::HttpEndpoint {
    use loadtest::endpoint::http::{ClientSettings, HttpEndpoint, client};
    let http = client(&ClientSettings {
        timeout,
        max_in_flight,
    })
    .unwrap();
    HttpEndpoint::new(
        http,
        "POST",
        url,
        "application/octet-stream",
        &Default::default(),
    )
    .unwrap()
}
