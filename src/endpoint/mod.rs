//! Where requests go: the [`Endpoint`] trait, one file per kind (HTTP, asynchronous HTTP,
//! SageMaker through the SDK), [`build`] to make them from a profile and [`emulated`] to
//! deploy the in-process emulator behind them.

pub mod async_http;
mod async_result;
pub mod build;
pub mod emulated;
pub mod http;
pub mod sagemaker;
pub mod variants;

use crate::sample::ErrorKind;
use bytes::Bytes;
use std::future::Future;

/// Something that answers requests: an HTTP server, a SageMaker endpoint, the emulator.
///
/// `send` is the hot path: it classifies failures into an [`ErrorKind`] and never builds strings.
pub trait Endpoint: Send + Sync + 'static {
    /// Sends one request and waits for its outcome.
    fn send(&self, body: Bytes) -> impl Future<Output = Result<Reply, ErrorKind>> + Send;

    /// Sends one request before any load, to fail fast with a readable reason when the
    /// target cannot be reached at all. Error answers (4xx/5xx) count as reachable.
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
}

/// A successful answer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
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
}

impl Reply {
    /// A plain synchronous answer of `bytes_in` bytes.
    pub fn bytes(bytes_in: u64) -> Reply {
        Reply {
            bytes_in,
            done_after: None,
            variant: None,
            cold_start: false,
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
}

impl Endpoint for AnyEndpoint {
    async fn send(&self, body: Bytes) -> Result<Reply, ErrorKind> {
        match self {
            AnyEndpoint::Http(t) => t.send(body).await,
            AnyEndpoint::Async(t) => t.send(body).await,
            AnyEndpoint::SageMaker(t) => t.send(body).await,
        }
    }

    async fn probe(&self, body: Bytes) -> Result<(), EndpointError> {
        match self {
            AnyEndpoint::Http(t) => t.probe(body).await,
            AnyEndpoint::Async(t) => t.probe(body).await,
            AnyEndpoint::SageMaker(t) => t.probe(body).await,
        }
    }

    fn describe(&self) -> String {
        match self {
            AnyEndpoint::Http(t) => t.describe(),
            AnyEndpoint::Async(t) => t.describe(),
            AnyEndpoint::SageMaker(t) => t.describe(),
        }
    }

    fn variant_names(&self) -> Vec<String> {
        match self {
            AnyEndpoint::Http(t) => t.variant_names(),
            AnyEndpoint::Async(t) => t.variant_names(),
            AnyEndpoint::SageMaker(t) => t.variant_names(),
        }
    }

    fn retries(&self) -> u64 {
        match self {
            AnyEndpoint::SageMaker(t) => t.retries(),
            AnyEndpoint::Http(_) | AnyEndpoint::Async(_) => 0,
        }
    }

    fn take_retries(&self) -> u64 {
        match self {
            AnyEndpoint::SageMaker(t) => t.take_retries(),
            AnyEndpoint::Http(_) | AnyEndpoint::Async(_) => 0,
        }
    }

    fn max_retries(&self) -> u32 {
        match self {
            AnyEndpoint::SageMaker(t) => t.max_retries(),
            AnyEndpoint::Http(_) | AnyEndpoint::Async(_) => 0,
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
}
