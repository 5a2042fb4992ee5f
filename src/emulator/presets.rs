//! The built-in model presets: documented per-request costs of a few common model shapes,
//! and two LLMs that stream tokens ([`LLM_SMALL`], [`LLM_7B`]), each as a [`Model`], and
//! their lookup by name.

use super::llm::Llm;
use super::model::{DEFAULT_SEED, Model, ServiceDistribution};
use std::time::Duration;

/// A named model preset. Figures are per-request costs on one `ml.m5` core and one NVIDIA
/// T4; they are modelling assumptions of the right order of magnitude, not measurements.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Preset {
    /// Name used in `preset = "..."`.
    pub name: &'static str,
    /// What the preset stands for.
    pub summary: &'static str,
    /// Fixed cost per request on one m5 core (ms).
    pub base_ms: f64,
    /// Cost per KiB of payload on one m5 core (ms).
    pub per_kib_ms: f64,
    /// Single-request speed-up of one T4 over one m5 core.
    pub gpu_speedup: f64,
    /// Largest accelerator batch.
    pub max_batch: u32,
    /// Model load time of a fresh container (ms).
    pub cold_start_ms: u64,
    /// Memory of the loaded model (MB).
    pub memory_mb: u32,
    /// Jitter distribution.
    pub service: ServiceDistribution,
    /// Coefficient of variation of the lognormal jitter.
    pub jitter: f64,
    /// LLM parameters, for presets that stream tokens.
    pub llm: Option<Llm>,
}

/// `llm-small`: a ~1.2B-parameter decoder in FP16, shaped like Llama-3.2-1B (16 layers,
/// 8 KV heads × 64 dimensions), on one NVIDIA T4:
/// - weights 1.24e9 × 2 B = 2.48 GB = 2.3 GiB;
/// - KV cache 2 (K, V) × 16 layers × 8 heads × 64 × 2 B = 32 KiB per token;
/// - decode step 8 ms at batch 1 (reading the weights once at the T4's 320 GB/s is 7.75 ms),
///   plus 0.25 ms per further running sequence (its KV reads and compute);
/// - prefill 0.1 ms per input token (2 × 1.24e9 FLOPs per token at ~25 effective FP16
///   TFLOPS, plus overhead);
/// - 8192 tokens of context. Modelling assumptions of the right order, not measurements.
pub const LLM_SMALL: Llm = Llm {
    prefill_ms_per_token: 0.1,
    decode_ms: 8.0,
    decode_ms_per_seq: 0.25,
    weights_gib: 2.3,
    kv_kib_per_token: 32.0,
    context_tokens: 8192,
};

/// `llm-7b`: a ~6.7B-parameter decoder in FP16, shaped like Llama-2-7B (32 layers, 32 heads
/// × 128 dimensions, no grouped-query attention), on one NVIDIA T4:
/// - weights 6.74e9 × 2 B = 13.5 GB = 12.6 GiB (it fits a 16 GiB T4 with 1.8 GiB of KV cache
///   left at 90 % utilisation);
/// - KV cache 2 × 32 layers × 4096 × 2 B = 512 KiB per token;
/// - decode step 45 ms at batch 1 (13.5 GB at 320 GB/s is 42 ms), plus 1.5 ms per further
///   running sequence;
/// - prefill 0.5 ms per input token (14 GFLOPs per token at ~28 effective TFLOPS);
/// - 4096 tokens of context. Modelling assumptions of the right order, not measurements.
pub const LLM_7B: Llm = Llm {
    prefill_ms_per_token: 0.5,
    decode_ms: 45.0,
    decode_ms_per_seq: 1.5,
    weights_gib: 12.6,
    kv_kib_per_token: 512.0,
    context_tokens: 4096,
};

/// Most sequences an LLM preset runs at once per instance (vLLM's default `max_num_seqs`).
const LLM_MAX_SEQS: u32 = 256;

/// The built-in presets.
pub const PRESETS: [Preset; 6] = [
    Preset {
        name: "tiny-mlp",
        summary: "a few dense layers on tabular features; overhead-bound, GPUs barely help",
        base_ms: 0.2,
        per_kib_ms: 0.002,
        gpu_speedup: 1.0,
        max_batch: 64,
        cold_start_ms: 500,
        memory_mb: 128,
        service: ServiceDistribution::Lognormal,
        jitter: 0.1,
        llm: None,
    },
    Preset {
        name: "resnet50",
        summary: "ResNet-50 image classification, 224x224 input (~4 GFLOPs per image)",
        base_ms: 90.0,
        per_kib_ms: 0.02,
        gpu_speedup: 18.0,
        max_batch: 32,
        cold_start_ms: 8_000,
        memory_mb: 1024,
        service: ServiceDistribution::Lognormal,
        jitter: 0.15,
        llm: None,
    },
    Preset {
        name: "bert-base",
        summary: "BERT-base encoder (110M parameters), cost grows with text length",
        base_ms: 120.0,
        per_kib_ms: 1.0,
        gpu_speedup: 20.0,
        max_batch: 16,
        cold_start_ms: 6_000,
        memory_mb: 1536,
        service: ServiceDistribution::Lognormal,
        jitter: 0.2,
        llm: None,
    },
    Preset {
        name: "textgen-small",
        summary: "small decoder LM (~125M parameters) generating ~32 tokens in one answer",
        base_ms: 1_000.0,
        per_kib_ms: 4.0,
        gpu_speedup: 8.0,
        max_batch: 8,
        cold_start_ms: 30_000,
        memory_mb: 3072,
        service: ServiceDistribution::Lognormal,
        jitter: 0.3,
        llm: None,
    },
    Preset {
        name: "llm-small",
        summary: "~1.2B-parameter LLM (Llama-3.2-1B-like, FP16) streaming tokens",
        base_ms: 0.0,
        per_kib_ms: 0.0,
        gpu_speedup: 1.0,
        max_batch: LLM_MAX_SEQS,
        cold_start_ms: 20_000,
        memory_mb: 2356,
        service: ServiceDistribution::Lognormal,
        jitter: 0.05,
        llm: Some(LLM_SMALL),
    },
    Preset {
        name: "llm-7b",
        summary: "~7B-parameter LLM (Llama-2-7B-like, FP16) streaming tokens",
        base_ms: 0.0,
        per_kib_ms: 0.0,
        gpu_speedup: 1.0,
        max_batch: LLM_MAX_SEQS,
        cold_start_ms: 120_000,
        memory_mb: 12_903,
        service: ServiceDistribution::Lognormal,
        jitter: 0.05,
        llm: Some(LLM_7B),
    },
];

impl Preset {
    /// The preset as a model at real time (`time_scale` 1) with the default seed.
    pub fn model(&self) -> Model {
        Model {
            name: self.name.to_string(),
            base_ms: self.base_ms,
            per_kib_ms: self.per_kib_ms,
            gpu_speedup: self.gpu_speedup,
            max_batch: self.max_batch,
            cold_start: Duration::from_millis(self.cold_start_ms),
            memory_mb: self.memory_mb,
            service: self.service,
            jitter: self.jitter,
            time_scale: 1.0,
            seed: DEFAULT_SEED,
            llm: self.llm,
        }
    }
}

impl Model {
    /// The named preset, or `None` for an unknown name.
    pub fn preset(name: &str) -> Option<Model> {
        PRESETS.iter().find(|p| p.name == name).map(Preset::model)
    }
}

/// The preset names, comma-separated, for messages that list them.
pub(crate) fn preset_names() -> String {
    PRESETS.map(|p| p.name).join(", ")
}
