//! The emulated model: the fixed parameters an endpoint runs ([`Model`], its jitter
//! distribution) and the service-time arithmetic (payload cost, instance speed, batching,
//! jitter, time scale).

use super::catalog::Instance;
use super::llm::Llm;
use rand::Rng;
use rand_distr::{Distribution, Exp, LogNormal};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Extra cost of each request after the first in an accelerator batch, as a fraction of a
/// single request: a batch of `k` costs `single × (1 + (k − 1) × 0.15)`.
pub const BATCH_MARGINAL_COST: f64 = 0.15;

/// Seed used when a model sets none, so runs are reproducible by default.
pub const DEFAULT_SEED: u64 = 0x5EED_1234;

/// A model with every parameter fixed: what an emulated endpoint runs.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// Preset name, or `custom` when no preset was used.
    pub name: String,
    /// Fixed cost per request on one m5 core (ms, model time).
    pub base_ms: f64,
    /// Cost per KiB of payload on one m5 core (ms, model time).
    pub per_kib_ms: f64,
    /// Single-request speed-up of one T4-class accelerator over one m5 core.
    pub gpu_speedup: f64,
    /// Largest accelerator batch (1 = no batching).
    pub max_batch: u32,
    /// Model load time of a fresh container (model time).
    pub cold_start: Duration,
    /// Memory of the loaded model (MB).
    pub memory_mb: u32,
    /// Jitter distribution.
    pub service: ServiceDistribution,
    /// Coefficient of variation of the lognormal jitter.
    pub jitter: f64,
    /// Wall time per unit of model time (0.1 runs ten times faster than real).
    pub time_scale: f64,
    /// Seed of the endpoint's random draws.
    pub seed: u64,
    /// LLM parameters: `Some` makes the endpoint generate tokens (prefill, decode steps,
    /// continuous batching, KV cache) instead of answering per request; `base_ms`,
    /// `per_kib_ms` and `gpu_speedup` are then unused and `max_batch` caps the running
    /// sequences.
    pub llm: Option<Llm>,
}

/// Distribution of the service-time jitter factor (mean 1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ServiceDistribution {
    /// Lognormal with the model's `jitter` as coefficient of variation.
    #[default]
    Lognormal,
    /// Exponential (coefficient of variation 1): makes an endpoint an M/M/c queue.
    Exponential,
    /// No jitter: every request of the same size takes the same time.
    Fixed,
}

impl Model {
    /// A model with only a base cost; everything else at neutral defaults.
    pub fn custom(base_ms: f64) -> Model {
        Model {
            name: "custom".to_string(),
            base_ms,
            per_kib_ms: 0.0,
            gpu_speedup: 1.0,
            max_batch: 1,
            cold_start: Duration::ZERO,
            memory_mb: 256,
            service: ServiceDistribution::Lognormal,
            jitter: 0.2,
            time_scale: 1.0,
            seed: DEFAULT_SEED,
            llm: None,
        }
    }

    /// The same model with every simulated duration multiplied by `time_scale`.
    pub fn with_time_scale(mut self, time_scale: f64) -> Model {
        self.time_scale = time_scale;
        self
    }

    /// Model-time cost (ms) of one request of `payload_bytes` at relative `speed`, before
    /// jitter: `(base_ms + per_kib_ms × KiB) / speed`.
    pub fn single_ms(&self, payload_bytes: u64, speed: f64) -> f64 {
        let kib = payload_bytes as f64 / 1024.0;
        (self.base_ms + self.per_kib_ms * kib) / speed
    }

    /// Relative speed of one worker of `instance`: per-core speed for CPU instances,
    /// accelerator speed × `gpu_speedup` for accelerator instances.
    pub fn worker_speed(&self, instance: &Instance) -> f64 {
        if instance.has_accelerator() {
            instance.speed * self.gpu_speedup
        } else {
            instance.speed
        }
    }

