//! The OpenAI-compatible wire format of an LLM endpoint: the request (chat `messages` or a
//! completions `prompt`, `max_tokens`, `stream`), its token counts (one token per
//! whitespace-separated word of the prompt), and the SSE chunks and whole answers sent back
//! (the same bytes over SSE and inside SageMaker `PayloadPart` events).

use serde::Deserialize;
use std::fmt::Write;

/// The text of every generated token.
pub(crate) const TOKEN_TEXT: &str = " tok";

/// The last SSE event of a stream.
pub(crate) const DONE: &str = "data: [DONE]\n\n";

/// Which OpenAI API a request speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Api {
    /// `/v1/chat/completions`: `messages` in, `delta.content` out.
    Chat,
    /// `/v1/completions`: `prompt` in, `text` out.
    Completions,
}

#[derive(Deserialize)]
struct RawRequest {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    messages: Option<Vec<RawMessage>>,
    #[serde(default)]
    prompt: Option<Text>,
    #[serde(default)]
    max_tokens: Option<u32>,
    #[serde(default)]
    max_completion_tokens: Option<u32>,
    #[serde(default)]
    stream: Option<bool>,
}

#[derive(Deserialize)]
struct RawMessage {
    #[serde(default)]
    content: Option<Text>,
}

/// A string, or a list of strings or `{"type": "text", "text": ...}` parts.
#[derive(Deserialize)]
#[serde(untagged)]
enum Text {
    One(String),
    Many(Vec<Part>),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Part {
    Plain(String),
    Typed {
        #[serde(default)]
        text: Option<String>,
    },
}

impl Text {
    fn words(&self) -> u32 {
        let count = |s: &str| u32::try_from(s.split_whitespace().count()).unwrap_or(u32::MAX);
        match self {
            Text::One(s) => count(s),
            Text::Many(parts) => parts
                .iter()
                .map(|p| match p {
                    Part::Plain(s) => count(s),
                    Part::Typed { text } => text.as_deref().map_or(0, count),
                })
                .fold(0u32, u32::saturating_add),
        }
    }
}

/// A parsed generation request.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Request {
    /// The API it speaks.
    pub(crate) api: Api,
    /// The `model` it names, if any.
    pub(crate) model: Option<String>,
    /// Prompt tokens: words of the prompt (chat: of every message's content).
    pub(crate) input_tokens: u32,
    /// Requested output tokens, if given.
    pub(crate) max_tokens: Option<u32>,
    /// `stream`, if given.
    pub(crate) stream: Option<bool>,
}

/// Parses a request body; `api` is fixed by an OpenAI path, else chosen by the body
/// (`messages` means chat). The error says what is wrong, for a ValidationError.
pub(crate) fn parse(body: &[u8], api: Option<Api>) -> Result<Request, String> {
    let raw: RawRequest = serde_json::from_slice(body).map_err(|e| {
        format!("The request body is not an OpenAI-style JSON request ({e}); send {{\"messages\": [...]}} or {{\"prompt\": \"...\"}} with \"max_tokens\".")
    })?;
    let api = api.unwrap_or(if raw.messages.is_some() {
        Api::Chat
    } else {
        Api::Completions
    });
    let input_tokens = match api {
        Api::Chat => raw
            .messages
            .as_ref()
            .ok_or("A chat completion needs \"messages\".")?
            .iter()
            .map(|m| m.content.as_ref().map_or(0, Text::words))
            .fold(0u32, u32::saturating_add),
        Api::Completions => raw
            .prompt
            .as_ref()
            .ok_or("A completion needs a \"prompt\".")?
            .words(),
    };
    let max_tokens = raw.max_tokens.or(raw.max_completion_tokens);
    if max_tokens == Some(0) {
        return Err("\"max_tokens\" must be at least 1.".into());
    }
    Ok(Request {
        api,
        model: raw.model,
        input_tokens,
        max_tokens,
        stream: raw.stream,
    })
}

/// Formats the chunks of one answer.
pub(crate) struct Chunks {
    api: Api,
    /// `"id":...,"object":...,"model":...` prefix of every chunk, JSON-escaped.
    head: String,
}

impl Chunks {
    /// Chunks of answer `id` from `model`.
    pub(crate) fn new(api: Api, id: u64, model: &str) -> Chunks {
        let object = match api {
            Api::Chat => "chat.completion.chunk",
            Api::Completions => "text_completion",
        };
        let model = serde_json::to_string(model).unwrap_or_else(|_| "\"model\"".into());
        let head = format!("\"id\":\"cmpl-{id}\",\"object\":\"{object}\",\"model\":{model}");
        Chunks { api, head }
    }

    /// The SSE chunk of one token; the last one says `"finish_reason":"length"`.
    pub(crate) fn token(&self, last: bool) -> String {
        let finish = if last { "\"length\"" } else { "null" };
        let choice = match self.api {
            Api::Chat => format!("\"delta\":{{\"content\":\"{TOKEN_TEXT}\"}}"),
            Api::Completions => format!("\"text\":\"{TOKEN_TEXT}\""),
        };
        format!(
            "data: {{{},\"choices\":[{{\"index\":0,{choice},\"finish_reason\":{finish}}}]}}\n\n",
            self.head
        )
    }

