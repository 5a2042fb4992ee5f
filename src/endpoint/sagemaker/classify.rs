//! SDK errors → [`ErrorKind`] on the hot path (the one place this target classifies), and
//! → [`EndpointError`] for the probe before any load, with messages that never carry a
//! credential or signature.

use crate::endpoint::EndpointError;
use crate::endpoint::http::error_chain;
use crate::sample::ErrorKind;
use aws_sdk_sagemakerruntime::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sagemakerruntime::operation::invoke_endpoint::InvokeEndpointError;
use aws_sdk_sagemakerruntime::operation::invoke_endpoint_async::InvokeEndpointAsyncError;

/// Error codes with which AWS refuses the caller rather than the request.
const AUTH_CODES: [&str; 9] = [
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "ExpiredTokenException",
    "ExpiredToken",
    "InvalidClientTokenId",
    "MissingAuthenticationToken",
    "AccessDeniedException",
];

/// The class of an operation's modelled (typed) errors; `None` for the rest, which are then
/// classified by their error code and HTTP status.
pub(super) trait Typed: ProvideErrorMetadata + std::error::Error + 'static {
    /// The class of this error when the SDK models it.
    fn typed_kind(&self) -> Option<ErrorKind>;
}

impl Typed for InvokeEndpointError {
    fn typed_kind(&self) -> Option<ErrorKind> {
        Some(match self {
            InvokeEndpointError::ValidationError(_) => ErrorKind::Validation,
            InvokeEndpointError::ModelError(_) => ErrorKind::ModelError,
            InvokeEndpointError::ModelNotReadyException(_) => ErrorKind::ModelNotReady,
            InvokeEndpointError::ServiceUnavailable(_) => ErrorKind::ServiceUnavailable,
            InvokeEndpointError::InternalFailure(_)
            | InvokeEndpointError::InternalDependencyException(_) => ErrorKind::InternalFailure,
            _ => return None,
        })
    }
}

impl Typed for InvokeEndpointAsyncError {
    fn typed_kind(&self) -> Option<ErrorKind> {
        Some(match self {
            InvokeEndpointAsyncError::ValidationError(_) => ErrorKind::Validation,
            InvokeEndpointAsyncError::ServiceUnavailable(_) => ErrorKind::ServiceUnavailable,
            InvokeEndpointAsyncError::InternalFailure(_) => ErrorKind::InternalFailure,
            _ => return None,
        })
    }
}

/// Maps a failed call to its class: typed service errors first, then the error code
/// (`ThrottlingException` is not modelled by the SDK) and status, then the client's own
/// failures (timeout, connect, I/O).
pub(super) fn classify<E: Typed>(err: &SdkError<E>) -> ErrorKind {
    match err {
        SdkError::ServiceError(ctx) => ctx
            .err()
            .typed_kind()
            .unwrap_or_else(|| ErrorKind::from_http(ctx.raw().status().as_u16(), ctx.err().code())),
        SdkError::TimeoutError(_) => ErrorKind::Timeout,
        SdkError::DispatchFailure(d) if d.is_timeout() => ErrorKind::Timeout,
        SdkError::DispatchFailure(_) if is_connect(err) => ErrorKind::Connect,
        SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => ErrorKind::Io,
        // Refused before sending: a header the SDK rejects, credentials that stopped loading.
        _ => ErrorKind::Http4xx,
    }
}

/// Whether the connection could not be made at all (refused, DNS, TLS handshake).
fn is_connect(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(err);
    while let Some(e) = next {
        if e.downcast_ref::<hyper_util::client::legacy::Error>()
            .is_some_and(hyper_util::client::legacy::Error::is_connect)
        {
            return true;
        }
        next = e.source();
    }
    false
}

/// Why the probe request shows the endpoint cannot be used, or `None` when it answered
/// (an error answer other than an authentication failure counts as reachable).
/// `target` names the endpoint; `remedy` says how to fix credentials.
pub(super) fn probe_error<E: Typed>(
    err: &SdkError<E>,
    target: &str,
    remedy: &str,
) -> Option<EndpointError> {
    match err {
        SdkError::ServiceError(ctx) => {
            let code = ctx.err().code().filter(|c| AUTH_CODES.contains(c))?;
            Some(EndpointError::Credentials {
                reason: format!(
                    "SageMaker refused the credentials for {target} ({code}); {remedy}"
                ),
            })
        }
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => {
            Some(EndpointError::Unreachable {
                target: target.to_string(),
                reason: error_chain(err),
            })
        }
        SdkError::ConstructionFailure(_) => Some(EndpointError::Setup {
            target: target.to_string(),
            reason: error_chain(err),
        }),
        _ => None,
    }
}
