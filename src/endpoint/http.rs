//! Any HTTP inference server, through a pooled reqwest client (rustls, keep-alive).

use super::{Endpoint, EndpointError, Reply};
use crate::sample::{ErrorKind, Excerpt, Failure};
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

    async fn exchange(&self, body: Bytes) -> Result<Reply, HttpFailure> {
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
            tokens: None,
        })
    }
}

/// Reads a whole answer, counting body bytes without keeping them; an error status becomes
/// a classified [`HttpFailure::Status`] with the first bytes of its body (and, for a
/// redirect, where it points), copied inline: nothing is allocated for it.
pub(crate) async fn read_answer(
    mut response: reqwest::Response,
) -> Result<(reqwest::StatusCode, u64), HttpFailure> {
    let status = response.status();
    let mut bytes_in = 0u64;
    let mut excerpt = Excerpt::default();
    if let Some(location) = response
        .headers()
        .get(reqwest::header::LOCATION)
        .filter(|_| status.is_redirection())
    {
        excerpt.push(b"Location: ");
        excerpt.push(location.as_bytes());
        excerpt.push(b" ");
    }
    while let Some(chunk) = response.chunk().await? {
        bytes_in += chunk.len() as u64;
        if !status.is_success() && !excerpt.is_full() {
            excerpt.push(&chunk);
        }
    }
    if status.is_success() {
        return Ok((status, bytes_in));
    }
    let error_type = response
        .headers()
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok());
    Err(HttpFailure::Status(Failure {
        kind: ErrorKind::from_http(status.as_u16(), error_type),
        status: Some(status.as_u16()),
        excerpt,
    }))
}

/// How one exchange failed: an error answer, or no answer.
#[derive(Debug)]
pub(crate) enum HttpFailure {
    /// The server answered with an error status (or an unusable answer), already classified.
    Status(Failure),
    /// The client gave up: timeout, connect or I/O failure.
    Client(reqwest::Error),
}

impl HttpFailure {
    /// An unusable answer of class `kind`, saying why.
    pub(crate) fn answer(kind: ErrorKind, status: Option<u16>, why: &str) -> HttpFailure {
        HttpFailure::Status(Failure {
            kind,
            status,
            excerpt: Excerpt::of(why),
        })
    }
}

impl From<reqwest::Error> for HttpFailure {
    fn from(e: reqwest::Error) -> HttpFailure {
        HttpFailure::Client(e)
    }
}

/// Maps a failure to its class; the one place this target classifies errors. A client
/// failure keeps the client's message (written inline, no allocation).
pub(crate) fn classify(failure: HttpFailure) -> Failure {
    let e = match failure {
        HttpFailure::Status(f) => return f,
        HttpFailure::Client(e) => e,
    };
    let kind = if e.is_timeout() {
        ErrorKind::Timeout
    } else if e.is_connect() {
        ErrorKind::Connect
    } else if e.is_redirect() {
        ErrorKind::Http3xx
    } else {
        ErrorKind::Io
    };
    let mut excerpt = Excerpt::default();
    chain_into(&e, &mut excerpt);
    Failure {
        kind,
        status: e.status().map(|s| s.as_u16()),
        excerpt,
    }
}

/// What to do about an HTTP target refusing the credentials.
const HTTP_REMEDY: &str = "check the credentials in `[target] headers` (e.g. `Authorization`) \
                           and that they are allowed to call this URL";

impl Endpoint for HttpEndpoint {
    async fn request(&self, body: Bytes) -> Result<Reply, Failure> {
        self.exchange(body).await.map_err(classify)
    }

    async fn probe(&self, body: Bytes) -> Result<(), EndpointError> {
        probe_result(self.exchange(body).await.map(drop), &self.describe())
    }

    fn describe(&self) -> String {
        format!("{} {}", self.method, self.url)
    }

    fn variant_names(&self) -> Vec<String> {
        self.variants.names()
    }
}

/// The probe's verdict on one exchange: a success, an unreachable target, or an answer that
/// was not a success.
pub(crate) fn probe_result(
    result: Result<(), HttpFailure>,
    target: &str,
) -> Result<(), EndpointError> {
    match result {
        Ok(()) => Ok(()),
        Err(HttpFailure::Client(e)) if e.is_connect() || e.is_timeout() => {
            Err(EndpointError::Unreachable {
                target: target.to_string(),
                reason: error_chain(&e),
            })
        }
        Err(failure) => Err(EndpointError::probe_failed(
            target,
            &classify(failure),
            None,
            HTTP_REMEDY,
        )),
    }
}

/// Writes an error and its sources into `out`, as far as it holds.
pub(crate) fn chain_into(e: &dyn std::error::Error, out: &mut Excerpt) {
    use std::fmt::Write as _;
    let _ = write!(out, "{e}");
    let mut source = e.source();
    while let Some(s) = source {
        if out.is_full() {
            break;
        }
        let _ = write!(out, ": {s}");
        source = s.source();
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
