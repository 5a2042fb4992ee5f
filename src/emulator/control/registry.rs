//! What the emulated control plane holds: models, endpoint configs and endpoints (with
//! their status and, once `InService`, the running emulated endpoint), and tags by ARN.

use super::wire::{AsyncOutput, Container, ProductionVariant, Tag};
use crate::emulator::endpoint::Endpoint;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Region used in ARNs.
pub(crate) const REGION: &str = "us-east-1";

/// Status of an emulated endpoint, as `DescribeEndpoint` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    Creating,
    InService,
    Failed,
}

impl Status {
    /// SageMaker's name for the status.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Status::Creating => "Creating",
            Status::InService => "InService",
            Status::Failed => "Failed",
        }
    }
}

/// A created model.
pub(crate) struct ModelRec {
    pub(crate) arn: String,
    pub(crate) container: Container,
    pub(crate) created: f64,
}

/// A created endpoint config.
pub(crate) struct ConfigRec {
    pub(crate) arn: String,
    pub(crate) variants: Vec<ProductionVariant>,
    /// Whether the config has an `AsyncInferenceConfig`.
    pub(crate) is_async: bool,
    /// Its output and failure paths, when async.
    pub(crate) async_output: AsyncOutput,
    pub(crate) created: f64,
}

/// A created endpoint.
pub(crate) struct EndpointRec {
    pub(crate) arn: String,
    pub(crate) config_name: String,
    pub(crate) status: Status,
    pub(crate) failure_reason: Option<String>,
    pub(crate) created: f64,
    pub(crate) modified: f64,
    /// Distinguishes this endpoint from a later one of the same name.
    pub(crate) generation: u64,
    /// The emulated endpoint, once in service.
    pub(crate) running: Option<Arc<Endpoint>>,
}

/// Everything the control plane holds.
#[derive(Default)]
pub(crate) struct Registry {
    pub(crate) models: BTreeMap<String, ModelRec>,
    pub(crate) configs: BTreeMap<String, ConfigRec>,
    pub(crate) endpoints: BTreeMap<String, EndpointRec>,
    pub(crate) tags: HashMap<String, Vec<Tag>>,
    pub(crate) next_generation: u64,
}

impl Registry {
    /// Adds tags to a resource, replacing values of keys it has already.
    pub(crate) fn add_tags(&mut self, arn: &str, tags: Vec<Tag>) {
        let have = self.tags.entry(arn.to_string()).or_default();
        for tag in tags {
            match have.iter_mut().find(|t| t.key == tag.key) {
                Some(t) => t.value = tag.value,
                None => have.push(tag),
            }
        }
    }

    /// Whether a resource of this ARN exists.
    pub(crate) fn has_arn(&self, arn: &str) -> bool {
        self.models.values().any(|m| m.arn == arn)
            || self.configs.values().any(|c| c.arn == arn)
            || self.endpoints.values().any(|e| e.arn == arn)
    }
}

/// The ARN of a resource: `arn:aws:sagemaker:us-east-1:123456789012:endpoint/name`.
pub(crate) fn arn(kind: &str, name: &str) -> String {
    let account = crate::emulator::response::ACCOUNT;
    format!(
        "arn:aws:sagemaker:{REGION}:{account}:{kind}/{}",
        name.to_lowercase()
    )
}

/// Seconds since the Unix epoch, as awsJson times are sent.
pub(crate) fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| (d.as_secs_f64() * 1000.0).round() / 1000.0)
}
