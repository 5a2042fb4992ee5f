//! LLM endpoints, with the same shape as the other modes: parse (an OpenAI-style body) →
//! admit (the endpoint's bounded queue, then the instance's continuous-batching scheduler)
//! → simulate (tokens as the scheduler produces them) → respond, as a SageMaker response
//! stream (`InvokeEndpointWithResponseStream`), OpenAI Server-Sent Events, or one whole JSON
//! answer (`InvokeEndpoint`, `stream: false`).
//!
//! The answer starts with the first token: errors before it (queue full, prompt over the
//! context, a first token later than the hosting option's 60 s) are plain HTTP errors; a
//! failure after it is an exception event (SageMaker) or an SSE error event (OpenAI).

use super::check_runtime_headers;
use crate::domain::Hosting;
use crate::emulator::endpoint::{Endpoint, Generation, Work};
use crate::emulator::eventstream;
use crate::emulator::faults;
use crate::emulator::llm::{DEFAULT_MAX_TOKENS, Shape};
use crate::emulator::openai::{self, Api, Chunks, DONE};
use crate::emulator::response::{ApiError, ms_header};
use crate::emulator::scheduler::Event;
use crate::emulator::serving::ServeError;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::time::Instant;

/// Numbers the answers (`"id": "cmpl-N"`).
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// How an answer travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Transport {
    /// `application/vnd.amazon.eventstream`, one `PayloadPart` per SSE chunk.
    SageMaker,
    /// `text/event-stream`.
    Sse,
    /// One JSON answer once every token is generated.
    Whole,
}

const SAGEMAKER_CONTENT_TYPE: HeaderName = HeaderName::from_static("x-amzn-sagemaker-content-type");
const INVOKED_VARIANT: HeaderName = HeaderName::from_static("x-amzn-invoked-production-variant");
const TTFT_MS: HeaderName = HeaderName::from_static("x-emulator-first-token-ms");

/// `InvokeEndpointWithResponseStream` on an LLM endpoint.
pub(crate) async fn sagemaker_stream(
    ep: Arc<Endpoint>,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    check_runtime_headers(&ep, headers)?;
    serve(ep, body, None, Transport::SageMaker).await
}

/// `InvokeEndpoint` (or the container's `/invocations`) on an LLM endpoint: streams when
/// the body says `"stream": true`, else answers whole.
pub(crate) async fn invoke(
    ep: Arc<Endpoint>,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    check_runtime_headers(&ep, headers)?;
    serve(ep, body, None, Transport::Whole).await
}

/// `POST …/v1/chat/completions` or `…/v1/completions`: SSE when `"stream": true`.
pub(crate) async fn openai(ep: Arc<Endpoint>, api: Api, body: Body) -> Result<Response, ApiError> {
    serve(ep, body, Some(api), Transport::Whole).await
}

/// Parse → admit → first token → respond. `Whole` means "as the body's `stream` says" on
/// the InvokeEndpoint and OpenAI paths.
async fn serve(
    ep: Arc<Endpoint>,
    body: Body,
    api: Option<Api>,
    transport: Transport,
) -> Result<Response, ApiError> {
    // Parse.
    let limit = Hosting::RealTime.max_payload_bytes();
    let bytes = axum::body::to_bytes(body, usize::try_from(limit).unwrap_or(usize::MAX))
        .await
        .map_err(|e| {
            ApiError::Validation(format!(
                "Could not read the request body ({e}); the real-time limit is {limit} bytes."
            ))
        })?;
    let request = openai::parse(&bytes, api).map_err(ApiError::Validation)?;
    let transport = match (transport, request.stream) {
        (Transport::Whole, Some(true)) => Transport::Sse,
        (t, _) => t,
    };
    let shape = shape_of(&ep, &request)?;
    // Admit.
    let mut rng = ep.next_rng();
    let fault = faults::draw(&ep.spec.faults, &mut rng);
    if fault.reset {
        return Err(ApiError::Reset);
    }
    if let Some(kind) = fault.error {
        return Err(ApiError::injected(kind, ep.name()));
    }
    let fail_at = fault.stream_error.then_some(shape.max_tokens / 2);
    let work = Work {
        payload_bytes: bytes.len() as u64,
        spike_ms: fault.spike_ms,
    };
    let ticket = ep
        .admit(rng, work)
        .map_err(|r| ApiError::from_rejection(r, &ep))?;
    let mut generation = ticket
        .generate(shape, fail_at)
        .map_err(|e| ApiError::from_serve(e, &ep))?;
    // Simulate: the answer waits for the first token, within the hosting option's limit.
    let first = tokio::time::timeout(ep.limit_wall(), generation.events.recv()).await;
    let first = match first {
        Ok(Some(event)) => event,
        Ok(None) => return Err(ApiError::from_serve(ServeError::ShuttingDown, &ep)),
        Err(_) => return Err(timed_out(&ep)),
    };
    let model = request.model.unwrap_or_else(|| ep.spec.model.name.clone());
    let chunks = Chunks::new(request.api, NEXT_ID.fetch_add(1, Ordering::Relaxed), &model);
    let stream = TokenStream {
        generation,
        pending: Some(first),
        chunks,
        shape,
        transport,
        done: false,
    };
    // Respond.
    match transport {
        Transport::Whole => whole(&ep, stream).await,
        Transport::Sse | Transport::SageMaker => Ok(streaming(&ep, stream)),
    }
}

