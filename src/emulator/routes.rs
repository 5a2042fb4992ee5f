//! The HTTP surface: the SageMaker runtime paths, the container contract, error responses
//! shaped like SageMaker's (status, `x-amzn-ErrorType`, JSON body), and shared helpers.

use super::clock::Clock;
use super::config::InjectedError;
use super::endpoint::{Endpoint, Rejection, ServeError, Timing, reported_ms};
use super::modes::async_inference::{self, AsyncResults};
use super::modes::{batch, realtime, serverless};
use crate::domain::Hosting;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http_body_util::BodyExt;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

/// Account id used in messages and ARNs.
pub(crate) const ACCOUNT: &str = "123456789012";

/// Bytes read past a payload limit before giving up on draining the request body.
const DRAIN_SLACK: u64 = 64 * 1024 * 1024;

/// Longest `X-Amzn-SageMaker-Custom-Attributes` value SageMaker accepts.
const MAX_CUSTOM_ATTRIBUTES: usize = 1024;

const ERROR_TYPE: HeaderName = HeaderName::from_static("x-amzn-errortype");
const INVOKED_VARIANT: HeaderName = HeaderName::from_static("x-amzn-invoked-production-variant");
const TARGET_VARIANT: &str = "x-amzn-sagemaker-target-variant";
const CUSTOM_ATTRIBUTES: &str = "x-amzn-sagemaker-custom-attributes";
const QUEUE_MS: HeaderName = HeaderName::from_static("x-emulator-queue-ms");
const SERVICE_MS: HeaderName = HeaderName::from_static("x-emulator-service-ms");
const ARRIVAL_MS: HeaderName = HeaderName::from_static("x-emulator-arrival-ms");
const COLD_START_MS: HeaderName = HeaderName::from_static("x-emulator-cold-start-ms");

/// Marks a response whose connection must be closed without sending it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ResetConnection;

/// Shared state of the router.
#[derive(Clone)]
pub(crate) struct App(Arc<AppInner>);

pub(crate) struct AppInner {
    endpoints: Vec<Arc<Endpoint>>,
    by_name: HashMap<String, usize>,
    pub(crate) results: AsyncResults,
    pub(crate) clock: Clock,
}

impl App {
    /// State for the given running endpoints.
    pub(crate) fn new(endpoints: Vec<Arc<Endpoint>>, clock: Clock) -> App {
        let by_name = endpoints
            .iter()
            .enumerate()
            .map(|(i, ep)| (ep.name().to_string(), i))
            .collect();
        App(Arc::new(AppInner {
            endpoints,
            by_name,
            results: AsyncResults::default(),
            clock,
        }))
    }

    /// The endpoint of that name, or SageMaker's "not found" ValidationError.
    pub(crate) fn endpoint(&self, name: &str) -> Result<Arc<Endpoint>, ApiError> {
        self.0
            .by_name
            .get(name)
            .map(|&i| Arc::clone(&self.0.endpoints[i]))
            .ok_or_else(|| {
                ApiError::Validation(format!("Endpoint {name} of account {ACCOUNT} not found."))
            })
    }

    /// Results of async invocations.
    pub(crate) fn results(&self) -> &AsyncResults {
        &self.0.results
    }

    /// The emulator's clock.
    pub(crate) fn clock(&self) -> Clock {
        self.0.clock
    }
}

/// The router of every path the emulator serves.
pub(crate) fn router(app: App) -> Router {
    Router::new()
        .route("/endpoints", get(list_endpoints))
        .route("/endpoints/{name}/invocations", post(invoke))
        .route(
            "/endpoints/{name}/async-invocations",
            post(async_inference::submit),
        )
        .route("/async-results/{id}", get(async_inference::result))
        .route("/transform-jobs", post(batch::transform))
        .route(
            "/transform-jobs/{name}/invocations",
            post(batch::invoke_record),
        )
        .route("/ping", get(ping))
        .route("/invocations", post(container_invoke))
        .fallback(unknown_operation)
        .with_state(app)
}

async fn invoke(
    State(app): State<App>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let answer = match app.endpoint(&name) {
        Ok(ep) => match ep.spec.hosting {
            Hosting::RealTime => realtime::invoke(ep, &headers, body).await,
            Hosting::Serverless => serverless::invoke(ep, &headers, body).await,
            Hosting::Async => Err(ApiError::Validation(format!(
                "Endpoint {name} is an asynchronous endpoint; call InvokeEndpointAsync \
                 (POST /endpoints/{name}/async-invocations)."
            ))),
            Hosting::Batch => Err(ApiError::Validation(format!(
                "{name} is a batch transform model, not an endpoint; POST /transform-jobs, \
                 or /transform-jobs/{name}/invocations for one record."
            ))),
        },
        Err(e) => Err(e),
    };
    answer.unwrap_or_else(IntoResponse::into_response)
}

/// Container contract `POST /invocations`: the first endpoint, answered synchronously.
async fn container_invoke(State(app): State<App>, headers: HeaderMap, body: Body) -> Response {
    let Some(ep) = app.0.endpoints.first().cloned() else {
        return ApiError::ServiceUnavailable("No model is loaded.".into()).into_response();
    };
    let answer = match ep.spec.hosting {
        Hosting::Serverless => serverless::invoke(ep, &headers, body).await,
        _ => realtime::invoke(ep, &headers, body).await,
    };
    answer.unwrap_or_else(IntoResponse::into_response)
}

async fn ping() -> StatusCode {
    StatusCode::OK
}

async fn list_endpoints(State(app): State<App>) -> Response {
    let list: Vec<_> = app
        .0
        .endpoints
        .iter()
        .map(|ep| {
            json!({
                "name": ep.name(),
                "hosting": ep.spec.hosting.as_str(),
                "instance_type": ep.instance.map(|i| i.name.as_str()),
                "instance_count": ep.spec.instance_count,
                "variant": ep.spec.variant,
                "model": ep.spec.model.name,
            })
        })
        .collect();
    json_response(StatusCode::OK, &list)
}

async fn unknown_operation() -> Response {
    ApiError::NotFound {
        code: "UnknownOperationException",
        message: "The emulator does not serve this path; see GET /endpoints.".into(),
    }
    .into_response()
}

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
        headers.insert(
            COLD_START_MS,
            ms_header(super::clock::ms(timing.cold_start)),
        );
    }
    response
}

fn ms_header(ms: f64) -> HeaderValue {
    HeaderValue::from_str(&format!("{ms:.3}")).unwrap_or(HeaderValue::from_static("0"))
}
