//! A validated profile: what to load-test, how hard, and what counts as good enough.
//!
//! [`load`] reads a TOML file into [`raw::RawProfile`] (syntax, unknown keys), then
//! [`validate::validate`] checks meaning and reports every problem at once.

mod checker;
mod keys;
mod load;
mod payload;
pub mod prompt;
pub mod provision;
pub mod raw;
mod sagemaker;
mod target;
mod traffic;
pub mod validate;

use crate::domain::{Arrivals, Hosting, Sla, Traffic};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use checker::Problem;
pub use payload::default_content_type;
pub use provision::{DEFAULT_DEPLOY_TIME, Provision, ProvisionModel};

/// A profile that passed validation: defaults filled in, every value in range.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Names the report folder.
    pub name: String,
    /// Free text shown in reports.
    pub description: String,
    /// Where requests go.
    pub target: Target,
    /// Per-request timeout.
    #[serde(with = "crate::domain::units::serde_duration")]
    pub timeout: Duration,
    /// The grid of cells.
    pub sweep: Sweep,
    /// How request bodies are made.
    pub payload: Payload,
    /// What "good enough" means, when given.
    pub sla: Option<Sla>,
    /// What production must serve, when given.
    pub traffic: Option<Traffic>,
    /// Price table region and overrides.
    pub pricing: Pricing,
    /// Regression thresholds for `loadtest compare` (`[regression]`), when given.
    pub regression: Option<crate::domain::thresholds::Thresholds>,
    /// Folder that receives run folders.
    pub report_dir: PathBuf,
    /// `[provision]`: the run deploys each candidate itself, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provision: Option<Provision>,
    /// Folder of the profile file; relative paths in it resolve from here.
    #[serde(skip)]
    pub base_dir: PathBuf,
}

/// The kind of target and its settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Target {
    /// Any HTTP inference server.
    Http(HttpTarget),
    /// The built-in emulator of SageMaker hosting, started in-process.
    Emulator(EmulatorTarget),
    /// Amazon SageMaker endpoints, through the AWS SDK.
    Sagemaker(SageMakerTarget),
    /// An OpenAI-compatible server (vLLM, TGI, SGLang, LMI) streaming Server-Sent Events.
    Openai(prompt::OpenAiTarget),
}

impl Target {
    /// `http`, `emulator` or `sagemaker`, as written in `[target] kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Target::Http(_) => "http",
            Target::Emulator(_) => "emulator",
            Target::Sagemaker(_) => "sagemaker",
            Target::Openai(_) => "openai",
        }
    }
}

/// Settings of a SageMaker target.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SageMakerTarget {
    /// AWS region, e.g. `us-east-1`.
    pub region: String,
    /// Another runtime API address (VPC endpoint, `loadtest emulate`), when set.
    pub endpoint_url: Option<String>,
    /// Endpoint name per instance label (`ml.c5.xlarge`, `serverless-2048`), or `-` for one.
    pub endpoints: BTreeMap<String, String>,
    /// Named profile of the shared AWS config, when set.
    pub profile: Option<String>,
    /// InvokeEndpoint or InvokeEndpointAsync.
    pub mode: InvokeMode,
    /// `X-Amzn-SageMaker-Custom-Attributes`.
    pub custom_attributes: Option<String>,
    /// `X-Amzn-SageMaker-Target-Variant`.
    pub target_variant: Option<String>,
    /// `X-Amzn-SageMaker-Target-Model`.
    pub target_model: Option<String>,
    /// `X-Amzn-SageMaker-Target-Container-Hostname`.
    pub target_container_hostname: Option<String>,
    /// `X-Amzn-SageMaker-Inference-Component`.
    pub inference_component: Option<String>,
    /// `Accept` header.
    pub accept: Option<String>,
    /// SDK retries per request; 0 unless asked (a retry hides throttling).
    pub retries: u32,
    /// Async: S3 URI of the input, `{bytes}` replaced by the payload size.
    pub input_location: Option<String>,
}

impl SageMakerTarget {
    /// The endpoint name serving cells of `instance` (a label, `-` when none).
    pub fn endpoint_for(&self, instance: &str) -> Option<&str> {
        self.endpoints
            .get(instance)
            .or_else(|| self.endpoints.get("-"))
            .map(String::as_str)
    }
}

