//! Builds the endpoint of every deployment of a plan: an HTTP URL, an emulated endpoint (sync or
//! async), or a SageMaker endpoint through the SDK; then probes each once before any load.

use crate::domain::Deployment;
use crate::domain::FirstRequest;
use crate::endpoint::async_http::AsyncHttpEndpoint;
use crate::endpoint::emulated::Route;
use crate::endpoint::http::{self, ClientSettings, HttpEndpoint};
use crate::endpoint::sagemaker::{self, SageMakerEndpoint};
use crate::endpoint::{AnyEndpoint, Endpoint, EndpointError};
use crate::payload::{self, PayloadError};
use crate::plan::Plan;
use crate::profile::{
    HttpTarget as HttpSpec, Profile, SageMakerTarget, Target as TargetSpec, Urls,
};
use std::collections::BTreeMap;
use std::sync::Arc;

mod streams;

/// Why targets could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A target could not be built or reached.
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
    /// The probe's body could not be built.
    #[error(transparent)]
    Payload(#[from] PayloadError),
}

/// Each variant's target. `emulated` holds the routes of an emulator started for the run.
pub async fn build(
    profile: &Profile,
    plan: &Plan,
    emulated: Option<BTreeMap<Deployment, Route>>,
) -> Result<BTreeMap<Deployment, Arc<AnyEndpoint>>, BuildError> {
    let max_in_flight = plan.max_in_flight() as usize;
    let out = match (&profile.target, emulated) {
        (TargetSpec::Sagemaker(sm), _) => {
            sagemaker_endpoints(profile, plan, sm, max_in_flight).await?
        }
        (TargetSpec::Http(spec), _) => {
            let routes = http_routes(spec, plan);
            if spec.stream {
                return streams::chunked(profile, spec, &routes, max_in_flight);
            }
            http_endpoints(
                profile,
                spec.method.as_str(),
                &spec.headers,
                &routes,
                max_in_flight,
            )?
        }
        (TargetSpec::Emulator(_), routes) => {
            let routes = routes.unwrap_or_default();
            http_endpoints(profile, "POST", &BTreeMap::new(), &routes, max_in_flight)?
        }
        (TargetSpec::Openai(spec), _) => streams::openai(profile, plan, spec, max_in_flight)?,
    };
    Ok(out.into_iter().map(|(v, t)| (v, Arc::new(t))).collect())
}

/// The URL of each variant for an http target.
fn http_routes(spec: &HttpSpec, plan: &Plan) -> BTreeMap<Deployment, Route> {
    plan.deployments()
        .into_iter()
        .map(|v| {
            let url = match &spec.urls {
                Urls::One(url) => url.clone(),
                Urls::PerInstance(map) => map.get(&v.variant_label()).cloned().unwrap_or_default(),
            };
            (v, Route::Sync(url))
        })
        .collect()
}

fn http_endpoints(
    profile: &Profile,
    method: &str,
    headers: &BTreeMap<String, String>,
    routes: &BTreeMap<Deployment, Route>,
    max_in_flight: usize,
) -> Result<BTreeMap<Deployment, AnyEndpoint>, EndpointError> {
    let client = http::client(&ClientSettings {
        timeout: profile.timeout,
        max_in_flight,
    })?;
    let content_type = &profile.payload.content_type;
    let mut out = BTreeMap::new();
    for (variant, route) in routes {
        let target = match route {
            Route::Sync(url) => AnyEndpoint::Http(HttpEndpoint::new(
                client.clone(),
                method,
                url,
                content_type,
                headers,
            )?),
            Route::Async(url) => AnyEndpoint::Async(AsyncHttpEndpoint::new(
                client.reqwest(),
                url,
                content_type,
                profile.timeout,
            )?),
            Route::Stream(url) => streams::event_stream(client.reqwest(), url, profile)?,
        };
        out.insert(variant.clone(), target);
    }
    Ok(out)
}

async fn sagemaker_endpoints(
    profile: &Profile,
    plan: &Plan,
    sm: &SageMakerTarget,
    max_in_flight: usize,
) -> Result<BTreeMap<Deployment, AnyEndpoint>, EndpointError> {
    let client = sagemaker::client(sm, profile.timeout, max_in_flight).await?;
    #[cfg(feature = "provision")]
    let s3 = match (&sm.mode, &sm.input_location) {
        (crate::profile::InvokeMode::Async, Some(l)) => {
            let sdk = sagemaker::shared_config(sm, profile.timeout, None).await?;
            let client = sagemaker::s3_async::s3_client(&sdk, sm.endpoint_url.as_deref());
            Some((client, l.clone()))
        }
        _ => None,
    };
    let mut out = BTreeMap::new();
    for variant in plan.deployments() {
        let label = variant.variant_label();
        let name = sm
            .endpoint_for(&label)
            .ok_or_else(|| EndpointError::Setup {
                target: format!("sagemaker endpoints for `{label}`"),
                reason: format!("no endpoint named for `{label}`: add it to `[target] endpoints`"),
            })?;
        let endpoint = SageMakerEndpoint::new(
            client.clone(),
            name,
            sm,
            &profile.payload.content_type,
            profile.timeout,
        );
        // Async completion is the output object appearing in S3.
        #[cfg(feature = "provision")]
        let endpoint = match &s3 {
            Some((client, template)) => endpoint.with_s3(client.clone(), template),
            None => endpoint,
        };
        out.insert(variant, AnyEndpoint::SageMaker(endpoint));
    }
    Ok(out)
}

/// Sends one request to each target before any load: a target that cannot serve (not
/// reachable, credentials refused, a wrong URL or endpoint name, a payload it rejects) fails
/// the run at once, naming the status, error class and the start of the answer, instead of
/// as thousands of failed requests. Each probe carries the deployment's smallest payload
/// size, capped at its hosting option's payload limit (cells over the limit are measured
/// anyway, to show the option cannot take them). Returns each one's response time (a cold
/// start, where the endpoint was idle).
pub async fn probe(
    profile: &Profile,
    plan: &Plan,
    endpoints: &BTreeMap<Deployment, Arc<AnyEndpoint>>,
) -> Result<Vec<FirstRequest>, BuildError> {
    let mut timed = Vec::new();
    for (variant, endpoint) in endpoints {
        let size = probe_size(plan, variant);
        let body = payload::build(&profile.payload.source, size, profile.sweep.seed)?.get(0);
        let start = std::time::Instant::now();
        endpoint.probe(body).await?;
        timed.push(FirstRequest {
            deployment: variant.clone(),
            ms: crate::domain::units::round3(start.elapsed().as_secs_f64() * 1000.0),
        });
    }
    Ok(timed)
}

/// The probe's payload size for `deployment`: its smallest, within its option's limit.
fn probe_size(plan: &Plan, deployment: &Deployment) -> u64 {
    let cells = plan
        .cells
        .iter()
        .filter(|c| &c.deployment == deployment)
        .map(|c| c.payload_bytes);
    let searches = plan
        .searches
        .iter()
        .filter(|s| &s.deployment == deployment)
        .map(|s| s.payload_bytes);
    let smallest = cells.chain(searches).min().unwrap_or(0);
    match deployment.hosting {
        Some(hosting) => smallest.min(hosting.max_payload_bytes()),
        None => smallest,
    }
}
