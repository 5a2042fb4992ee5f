//! Where requests go: the [`Endpoint`] trait, one file per kind (HTTP, asynchronous HTTP,
//! SageMaker through the SDK), [`build`] to make them from a profile and [`emulated`] to
//! deploy the in-process emulator behind them.

pub mod async_http;
pub mod async_poll;
pub mod build;
pub mod emulated;
pub mod fd;
mod h1;
mod h1_answer;
mod h1_wire;
pub mod harvest;
pub mod http;
pub mod openai;
pub mod sagemaker;
mod stamp;
pub mod stream;
pub mod variants;

use crate::sample::{ErrorKind, Failure};
use bytes::Bytes;
use std::future::Future;

/// Something that answers requests: an HTTP server, a SageMaker endpoint, the emulator.
///
/// `request` is the hot path: it classifies a failure into a `Copy` [`Failure`] (class,
/// status, the answer's first bytes held inline) and never allocates for it.
pub trait Endpoint: Send + Sync + 'static {
    /// Sends one request and waits for its outcome; a failure keeps its class, status and
    /// the first bytes of the answer.
    fn request(&self, body: Bytes) -> impl Future<Output = Result<Reply, Failure>> + Send;

    /// Sends one request in `slot`, a shard's in-flight slot: a target that keeps a
    /// connection per slot (the `http` target) keeps it there, so no pool is shared.
    fn request_in(
        &self,
        slot: &mut Slot,
        body: Bytes,
    ) -> impl Future<Output = Result<Reply, Failure>> + Send {
        let _ = slot;
        self.request(body)
    }

    /// Sends one request and waits for its outcome, failures by class only.
    fn send(&self, body: Bytes) -> impl Future<Output = Result<Reply, ErrorKind>> + Send {
        async move { self.request(body).await.map_err(|f| f.kind) }
    }

    /// Sends one request before any load, to fail fast with a readable reason when the
    /// target cannot serve at all: anything but a success (2xx, or SageMaker's answer) is an
    /// error naming the status, the class and the first 200 bytes of the answer.
    fn probe(&self, body: Bytes) -> impl Future<Output = Result<(), EndpointError>> + Send;

    /// Where requests go, for messages and reports.
    fn describe(&self) -> String;

    /// Names of the production variants that answered, indexed by [`Reply::variant`].
    fn variant_names(&self) -> Vec<String> {
        Vec::new()
    }

    /// Attempts the client retried so far (beyond each request's first); 0 without retries.
    fn retries(&self) -> u64 {
        0
    }

    /// Retries since the last call (of any caller), so each stage of a cell (warmup, the
    /// measured window) and what came before it (the probe) is counted apart.
    fn take_retries(&self) -> u64 {
        0
    }

    /// Most retries the client makes per request (the SDK's `retries`); 0 without retries.
    fn max_retries(&self) -> u32 {
        0
    }

    /// Asynchronous endpoints whose completion is seen by polling: the longest pause
    /// between two polls, which bounds how late a completion is seen; `None` otherwise.
    fn poll_granularity(&self) -> Option<std::time::Duration> {
        None
    }
}

/// What a shard keeps for one of its in-flight slots between requests: for an `http://`
/// target, the slot's own keep-alive connection. Empty until the slot's first request.
#[derive(Debug, Default)]
pub struct Slot {
    pub(crate) http: Option<http::Conn>,
    /// The shard's answer set and this slot's entry, when the shard collects answers.
    pub(crate) harvest: Option<h1_wire::SlotHarvest>,
}

impl Slot {
    /// A slot whose connection is read when its shard collects answers (`index` below the
    /// set's capacity; past it, a plain slot).
    pub fn harvested(harvest: &std::sync::Arc<harvest::Harvest>, index: u32) -> Slot {
        let fits = (index as usize) < harvest.capacity();
        Slot {
            http: None,
            harvest: fits.then(|| h1_wire::SlotHarvest {
                harvest: harvest.clone(),
                index,
            }),
        }
    }

