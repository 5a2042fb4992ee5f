//! The targets requests go to: one trait, one file per kind.

pub mod http;

use crate::sample::ErrorKind;
use bytes::Bytes;
use std::future::Future;

/// Something that answers requests: an HTTP server, a SageMaker endpoint, the emulator.
///
/// `send` is the hot path: it classifies failures into an [`ErrorKind`] and never builds strings.
pub trait Target: Send + Sync + 'static {
    /// Sends one request; `Ok` carries the response body size in bytes.
    fn send(&self, body: Bytes) -> impl Future<Output = Result<u64, ErrorKind>> + Send;

    /// Sends one request before any load, to fail fast with a readable reason when the
    /// target cannot be reached at all. Error answers (4xx/5xx) count as reachable.
    fn probe(&self, body: Bytes) -> impl Future<Output = Result<(), EndpointError>> + Send;

    /// Where requests go, for messages and reports.
    fn describe(&self) -> String;
}

/// Why a target cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    /// Nothing answered at the address.
    #[error("cannot reach {target}: {reason}; check that the server is running and the URL is right")]
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
}
