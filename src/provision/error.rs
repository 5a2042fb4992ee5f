//! What can go wrong talking to the control plane, classified once from the SDK's errors:
//! quota and capacity (that candidate is skipped), missing permissions (the run stops,
//! naming the IAM action), anything else.

use aws_sdk_sagemaker::error::{ProvideErrorMetadata, SdkError};

/// A control-plane call that did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    /// A quota or capacity error (`ResourceLimitExceeded`, `InsufficientCapacity`): the
    /// candidate cannot be deployed now; the run goes on with the others.
    #[error("{code}: {message}")]
    Capacity {
        /// The error code.
        code: String,
        /// SageMaker's message.
        message: String,
    },
    /// The credentials may not call this action.
    #[error(
        "access denied for `{action}`: {message}; allow `{action}` in the IAM policy of the credentials you run with"
    )]
    AccessDenied {
        /// The IAM action, e.g. `sagemaker:CreateEndpoint`.
        action: String,
        /// SageMaker's message.
        message: String,
    },
    /// The resource does not exist.
    #[error("{action}: not found: {message}")]
    NotFound {
        /// The IAM action of the call.
        action: String,
        /// SageMaker's message.
        message: String,
    },
    /// Any other refusal or failure.
    #[error("{action} failed: {message}")]
    Api {
        /// The IAM action of the call.
        action: String,
        /// The error code and message, or the transport failure.
        message: String,
    },
}

impl ProvisionError {
    /// Whether the run stops (missing permissions, an unreachable control plane) rather than
    /// going on with the other candidates.
    pub fn is_fatal(&self) -> bool {
        !matches!(self, ProvisionError::Capacity { .. })
    }
}

/// Classifies an SDK error of the call `action` (e.g. `CreateEndpoint`).
pub(crate) fn classify<E, R>(action: &str, err: &SdkError<E, R>) -> ProvisionError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let action = format!("sagemaker:{action}");
    let Some(service) = err.as_service_error() else {
        return ProvisionError::Api {
            action,
            message: crate::endpoint::http::error_chain(err),
        };
    };
    let code = service.code().unwrap_or("Unknown").to_string();
    let message = service.message().unwrap_or("").to_string();
    match code.as_str() {
        "ResourceLimitExceeded"
        | "InsufficientCapacity"
        | "InsufficientCapacityException"
        | "InsufficientInstanceCapacity" => ProvisionError::Capacity { code, message },
        "AccessDeniedException" | "AccessDenied" | "UnauthorizedOperation" => {
            ProvisionError::AccessDenied { action, message }
        }
        _ if message.starts_with("Could not find") || code == "ResourceNotFound" => {
            ProvisionError::NotFound { action, message }
        }
        _ => ProvisionError::Api {
            action,
            message: format!("{code}: {message}"),
        },
    }
}
