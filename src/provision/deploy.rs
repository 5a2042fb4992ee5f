//! Deploys candidates through `aws-sdk-sagemaker`: the model once (when the run creates it),
//! then per candidate an endpoint config and an endpoint, all tagged with the run id; waits
//! for `InService` printing status and elapsed time; deletes what it created, remembering
//! in a ledger whatever is still up so that every exit path can tear it down.

use super::error::{ProvisionError, classify};
use super::names;
use crate::domain::{Deployment, Hosting, Variant};
use crate::profile::{Provision, ProvisionModel};
use aws_sdk_sagemaker::Client;
use aws_sdk_sagemaker::types::{
    AsyncInferenceClientConfig, AsyncInferenceConfig, AsyncInferenceOutputConfig,
    ContainerDefinition, EndpointStatus, ProductionVariant, ProductionVariantInstanceType,
    ProductionVariantServerlessConfig, Tag,
};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// What kind of resource a ledger entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// An endpoint.
    Endpoint,
    /// An endpoint config.
    EndpointConfig,
    /// A model.
    Model,
}

/// A resource the run created and has not deleted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resource {
    /// What it is.
    pub kind: Kind,
    /// Its name.
    pub name: String,
}

impl Resource {
    /// The AWS CLI command that deletes it.
    pub fn delete_command(&self, region: &str) -> String {
        let (verb, flag) = match self.kind {
            Kind::Endpoint => ("delete-endpoint", "--endpoint-name"),
            Kind::EndpointConfig => ("delete-endpoint-config", "--endpoint-config-name"),
            Kind::Model => ("delete-model", "--model-name"),
        };
        format!(
            "aws sagemaker {verb} {flag} {} --region {region}",
            self.name
        )
    }
}

/// An endpoint in service.
#[derive(Clone, Debug)]
pub struct Ready {
    /// Its name (and its config's).
    pub name: String,
    /// How long it took from CreateEndpoint to `InService`.
    pub took: Duration,
}

/// Why a candidate is not measured.
#[derive(Debug, thiserror::Error)]
pub enum DeployFailure {
    /// The control plane refused or failed (quota, capacity, permissions, …).
    #[error(transparent)]
    Api(#[from] ProvisionError),
    /// The endpoint reached `Failed`; it has been deleted.
    #[error("the endpoint failed to deploy: {reason}")]
    Failed {
        /// SageMaker's `FailureReason`.
        reason: String,
    },
    /// Ctrl-C while waiting.
    #[error("interrupted while deploying")]
    Cancelled,
}

impl DeployFailure {
    /// Whether the run stops rather than going on with the next candidate.
    pub fn is_fatal(&self) -> bool {
        match self {
            DeployFailure::Api(e) => e.is_fatal(),
            DeployFailure::Failed { .. } => false,
            DeployFailure::Cancelled => true,
        }
    }
}

/// The control plane of one run: its client, run id and ledger.
#[derive(Clone)]
pub struct Provisioner {
    sm: Client,
    run_id: String,
    ledger: Arc<Mutex<Vec<Resource>>>,
    /// Names of the endpoints (and configs) whose creation began, created or not yet.
    started: Arc<Mutex<Vec<String>>>,
    /// Shortest pause between two DescribeEndpoint calls while waiting.
    pub poll: Duration,
}

impl Provisioner {
    /// A provisioner for the run `run_id`.
    pub fn new(sm: Client, run_id: &str) -> Provisioner {
        Provisioner {
            sm,
            run_id: run_id.to_string(),
            ledger: Arc::default(),
            started: Arc::default(),
            poll: Duration::from_millis(100),
        }
    }

    /// The run id every resource is tagged with.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    fn tags(&self) -> Vec<Tag> {
        let created = names::epoch_secs(std::time::SystemTime::now()).to_string();
        vec![
            Tag::builder()
                .key(names::RUN_TAG)
                .value(&self.run_id)
                .build(),
            Tag::builder()
                .key(names::CREATED_TAG)
                .value(created)
                .build(),
        ]
    }

