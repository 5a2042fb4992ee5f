//! The `loadtest emulate --config FILE` file: `[[endpoint]]` tables with their `[model]`
//! and `[faults]`, and the default endpoint set used without a file.
//!
//! ```toml
//! time_scale = 0.1                 # default for endpoints whose model sets none
//!
//! [[endpoint]]
//! name = "bert-c5"
//! hosting = "real-time"            # real-time | serverless | async | batch
//! instance_type = "ml.c5.xlarge"   # not for serverless
//! instance_count = 1               # default 1
//! # serverless_memory_mb = 2048    # serverless: default 2048
//! # max_concurrency = 20           # serverless: default 20
//! # variant = "AllTraffic"  queue_capacity = 100  idle_timeout = "5m"
//! [endpoint.model]                 # default: preset = "bert-base"
//! preset = "bert-base"
//! [endpoint.faults]
//! error_rate = 0.01
//!
//! [[endpoint]]                     # an LLM: streams tokens (real-time GPU types only)
//! name = "llm-g5"
//! hosting = "real-time"
//! instance_type = "ml.g5.xlarge"
//! model = { preset = "llm-7b" }    # or llm-small; decode_ms, kv_kib_per_token, ... override
//! ```

use super::config::{DEFAULT_VARIANT, EndpointSpec, Faults, ModelConfig, ServerlessSpec};
use super::error::EmulatorError;
use super::model::Model;
use crate::domain::Hosting;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Serverless memory size when an `[[endpoint]]` table gives none.
pub const DEFAULT_SERVERLESS_MEMORY_MB: u32 = 2048;

/// Serverless MaxConcurrency when an `[[endpoint]]` table gives none.
pub const DEFAULT_MAX_CONCURRENCY: u32 = 20;

/// Preset of an `[[endpoint]]` without a `[model]` table.
pub const DEFAULT_PRESET: &str = "bert-base";

/// Preset of the LLM endpoint served without a file.
pub const DEFAULT_LLM_PRESET: &str = "llm-7b";

/// The emulator configuration file (TOML).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EmulatorFile {
    /// Time scale for endpoints whose `[model]` sets none.
    pub time_scale: Option<f64>,
    /// The endpoints, one `[[endpoint]]` table each.
    #[serde(default, rename = "endpoint")]
    pub endpoints: Vec<EndpointEntry>,
}

/// One `[[endpoint]]` table.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EndpointEntry {
    /// Endpoint name.
    pub name: String,
    /// Hosting option.
    pub hosting: Hosting,
    /// Instance type (required unless serverless).
    pub instance_type: Option<String>,
    /// Instances behind the endpoint (default 1).
    pub instance_count: Option<u32>,
    /// Serverless memory size in MB.
    pub serverless_memory_mb: Option<u32>,
    /// Serverless MaxConcurrency.
    pub max_concurrency: Option<u32>,
    /// Production variant name (default `AllTraffic`).
    pub variant: Option<String>,
    /// Queue capacity (default per hosting option).
    pub queue_capacity: Option<usize>,
    /// Idle time before serverless/async capacity scales to zero (humantime, model time).
    pub idle_timeout: Option<String>,
    /// The model (default preset `bert-base`).
    pub model: Option<ModelConfig>,
    /// Fault injection (default off).
    #[serde(default)]
    pub faults: Faults,
}