    /// How long after its send the last request's answer, error or not, was received, when
    /// the kernel timestamped it (a harvested `http://` connection): an answer read late is
    /// timed when it arrived.
    pub fn answered_after(&self) -> Option<std::time::Duration> {
        self.http.as_ref().and_then(http::Conn::answered_after)
    }

    /// The slot's entry in its shard's answer set, if it has one.
    pub fn harvest_index(&self) -> Option<u32> {
        self.harvest.as_ref().map(|h| h.index)
    }
}

/// A successful answer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reply {
    /// Response body bytes.
    pub bytes_in: u64,
    /// When the work was done, measured from the send, if the target knows better than the
    /// moment `send` returned: asynchronous inference reports its completion time, so
    /// polling granularity does not inflate latency.
    pub done_after: Option<std::time::Duration>,
    /// Which production variant answered, as an id of the target's [`variants::VariantNames`].
    pub variant: Option<u16>,
    /// Whether the request met a cold start (the emulator's `x-emulator-cold-start-ms`).
    pub cold_start: bool,
    /// A streamed reply's token timings (streaming targets only; `None` on the plain path).
    pub tokens: Option<Box<stream::Tokens>>,
}

impl Reply {
    /// A plain synchronous answer of `bytes_in` bytes.
    pub fn bytes(bytes_in: u64) -> Reply {
        Reply {
            bytes_in,
            done_after: None,
            variant: None,
            cold_start: false,
            tokens: None,
        }
    }

    /// An asynchronous invocation seen complete `done` after it was sent (its output is
    /// not fetched, so no bytes are counted).
    pub fn completed_after(done: std::time::Duration) -> Reply {
        Reply {
            done_after: Some(done),
            ..Reply::bytes(0)
        }
    }
}

/// Every kind of target a run can use, so one engine drives them all.
pub enum AnyEndpoint {
    /// Plain HTTP, also real-time and serverless endpoints of the emulator.
    Http(http::HttpEndpoint),
    /// Asynchronous inference on the emulator: submit, then poll the result.
    Async(async_http::AsyncHttpEndpoint),
    /// An Amazon SageMaker endpoint (or `loadtest emulate`) through the AWS SDK.
    SageMaker(sagemaker::SageMakerEndpoint),
    /// A streamed reply over HTTP: OpenAI SSE, chunks, or the emulator's event stream.
    Stream(openai::StreamEndpoint),
}

impl Endpoint for AnyEndpoint {
    async fn request(&self, body: Bytes) -> Result<Reply, Failure> {
        match self {
            AnyEndpoint::Http(t) => t.request(body).await,
            AnyEndpoint::Async(t) => t.request(body).await,
            AnyEndpoint::SageMaker(t) => t.request(body).await,
            AnyEndpoint::Stream(t) => t.request(body).await,
        }
    }

    /// The other kinds' futures are boxed: the shard moves this future into its in-flight
    /// set once per request, and unboxed the SDK's would make the `http` one ~6 KiB.
    async fn request_in(&self, slot: &mut Slot, body: Bytes) -> Result<Reply, Failure> {
        match self {
            AnyEndpoint::Http(t) => t.request_in(slot, body).await,
            AnyEndpoint::Async(t) => Box::pin(t.request(body)).await,
            AnyEndpoint::SageMaker(t) => Box::pin(t.request(body)).await,
            AnyEndpoint::Stream(t) => Box::pin(t.request(body)).await,
        }
    }

    async fn probe(&self, body: Bytes) -> Result<(), EndpointError> {
        match self {
            AnyEndpoint::Http(t) => t.probe(body).await,
            AnyEndpoint::Async(t) => t.probe(body).await,
            AnyEndpoint::SageMaker(t) => t.probe(body).await,
            AnyEndpoint::Stream(t) => t.probe(body).await,
        }
    }

    fn describe(&self) -> String {
        match self {
            AnyEndpoint::Http(t) => t.describe(),
            AnyEndpoint::Async(t) => t.describe(),
            AnyEndpoint::SageMaker(t) => t.describe(),
            AnyEndpoint::Stream(t) => t.describe(),
        }
    }

