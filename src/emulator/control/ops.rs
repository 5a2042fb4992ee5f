//! One function per control-plane operation: parse the awsJson body, check it the way
//! SageMaker does, change the registry, answer. `CreateEndpoint` starts the deployment
//! task that turns the endpoint `InService` (or `Failed`) after the deploy delay.

use super::registry::{self, ConfigRec, EndpointRec, ModelRec, Status, arn, now};
use super::wire::{self, Tag};
use super::{ControlError, ControlPlane, PRESET_ENV};
use crate::domain::Hosting;
use crate::emulator::config::{EndpointSpec, ServerlessSpec};
use crate::emulator::endpoint::Endpoint;
use crate::emulator::model::Model;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

type Answer = Result<Value, ControlError>;

/// Runs `operation` on the body.
pub(super) fn dispatch(control: &ControlPlane, operation: &str, body: &[u8]) -> Answer {
    match operation {
        "CreateModel" => create_model(control, parse(body)?),
        "CreateEndpointConfig" => create_config(control, parse(body)?),
        "CreateEndpoint" => create_endpoint(control, parse(body)?),
        "DescribeEndpoint" => describe_endpoint(control, &parse::<wire::EndpointName>(body)?),
        "DeleteEndpoint" => delete_endpoint(control, &parse::<wire::EndpointName>(body)?),
        "DeleteEndpointConfig" => delete_config(control, &parse(body)?),
        "DeleteModel" => delete_model(control, &parse(body)?),
        "ListEndpoints" => list_endpoints(control, &parse_filter(body)?),
        "ListEndpointConfigs" => list_configs(control, &parse_filter(body)?),
        "ListModels" => list_models(control, &parse_filter(body)?),
        "ListTags" => list_tags(control, &parse(body)?),
        "AddTags" => add_tags(control, parse(body)?),
        other => Err(ControlError {
            code: "UnknownOperationException",
            message: format!("the emulator does not implement SageMaker.{other}"),
        }),
    }
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ControlError> {
    serde_json::from_slice(body)
        .map_err(|e| ControlError::validation(format!("malformed request: {e}")))
}

fn parse_filter(body: &[u8]) -> Result<wire::ListFilter, ControlError> {
    if body.is_empty() {
        return Ok(wire::ListFilter::default());
    }
    parse(body)
}

fn exists(kind: &str, name: &str) -> ControlError {
    ControlError::validation(format!(
        "Cannot create already existing {kind} \"{}\".",
        arn(kind, name)
    ))
}

fn not_found(what: &str, name: &str) -> ControlError {
    ControlError::validation(format!("Could not find {what} \"{}\".", arn(what, name)))
}

fn create_model(control: &ControlPlane, req: wire::CreateModel) -> Answer {
    let container = req.primary_container.unwrap_or_default();
    if container.image.as_deref().unwrap_or("").is_empty() {
        return Err(ControlError::validation(
            "PrimaryContainer.Image is required.".into(),
        ));
    }
    if req.execution_role_arn.as_deref().unwrap_or("").is_empty() {
        return Err(ControlError::validation(
            "ExecutionRoleArn is required.".into(),
        ));
    }
    let mut reg = control.registry();
    if reg.models.contains_key(&req.model_name) {
        return Err(exists("model", &req.model_name));
    }
    let model_arn = arn("model", &req.model_name);
    reg.add_tags(&model_arn, req.tags);
    reg.models.insert(
        req.model_name,
        ModelRec {
            arn: model_arn.clone(),
            container,
            created: now(),
        },
    );
    Ok(json!({ "ModelArn": model_arn }))
}

fn create_config(control: &ControlPlane, req: wire::CreateEndpointConfig) -> Answer {
    let mut reg = control.registry();
    if reg.configs.contains_key(&req.endpoint_config_name) {
        return Err(exists("endpoint-config", &req.endpoint_config_name));
    }
    if req.production_variants.is_empty() {
        return Err(ControlError::validation(
            "ProductionVariants must have at least one variant.".into(),
        ));
    }
    for v in &req.production_variants {
        if !reg.models.contains_key(&v.model_name) {
            return Err(ControlError::validation(format!(
                "Could not find model \"{}\".",
                arn("model", &v.model_name)
            )));
        }
        if v.instance_type.is_none() && v.serverless_config.is_none() {
            return Err(ControlError::validation(format!(
                "Variant {} needs an InstanceType or a ServerlessConfig.",
                v.variant_name
            )));
        }
    }
    let config_arn = arn("endpoint-config", &req.endpoint_config_name);
    reg.add_tags(&config_arn, req.tags);
    reg.configs.insert(
        req.endpoint_config_name,
        ConfigRec {
            arn: config_arn.clone(),
            variants: req.production_variants,
            is_async: req.async_inference_config.is_some(),
            async_output: req
                .async_inference_config
                .and_then(|a| a.output_config)
                .unwrap_or_default(),
            created: now(),
        },
    );
    Ok(json!({ "EndpointConfigArn": config_arn }))
}

fn create_endpoint(control: &ControlPlane, req: wire::CreateEndpoint) -> Answer {
    let mut reg = control.registry();
    if reg.endpoints.contains_key(&req.endpoint_name) {
        return Err(exists("endpoint", &req.endpoint_name));
    }
    let Some(config) = reg.configs.get(&req.endpoint_config_name) else {
        return Err(not_found("endpoint-config", &req.endpoint_config_name));
    };
    let variant = config.variants[0].clone();
    if let Some(t) = &variant.instance_type
        && control.0.settings.limited.iter().any(|l| l == t)
    {
        return Err(ControlError {
            code: "ResourceLimitExceeded",
            message: format!(
                "The account-level service limit 'ml.{} for endpoint usage' is 0 Instances, \
                 with current utilization of 0 Instances and a request delta of {} Instances. \
                 Please use AWS Service Quotas to request an increase for this quota.",
                t.trim_start_matches("ml."),
                variant.initial_instance_count.unwrap_or(1)
            ),
        });
    }
    let hosting = if config.is_async {
        Hosting::Async
    } else if variant.serverless_config.is_some() {
        Hosting::Serverless
    } else {
        Hosting::RealTime
    };
    let model = model_for(control, &reg, &variant.model_name);
    let spec = endpoint_spec(&req.endpoint_name, hosting, &variant, model);
    let endpoint_arn = arn("endpoint", &req.endpoint_name);
    let generation = reg.next_generation;
    reg.next_generation += 1;
    reg.add_tags(&endpoint_arn, req.tags);
    let t = now();
    reg.endpoints.insert(
        req.endpoint_name.clone(),
        EndpointRec {
            arn: endpoint_arn.clone(),
            config_name: req.endpoint_config_name,
            status: Status::Creating,
            failure_reason: None,
            created: t,
            modified: t,
            generation,
            running: None,
        },
    );
    drop(reg);
    tokio::spawn(deploy(control.clone(), spec, generation));
    Ok(json!({ "EndpointArn": endpoint_arn }))
}

/// The emulated model a variant runs: its container's preset, else the configured model.
fn model_for(control: &ControlPlane, reg: &registry::Registry, model_name: &str) -> Model {
    let fallback = &control.0.settings.model;
    reg.models
        .get(model_name)
        .and_then(|m| m.container.environment.get(PRESET_ENV))
        .and_then(|name| Model::preset(name))
        .map_or_else(
            || fallback.clone(),
            |m| m.with_time_scale(fallback.time_scale),
        )
}

fn endpoint_spec(
    name: &str,
    hosting: Hosting,
    variant: &wire::ProductionVariant,
    model: Model,
) -> EndpointSpec {
    let mut spec = match variant.serverless_config {
        Some(s) if hosting == Hosting::Serverless => {
            EndpointSpec::serverless(name, s.memory_size_in_mb, s.max_concurrency, model)
        }
        _ => EndpointSpec::new(
            name,
            hosting,
            variant.instance_type.as_deref().unwrap_or(""),
            model,
        ),
    };
    spec.variant.clone_from(&variant.variant_name);
    spec.instance_count = variant.initial_instance_count.unwrap_or(1).max(1);
    if let Some(ServerlessSpec { .. }) = spec.serverless {
        spec.instance_count = 1;
    }
    spec
}

/// After the deploy delay: the endpoint in service, or failed with the reason, unless it
/// was deleted meanwhile.
async fn deploy(control: ControlPlane, spec: EndpointSpec, generation: u64) {
    tokio::time::sleep(control.0.settings.deploy_delay).await;
    let started = crate::emulator::validate::validate(&spec)
        .and_then(|()| Endpoint::start(spec.clone(), 1_000 + generation, control.0.clock));
    let mut reg = control.registry();
    let Some(rec) = reg.endpoints.get_mut(&spec.name) else {
        return;
    };
    if rec.generation != generation {
        return;
    }
    rec.modified = now();
    match started {
        Ok(endpoint) => {
            rec.status = Status::InService;
            rec.running = Some(endpoint);
        }
        Err(e) => {
            rec.status = Status::Failed;
            rec.failure_reason = Some(e.to_string());
        }
    }
}

fn describe_endpoint(control: &ControlPlane, req: &wire::EndpointName) -> Answer {
    let reg = control.registry();
    let rec = reg
        .endpoints
        .get(&req.endpoint_name)
        .ok_or_else(|| not_found("endpoint", &req.endpoint_name))?;
    let answer = wire::EndpointDescription {
        endpoint_name: req.endpoint_name.clone(),
        endpoint_arn: rec.arn.clone(),
        endpoint_config_name: rec.config_name.clone(),
        endpoint_status: rec.status.as_str().into(),
        failure_reason: rec.failure_reason.clone(),
        creation_time: rec.created,
        last_modified_time: rec.modified,
    };
    Ok(serde_json::to_value(answer).unwrap_or_default())
}

fn delete_endpoint(control: &ControlPlane, req: &wire::EndpointName) -> Answer {
    let mut reg = control.registry();
    let rec = reg
        .endpoints
        .remove(&req.endpoint_name)
        .ok_or_else(|| not_found("endpoint", &req.endpoint_name))?;
    reg.tags.remove(&rec.arn);
    Ok(json!({}))
}

fn delete_config(control: &ControlPlane, req: &wire::EndpointConfigName) -> Answer {
    let mut reg = control.registry();
    let rec = reg
        .configs
        .remove(&req.endpoint_config_name)
        .ok_or_else(|| not_found("endpoint-config", &req.endpoint_config_name))?;
    reg.tags.remove(&rec.arn);
    Ok(json!({}))
}

fn delete_model(control: &ControlPlane, req: &wire::ModelName) -> Answer {
    let mut reg = control.registry();
    let rec = reg
        .models
        .remove(&req.model_name)
        .ok_or_else(|| not_found("model", &req.model_name))?;
    reg.tags.remove(&rec.arn);
    Ok(json!({}))
}

fn matches(filter: &wire::ListFilter, name: &str) -> bool {
    filter
        .name_contains
        .as_deref()
        .is_none_or(|part| name.contains(part))
}

fn list_endpoints(control: &ControlPlane, filter: &wire::ListFilter) -> Answer {
    let reg = control.registry();
    let rows: Vec<_> = reg
        .endpoints
        .iter()
        .filter(|(name, _)| matches(filter, name))
        .map(|(name, e)| wire::EndpointSummary {
            endpoint_name: name.clone(),
            endpoint_arn: e.arn.clone(),
            endpoint_status: e.status.as_str().into(),
            creation_time: e.created,
            last_modified_time: e.modified,
        })
        .collect();
    Ok(json!({ "Endpoints": rows }))
}

fn list_configs(control: &ControlPlane, filter: &wire::ListFilter) -> Answer {
    let reg = control.registry();
    let rows: Vec<_> = reg
        .configs
        .iter()
        .filter(|(name, _)| matches(filter, name))
        .map(|(name, c)| wire::ConfigSummary {
            endpoint_config_name: name.clone(),
            endpoint_config_arn: c.arn.clone(),
            creation_time: c.created,
        })
        .collect();
    Ok(json!({ "EndpointConfigs": rows }))
}

fn list_models(control: &ControlPlane, filter: &wire::ListFilter) -> Answer {
    let reg = control.registry();
    let rows: Vec<_> = reg
        .models
        .iter()
        .filter(|(name, _)| matches(filter, name))
        .map(|(name, m)| wire::ModelSummary {
            model_name: name.clone(),
            model_arn: m.arn.clone(),
            creation_time: m.created,
        })
        .collect();
    Ok(json!({ "Models": rows }))
}

fn list_tags(control: &ControlPlane, req: &wire::ListTags) -> Answer {
    let reg = control.registry();
    if !reg.has_arn(&req.resource_arn) {
        return Err(ControlError::validation(format!(
            "Could not find resource {}.",
            req.resource_arn
        )));
    }
    let tags: Vec<Tag> = reg.tags.get(&req.resource_arn).cloned().unwrap_or_default();
    Ok(json!({ "Tags": tags }))
}

fn add_tags(control: &ControlPlane, req: wire::AddTags) -> Answer {
    let mut reg = control.registry();
    if !reg.has_arn(&req.resource_arn) {
        return Err(ControlError::validation(format!(
            "Could not find resource {}.",
            req.resource_arn
        )));
    }
    let tags = req.tags.clone();
    reg.add_tags(&req.resource_arn, req.tags);
    Ok(json!({ "Tags": tags }))
}
