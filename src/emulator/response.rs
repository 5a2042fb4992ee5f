//! What the emulator answers: errors shaped like the SageMaker runtime's (status,
//! `x-amzn-ErrorType`, JSON body), the answer to a served invocation with its variant and
//! timing headers, JSON answers, and the mark of a connection to reset.

use super::clock;
use super::config::InjectedError;
use super::endpoint::{Endpoint, Rejection};
use super::serving::{ServeError, Timing};
use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Account id used in messages and ARNs.
pub(crate) const ACCOUNT: &str = "123456789012";

const ERROR_TYPE: HeaderName = HeaderName::from_static("x-amzn-errortype");
const INVOKED_VARIANT: HeaderName = HeaderName::from_static("x-amzn-invoked-production-variant");
const QUEUE_MS: HeaderName = HeaderName::from_static("x-emulator-queue-ms");
const SERVICE_MS: HeaderName = HeaderName::from_static("x-emulator-service-ms");
const ARRIVAL_MS: HeaderName = HeaderName::from_static("x-emulator-arrival-ms");
const COLD_START_MS: HeaderName = HeaderName::from_static("x-emulator-cold-start-ms");

/// Marks a response whose connection must be closed without sending it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ResetConnection;

/// An error answer, shaped the way the SageMaker runtime answers it.
#[derive(Debug, PartialEq)]
pub(crate) enum ApiError {
    /// 400 ValidationError.
    Validation(String),
    /// 400 ThrottlingException.
    Throttling(String),
    /// 424 ModelError.
    Model {
        endpoint: String,
        original_status: u16,
        original_message: String,
    },
    /// 429 ModelNotReadyException.
    ModelNotReady(String),
    /// 500 InternalFailure.
    InternalFailure(String),
    /// 503 ServiceUnavailable.
    ServiceUnavailable(String),
    /// 530 InternalDependencyException.
    InternalDependency(String),
    /// 404 for paths and resources the emulator does not have.
    NotFound { code: &'static str, message: String },
    /// No answer: the connection is closed.
    Reset,
}

impl ApiError {
    /// The SageMaker error code this answer carries, e.g. `ModelNotReadyException`.
    pub(crate) fn code(&self) -> &'static str {
        self.status_and_code().1
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Validation(_) => (StatusCode::BAD_REQUEST, "ValidationError"),
            ApiError::Throttling(_) => (StatusCode::BAD_REQUEST, "ThrottlingException"),
            ApiError::Model { .. } => (StatusCode::FAILED_DEPENDENCY, "ModelError"),
            ApiError::ModelNotReady(_) => (StatusCode::TOO_MANY_REQUESTS, "ModelNotReadyException"),
            ApiError::InternalFailure(_) | ApiError::Reset => {
                (StatusCode::INTERNAL_SERVER_ERROR, "InternalFailure")
            }
            ApiError::ServiceUnavailable(_) => {
                (StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable")
            }
            ApiError::InternalDependency(_) => {
                let status = StatusCode::from_u16(530).unwrap_or(StatusCode::BAD_GATEWAY);
                (status, "InternalDependencyException")
            }
            ApiError::NotFound { code, .. } => (StatusCode::NOT_FOUND, code),
        }
    }

    fn body(&self, code: &str) -> serde_json::Value {
        match self {
            ApiError::Model {
                endpoint,
                original_status,
                original_message,
            } => json!({
                "message": format!(
                    "Received server error ({original_status}) from primary with message \
                     \"{original_message}\". See the log stream for more information."
                ),
                "OriginalStatusCode": original_status,
                "OriginalMessage": original_message,
                "LogStreamArn": format!(
                    "arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/sagemaker/Endpoints/{endpoint}"
                ),
            }),
            ApiError::Validation(m)
            | ApiError::Throttling(m)
            | ApiError::ModelNotReady(m)
            | ApiError::InternalFailure(m)
            | ApiError::ServiceUnavailable(m)
            | ApiError::InternalDependency(m)
            | ApiError::NotFound { message: m, .. } => json!({ "message": m, "__type": code }),
            ApiError::Reset => json!({ "message": "connection reset", "__type": code }),
        }
    }