    /// The usage chunk after the last token.
    pub(crate) fn usage(&self, prompt: u32, completion: u32) -> String {
        format!(
            "data: {{{},\"choices\":[],\"usage\":{}}}\n\n",
            self.head,
            usage(prompt, completion)
        )
    }

    /// An SSE error event for a failure mid-stream (the stream ends after it, without `[DONE]`).
    pub(crate) fn error(&self, message: &str) -> String {
        let message = serde_json::to_string(message).unwrap_or_else(|_| "\"error\"".into());
        format!(
            "data: {{\"error\":{{\"message\":{message},\"type\":\"server_error\",\"code\":\"ModelStreamError\"}}}}\n\n"
        )
    }

    /// A whole (not streamed) answer of `completion` tokens.
    pub(crate) fn whole(&self, prompt: u32, completion: u32) -> String {
        let mut text = String::with_capacity(TOKEN_TEXT.len() * completion as usize);
        for _ in 0..completion {
            text.push_str(TOKEN_TEXT);
        }
        let head = self
            .head
            .replace("chat.completion.chunk", "chat.completion");
        let choice = match self.api {
            Api::Chat => format!("\"message\":{{\"role\":\"assistant\",\"content\":\"{text}\"}}"),
            Api::Completions => format!("\"text\":\"{text}\""),
        };
        let mut out = String::new();
        let _ = write!(
            out,
            "{{{head},\"choices\":[{{\"index\":0,{choice},\"finish_reason\":\"length\"}}],\"usage\":{}}}",
            usage(prompt, completion)
        );
        out
    }
}

fn usage(prompt: u32, completion: u32) -> String {
    let total = u64::from(prompt) + u64::from(completion);
    format!(
        "{{\"prompt_tokens\":{prompt},\"completion_tokens\":{completion},\"total_tokens\":{total}}}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn json_of(chunk: &str) -> Value {
        let data = chunk
            .strip_prefix("data: ")
            .and_then(|c| c.strip_suffix("\n\n"))
            .unwrap_or_else(|| panic!("not one SSE event: {chunk:?}"));
        serde_json::from_str(data).expect("JSON chunk")
    }

    #[test]
    fn prompts_count_one_token_per_word() {
        let chat = br#"{"model":"m","messages":[{"role":"system","content":"be brief"},
            {"role":"user","content":[{"type":"text","text":"tok tok  tok"}]}],"max_tokens":4,"stream":true}"#;
        let r = parse(chat, None).expect("chat");
        assert_eq!(
            (r.api, r.input_tokens, r.max_tokens),
            (Api::Chat, 5, Some(4))
        );
        assert_eq!(r.stream, Some(true));
        let completion = br#"{"prompt":"a b c","max_completion_tokens":2}"#;
        let r = parse(completion, None).expect("completion");
        assert_eq!(
            (r.api, r.input_tokens, r.max_tokens),
            (Api::Completions, 3, Some(2))
        );
        assert!(parse(br#"{"prompt":"a"}"#, Some(Api::Chat)).is_err());
        assert!(parse(br#"{"prompt":"a","max_tokens":0}"#, None).is_err());
        let err = parse(b"not json", None).unwrap_err();
        assert!(err.contains("OpenAI-style JSON"), "{err}");
    }

    #[test]
    fn chunks_follow_the_openai_stream_format() {
        let chat = Chunks::new(Api::Chat, 7, "llm \"7b\"");
        let first = json_of(&chat.token(false));
        assert_eq!(first["id"], "cmpl-7");
        assert_eq!(first["object"], "chat.completion.chunk");
        assert_eq!(first["model"], "llm \"7b\"");
        assert_eq!(first["choices"][0]["delta"]["content"], " tok");
        assert_eq!(first["choices"][0]["finish_reason"], Value::Null);
        let last = json_of(&chat.token(true));
        assert_eq!(last["choices"][0]["finish_reason"], "length");
        let usage = json_of(&chat.usage(3, 4));
        assert_eq!(usage["choices"], Value::Array(vec![]));
        assert_eq!(usage["usage"]["total_tokens"], 7);
        let text = Chunks::new(Api::Completions, 1, "m");
        let t = json_of(&text.token(false));
        assert_eq!(
            (t["object"].as_str(), t["choices"][0]["text"].as_str()),
            (Some("text_completion"), Some(" tok"))
        );
        let err = json_of(&text.error("boom"));
        assert_eq!(err["error"]["code"], "ModelStreamError");
        let whole: Value = serde_json::from_str(&chat.whole(2, 3)).expect("JSON");
        assert_eq!(whole["object"], "chat.completion");
        assert_eq!(whole["choices"][0]["message"]["content"], " tok tok tok");
        assert_eq!(whole["usage"]["completion_tokens"], 3);
    }
}
