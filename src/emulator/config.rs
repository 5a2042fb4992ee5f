//! What an emulated endpoint is made of: the `[model]` and `[faults]` tables of a profile or
//! emulator file (serde mirrors), the resolution and checks that turn a `[model]` table into
//! a [`Model`], and the resolved [`EndpointSpec`] the server runs.

use super::llm::Llm;
use super::model::{Model, ServiceDistribution};
use super::presets::{LLM_SMALL, preset_names};
use crate::domain::Hosting;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The production variant name SageMaker gives a single-variant endpoint.
pub const DEFAULT_VARIANT: &str = "AllTraffic";

/// `[model]` table of a profile: a preset and/or explicit service-time parameters.
///
/// Every field is optional; [`ModelConfig::resolve`] starts from the preset (if any) and
/// applies the explicit fields on top.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Preset name: `tiny-mlp`, `resnet50`, `bert-base`, `textgen-small`, or the LLMs
    /// `llm-small` and `llm-7b`.
    pub preset: Option<String>,
    /// Fixed cost of one request on one `ml.m5` core, in milliseconds.
    pub base_ms: Option<f64>,
    /// Extra cost per KiB of payload on one `ml.m5` core, in milliseconds.
    pub per_kib_ms: Option<f64>,
    /// How much faster one T4-class accelerator runs a single request than one `ml.m5` core.
    pub gpu_speedup: Option<f64>,
    /// Largest batch an accelerator worker forms from queued requests.
    pub max_batch: Option<u32>,
    /// Time to load the model into a fresh container (humantime, e.g. `"2s"`).
    pub cold_start: Option<String>,
    /// Memory the loaded model needs, in MB (MiB, as SageMaker counts).
    pub memory_mb: Option<u32>,
    /// Shape of the service-time jitter.
    pub service: Option<ServiceDistribution>,
    /// Coefficient of variation of the lognormal jitter (ignored by `exponential`/`fixed`).
    pub jitter: Option<f64>,
    /// Multiplier applied to every simulated duration (0.1 = ten times faster than real).
    pub time_scale: Option<f64>,
    /// Seed of the emulator's random draws.
    pub seed: Option<u64>,
    /// LLM: prefill cost per input token on one T4, in milliseconds. Any LLM field without
    /// an LLM preset makes the model an LLM, starting from `llm-small`'s figures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefill_ms_per_token: Option<f64>,
    /// LLM: decode step with one running sequence on one T4, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decode_ms: Option<f64>,
    /// LLM: extra decode step time per further running sequence on one T4, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decode_ms_per_seq: Option<f64>,
    /// LLM: memory of the weights in GiB (the model's memory; `memory_mb` follows it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weights_gib: Option<f64>,
    /// LLM: KV cache per token of a running sequence, in KiB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kv_kib_per_token: Option<f64>,
    /// LLM: longest prompt + output a request may ask for, in tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context_tokens: Option<u32>,
}

/// A `[model]` table that cannot become a [`Model`]; says which field and how to fix it.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ModelConfigError {
    /// The preset name is not one of [`PRESETS`](super::PRESETS).
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

impl ModelConfig {
    /// Resolves the preset (if any) and applies every explicit field on top of it.
    pub fn resolve(&self) -> Result<Model, ModelConfigError> {
        let mut model = match &self.preset {
            Some(name) => Model::preset(name)
                .ok_or_else(|| ModelConfigError::UnknownPreset { name: name.clone() })?,
            None if self.has_llm_fields() => Model {
                name: "custom".to_string(),
                ..Model::preset("llm-small").ok_or(ModelConfigError::MissingBase)?
            },
            None => Model::custom(self.base_ms.ok_or(ModelConfigError::MissingBase)?),
        };
        self.apply_overrides(&mut model)?;
        self.apply_llm(&mut model);
        model.check()?;
        Ok(model)
    }

