//! Asynchronous inference on the emulator over plain HTTP: `InvokeEndpointAsync`, answered
//! 202 at once, then the result path polled until the work is done.
//!
//! Latency is queue-inclusive: the emulator reports when the work completed, so the sample
//! ends then, not at the next poll. Inputs over the inline limit (128,000 B) travel the way
//! SageMaker expects them, as an input location (`emulator://bytes/<N>` stands for an N-byte
//! object in S3) rather than a body.

use super::http::{Failure, classify, error_chain, read_answer};
use super::{EndpointError, Reply, Target};
use crate::hosting::ASYNC_INLINE_BODY_BYTES;
use crate::sample::ErrorKind;
use bytes::Bytes;
use reqwest::{Client, StatusCode, Url};
use serde::Deserialize;
use std::time::Duration;
use tokio::time::Instant;

/// Wait between polls of a pending result.
const POLL_EVERY: Duration = Duration::from_millis(5);

/// One emulated async endpoint.
#[derive(Clone, Debug)]
pub struct AsyncHttpTarget {
    client: Client,
    submit_url: Url,
    base_url: Url,
    content_type: String,
    /// Give up on a result after this long.
    timeout: Duration,
}

/// The fields of `GET /async-results/{id}` this client reads.
#[derive(Debug, Deserialize)]
struct AsyncResult {
    status: String,
    submitted_ms: f64,
    completed_ms: Option<f64>,
    error: Option<String>,
}

impl AsyncHttpTarget {
    /// A target submitting to `submit_url` (`…/endpoints/<name>/async-invocations`).
    pub fn new(
        client: Client,
        submit_url: &str,
        content_type: &str,
        timeout: Duration,
    ) -> Result<AsyncHttpTarget, EndpointError> {
        let setup = |reason: String| EndpointError::Setup {
            target: submit_url.to_string(),
            reason,
        };
        let submit_url = Url::parse(submit_url).map_err(|e| setup(format!("bad URL: {e}")))?;
        let base_url = submit_url
            .join("/")
            .map_err(|e| setup(format!("bad URL: {e}")))?;
        Ok(AsyncHttpTarget {
            client,
            submit_url,
            base_url,
            content_type: content_type.into(),
            timeout,
        })
    }

    async fn submit(&self, body: Bytes) -> Result<String, Failure> {
        let mut request = self
            .client
            .post(self.submit_url.clone())
            .header("content-type", &self.content_type);
        request = if body.len() as u64 > ASYNC_INLINE_BODY_BYTES {
            request.header(
                "x-amzn-sagemaker-inputlocation",
                format!("emulator://bytes/{}", body.len()),
            )
        } else {
            request.body(body)
        };
        let response = request.send().await?;
        let id = response
            .headers()
            .get("x-amzn-sagemaker-inferenceid")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        read_answer(response).await?;
        id.ok_or(Failure::Status(ErrorKind::Http5xx))
    }

    async fn wait_for(
        &self,
        id: &str,
        sent: Instant,
        accepted: Duration,
    ) -> Result<Reply, Failure> {
        let url = self
            .base_url
            .join(&format!("async-results/{id}"))
            .map_err(|_| Failure::Status(ErrorKind::Http4xx))?;
        loop {
            let response = self.client.get(url.clone()).send().await?;
            if response.status() == StatusCode::OK {
                let body = response.bytes().await?;
                let result: AsyncResult = serde_json::from_slice(&body)
                    .map_err(|_| Failure::Status(ErrorKind::Http5xx))?;
                return finished(&result, accepted);
            }
            read_answer(response).await?;
            if sent.elapsed() > self.timeout {
                return Err(Failure::Status(ErrorKind::Timeout));
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
    }
}

/// A completed result becomes a reply ending at its completion time; a failed one an error.
/// `accepted` is the submit round trip: the request reached the emulator about half of it
/// after it was sent.
fn finished(result: &AsyncResult, accepted: Duration) -> Result<Reply, Failure> {
    if result.status != "Completed" {
        let kind = result
            .error
            .as_deref()
            .and_then(|e| ErrorKind::from_aws_code(e.split(':').next().unwrap_or(e)))
            .unwrap_or(ErrorKind::ModelError);
        return Err(Failure::Status(kind));
    }
    let took_ms = result.completed_ms.unwrap_or(result.submitted_ms) - result.submitted_ms;
    let done_after = Duration::from_secs_f64(took_ms.max(0.0) / 1000.0) + accepted / 2;
    Ok(Reply {
        bytes_in: 0,
        done_after: Some(done_after.max(accepted)),
        variant: None,
    })
}

impl Target for AsyncHttpTarget {
    async fn send(&self, body: Bytes) -> Result<Reply, ErrorKind> {
        let sent = Instant::now();
        let id = self.submit(body).await.map_err(classify)?;
        let accepted = sent.elapsed();
        self.wait_for(&id, sent, accepted).await.map_err(classify)
    }

    async fn probe(&self, body: Bytes) -> Result<(), EndpointError> {
        match self.submit(body).await {
            Err(Failure::Client(e)) if e.is_connect() || e.is_timeout() => {
                Err(EndpointError::Unreachable {
                    target: self.submit_url.to_string(),
                    reason: error_chain(&e),
                })
            }
            _ => Ok(()),
        }
    }

    fn describe(&self) -> String {
        format!("POST {} (async)", self.submit_url)
    }
}
