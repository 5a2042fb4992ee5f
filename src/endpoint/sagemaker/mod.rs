//! Amazon SageMaker endpoints through the official SDK (`aws-sdk-sagemakerruntime`):
//! `InvokeEndpoint` per request, or `InvokeEndpointAsync` with an S3 input location.
//!
//! ```text
//! client (once per run: config, credentials, pool) ─► SageMakerEndpoint (one per endpoint name)
//!     send ─► InvokeEndpoint | InvokeEndpointAsync ─► classify (SDK error → ErrorKind)
//!                                   └► s3_async (inputs up, the output object polled)
//! ```
//!
//! The body of a cell is built once and shared: each request wraps the same `Bytes` in a
//! `Blob` without copying it.

mod classify;
mod client;
#[cfg(feature = "provision")]
pub mod s3_async;
mod stream;

pub use client::{client, client_with_credentials, shared_config};

use super::variants::VariantNames;
use super::{Endpoint, EndpointError, Reply};
use crate::profile::{InvokeMode, SageMakerTarget};
use crate::sample::{ErrorKind, Failure};
use aws_sdk_sagemakerruntime::Client;
use aws_sdk_sagemakerruntime::error::SdkError;
use aws_sdk_sagemakerruntime::operation::invoke_endpoint::InvokeEndpointError;
use aws_sdk_sagemakerruntime::operation::invoke_endpoint_async::{
    InvokeEndpointAsyncError, InvokeEndpointAsyncOutput,
};
use aws_sdk_sagemakerruntime::primitives::Blob;
use bytes::Bytes;
use classify::{classify, probe_error};
use client::{AttemptCounter, CountAttempts};
use std::sync::Arc;
use std::time::Duration;
#[cfg(feature = "provision")]
use tokio::time::Instant;

/// Optional runtime headers sent with every request.
#[derive(Clone, Debug, Default)]
struct Headers {
    accept: Option<String>,
    custom_attributes: Option<String>,
    target_model: Option<String>,
    target_variant: Option<String>,
    target_container_hostname: Option<String>,
    inference_component: Option<String>,
}

/// One SageMaker endpoint, invoked synchronously or asynchronously.
pub struct SageMakerEndpoint {
    client: Client,
    endpoint_name: String,
    mode: InvokeMode,
    content_type: String,
    /// Boxed: large and read once per request.
    headers: Box<Headers>,
    /// Async: S3 URI of the input, `{bytes}` replaced by the payload size.
    input_location: Option<String>,
    #[cfg_attr(not(feature = "provision"), allow(dead_code))]
    timeout: Duration,
    variants: VariantNames,
    /// Present when the SDK may retry (`retries` > 0).
    attempts: Option<Arc<AttemptCounter>>,
    /// The SDK's retries per request (`retries`).
    max_retries: u32,
    /// Async through S3: inputs uploaded, completions seen on the output objects.
    #[cfg(feature = "provision")]
    s3: Option<s3_async::S3Async>,
    /// For messages: the endpoint and where the runtime API is.
    name: String,
    /// What to do about rejected credentials.
    remedy: String,
}

impl SageMakerEndpoint {
    /// The endpoint `endpoint_name` called through `client` (from [`client`]) with the
    /// settings of the profile's `[target]`; `timeout` bounds an async request until its
    /// completion is seen.
    pub fn new(
        client: Client,
        endpoint_name: &str,
        settings: &SageMakerTarget,
        content_type: &str,
        timeout: Duration,
    ) -> SageMakerEndpoint {
        let attempts = (settings.retries > 0).then(|| Arc::new(AttemptCounter::default()));
        let max_retries = settings.retries;
        let client = match &attempts {
            Some(counter) => {
                let config = client
                    .config()
                    .to_builder()
                    .interceptor(CountAttempts(Arc::clone(counter)));
                Client::from_conf(config.build())
            }
            None => client,
        };
        SageMakerEndpoint {
            client,
            endpoint_name: endpoint_name.to_string(),
            mode: settings.mode,
            content_type: content_type.to_string(),
            headers: Box::new(Headers {
                accept: settings.accept.clone(),
                custom_attributes: settings.custom_attributes.clone(),
                target_model: settings.target_model.clone(),
                target_variant: settings.target_variant.clone(),
                target_container_hostname: settings.target_container_hostname.clone(),
                inference_component: settings.inference_component.clone(),
            }),
            input_location: settings.input_location.clone(),
            timeout,
            variants: VariantNames::default(),
            attempts,
            max_retries,
            #[cfg(feature = "provision")]
            s3: None,
            name: display_name(endpoint_name, settings),
            remedy: client::remedy(settings),
        }
    }

