//! Streaming over plain HTTP: OpenAI-compatible Server-Sent Events (`kind = "openai"`), any
//! chunked reply (`kind = "http"` with `stream = true`: first byte and chunk gaps), and the
//! SageMaker event stream the emulator's LLM endpoints answer on their
//! `invocations-response-stream` route (decoded with `aws-smithy-eventstream`, as the SDK
//! does).
//!
//! Each request times its tokens on a [`TokenClock`] and hands them back in
//! [`Reply::tokens`]; a broken stream is an [`ErrorKind::Stream`] failure with the bytes that
//! broke it, never a panic.

// `Failure` is `Copy` and inline by design (no allocation for a failed request).
#![allow(clippy::result_large_err)]

use super::http::{HttpFailure, classify, probe_result, read_answer};
use super::stream::{SseParser, TokenClock, TokenCount, stream_failure};
use super::{Endpoint, EndpointError, Reply};
use crate::sample::{ErrorKind, Failure};
use aws_smithy_eventstream::frame::{DecodedFrame, MessageFrameDecoder};
use bytes::{Bytes, BytesMut};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Client, Url};
use std::collections::BTreeMap;
use tokio::time::Instant;

/// How a streamed reply is framed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// OpenAI Server-Sent Events: one token per chunk with text, `usage`, `[DONE]`.
    Sse,
    /// Any chunked body: each chunk read counts as a token.
    Chunks,
    /// `application/vnd.amazon.eventstream` messages whose `PayloadPart`s carry SSE bytes.
    EventStream,
}

/// What a streaming endpoint sends with every request.
#[derive(Clone, Debug, Default)]
pub struct StreamSettings {
    /// `Content-Type` of the request body.
    pub content_type: String,
    /// Extra headers (`[target] headers`).
    pub headers: BTreeMap<String, String>,
    /// A bearer token for `Authorization` (read from `api_key_env`; never written out).
    pub api_key: Option<String>,
}

/// One streaming URL.
#[derive(Clone, Debug)]
pub struct StreamEndpoint {
    client: Client,
    url: Url,
    headers: HeaderMap,
    framing: Framing,
}

impl StreamEndpoint {
    /// A streaming target at `url` framed as `framing`.
    pub fn new(
        client: Client,
        url: &str,
        framing: Framing,
        settings: &StreamSettings,
    ) -> Result<StreamEndpoint, EndpointError> {
        let setup = |reason: String| EndpointError::Setup {
            target: url.to_string(),
            reason,
        };
        let url = Url::parse(url).map_err(|e| setup(format!("bad URL: {e}")))?;
        let mut map = HeaderMap::new();
        let value = |v: &str, what: &str| {
            HeaderValue::from_str(v).map_err(|_| setup(format!("{what} is not a header value")))
        };
        map.insert(
            CONTENT_TYPE,
            value(&settings.content_type, "payload.content_type")?,
        );
        if framing == Framing::Sse {
            map.insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
        }
        if let Some(key) = &settings.api_key {
            let mut v = value(&format!("Bearer {key}"), "the API key")?;
            v.set_sensitive(true);
            map.insert(AUTHORIZATION, v);
        }
        for (name, v) in &settings.headers {
            let n = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| setup(format!("target.headers: `{name}` is not a header name")))?;
            map.insert(n, value(v, &format!("target.headers.{name}"))?);
        }
        Ok(StreamEndpoint {
            client,
            url,
            headers: map,
            framing,
        })
    }

    async fn exchange(&self, body: Bytes) -> Result<Reply, HttpFailure> {
        let sent = Instant::now();
        let mut response = self
            .client
            .post(self.url.clone())
            .headers(self.headers.clone())
            .body(body)
            .send()
            .await?;
        if !response.status().is_success() {
            read_answer(response).await?;
            return Err(HttpFailure::answer(ErrorKind::Http5xx, None, "unreachable"));
        }
        let counted = match self.framing {
            Framing::Chunks => TokenCount::Chunks,
            Framing::Sse | Framing::EventStream => TokenCount::Stream,
        };
        let mut clock = TokenClock::new(sent, counted);
        let mut reader = Reader::new(self.framing);
        let mut bytes_in = 0u64;
        while let Some(chunk) = response.chunk().await? {
            bytes_in += chunk.len() as u64;
            reader
                .feed(&chunk, Instant::now(), &mut clock)
                .map_err(HttpFailure::Status)?;
        }
        reader.finish().map_err(HttpFailure::Status)?;
        if !clock.started() {
            return Err(HttpFailure::Status(stream_failure(
                "the stream carried no tokens",
                &[],
            )));
        }
        Ok(Reply {
            bytes_in,
            tokens: Some(Box::new(clock.finish())),
            ..Reply::default()
        })
    }
}

/// Decodes one reply's bytes by its framing.
struct Reader {
    framing: Framing,
    sse: SseParser,
    frames: MessageFrameDecoder,
    buffer: BytesMut,
}

impl Reader {
    fn new(framing: Framing) -> Reader {
        Reader {
            framing,
            sse: SseParser::default(),
            frames: MessageFrameDecoder::new(),
            buffer: BytesMut::new(),
        }
    }

