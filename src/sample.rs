//! The record every stage agrees on: one [`Sample`] per request, with its [`Outcome`].

use serde::{Deserialize, Serialize};
use std::fmt;
use tokio::time::Instant;

/// Why a request failed, classified once by the target that sent it.
///
/// The hot path tallies these; it never builds strings for them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Any other 4xx answer.
    Http4xx,
    /// Any other 5xx answer.
    Http5xx,
    /// 429, or SageMaker's ThrottlingException.
    Throttled,
    /// SageMaker ValidationError (400): e.g. payload over the hosting option's limit.
    Validation,
    /// SageMaker ModelError (424): the model container failed or took too long.
    ModelError,
    /// SageMaker ModelNotReadyException (429 with that error type).
    ModelNotReady,
    /// SageMaker ServiceUnavailable (503).
    ServiceUnavailable,
    /// SageMaker InternalFailure (500) or InternalDependencyException (530).
    InternalFailure,
    /// No answer within the profile's timeout.
    Timeout,
    /// Could not connect (refused, DNS, TLS handshake).
    Connect,
    /// The connection broke mid-request (reset, closed, body error).
    Io,
}

impl ErrorKind {
    /// Every kind, in the order columns and reports list them.
    pub const ALL: [ErrorKind; 11] = [
        ErrorKind::Http4xx,
        ErrorKind::Http5xx,
        ErrorKind::Throttled,
        ErrorKind::Validation,
        ErrorKind::ModelError,
        ErrorKind::ModelNotReady,
        ErrorKind::ServiceUnavailable,
        ErrorKind::InternalFailure,
        ErrorKind::Timeout,
        ErrorKind::Connect,
        ErrorKind::Io,
    ];

    /// Stable name used in CSV columns and JSON keys.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Http4xx => "http_4xx",
            ErrorKind::Http5xx => "http_5xx",
            ErrorKind::Throttled => "throttled",
            ErrorKind::Validation => "validation",
            ErrorKind::ModelError => "model_error",
            ErrorKind::ModelNotReady => "model_not_ready",
            ErrorKind::ServiceUnavailable => "service_unavailable",
            ErrorKind::InternalFailure => "internal_failure",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Connect => "connect",
            ErrorKind::Io => "io",
        }
    }

    /// Position in [`ErrorKind::ALL`], for array-indexed tallies.
    pub fn index(self) -> usize {
        self as usize
    }

    /// Classifies an HTTP error answer from its status and, when present, the
    /// `x-amzn-ErrorType` header SageMaker sets (e.g. `ThrottlingException:`).
    pub fn from_http(status: u16, amzn_error_type: Option<&str>) -> ErrorKind {
        let named = amzn_error_type
            .map(|t| t.split(':').next().unwrap_or(t))
            .and_then(ErrorKind::from_aws_code);
        match (named, status) {
            (Some(kind), _) => kind,
            (None, 429) => ErrorKind::Throttled,
            (None, 400..=499) => ErrorKind::Http4xx,
            (None, _) => ErrorKind::Http5xx,
        }
    }

    /// Maps a SageMaker runtime error code to its class; `None` when not one of them.
    pub fn from_aws_code(code: &str) -> Option<ErrorKind> {
        Some(match code {
            "ThrottlingException" | "Throttling" | "TooManyRequestsException" => {
                ErrorKind::Throttled
            }
            "ValidationError" | "ValidationException" => ErrorKind::Validation,
            "ModelError" => ErrorKind::ModelError,
            "ModelNotReadyException" => ErrorKind::ModelNotReady,
            "ServiceUnavailable" => ErrorKind::ServiceUnavailable,
            "InternalFailure" | "InternalDependencyException" => ErrorKind::InternalFailure,
            _ => return None,
        })
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What became of one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A 2xx answer.
    Ok,
    /// An error, by class.
    Error(ErrorKind),
    /// Sent, but still in flight when the cell was stopped or drained.
    Cancelled,
    /// An open-loop arrival that could not be sent: `max_in_flight` was reached.
    Dropped,
}

/// One request as the engine saw it. Plain data: no bodies, handles or strings.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    /// When the schedule wanted it sent (open loop), or when it was sent (closed loop).
    pub intended_start: Instant,
    /// When it was actually handed to the target.
    pub start: Instant,
    /// When its outcome was known.
    pub end: Instant,
    /// What became of it.
    pub outcome: Outcome,
    /// Request body bytes sent.
    pub bytes_out: u64,
    /// Response body bytes received.
    pub bytes_in: u64,
    /// Production variant that answered, as the target's variant id.
    pub variant: Option<u16>,
    /// Whether it met a cold start, when the target says so.
    pub cold_start: bool,
}

impl Sample {
    /// Latency as a user waiting on the schedule saw it (coordinated-omission corrected).
    pub fn response_time(&self) -> std::time::Duration {
        self.end.saturating_duration_since(self.intended_start)
    }

    /// Time the target took from the actual send.
    pub fn service_time(&self) -> std::time::Duration {
        self.end.saturating_duration_since(self.start)
    }

    /// How late the send was against the schedule.
    pub fn send_slip(&self) -> std::time::Duration {
        self.start.saturating_duration_since(self.intended_start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_sagemaker_errors_by_header_first() {
        assert_eq!(
            ErrorKind::from_http(400, Some("ThrottlingException:http://internal.amazon.com/")),
            ErrorKind::Throttled
        );
        assert_eq!(
            ErrorKind::from_http(400, Some("ValidationError")),
            ErrorKind::Validation
        );
        assert_eq!(
            ErrorKind::from_http(424, Some("ModelError")),
            ErrorKind::ModelError
        );
        assert_eq!(ErrorKind::from_http(429, None), ErrorKind::Throttled);
        assert_eq!(ErrorKind::from_http(404, None), ErrorKind::Http4xx);
        assert_eq!(ErrorKind::from_http(502, None), ErrorKind::Http5xx);
        assert_eq!(ErrorKind::from_http(503, Some("Other")), ErrorKind::Http5xx);
    }

    #[test]
    fn index_matches_position_in_all() {
        for (i, kind) in ErrorKind::ALL.iter().enumerate() {
            assert_eq!(kind.index(), i);
        }
    }
}