    fn remember(&self, kind: Kind, name: &str) {
        self.ledger
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Resource {
                kind,
                name: name.to_string(),
            });
    }

    fn forget(&self, kind: Kind, name: &str) {
        self.ledger
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|r| !(r.kind == kind && r.name == name));
    }

    /// Takes over resources to delete with [`Provisioner::teardown`] (`loadtest cleanup`).
    pub fn adopt(&self, resources: impl IntoIterator<Item = Resource>) {
        self.ledger
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(resources);
    }

    /// What the run created and has not deleted yet.
    pub fn outstanding(&self) -> Vec<Resource> {
        self.ledger
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The model's name: the existing one, or one created now (and remembered).
    pub async fn ensure_model(&self, model: &ProvisionModel) -> Result<String, ProvisionError> {
        let ProvisionModel::Create {
            image,
            model_data_url,
            execution_role_arn,
            env,
        } = model
        else {
            let ProvisionModel::Existing { name } = model else {
                unreachable!()
            };
            return Ok(name.clone());
        };
        let name = names::model(&self.run_id);
        let mut container = ContainerDefinition::builder().image(image);
        if let Some(url) = model_data_url {
            container = container.model_data_url(url);
        }
        for (k, v) in env {
            container = container.environment(k, v);
        }
        self.sm
            .create_model()
            .model_name(&name)
            .primary_container(container.build())
            .execution_role_arn(execution_role_arn)
            .set_tags(Some(self.tags()))
            .send()
            .await
            .map_err(|e| classify("CreateModel", &e))?;
        self.remember(Kind::Model, &name);
        Ok(name)
    }

    /// Creates the endpoint config and endpoint of `deployment`, then waits for it.
    pub async fn deploy(
        &self,
        index: usize,
        model: &str,
        deployment: &Deployment,
        provision: &Provision,
        cancel: watch::Receiver<bool>,
    ) -> Result<Ready, DeployFailure> {
        let name = names::endpoint(&self.run_id, index, deployment);
        self.started
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(name.clone());
        let (variant, async_config) = variant_of(model, deployment, provision, &self.run_id);
        let mut config = self
            .sm
            .create_endpoint_config()
            .endpoint_config_name(&name)
            .production_variants(variant)
            .set_tags(Some(self.tags()));
        if let Some(a) = async_config {
            config = config.async_inference_config(a);
        }
        config
            .send()
            .await
            .map_err(|e| classify("CreateEndpointConfig", &e))?;
        self.remember(Kind::EndpointConfig, &name);
        let created = self
            .sm
            .create_endpoint()
            .endpoint_name(&name)
            .endpoint_config_name(&name)
            .set_tags(Some(self.tags()))
            .send()
            .await;
        if let Err(e) = created {
            let _ = self.delete(Kind::EndpointConfig, &name).await;
            return Err(classify("CreateEndpoint", &e).into());
        }
        self.remember(Kind::Endpoint, &name);
        self.wait(&name, deployment, cancel).await
    }

    /// Polls DescribeEndpoint (backing off to 10 s) until `InService` or `Failed`, printing
    /// each status change with the elapsed time. A failed endpoint is deleted.
    async fn wait(
        &self,
        name: &str,
        deployment: &Deployment,
        mut cancel: watch::Receiver<bool>,
    ) -> Result<Ready, DeployFailure> {
        let start = Instant::now();
        let mut pause = self.poll;
        let mut last = None;
        loop {
            let d = self
                .sm
                .describe_endpoint()
                .endpoint_name(name)
                .send()
                .await
                .map_err(|e| classify("DescribeEndpoint", &e))?;
            let status = d.endpoint_status().cloned();
            if status != last {
                eprintln!(
                    "deploy {} ({} {}): {} after {:.1}s",
                    name,
                    deployment.hosting_label(),
                    deployment.variant_label(),
                    status.as_ref().map_or("?", EndpointStatus::as_str),
                    start.elapsed().as_secs_f64()
                );
                last.clone_from(&status);
            }
            match status {
                Some(EndpointStatus::InService) => {
                    return Ok(Ready {
                        name: name.to_string(),
                        took: start.elapsed(),
                    });
                }
                Some(EndpointStatus::Failed) => {
                    let reason = d.failure_reason().unwrap_or("no reason given").to_string();
                    self.delete_endpoint(name).await;
                    return Err(DeployFailure::Failed { reason });
                }
                _ => {}
            }
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                _ = cancel.wait_for(|c| *c) => return Err(DeployFailure::Cancelled),
            }
            pause = (pause * 3 / 2).min(Duration::from_secs(10));
        }
    }

    async fn delete(&self, kind: Kind, name: &str) -> Result<(), ProvisionError> {
        let sent = match kind {
            Kind::Endpoint => self
                .sm
                .delete_endpoint()
                .endpoint_name(name)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| classify("DeleteEndpoint", &e)),
            Kind::EndpointConfig => self
                .sm
                .delete_endpoint_config()
                .endpoint_config_name(name)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| classify("DeleteEndpointConfig", &e)),
            Kind::Model => self
                .sm
                .delete_model()
                .model_name(name)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| classify("DeleteModel", &e)),
        };
        match sent {
            Ok(()) | Err(ProvisionError::NotFound { .. }) => {
                self.forget(kind, name);
                eprintln!("deleted {kind:?} {name}");
                Ok(())
            }
            Err(e) => {
                eprintln!("warning: could not delete {kind:?} {name}: {e}");
                Err(e)
            }
        }
    }

    /// Deletes an endpoint and its config (errors are kept in the ledger and printed).
    pub async fn delete_endpoint(&self, name: &str) {
        let _ = self.delete(Kind::Endpoint, name).await;
        let _ = self.delete(Kind::EndpointConfig, name).await;
    }

    /// Deletes everything still in the ledger (endpoints first, the model last) and returns
    /// what could not be deleted.
    pub async fn teardown(&self) -> Vec<Resource> {
        let mut all = self.outstanding();
        all.sort_by_key(|r| match r.kind {
            Kind::Endpoint => 0,
            Kind::EndpointConfig => 1,
            Kind::Model => 2,
        });
        for r in &all {
            let _ = self.delete(r.kind, &r.name).await;
        }
        self.outstanding()
    }
}

