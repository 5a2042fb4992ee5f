//! The TOML mirror of a profile: exactly what the file says, with source spans.
//!
//! Unknown keys are rejected here (`deny_unknown_fields`); meaning is checked in
//! [`super::validate`].

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// A string with its location in the file.
pub type SpannedStr = Spanned<String>;

/// The whole profile file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProfile {
    pub name: SpannedStr,
    #[serde(default)]
    pub description: Option<String>,
    pub target: RawTarget,
    #[serde(default)]
    pub model: Option<Spanned<crate::emulator::ModelConfig>>,
    pub sweep: RawSweep,
    #[serde(default)]
    pub payload: Option<RawPayload>,
    #[serde(default)]
    pub sla: Option<RawSla>,
    #[serde(default)]
    pub traffic: Option<RawTraffic>,
    #[serde(default)]
    pub pricing: Option<RawPricing>,
    #[serde(default)]
    pub report: Option<RawReport>,
    #[serde(default)]
    pub regression: Option<toml::Spanned<crate::domain::thresholds::RawRegression>>,
    #[serde(default)]
    pub provision: Option<RawProvision>,
}

/// `[target]`: where requests go.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTarget {
    pub kind: SpannedStr,
    pub url: Option<SpannedStr>,
    pub urls: Option<Spanned<BTreeMap<String, SpannedStr>>>,
    pub method: Option<SpannedStr>,
    #[serde(default)]
    pub headers: BTreeMap<String, SpannedStr>,
    pub timeout: Option<SpannedStr>,
    /// Emulator: instances behind each emulated endpoint.
    pub instance_count: Option<Spanned<u32>>,
    /// Emulator: serverless MaxConcurrency.
    pub max_concurrency: Option<Spanned<u32>>,
    /// Emulator: fault injection knobs.
    pub faults: Option<Spanned<crate::emulator::Faults>>,
    /// SageMaker: AWS region.
    pub region: Option<SpannedStr>,
    /// SageMaker: another runtime API address (VPC endpoint, the emulator).
    pub endpoint_url: Option<SpannedStr>,
    /// SageMaker: one endpoint name for every cell.
    pub endpoint: Option<SpannedStr>,
    /// SageMaker: one endpoint per instance type or `serverless-<MB>`.
    pub endpoints: Option<Spanned<BTreeMap<String, SpannedStr>>>,
    /// SageMaker: named profile of the shared AWS config.
    pub profile: Option<String>,
    /// SageMaker: `sync` (InvokeEndpoint) or `async` (InvokeEndpointAsync).
    pub mode: Option<SpannedStr>,
    /// SageMaker: `X-Amzn-SageMaker-Custom-Attributes`.
    pub custom_attributes: Option<SpannedStr>,
    /// SageMaker: `X-Amzn-SageMaker-Target-Variant`.
    pub target_variant: Option<String>,
    /// SageMaker: `X-Amzn-SageMaker-Target-Model`.
    pub target_model: Option<String>,
    /// SageMaker: `X-Amzn-SageMaker-Target-Container-Hostname`.
    pub target_container_hostname: Option<String>,
    /// SageMaker: `X-Amzn-SageMaker-Inference-Component`.
    pub inference_component: Option<String>,
    /// SageMaker: `Accept`.
    pub accept: Option<String>,
    /// SageMaker: SDK retries per request (default 0: a retry would hide throttling).
    pub retries: Option<Spanned<u32>>,
    /// SageMaker async: S3 URI of the input; `{bytes}` is replaced by the payload size.
    pub input_location: Option<SpannedStr>,
    /// HTTP: time the reply's chunks (first byte, chunk gaps).
    pub stream: Option<Spanned<bool>>,
    /// OpenAI: the server's `/v1` address.
    pub base_url: Option<SpannedStr>,
    /// OpenAI: the model name sent in each request.
    pub model: Option<SpannedStr>,
    /// OpenAI: `chat` (`/chat/completions`) or `completions`.
    pub api: Option<SpannedStr>,
    /// OpenAI: the environment variable holding the API key.
    pub api_key_env: Option<SpannedStr>,
}