    fn has_llm_fields(&self) -> bool {
        self.prefill_ms_per_token.is_some()
            || self.decode_ms.is_some()
            || self.decode_ms_per_seq.is_some()
            || self.weights_gib.is_some()
            || self.kv_kib_per_token.is_some()
            || self.context_tokens.is_some()
    }

    /// Applies the LLM fields (making the model an LLM if it was not); an LLM's memory is
    /// its weights unless `memory_mb` is given.
    fn apply_llm(&self, m: &mut Model) {
        if m.llm.is_none() && !self.has_llm_fields() {
            return;
        }
        let base = m.llm.unwrap_or(LLM_SMALL);
        let llm = Llm {
            prefill_ms_per_token: self
                .prefill_ms_per_token
                .unwrap_or(base.prefill_ms_per_token),
            decode_ms: self.decode_ms.unwrap_or(base.decode_ms),
            decode_ms_per_seq: self.decode_ms_per_seq.unwrap_or(base.decode_ms_per_seq),
            weights_gib: self.weights_gib.unwrap_or(base.weights_gib),
            kv_kib_per_token: self.kv_kib_per_token.unwrap_or(base.kv_kib_per_token),
            context_tokens: self.context_tokens.unwrap_or(base.context_tokens),
        };
        if self.memory_mb.is_none() {
            m.memory_mb = llm.weights_mb();
        }
        m.llm = Some(llm);
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
    /// The model written back as an explicit `[model]` table, naming its preset if it has one.
    pub fn to_config(&self) -> ModelConfig {
        ModelConfig {
            // The preset's name, so a model read back keeps it; every field is explicit.
            preset: Model::preset(&self.name).map(|_| self.name.clone()),
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
            prefill_ms_per_token: self.llm.map(|l| l.prefill_ms_per_token),
            decode_ms: self.llm.map(|l| l.decode_ms),
            decode_ms_per_seq: self.llm.map(|l| l.decode_ms_per_seq),
            weights_gib: self.llm.map(|l| l.weights_gib),
            kv_kib_per_token: self.llm.map(|l| l.kv_kib_per_token),
            context_tokens: self.llm.map(|l| l.context_tokens),
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
        self.llm.as_ref().map_or(Ok(()), check_llm)
    }
}

/// Checks the LLM fields; the first problem found is returned.
fn check_llm(l: &Llm) -> Result<(), ModelConfigError> {
    let invalid = |field, value: f64, fix| ModelConfigError::Invalid {
        field,
        value: value.to_string(),
        fix,
    };
    let non_negative = |v: f64| v.is_finite() && v >= 0.0;
    let positive = |v: f64| v.is_finite() && v > 0.0;
    let ms = "use a number of ms >= 0";
    if !non_negative(l.prefill_ms_per_token) {
        return Err(invalid("prefill_ms_per_token", l.prefill_ms_per_token, ms));
    }
    if !positive(l.decode_ms) {
        let fix = "use a number of ms > 0";
        return Err(invalid("decode_ms", l.decode_ms, fix));
    }
    if !non_negative(l.decode_ms_per_seq) {
        return Err(invalid("decode_ms_per_seq", l.decode_ms_per_seq, ms));
    }
    if !non_negative(l.weights_gib) {
        let fix = "use the weights' size in GiB, >= 0";
        return Err(invalid("weights_gib", l.weights_gib, fix));
    }
    if !positive(l.kv_kib_per_token) {
        let fix = "use the KV cache per token in KiB, > 0";
        return Err(invalid("kv_kib_per_token", l.kv_kib_per_token, fix));
    }
    if l.context_tokens < 2 {
        let fix = "use at least 2 tokens (one prompt token, one output token)";
        return Err(invalid("context_tokens", f64::from(l.context_tokens), fix));
    }
    Ok(())
}

impl Model {
    /// True when the model streams tokens (an LLM).
    pub fn is_llm(&self) -> bool {
        self.llm.is_some()
    }
}

/// The error an injected failure answers with (the SageMaker runtime error of that name).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum InjectedError {
    /// 500 `InternalFailure`.
    #[default]
    InternalFailure,
    /// 424 `ModelError` with `OriginalStatusCode` 500.
    ModelError,
    /// 429 `ModelNotReadyException`.
    ModelNotReady,
    /// 503 `ServiceUnavailable`.
    ServiceUnavailable,
    /// 530 `InternalDependencyException`.
    InternalDependency,
    /// 400 `ThrottlingException`.
    Throttling,
}

/// Fault-injection knobs of one endpoint; everything defaults to off.
///
/// Rates are fractions of requests in `0..=1`; durations are model time (scaled by the
/// model's `time_scale`) and written as humantime strings in TOML.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Faults {
    /// Fraction of requests answered with `error_type` instead of being served.
    pub error_rate: f64,
    /// Which error injected failures answer with.
    pub error_type: InjectedError,
    /// Fraction of requests that take `spike_ms` longer.
    pub spike_rate: f64,
    /// Extra service time of a latency spike, in milliseconds.
    pub spike_ms: f64,
    /// When the stall starts, counted from the endpoint's first request.
    #[serde(with = "humantime_serde")]
    pub stall_at: Duration,
    /// How long the endpoint stops serving (zero: no stall).
    #[serde(with = "humantime_serde")]
    pub stall_for: Duration,
    /// Fraction of requests whose connection is closed without an answer.
    pub reset_rate: f64,
    /// LLM endpoints: fraction of streams that fail half way through their tokens, with a
    /// `ModelStreamError` exception event (SageMaker) or an SSE error event (OpenAI).
    #[serde(skip_serializing_if = "is_zero")]
    pub stream_error_rate: f64,
}