/// Which SageMaker runtime call a request makes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvokeMode {
    /// InvokeEndpoint: request and answer.
    #[default]
    Sync,
    /// InvokeEndpointAsync: 202 at once, result later.
    Async,
    /// InvokeEndpointWithResponseStream: the answer as an event stream, timed per token.
    Stream,
}

/// Settings of an HTTP target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HttpTarget {
    /// One URL for every cell, or one per instance type.
    pub urls: Urls,
    /// HTTP method, POST unless set.
    pub method: String,
    /// Extra request headers.
    pub headers: BTreeMap<String, String>,
    /// Time the reply's chunks (first byte, chunk gaps) instead of reading it whole.
    #[serde(default)]
    pub stream: bool,
}

/// Which URL serves which cell.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Urls {
    /// Every cell goes to this URL.
    One(String),
    /// One URL per instance type in `sweep.instance_types`.
    PerInstance(BTreeMap<String, String>),
}

/// Settings of the emulator target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EmulatorTarget {
    /// The emulated model, preset and overrides resolved.
    #[serde(
        serialize_with = "serialize_model",
        deserialize_with = "deserialize_model"
    )]
    pub model: crate::emulator::Model,
    /// Instances behind each emulated endpoint.
    pub instance_count: u32,
    /// Serverless MaxConcurrency.
    pub max_concurrency: u32,
    /// Fault injection knobs.
    pub faults: crate::emulator::Faults,
}

/// The sweep: every combination becomes a cell.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sweep {
    /// Hosting options, empty when the target does not say (plain HTTP).
    pub hosting: Vec<Hosting>,
    /// Instance types, empty when the target does not say.
    pub instance_types: Vec<String>,
    /// Serverless memory sizes, used for `serverless` hosting.
    pub serverless_memory_mb: Vec<u32>,
    /// Request body sizes in bytes.
    pub payload_sizes: Vec<u64>,
    /// Load steps.
    pub load: LoadSweep,
    /// Measured time per cell.
    #[serde(with = "crate::domain::units::serde_duration")]
    pub duration: Duration,
    /// Unrecorded time before each cell.
    #[serde(with = "crate::domain::units::serde_duration")]
    pub warmup: Duration,
    /// Seed for random payloads and Poisson arrivals.
    pub seed: u64,
    /// Every cell of the grid, or only the cells the recommendation needs.
    pub strategy: Strategy,
    /// Times each cell is measured; more than one gives a range per candidate.
    pub repeats: u32,
}

/// Which cells of a load grid a run measures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Every cell of the grid.
    #[default]
    Grid,
    /// Per candidate, the top load level first and a bisection below it when it fails;
    /// candidates that cannot beat the cheapest feasible one found so far are not probed
    /// further. Needs an SLA.
    Adaptive,
}

/// The load steps of a sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum LoadSweep {
    /// N workers, each sending when its previous request ends.
    Closed {
        /// One step per value.
        concurrency: Vec<u32>,
    },
    /// Requests at scheduled times, whatever the target does.
    Open {
        /// Requests per second, one step per value.
        rates: Vec<f64>,
        /// How arrivals are spaced.
        arrivals: Arrivals,
        /// Most requests in flight at once; arrivals past it wait, then are dropped.
        max_in_flight: u32,
    },
    /// The highest load that meets the SLA, searched per variant and payload size.
    Search {
        /// What is searched.
        space: SearchSpace,
    },
}

/// The load levels a search may probe.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "over", rename_all = "snake_case")]
pub enum SearchSpace {
    /// Open-loop rates, requests per second.
    Rate {
        /// Lowest rate probed.
        min: f64,
        /// Highest rate probed.
        max: f64,
        /// Spacing of arrivals.
        arrivals: Arrivals,
        /// Most requests in flight.
        max_in_flight: u32,
    },
    /// Closed-loop concurrency.
    Concurrency {
        /// Lowest concurrency probed.
        min: u32,
        /// Highest concurrency probed.
        max: u32,
    },
}

