//! LLM workloads in the profile: `[target] kind = "openai"` and `[payload] source = "prompt"`
//! (synthetic prompts of swept lengths) or `"dataset"` (prompts from a JSONL file), with the
//! generation lengths swept as `output_tokens`.

use super::checker::{Checker, check_url};
use super::raw::{RawPayload, RawTarget, SpannedStr};
use super::{Payload, PayloadSource, Sweep};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// Which OpenAI API a request calls.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Api {
    /// `/chat/completions` with `messages`.
    #[default]
    Chat,
    /// `/completions` with `prompt`.
    Completions,
}

impl Api {
    /// The path under the base URL.
    pub fn path(self) -> &'static str {
        match self {
            Api::Chat => "chat/completions",
            Api::Completions => "completions",
        }
    }
}

/// Settings of an OpenAI-compatible target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OpenAiTarget {
    /// The `/v1` address, e.g. `http://127.0.0.1:8000/v1`.
    pub base_url: String,
    /// The model name sent in each request.
    pub model: String,
    /// Chat or completions.
    pub api: Api,
    /// The environment variable holding the API key (its value is never written out).
    pub api_key_env: Option<String>,
    /// Extra request headers.
    pub headers: BTreeMap<String, String>,
}

impl OpenAiTarget {
    /// The URL requests go to: the base URL and the API's path.
    pub fn url(&self) -> String {
        format!(
            "{}/{}",
            self.base_url.trim_end_matches('/'),
            self.api.path()
        )
    }
}

/// Where prompts come from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromptSource {
    /// Synthetic prompts of these lengths, in tokens (one level each).
    Synthetic {
        /// Prompt lengths.
        input_tokens: Vec<u32>,
    },
    /// Lines of a JSONL file, each with a `prompt` or `messages` field, sampled with the seed.
    Dataset {
        /// The file.
        path: PathBuf,
    },
}

/// An LLM workload: prompts × generation lengths, one payload level per combination.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Prompts {
    /// Where prompts come from.
    pub origin: PromptSource,
    /// Generation lengths (`max_tokens`, with `ignore_eos`).
    pub output_tokens: Vec<u32>,
    /// Request body shape: chat `messages` or completions `prompt`.
    pub api: Api,
    /// The `model` field of each request.
    pub model: String,
}

impl Prompts {
    /// The payload levels in sweep order: `(input tokens or None for a dataset, output tokens)`.
    pub fn levels(&self) -> Vec<(Option<u32>, u32)> {
        let inputs: Vec<Option<u32>> = match &self.origin {
            PromptSource::Synthetic { input_tokens } => {
                input_tokens.iter().copied().map(Some).collect()
            }
            PromptSource::Dataset { .. } => vec![None],
        };
        inputs
            .iter()
            .flat_map(|i| self.output_tokens.iter().map(move |o| (*i, *o)))
            .collect()
    }

    /// The label of level `index`: `in128 out512`, or `dataset out512`.
    pub fn label(&self, index: usize) -> Option<String> {
        let (input, output) = *self.levels().get(index)?;
        Some(match input {
            Some(i) => format!("in{i} out{output}"),
            None => format!("dataset out{output}"),
        })
    }
}

/// Checks `[target] kind = "openai"`.
pub(super) fn check_openai(c: &mut Checker, t: &RawTarget, sweep: &mut Sweep) -> OpenAiTarget {
    let base_url = match &t.base_url {
        Some(url) => {
            check_url(c, url, "target.base_url");
            url.get_ref().clone()
        }
        None => {
            c.on(
                &t.kind,
                "target.base_url",
                "an openai target needs the server's address".into(),
                Some("add `base_url = \"http://127.0.0.1:8000/v1\"`".into()),
            );
            String::new()
        }
    };
    let model = t.model.as_ref().map_or_else(
        || {
            let fix = Some("add `model = \"...\"`, as the server names it".into());
            c.on(
                &t.kind,
                "target.model",
                "an openai target needs a model".into(),
                fix,
            );
            String::new()
        },
        |m| m.get_ref().clone(),
    );
    if let Some(env) = &t.api_key_env
        && std::env::var_os(env.get_ref()).is_none()
    {
        let fix = Some(format!(
            "export {} before the run, or remove `api_key_env`",
            env.get_ref()
        ));
        c.on(
            env,
            "target.api_key_env",
            "is not set in the environment".into(),
            fix,
        );
    }
    if sweep.hosting.is_empty() && !sweep.instance_types.is_empty() {
        sweep.hosting = vec![crate::domain::Hosting::RealTime];
    }
    OpenAiTarget {
        base_url,
        model,
        api: check_api(c, t.api.as_ref()),
        api_key_env: t.api_key_env.as_ref().map(|e| e.get_ref().clone()),
        headers: t
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.get_ref().clone()))
            .collect(),
    }
}