impl Provisioner {
    /// After a second Ctrl-C: sends the delete of everything the run created or began to
    /// create (a deployment cut short may have created its endpoint unseen), each kind at
    /// once, waiting at most `wait` per kind for the answers; returns what may be left:
    /// every resource whose delete was not answered as done.
    pub async fn teardown_hurried(&self, wait: Duration) -> Vec<Resource> {
        let mut all = self.outstanding();
        let started = self
            .started
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        for name in started {
            for kind in [Kind::Endpoint, Kind::EndpointConfig] {
                let r = Resource {
                    kind,
                    name: name.clone(),
                };
                if !all.contains(&r) {
                    all.push(r);
                }
            }
        }
        let done = Mutex::new(Vec::new());
        for kind in [Kind::Endpoint, Kind::EndpointConfig, Kind::Model] {
            let sends = all.iter().filter(|r| r.kind == kind).map(|r| async {
                if self.delete(r.kind, &r.name).await.is_ok() {
                    done.lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(r.clone());
                }
            });
            let _ = tokio::time::timeout(wait, futures_util::future::join_all(sends)).await;
        }
        let done = done.into_inner().unwrap_or_else(PoisonError::into_inner);
        all.retain(|r| !done.contains(r));
        all
    }
}

/// The production variant (and async config, its outputs under `<s3_prefix>/<run id>/`) of a
/// deployment.
fn variant_of(
    model: &str,
    deployment: &Deployment,
    provision: &Provision,
    run_id: &str,
) -> (ProductionVariant, Option<AsyncInferenceConfig>) {
    let variant = ProductionVariant::builder()
        .variant_name(crate::emulator::DEFAULT_VARIANT)
        .model_name(model);
    let hosting = deployment.hosting.unwrap_or(Hosting::RealTime);
    let variant = match &deployment.variant {
        Some(Variant::Serverless { memory_mb }) => variant.serverless_config(
            ProductionVariantServerlessConfig::builder()
                .memory_size_in_mb(i32::try_from(*memory_mb).unwrap_or(i32::MAX))
                .max_concurrency(i32::try_from(provision.max_concurrency).unwrap_or(200))
                .build(),
        ),
        Some(Variant::Instance(t)) => variant
            .instance_type(ProductionVariantInstanceType::from(t.as_str()))
            .initial_instance_count(i32::try_from(provision.instance_count).unwrap_or(1)),
        None => variant,
    };
    let async_config = (hosting == Hosting::Async).then(|| {
        // Under the run's own prefix, so its teardown and `cleanup` find them by the run id.
        let prefix = super::s3_objects::run_prefix(
            provision.s3_prefix.as_deref().unwrap_or_default(),
            run_id,
        );
        AsyncInferenceConfig::builder()
            .output_config(
                AsyncInferenceOutputConfig::builder()
                    .s3_output_path(format!("{prefix}/output"))
                    .s3_failure_path(format!("{prefix}/failure"))
                    .build(),
            )
            .client_config(
                AsyncInferenceClientConfig::builder()
                    .max_concurrent_invocations_per_instance(
                        i32::try_from(provision.max_concurrent_invocations).unwrap_or(4),
                    )
                    .build(),
            )
            .build()
    });
    (variant.build(), async_config)
}
