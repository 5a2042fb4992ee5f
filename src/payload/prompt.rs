//! LLM request bodies: OpenAI chat or completions JSON with `stream`, `max_tokens`,
//! `ignore_eos` and `stream_options.include_usage`, around synthetic prompts or prompts
//! sampled from a JSONL dataset.
//!
//! Length method: a synthetic prompt of N tokens is N words drawn with the seed from a list
//! of short common English words, each a single token in the BPE vocabularies of current
//! LLMs (and one token per word on the emulator). A server's own count (`usage`) adds its
//! chat template's tokens. Each cell sends [`PROMPTS_PER_LEVEL`] distinct prompts in turn,
//! so a prefix cache cannot answer every request from one entry.

use super::PayloadError;
use crate::profile::prompt::{Api, PromptSource, Prompts};
use bytes::Bytes;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Distinct synthetic prompts per payload level.
pub const PROMPTS_PER_LEVEL: usize = 16;

/// Most dataset lines kept per cell.
pub const MAX_DATASET_PROMPTS: usize = 1000;

/// Short words, one token each in common LLM vocabularies.
const WORDS: [&str; 32] = [
    "the", "of", "and", "to", "in", "is", "it", "you", "that", "he", "was", "for", "on", "are",
    "as", "with", "his", "they", "at", "be", "this", "have", "from", "or", "one", "had", "by",
    "word", "but", "not", "what", "all",
];

/// One chat message.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Message {
    /// `user`, `system`, `assistant`.
    pub role: String,
    /// Its text.
    pub content: String,
}

#[derive(Serialize)]
struct StreamOptions {
    include_usage: bool,
}

#[derive(Serialize)]
struct Request<'a> {
    model: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    messages: Option<&'a [Message]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prompt: Option<&'a str>,
    max_tokens: u32,
    stream: bool,
    ignore_eos: bool,
    stream_options: StreamOptions,
}

/// One line of a dataset: a `prompt`, or chat `messages`.
#[derive(Deserialize)]
struct Line {
    #[serde(default)]
    prompt: Option<String>,
    #[serde(default)]
    messages: Option<Vec<Message>>,
}

/// The body asking for `max_tokens` tokens after `messages` (chat) or their text (completions).
pub fn body(prompts: &Prompts, messages: &[Message], max_tokens: u32) -> Bytes {
    let text: String;
    let (messages, prompt) = match prompts.api {
        Api::Chat => (Some(messages), None),
        Api::Completions => {
            text = messages
                .iter()
                .map(|m| m.content.as_str())
                .collect::<Vec<_>>()
                .join("\n");
            (None, Some(text.as_str()))
        }
    };
    let request = Request {
        model: &prompts.model,
        messages,
        prompt,
        max_tokens,
        stream: true,
        ignore_eos: true,
        stream_options: StreamOptions {
            include_usage: true,
        },
    };
    Bytes::from(serde_json::to_vec(&request).unwrap_or_default())
}

/// A synthetic prompt of `tokens` words, drawn with `seed`.
pub fn synthetic(tokens: u32, seed: u64) -> String {
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(seed);
    let words: Vec<&str> = (0..tokens)
        .map(|_| WORDS[rng.random_range(0..WORDS.len())])
        .collect();
    words.join(" ")
}

fn user(content: String) -> Vec<Message> {
    vec![Message {
        role: "user".into(),
        content,
    }]
}

/// The bodies of payload level `level`, sampled with `seed`.
pub fn bodies(prompts: &Prompts, level: usize, seed: u64) -> Result<Vec<Bytes>, PayloadError> {
    let levels = prompts.levels();
    let Some(&(input, output)) = levels.get(level).or(levels.first()) else {
        return Err(PayloadError::NoFiles);
    };
    match &prompts.origin {
        PromptSource::Synthetic { .. } => Ok((0..PROMPTS_PER_LEVEL as u64)
            .map(|i| {
                let text = synthetic(input.unwrap_or(0), seed.wrapping_add(i));
                body(prompts, &user(text), output)
            })
            .collect()),
        PromptSource::Dataset { path } => {
            let mut lines = dataset(path)?;
            let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(seed);
            lines.shuffle(&mut rng);
            lines.truncate(MAX_DATASET_PROMPTS);
            Ok(lines.iter().map(|m| body(prompts, m, output)).collect())
        }
    }
}