/// `chat` (the default) or `completions`.
pub(super) fn check_api(c: &mut Checker, api: Option<&SpannedStr>) -> Api {
    match api.map(|a| a.get_ref().as_str()) {
        None | Some("chat") => Api::Chat,
        Some("completions") => Api::Completions,
        Some(_) => {
            if let Some(a) = api {
                c.unknown_name(a, "target.api", "api", &["chat", "completions"]);
            }
            Api::Chat
        }
    }
}

fn token_list(
    c: &mut Checker,
    list: Option<&Spanned<Vec<Spanned<i64>>>>,
    key: &str,
    source: &SpannedStr,
) -> Vec<u32> {
    let Some(list) = list else {
        let fix = Some(format!("add e.g. `{key} = [128, 512]` to [payload]"));
        c.on(source, &format!("payload.{key}"), "is missing".into(), fix);
        return Vec::new();
    };
    if list.get_ref().is_empty() {
        c.on(list, &format!("payload.{key}"), "is empty".into(), None);
    }
    let mut out = Vec::new();
    for (i, n) in list.get_ref().iter().enumerate() {
        match u32::try_from(*n.get_ref()) {
            Ok(v) if (1..=1_000_000).contains(&v) => out.push(v),
            _ => {
                let fix = Some("use a whole number of tokens from 1 to 1,000,000".into());
                c.on(
                    n,
                    &format!("payload.{key}[{i}]"),
                    "is not a token count".into(),
                    fix,
                );
            }
        }
    }
    out
}

/// `[payload]` when its source is `prompt` or `dataset` (else `None`: another source).
pub(super) fn check_llm_payload(
    c: &mut Checker,
    raw: Option<&RawPayload>,
    base_dir: &Path,
    target: &super::Target,
) -> Option<Payload> {
    let raw = raw?;
    let source = raw.source.as_ref()?;
    if !matches!(source.get_ref().as_str(), "prompt" | "dataset") {
        return None;
    }
    let openai = match target {
        super::Target::Openai(o) => Some(o),
        _ => None,
    };
    Some(check_prompts(c, raw, source, base_dir, openai))
}

/// Checks `source = "prompt"` or `"dataset"`; `api` and `model` come from the target
/// (an OpenAI target's, else chat with model `default`).
fn check_prompts(
    c: &mut Checker,
    raw: &RawPayload,
    source: &SpannedStr,
    base_dir: &Path,
    target: Option<&OpenAiTarget>,
) -> Payload {
    let prompt_source = if source.get_ref() == "prompt" {
        PromptSource::Synthetic {
            input_tokens: token_list(c, raw.input_tokens.as_ref(), "input_tokens", source),
        }
    } else {
        let path = match &raw.path {
            Some(p) => {
                let full = base_dir.join(p.get_ref());
                if !full.is_file() {
                    let fix = Some("point `path` at a JSONL file (relative paths start at the profile's folder)".into());
                    c.on(
                        p,
                        "payload.path",
                        format!("{} is not a file", full.display()),
                        fix,
                    );
                }
                full
            }
            None => {
                let fix = Some(
                    "add `path = \"prompts.jsonl\"`, a `prompt` or `messages` field per line"
                        .into(),
                );
                c.on(
                    source,
                    "payload.path",
                    "source = \"dataset\" needs a path".into(),
                    fix,
                );
                PathBuf::new()
            }
        };
        if let Some(i) = &raw.input_tokens {
            let fix =
                Some("remove `input_tokens`: the dataset's prompts are sent as they are".into());
            c.on(
                i,
                "payload.input_tokens",
                "does not apply to source = \"dataset\"".into(),
                fix,
            );
        }
        PromptSource::Dataset { path }
    };
    let prompts = Prompts {
        origin: prompt_source,
        output_tokens: token_list(c, raw.output_tokens.as_ref(), "output_tokens", source),
        api: target.map_or(Api::Chat, |t| t.api),
        model: target.map_or_else(|| "default".to_string(), |t| t.model.clone()),
    };
    let content_type = raw
        .content_type
        .as_ref()
        .map_or_else(|| "application/json".to_string(), |ct| ct.get_ref().clone());
    Payload {
        source: PayloadSource::Prompt(prompts),
        content_type,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prompt_payload_round_trips_through_the_run_record() {
        let source = PayloadSource::Prompt(Prompts {
            origin: PromptSource::Synthetic {
                input_tokens: vec![128, 1024],
            },
            output_tokens: vec![128, 512],
            api: Api::Completions,
            model: "m".into(),
        });
        let json = serde_json::to_string(&source).unwrap();
        assert!(json.starts_with(r#"{"source":"prompt","#), "{json}");
        let back: PayloadSource = serde_json::from_str(&json).unwrap();
        assert_eq!(back, source);
    }
}