    /// Converts model time to wall time with `time_scale`.
    pub fn wall(&self, model_ms: f64) -> Duration {
        Duration::from_secs_f64((model_ms * self.time_scale / 1000.0).max(0.0))
    }

    /// Wall-clock length of a model-time duration (cold starts, idle thresholds, stalls).
    pub fn wall_duration(&self, model: Duration) -> Duration {
        model.mul_f64(self.time_scale)
    }
}

/// Cost (ms) of a batch of `k` requests whose largest single cost is `single_ms`.
pub fn batch_ms(single_ms: f64, k: u32) -> f64 {
    let extra = f64::from(k.max(1) - 1);
    single_ms * (1.0 + extra * BATCH_MARGINAL_COST)
}

/// Draws jitter factors with mean 1 from a model's service distribution.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Jitter {
    Fixed,
    Exponential(Exp<f64>),
    LogNormal(LogNormal<f64>),
}

impl Jitter {
    /// The sampler for a model; a zero coefficient of variation means no jitter.
    pub(crate) fn of(model: &Model) -> Jitter {
        match model.service {
            ServiceDistribution::Fixed => Jitter::Fixed,
            ServiceDistribution::Exponential => {
                Exp::new(1.0).map_or(Jitter::Fixed, Jitter::Exponential)
            }
            ServiceDistribution::Lognormal if model.jitter <= 0.0 => Jitter::Fixed,
            ServiceDistribution::Lognormal => {
                LogNormal::from_mean_cv(1.0, model.jitter).map_or(Jitter::Fixed, Jitter::LogNormal)
            }
        }
    }

    /// One factor (mean 1).
    pub(crate) fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Jitter::Fixed => 1.0,
            Jitter::Exponential(d) => d.sample(rng),
            Jitter::LogNormal(d) => d.sample(rng),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::catalog;
    use rand::{SeedableRng, rngs::SmallRng};

    #[test]
    fn service_time_divides_payload_cost_by_speed() {
        let m = Model {
            per_kib_ms: 2.0,
            ..Model::custom(10.0)
        };
        assert_eq!(m.single_ms(0, 1.0), 10.0);
        assert_eq!(m.single_ms(4096, 1.0), 18.0);
        assert_eq!(m.single_ms(4096, 2.0), 9.0);
        let c5 = catalog::lookup("ml.c5.xlarge").expect("c5");
        let g4 = catalog::lookup("ml.g4dn.xlarge").expect("g4dn");
        let bert = Model::preset("bert-base").expect("bert");
        assert_eq!(bert.worker_speed(c5), 1.15);
        assert_eq!(bert.worker_speed(g4), 20.0);
        assert_eq!(
            bert.with_time_scale(0.1).wall(100.0),
            Duration::from_millis(10)
        );
    }

    #[test]
    fn a_batch_costs_less_than_its_singles() {
        assert_eq!(batch_ms(10.0, 1), 10.0);
        assert!((batch_ms(10.0, 2) - 11.5).abs() < 1e-9);
        assert!((batch_ms(10.0, 16) - 32.5).abs() < 1e-9);
        for k in 2..64 {
            assert!(batch_ms(10.0, k) < 10.0 * f64::from(k));
        }
    }

    #[test]
    fn jitter_has_mean_one_for_each_distribution() {
        let mut rng = SmallRng::seed_from_u64(7);
        for service in [
            ServiceDistribution::Lognormal,
            ServiceDistribution::Exponential,
        ] {
            let model = Model {
                service,
                jitter: 0.5,
                ..Model::custom(1.0)
            };
            let jitter = Jitter::of(&model);
            let n = 200_000;
            let mean = (0..n).map(|_| jitter.sample(&mut rng)).sum::<f64>() / f64::from(n);
            assert!((mean - 1.0).abs() < 0.01, "{service:?}: {mean}");
        }
        let fixed = Model {
            service: ServiceDistribution::Fixed,
            ..Model::custom(1.0)
        };
        assert_eq!(Jitter::of(&fixed).sample(&mut rng), 1.0);
    }
}