    /// Async through S3: inputs are uploaded under `input_template` (`{bytes}` = size) and
    /// completion is the output object appearing.
    #[cfg(feature = "provision")]
    pub fn with_s3(mut self, s3: aws_sdk_s3::Client, input_template: &str) -> SageMakerEndpoint {
        self.s3 = Some(s3_async::S3Async::new(s3, input_template));
        let poll = crate::endpoint::async_poll::POLL;
        self.name = format!(
            "{} (inputs in S3, completion polled every {}-{} ms)",
            self.name,
            poll.first.as_millis(),
            poll.max.as_millis()
        );
        self
    }

    /// Requests the SDK retried (attempts beyond the first); always 0 when `retries` is 0.
    pub fn retries(&self) -> u64 {
        self.attempts.as_ref().map_or(0, |a| a.retries())
    }

    /// Retries since the last call: see [`Endpoint::take_retries`].
    pub fn take_retries(&self) -> u64 {
        self.attempts.as_ref().map_or(0, |a| a.take_retries())
    }

    /// One `InvokeEndpoint` with every configured header; the body is shared, not copied.
    async fn invoke(&self, body: Bytes) -> Result<Reply, SdkError<InvokeEndpointError>> {
        let h = &self.headers;
        let output = self
            .client
            .invoke_endpoint()
            .endpoint_name(&self.endpoint_name)
            .content_type(&self.content_type)
            .set_accept(h.accept.clone())
            .set_custom_attributes(h.custom_attributes.clone())
            .set_target_model(h.target_model.clone())
            .set_target_variant(h.target_variant.clone())
            .set_target_container_hostname(h.target_container_hostname.clone())
            .set_inference_component_name(h.inference_component.clone())
            .body(Blob::from_maybe_shared(body))
            .send()
            .await?;
        Ok(Reply {
            bytes_in: output.body().map_or(0, |b| b.as_ref().len() as u64),
            done_after: None,
            variant: output
                .invoked_production_variant()
                .map(|v| self.variants.id(v)),
            cold_start: false,
            tokens: None,
        })
    }

    /// One `InvokeEndpointAsync` for an input of `size` bytes at the input location.
    async fn submit(
        &self,
        size: usize,
    ) -> Result<InvokeEndpointAsyncOutput, SdkError<InvokeEndpointAsyncError>> {
        let location = self
            .input_location
            .as_deref()
            .map(|l| l.replace("{bytes}", &size.to_string()));
        self.submit_at(location).await
    }

    /// One `InvokeEndpointAsync` naming `location`.
    async fn submit_at(
        &self,
        location: Option<String>,
    ) -> Result<InvokeEndpointAsyncOutput, SdkError<InvokeEndpointAsyncError>> {
        self.client
            .invoke_endpoint_async()
            .endpoint_name(&self.endpoint_name)
            .content_type(&self.content_type)
            .set_accept(self.headers.accept.clone())
            .set_custom_attributes(self.headers.custom_attributes.clone())
            .set_input_location(location)
            .send()
            .await
    }

    /// Async through S3: the uploaded input, then the output (or failure) object.
    #[cfg(feature = "provision")]
    async fn send_s3(&self, s3: &s3_async::S3Async, body: Bytes) -> Result<Reply, Failure> {
        let location = s3.input(&body).await?;
        let sent = Instant::now();
        let output = self
            .submit_at(Some(location))
            .await
            .map_err(|e| classify(&e))?;
        let Some(out) = output.output_location() else {
            return Err(Failure {
                kind: ErrorKind::Http5xx,
                status: None,
                excerpt: crate::sample::Excerpt::of("accepted without an OutputLocation"),
            });
        };
        let done = s3
            .wait(out, output.failure_location(), sent, self.timeout)
            .await?;
        Ok(Reply::completed_after(done))
    }

