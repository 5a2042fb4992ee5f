//! Deploy-time checks: what SageMaker would refuse when creating an endpoint, reported
//! with what to change.

use super::catalog;
use super::config::EndpointSpec;
use super::endpoint::deployed_instance;
use super::error::DeployError;
use super::llm::{GPU_MEMORY_UTILIZATION, Llm};
use crate::domain::{Hosting, SERVERLESS_MAX_CONCURRENCY, SERVERLESS_MEMORY_MB};
use std::collections::HashSet;

/// Checks one endpoint: name, model, faults, instance type (with close matches when
/// unknown), serverless limits (no accelerators, memory size, MaxConcurrency) and whether
/// the model fits the instance, accelerator or serverless memory.
pub fn validate(spec: &EndpointSpec) -> Result<(), DeployError> {
    if !is_sagemaker_name(&spec.name) {
        return Err(DeployError::InvalidName {
            name: spec.name.clone(),
        });
    }
    if !is_sagemaker_name(&spec.variant) {
        return Err(DeployError::InvalidVariant {
            endpoint: spec.name.clone(),
            variant: spec.variant.clone(),
        });
    }
    spec.model.check().map_err(|source| DeployError::Model {
        endpoint: spec.name.clone(),
        source,
    })?;
    check_faults(spec)?;
    if spec.queue_capacity == Some(0) {
        return Err(DeployError::NoQueue {
            endpoint: spec.name.clone(),
        });
    }
    if spec.model.is_llm() && spec.hosting != Hosting::RealTime {
        return Err(DeployError::LlmHosting {
            endpoint: spec.name.clone(),
            model: spec.model.name.clone(),
        });
    }
    match spec.hosting {
        Hosting::Serverless => check_serverless(spec),
        Hosting::RealTime | Hosting::Async | Hosting::Batch => check_instances(spec),
    }
}

/// An LLM needs a GPU whose memory holds its weights with room for KV cache.
fn check_llm_instance(
    spec: &EndpointSpec,
    instance: &catalog::Instance,
) -> Result<(), DeployError> {
    let Some(llm) = spec.model.llm else {
        return Ok(());
    };
    if !instance.has_accelerator() {
        return Err(DeployError::LlmWithoutGpu {
            endpoint: spec.name.clone(),
            model: spec.model.name.clone(),
            instance_type: instance.name.clone(),
        });
    }
    if llm.kv_budget_tokens(instance) == 0 {
        let accelerator = instance.accelerator.as_deref().unwrap_or("GPU");
        return Err(DeployError::ModelTooLarge {
            endpoint: spec.name.clone(),
            model: spec.model.name.clone(),
            model_mb: spec.model.memory_mb,
            target: format!(
                "the {accelerator} memory of {} (at {:.0} % utilisation, no room for KV cache)",
                instance.name,
                GPU_MEMORY_UTILIZATION * 100.0
            ),
            available_mb: Llm::usable_mb(instance),
            remedy: "instance type",
        });
    }
    Ok(())
}

/// Checks every endpoint, and that there is at least one and names are unique.
pub(crate) fn validate_all(specs: &[EndpointSpec]) -> Result<(), DeployError> {
    if specs.is_empty() {
        return Err(DeployError::NoEndpoints);
    }
    let mut seen = HashSet::new();
    for spec in specs {
        validate(spec)?;
        if !seen.insert(spec.name.as_str()) {
            return Err(DeployError::DuplicateName {
                name: spec.name.clone(),
            });
        }
    }
    Ok(())
}

/// SageMaker's name rule: 1-63 letters, digits and hyphens, not starting or ending with a hyphen.
fn is_sagemaker_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    (1..=63).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
}

fn check_faults(spec: &EndpointSpec) -> Result<(), DeployError> {
    let f = &spec.faults;
    let rate_fix = "use a fraction from 0 to 1";
    let checks = [
        (
            "error_rate",
            f.error_rate,
            (0.0..=1.0).contains(&f.error_rate),
            rate_fix,
        ),
        (
            "spike_rate",
            f.spike_rate,
            (0.0..=1.0).contains(&f.spike_rate),
            rate_fix,
        ),
        (
            "reset_rate",
            f.reset_rate,
            (0.0..=1.0).contains(&f.reset_rate),
            rate_fix,
        ),
        (
            "stream_error_rate",
            f.stream_error_rate,
            (0.0..=1.0).contains(&f.stream_error_rate),
            rate_fix,
        ),
        (
            "spike_ms",
            f.spike_ms,
            f.spike_ms.is_finite() && f.spike_ms >= 0.0,
            "use a number of ms >= 0",
        ),
    ];
    match checks.into_iter().find(|(_, _, ok, _)| !ok) {
        Some((field, value, _, fix)) => Err(DeployError::Fault {
            endpoint: spec.name.clone(),
            field,
            value,
            fix,
        }),
        None => Ok(()),
    }
}

