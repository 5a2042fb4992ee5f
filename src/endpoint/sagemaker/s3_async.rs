//! Asynchronous inference to completion, the way an account shows it: each payload size's
//! input is uploaded to S3 once, `InvokeEndpointAsync` names it, and completion is the
//! output object appearing at `OutputLocation` (or the failure object at
//! `FailureLocation`, a model error with its message), seen by polling HEAD on the shared
//! schedule of [`crate::endpoint::async_poll`]. Latency runs from the invoke to the poll that
//! saw the object; the largest poll interval (the granularity) is recorded with each cell.
//! Inputs at a location that is not `s3://` (`emulator://bytes/<N>`) are named, not uploaded.

use crate::endpoint::async_poll::{self, Objects, split};
use crate::sample::{ErrorKind, Excerpt, Failure};
use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::OnceCell;
use tokio::time::Instant;

/// Uploaded inputs by size, each uploaded once.
type Uploads = Mutex<HashMap<usize, Arc<OnceCell<Result<String, String>>>>>;

/// S3 inputs and completions of one async endpoint.
pub struct S3Async {
    s3: Client,
    /// `s3://bucket/prefix/{bytes}.bin`: where the input of each size goes.
    input_template: String,
    uploads: Uploads,
}

impl S3Async {
    /// Inputs go to `input_template` with `{bytes}` replaced by the payload size.
    pub fn new(s3: Client, input_template: &str) -> S3Async {
        S3Async {
            s3,
            input_template: input_template.to_string(),
            uploads: Mutex::default(),
        }
    }

    /// The input location of `body`'s size, uploading it the first time.
    pub async fn input(&self, body: &Bytes) -> Result<String, Failure> {
        let cell = {
            let mut uploads = self.uploads.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(uploads.entry(body.len()).or_default())
        };
        let uploaded = cell
            .get_or_init(|| async {
                let location = self
                    .input_template
                    .replace("{bytes}", &body.len().to_string());
                if !location.starts_with("s3://") {
                    return Ok(location);
                }
                let (bucket, key) = split(&location)
                    .ok_or_else(|| format!("{location} is not an s3://bucket/key location"))?;
                self.s3
                    .put_object()
                    .bucket(bucket)
                    .key(key)
                    .body(ByteStream::from(body.clone()))
                    .send()
                    .await
                    .map_err(|e| {
                        format!(
                            "upload of {location} failed: {}",
                            crate::endpoint::http::error_chain(&e)
                        )
                    })?;
                Ok(location)
            })
            .await;
        uploaded.clone().map_err(|message| Failure {
            kind: ErrorKind::Validation,
            status: None,
            excerpt: Excerpt::of(&message),
        })
    }

    /// Polls the output and failure locations until one appears or `ttl` has passed since
    /// `sent`; returns the time from `sent` to the poll that saw the output.
    pub async fn wait(
        &self,
        output: &str,
        failure: Option<&str>,
        sent: Instant,
        ttl: Duration,
    ) -> Result<Duration, Failure> {
        async_poll::wait(self, output, failure, sent, ttl).await
    }
}

impl Objects for S3Async {
    async fn exists(&self, location: &str) -> Result<bool, Failure> {
        let Some((bucket, key)) = split(location) else {
            return Ok(false);
        };
        match self.s3.head_object().bucket(bucket).key(key).send().await {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(false),
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => Ok(false),
            Err(e) => Err(Failure {
                kind: ErrorKind::Io,
                status: e.raw_response().map(|r| r.status().as_u16()),
                excerpt: Excerpt::of(&crate::endpoint::http::error_chain(&e)),
            }),
        }
    }

    async fn read(&self, location: &str) -> String {
        let Some((bucket, key)) = split(location) else {
            return String::new();
        };
        match self.s3.get_object().bucket(bucket).key(key).send().await {
            Ok(o) => o
                .body
                .collect()
                .await
                .map(|b| String::from_utf8_lossy(&b.into_bytes()).into_owned())
                .unwrap_or_default(),
            Err(_) => String::new(),
        }
    }
}

/// The S3 client of a run: the shared AWS config, `endpoint_url` when set (the emulator,
/// moto) with path-style addressing, and checksums only where S3 requires them.
pub fn s3_client(sdk: &aws_config::SdkConfig, endpoint_url: Option<&str>) -> Client {
    let mut config = aws_sdk_s3::config::Builder::from(sdk)
        .request_checksum_calculation(aws_sdk_s3::config::RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(aws_sdk_s3::config::ResponseChecksumValidation::WhenRequired);
    if let Some(url) = endpoint_url {
        config = config.endpoint_url(url).force_path_style(true);
    }
    Client::from_conf(config.build())
}
