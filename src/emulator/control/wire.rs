//! The awsJson1.1 shapes of the SageMaker control-plane operations the emulator serves:
//! requests as SDKs send them, answers as SDKs parse them (PascalCase, epoch-second times).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A resource tag.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Tag {
    pub(crate) key: String,
    #[serde(default)]
    pub(crate) value: String,
}

/// `CreateModel`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CreateModel {
    pub(crate) model_name: String,
    #[serde(default)]
    pub(crate) primary_container: Option<Container>,
    #[serde(default)]
    pub(crate) execution_role_arn: Option<String>,
    #[serde(default)]
    pub(crate) tags: Vec<Tag>,
}

/// A model's container.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Container {
    #[serde(default)]
    pub(crate) image: Option<String>,
    #[serde(default)]
    pub(crate) environment: BTreeMap<String, String>,
}

/// `CreateEndpointConfig`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CreateEndpointConfig {
    pub(crate) endpoint_config_name: String,
    pub(crate) production_variants: Vec<ProductionVariant>,
    #[serde(default)]
    pub(crate) async_inference_config: Option<AsyncConfig>,
    #[serde(default)]
    pub(crate) tags: Vec<Tag>,
}

/// One production variant of an endpoint config.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ProductionVariant {
    pub(crate) variant_name: String,
    pub(crate) model_name: String,
    #[serde(default)]
    pub(crate) initial_instance_count: Option<u32>,
    #[serde(default)]
    pub(crate) instance_type: Option<String>,
    #[serde(default)]
    pub(crate) serverless_config: Option<ServerlessConfig>,
}

/// A variant's serverless settings.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ServerlessConfig {
    #[serde(rename = "MemorySizeInMB")]
    pub(crate) memory_size_in_mb: u32,
    pub(crate) max_concurrency: u32,
}

/// An endpoint config's async settings: its presence makes the endpoint asynchronous.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AsyncConfig {
    #[serde(default)]
    pub(crate) output_config: Option<AsyncOutput>,
}

/// Where an async endpoint writes its results.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AsyncOutput {
    #[serde(default)]
    pub(crate) s3_output_path: Option<String>,
    #[serde(default)]
    pub(crate) s3_failure_path: Option<String>,
}

/// `CreateEndpoint`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CreateEndpoint {
    pub(crate) endpoint_name: String,
    pub(crate) endpoint_config_name: String,
    #[serde(default)]
    pub(crate) tags: Vec<Tag>,
}

/// Requests that name one endpoint.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct EndpointName {
    pub(crate) endpoint_name: String,
}

/// Requests that name one endpoint config.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct EndpointConfigName {
    pub(crate) endpoint_config_name: String,
}

/// Requests that name one model.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ModelName {
    pub(crate) model_name: String,
}

/// `ListTags`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListTags {
    pub(crate) resource_arn: String,
}

/// `AddTags`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AddTags {
    pub(crate) resource_arn: String,
    #[serde(default)]
    pub(crate) tags: Vec<Tag>,
}

/// The `List*` filters the emulator honours.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListFilter {
    #[serde(default)]
    pub(crate) name_contains: Option<String>,
}

/// `DescribeEndpoint`'s answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct EndpointDescription {
    pub(crate) endpoint_name: String,
    pub(crate) endpoint_arn: String,
    pub(crate) endpoint_config_name: String,
    pub(crate) endpoint_status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) failure_reason: Option<String>,
    pub(crate) creation_time: f64,
    pub(crate) last_modified_time: f64,
}

/// One row of `ListEndpoints`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct EndpointSummary {
    pub(crate) endpoint_name: String,
    pub(crate) endpoint_arn: String,
    pub(crate) endpoint_status: String,
    pub(crate) creation_time: f64,
    pub(crate) last_modified_time: f64,
}

/// One row of `ListEndpointConfigs`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ConfigSummary {
    pub(crate) endpoint_config_name: String,
    pub(crate) endpoint_config_arn: String,
    pub(crate) creation_time: f64,
}

/// One row of `ListModels`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ModelSummary {
    pub(crate) model_name: String,
    pub(crate) model_arn: String,
    pub(crate) creation_time: f64,
}
