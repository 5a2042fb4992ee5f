//! Validation of `[target] kind = "sagemaker"`: region, endpoints per variant, headers.

use super::checker::{Checker, check_url};
use super::raw::RawTarget;
use super::{InvokeMode, SageMakerTarget, Sweep};
use crate::domain::Hosting;
use std::collections::BTreeMap;

/// Checks a SageMaker target and fills the sweep's instance types from `endpoints`.
/// With `provisioned` (a `[provision]` table), the run names and creates the endpoints.
pub(super) fn check(
    c: &mut Checker,
    t: &RawTarget,
    sweep: &mut Sweep,
    provisioned: bool,
) -> SageMakerTarget {
    let region = match &t.region {
        Some(r) if !r.get_ref().trim().is_empty() => r.get_ref().clone(),
        _ => {
            c.on(
                &t.kind,
                "target.region",
                "a sagemaker target needs a region".into(),
                Some("add e.g. `region = \"us-east-1\"`".into()),
            );
            String::new()
        }
    };
    if let Some(url) = &t.endpoint_url {
        check_url(c, url, "target.endpoint_url");
    }
    let mode = match t.mode.as_ref().map(|m| m.get_ref().as_str()) {
        None | Some("sync") => InvokeMode::Sync,
        Some("async") => InvokeMode::Async,
        Some("stream") => InvokeMode::Stream,
        Some(_) => {
            if let Some(m) = &t.mode {
                c.unknown_name(m, "target.mode", "mode", &["sync", "async", "stream"]);
            }
            InvokeMode::Sync
        }
    };
    if let Some(attrs) = &t.custom_attributes
        && attrs.get_ref().len() > 1024
    {
        c.on(
            attrs,
            "target.custom_attributes",
            format!(
                "is {} characters; SageMaker accepts at most 1024",
                attrs.get_ref().len()
            ),
            Some("shorten it".into()),
        );
    }
    let endpoints = if provisioned {
        provisioned_endpoints(c, t, sweep)
    } else {
        endpoints(c, t, sweep, mode)
    };
    let input_location = t.input_location.as_ref().map(|l| l.get_ref().clone());
    if mode == InvokeMode::Async && input_location.is_none() && !provisioned {
        c.on(&t.kind, "target.input_location", "async invocations read their input from S3".into(), Some("add e.g. `input_location = \"s3://my-bucket/inputs/{bytes}.bin\"` (an object per payload size)".into()));
    }
    SageMakerTarget {
        region,
        endpoint_url: t.endpoint_url.as_ref().map(|u| u.get_ref().clone()),
        endpoints,
        profile: t.profile.clone(),
        mode,
        custom_attributes: t.custom_attributes.as_ref().map(|a| a.get_ref().clone()),
        target_variant: t.target_variant.clone(),
        target_model: t.target_model.clone(),
        target_container_hostname: t.target_container_hostname.clone(),
        inference_component: t.inference_component.clone(),
        accept: t.accept.clone(),
        retries: t.retries.as_ref().map_or(0, |r| *r.get_ref()),
        input_location,
    }
}

/// With `[provision]` the run creates the endpoints: none may be named, and the sweep says
/// what to deploy.
fn provisioned_endpoints(
    c: &mut Checker,
    t: &RawTarget,
    sweep: &mut Sweep,
) -> BTreeMap<String, String> {
    if let Some(one) = &t.endpoint {
        c.on(
            one,
            "target.endpoint",
            "[provision] creates the endpoints itself".into(),
            Some("remove `endpoint`, or remove [provision] to measure an existing endpoint".into()),
        );
    }
    if let Some(map) = &t.endpoints {
        c.on(
            map,
            "target.endpoints",
            "[provision] creates the endpoints itself".into(),
            Some("remove `endpoints`; list what to deploy in `sweep.instance_types`".into()),
        );
    }
    if sweep.hosting.is_empty() {
        sweep.hosting.push(Hosting::RealTime);
    }
    if sweep.hosting.contains(&Hosting::Batch) {
        c.on(
            &t.kind,
            "sweep.hosting",
            "[provision] deploys endpoints; batch transform has none".into(),
            Some("remove \"batch\"".into()),
        );
    }
    let needs_instances = sweep.hosting.iter().any(|h| *h != Hosting::Serverless);
    if needs_instances && sweep.instance_types.is_empty() {
        c.on(
            &t.kind,
            "sweep.instance_types",
            "[provision] needs the instance types to deploy".into(),
            Some(
                "add e.g. `instance_types = [\"ml.c5.xlarge\", \"ml.m5.xlarge\"]` to [sweep]"
                    .into(),
            ),
        );
    }
    BTreeMap::new()
}