impl EmulatorFile {
    /// Reads, parses and resolves an emulator file into endpoint specs (not yet validated
    /// against the catalog: [`super::validate`] and `serve` do that).
    pub fn load(path: &Path) -> Result<Vec<EndpointSpec>, EmulatorError> {
        let text = std::fs::read_to_string(path).map_err(|source| EmulatorError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let file: EmulatorFile = toml::from_str(&text).map_err(|e| EmulatorError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        file.into_specs(path)
    }

    /// Resolves the entries; `path` only labels error messages.
    pub fn into_specs(self, path: &Path) -> Result<Vec<EndpointSpec>, EmulatorError> {
        if self.endpoints.is_empty() {
            return Err(EmulatorError::Parse {
                path: path.to_path_buf(),
                message: "no [[endpoint]] tables; add at least one".into(),
            });
        }
        self.endpoints
            .iter()
            .map(|entry| entry.resolve(self.time_scale, path))
            .collect()
    }

    /// The endpoints served without a file: bert-base on a real-time `ml.c5.xlarge`
    /// (`bert-c5`), a real-time `ml.g4dn.xlarge` (`bert-g4dn`), serverless 2048 MB with
    /// MaxConcurrency 20 (`bert-serverless`), async on `ml.c5.xlarge` (`bert-async`), and
    /// the `llm-7b` LLM on a real-time `ml.g5.xlarge` (`llm-g5`), which streams tokens.
    pub fn default_endpoints() -> Vec<EndpointSpec> {
        let bert = Model::preset(DEFAULT_PRESET).unwrap_or_else(|| Model::custom(120.0));
        let llm = Model::preset(DEFAULT_LLM_PRESET).unwrap_or_else(|| Model::custom(45.0));
        vec![
            EndpointSpec::new("bert-c5", Hosting::RealTime, "ml.c5.xlarge", bert.clone()),
            EndpointSpec::new(
                "bert-g4dn",
                Hosting::RealTime,
                "ml.g4dn.xlarge",
                bert.clone(),
            ),
            EndpointSpec::serverless(
                "bert-serverless",
                DEFAULT_SERVERLESS_MEMORY_MB,
                DEFAULT_MAX_CONCURRENCY,
                bert.clone(),
            ),
            EndpointSpec::new("bert-async", Hosting::Async, "ml.c5.xlarge", bert),
            EndpointSpec::new("llm-g5", Hosting::RealTime, "ml.g5.xlarge", llm),
        ]
    }
}

impl EndpointEntry {
    fn resolve(&self, time_scale: Option<f64>, path: &Path) -> Result<EndpointSpec, EmulatorError> {
        let problem = |message: String| EmulatorError::Endpoint {
            path: PathBuf::from(path),
            endpoint: self.name.clone(),
            message,
        };
        let mut model_cfg = self.model.clone().unwrap_or_else(|| ModelConfig {
            preset: Some(DEFAULT_PRESET.into()),
            ..ModelConfig::default()
        });
        model_cfg.time_scale = model_cfg.time_scale.or(time_scale);
        let model = model_cfg.resolve().map_err(|e| problem(e.to_string()))?;
        let idle_timeout = match &self.idle_timeout {
            Some(text) => Some(humantime::parse_duration(text).map_err(|e| {
                problem(format!(
                    "idle_timeout `{text}` is not a duration ({e}); write e.g. \"5m\""
                ))
            })?),
            None => None,
        };
        let serverless = self.hosting == Hosting::Serverless;
        let instance_type = match (&self.instance_type, serverless) {
            (Some(t), _) => t.clone(),
            (None, true) => String::new(),
            (None, false) => {
                return Err(problem(format!(
                    "{} hosting needs an instance_type, e.g. \"ml.c5.xlarge\"",
                    self.hosting
                )));
            }
        };
        Ok(EndpointSpec {
            name: self.name.clone(),
            variant: self
                .variant
                .clone()
                .unwrap_or_else(|| DEFAULT_VARIANT.into()),
            hosting: self.hosting,
            instance_type,
            instance_count: self.instance_count.unwrap_or(1),
            serverless: serverless.then(|| ServerlessSpec {
                memory_mb: self
                    .serverless_memory_mb
                    .unwrap_or(DEFAULT_SERVERLESS_MEMORY_MB),
                max_concurrency: self.max_concurrency.unwrap_or(DEFAULT_MAX_CONCURRENCY),
            }),
            model,
            faults: self.faults.clone(),
            queue_capacity: self.queue_capacity,
            idle_timeout,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::validate;
    use std::time::Duration;

    fn parse(text: &str) -> Result<Vec<EndpointSpec>, EmulatorError> {
        let file: EmulatorFile = toml::from_str(text).map_err(|e| EmulatorError::Parse {
            path: "t.toml".into(),
            message: e.to_string(),
        })?;
        file.into_specs(Path::new("t.toml"))
    }

    #[test]
    fn entries_resolve_with_defaults_and_file_time_scale() {
        let specs = parse(
            r#"
            time_scale = 0.1
            [[endpoint]]
            name = "a"
            hosting = "real-time"
            instance_type = "ml.m5.xlarge"
            [[endpoint]]
            name = "b"
            hosting = "serverless"
            serverless_memory_mb = 4096
            idle_timeout = "2m"
            [endpoint.model]
            preset = "tiny-mlp"
            time_scale = 0.5
            [endpoint.faults]
            error_rate = 0.5
            "#,
        )
        .expect("file");
        assert_eq!(specs.len(), 2);
        assert_eq!(specs[0].model.name, "bert-base");
        assert_eq!(specs[0].model.time_scale, 0.1);
        assert_eq!(specs[0].variant, "AllTraffic");
        assert_eq!(specs[1].model.time_scale, 0.5);
        assert_eq!(
            specs[1].serverless,
            Some(ServerlessSpec {
                memory_mb: 4096,
                max_concurrency: 20
            })
        );
        assert_eq!(specs[1].idle_timeout, Some(Duration::from_secs(120)));
        assert_eq!(specs[1].faults.error_rate, 0.5);
    }

    #[test]
    fn problems_name_the_endpoint_and_the_fix() {
        let missing = parse("[[endpoint]]\nname = \"a\"\nhosting = \"async\"").unwrap_err();
        assert!(
            missing
                .to_string()
                .contains("endpoint `a`: async hosting needs an instance_type"),
            "{missing}"
        );
        let unknown =
            parse("[[endpoint]]\nname = \"a\"\nhosting = \"async\"\ncolour = 1").unwrap_err();
        assert!(
            unknown.to_string().contains("unknown field `colour`"),
            "{unknown}"
        );
        let preset = parse(
            "[[endpoint]]\nname = \"a\"\nhosting = \"serverless\"\nmodel = { preset = \"gpt\" }",
        )
        .unwrap_err();
        assert!(
            preset.to_string().contains("unknown model preset `gpt`"),
            "{preset}"
        );
        assert!(parse("time_scale = 1.0").is_err());
    }

    #[test]
    fn default_endpoints_deploy() {
        let specs = EmulatorFile::default_endpoints();
        assert_eq!(specs.len(), 5);
        assert!(specs[4].model.is_llm());
        for spec in &specs {
            validate(spec).expect("default endpoint deploys");
        }
    }
}
