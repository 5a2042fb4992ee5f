//! The streaming request path shared by every streaming target: Server-Sent Events parsing
//! (OpenAI chunks, as vLLM, TGI, SGLang and LMI send them, also inside SageMaker
//! `PayloadPart`s), the clock that times each token, and [`Tokens`], what a streamed reply
//! carries back to the engine.
//!
//! One token is one chunk that carries text: servers that pack several tokens into a chunk
//! give chunk gaps as ITL, and the server's `usage` (when it sends one) gives the real
//! count, which TPOT then divides by.

// `Failure` is `Copy` and inline by design (no allocation for a failed request).
#![allow(clippy::result_large_err)]

use crate::sample::{ErrorKind, Excerpt, Failure};
use serde::Deserialize;
use std::time::Duration;
use tokio::time::Instant;

/// Where a reply's token counts came from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenCount {
    /// The server's `usage` chunk.
    Usage,
    /// Counted from the stream: one per chunk carrying text.
    #[default]
    Stream,
    /// A plain chunked HTTP reply: each body chunk counts as one.
    Chunks,
}

/// Token timings of one streamed reply, measured from the send.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tokens {
    /// Time to the first token (the first chunk with text).
    pub first_token: Duration,
    /// Time to the last token.
    pub last_token: Duration,
    /// Every gap between successive tokens (chunks), µs.
    pub gaps_us: Vec<u32>,
    /// Output tokens: the server's `usage` when it sent one, else counted.
    pub output_tokens: u32,
    /// Input tokens, when the server's `usage` says.
    pub input_tokens: Option<u32>,
    /// Where the counts came from.
    pub counted: TokenCount,
}

impl Tokens {
    /// Time per output token after the first: (last − first) / (output tokens − 1); `None`
    /// for a reply of one token or none.
    pub fn tpot(&self) -> Option<Duration> {
        let n = self.output_tokens.checked_sub(1).filter(|&n| n > 0)?;
        Some(self.last_token.saturating_sub(self.first_token) / n)
    }
}

/// Times the tokens of one reply as they arrive.
#[derive(Debug)]
pub struct TokenClock {
    sent: Instant,
    last: Option<Instant>,
    tokens: Tokens,
    seen: u32,
}

impl TokenClock {
    /// A clock for a request sent at `sent`, counting as `counted` until a `usage` arrives.
    pub fn new(sent: Instant, counted: TokenCount) -> TokenClock {
        TokenClock {
            sent,
            last: None,
            tokens: Tokens {
                counted,
                gaps_us: Vec::with_capacity(64),
                ..Tokens::default()
            },
            seen: 0,
        }
    }

    /// One token (a chunk with text) arrived at `at`.
    pub fn token(&mut self, at: Instant) {
        let since_send = at.saturating_duration_since(self.sent);
        match self.last {
            None => self.tokens.first_token = since_send,
            Some(prev) => {
                let gap = at.saturating_duration_since(prev).as_micros();
                self.tokens
                    .gaps_us
                    .push(u32::try_from(gap).unwrap_or(u32::MAX));
            }
        }
        self.tokens.last_token = since_send;
        self.last = Some(at);
        self.seen += 1;
    }

    /// The server's own counts.
    pub fn usage(&mut self, input: u32, output: u32) {
        self.tokens.input_tokens = Some(input);
        self.tokens.output_tokens = output;
        self.tokens.counted = TokenCount::Usage;
    }

    /// Whether any token arrived.
    pub fn started(&self) -> bool {
        self.seen > 0
    }

    /// The reply's timings; a stream without a usage chunk keeps its own count.
    pub fn finish(mut self) -> Tokens {
        if self.tokens.counted != TokenCount::Usage {
            self.tokens.output_tokens = self.seen;
        }
        self.tokens
    }
}

/// A [`ErrorKind::Stream`] failure saying what was wrong, with the offending bytes.
pub fn stream_failure(why: &str, bytes: &[u8]) -> Failure {
    let mut excerpt = Excerpt::of(why);
    if !bytes.is_empty() {
        excerpt.push(b": ");
        excerpt.push(bytes);
    }
    Failure {
        kind: ErrorKind::Stream,
        status: None,
        excerpt,
    }
}