/// Where request bodies come from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Payload {
    /// The source of bytes.
    pub source: PayloadSource,
    /// `Content-Type` of every request.
    pub content_type: String,
}

/// The source of request bodies.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum PayloadSource {
    /// Random bytes of each swept size.
    Random,
    /// One file; its size replaces the swept sizes.
    File {
        /// The file.
        path: PathBuf,
    },
    /// Several files, each one payload level of the sweep (labelled by its name).
    Files {
        /// The files, in sweep order.
        paths: Vec<PathBuf>,
    },
    /// Every file of a folder, in turn.
    Dir {
        /// The folder.
        path: PathBuf,
    },
    /// A JSON template whose `{{bytes}}` filler grows the body to each swept size.
    Json {
        /// The template text.
        template: String,
    },
    /// LLM prompts in tokens: synthetic ones of swept lengths, or lines of a JSONL file.
    Prompt(prompt::Prompts),
}

/// Which prices to use.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pricing {
    /// AWS region of the price rows.
    pub region: String,
    /// A CSV whose rows override the embedded table.
    pub file: Option<PathBuf>,
}

/// Why a profile could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The file could not be read.
    #[error("cannot read profile {path}: {source}")]
    Read {
        /// The profile path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Syntax, unknown keys, or values out of range; every problem found.
    #[error("{}", render_problems(path, problems))]
    Invalid {
        /// The profile path.
        path: PathBuf,
        /// Each problem with its place and fix.
        problems: Vec<Problem>,
    },
}

fn render_problems(path: &Path, problems: &[Problem]) -> String {
    let mut out = format!(
        "{} has {} problem{}:",
        path.display(),
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    for p in problems {
        out.push_str(&format!("\n  {}", p.render(path)));
    }
    out
}

impl Profile {
    /// What is allowed but probably not meant: two instance types of `[target] urls` on
    /// one URL (their cells measure the same server). Printed by `validate` and `run`.
    pub fn warnings(&self) -> Vec<String> {
        let Target::Http(HttpTarget {
            urls: Urls::PerInstance(map),
            ..
        }) = &self.target
        else {
            return Vec::new();
        };
        let mut by_url: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (name, url) in map {
            by_url.entry(url.as_str()).or_default().push(name.as_str());
        }
        by_url
            .into_iter()
            .filter(|(_, names)| names.len() > 1)
            .map(|(url, names)| {
                format!(
                    "target.urls: {} all go to {url}, so their cells measure one server and \
                     compare nothing; give each instance type its own URL",
                    names
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
            .collect()
    }
}

/// Reads and validates a profile file.
pub fn load(path: &Path) -> Result<Profile, ProfileError> {
    let text = std::fs::read_to_string(path).map_err(|source| ProfileError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text, path)
}

/// Validates profile text; `path` is used for messages and relative paths.
pub fn parse(text: &str, path: &Path) -> Result<Profile, ProfileError> {
    let invalid = |problems| ProfileError::Invalid {
        path: path.to_path_buf(),
        problems,
    };
    let table =
        toml::de::DeTable::parse(text).map_err(|e| invalid(vec![Problem::from_toml(&e, text)]))?;
    let mut keys = checker::Checker::new(text);
    let paths = keys::walk(&mut keys, table.get_ref());
    if !keys.problems.is_empty() {
        keys.problems.sort_by_key(|p| p.line_col);
        return Err(invalid(keys.problems));
    }
    let raw: raw::RawProfile =
        toml::from_str(text).map_err(|e| invalid(vec![keys::typed_problem(&e, text, &paths)]))?;
    let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    validate::validate(raw, text, base_dir).map_err(invalid)
}

/// Writes a resolved model as the explicit `[model]` table it amounts to.
fn serialize_model<S: serde::Serializer>(
    model: &crate::emulator::Model,
    s: S,
) -> Result<S::Ok, S::Error> {
    model.to_config().serialize(s)
}

/// Reads a model written by [`serialize_model`] back, resolving it as a `[model]` table.
fn deserialize_model<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<crate::emulator::Model, D::Error> {
    let config = crate::emulator::ModelConfig::deserialize(d)?;
    config.resolve().map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests;