    fn feed(&mut self, bytes: &[u8], at: Instant, clock: &mut TokenClock) -> Result<(), Failure> {
        match self.framing {
            Framing::Chunks => {
                if !bytes.is_empty() {
                    clock.token(at);
                }
                Ok(())
            }
            Framing::Sse => self.sse.feed(bytes, at, clock),
            Framing::EventStream => {
                self.buffer.extend_from_slice(bytes);
                self.messages(at, clock)
            }
        }
    }

    /// Every complete event-stream message in the buffer: payload parts feed the SSE parser,
    /// an exception fails the request with its payload.
    fn messages(&mut self, at: Instant, clock: &mut TokenClock) -> Result<(), Failure> {
        loop {
            let frame = self
                .frames
                .decode_frame(&mut self.buffer)
                .map_err(|e| stream_failure(&format!("bad event-stream message ({e})"), &[]))?;
            let DecodedFrame::Complete(message) = frame else {
                return Ok(());
            };
            let header = |name: &str| {
                message
                    .headers()
                    .iter()
                    .find(|h| h.name().as_str() == name)
                    .and_then(|h| h.value().as_string().ok())
                    .map(|s| s.as_str().to_string())
            };
            match header(":message-type").as_deref() {
                Some("event") if header(":event-type").as_deref() == Some("PayloadPart") => {
                    self.sse.feed(message.payload(), at, clock)?;
                }
                Some("event") => {}
                _ => {
                    let kind = header(":exception-type").unwrap_or_else(|| "exception".into());
                    return Err(stream_failure(&kind, message.payload()));
                }
            }
        }
    }

    fn finish(&self) -> Result<(), Failure> {
        match self.framing {
            Framing::Chunks => Ok(()),
            Framing::Sse => self.sse.finish(),
            Framing::EventStream if !self.buffer.is_empty() => Err(stream_failure(
                "event stream cut mid-message",
                &self.buffer[..self.buffer.len().min(64)],
            )),
            Framing::EventStream => self.sse.finish(),
        }
    }
}

impl Endpoint for StreamEndpoint {
    async fn request(&self, body: Bytes) -> Result<Reply, Failure> {
        self.exchange(body).await.map_err(classify)
    }

    async fn probe(&self, body: Bytes) -> Result<(), EndpointError> {
        probe_result(self.exchange(body).await.map(drop), &self.describe())
    }

    fn describe(&self) -> String {
        let how = match self.framing {
            Framing::Sse => "SSE",
            Framing::Chunks => "chunked",
            Framing::EventStream => "event stream",
        };
        format!("POST {} ({how})", self.url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_sagemakerruntime::primitives::event_stream::{Header, HeaderValue, Message};
    use aws_smithy_eventstream::frame::write_message_to;

    fn frame(kind: &'static str, name: (&'static str, &'static str), payload: &str) -> Vec<u8> {
        let message = Message::new(Bytes::from(payload.to_string()))
            .add_header(Header::new(
                ":message-type",
                HeaderValue::String(kind.into()),
            ))
            .add_header(Header::new(name.0, HeaderValue::String(name.1.into())));
        let mut out = Vec::new();
        write_message_to(&message, &mut out).unwrap();
        out
    }

    fn part(sse: &str) -> Vec<u8> {
        frame("event", (":event-type", "PayloadPart"), sse)
    }

    const TOKEN: &str = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" tok\"}}]}\n\n";

    #[test]
    fn event_stream_payload_parts_are_timed_across_split_reads() {
        let t0 = Instant::now();
        let mut clock = TokenClock::new(t0, TokenCount::Stream);
        let mut r = Reader::new(Framing::EventStream);
        let all = [part(TOKEN), part(TOKEN), part("data: [DONE]\n\n")].concat();
        for piece in all.chunks(7) {
            r.feed(piece, t0, &mut clock).unwrap();
        }
        r.finish().unwrap();
        assert_eq!(clock.finish().output_tokens, 2);
    }

    #[test]
    fn a_cut_or_an_exception_is_a_stream_failure_with_an_example() {
        let t0 = Instant::now();
        let mut clock = TokenClock::new(t0, TokenCount::Stream);
        let mut r = Reader::new(Framing::EventStream);
        let one = part(TOKEN);
        r.feed(&one[..one.len() / 2], t0, &mut clock).unwrap();
        let cut = r.finish().unwrap_err();
        assert_eq!(cut.kind, ErrorKind::Stream);
        assert!(
            cut.excerpt
                .text()
                .starts_with("event stream cut mid-message"),
            "{cut:?}"
        );

        let mut r = Reader::new(Framing::EventStream);
        let body = r#"{"Message":"decode failed","ErrorCode":"ModelStreamError"}"#;
        let exception = frame("exception", (":exception-type", "ModelStreamError"), body);
        let e = r.feed(&exception, t0, &mut clock).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Stream);
        assert_eq!(e.excerpt.text(), format!("ModelStreamError: {body}"));

        let mut r = Reader::new(Framing::EventStream);
        let e = r.feed(&[0u8; 16], t0, &mut clock).unwrap_err();
        assert!(
            e.excerpt.text().starts_with("bad event-stream message"),
            "{e:?}"
        );
    }
}