/// `endpoint` (one for every cell) or `endpoints` (one per instance label); fills the sweep.
fn endpoints(
    c: &mut Checker,
    t: &RawTarget,
    sweep: &mut Sweep,
    mode: InvokeMode,
) -> BTreeMap<String, String> {
    let map: BTreeMap<String, String> = match (&t.endpoint, &t.endpoints) {
        (Some(one), None) => [("-".to_string(), one.get_ref().clone())].into(),
        (None, Some(map)) => map
            .get_ref()
            .iter()
            .map(|(k, v)| (k.clone(), v.get_ref().clone()))
            .collect(),
        (Some(one), Some(_)) => {
            c.on(
                one,
                "target.endpoint",
                "both `endpoint` and `endpoints` are set".into(),
                Some(
                    "keep `endpoint` for one endpoint, or `endpoints` for one per instance type"
                        .into(),
                ),
            );
            BTreeMap::new()
        }
        (None, None) => {
            c.on(&t.kind, "target.endpoint", "a sagemaker target needs an endpoint name".into(), Some("add `endpoint = \"my-endpoint\"` or `endpoints = { \"ml.c5.xlarge\" = \"my-endpoint-c5\" }`".into()));
            BTreeMap::new()
        }
    };
    if sweep.hosting.contains(&Hosting::Batch) {
        c.on(
            &t.kind,
            "sweep.hosting",
            "batch transform jobs run through CreateTransformJob, not the runtime API this target calls".into(),
            Some("measure the model's container with kind = \"http\" (its /invocations URL) or on the emulator, or remove \"batch\"".into()),
        );
    }
    if let Some(spanned) = &t.endpoints {
        fill_sweep(c, spanned, &map, sweep, mode);
    }
    map
}

/// With `endpoints`, the sweep's variants are the map's keys.
fn fill_sweep(
    c: &mut Checker,
    spanned: &toml::Spanned<BTreeMap<String, super::raw::SpannedStr>>,
    map: &BTreeMap<String, String>,
    sweep: &mut Sweep,
    mode: InvokeMode,
) {
    let mut memory = Vec::new();
    let mut instances = Vec::new();
    for key in map.keys() {
        match key.strip_prefix("serverless-").map(str::parse::<u32>) {
            Some(Ok(mb)) if crate::domain::SERVERLESS_MEMORY_MB.contains(&mb) => memory.push(mb),
            Some(_) => c.on(
                spanned,
                &format!("target.endpoints.\"{key}\""),
                "is not a serverless memory size".into(),
                Some("write serverless-1024 … serverless-6144 in 1024 steps".into()),
            ),
            None => instances.push(key.clone()),
        }
    }
    if sweep.instance_types.is_empty() {
        sweep.instance_types = instances.clone();
    }
    if sweep.serverless_memory_mb.is_empty() {
        sweep.serverless_memory_mb = memory.clone();
    }
    if sweep.hosting.is_empty() {
        if !instances.is_empty() {
            sweep.hosting.push(if mode == InvokeMode::Async {
                Hosting::Async
            } else {
                Hosting::RealTime
            });
        }
        if !memory.is_empty() {
            sweep.hosting.push(Hosting::Serverless);
        }
    }
    for name in sweep
        .instance_types
        .iter()
        .filter(|n| !map.contains_key(*n))
    {
        c.on(
            spanned,
            "target.endpoints",
            format!("no endpoint for instance type `{name}` of sweep.instance_types"),
            Some(format!("add `\"{name}\" = \"<endpoint name>\"`")),
        );
    }
}
