//! Asynchronous inference on the emulator over plain HTTP: `InvokeEndpointAsync`, answered
//! 202 at once, then the result path polled until the work is done.
//!
//! Latency is queue-inclusive: the emulator reports when the work completed, so the sample
//! ends then, not at the next poll. Inputs over the inline limit (128,000 B) travel the way
//! SageMaker expects them, as an input location (`emulator://bytes/<N>` stands for an N-byte
//! object in S3) rather than a body.

use super::async_result::EmulatorResults;
use super::http::{HttpFailure, classify, probe_result, read_answer};
use super::{Endpoint, EndpointError, Reply};
use crate::domain::ASYNC_INLINE_BODY_BYTES;
use crate::sample::{ErrorKind, Failure};
use bytes::Bytes;
use reqwest::{Client, Url};
use std::time::Duration;
use tokio::time::Instant;

/// One emulated async endpoint.
#[derive(Clone, Debug)]
pub struct AsyncHttpEndpoint {
    client: Client,
    submit_url: Url,
    results: EmulatorResults,
    content_type: String,
    /// Give up on a result after this long.
    timeout: Duration,
}

impl AsyncHttpEndpoint {
    /// A target submitting to `submit_url` (`…/endpoints/<name>/async-invocations`).
    pub fn new(
        client: Client,
        submit_url: &str,
        content_type: &str,
        timeout: Duration,
    ) -> Result<AsyncHttpEndpoint, EndpointError> {
        let setup = |reason: String| EndpointError::Setup {
            target: submit_url.to_string(),
            reason,
        };
        let submit_url = Url::parse(submit_url).map_err(|e| setup(format!("bad URL: {e}")))?;
        let base_url = submit_url
            .join("/")
            .map_err(|e| setup(format!("bad URL: {e}")))?;
        Ok(AsyncHttpEndpoint {
            results: EmulatorResults::new(client.clone(), base_url),
            client,
            submit_url,
            content_type: content_type.into(),
            timeout,
        })
    }

    async fn submit(&self, body: Bytes) -> Result<String, HttpFailure> {
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
        let (status, _) = read_answer(response).await?;
        id.ok_or_else(|| {
            HttpFailure::answer(
                ErrorKind::Http5xx,
                Some(status.as_u16()),
                "accepted without an x-amzn-SageMaker-InferenceId header",
            )
        })
    }
}

impl Endpoint for AsyncHttpEndpoint {
    async fn request(&self, body: Bytes) -> Result<Reply, Failure> {
        let sent = Instant::now();
        let id = self.submit(body).await.map_err(classify)?;
        let accepted = sent.elapsed();
        let done = self
            .results
            .wait(&id, sent, accepted, self.timeout)
            .await
            .map_err(classify)?;
        Ok(Reply {
            bytes_in: 0,
            done_after: Some(done),
            variant: None,
            cold_start: false,
            tokens: None,
        })
    }

    async fn probe(&self, body: Bytes) -> Result<(), EndpointError> {
        probe_result(self.submit(body).await.map(drop), &self.describe())
    }

    fn describe(&self) -> String {
        format!("POST {} (async)", self.submit_url)
    }
}
