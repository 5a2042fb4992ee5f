//! The emulated model: named presets, resolution of a `[model]` table into a [`Model`], and
//! the service-time arithmetic (payload cost, instance speed, batching, jitter, time scale).

use super::catalog::Instance;
use super::config::{ModelConfig, ServiceDistribution};
pub use super::presets::{PRESETS, Preset};
use rand::Rng;
use rand_distr::{Distribution, Exp, LogNormal};
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
}

/// A `[model]` table that cannot become a [`Model`]; says which field and how to fix it.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ModelConfigError {
    /// The preset name is not one of [`PRESETS`].
    #[error("unknown model preset `{name}`; use one of: {}", preset_names())]
    UnknownPreset {
        /// The name given.
        name: String,
    },
    /// Neither a preset nor `base_ms` was given.
    #[error(
        "`model` needs a `preset` ({}) or an explicit `base_ms`",
        preset_names()
    )]
    MissingBase,
    /// `cold_start` is not a humantime duration.
    #[error("`model.cold_start` = {value:?} is not a duration ({reason}); write e.g. \"2s\"")]
    ColdStart {
        /// The text given.
        value: String,
        /// Why it did not parse.
        reason: String,
    },
    /// A numeric field is out of range.
    #[error("`model.{field}` = {value} is invalid; {fix}")]
    Invalid {
        /// Field name within `[model]`.
        field: &'static str,
        /// The value given.
        value: String,
        /// What to write instead.
        fix: &'static str,
    },
}

impl ModelConfigError {
    /// The `[model]` key the error is about, for key paths such as `model.base_ms`.
    pub fn field(&self) -> &'static str {
        match self {
            ModelConfigError::UnknownPreset { .. } => "preset",
            ModelConfigError::MissingBase => "base_ms",
            ModelConfigError::ColdStart { .. } => "cold_start",
            ModelConfigError::Invalid { field, .. } => field,
        }
    }
}

fn preset_names() -> String {
    PRESETS.map(|p| p.name).join(", ")
}

impl ModelConfig {
    /// Resolves the preset (if any) and applies every explicit field on top of it.
    pub fn resolve(&self) -> Result<Model, ModelConfigError> {
        let mut model = match &self.preset {
            Some(name) => Model::preset(name)
                .ok_or_else(|| ModelConfigError::UnknownPreset { name: name.clone() })?,
            None => Model::custom(self.base_ms.ok_or(ModelConfigError::MissingBase)?),
        };
        self.apply_overrides(&mut model)?;
        model.check()?;
        Ok(model)
    }

    fn apply_overrides(&self, m: &mut Model) -> Result<(), ModelConfigError> {
        m.base_ms = self.base_ms.unwrap_or(m.base_ms);
        m.per_kib_ms = self.per_kib_ms.unwrap_or(m.per_kib_ms);
        m.gpu_speedup = self.gpu_speedup.unwrap_or(m.gpu_speedup);
        m.max_batch = self.max_batch.unwrap_or(m.max_batch);
        m.memory_mb = self.memory_mb.unwrap_or(m.memory_mb);
        m.service = self.service.unwrap_or(m.service);
        m.jitter = self.jitter.unwrap_or(m.jitter);
        m.time_scale = self.time_scale.unwrap_or(m.time_scale);
        m.seed = self.seed.unwrap_or(m.seed);
        if let Some(text) = &self.cold_start {
            m.cold_start =
                humantime::parse_duration(text).map_err(|e| ModelConfigError::ColdStart {
                    value: text.clone(),
                    reason: e.to_string(),
                })?;
        }
        Ok(())
    }
}

