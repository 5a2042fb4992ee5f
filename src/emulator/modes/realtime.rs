//! Real-time hosting: payloads up to 6 MB, answers within 60 s, requests queue (bounded,
//! FIFO) for the workers of the least busy instance; a full queue answers 503.

use super::invoke_sync;
use crate::domain::Hosting;
use crate::emulator::endpoint::Endpoint;
use crate::emulator::response::ApiError;
use axum::body::Body;
use axum::http::HeaderMap;
use axum::response::Response;
use std::sync::Arc;

/// `InvokeEndpoint` on a real-time endpoint.
pub(crate) async fn invoke(
    ep: Arc<Endpoint>,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    invoke_sync(ep, headers, body, Hosting::RealTime, Endpoint::admit).await
}
