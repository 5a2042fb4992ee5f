//! `InvokeEndpointWithResponseStream` through the SDK (`[target] mode = "stream"`): the SDK
//! decodes the event stream; each `PayloadPart` carries SSE bytes (LMI, vLLM and TGI
//! containers stream OpenAI chunks) that [`SseParser`] times, or, when the container's
//! content type is not `text/event-stream`, counts as one token per part. A stream error
//! event (`ModelStreamError`, `InternalStreamFailure`) is an [`ErrorKind::Stream`] failure
//! with its code and message.

use super::SageMakerEndpoint;
use super::classify::{Typed, classify};
use crate::endpoint::Reply;
use crate::endpoint::stream::{SseParser, TokenClock, TokenCount, stream_failure};
use crate::sample::{ErrorKind, Excerpt, Failure};
use aws_sdk_sagemakerruntime::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sagemakerruntime::operation::invoke_endpoint_with_response_stream::{
    InvokeEndpointWithResponseStreamError as StreamError, InvokeEndpointWithResponseStreamOutput,
};
use aws_sdk_sagemakerruntime::primitives::Blob;
use aws_sdk_sagemakerruntime::types::ResponseStream;
use aws_sdk_sagemakerruntime::types::error::ResponseStreamError;
use bytes::Bytes;
use tokio::time::Instant;

impl Typed for StreamError {
    fn typed_kind(&self) -> Option<ErrorKind> {
        Some(match self {
            StreamError::ValidationError(_) => ErrorKind::Validation,
            StreamError::ModelError(_) => ErrorKind::ModelError,
            StreamError::ModelStreamError(_) | StreamError::InternalStreamFailure(_) => {
                ErrorKind::Stream
            }
            StreamError::ServiceUnavailable(_) => ErrorKind::ServiceUnavailable,
            StreamError::InternalFailure(_) => ErrorKind::InternalFailure,
            _ => return None,
        })
    }
}

impl SageMakerEndpoint {
    /// Starts one streamed invocation: the answer's headers, the events still to come.
    pub(super) async fn start_stream(
        &self,
        body: Bytes,
    ) -> Result<InvokeEndpointWithResponseStreamOutput, SdkError<StreamError>> {
        let h = &self.headers;
        self.client
            .invoke_endpoint_with_response_stream()
            .endpoint_name(&self.endpoint_name)
            .content_type(&self.content_type)
            .set_accept(h.accept.clone())
            .set_custom_attributes(h.custom_attributes.clone())
            .set_target_variant(h.target_variant.clone())
            .set_target_container_hostname(h.target_container_hostname.clone())
            .set_inference_component_name(h.inference_component.clone())
            .body(Blob::from_maybe_shared(body))
            .send()
            .await
    }

    /// One streamed invocation, timed per token.
    pub(super) async fn invoke_stream(&self, body: Bytes) -> Result<Reply, Failure> {
        let sent = Instant::now();
        let mut output = self.start_stream(body).await.map_err(|e| classify(&e))?;
        let sse = output
            .content_type()
            .is_none_or(|ct| ct.starts_with("text/event-stream"));
        let counted = if sse {
            TokenCount::Stream
        } else {
            TokenCount::Chunks
        };
        let mut clock = TokenClock::new(sent, counted);
        let mut parser = SseParser::default();
        let mut bytes_in = 0u64;
        loop {
            match output.body.recv().await {
                Ok(Some(ResponseStream::PayloadPart(part))) => {
                    let bytes = part.bytes().map_or(&[][..], |b| b.as_ref());
                    bytes_in += bytes.len() as u64;
                    if sse {
                        parser.feed(bytes, Instant::now(), &mut clock)?;
                    } else if !bytes.is_empty() {
                        clock.token(Instant::now());
                    }
                }
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(e) => return Err(event_failure(&e)),
            }
        }
        if sse {
            parser.finish()?;
        }
        if !clock.started() {
            return Err(stream_failure("the stream carried no tokens", &[]));
        }
        Ok(Reply {
            bytes_in,
            variant: output
                .invoked_production_variant()
                .map(|v| self.variants.id(v)),
            tokens: Some(Box::new(clock.finish())),
            ..Reply::default()
        })
    }
}

/// A failure read off the event stream: an error event is [`ErrorKind::Stream`] named by its
/// exception type (`ModelStreamError: …`); a broken connection is [`ErrorKind::Io`].
fn event_failure<R: std::fmt::Debug>(e: &SdkError<ResponseStreamError, R>) -> Failure {
    if let SdkError::ServiceError(ctx) = e {
        let err = ctx.err();
        let name = match err {
            ResponseStreamError::ModelStreamError(_) => "ModelStreamError",
            ResponseStreamError::InternalStreamFailure(_) => "InternalStreamFailure",
            _ => err.code().unwrap_or("stream error"),
        };
        let mut excerpt = Excerpt::of(name);
        if let ResponseStreamError::ModelStreamError(m) = err
            && let Some(code) = m.error_code().filter(|c| *c != name)
        {
            excerpt.push(format!(" ({code})").as_bytes());
        }
        excerpt.push(b": ");
        excerpt.push(err.message().unwrap_or("").as_bytes());
        return Failure {
            kind: ErrorKind::Stream,
            status: None,
            excerpt,
        };
    }
    let mut excerpt = Excerpt::default();
    crate::endpoint::http::chain_into(e, &mut excerpt);
    let kind = match e {
        SdkError::TimeoutError(_) => ErrorKind::Timeout,
        SdkError::ResponseError(_) => ErrorKind::Stream,
        _ => ErrorKind::Io,
    };
    Failure {
        kind,
        status: None,
        excerpt,
    }
}