/// One OpenAI streaming chunk, as far as timing needs it.
#[derive(Debug, Deserialize)]
struct Chunk<'a> {
    #[serde(default, borrow)]
    choices: Vec<Choice<'a>>,
    #[serde(default)]
    usage: Option<Usage>,
    /// A failure mid-stream: `{"error": {"message": …, "code": …}}`.
    #[serde(default, borrow)]
    error: Option<StreamError<'a>>,
}

#[derive(Debug, Deserialize)]
struct StreamError<'a> {
    #[serde(default, borrow)]
    message: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow)]
    code: Option<std::borrow::Cow<'a, str>>,
}

#[derive(Debug, Deserialize)]
struct Choice<'a> {
    #[serde(default, borrow)]
    delta: Option<Delta<'a>>,
    #[serde(default, borrow)]
    text: Option<std::borrow::Cow<'a, str>>,
}

#[derive(Debug, Deserialize)]
struct Delta<'a> {
    #[serde(default, borrow)]
    content: Option<std::borrow::Cow<'a, str>>,
}

#[derive(Debug, Deserialize)]
struct Usage {
    #[serde(default)]
    prompt_tokens: u32,
    #[serde(default)]
    completion_tokens: u32,
}

/// Longest SSE line kept while waiting for its end: a longer one is a broken stream.
const MAX_LINE: usize = 1 << 20;

/// Parses Server-Sent Events as bytes arrive, timing OpenAI chunks on a [`TokenClock`].
#[derive(Debug, Default)]
pub struct SseParser {
    /// An incomplete line carried over to the next read.
    partial: Vec<u8>,
    /// `data: [DONE]` was seen.
    done: bool,
    /// Events were seen (data lines).
    events: u32,
}

impl SseParser {
    /// Feeds bytes that arrived at `at`; every complete line is parsed.
    pub fn feed(
        &mut self,
        bytes: &[u8],
        at: Instant,
        clock: &mut TokenClock,
    ) -> Result<(), Failure> {
        let mut rest = bytes;
        while let Some(nl) = rest.iter().position(|&b| b == b'\n') {
            let (head, tail) = rest.split_at(nl);
            rest = &tail[1..];
            if self.partial.is_empty() {
                self.line(head, at, clock)?;
            } else {
                let mut line = std::mem::take(&mut self.partial);
                line.extend_from_slice(head);
                self.line(&line, at, clock)?;
            }
        }
        if self.partial.len() + rest.len() > MAX_LINE {
            return Err(stream_failure(
                "SSE line over 1 MiB without a line end",
                &[],
            ));
        }
        self.partial.extend_from_slice(rest);
        Ok(())
    }

    /// The stream ended: it must have ended on a line boundary after `[DONE]` (or at least
    /// after an event, for servers that send no `[DONE]`).
    pub fn finish(&self) -> Result<(), Failure> {
        if !self.partial.iter().all(u8::is_ascii_whitespace) {
            return Err(stream_failure("stream cut mid-event", &self.partial));
        }
        if !self.done && self.events == 0 {
            return Err(stream_failure("stream ended before any event", &[]));
        }
        Ok(())
    }