    /// Async: the completion, seen in S3, measured from the send. Without S3 (a build
    /// without the `provision` feature) nothing is invoked: a completion could not be seen,
    /// and an accepted call is neither a success nor an error (`loadtest run` refuses such a
    /// target before any load).
    async fn send_async(&self, body: Bytes) -> Result<Reply, Failure> {
        #[cfg(feature = "provision")]
        if let Some(s3) = &self.s3 {
            return self.send_s3(s3, body).await;
        }
        let _ = body;
        Err(Failure {
            kind: ErrorKind::Validation,
            status: None,
            excerpt: crate::sample::Excerpt::of(ASYNC_NEEDS_S3),
        })
    }
}

/// Why an async SageMaker endpoint without S3 sends nothing.
pub const ASYNC_NEEDS_S3: &str = "`target.mode = \"async\"` sees completions in S3, which needs \
     the S3 SDK: build with `cargo build --features provision`";

impl SageMakerEndpoint {
    /// The probe of an async endpoint: one accepted invocation (its input uploaded first
    /// when inputs go through S3).
    async fn probe_async(&self, body: Bytes) -> Result<(), SdkError<InvokeEndpointAsyncError>> {
        #[cfg(feature = "provision")]
        if let Some(s3) = &self.s3
            && let Ok(location) = s3.input(&body).await
        {
            return self.submit_at(Some(location)).await.map(drop);
        }
        self.submit(body.len()).await.map(drop)
    }
}

/// `InvokeEndpoint bert-c5 (us-east-1, via http://127.0.0.1:8080)`.
fn display_name(endpoint_name: &str, settings: &SageMakerTarget) -> String {
    let operation = match settings.mode {
        InvokeMode::Sync => "InvokeEndpoint",
        InvokeMode::Async => "InvokeEndpointAsync",
        InvokeMode::Stream => "InvokeEndpointWithResponseStream",
    };
    match &settings.endpoint_url {
        Some(url) => format!(
            "SageMaker {operation} {endpoint_name} ({}, via {url})",
            settings.region
        ),
        None => format!(
            "SageMaker {operation} {endpoint_name} ({})",
            settings.region
        ),
    }
}

impl Endpoint for SageMakerEndpoint {
    async fn request(&self, body: Bytes) -> Result<Reply, Failure> {
        match self.mode {
            InvokeMode::Sync => self.invoke(body).await.map_err(|e| classify(&e)),
            InvokeMode::Async => self.send_async(body).await,
            InvokeMode::Stream => self.invoke_stream(body).await,
        }
    }

    async fn probe(&self, body: Bytes) -> Result<(), EndpointError> {
        match self.mode {
            InvokeMode::Sync => self
                .invoke(body)
                .await
                .map(drop)
                .map_err(|e| probe_error(&e, &self.name, &self.remedy)),
            InvokeMode::Async => self
                .probe_async(body)
                .await
                .map_err(|e| probe_error(&e, &self.name, &self.remedy)),
            InvokeMode::Stream => {
                let started = self.start_stream(body.clone()).await;
                started.map_err(|e| probe_error(&e, &self.name, &self.remedy))?;
                self.invoke_stream(body)
                    .await
                    .map(drop)
                    .map_err(|f| EndpointError::probe_failed(&self.name, &f, None, &self.remedy))
            }
        }
    }

    fn describe(&self) -> String {
        self.name.clone()
    }

    fn retries(&self) -> u64 {
        SageMakerEndpoint::retries(self)
    }

    fn take_retries(&self) -> u64 {
        SageMakerEndpoint::take_retries(self)
    }

    fn max_retries(&self) -> u32 {
        self.max_retries
    }

    fn variant_names(&self) -> Vec<String> {
        self.variants.names()
    }

    fn poll_granularity(&self) -> Option<Duration> {
        #[cfg(feature = "provision")]
        if self.s3.is_some() {
            return Some(crate::endpoint::async_poll::POLL.granularity());
        }
        None
    }
}