fn check_serverless(spec: &EndpointSpec) -> Result<(), DeployError> {
    let endpoint = || spec.name.clone();
    if catalog::lookup(&spec.instance_type).is_some_and(|i| i.has_accelerator()) {
        return Err(DeployError::AcceleratorOnServerless {
            endpoint: endpoint(),
            instance_type: spec.instance_type.clone(),
        });
    }
    let serverless = spec
        .serverless
        .ok_or_else(|| DeployError::MissingServerless {
            endpoint: endpoint(),
        })?;
    if !SERVERLESS_MEMORY_MB.contains(&serverless.memory_mb) {
        return Err(DeployError::ServerlessMemory {
            endpoint: endpoint(),
            memory_mb: serverless.memory_mb,
        });
    }
    if !SERVERLESS_MAX_CONCURRENCY.contains(&serverless.max_concurrency) {
        return Err(DeployError::MaxConcurrency {
            endpoint: endpoint(),
            value: serverless.max_concurrency,
        });
    }
    fits(
        spec,
        format!("serverless memory of {} MB", serverless.memory_mb),
        serverless.memory_mb,
        "serverless memory size",
    )
}

fn check_instances(spec: &EndpointSpec) -> Result<(), DeployError> {
    if spec.instance_count == 0 {
        return Err(DeployError::NoInstances {
            endpoint: spec.name.clone(),
        });
    }
    let Some(instance) = deployed_instance(spec)? else {
        return Ok(());
    };
    check_llm_instance(spec, instance)?;
    fits(
        spec,
        instance.name.clone(),
        instance.memory_mb(),
        "instance type",
    )?;
    if let Some(accelerator) = instance
        .accelerator
        .as_deref()
        .filter(|_| instance.has_accelerator())
    {
        let target = format!("the {accelerator} of {}", instance.name);
        fits(
            spec,
            target,
            instance.accelerator_memory_mb(),
            "instance type",
        )?;
    }
    Ok(())
}

