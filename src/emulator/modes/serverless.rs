//! Serverless hosting: no queue and no GPUs; each concurrent request takes a slot (up to
//! MaxConcurrency, beyond which requests are throttled), a slot's CPU share grows with the
//! memory size, and slots start cold after idle and when concurrency scales out (the slot
//! arithmetic and warm-slot tracking are in `emulator::slots`).

use super::invoke_sync;
use crate::domain::Hosting;
use crate::emulator::endpoint::Endpoint;
use crate::emulator::response::ApiError;
use axum::body::Body;
use axum::http::HeaderMap;
use axum::response::Response;
use std::sync::Arc;

/// `InvokeEndpoint` on a serverless endpoint: throttled past MaxConcurrency, no queue.
pub(crate) async fn invoke(
    ep: Arc<Endpoint>,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    invoke_sync(ep, headers, body, Hosting::Serverless, Endpoint::admit_slot).await
}
