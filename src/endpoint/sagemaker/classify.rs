//! SDK errors → [`ErrorKind`] on the hot path (the one place this target classifies), and
//! → [`EndpointError`] for the probe before any load, with messages that never carry a
//! credential or signature.

use crate::endpoint::EndpointError;
use crate::endpoint::http::{chain_into, error_chain};
use crate::sample::{ErrorKind, Excerpt, Failure, is_auth_code};
use aws_sdk_sagemakerruntime::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sagemakerruntime::operation::invoke_endpoint::InvokeEndpointError;
use aws_sdk_sagemakerruntime::operation::invoke_endpoint_async::InvokeEndpointAsyncError;

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

/// Maps a failed call to its class: a refused caller first (401/403 whatever the body, or
/// an AWS code refusing the caller), then typed service errors, then the error code
/// (`ThrottlingException` is not modelled by the SDK) and status, then the client's own
/// failures (timeout, connect, I/O). The failure keeps the status and the service's message
/// (or the answer's first bytes), copied inline.
pub(super) fn classify<E: Typed>(err: &SdkError<E>) -> Failure {
    let SdkError::ServiceError(ctx) = err else {
        let mut excerpt = Excerpt::default();
        chain_into(err, &mut excerpt);
        return Failure {
            kind: client_kind(err),
            status: None,
            excerpt,
        };
    };
    let status = ctx.raw().status().as_u16();
    let code = ctx.err().code();
    let kind = if matches!(status, 401 | 403) || code.is_some_and(is_auth_code) {
        ErrorKind::Auth
    } else {
        ctx.err()
            .typed_kind()
            .unwrap_or_else(|| ErrorKind::from_http(status, code))
    };
    let excerpt = match (ctx.err().message(), ctx.raw().body().bytes()) {
        (Some(message), _) => Excerpt::of(message),
        (None, Some(body)) => {
            let mut e = Excerpt::default();
            e.push(body);
            e
        }
        (None, None) => Excerpt::default(),
    };
    Failure {
        kind,
        status: Some(status),
        excerpt,
    }
}

/// The class of a call that got no service answer.
fn client_kind<E: Typed>(err: &SdkError<E>) -> ErrorKind {
    match err {
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

/// Why the probe request shows the endpoint cannot be used: any failure is one. A refused
/// caller is [`EndpointError::Credentials`] (with `remedy`), no answer is
/// [`EndpointError::Unreachable`], any other answer [`EndpointError::Failed`] with its
/// status, class, error code and message. `target` names the endpoint.
pub(super) fn probe_error<E: Typed>(
    err: &SdkError<E>,
    target: &str,
    remedy: &str,
) -> EndpointError {
    match err {
        SdkError::ServiceError(ctx) => {
            let failure = classify(err);
            let code = ctx.err().code();
            if failure.kind == ErrorKind::Auth {
                let answer = crate::endpoint::describe_failure(&failure, code);
                return EndpointError::Credentials {
                    reason: format!(
                        "SageMaker refused the credentials or their permissions for {target} \
                         ({answer}); {remedy}, and check that they allow \
                         sagemaker:InvokeEndpoint on this endpoint"
                    ),
                };
            }
            EndpointError::probe_failed(target, &failure, code, remedy)
        }
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => EndpointError::Unreachable {
            target: target.to_string(),
            reason: error_chain(err),
        },
        SdkError::ConstructionFailure(_) => EndpointError::Setup {
            target: target.to_string(),
            reason: error_chain(err),
        },
        _ => EndpointError::probe_failed(target, &classify(err), None, remedy),
    }
}