fn fits(
    spec: &EndpointSpec,
    target: String,
    available_mb: u32,
    remedy: &'static str,
) -> Result<(), DeployError> {
    if spec.model.memory_mb <= available_mb {
        return Ok(());
    }
    Err(DeployError::ModelTooLarge {
        endpoint: spec.name.clone(),
        model: spec.model.name.clone(),
        model_mb: spec.model.memory_mb,
        target,
        available_mb,
        remedy,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::model::Model;

    fn bert() -> Model {
        Model::preset("bert-base").expect("preset")
    }

    #[test]
    fn a_plain_real_time_endpoint_deploys() {
        let spec = EndpointSpec::new("bert-c5", Hosting::RealTime, "ml.c5.xlarge", bert());
        assert!(validate(&spec).is_ok());
        let serverless = EndpointSpec::serverless("bert-sl", 2048, 20, bert());
        assert!(validate(&serverless).is_ok());
    }

    #[test]
    fn names_follow_sagemaker_rules() {
        for bad in ["", "-a", "a-", "a_b", "a/b", &"x".repeat(64)] {
            let spec = EndpointSpec::new(bad, Hosting::RealTime, "ml.c5.xlarge", bert());
            assert!(
                matches!(validate(&spec), Err(DeployError::InvalidName { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn serverless_limits_are_enforced() {
        let mut spec = EndpointSpec::serverless("s", 1500, 20, bert());
        assert!(matches!(
            validate(&spec),
            Err(DeployError::ServerlessMemory { .. })
        ));
        spec = EndpointSpec::serverless("s", 2048, 201, bert());
        assert!(matches!(
            validate(&spec),
            Err(DeployError::MaxConcurrency { value: 201, .. })
        ));
        spec = EndpointSpec::serverless("s", 2048, 0, bert());
        assert!(matches!(
            validate(&spec),
            Err(DeployError::MaxConcurrency { value: 0, .. })
        ));
        spec = EndpointSpec {
            serverless: None,
            ..EndpointSpec::serverless("s", 2048, 1, bert())
        };
        assert!(matches!(
            validate(&spec),
            Err(DeployError::MissingServerless { .. })
        ));
        spec = EndpointSpec {
            instance_type: "ml.g5.xlarge".into(),
            ..EndpointSpec::serverless("s", 2048, 1, bert())
        };
        assert!(matches!(
            validate(&spec),
            Err(DeployError::AcceleratorOnServerless { .. })
        ));
    }

    #[test]
    fn models_must_fit_memory() {
        let llm = Model::preset("textgen-small").expect("preset");
        let spec = EndpointSpec::serverless("s", 2048, 5, llm.clone());
        let err = validate(&spec).unwrap_err();
        assert!(
            err.to_string()
                .contains("needs 3072 MB but serverless memory of 2048 MB"),
            "{err}"
        );
        let big = Model {
            memory_mb: 20_000,
            ..llm
        };
        let gpu = EndpointSpec::new("g", Hosting::RealTime, "ml.g4dn.xlarge", big.clone());
        let err = validate(&gpu).unwrap_err();
        assert!(
            err.to_string().contains("ml.g4dn.xlarge has 16384 MB"),
            "{err}"
        );
        let gpu_mem = EndpointSpec::new("g", Hosting::RealTime, "ml.g4dn.2xlarge", big);
        let err = validate(&gpu_mem).unwrap_err();
        assert!(
            err.to_string()
                .contains("the NVIDIA T4 of ml.g4dn.2xlarge has 16384 MB"),
            "{err}"
        );
    }

    #[test]
    fn an_llm_deploys_real_time_on_a_gpu_with_room_for_its_kv_cache() {
        let llm = Model::preset("llm-7b").expect("preset");
        let gpu = EndpointSpec::new("l", Hosting::RealTime, "ml.g4dn.xlarge", llm.clone());
        assert!(validate(&gpu).is_ok());
        let cpu = EndpointSpec::new("l", Hosting::RealTime, "ml.c5.xlarge", llm.clone());
        let err = validate(&cpu).unwrap_err();
        assert!(matches!(err, DeployError::LlmWithoutGpu { .. }), "{err}");
        assert!(
            err.to_string().contains("pick a GPU instance type"),
            "{err}"
        );
        let serverless = EndpointSpec::serverless("l", 6144, 5, llm.clone());
        assert!(matches!(
            validate(&serverless),
            Err(DeployError::LlmHosting { .. })
        ));
        let batch = EndpointSpec::new("l", Hosting::Async, "ml.g5.xlarge", llm.clone());
        assert!(matches!(
            validate(&batch),
            Err(DeployError::LlmHosting { .. })
        ));
        // 14.5 GiB of weights fit a T4's 16 GiB, but not its 14.4 GiB at 90 % utilisation.
        let mut heavy = llm;
        if let Some(l) = heavy.llm.as_mut() {
            l.weights_gib = 14.5;
        }
        heavy.memory_mb = 14_848;
        let spec = EndpointSpec::new("l", Hosting::RealTime, "ml.g4dn.xlarge", heavy);
        let err = validate(&spec).unwrap_err();
        assert!(
            matches!(
                err,
                DeployError::ModelTooLarge {
                    available_mb: 14745,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("no room for KV cache"), "{err}");
    }

    #[test]
    fn faults_and_counts_are_checked() {
        let mut spec = EndpointSpec::new("e", Hosting::RealTime, "ml.c5.xlarge", bert());
        spec.faults.error_rate = 1.5;
        assert!(matches!(
            validate(&spec),
            Err(DeployError::Fault {
                field: "error_rate",
                ..
            })
        ));
        spec.faults.error_rate = 0.0;
        spec.instance_count = 0;
        assert!(matches!(
            validate(&spec),
            Err(DeployError::NoInstances { .. })
        ));
    }

    #[test]
    fn the_set_needs_unique_names() {
        let spec = EndpointSpec::new("e", Hosting::RealTime, "ml.c5.xlarge", bert());
        assert!(matches!(validate_all(&[]), Err(DeployError::NoEndpoints)));
        let twice = [spec.clone(), spec];
        assert!(matches!(
            validate_all(&twice),
            Err(DeployError::DuplicateName { .. })
        ));
    }
}
