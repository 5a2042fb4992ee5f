//! Asynchronous hosting: `InvokeEndpointAsync` answers 202 at once with an `InferenceId`
//! and `OutputLocation`; the work goes through the endpoint's queue in the background and
//! its result (with queue and service times) is written to the emulator's S3 as an object.
//!
//! Input: SageMaker reads async inputs (up to 1 GB) from S3, and so does the emulator, from
//! its own S3 (`s3://bucket/key` uploaded path-style); `emulator://bytes/<N>` names an
//! N-byte input without uploading one. Without the header the request body is the input, up
//! to 128,000 bytes (the inline limit). When a job ends its output object (or failure
//! object, holding the error message) appears at `OutputLocation` (`FailureLocation`), as
//! on an account. An idle endpoint scales to zero; the next request waits for a cold start.

use super::{check_runtime_headers, read_payload};
use crate::domain::{ASYNC_INLINE_BODY_BYTES, Hosting};
use crate::emulator::clock::Clock;
use crate::emulator::endpoint::Work;
use crate::emulator::faults;
use crate::emulator::response::{ApiError, json_response};
use crate::emulator::serving::ServeError;
use crate::emulator::state::{App, Failure};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rand::RngExt;
use rand::rngs::SmallRng;

/// Scheme of an emulated S3 input location: `emulator://bytes/<N>`.
pub const INPUT_SCHEME: &str = "emulator://bytes/";

const OUTPUT_BUCKET: &str = "emulator-async-output";
const FAILURE_BUCKET: &str = "emulator-async-failure";
const FAILURE_LOCATION: HeaderName = HeaderName::from_static("x-amzn-sagemaker-failurelocation");
const INPUT_LOCATION: &str = "x-amzn-sagemaker-inputlocation";
const INFERENCE_ID_IN: &str = "x-amzn-sagemaker-inference-id";
const OUTPUT_LOCATION: HeaderName = HeaderName::from_static("x-amzn-sagemaker-outputlocation");
const INFERENCE_ID: HeaderName = HeaderName::from_static("x-amzn-sagemaker-inferenceid");