    fn line(&mut self, line: &[u8], at: Instant, clock: &mut TokenClock) -> Result<(), Failure> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() || line.starts_with(b":") {
            return Ok(());
        }
        let (field, value) = match line.iter().position(|&b| b == b':') {
            Some(i) => (&line[..i], &line[i + 1..]),
            None => (line, &b""[..]),
        };
        let value = value.strip_prefix(b" ").unwrap_or(value);
        match field {
            b"data" => self.data(value, at, clock),
            b"event" | b"id" | b"retry" => Ok(()),
            _ => Err(stream_failure("bad SSE line", line)),
        }
    }

    fn data(&mut self, value: &[u8], at: Instant, clock: &mut TokenClock) -> Result<(), Failure> {
        self.events += 1;
        if value == b"[DONE]" {
            self.done = true;
            return Ok(());
        }
        if self.done {
            return Err(stream_failure("data after [DONE]", value));
        }
        let chunk: Chunk<'_> = serde_json::from_slice(value)
            .map_err(|_| stream_failure("SSE data is not an OpenAI chunk", value))?;
        if let Some(e) = chunk.error {
            let code = e.code.as_deref().unwrap_or("error event");
            let message = e.message.as_deref().unwrap_or("");
            return Err(stream_failure(code, message.as_bytes()));
        }
        let has_text = chunk.choices.iter().any(|c| {
            let delta = c.delta.as_ref().and_then(|d| d.content.as_deref());
            delta.or(c.text.as_deref()).is_some_and(|t| !t.is_empty())
        });
        if has_text {
            clock.token(at);
        }
        if let Some(u) = chunk.usage {
            clock.usage(u.prompt_tokens, u.completion_tokens);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat(text: &str) -> String {
        format!(
            "data: {{\"id\":\"cmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{text}\"}},\"finish_reason\":null}}]}}\n\n"
        )
    }

    const USAGE: &str = "data: {\"id\":\"cmpl-1\",\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":3,\"total_tokens\":10}}\n\n";

    #[test]
    fn times_chat_chunks_and_reads_usage_across_split_reads() {
        let t0 = Instant::now();
        let mut clock = TokenClock::new(t0, TokenCount::Stream);
        let mut p = SseParser::default();
        let all = format!(
            "{}{}{}{USAGE}data: [DONE]\n\n",
            chat(" a"),
            chat(" b"),
            chat(" c")
        );
        let ms = Duration::from_millis;
        // Split inside a line: the second half completes it.
        let (a, b) = all.as_bytes().split_at(30);
        p.feed(a, t0 + ms(10), &mut clock).unwrap();
        assert!(!clock.started(), "half a line is not a token");
        p.feed(b, t0 + ms(20), &mut clock).unwrap();
        p.finish().unwrap();
        let t = clock.finish();
        assert_eq!(t.first_token, ms(20));
        assert_eq!(t.output_tokens, 3);
        assert_eq!(t.input_tokens, Some(7));
        assert_eq!(t.counted, TokenCount::Usage);
        assert_eq!(t.gaps_us, vec![0, 0]);
    }

    #[test]
    fn counts_completions_text_without_usage() {
        let t0 = Instant::now();
        let mut clock = TokenClock::new(t0, TokenCount::Stream);
        let mut p = SseParser::default();
        for (i, text) in [" x", " y"].iter().enumerate() {
            let line = format!("data: {{\"choices\":[{{\"index\":0,\"text\":\"{text}\"}}]}}\n\n");
            p.feed(
                line.as_bytes(),
                t0 + Duration::from_millis(5 * (i as u64 + 1)),
                &mut clock,
            )
            .unwrap();
        }
        p.feed(
            b"data: [DONE]\n\n",
            t0 + Duration::from_millis(11),
            &mut clock,
        )
        .unwrap();
        p.finish().unwrap();
        let t = clock.finish();
        assert_eq!((t.output_tokens, t.input_tokens), (2, None));
        assert_eq!(t.counted, TokenCount::Stream);
        assert_eq!(t.gaps_us, vec![5_000]);
        assert_eq!(t.tpot(), Some(Duration::from_millis(5)));
    }

    #[test]
    fn a_stream_cut_mid_event_or_a_bad_line_is_a_stream_failure_with_its_bytes() {
        let t0 = Instant::now();
        let mut clock = TokenClock::new(t0, TokenCount::Stream);
        let mut p = SseParser::default();
        p.feed(b"data: {\"choices\":[{\"te", t0, &mut clock)
            .unwrap();
        let cut = p.finish().unwrap_err();
        assert_eq!(cut.kind, ErrorKind::Stream);
        assert!(
            cut.excerpt
                .text()
                .starts_with("stream cut mid-event: data: {"),
            "{cut:?}"
        );

        let mut p = SseParser::default();
        let bad = p.feed(b"garbage here\n", t0, &mut clock).unwrap_err();
        assert_eq!(bad.kind, ErrorKind::Stream);
        assert_eq!(bad.excerpt.text(), "bad SSE line: garbage here");

        let mut p = SseParser::default();
        let json = p.feed(b"data: {not json\n", t0, &mut clock).unwrap_err();
        assert!(
            json.excerpt.text().contains("not an OpenAI chunk"),
            "{json:?}"
        );
    }
}
