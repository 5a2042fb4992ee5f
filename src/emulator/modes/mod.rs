//! One file per hosting option, each with the same shape: parse → admit → simulate →
//! respond. The synchronous options share that path here and differ in their limits and
//! their admission step.

pub(crate) mod async_inference;
pub mod batch;
pub(crate) mod realtime;
pub mod serverless;

use super::endpoint::{Endpoint, Rejection, Ticket, Work};
use super::faults;
use super::routes::{self, ApiError};
use crate::domain::Hosting;
use axum::body::Body;
use axum::http::HeaderMap;
use axum::response::Response;
use rand::rngs::SmallRng;
use std::sync::Arc;

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
    routes::check_runtime_headers(&ep, headers)?;
    let limit = hosting.max_payload_bytes();
    let bytes = routes::read_payload(body, limit, hosting.as_str()).await?;
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
    Ok(routes::invoked(&ep, &timing, bytes))
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