/// Keeps a fault knob that is off out of written records.
fn is_zero(rate: &f64) -> bool {
    *rate == 0.0
}

impl Faults {
    /// True when no fault is configured.
    pub fn is_off(&self) -> bool {
        self.error_rate <= 0.0
            && self.spike_rate <= 0.0
            && self.reset_rate <= 0.0
            && self.stream_error_rate <= 0.0
            && self.stall_for.is_zero()
    }
}

/// Serverless settings of an endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServerlessSpec {
    /// Memory size in MB: 1024–6144 in 1024 steps.
    pub memory_mb: u32,
    /// Concurrent requests served before throttling, 1–200.
    pub max_concurrency: u32,
}

/// One emulated endpoint: hosting option, capacity, model and faults.
#[derive(Clone, Debug, PartialEq)]
pub struct EndpointSpec {
    /// Endpoint name used in the URL path.
    pub name: String,
    /// Production variant name, echoed in `x-Amzn-Invoked-Production-Variant`.
    pub variant: String,
    /// Hosting option.
    pub hosting: Hosting,
    /// Instance type from the catalog; ignored for serverless (but a GPU type is refused).
    pub instance_type: String,
    /// Instances behind the endpoint (least-outstanding-requests routing).
    pub instance_count: u32,
    /// Serverless memory and concurrency; required when `hosting` is serverless.
    pub serverless: Option<ServerlessSpec>,
    /// The emulated model.
    pub model: Model,
    /// Fault injection.
    pub faults: Faults,
    /// Requests that may wait for a worker, endpoint-wide; `None` = the hosting default.
    pub queue_capacity: Option<usize>,
    /// Idle time (model time) after which serverless and async capacity scales to zero;
    /// `None` = the default of 5 minutes. Ignored for real-time and batch.
    pub idle_timeout: Option<Duration>,
}

impl EndpointSpec {
    /// An endpoint on `instance_count = 1` instance of `instance_type`, variant `AllTraffic`,
    /// no faults and default queue and idle settings.
    pub fn new(name: &str, hosting: Hosting, instance_type: &str, model: Model) -> EndpointSpec {
        EndpointSpec {
            name: name.to_string(),
            variant: DEFAULT_VARIANT.to_string(),
            hosting,
            instance_type: instance_type.to_string(),
            instance_count: 1,
            serverless: None,
            model,
            faults: Faults::default(),
            queue_capacity: None,
            idle_timeout: None,
        }
    }