/// Prompt and output lengths, checked against the model's context and the KV cache.
fn shape_of(ep: &Endpoint, request: &openai::Request) -> Result<Shape, ApiError> {
    let Some(llm) = ep.spec.model.llm else {
        return Err(ApiError::Validation(format!(
            "Endpoint {} does not stream: its model `{}` is not an LLM; use an LLM preset \
             (llm-small, llm-7b) or call InvokeEndpoint.",
            ep.name(),
            ep.spec.model.name
        )));
    };
    let shape = Shape {
        input_tokens: request.input_tokens,
        max_tokens: request.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS),
    };
    let asked = shape.reserved_tokens();
    if asked > u64::from(llm.context_tokens) {
        return Err(ApiError::Validation(format!(
            "This model's maximum context length is {} tokens; the request asks for {} prompt \
             + {} output tokens. Shorten the prompt or lower max_tokens.",
            llm.context_tokens, shape.input_tokens, shape.max_tokens
        )));
    }
    let budget = ep.kv_budget().unwrap_or(0);
    if asked > budget {
        return Err(ApiError::Validation(format!(
            "The request needs {asked} tokens of KV cache but endpoint {} ({}) holds {budget}; \
             shorten the prompt, lower max_tokens or pick an instance type with more GPU memory.",
            ep.name(),
            ep.spec.instance_type
        )));
    }
    Ok(shape)
}

fn timed_out(ep: &Endpoint) -> ApiError {
    ApiError::Model {
        endpoint: ep.name().to_string(),
        original_status: 0,
        original_message: "Your invocation timed out while waiting for the first token from \
                           container primary."
            .into(),
    }
}

/// The chunks of one generation, as they come.
struct TokenStream {
    generation: Generation,
    pending: Option<Event>,
    chunks: Chunks,
    shape: Shape,
    transport: Transport,
    done: bool,
}

impl TokenStream {
    /// The next SSE chunks (the last token comes with the usage chunk and `[DONE]`), or the
    /// failure's error text; `None` at the end.
    async fn next_chunks(&mut self) -> Option<Result<Vec<String>, String>> {
        if self.done {
            return None;
        }
        let event = match self.pending.take() {
            Some(event) => event,
            None => self.generation.events.recv().await?,
        };
        match event {
            Event::Token { index, .. } => {
                let last = index + 1 >= self.shape.max_tokens;
                let mut out = vec![self.chunks.token(last)];
                if last {
                    self.done = true;
                    let (prompt, completion) = (self.shape.input_tokens, self.shape.max_tokens);
                    out.push(self.chunks.usage(prompt, completion));
                    out.push(DONE.to_string());
                }
                Some(Ok(out))
            }
            Event::Failed { .. } => {
                self.done = true;
                Some(Err(format!(
                    "The model failed after {} of {} tokens (injected stream fault).",
                    self.shape.max_tokens / 2,
                    self.shape.max_tokens
                )))
            }
        }
    }

    /// The next bytes on the wire for this stream's transport.
    async fn next_bytes(&mut self) -> Option<Bytes> {
        let sagemaker = self.transport == Transport::SageMaker;
        match self.next_chunks().await? {
            Ok(chunks) if sagemaker => {
                let frames: Vec<Bytes> =
                    chunks.into_iter().map(eventstream::payload_part).collect();
                Some(frames.concat().into())
            }
            Ok(chunks) => Some(chunks.concat().into()),
            Err(message) if sagemaker => Some(eventstream::model_stream_error(&message)),
            Err(message) => Some(self.chunks.error(&message).into()),
        }
    }
}

/// A streaming answer: headers now, chunks as the tokens come.
fn streaming(ep: &Endpoint, stream: TokenStream) -> Response {
    let transport = stream.transport;
    let ttft = ttft_ms(&stream);
    let body = futures_util::stream::unfold(stream, |mut s| async move {
        let bytes = s.next_bytes().await?;
        Some((Ok::<_, Infallible>(bytes), s))
    });
    let mut response = Response::new(Body::from_stream(body));
    let headers = response.headers_mut();
    if transport == Transport::SageMaker {
        let content_type = HeaderValue::from_static(eventstream::CONTENT_TYPE);
        headers.insert(header::CONTENT_TYPE, content_type);
        headers.insert(
            SAGEMAKER_CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        );
    } else {
        let content_type = HeaderValue::from_static("text/event-stream");
        headers.insert(header::CONTENT_TYPE, content_type);
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    headers.insert(INVOKED_VARIANT, ep.variant_header.clone());
    headers.insert(TTFT_MS, ms_header(ttft));
    response
}

/// A whole answer once every token is generated; a failure part way is a ModelError.
async fn whole(ep: &Endpoint, mut stream: TokenStream) -> Result<Response, ApiError> {
    let ttft = ttft_ms(&stream);
    while let Some(chunks) = stream.next_chunks().await {
        if let Err(message) = chunks {
            return Err(ApiError::Model {
                endpoint: ep.name().to_string(),
                original_status: 500,
                original_message: message,
            });
        }
    }
    let (prompt, completion) = (stream.shape.input_tokens, stream.shape.max_tokens);
    let mut response = Response::new(Body::from(stream.chunks.whole(prompt, completion)));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(INVOKED_VARIANT, ep.variant_header.clone());
    headers.insert(TTFT_MS, ms_header(ttft));
    Ok(response)
}

/// Wall-clock ms from admission to the first token (or failure), as the emulator saw it.
fn ttft_ms(stream: &TokenStream) -> f64 {
    let at = match stream.pending {
        Some(Event::Token { at, .. } | Event::Failed { at }) => at,
        None => Instant::now(),
    };
    at.saturating_duration_since(stream.generation.arrived)
        .as_secs_f64()
        * 1000.0
}
