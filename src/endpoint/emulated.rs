//! The `emulator` target kind: deploys one emulated endpoint per swept variant on
//! 127.0.0.1 (ephemeral port) and hands out their URLs.

use crate::domain::{Deployment, Hosting, Unfit, Variant};
use crate::emulator::{DeployError, EmulatorError, EndpointSpec, Running};
use crate::plan::Plan;
use crate::profile::{EmulatorTarget, Profile, Target};
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};

/// Where a variant's endpoint answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// `InvokeEndpoint`: request and answer.
    Sync(String),
    /// `InvokeEndpointAsync`: submit, then poll the result.
    Async(String),
    /// `InvokeEndpointWithResponseStream` of an LLM endpoint: an event stream, timed per token.
    Stream(String),
}

/// Emulated endpoints started for a run.
pub struct Deployed {
    /// Each variant's endpoint.
    pub routes: BTreeMap<Deployment, Route>,
    running: Running,
}

impl Deployed {
    /// Stops the emulator.
    pub async fn stop(self) {
        self.running.stop().await;
    }
}

/// The SageMaker endpoint name of a deployment: `real-time-ml-c5-xlarge`, `serverless-2048`.
pub fn endpoint_name(deployment: &Deployment) -> String {
    let hosting = deployment.hosting.unwrap_or(Hosting::RealTime);
    match &deployment.variant {
        Some(Variant::Serverless { memory_mb }) => format!("serverless-{memory_mb}"),
        Some(Variant::Instance(t)) => format!("{hosting}-{}", t.as_str().replace('.', "-")),
        None => hosting.to_string(),
    }
}

/// The endpoint a deployment deploys as, with the profile's model, count and faults.
fn spec(emu: &EmulatorTarget, deployment: &Deployment, time_scale: Option<f64>) -> EndpointSpec {
    let mut model = emu.model.clone();
    if let Some(scale) = time_scale {
        model = model.with_time_scale(scale);
    }
    let name = endpoint_name(deployment);
    let hosting = deployment.hosting.unwrap_or(Hosting::RealTime);
    let mut spec = match &deployment.variant {
        Some(Variant::Serverless { memory_mb }) if hosting == Hosting::Serverless => {
            EndpointSpec::serverless(&name, *memory_mb, emu.max_concurrency, model)
        }
        variant => {
            let instance = variant.as_ref().map_or(String::new(), Variant::to_string);
            EndpointSpec::new(&name, hosting, &instance, model)
        }
    };
    spec.instance_count = emu.instance_count;
    spec.faults = emu.faults.clone();
    spec
}

fn specs(
    profile: &Profile,
    plan: &Plan,
    time_scale: Option<f64>,
) -> Option<Vec<(Deployment, EndpointSpec)>> {
    let Target::Emulator(emu) = &profile.target else {
        return None;
    };
    Some(
        plan.deployments()
            .into_iter()
            .map(|v| {
                let s = spec(emu, &v, time_scale);
                (v, s)
            })
            .collect(),
    )
}

/// Checks that every endpoint of the plan can be deployed (exit 2 otherwise), except those
/// the model does not fit in, which are returned: the run skips them.
pub fn check(profile: &Profile, plan: &Plan) -> Result<Vec<Unfit>, EmulatorError> {
    let specs = specs(profile, plan, None).unwrap_or_default();
    let all = specs.len();
    let mut unfit = Vec::new();
    for (deployment, spec) in specs {
        let Err(e) = crate::emulator::validate(&spec) else {
            continue;
        };
        match &e {
            DeployError::ModelTooLarge {
                model_mb,
                available_mb,
                ..
            } if unfit.len() + 1 < all
                && deployment.hosting.is_some()
                && deployment.variant.is_some() =>
            {
                unfit.push(Unfit {
                    deployment,
                    model_mb: *model_mb,
                    available_mb: *available_mb,
                })
            }
            _ => return Err(e.into()),
        }
    }
    Ok(unfit)
}

/// Starts the emulator when the profile targets it; `None` for other targets.
pub async fn start(
    profile: &Profile,
    plan: &Plan,
    time_scale: Option<f64>,
) -> Result<Option<Deployed>, EmulatorError> {
    let Some(specs) = specs(profile, plan, time_scale) else {
        return Ok(None);
    };
    let listen = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let running = Running::start(listen, specs.iter().map(|(_, s)| s.clone()).collect()).await?;
    let routes = specs
        .into_iter()
        .map(|(variant, spec)| {
            let route = match spec.hosting {
                Hosting::Async => Route::Async(running.async_url(&spec.name)),
                Hosting::Batch => Route::Sync(running.transform_invocations_url(&spec.name)),
                _ if streams(&spec) => Route::Stream(running.stream_url(&spec.name)),
                _ => Route::Sync(running.invocations_url(&spec.name)),
            };
            (variant, route)
        })
        .collect();
    Ok(Some(Deployed { routes, running }))
}

/// Whether an endpoint's model streams tokens (an LLM model).
fn streams(spec: &EndpointSpec) -> bool {
    spec.model.is_llm()
}