/// `[sweep]`: the grid of cells.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSweep {
    pub hosting: Option<Spanned<Vec<SpannedStr>>>,
    pub instance_types: Option<Spanned<Vec<SpannedStr>>>,
    pub serverless_memory_mb: Option<Spanned<Vec<Spanned<i64>>>>,
    pub payload_sizes: Option<Spanned<Vec<SpannedStr>>>,
    pub load: Spanned<RawLoad>,
    pub duration: Option<SpannedStr>,
    pub warmup: Option<SpannedStr>,
    pub seed: Option<u64>,
    pub strategy: Option<SpannedStr>,
    pub repeats: Option<Spanned<i64>>,
}

/// `sweep.load`: how load is applied at each step.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLoad {
    pub mode: SpannedStr,
    pub concurrency: Option<Spanned<Vec<Spanned<i64>>>>,
    pub rates: Option<Spanned<Vec<Spanned<f64>>>>,
    pub arrivals: Option<SpannedStr>,
    pub max_in_flight: Option<Spanned<i64>>,
    pub min_rps: Option<Spanned<f64>>,
    pub max_rps: Option<Spanned<f64>>,
    pub min_concurrency: Option<Spanned<i64>>,
    pub max_concurrency: Option<Spanned<i64>>,
}

/// `[payload]`: request bodies.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPayload {
    pub source: Option<SpannedStr>,
    pub path: Option<SpannedStr>,
    /// `source = "files"`: one payload level per file.
    pub paths: Option<Spanned<Vec<SpannedStr>>>,
    pub template: Option<SpannedStr>,
    pub content_type: Option<SpannedStr>,
    /// `source = "prompt"`: prompt lengths to sweep, in tokens.
    pub input_tokens: Option<Spanned<Vec<Spanned<i64>>>>,
    /// `source = "prompt"` or `"dataset"`: generation lengths to sweep (`max_tokens`).
    pub output_tokens: Option<Spanned<Vec<Spanned<i64>>>>,
}

/// `[sla]`: what "good enough" means.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSla {
    pub percentile: Option<Spanned<f64>>,
    pub latency_ms: Option<Spanned<f64>>,
    pub max_error_rate: Option<Spanned<f64>>,
    /// Streaming: time to first token at the percentile, ms.
    pub ttft_ms: Option<Spanned<f64>>,
    /// Streaming: time per output token at the percentile, ms.
    pub tpot_ms: Option<Spanned<f64>>,
}

/// `[report]`: where results go.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReport {
    pub dir: Option<String>,
}

/// `[traffic]`: what production must serve.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTraffic {
    pub peak_rps: Option<Spanned<f64>>,
    pub requests_per_day: Option<Spanned<f64>>,
    pub headroom: Option<Spanned<f64>>,
    pub intermittent: Option<bool>,
    pub hourly: Option<Spanned<Vec<f64>>>,
    pub shape: Option<SpannedStr>,
    pub trough_rps: Option<Spanned<f64>>,
    pub payload_mix: Option<Spanned<BTreeMap<String, f64>>>,
    pub min_instances: Option<Spanned<i64>>,
}

/// `[pricing]`: which price table to use.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPricing {
    pub region: Option<String>,
    pub file: Option<SpannedStr>,
}

/// `[provision]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProvision {
    pub kind: SpannedStr,
    pub model_name: Option<SpannedStr>,
    pub image: Option<SpannedStr>,
    pub model_data_url: Option<SpannedStr>,
    pub execution_role_arn: Option<SpannedStr>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    pub max_parallel: Option<Spanned<i64>>,
    pub instance_count: Option<Spanned<i64>>,
    pub max_concurrency: Option<Spanned<i64>>,
    pub max_concurrent_invocations: Option<Spanned<i64>>,
    pub s3_prefix: Option<SpannedStr>,
    pub confirm: Option<bool>,
    pub deploy_time: Option<SpannedStr>,
}