    /// The error an injected fault answers with.
    pub(crate) fn injected(kind: InjectedError, endpoint: &str) -> ApiError {
        let message = format!("Injected fault on endpoint {endpoint}.");
        match kind {
            InjectedError::InternalFailure => ApiError::InternalFailure(message),
            InjectedError::ModelError => ApiError::Model {
                endpoint: endpoint.to_string(),
                original_status: 500,
                original_message: message,
            },
            InjectedError::ModelNotReady => ApiError::ModelNotReady(message),
            InjectedError::ServiceUnavailable => ApiError::ServiceUnavailable(message),
            InjectedError::InternalDependency => ApiError::InternalDependency(message),
            InjectedError::Throttling => ApiError::Throttling(message),
        }
    }

    /// The answer to a request that could not be served.
    pub(crate) fn from_serve(err: ServeError, ep: &Endpoint) -> ApiError {
        match err {
            ServeError::TimedOut(_) => ApiError::Model {
                endpoint: ep.name().to_string(),
                original_status: 0,
                original_message: "Your invocation timed out while waiting for a response \
                                   from container primary."
                    .into(),
            },
            ServeError::ShuttingDown => {
                ApiError::ServiceUnavailable("The emulator is shutting down.".into())
            }
        }
    }

    /// The answer to a request that was not admitted.
    pub(crate) fn from_rejection(rejection: Rejection, ep: &Endpoint) -> ApiError {
        match rejection {
            Rejection::QueueFull { capacity } => ApiError::ServiceUnavailable(format!(
                "Endpoint {} is overloaded: its queue of {capacity} requests is full.",
                ep.name()
            )),
            Rejection::Throttled { max_concurrency } => ApiError::Throttling(format!(
                "Endpoint {} is at its MaxConcurrency of {max_concurrency}; retry later or \
                 raise MaxConcurrency.",
                ep.name()
            )),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let mut response = json_response(status, &self.body(code));
        let error_type =
            format!("{code}:http://internal.amazon.com/coral/com.amazon.coral.service/");
        if let Ok(value) = HeaderValue::from_str(&error_type) {
            response.headers_mut().insert(ERROR_TYPE, value);
        }
        if self == ApiError::Reset {
            response.extensions_mut().insert(ResetConnection);
        }
        response
    }
}

/// A JSON answer with the given status.
pub(crate) fn json_response(status: StatusCode, value: &impl serde::Serialize) -> Response {
    match serde_json::to_vec(value) {
        Ok(bytes) => {
            let mut response = Response::new(Body::from(bytes));
            *response.status_mut() = status;
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// The answer to a served invocation: a small JSON body plus variant and timing headers.
pub(crate) fn invoked(ep: &Endpoint, timing: &Timing, input_bytes: u64) -> Response {
    let (queue_ms, service_ms) = reported_ms(timing);
    let mut response = Response::new(Body::from(format!("{{\"input_bytes\":{input_bytes}}}")));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(INVOKED_VARIANT, ep.variant_header.clone());
    headers.insert(ARRIVAL_MS, ms_header(ep.clock().ms(timing.arrived)));
    headers.insert(QUEUE_MS, ms_header(queue_ms));
    headers.insert(SERVICE_MS, ms_header(service_ms));
    if !timing.cold_start.is_zero() {
        headers.insert(COLD_START_MS, ms_header(clock::ms(timing.cold_start)));
    }
    response
}

pub(crate) fn ms_header(ms: f64) -> HeaderValue {
    HeaderValue::from_str(&format!("{ms:.3}")).unwrap_or(HeaderValue::from_static("0"))
}

/// Milliseconds of a timing's queue and service parts, as reported to clients.
fn reported_ms(timing: &Timing) -> (f64, f64) {
    (clock::ms(timing.queue()), clock::ms(timing.service()))
}
