//! The `emulator` target kind: deploys one emulated endpoint per swept variant on
//! 127.0.0.1 (ephemeral port) and hands out their URLs.

use crate::domain::Hosting;
use crate::emulator::{DeployError, EmulatorError, EndpointSpec, Running};
use crate::plan::{Plan, Variant};
use crate::profile::{EmulatorTarget, Profile, Target};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};

/// Where a variant's endpoint answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// `InvokeEndpoint`: request and answer.
    Sync(String),
    /// `InvokeEndpointAsync`: submit, then poll the result.
    Async(String),
}

/// Emulated endpoints started for a run.
pub struct Deployed {
    /// Each variant's endpoint.
    pub routes: BTreeMap<Variant, Route>,
    running: Running,
}

impl Deployed {
    /// Stops the emulator.
    pub async fn stop(self) {
        self.running.stop().await;
    }
}

/// The SageMaker endpoint name of a variant: `real-time-ml-c5-xlarge`, `serverless-2048`.
pub fn endpoint_name(variant: &Variant) -> String {
    let hosting = variant.hosting.unwrap_or(Hosting::RealTime);
    match (hosting, &variant.instance) {
        (Hosting::Serverless, Some(name)) => name.clone(),
        (_, Some(instance)) => format!("{hosting}-{}", instance.replace('.', "-")),
        (_, None) => hosting.to_string(),
    }
}

/// The endpoint a variant deploys as, with the profile's model, count and faults.
fn spec(emu: &EmulatorTarget, variant: &Variant, time_scale: Option<f64>) -> EndpointSpec {
    let mut model = emu.model.clone();
    if let Some(scale) = time_scale {
        model = model.with_time_scale(scale);
    }
    let name = endpoint_name(variant);
    let hosting = variant.hosting.unwrap_or(Hosting::RealTime);
    let instance = variant.instance.as_deref().unwrap_or_default();
    let mut spec = match instance
        .strip_prefix("serverless-")
        .and_then(|mb| mb.parse().ok())
    {
        Some(mb) if hosting == Hosting::Serverless => {
            EndpointSpec::serverless(&name, mb, emu.max_concurrency, model)
        }
        _ => EndpointSpec::new(&name, hosting, instance, model),
    };
    spec.instance_count = emu.instance_count;
    spec.faults = emu.faults.clone();
    spec
}

fn specs(
    profile: &Profile,
    plan: &Plan,
    time_scale: Option<f64>,
) -> Option<Vec<(Variant, EndpointSpec)>> {
    let Target::Emulator(emu) = &profile.target else {
        return None;
    };
    Some(
        plan.variants()
            .into_iter()
            .map(|v| {
                let s = spec(emu, &v, time_scale);
                (v, s)
            })
            .collect(),
    )
}

/// A swept variant the model does not fit: it is not deployed, and the recommendation
/// lists it with this reason.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Unfit {
    /// Hosting option.
    pub hosting: Hosting,
    /// Instance type or `serverless-<MB>`.
    pub instance_type: String,
    /// Memory the model needs, MB.
    pub model_mb: u32,
    /// Memory the instance, accelerator or serverless size has, MB.
    pub available_mb: u32,
}

/// Checks that every endpoint of the plan can be deployed (exit 2 otherwise), except those
/// the model does not fit in, which are returned: the run skips them.
pub fn check(profile: &Profile, plan: &Plan) -> Result<Vec<Unfit>, EmulatorError> {
    let specs = specs(profile, plan, None).unwrap_or_default();
    let all = specs.len();
    let mut unfit = Vec::new();
    for (variant, spec) in specs {
        let Err(e) = crate::emulator::validate(&spec) else {
            continue;
        };
        match (&e, variant.hosting, variant.instance) {
            (
                DeployError::ModelTooLarge {
                    model_mb,
                    available_mb,
                    ..
                },
                Some(hosting),
                Some(instance_type),
            ) if unfit.len() + 1 < all => unfit.push(Unfit {
                hosting,
                instance_type,
                model_mb: *model_mb,
                available_mb: *available_mb,
            }),
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
                _ => Route::Sync(running.invocations_url(&spec.name)),
            };
            (variant, route)
        })
        .collect();
    Ok(Some(Deployed { routes, running }))
}
