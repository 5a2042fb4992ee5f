//! Completion of `InvokeEndpointAsync` requests on the emulator, for the HTTP and SDK
//! targets alike: when the runtime address is a loopback address, its result path (`GET /async-results/{InferenceId}`) is polled, so the
//! sample ends at the queue-inclusive completion time the emulator reports, not at the next
//! poll. Real SageMaker endpoints write results to S3, which is not polled; their replies
//! end at acceptance.

use crate::endpoint::http::{HttpFailure, read_answer};
use crate::sample::{ErrorKind, Excerpt, Failure};
use reqwest::{Client, StatusCode, Url};
use serde::Deserialize;
use std::net::IpAddr;
use std::time::Duration;
use tokio::time::Instant;

/// Wait between polls of a pending result.
const POLL_EVERY: Duration = Duration::from_millis(5);

/// The emulator's result path of one runtime address.
#[derive(Clone, Debug)]
pub(crate) struct EmulatorResults {
    client: Client,
    base: Url,
}

/// The fields of `GET /async-results/{id}` read here.
#[derive(Debug, Deserialize)]
struct AsyncResult {
    status: String,
    submitted_ms: f64,
    completed_ms: Option<f64>,
    error: Option<String>,
}

impl EmulatorResults {
    /// The result path under `base` (the emulator's address), polled with `client`.
    pub(crate) fn new(client: Client, base: Url) -> EmulatorResults {
        EmulatorResults { client, base }
    }

    /// The result path of `endpoint_url` when it is on this machine; `None` otherwise (or if
    /// no HTTP client can be built, in which case replies end at acceptance).
    pub(crate) fn for_endpoint_url(
        endpoint_url: Option<&str>,
        timeout: Duration,
    ) -> Option<EmulatorResults> {
        let base = Url::parse(endpoint_url?).ok()?;
        let host = base
            .host_str()?
            .trim_start_matches('[')
            .trim_end_matches(']');
        let local = host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
        if !local {
            return None;
        }
        let client = Client::builder()
            .timeout(timeout)
            .no_proxy()
            .http1_only()
            .tcp_nodelay(true)
            .build()
            .ok()?;
        Some(EmulatorResults { client, base })
    }

    /// Polls the result of `id` until it is done, and returns its completion time measured
    /// from `sent`. `accepted` is the submit round trip: the request reached the emulator
    /// about half of it after it was sent.
    pub(crate) async fn wait(
        &self,
        id: &str,
        sent: Instant,
        accepted: Duration,
        timeout: Duration,
    ) -> Result<Duration, HttpFailure> {
        let url = self
            .base
            .join(&format!("async-results/{id}"))
            .map_err(|_| HttpFailure::answer(ErrorKind::Http4xx, None, "unusable InferenceId"))?;
        loop {
            let response = self.client.get(url.clone()).send().await?;
            if response.status() == StatusCode::OK {
                let body = response.bytes().await?;
                let result: AsyncResult = serde_json::from_slice(&body).map_err(|_| {
                    HttpFailure::answer(ErrorKind::Http5xx, Some(200), "unreadable async result")
                })?;
                return finished(&result, accepted);
            }
            read_answer(response).await?;
            if sent.elapsed() > timeout {
                return Err(HttpFailure::answer(
                    ErrorKind::Timeout,
                    None,
                    "no async result within the timeout",
                ));
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
    }
}

/// A completed result's time from the send; a failed one's class, from the error code the
/// emulator records (`ModelError: …`), a model error when it names none.
#[allow(
    clippy::result_large_err,
    reason = "the excerpt is inline so a failure allocates nothing"
)]
fn finished(result: &AsyncResult, accepted: Duration) -> Result<Duration, HttpFailure> {
    if result.status != "Completed" {
        let kind = result
            .error
            .as_deref()
            .and_then(|e| ErrorKind::from_aws_code(e.split(':').next().unwrap_or(e)))
            .unwrap_or(ErrorKind::ModelError);
        return Err(HttpFailure::Status(Failure {
            kind,
            status: None,
            excerpt: Excerpt::of(result.error.as_deref().unwrap_or(&result.status)),
        }));
    }
    let took_ms = result.completed_ms.unwrap_or(result.submitted_ms) - result.submitted_ms;
    let done = Duration::from_secs_f64(took_ms.max(0.0) / 1000.0) + accepted / 2;
    Ok(done.max(accepted))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_addresses_are_polled() {
        let t = Duration::from_secs(1);
        assert!(EmulatorResults::for_endpoint_url(Some("http://127.0.0.1:8080"), t).is_some());
        assert!(EmulatorResults::for_endpoint_url(Some("http://localhost:8080"), t).is_some());
        assert!(EmulatorResults::for_endpoint_url(Some("http://[::1]:8080"), t).is_some());
        assert!(
            EmulatorResults::for_endpoint_url(
                Some("https://runtime.sagemaker.us-east-1.amazonaws.com"),
                t
            )
            .is_none()
        );
        assert!(EmulatorResults::for_endpoint_url(None, t).is_none());
    }

    #[test]
    fn completion_counts_from_the_send() {
        let result = AsyncResult {
            status: "Completed".into(),
            submitted_ms: 100.0,
            completed_ms: Some(150.0),
            error: None,
        };
        let done = finished(&result, Duration::from_millis(4)).expect("completed");
        assert_eq!(done, Duration::from_millis(52));
    }

    #[test]
    fn failures_keep_their_class() {
        let failed = |error: &str| AsyncResult {
            status: "Failed".into(),
            submitted_ms: 0.0,
            completed_ms: Some(1.0),
            error: Some(error.into()),
        };
        let kind = |r: &AsyncResult| match finished(r, Duration::ZERO) {
            Err(HttpFailure::Status(f)) => Some(f.kind),
            _ => None,
        };
        assert_eq!(
            kind(&failed("ServiceUnavailable: shutting down")),
            Some(ErrorKind::ServiceUnavailable)
        );
        assert_eq!(kind(&failed("something odd")), Some(ErrorKind::ModelError));
    }
}
