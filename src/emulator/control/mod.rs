//! The emulated SageMaker control plane (awsJson1.1: `POST /` with `X-Amz-Target:
//! SageMaker.<Operation>`): models, endpoint configs and endpoints with tags. A created
//! endpoint is `Creating`, then after [`ControlSettings::deploy_delay`] either `InService`,
//! running an emulated endpoint of its config's hosting option that the runtime routes
//! serve, or `Failed` with a `FailureReason` (unknown instance type, a model that does not
//! fit). Instance types in [`ControlSettings::limited`] answer `ResourceLimitExceeded`.

mod ops;
mod registry;
mod wire;

use super::clock::Clock;
use super::endpoint::Endpoint;
use super::model::Model;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use registry::Registry;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// How the emulated control plane deploys.
#[derive(Clone, Debug)]
pub struct ControlSettings {
    /// Time an endpoint stays `Creating` before it is `InService` (or `Failed`).
    pub deploy_delay: Duration,
    /// The model a created endpoint runs, unless its model's environment names a preset
    /// in `LOADTEST_EMULATOR_PRESET`.
    pub model: Model,
    /// Instance types whose `CreateEndpoint` answers `ResourceLimitExceeded` (a quota).
    pub limited: Vec<String>,
    /// Operations (e.g. `CreateEndpoint`) the caller may not call: `AccessDeniedException`.
    pub denied: Vec<String>,
    /// How long a `Delete…` operation takes to answer (the deletion is done at once): a
    /// slow control plane, for tests of a teardown cut short.
    pub delete_delay: Duration,
}

impl Default for ControlSettings {
    fn default() -> ControlSettings {
        ControlSettings {
            deploy_delay: Duration::from_secs(2),
            model: Model::preset("tiny-mlp").unwrap_or_else(|| Model::custom(5.0)),
            limited: Vec::new(),
            denied: Vec::new(),
            delete_delay: Duration::ZERO,
        }
    }
}

/// The environment variable of a model's container naming the emulated preset it runs.
pub const PRESET_ENV: &str = "LOADTEST_EMULATOR_PRESET";

/// The control plane's state, shared by the router.
#[derive(Clone)]
pub(crate) struct ControlPlane(Arc<Inner>);

struct Inner {
    settings: ControlSettings,
    clock: Clock,
    registry: Mutex<Registry>,
}

impl ControlPlane {
    /// An empty control plane.
    pub(crate) fn new(settings: ControlSettings, clock: Clock) -> ControlPlane {
        ControlPlane(Arc::new(Inner {
            settings,
            clock,
            registry: Mutex::new(Registry::default()),
        }))
    }

    fn registry(&self) -> MutexGuard<'_, Registry> {
        self.0
            .registry
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The S3 output and failure paths of an async endpoint created here, each when its
    /// config names one.
    pub(crate) fn async_paths(&self, endpoint: &str) -> (Option<String>, Option<String>) {
        let reg = self.registry();
        reg.endpoints
            .get(endpoint)
            .and_then(|e| reg.configs.get(&e.config_name))
            .map(|c| {
                (
                    c.async_output.s3_output_path.clone(),
                    c.async_output.s3_failure_path.clone(),
                )
            })
            .unwrap_or_default()
    }

    /// The running endpoint of that name, if it was created here and is in service.
    pub(crate) fn endpoint(&self, name: &str) -> Option<Arc<Endpoint>> {
        self.registry()
            .endpoints
            .get(name)
            .and_then(|e| e.running.clone())
    }
}

/// An error answer of the control plane: `{"__type": code, "message": …}` with 400.
#[derive(Debug, PartialEq)]
pub(crate) struct ControlError {
    code: &'static str,
    message: String,
}

impl ControlError {
    fn validation(message: String) -> ControlError {
        ControlError {
            code: "ValidationException",
            message,
        }
    }
}

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "__type": self.code, "message": self.message });
        json(StatusCode::BAD_REQUEST, &body)
    }
}

const JSON_1_1: HeaderValue = HeaderValue::from_static("application/x-amz-json-1.1");

fn json(status: StatusCode, value: &impl serde::Serialize) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, JSON_1_1);
    response
}

/// `POST /`: one control-plane operation, named by `X-Amz-Target`.
pub(crate) async fn handle(
    State(control): State<ControlPlane>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some(operation) = target.strip_prefix("SageMaker.") else {
        return ControlError {
            code: "UnknownOperationException",
            message: format!(
                "the emulator serves SageMaker control-plane operations on POST / \
                 (X-Amz-Target: SageMaker.<Operation>), not {target:?}"
            ),
        }
        .into_response();
    };
    if control.0.settings.denied.iter().any(|d| d == operation) {
        return ControlError {
            code: "AccessDeniedException",
            message: format!(
                "User: arn:aws:iam::123456789012:user/loadtest is not authorized to perform: \
                 sagemaker:{operation}"
            ),
        }
        .into_response();
    }
    let answer = ops::dispatch(&control, operation, &body);
    if operation.starts_with("Delete") && !control.0.settings.delete_delay.is_zero() {
        tokio::time::sleep(control.0.settings.delete_delay).await;
    }
    match answer {
        Ok(value) => json(StatusCode::OK, &value),
        Err(e) => e.into_response(),
    }
}
