//! A small HTTP server for tests: fixed delay, chosen statuses, an optional stall, failures
//! after the first requests, a mix of error answers, 403 and 404 pages.
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
    /// `POST /ok` answers 503 with a message after this many requests.
    pub fail_after: Option<u64>,
}

struct Shared {
    behaviour: Behaviour,
    received: AtomicU64,
    content_types: std::sync::Mutex<std::collections::BTreeSet<String>>,
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
            content_types: Default::default(),
            first: OnceCell::new(),
        });
        let app = Router::new()
            .route("/ok", post(ok))
            .route("/status/{code}", post(status))
            .route("/flaky", post(flaky))
            .route("/denied", post(denied))
            .route("/endpoints/{name}/invocations", post(invocation))
            .fallback(not_found)
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

    /// The distinct `Content-Type` headers `POST /ok` received so far.
    pub fn content_types(&self) -> Vec<String> {
        let seen = self.shared.content_types.lock().unwrap();
        seen.iter().cloned().collect()
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

async fn ok(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> (StatusCode, String) {
    let n = s.received.fetch_add(1, Ordering::SeqCst);
    if let Some(ct) = headers.get("content-type").and_then(|v| v.to_str().ok()) {
        s.content_types.lock().unwrap().insert(ct.to_string());
    }
    if s.behaviour.fail_after.is_some_and(|after| n >= after) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "model worker crashed".into(),
        );
    }
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

/// Request n: a third succeed (the first among them), a third are 422 with one of five
/// messages, a third 415.
async fn flaky(State(s): State<Arc<Shared>>) -> (StatusCode, String) {
    let n = s.received.fetch_add(1, Ordering::SeqCst);
    match n % 3 {
        0 => (StatusCode::OK, "{}".into()),
        1 => (
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("Input should be a valid dictionary (case {})", n / 3 % 5),
        ),
        _ => (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported Content-Type: use application/json".into(),
        ),
    }
}

/// 403 with a body that names no AWS error code, as a gateway or proxy answers.
async fn denied(State(s): State<Arc<Shared>>) -> (StatusCode, &'static str) {
    s.received.fetch_add(1, Ordering::SeqCst);
    (
        StatusCode::FORBIDDEN,
        "<html><body>403 Forbidden: not allowed</body></html>",
    )
}

/// 404 naming the path, as most servers answer a wrong URL.
async fn not_found(State(s): State<Arc<Shared>>, uri: axum::http::Uri) -> (StatusCode, String) {
    s.received.fetch_add(1, Ordering::SeqCst);
    (
        StatusCode::NOT_FOUND,
        format!("no route for {}", uri.path()),
    )
}

/// SageMaker's `InvokeEndpoint` path: endpoint `failing` answers 500 InternalFailure, any
/// other 403 with no AWS error code.
async fn invocation(
    state: State<Arc<Shared>>,
    axum::extract::Path(name): axum::extract::Path<String>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if name == "failing" {
        internal_failure(state).await.into_response()
    } else {
        denied(state).await.into_response()
    }
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