/// Every prompt of a JSONL file, as chat messages.
fn dataset(path: &Path) -> Result<Vec<Vec<Message>>, PayloadError> {
    let text = std::fs::read_to_string(path).map_err(|source| PayloadError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut out = Vec::new();
    for (i, raw) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let bad = |why: String| PayloadError::Dataset {
            path: path.to_path_buf(),
            line: i + 1,
            why,
        };
        let line: Line = serde_json::from_str(raw).map_err(|e| bad(e.to_string()))?;
        match (line.messages, line.prompt) {
            (Some(m), _) if !m.is_empty() => out.push(m),
            (_, Some(p)) => out.push(user(p)),
            _ => return Err(bad("has neither `prompt` nor `messages`".into())),
        }
    }
    if out.is_empty() {
        return Err(PayloadError::Dataset {
            path: path.to_path_buf(),
            line: 0,
            why: "has no prompts".into(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prompts(api: Api) -> Prompts {
        Prompts {
            origin: PromptSource::Synthetic {
                input_tokens: vec![128, 1024],
            },
            output_tokens: vec![16, 64],
            api,
            model: "m".into(),
        }
    }

    #[derive(Deserialize)]
    struct Seen {
        model: String,
        messages: Option<Vec<Message>>,
        prompt: Option<String>,
        max_tokens: u32,
        stream: bool,
        ignore_eos: bool,
    }

    #[test]
    fn synthetic_prompts_have_the_asked_words_and_the_body_asks_for_the_length() {
        let p = prompts(Api::Chat);
        assert_eq!(p.levels().len(), 4);
        assert_eq!(p.label(3).as_deref(), Some("in1024 out64"));
        let b = bodies(&p, 1, 7).unwrap();
        assert_eq!(b.len(), PROMPTS_PER_LEVEL);
        let seen: Seen = serde_json::from_slice(&b[0]).unwrap();
        let text = &seen.messages.unwrap()[0].content;
        assert_eq!(text.split_whitespace().count(), 128);
        assert_eq!(
            (seen.max_tokens, seen.stream, seen.ignore_eos),
            (64, true, true)
        );
        assert_eq!(seen.model, "m");
        assert_ne!(b[0], b[1], "distinct prompts per level");
        let c: Seen =
            serde_json::from_slice(&bodies(&prompts(Api::Completions), 0, 7).unwrap()[0]).unwrap();
        assert_eq!(c.prompt.unwrap().split_whitespace().count(), 128);
    }

    #[test]
    fn dataset_lines_take_prompt_or_messages_and_sample_with_the_seed() {
        let path = std::env::temp_dir().join(format!("loadtest-ds-{}.jsonl", std::process::id()));
        std::fs::write(
            &path,
            "{\"prompt\": \"a b c\"}\n{\"messages\": [{\"role\":\"user\",\"content\":\"d e\"}]}\n",
        )
        .unwrap();
        let p = Prompts {
            origin: PromptSource::Dataset { path: path.clone() },
            ..prompts(Api::Chat)
        };
        let a = bodies(&p, 0, 1).unwrap();
        assert_eq!(a.len(), 2);
        assert_eq!(a, bodies(&p, 0, 1).unwrap(), "same seed, same order");
        std::fs::write(&path, "{\"text\": 1}\n").unwrap();
        let err = bodies(&p, 0, 1).unwrap_err().to_string();
        assert!(err.contains("line 1"), "{err}");
        std::fs::remove_file(path).unwrap();
    }
}
