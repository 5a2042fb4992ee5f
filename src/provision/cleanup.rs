//! `loadtest cleanup`: finds what runs left behind — endpoints, endpoint configs and models
//! whose name starts with `lt-` and that carry the `loadtest:run` tag — optionally only of
//! one run or older than a given age, and deletes them.

use super::deploy::{Kind, Resource};
use super::error::{ProvisionError, classify};
use super::names::{CREATED_TAG, PREFIX, RUN_TAG, epoch_secs};
use aws_sdk_sagemaker::Client;
use std::time::{Duration, SystemTime};

/// A tagged resource a run left.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Leftover {
    /// The resource.
    pub resource: Resource,
    /// Its run id.
    pub run: String,
    /// Its age, when it carries the creation tag.
    pub age: Option<Duration>,
}

/// Which leftovers to find.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Only this run's.
    pub run: Option<String>,
    /// Only those at least this old.
    pub older_than: Option<Duration>,
}

impl Filter {
    fn keeps(&self, run: &str, age: Option<Duration>) -> bool {
        self.run.as_deref().is_none_or(|r| r == run)
            && self
                .older_than
                .is_none_or(|min| age.is_some_and(|a| a >= min))
    }
}

/// Every tagged leftover that `filter` keeps: endpoints, then configs, then models.
pub async fn find(sm: &Client, filter: &Filter) -> Result<Vec<Leftover>, ProvisionError> {
    let mut found = Vec::new();
    for (kind, arn, name) in list_all(sm).await? {
        let tags = sm
            .list_tags()
            .resource_arn(&arn)
            .send()
            .await
            .map_err(|e| classify("ListTags", &e))?;
        let tag = |key: &str| {
            tags.tags()
                .iter()
                .find(|t| t.key() == Some(key))
                .and_then(|t| t.value())
                .map(str::to_string)
        };
        let Some(run) = tag(RUN_TAG) else { continue };
        let now = epoch_secs(SystemTime::now());
        let age = tag(CREATED_TAG)
            .and_then(|t| t.parse::<u64>().ok())
            .map(|created| Duration::from_secs(now.saturating_sub(created)));
        if filter.keeps(&run, age) {
            found.push(Leftover {
                resource: Resource { kind, name },
                run,
                age,
            });
        }
    }
    Ok(found)
}

/// (kind, ARN, name) of every endpoint, config and model named with loadtest's prefix.
async fn list_all(sm: &Client) -> Result<Vec<(Kind, String, String)>, ProvisionError> {
    let mut all = Vec::new();
    let endpoints = sm
        .list_endpoints()
        .name_contains(PREFIX)
        .max_results(100)
        .send()
        .await
        .map_err(|e| classify("ListEndpoints", &e))?;
    for e in endpoints.endpoints() {
        if let (Some(name), Some(arn)) = (e.endpoint_name(), e.endpoint_arn()) {
            all.push((Kind::Endpoint, arn.to_string(), name.to_string()));
        }
    }
    let configs = sm
        .list_endpoint_configs()
        .name_contains(PREFIX)
        .max_results(100)
        .send()
        .await
        .map_err(|e| classify("ListEndpointConfigs", &e))?;
    for c in configs.endpoint_configs() {
        if let (Some(name), Some(arn)) = (c.endpoint_config_name(), c.endpoint_config_arn()) {
            all.push((Kind::EndpointConfig, arn.to_string(), name.to_string()));
        }
    }
    let models = sm
        .list_models()
        .name_contains(PREFIX)
        .max_results(100)
        .send()
        .await
        .map_err(|e| classify("ListModels", &e))?;
    for m in models.models() {
        if let (Some(name), Some(arn)) = (m.model_name(), m.model_arn()) {
            all.push((Kind::Model, arn.to_string(), name.to_string()));
        }
    }
    all.retain(|(_, _, name)| name.starts_with(PREFIX));
    Ok(all)
}
