//! The LLM model of an emulated endpoint: prefill and decode costs, continuous batching and
//! the KV-cache budget an instance's GPU memory leaves beside the weights ([`Llm`]), with the
//! arithmetic the scheduler and the documentation share.
//!
//! A request costs `prefill_ms_per_token × input tokens` in the step that admits it (that
//! step ends with its first token), then one decode step per further output token. A step
//! with `b` running sequences takes `decode_ms + (b − 1) × decode_ms_per_seq`, divided by the
//! GPU's speed from the catalog (T4 = 1.0). Each running sequence reserves
//! `(input + max_tokens) × kv_kib_per_token` of KV cache out of
//! `GPU memory × GPU_MEMORY_UTILIZATION − weights`; a sequence that does not fit waits.

use super::catalog::Instance;

/// Share of GPU memory the server may use (vLLM's default `gpu_memory_utilization`); the
/// rest is left to the CUDA context and activations.
pub const GPU_MEMORY_UTILIZATION: f64 = 0.9;

/// `max_tokens` when a request sets none (vLLM's completions default is 16, TGI's 20; the
/// contract with the client says 256).
pub const DEFAULT_MAX_TOKENS: u32 = 256;

/// The LLM parameters of a model, on one NVIDIA T4 (catalog speed 1.0).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Llm {
    /// Prefill cost per input token (ms).
    pub prefill_ms_per_token: f64,
    /// Decode step with one running sequence (ms).
    pub decode_ms: f64,
    /// Extra decode step time per running sequence after the first (ms).
    pub decode_ms_per_seq: f64,
    /// Memory of the weights (GiB).
    pub weights_gib: f64,
    /// KV cache per token of a sequence (KiB).
    pub kv_kib_per_token: f64,
    /// Longest prompt + output a request may ask for (tokens).
    pub context_tokens: u32,
}

impl Llm {
    /// Decode step time (ms, model time) with `batch` running sequences at GPU `speed`.
    pub fn step_ms(&self, batch: usize, speed: f64) -> f64 {
        let extra = batch.saturating_sub(1) as f64;
        (self.decode_ms + extra * self.decode_ms_per_seq) / speed
    }

    /// Prefill time (ms, model time) of `input_tokens` at GPU `speed`.
    pub fn prefill_ms(&self, input_tokens: u32, speed: f64) -> f64 {
        f64::from(input_tokens) * self.prefill_ms_per_token / speed
    }

    /// Tokens of KV cache one instance holds: its GPUs' memory (all of them, as one
    /// tensor-parallel group) × [`GPU_MEMORY_UTILIZATION`] minus the weights; 0 for a CPU
    /// instance or when the weights do not fit.
    pub fn kv_budget_tokens(&self, instance: &Instance) -> u64 {
        if !instance.has_accelerator() || self.kv_kib_per_token <= 0.0 {
            return 0;
        }
        let gpu_gib = instance.accelerator_memory_gib * f64::from(instance.accelerator_count);
        let free_gib = gpu_gib * GPU_MEMORY_UTILIZATION - self.weights_gib;
        if free_gib <= 0.0 {
            return 0;
        }
        (free_gib * 1024.0 * 1024.0 / self.kv_kib_per_token).floor() as u64
    }

    /// GPU memory the weights leave usable on `instance` (MiB), for messages.
    pub fn usable_mb(instance: &Instance) -> u32 {
        let gpu_gib = instance.accelerator_memory_gib * f64::from(instance.accelerator_count);
        (gpu_gib * GPU_MEMORY_UTILIZATION * 1024.0).floor() as u32
    }

    /// Memory of the weights in MiB (what the model's `memory_mb` is for an LLM).
    pub fn weights_mb(&self) -> u32 {
        (self.weights_gib * 1024.0)
            .ceil()
            .clamp(1.0, f64::from(u32::MAX)) as u32
    }

    /// Sequences of `tokens_per_seq` (input + max output) that run at once on `instance`:
    /// the KV budget's share, at most `max_batch`.
    pub fn max_sequences(&self, instance: &Instance, tokens_per_seq: u32, max_batch: u32) -> u64 {
        let per_seq = u64::from(tokens_per_seq.max(1));
        (self.kv_budget_tokens(instance) / per_seq).min(u64::from(max_batch))
    }
}

/// One LLM request as the scheduler sees it: prompt and output lengths.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Shape {
    /// Prompt tokens.
    pub(crate) input_tokens: u32,
    /// Output tokens it generates (exactly; `ignore_eos`).
    pub(crate) max_tokens: u32,
}

impl Shape {
    /// KV-cache tokens the sequence reserves while it runs.
    pub(crate) fn reserved_tokens(&self) -> u64 {
        u64::from(self.input_tokens) + u64::from(self.max_tokens)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::catalog;
    use crate::emulator::model::Model;

    fn llm(preset: &str) -> Llm {
        Model::preset(preset)
            .and_then(|m| m.llm)
            .unwrap_or_else(|| panic!("{preset} is an LLM preset"))
    }

    fn instance(name: &str) -> &'static Instance {
        catalog::lookup(name).unwrap_or_else(|| panic!("{name} in the catalog"))
    }

    #[test]
    fn a_step_grows_by_the_per_sequence_increment_and_divides_by_gpu_speed() {
        let m = llm("llm-7b");
        let t4 = instance("ml.g4dn.xlarge").speed;
        let a10g = instance("ml.g5.xlarge").speed;
        assert!((m.step_ms(1, t4) - 45.0).abs() < 1e-9);
        assert!((m.step_ms(16, t4) - 67.5).abs() < 1e-9);
        assert!((m.step_ms(1, a10g) - 22.5).abs() < 1e-9);
        assert!((m.step_ms(16, a10g) - 33.75).abs() < 1e-9);
        assert_eq!(m.step_ms(0, t4), m.step_ms(1, t4));
        for b in 1..64 {
            assert!(m.step_ms(b + 1, t4) > m.step_ms(b, t4));
        }
        let s = llm("llm-small");
        assert!((s.step_ms(1, t4) - 8.0).abs() < 1e-9);
        assert!((s.step_ms(16, t4) - 11.75).abs() < 1e-9);
        assert!((m.prefill_ms(1000, t4) - 500.0).abs() < 1e-9);
    }

    #[test]
    fn the_kv_budget_is_gpu_memory_less_weights() {
        let m = llm("llm-7b");
        // T4: 16 GiB × 0.9 − 12.6 GiB = 1.8 GiB = 1,887,436.8 KiB / 512 KiB.
        assert_eq!(m.kv_budget_tokens(instance("ml.g4dn.xlarge")), 3686);
        // A10G: 24 GiB × 0.9 − 12.6 GiB = 9.0 GiB / 512 KiB.
        assert_eq!(m.kv_budget_tokens(instance("ml.g5.xlarge")), 18432);
        assert_eq!(m.kv_budget_tokens(instance("ml.c5.xlarge")), 0);
        assert_eq!(m.max_sequences(instance("ml.g4dn.xlarge"), 256, 256), 14);
        assert_eq!(m.max_sequences(instance("ml.g5.xlarge"), 256, 256), 72);
        assert_eq!(m.max_sequences(instance("ml.g5.xlarge"), 256, 8), 8);
        let s = llm("llm-small");
        assert_eq!(s.kv_budget_tokens(instance("ml.g4dn.xlarge")), 396_492);
        let huge = Llm {
            weights_gib: 30.0,
            ..m
        };
        assert_eq!(huge.kv_budget_tokens(instance("ml.g5.xlarge")), 0);
    }
}
