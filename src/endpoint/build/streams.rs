//! Streaming endpoints of a plan: an OpenAI target's SSE URL, an http target with
//! `stream = true` (chunk timing), the emulator's event-stream route of an LLM endpoint.

use super::BuildError;
use crate::domain::Deployment;
use crate::endpoint::emulated::Route;
use crate::endpoint::http::{self, ClientSettings};
use crate::endpoint::openai::{Framing, StreamEndpoint, StreamSettings};
use crate::endpoint::{AnyEndpoint, EndpointError};
use crate::plan::Plan;
use crate::profile::prompt::OpenAiTarget;
use crate::profile::{HttpTarget, Profile};
use reqwest::Client;
use std::collections::BTreeMap;
use std::sync::Arc;

fn client(profile: &Profile, max_in_flight: usize) -> Result<Client, EndpointError> {
    http::client(&ClientSettings {
        timeout: profile.timeout,
        max_in_flight,
    })
    .map(|c| c.reqwest())
}

/// One SSE endpoint per deployment, all at the target's URL; the API key is read from
/// `api_key_env` here and kept only in the request header.
pub(super) fn openai(
    profile: &Profile,
    plan: &Plan,
    spec: &OpenAiTarget,
    max_in_flight: usize,
) -> Result<BTreeMap<Deployment, AnyEndpoint>, EndpointError> {
    let client = client(profile, max_in_flight)?;
    let api_key = match &spec.api_key_env {
        Some(name) => Some(std::env::var(name).map_err(|_| EndpointError::Setup {
            target: spec.url(),
            reason: format!("the environment variable {name} (`api_key_env`) is not set"),
        })?),
        None => None,
    };
    let settings = StreamSettings {
        content_type: profile.payload.content_type.clone(),
        headers: spec.headers.clone(),
        api_key,
    };
    let url = spec.url();
    plan.deployments()
        .into_iter()
        .map(|d| {
            let e = StreamEndpoint::new(client.clone(), &url, Framing::Sse, &settings)?;
            Ok((d, AnyEndpoint::Stream(e)))
        })
        .collect()
}

/// An http target with `stream = true`: every body chunk timed.
pub(super) fn chunked(
    profile: &Profile,
    spec: &HttpTarget,
    routes: &BTreeMap<Deployment, Route>,
    max_in_flight: usize,
) -> Result<BTreeMap<Deployment, Arc<AnyEndpoint>>, BuildError> {
    let client = client(profile, max_in_flight)?;
    let settings = StreamSettings {
        content_type: profile.payload.content_type.clone(),
        headers: spec.headers.clone(),
        api_key: None,
    };
    let mut out = BTreeMap::new();
    for (d, route) in routes {
        let (Route::Sync(url) | Route::Async(url) | Route::Stream(url)) = route;
        let e = StreamEndpoint::new(client.clone(), url, Framing::Chunks, &settings)?;
        out.insert(d.clone(), Arc::new(AnyEndpoint::Stream(e)));
    }
    Ok(out)
}

/// The emulator's `invocations-response-stream` route of an LLM endpoint.
pub(super) fn event_stream(
    client: Client,
    url: &str,
    profile: &Profile,
) -> Result<AnyEndpoint, EndpointError> {
    let settings = StreamSettings {
        content_type: profile.payload.content_type.clone(),
        ..StreamSettings::default()
    };
    StreamEndpoint::new(client, url, Framing::EventStream, &settings).map(AnyEndpoint::Stream)
}
