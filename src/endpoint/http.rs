//! Any HTTP inference server, through a pooled reqwest client (rustls, keep-alive).

use super::{Endpoint, EndpointError, Reply};
use crate::sample::ErrorKind;
use bytes::Bytes;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Client, Method, Url};
use std::collections::BTreeMap;
use std::time::Duration;

/// Settings shared by every HTTP target of a run.
#[derive(Clone, Debug)]
pub struct ClientSettings {
    /// Per-request timeout.
    pub timeout: Duration,
    /// Most requests in flight at once: the connection pool keeps this many alive.
    pub max_in_flight: usize,
}

/// Builds the one client a run shares: keep-alive pool sized to the load, no proxies.
pub fn client(settings: &ClientSettings) -> Result<Client, EndpointError> {
    Client::builder()
        .timeout(settings.timeout)
        .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
        .pool_max_idle_per_host(settings.max_in_flight.max(1))
        .pool_idle_timeout(Duration::from_secs(90))
        .tcp_nodelay(true)
        .http1_only()
        .no_proxy()
        .build()
        .map_err(|e| EndpointError::Setup {
            target: "http".into(),
            reason: e.to_string(),
        })
}

/// One URL with its method and headers.
#[derive(Clone, Debug)]
pub struct HttpEndpoint {
    client: Client,
    method: Method,
    url: Url,
    headers: HeaderMap,
    variants: std::sync::Arc<super::variants::VariantNames>,
}

impl HttpEndpoint {
    /// A target for `url`; `headers` are sent with every request.
    pub fn new(
        client: Client,
        method: &str,
        url: &str,
        content_type: &str,
        headers: &BTreeMap<String, String>,
    ) -> Result<HttpEndpoint, EndpointError> {
        let setup = |reason: String| EndpointError::Setup {
            target: url.to_string(),
            reason,
        };
        let url = Url::parse(url).map_err(|e| setup(format!("bad URL: {e}")))?;
        let method = Method::from_bytes(method.as_bytes())
            .map_err(|_| setup(format!("bad method `{method}`")))?;
        let mut map = HeaderMap::new();
        let value = HeaderValue::from_str(content_type).map_err(|_| {
            setup(format!(
                "payload.content_type `{content_type}` is not a header value"
            ))
        })?;
        map.insert(CONTENT_TYPE, value);
        for (name, value) in headers {
            let n = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| setup(format!("target.headers: `{name}` is not a header name")))?;
            let v = HeaderValue::from_str(value)
                .map_err(|_| setup(format!("target.headers.{name}: not a header value")))?;
            map.insert(n, v);
        }
        Ok(HttpEndpoint {
            client,
            method,
            url,
            headers: map,
            variants: Default::default(),
        })
    }

    async fn exchange(&self, body: Bytes) -> Result<Reply, Failure> {
        let response = self
            .client
            .request(self.method.clone(), self.url.clone())
            .headers(self.headers.clone())
            .body(body)
            .send()
            .await?;
        let variant = response
            .headers()
            .get("x-amzn-invoked-production-variant")
            .and_then(|v| v.to_str().ok())
            .map(|name| self.variants.id(name));
        let cold_start = response.headers().contains_key("x-emulator-cold-start-ms");
        let (_, bytes_in) = read_answer(response).await?;
        Ok(Reply {
            bytes_in,
            done_after: None,
            variant,
            cold_start,
        })
    }
}

/// Reads a whole answer, counting body bytes without keeping them; an error status becomes
/// a classified [`Failure::Status`].
pub(crate) async fn read_answer(
    mut response: reqwest::Response,
) -> Result<(reqwest::StatusCode, u64), Failure> {
    let status = response.status();
    let mut bytes_in = 0u64;
    while let Some(chunk) = response.chunk().await? {
        bytes_in += chunk.len() as u64;
    }
    if status.is_success() {
        return Ok((status, bytes_in));
    }
    let error_type = response
        .headers()
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok());
    Err(Failure::Status(ErrorKind::from_http(
        status.as_u16(),
        error_type,
    )))
}

/// How one exchange failed: an error answer, or no answer.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The server answered with an error status, already classified.
    Status(ErrorKind),
    /// The client gave up: timeout, connect or I/O failure.
    Client(reqwest::Error),
}

impl From<reqwest::Error> for Failure {
    fn from(e: reqwest::Error) -> Failure {
        Failure::Client(e)
    }
}

/// Maps a failure to its class; the one place this target classifies errors.
pub(crate) fn classify(failure: Failure) -> ErrorKind {
    match failure {
        Failure::Status(kind) => kind,
        Failure::Client(e) if e.is_timeout() => ErrorKind::Timeout,
        Failure::Client(e) if e.is_connect() => ErrorKind::Connect,
        Failure::Client(_) => ErrorKind::Io,
    }
}

impl Endpoint for HttpEndpoint {
    async fn send(&self, body: Bytes) -> Result<Reply, ErrorKind> {
        self.exchange(body).await.map_err(classify)
    }

    async fn probe(&self, body: Bytes) -> Result<(), EndpointError> {
        match self.exchange(body).await {
            Err(Failure::Client(e)) if e.is_connect() || e.is_timeout() => {
                Err(EndpointError::Unreachable {
                    target: self.url.to_string(),
                    reason: error_chain(&e),
                })
            }
            _ => Ok(()),
        }
    }

    fn describe(&self) -> String {
        format!("{} {}", self.method, self.url)
    }

    fn variant_names(&self) -> Vec<String> {
        self.variants.names()
    }
}

pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
