//! One file per hosting option, each with the same shape: parse → admit → simulate →
//! respond. Every option's parse step (runtime headers, payload size) is here, and so is
//! the path the synchronous options share; they differ in their limits and their admission
//! step.

pub(crate) mod async_inference;
pub mod batch;
pub(crate) mod realtime;
pub(crate) mod serverless;
pub(crate) mod stream;

use super::endpoint::{Endpoint, Rejection, Ticket, Work};
use super::faults;
use super::response::{self, ApiError};
use crate::domain::Hosting;
use axum::body::Body;
use axum::http::HeaderMap;
use axum::response::Response;
use http_body_util::BodyExt;
use rand::rngs::SmallRng;
use std::sync::Arc;

/// Bytes read past a payload limit before giving up on draining the request body.
const DRAIN_SLACK: u64 = 64 * 1024 * 1024;

/// Longest `X-Amzn-SageMaker-Custom-Attributes` value SageMaker accepts.
const MAX_CUSTOM_ATTRIBUTES: usize = 1024;

const TARGET_VARIANT: &str = "x-amzn-sagemaker-target-variant";
const CUSTOM_ATTRIBUTES: &str = "x-amzn-sagemaker-custom-attributes";

/// How a synchronous option admits a request: queue for a worker, or take a slot.
type Admit = fn(&Arc<Endpoint>, SmallRng, Work) -> Result<Ticket, Rejection>;

/// `InvokeEndpoint` for a synchronous hosting option.
async fn invoke_sync(
    ep: Arc<Endpoint>,
    headers: &HeaderMap,
    body: Body,
    hosting: Hosting,
    admit: Admit,
) -> Result<Response, ApiError> {
    // Parse.
    check_runtime_headers(&ep, headers)?;
    let limit = hosting.max_payload_bytes();
    let bytes = read_payload(body, limit, hosting.as_str()).await?;
    // Admit.
    let mut rng = ep.next_rng();
    let spike_ms = apply_faults(&ep, &mut rng)?;
    let work = Work {
        payload_bytes: bytes,
        spike_ms,
    };
    let ticket = admit(&ep, rng, work).map_err(|r| ApiError::from_rejection(r, &ep))?;
    // Simulate.
    let timing = ticket
        .serve()
        .await
        .map_err(|e| ApiError::from_serve(e, &ep))?;
    // Respond.
    Ok(response::invoked(&ep, &timing, bytes))
}

/// Draws the request's faults: a reset or injected error is returned as the answer,
/// otherwise the latency spike (model ms, often 0) to add to its service time.
fn apply_faults(ep: &Endpoint, rng: &mut SmallRng) -> Result<f64, ApiError> {
    let fault = faults::draw(&ep.spec.faults, rng);
    if fault.reset {
        return Err(ApiError::Reset);
    }
    if let Some(kind) = fault.error {
        return Err(ApiError::injected(kind, ep.name()));
    }
    Ok(fault.spike_ms)
}

/// Checks the runtime headers every invocation may carry: target variant and custom
/// attributes.
pub(crate) fn check_runtime_headers(ep: &Endpoint, headers: &HeaderMap) -> Result<(), ApiError> {
    if let Some(attrs) = headers.get(CUSTOM_ATTRIBUTES)
        && attrs.len() > MAX_CUSTOM_ATTRIBUTES
    {
        return Err(ApiError::Validation(format!(
            "X-Amzn-SageMaker-Custom-Attributes is {} characters; at most \
             {MAX_CUSTOM_ATTRIBUTES} are allowed.",
            attrs.len()
        )));
    }
    if let Some(target) = headers.get(TARGET_VARIANT)
        && target.as_bytes() != ep.spec.variant.as_bytes()
    {
        return Err(ApiError::Validation(format!(
            "The variant {} does not exist for endpoint {}; its variant is {}.",
            String::from_utf8_lossy(target.as_bytes()),
            ep.name(),
            ep.spec.variant
        )));
    }
    Ok(())
}

/// Reads and discards a request body, returning its length; over `limit` is a
/// ValidationError (the body is drained first so the client can read the answer).
pub(crate) async fn read_payload(
    mut body: Body,
    limit: u64,
    option: &str,
) -> Result<u64, ApiError> {
    let mut total = 0u64;
    while let Some(frame) = body.frame().await {
        let frame = frame
            .map_err(|e| ApiError::Validation(format!("Could not read the request body: {e}.")))?;
        if let Some(data) = frame.data_ref() {
            total += data.len() as u64;
        }
        if total > limit.saturating_add(DRAIN_SLACK) {
            break;
        }
    }
    if total > limit {
        return Err(ApiError::Validation(format!(
            "Request payload of {total} bytes exceeds the {option} limit of {limit} bytes."
        )));
    }
    Ok(total)
}