impl Model {
    /// The named preset, or `None` for an unknown name.
    pub fn preset(name: &str) -> Option<Model> {
        PRESETS.iter().find(|p| p.name == name).map(Preset::model)
    }

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
        }
    }

    /// The same model with every simulated duration multiplied by `time_scale`.
    pub fn with_time_scale(mut self, time_scale: f64) -> Model {
        self.time_scale = time_scale;
        self
    }

    /// The model written back as an explicit `[model]` table (no preset).
    pub fn to_config(&self) -> ModelConfig {
        ModelConfig {
            preset: None,
            base_ms: Some(self.base_ms),
            per_kib_ms: Some(self.per_kib_ms),
            gpu_speedup: Some(self.gpu_speedup),
            max_batch: Some(self.max_batch),
            cold_start: Some(humantime::format_duration(self.cold_start).to_string()),
            memory_mb: Some(self.memory_mb),
            service: Some(self.service),
            jitter: Some(self.jitter),
            time_scale: Some(self.time_scale),
            seed: Some(self.seed),
        }
    }

    /// Checks every numeric field; the first problem found is returned.
    pub fn check(&self) -> Result<(), ModelConfigError> {
        let invalid = |field, value: f64, fix| ModelConfigError::Invalid {
            field,
            value: value.to_string(),
            fix,
        };
        let non_negative = |v: f64| v.is_finite() && v >= 0.0;
        let positive = |v: f64| v.is_finite() && v > 0.0;
        if !non_negative(self.base_ms) {
            return Err(invalid("base_ms", self.base_ms, "use a number of ms >= 0"));
        }
        if !non_negative(self.per_kib_ms) {
            return Err(invalid(
                "per_kib_ms",
                self.per_kib_ms,
                "use a number of ms >= 0",
            ));
        }
        if !positive(self.gpu_speedup) {
            return Err(invalid("gpu_speedup", self.gpu_speedup, "use a factor > 0"));
        }
        if !(1..=1024).contains(&self.max_batch) {
            let fix = "use a batch size from 1 to 1024";
            return Err(invalid("max_batch", f64::from(self.max_batch), fix));
        }
        if !(0.0..=10.0).contains(&self.jitter) {
            return Err(invalid(
                "jitter",
                self.jitter,
                "use a coefficient of variation 0..=10",
            ));
        }
        if !positive(self.time_scale) {
            return Err(invalid(
                "time_scale",
                self.time_scale,
                "use a factor > 0, e.g. 0.1",
            ));
        }
        if self.memory_mb == 0 {
            return Err(invalid(
                "memory_mb",
                0.0,
                "use the model's memory in MB, > 0",
            ));
        }
        Ok(())
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
    fn presets_resolve_and_pass_their_own_checks() {
        for preset in PRESETS {
            let cfg = ModelConfig {
                preset: Some(preset.name.to_string()),
                ..ModelConfig::default()
            };
            let model = cfg.resolve().expect(preset.name);
            assert_eq!(model, preset.model());
        }
    }

    #[test]
    fn explicit_fields_override_the_preset() {
        let cfg = ModelConfig {
            preset: Some("bert-base".into()),
            base_ms: Some(10.0),
            cold_start: Some("250ms".into()),
            service: Some(ServiceDistribution::Fixed),
            time_scale: Some(0.5),
            ..ModelConfig::default()
        };
        let m = cfg.resolve().expect("model");
        assert_eq!(m.base_ms, 10.0);
        assert_eq!(m.per_kib_ms, 1.0);
        assert_eq!(m.cold_start, Duration::from_millis(250));
        assert_eq!(m.service, ServiceDistribution::Fixed);
        assert_eq!(m.time_scale, 0.5);
        assert_eq!(
            ModelConfig {
                preset: None,
                ..m.to_config()
            }
            .resolve(),
            Ok(Model {
                name: "custom".into(),
                ..m
            })
        );
    }

    #[test]
    fn bad_configs_name_the_field_and_list_presets() {
        let unknown = ModelConfig {
            preset: Some("bert".into()),
            ..ModelConfig::default()
        };
        let err = unknown.resolve().unwrap_err();
        assert_eq!(err.field(), "preset");
        assert!(
            err.to_string()
                .contains("tiny-mlp, resnet50, bert-base, llm-small"),
            "{err}"
        );
        assert_eq!(
            ModelConfig::default().resolve().unwrap_err(),
            ModelConfigError::MissingBase
        );
        let negative = ModelConfig {
            base_ms: Some(-1.0),
            ..ModelConfig::default()
        };
        assert_eq!(negative.resolve().unwrap_err().field(), "base_ms");
        let scale = ModelConfig {
            base_ms: Some(1.0),
            time_scale: Some(0.0),
            ..ModelConfig::default()
        };
        assert_eq!(scale.resolve().unwrap_err().field(), "time_scale");
        let cold = ModelConfig {
            base_ms: Some(1.0),
            cold_start: Some("soon".into()),
            ..ModelConfig::default()
        };
        assert_eq!(cold.resolve().unwrap_err().field(), "cold_start");
    }

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