    /// A serverless endpoint with the given memory size and MaxConcurrency.
    pub fn serverless(
        name: &str,
        memory_mb: u32,
        max_concurrency: u32,
        model: Model,
    ) -> EndpointSpec {
        EndpointSpec {
            serverless: Some(ServerlessSpec {
                memory_mb,
                max_concurrency,
            }),
            ..EndpointSpec::new(name, Hosting::Serverless, "", model)
        }
    }
}

/// Serde adapter for `Duration` fields written as humantime strings (`"2s"`, `"150ms"`).
pub(crate) mod humantime_serde {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};
    use std::time::Duration;

    /// Writes a duration as a humantime string.
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }

    /// Reads a humantime string such as `"2s"`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(&text).map_err(|e| {
            D::Error::custom(format!(
                "`{text}` is not a duration ({e}); write e.g. \"2s\""
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::presets::PRESETS;

    #[test]
    fn faults_parse_from_toml_with_humantime_durations() {
        let faults: Faults = toml::from_str(
            "error_rate = 0.1\nerror_type = \"model-error\"\nstall_at = \"2s\"\nstall_for = \"500ms\"",
        )
        .expect("faults");
        assert_eq!(faults.error_rate, 0.1);
        assert_eq!(faults.error_type, InjectedError::ModelError);
        assert_eq!(faults.stall_at, Duration::from_secs(2));
        assert_eq!(faults.stall_for, Duration::from_millis(500));
        assert!(!faults.is_off());
        assert!(Faults::default().is_off());
    }

    #[test]
    fn unknown_keys_are_rejected() {
        assert!(toml::from_str::<Faults>("error_rat = 0.1").is_err());
        assert!(toml::from_str::<ModelConfig>("base = 1.0").is_err());
        assert!(toml::from_str::<Faults>("stall_for = \"soon\"").is_err());
    }

    #[test]
    fn model_config_reads_service_distribution_in_lowercase() {
        let cfg: ModelConfig =
            toml::from_str("preset = \"bert-base\"\nservice = \"exponential\"").expect("model");
        assert_eq!(cfg.service, Some(ServiceDistribution::Exponential));
        assert_eq!(cfg.preset.as_deref(), Some("bert-base"));
    }

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
    fn llm_fields_make_an_llm_and_round_trip() {
        let cfg: ModelConfig =
            toml::from_str("decode_ms = 20.0\nweights_gib = 4.0\ntime_scale = 0.5").expect("model");
        let m = cfg.resolve().expect("LLM");
        let llm = m.llm.expect("an LLM");
        assert_eq!(m.name, "custom");
        assert_eq!(llm.decode_ms, 20.0);
        assert_eq!(llm.kv_kib_per_token, LLM_SMALL.kv_kib_per_token);
        assert_eq!(m.memory_mb, 4096);
        assert_eq!(m.time_scale, 0.5);
        assert_eq!(m.to_config().resolve(), Ok(m));
        let seven = ModelConfig {
            preset: Some("llm-7b".into()),
            ..ModelConfig::default()
        };
        let m = seven.resolve().expect("llm-7b");
        assert_eq!(m.to_config().resolve(), Ok(m.clone()));
        assert!(!Model::preset("bert-base").expect("bert").is_llm());
        for (field, text) in [
            ("decode_ms", "decode_ms = 0.0"),
            ("kv_kib_per_token", "kv_kib_per_token = -1.0"),
            ("context_tokens", "context_tokens = 1"),
            ("prefill_ms_per_token", "prefill_ms_per_token = -0.5"),
        ] {
            let cfg: ModelConfig = toml::from_str(text).expect("model");
            assert_eq!(cfg.resolve().unwrap_err().field(), field, "{text}");
        }
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
                .contains("tiny-mlp, resnet50, bert-base, textgen-small, llm-small, llm-7b"),
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
}
