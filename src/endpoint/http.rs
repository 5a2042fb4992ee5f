//! Any HTTP inference server: `http://` through one hyper HTTP/1.1 connection per in-flight
//! slot (the shard owns it, see [`Slot`]), `https://` through a pooled reqwest client (rustls).
//!
//! The request is built once per target (method, origin-form URI, headers with `Host`); each
//! send copies that template around the body. The timeout is one timer per slot, re-armed
//! only when it fires (the deadline itself is a plain `Instant` per request).

pub(crate) use super::h1::HttpFailure;
use super::h1::{self, Link, RequestHead};
use super::variants::VariantNames;
use super::{Endpoint, EndpointError, Reply, Slot};
use crate::sample::{ErrorKind, Excerpt, Failure};
use bytes::Bytes;
use reqwest::header::{CONTENT_TYPE, HOST, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Client, Method, Url};
use std::collections::BTreeMap;
use std::pin::Pin;
use std::time::Duration;
use tokio::time::{Instant, Sleep};

/// Settings shared by every HTTP target of a run.
#[derive(Clone, Debug)]
pub struct ClientSettings {
    /// Per-request timeout.
    pub timeout: Duration,
    /// Most requests in flight at once: the connection pool keeps this many alive.
    pub max_in_flight: usize,
}

/// The clients a run shares: the reqwest pool (`https://`, asynchronous inference) and the
/// timeouts of the per-slot connections of `http://` targets.
#[derive(Clone, Debug)]
pub struct HttpClient {
    pooled: Client,
    timeout: Duration,
    connect_timeout: Duration,
}

impl HttpClient {
    /// The pooled reqwest client (keep-alive, rustls, no proxies).
    pub fn reqwest(&self) -> Client {
        self.pooled.clone()
    }
}

/// Builds the clients a run shares: keep-alive pool sized to the load, no proxies.
pub fn client(settings: &ClientSettings) -> Result<HttpClient, EndpointError> {
    let connect_timeout = settings.timeout.min(Duration::from_secs(10));
    let pooled = Client::builder()
        .timeout(settings.timeout)
        .connect_timeout(connect_timeout)
        .pool_max_idle_per_host(settings.max_in_flight.max(1))
        .pool_idle_timeout(Duration::from_secs(90))
        .tcp_nodelay(true)
        .http1_only()
        .no_proxy()
        .build()
        .map_err(|e| EndpointError::Setup {
            target: "http".into(),
            reason: e.to_string(),
        })?;
    Ok(HttpClient {
        pooled,
        timeout: settings.timeout,
        connect_timeout,
    })
}

/// One URL with its method and headers.
#[derive(Clone, Debug)]
pub struct HttpEndpoint {
    client: HttpClient,
    method: Method,
    url: Url,
    headers: HeaderMap,
    /// `host:port` and the encoded request head of an `http://` URL; `None` for
    /// `https://`, which goes through the pooled client.
    plain: Option<(String, RequestHead)>,
    variants: std::sync::Arc<VariantNames>,
}

/// One slot's keep-alive connection and its timeout timer.
pub struct Conn {
    link: Option<Link>,
    timer: Pin<Box<Sleep>>,
    /// When the last exchange's whole answer was received, after its send, when the kernel
    /// timestamped it: an error answer read late is timed by it too.
    answered_after: Option<Duration>,
}

impl Conn {
    /// See [`Slot::answered_after`].
    pub(crate) fn answered_after(&self) -> Option<Duration> {
        self.answered_after
    }
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn")
            .field("open", &self.link.is_some())
            .finish()
    }
}

impl HttpEndpoint {
    /// A target for `url`; `headers` are sent with every request.
    pub fn new(
        client: HttpClient,
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
        let plain = match url.scheme() {
            "http" => Some(plain_parts(&url, method.as_str(), &mut map).map_err(setup)?),
            _ => None,
        };
        Ok(HttpEndpoint {
            client,
            method,
            url,
            headers: map,
            plain,
            variants: Default::default(),
        })
    }

