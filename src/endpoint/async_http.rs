//! Asynchronous inference on the emulator over plain HTTP: `InvokeEndpointAsync`, answered
//! 202 at once with `OutputLocation` and `FailureLocation`, then those locations polled,
//! path-style, in the emulator's own S3 (`HEAD /{bucket}/{key}`) on the shared schedule of
//! [`super::async_poll`], as a client of an account polls S3. The emulator is its own S3, so
//! the polls go only to the emulator that answered the invoke.
//!
//! Latency is queue-inclusive: from the send to the poll that saw the output object (at most
//! the schedule's granularity late). Inputs over the inline limit (128,000 B) travel the way
//! SageMaker expects them, as an input location (`emulator://bytes/<N>` stands for an N-byte
//! object in S3) rather than a body.

use super::async_poll::{self, Objects, split};
use super::http::{HttpFailure, classify, probe_result, read_answer};
use super::{Endpoint, EndpointError, Reply};
use crate::domain::ASYNC_INLINE_BODY_BYTES;
use crate::sample::{ErrorKind, Excerpt, Failure};
use bytes::Bytes;
use reqwest::{Client, StatusCode, Url};
use std::time::Duration;
use tokio::time::Instant;

/// One emulated async endpoint.
#[derive(Clone, Debug)]
pub struct AsyncHttpEndpoint {
    client: Client,
    submit_url: Url,
    /// The emulator's address: its S3 answers path-style under it.
    base_url: Url,
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
            base_url,
            client,
            submit_url,
            content_type: content_type.into(),
            timeout,
        })
    }

    /// Submits `body`; returns the output and failure locations of the accepted job.
    async fn submit(&self, body: Bytes) -> Result<(String, Option<String>), HttpFailure> {
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
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let output = header("x-amzn-sagemaker-outputlocation");
        let failure = header("x-amzn-sagemaker-failurelocation");
        let (status, _) = read_answer(response).await?;
        let output = output.ok_or_else(|| {
            HttpFailure::answer(
                ErrorKind::Http5xx,
                Some(status.as_u16()),
                "accepted without an x-amzn-SageMaker-OutputLocation header",
            )
        })?;
        Ok((output, failure))
    }

    /// The emulator's S3 URL of `s3://bucket/key`, path-style.
    fn object_url(&self, location: &str) -> Option<Url> {
        let (bucket, key) = split(location)?;
        self.base_url.join(&format!("{bucket}/{key}")).ok()
    }
}

impl Endpoint for AsyncHttpEndpoint {
    async fn request(&self, body: Bytes) -> Result<Reply, Failure> {
        let sent = Instant::now();
        let (output, failure) = self.submit(body).await.map_err(classify)?;
        let done = async_poll::wait(self, &output, failure.as_deref(), sent, self.timeout).await?;
        Ok(Reply::completed_after(done))
    }

    async fn probe(&self, body: Bytes) -> Result<(), EndpointError> {
        probe_result(self.submit(body).await.map(drop), &self.describe())
    }

    fn describe(&self) -> String {
        format!("POST {} (async)", self.submit_url)
    }

    fn poll_granularity(&self) -> Option<Duration> {
        Some(async_poll::POLL.granularity())
    }
}

impl Objects for AsyncHttpEndpoint {
    async fn exists(&self, location: &str) -> Result<bool, Failure> {
        let Some(url) = self.object_url(location) else {
            return Ok(false);
        };
        let response = self.client.head(url).send().await;
        match response {
            Ok(r) if r.status() == StatusCode::OK => Ok(true),
            Ok(r) if r.status() == StatusCode::NOT_FOUND => Ok(false),
            Ok(r) => Err(Failure {
                kind: ErrorKind::Io,
                status: Some(r.status().as_u16()),
                excerpt: Excerpt::of(&format!("HEAD {location}: {}", r.status())),
            }),
            Err(e) => Err(classify(HttpFailure::from(e))),
        }
    }

    async fn read(&self, location: &str) -> String {
        let Some(url) = self.object_url(location) else {
            return String::new();
        };
        match self.client.get(url).send().await {
            Ok(r) if r.status() == StatusCode::OK => r.text().await.unwrap_or_default(),
            _ => String::new(),
        }
    }
}
