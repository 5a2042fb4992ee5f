//! The built-in model presets: documented per-request costs of a few common model shapes,
//! each as a [`Model`], and their lookup by name.

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
}

/// The built-in presets.
pub const PRESETS: [Preset; 4] = [
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
    },
    Preset {
        name: "llm-small",
        summary: "small decoder LM (~125M parameters) generating ~32 tokens",
        base_ms: 1_000.0,
        per_kib_ms: 4.0,
        gpu_speedup: 8.0,
        max_batch: 8,
        cold_start_ms: 30_000,
        memory_mb: 3072,
        service: ServiceDistribution::Lognormal,
        jitter: 0.3,
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