    /// One exchange in `slot`: on its connection for `http://`, through the pool otherwise.
    async fn exchange_in(&self, slot: &mut Slot, body: Bytes) -> Result<Reply, HttpFailure> {
        let Some((authority, head)) = &self.plain else {
            // Boxed: reqwest's future would otherwise size every slot's exchange.
            return Box::pin(self.exchange_pooled(body)).await;
        };
        let started = Instant::now();
        let deadline = started + self.client.timeout;
        let harvest = slot.harvest.as_ref();
        let Conn {
            link,
            timer,
            answered_after,
        } = slot.http.get_or_insert_with(|| Conn {
            link: None,
            timer: Box::pin(tokio::time::sleep_until(deadline)),
            answered_after: None,
        });
        let work = async {
            // A connection the server closed while idle is replaced before anything is
            // written on it.
            if !link.as_mut().is_some_and(Link::is_reusable) {
                *link = None;
            }
            let open = match link {
                Some(open) => open,
                None => {
                    let connect = Link::connect(authority, self.client.connect_timeout, harvest);
                    link.insert(Box::pin(connect).await?)
                }
            };
            open.exchange(head, &body, &self.variants).await
        };
        let result = h1::within(timer, deadline, work).await;
        // Only a whole answer has an end; a timeout or a cut answer ends when it is seen.
        let whole = matches!(result, Ok(_) | Err(HttpFailure::Status(_)));
        *answered_after = link
            .as_ref()
            .filter(|_| whole)
            .and_then(|open| open.received_after(started));
        if link.as_ref().is_some_and(|open| !open.is_kept()) {
            // Its answer closed it, or a failure or the timeout left it mid-message: close
            // it now rather than at its next use. (An answer read to its end, error
            // status or not, keeps it.)
            *link = None;
        }
        result
    }

    async fn exchange_pooled(&self, body: Bytes) -> Result<Reply, HttpFailure> {
        let response = self
            .client
            .pooled
            .request(self.method.clone(), self.url.clone())
            .headers(self.headers.clone())
            .body(body)
            .send()
            .await?;
        let variant = h1::variant_of(&self.variants, response.headers());
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

/// `host:port` of an `http://` URL and its request head (with `Host`, which also goes
/// into `headers` for the pooled client).
fn plain_parts(
    url: &Url,
    method: &str,
    headers: &mut HeaderMap,
) -> Result<(String, RequestHead), String> {
    let host = url.host_str().ok_or("the URL has no host")?;
    let port = url.port_or_known_default().unwrap_or(80);
    // `host_str` keeps an IPv6 address in brackets, as `connect` wants it.
    let authority = format!("{host}:{port}");
    let host_header = match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    };
    let value = HeaderValue::from_str(&host_header).map_err(|_| "bad host".to_string())?;
    headers.entry(HOST).or_insert(value);
    let path = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    let lines = headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes()));
    Ok((authority, RequestHead::new(method, &path, lines)))
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

/// Maps a failure to its class; the one place this target classifies errors. A client
/// failure keeps the client's message (written inline, no allocation).
pub(crate) fn classify(failure: HttpFailure) -> Failure {
    let e = match failure {
        HttpFailure::Status(f) => return f,
        HttpFailure::Client(e) => e,
        HttpFailure::Connect(e) => return io_failure(ErrorKind::Connect, &e),
        HttpFailure::Timeout => {
            return Failure {
                kind: ErrorKind::Timeout,
                status: None,
                excerpt: Excerpt::of("no answer within the timeout"),
            };
        }
        HttpFailure::Io(e) => return io_failure(ErrorKind::Io, &e),
        HttpFailure::Closed => {
            return Failure {
                kind: ErrorKind::Io,
                status: None,
                excerpt: Excerpt::of("the connection closed before the answer was complete"),
            };
        }
        HttpFailure::Malformed(why) => {
            let mut excerpt = Excerpt::of("unreadable HTTP/1.1 answer: ");
            excerpt.push(why.0.as_bytes());
            return Failure {
                kind: ErrorKind::Io,
                status: None,
                excerpt,
            };
        }
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

/// A failure of class `kind` with the error chain as its excerpt.
fn io_failure(kind: ErrorKind, e: &dyn std::error::Error) -> Failure {
    let mut excerpt = Excerpt::default();
    chain_into(e, &mut excerpt);
    Failure {
        kind,
        status: None,
        excerpt,
    }
}

/// What to do about an HTTP target refusing the credentials.
const HTTP_REMEDY: &str = "check the credentials in `[target] headers` (e.g. `Authorization`) \
                           and that they are allowed to call this URL";

impl Endpoint for HttpEndpoint {
    async fn request(&self, body: Bytes) -> Result<Reply, Failure> {
        self.exchange_in(&mut Slot::default(), body)
            .await
            .map_err(classify)
    }

    async fn request_in(&self, slot: &mut Slot, body: Bytes) -> Result<Reply, Failure> {
        self.exchange_in(slot, body).await.map_err(classify)
    }

    async fn probe(&self, body: Bytes) -> Result<(), EndpointError> {
        let result = self.exchange_in(&mut Slot::default(), body).await;
        probe_result(result.map(drop), &self.describe())
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
        Err(HttpFailure::Connect(e)) => Err(EndpointError::Unreachable {
            target: target.to_string(),
            reason: error_chain(&e),
        }),
        Err(HttpFailure::Timeout) => Err(EndpointError::Unreachable {
            target: target.to_string(),
            reason: "no answer within the timeout".into(),
        }),
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
