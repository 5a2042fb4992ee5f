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
    /// A 3xx answer the client did not (or could not) follow: the URL points at a redirect.
    Http3xx,
    /// Credentials missing, refused or lacking permission: 401 or 403 whatever the body, or
    /// an AWS error code refusing the caller (`AccessDeniedException`, `ExpiredToken`, …).
    Auth,
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
    /// A streamed reply broke its format: cut mid-event, a bad SSE line, data that is not a
    /// chunk, or an event-stream exception (SageMaker `ModelStreamError`).
    Stream,
}

impl ErrorKind {
    /// Every kind, in the order columns and reports list them.
    pub const ALL: [ErrorKind; 14] = [
        ErrorKind::Http3xx,
        ErrorKind::Auth,
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
        ErrorKind::Stream,
    ];

    /// Stable name used in CSV columns and JSON keys.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Http3xx => "http_3xx",
            ErrorKind::Auth => "auth",
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
            ErrorKind::Stream => "stream",
        }
    }

    /// Position in [`ErrorKind::ALL`], for array-indexed tallies.
    pub fn index(self) -> usize {
        self as usize
    }

    /// Classifies an HTTP error answer from its status and, when present, the
    /// `x-amzn-ErrorType` header SageMaker sets (e.g. `ThrottlingException:`).
    ///
    /// 401 and 403 are [`ErrorKind::Auth`] whatever the header or body says: a server (or a
    /// proxy, gateway or load balancer in front of it) answers them to refuse the caller,
    /// and AWS answers 403 for missing permissions, often with a body that names no error
    /// code (an HTML or XML page). An AWS code refusing the caller is `Auth` at any status.
    /// 3xx is [`ErrorKind::Http3xx`]; a status outside 3xx–5xx counts as 5xx (a broken answer).
    pub fn from_http(status: u16, amzn_error_type: Option<&str>) -> ErrorKind {
        let code = amzn_error_type.map(|t| t.split(':').next().unwrap_or(t));
        if matches!(status, 401 | 403) || code.is_some_and(is_auth_code) {
            return ErrorKind::Auth;
        }
        match (code.and_then(ErrorKind::from_aws_code), status) {
            (Some(kind), _) => kind,
            (None, 300..=399) => ErrorKind::Http3xx,
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
            code if is_auth_code(code) => ErrorKind::Auth,
            _ => return None,
        })
    }
}

/// Error codes with which AWS refuses the caller rather than the request.
pub const AUTH_CODES: [&str; 10] = [
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "ExpiredTokenException",
    "ExpiredToken",
    "InvalidClientTokenId",
    "MissingAuthenticationToken",
    "AccessDeniedException",
    "AccessDenied",
];

/// Whether an AWS error code refuses the caller (credentials or permissions).
pub fn is_auth_code(code: &str) -> bool {
    AUTH_CODES.contains(&code)
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Longest message kept from an error answer: its first 200 bytes.
pub const EXCERPT_BYTES: usize = 200;

/// The first [`EXCERPT_BYTES`] of an error answer (or of the client's error), held inline so
/// a failure is `Copy` and costs no allocation; text is cut at a character boundary.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Excerpt {
    len: u8,
    bytes: [u8; EXCERPT_BYTES],
}

impl Default for Excerpt {
    fn default() -> Excerpt {
        Excerpt {
            len: 0,
            bytes: [0; EXCERPT_BYTES],
        }
    }
}

impl Excerpt {
    /// The first bytes of `text`, cut at a character boundary.
    pub fn of(text: &str) -> Excerpt {
        let mut e = Excerpt::default();
        e.push(text.as_bytes());
        e
    }

    /// Appends bytes until the excerpt is full; invalid UTF-8 is shown as `�` when read.
    pub fn push(&mut self, more: &[u8]) {
        let at = usize::from(self.len);
        let n = more.len().min(EXCERPT_BYTES - at);
        self.bytes[at..at + n].copy_from_slice(&more[..n]);
        self.len = (at + n) as u8;
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether it cannot take more bytes.
    pub fn is_full(&self) -> bool {
        usize::from(self.len) == EXCERPT_BYTES
    }

    /// The text, whitespace runs folded to one space, a cut character dropped.
    pub fn text(&self) -> String {
        let raw = &self.bytes[..usize::from(self.len)];
        let text = match std::str::from_utf8(raw) {
            Ok(t) => t.to_string(),
            Err(e) if e.error_len().is_none() => {
                String::from_utf8_lossy(&raw[..e.valid_up_to()]).into_owned()
            }
            Err(_) => String::from_utf8_lossy(raw).into_owned(),
        };
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

impl fmt::Write for Excerpt {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push(s.as_bytes());
        Ok(())
    }
}

impl fmt::Debug for Excerpt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.text())
    }
}

/// How one request failed, as its target saw it: `Copy`, so the hot path tallies it
/// without allocating.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The class.
    pub kind: ErrorKind,
    /// The HTTP status of the answer; `None` when there was no answer.
    pub status: Option<u16>,
    /// What the answer (or the client) said, first bytes.
    pub excerpt: Excerpt,
}

impl Failure {
    /// A failure of `kind` with no answer and nothing said.
    pub fn of(kind: ErrorKind) -> Failure {
        Failure {
            kind,
            status: None,
            excerpt: Excerpt::default(),
        }
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
    fn redirects_and_refused_callers_have_their_own_classes() {
        assert_eq!(ErrorKind::from_http(301, None), ErrorKind::Http3xx);
        assert_eq!(ErrorKind::from_http(307, None), ErrorKind::Http3xx);
        assert_eq!(ErrorKind::from_http(401, None), ErrorKind::Auth);
        assert_eq!(ErrorKind::from_http(403, None), ErrorKind::Auth);
        // Whatever the header says: a 403 refuses the caller.
        assert_eq!(
            ErrorKind::from_http(403, Some("ValidationError")),
            ErrorKind::Auth
        );
        assert_eq!(
            ErrorKind::from_http(400, Some("ExpiredTokenException")),
            ErrorKind::Auth
        );
        assert_eq!(ErrorKind::from_http(404, None), ErrorKind::Http4xx);
    }

    #[test]
    fn excerpts_keep_200_bytes_cut_at_a_character() {
        let long = "é".repeat(150);
        let e = Excerpt::of(&long);
        assert!(e.is_full());
        assert_eq!(e.text(), "é".repeat(100));
        let mut cut = Excerpt::of(&"a".repeat(199));
        cut.push("é".as_bytes());
        assert_eq!(cut.text(), "a".repeat(199), "a cut character is dropped");
        assert_eq!(Excerpt::of("  two\n lines ").text(), "two lines");
    }

    #[test]
    fn index_matches_position_in_all() {
        for (i, kind) in ErrorKind::ALL.iter().enumerate() {
            assert_eq!(kind.index(), i);
        }
    }
}