    fn variant_names(&self) -> Vec<String> {
        match self {
            AnyEndpoint::Http(t) => t.variant_names(),
            AnyEndpoint::Async(t) => t.variant_names(),
            AnyEndpoint::SageMaker(t) => t.variant_names(),
            AnyEndpoint::Stream(t) => t.variant_names(),
        }
    }

    fn retries(&self) -> u64 {
        match self {
            AnyEndpoint::SageMaker(t) => t.retries(),
            AnyEndpoint::Http(_) | AnyEndpoint::Async(_) | AnyEndpoint::Stream(_) => 0,
        }
    }

    fn take_retries(&self) -> u64 {
        match self {
            AnyEndpoint::SageMaker(t) => t.take_retries(),
            AnyEndpoint::Http(_) | AnyEndpoint::Async(_) | AnyEndpoint::Stream(_) => 0,
        }
    }

    fn max_retries(&self) -> u32 {
        match self {
            AnyEndpoint::SageMaker(t) => t.max_retries(),
            AnyEndpoint::Http(_) | AnyEndpoint::Async(_) | AnyEndpoint::Stream(_) => 0,
        }
    }

    fn poll_granularity(&self) -> Option<std::time::Duration> {
        match self {
            AnyEndpoint::Async(t) => t.poll_granularity(),
            AnyEndpoint::SageMaker(t) => t.poll_granularity(),
            AnyEndpoint::Http(_) | AnyEndpoint::Stream(_) => None,
        }
    }
}

/// Why a target cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    /// Nothing answered at the address.
    #[error(
        "cannot reach {target}: {reason}; check that the server is running and the URL is right"
    )]
    Unreachable {
        /// Where requests were going.
        target: String,
        /// What the client said.
        reason: String,
    },
    /// The client could not be built (bad header, TLS setup).
    #[error("cannot set up a client for {target}: {reason}")]
    Setup {
        /// Where requests were going.
        target: String,
        /// What went wrong; names the setting to fix.
        reason: String,
    },
    /// AWS credentials are missing, expired or refused; found before any load is sent.
    #[error("AWS credentials: {reason}")]
    Credentials {
        /// What is wrong and what to do; never a key, token or signature.
        reason: String,
    },
    /// The probe request was answered 401 or 403: credentials missing, refused or without
    /// the permission, whatever the answer's body says.
    #[error(
        "{target} refused the probe request before any load: credentials or permissions \
         ({answer}); {remedy}"
    )]
    Denied {
        /// Where requests were going.
        target: String,
        /// Status, class and the answer's first bytes.
        answer: String,
        /// What to do.
        remedy: String,
    },
    /// The probe request was answered, but not with a success: nothing more is sent.
    #[error(
        "{target} failed the probe request before any load ({answer}); no load was sent: fix \
         the target (URL or endpoint name, payload, content type) and run again"
    )]
    Failed {
        /// Where requests were going.
        target: String,
        /// Status, class and the answer's first bytes.
        answer: String,
    },
}

impl EndpointError {
    /// The error of a probe that failed with `failure`: [`EndpointError::Denied`] for the
    /// [`ErrorKind::Auth`] class, [`EndpointError::Failed`] otherwise. `code` is the
    /// service's error code when it named one (`ValidationError`).
    pub fn probe_failed(
        target: &str,
        failure: &Failure,
        code: Option<&str>,
        remedy: &str,
    ) -> EndpointError {
        let answer = describe_failure(failure, code);
        match failure.kind {
            ErrorKind::Auth => EndpointError::Denied {
                target: target.to_string(),
                answer,
                remedy: remedy.to_string(),
            },
            _ => EndpointError::Failed {
                target: target.to_string(),
                answer,
            },
        }
    }
}

/// `HTTP 400, validation (ValidationError): Endpoint x not found.`
pub fn describe_failure(failure: &Failure, code: Option<&str>) -> String {
    let mut out = match failure.status {
        Some(status) => format!("HTTP {status}, {}", failure.kind),
        None => failure.kind.to_string(),
    };
    if let Some(code) = code {
        out.push_str(&format!(" ({code})"));
    }
    let text = failure.excerpt.text();
    out.push_str(": ");
    out.push_str(if text.is_empty() {
        "the answer was empty"
    } else {
        &text
    });
    out
}
