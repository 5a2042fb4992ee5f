//! Errors of the emulator: endpoints that cannot be deployed, and failures to load a file,
//! bind a port or serve.

use super::config::ModelConfigError;
use std::net::SocketAddr;
use std::path::PathBuf;

/// An endpoint that SageMaker would refuse to create; every message says what to change.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// There is nothing to serve.
    #[error("no endpoints to serve; add at least one [[endpoint]] table")]
    NoEndpoints,
    /// The endpoint name cannot appear in a SageMaker URL.
    #[error(
        "endpoint name `{name}` is invalid; use 1-63 letters, digits and hyphens, \
         starting with a letter or digit"
    )]
    InvalidName {
        /// The name given.
        name: String,
    },
    /// Two endpoints share a name.
    #[error("endpoint name `{name}` is used twice; give every endpoint its own name")]
    DuplicateName {
        /// The repeated name.
        name: String,
    },
    /// The variant name is empty or too long.
    #[error(
        "endpoint `{endpoint}`: variant name `{variant}` is invalid; use 1-63 letters, digits and hyphens"
    )]
    InvalidVariant {
        /// Endpoint name.
        endpoint: String,
        /// The variant given.
        variant: String,
    },
    /// The instance type is not in the catalog.
    #[error(
        "endpoint `{endpoint}`: unknown instance type `{instance_type}`{}; the emulator knows \
         the types in data/instances.csv",
        did_you_mean(suggestions)
    )]
    UnknownInstance {
        /// Endpoint name.
        endpoint: String,
        /// The type given.
        instance_type: String,
        /// Catalog types with similar names, best first.
        suggestions: Vec<&'static str>,
    },
    /// Serverless inference has no GPUs or other accelerators.
    #[error(
        "endpoint `{endpoint}`: serverless inference has no GPUs or accelerators, so it cannot \
         use `{instance_type}`; host it real-time or async, or leave instance_type empty"
    )]
    AcceleratorOnServerless {
        /// Endpoint name.
        endpoint: String,
        /// The accelerator instance type given.
        instance_type: String,
    },
    /// A serverless endpoint without memory size and concurrency.
    #[error(
        "endpoint `{endpoint}`: serverless hosting needs a memory size and MaxConcurrency; \
         set serverless_memory_mb (1024-6144) and max_concurrency (1-200)"
    )]
    MissingServerless {
        /// Endpoint name.
        endpoint: String,
    },
    /// Serverless memory is not one of the sizes SageMaker offers.
    #[error(
        "endpoint `{endpoint}`: serverless memory of {memory_mb} MB is not offered; use one of \
         1024, 2048, 3072, 4096, 5120 or 6144"
    )]
    ServerlessMemory {
        /// Endpoint name.
        endpoint: String,
        /// The size given.
        memory_mb: u32,
    },
    /// MaxConcurrency outside SageMaker's bounds.
    #[error(
        "endpoint `{endpoint}`: max_concurrency {value} is outside 1..=200; pick a value in that range"
    )]
    MaxConcurrency {
        /// Endpoint name.
        endpoint: String,
        /// The value given.
        value: u32,
    },
    /// No instances behind the endpoint.
    #[error("endpoint `{endpoint}`: instance_count is 0; use at least 1 instance")]
    NoInstances {
        /// Endpoint name.
        endpoint: String,
    },
    /// A zero-length queue.
    #[error("endpoint `{endpoint}`: queue_capacity is 0; use at least 1 (or leave it unset)")]
    NoQueue {
        /// Endpoint name.
        endpoint: String,
    },
    /// The model does not fit the memory of the instance, accelerator or serverless size.
    #[error(
        "endpoint `{endpoint}`: model `{model}` needs {model_mb} MB but {target} has {available_mb} MB; \
         pick a larger {remedy} or lower model.memory_mb"
    )]
    ModelTooLarge {
        /// Endpoint name.
        endpoint: String,
        /// Model name.
        model: String,
        /// Memory the model needs.
        model_mb: u32,
        /// What it was to fit in, e.g. `ml.c5.large` or `the NVIDIA T4 of ml.g4dn.xlarge`.
        target: String,
        /// Memory available there.
        available_mb: u32,
        /// What to enlarge: `instance type` or `serverless memory size`.
        remedy: &'static str,
    },
    /// An LLM model on an instance type without a GPU (CPU decoding is not emulated).
    #[error(
        "endpoint `{endpoint}`: model `{model}` is an LLM and needs a GPU, but `{instance_type}` \
         has none (the emulator does not model CPU decoding); pick a GPU instance type such as \
         ml.g5.xlarge or ml.g4dn.xlarge"
    )]
    LlmWithoutGpu {
        /// Endpoint name.
        endpoint: String,
        /// Model name.
        model: String,
        /// The CPU instance type given.
        instance_type: String,
    },
    /// An LLM model on a hosting option other than real-time.
    #[error(
        "endpoint `{endpoint}`: model `{model}` is an LLM, which the emulator serves real-time \
         only (SageMaker streams responses from real-time endpoints); use hosting `real-time`"
    )]
    LlmHosting {
        /// Endpoint name.
        endpoint: String,
        /// Model name.
        model: String,
    },
    /// The model parameters are out of range.
    #[error("endpoint `{endpoint}`: {source}")]
    Model {
        /// Endpoint name.
        endpoint: String,
        /// What is wrong with the model.
        #[source]
        source: ModelConfigError,
    },
    /// A fault-injection knob is out of range.
    #[error("endpoint `{endpoint}`: `faults.{field}` = {value} is invalid; {fix}")]
    Fault {
        /// Endpoint name.
        endpoint: String,
        /// Key within `[faults]`.
        field: &'static str,
        /// The value given.
        value: f64,
        /// What to write instead.
        fix: &'static str,
    },
}

fn did_you_mean(suggestions: &[&str]) -> String {
    if suggestions.is_empty() {
        String::new()
    } else {
        format!(" (did you mean {}?)", suggestions.join(", "))
    }
}

/// Why the emulator could not start or keep serving.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// An endpoint cannot be deployed.
    #[error(transparent)]
    Deploy(#[from] DeployError),
    /// The emulator file could not be read.
    #[error("cannot read emulator file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The emulator file is not valid TOML of the expected shape.
    #[error("emulator file {}: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// An `[[endpoint]]` table is incomplete or inconsistent.
    #[error("emulator file {}, endpoint `{endpoint}`: {message}", path.display())]
    Endpoint {
        /// The file.
        path: PathBuf,
        /// The endpoint's name.
        endpoint: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}; choose another address or port")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The listener's address could not be read.
    #[error("cannot read the emulator's listening address: {0}")]
    LocalAddr(#[source] std::io::Error),
    /// Endpoint URLs could not be printed.
    #[error("cannot write the endpoint list to stdout: {0}")]
    Stdout(#[source] std::io::Error),
    /// The server task ended abnormally.
    #[error("emulator server task failed: {0}")]
    Task(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_instance_lists_suggestions() {
        let err = DeployError::UnknownInstance {
            endpoint: "e".into(),
            instance_type: "ml.c5.xlarg".into(),
            suggestions: vec!["ml.c5.xlarge", "ml.c5.large"],
        };
        let text = err.to_string();
        assert!(
            text.contains("did you mean ml.c5.xlarge, ml.c5.large?"),
            "{text}"
        );
    }
}