/// `POST /endpoints/{name}/async-invocations`.
pub(crate) async fn submit(
    State(app): State<App>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    accept(&app, &name, &headers, body)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn accept(
    app: &App,
    name: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    // Parse.
    let ep = app.endpoint(name)?;
    if ep.spec.hosting != Hosting::Async {
        return Err(ApiError::Validation(format!(
            "Endpoint {name} is not an asynchronous endpoint; call InvokeEndpoint \
             (POST /endpoints/{name}/invocations)."
        )));
    }
    check_runtime_headers(&ep, headers)?;
    let bytes = input_bytes(app, headers, body).await?;
    // Admit.
    let mut rng = ep.next_rng();
    let fault = faults::draw(&ep.spec.faults, &mut rng);
    if fault.reset {
        return Err(ApiError::Reset);
    }
    let id = requested_id(headers).unwrap_or_else(|| inference_id(&mut rng));
    let work = Work {
        payload_bytes: bytes,
        spike_ms: fault.spike_ms,
    };
    // An injected failure never reaches a worker; it fails as soon as it is accepted.
    let ticket = match fault.error {
        Some(_) => None,
        None => Some(
            ep.admit(rng, work)
                .map_err(|r| ApiError::from_rejection(r, &ep))?,
        ),
    };
    let (output_location, failure_location) = locations(app, name, &id);
    // Simulate, in the background.
    match ticket {
        Some(ticket) => {
            let (s3, clock, job_id) = (app.s3().clone(), app.clock(), id.clone());
            let (out, fail) = (output_location.clone(), failure_location.clone());
            tokio::spawn(async move {
                let outcome = ticket.serve().await.map_err(failure);
                write_result(&s3, clock, (&out, &fail), &job_id, &outcome);
            });
        }
        None => {
            let error = ApiError::injected(fault.error.unwrap_or_default(), name);
            let message = format!("{}: injected fault", error.code());
            let outcome = Err((message, None));
            let at = (output_location.as_str(), failure_location.as_str());
            write_result(app.s3(), app.clock(), at, &id, &outcome);
        }
    }
    // Respond.
    let mut response = accepted(&id, &output_location);
    if let Ok(value) = HeaderValue::from_str(&failure_location) {
        response.headers_mut().insert(FAILURE_LOCATION, value);
    }
    Ok(response)
}

/// Where the output and failure objects of job `id` go: under the endpoint config's
/// `S3OutputPath` and `S3FailurePath` when it was created through the control plane.
fn locations(app: &App, name: &str, id: &str) -> (String, String) {
    let (output, failure) = app.control().async_paths(name);
    let output = output.unwrap_or_else(|| format!("s3://{OUTPUT_BUCKET}/{name}"));
    let failure = failure.unwrap_or_else(|| format!("s3://{FAILURE_BUCKET}/{name}"));
    (
        format!("{}/{id}.out", output.trim_end_matches('/')),
        format!("{}/{id}-error.out", failure.trim_end_matches('/')),
    )
}

/// Writes the output object (its times: submitted, started, completed, ms since the emulator
/// started, and queue and service ms) or the failure object (the message), as SageMaker does
/// when a job ends.
fn write_result(
    s3: &crate::emulator::s3::Store,
    clock: Clock,
    (output, failure_location): (&str, &str),
    id: &str,
    outcome: &Result<crate::emulator::serving::Timing, Failure>,
) {
    match outcome {
        Ok(t) => {
            let body = serde_json::json!({
                "InferenceId": id,
                "submitted_ms": clock.ms(t.arrived),
                "started_ms": clock.ms(t.started),
                "completed_ms": clock.ms(t.completed),
                "queue_ms": crate::emulator::clock::ms(t.queue()),
                "service_ms": crate::emulator::clock::ms(t.service()),
            });
            s3.put_output_location(output, body.to_string().into());
        }
        Err((message, _)) => s3.put_output_location(failure_location, message.clone().into()),
    }
}

/// What a job that was not served reports.
fn failure(err: ServeError) -> Failure {
    match err {
        ServeError::TimedOut(t) => ("ModelError: invocation timed out".to_string(), Some(t)),
        ServeError::ShuttingDown => (
            "ServiceUnavailable: emulator shutting down".to_string(),
            None,
        ),
    }
}

/// Size of the input: the object at `X-Amzn-SageMaker-InputLocation` (an `s3://` object
/// in the emulator's S3, or `emulator://bytes/<N>`), else the inline body.
async fn input_bytes(app: &App, headers: &HeaderMap, body: Body) -> Result<u64, ApiError> {
    let inline = read_payload(body, ASYNC_INLINE_BODY_BYTES, "async inline body").await?;
    let Some(location) = headers.get(INPUT_LOCATION) else {
        return Ok(inline);
    };
    let location = String::from_utf8_lossy(location.as_bytes());
    if location.starts_with("s3://") {
        return app
            .s3()
            .get_location(&location)
            .map(|b| b.len() as u64)
            .ok_or_else(|| {
                ApiError::Validation(format!(
                    "Could not read the input at {location}: NoSuchKey; upload it first                      (PUT it to the emulator's S3, path-style)."
                ))
            });
    }
    parse_location(&location)
}

/// Parses `emulator://bytes/<N>` into N, within the 1 GB async limit.
fn parse_location(location: &str) -> Result<u64, ApiError> {
    let limit = Hosting::Async.max_payload_bytes();
    let bytes = location
        .strip_prefix(INPUT_SCHEME)
        .and_then(|n| n.parse::<u64>().ok())
        .ok_or_else(|| {
            ApiError::Validation(format!(
                "The emulator cannot read {location}; set X-Amzn-SageMaker-InputLocation to                  {INPUT_SCHEME}<N> for an N-byte input, or send up to                  {ASYNC_INLINE_BODY_BYTES} bytes inline."
            ))
        })?;
    if bytes > limit {
        return Err(ApiError::Validation(format!(
            "Input of {bytes} bytes exceeds the async limit of {limit} bytes."
        )));
    }
    Ok(bytes)
}

/// A client-chosen `X-Amzn-SageMaker-Inference-Id` (1-64 printable characters).
fn requested_id(headers: &HeaderMap) -> Option<String> {
    let id = headers.get(INFERENCE_ID_IN)?.to_str().ok()?;
    let valid = (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic());
    valid.then(|| id.to_string())
}

/// A random version-4 UUID.
fn inference_id(rng: &mut SmallRng) -> String {
    let v: u128 = rng.random();
    let v = (v & !(0xF << 76) & !(0x3 << 62)) | (0x4 << 76) | (0x2 << 62);
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        (v >> 96) as u32,
        (v >> 80) as u16,
        (v >> 64) as u16,
        (v >> 48) as u16,
        v & 0xFFFF_FFFF_FFFF
    )
}

fn accepted(id: &str, output_location: &str) -> Response {
    let body = serde_json::json!({ "InferenceId": id, "OutputLocation": output_location });
    let mut response = json_response(StatusCode::ACCEPTED, &body);
    let headers = response.headers_mut();
    for (name, value) in [
        (OUTPUT_LOCATION, output_location.to_string()),
        (INFERENCE_ID, id.to_string()),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn input_locations_name_a_size() {
        assert_eq!(parse_location("emulator://bytes/2048"), Ok(2048));
        assert_eq!(parse_location("emulator://bytes/1073741824"), Ok(1 << 30));
        assert!(parse_location("emulator://bytes/1073741825").is_err());
        assert!(parse_location("s3://bucket/key").is_err());
        assert!(parse_location("emulator://bytes/many").is_err());
    }

    #[test]
    fn inference_ids_look_like_uuid_v4() {
        let mut rng = SmallRng::seed_from_u64(3);
        let id = inference_id(&mut rng);
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
        assert_ne!(id, inference_id(&mut rng));
    }
}
