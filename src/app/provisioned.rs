//! `loadtest run` with `[provision]`: deploy each candidate (up to `max_parallel` ahead of
//! the one measured), measure its cells, delete it at once; tear down whatever is left on
//! every way out (success, error, SLA failure, Ctrl-C). Candidates refused for quota or
//! capacity, or whose endpoint fails, are reported as "could not deploy" and skipped.

use super::AppError;
use crate::cli::RunArgs;
use crate::domain::{Deployment, Hosting, NotDeployed, Unfit};
use crate::endpoint::sagemaker::{self, SageMakerEndpoint};
use crate::endpoint::{AnyEndpoint, build};
use crate::plan::Plan;
use crate::pricing::PriceTable;
use crate::profile::{InvokeMode, Profile, Provision, SageMakerTarget, Target};
use crate::provision::deploy::{DeployFailure, Provisioner, Ready, Resource};
use crate::run::progress::Progress;
use crate::run::{self, Context, RunFolder};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What a provisioned run measured, and what it could not delete.
pub(super) struct Provisioned {
    /// The run folder.
    pub(super) folder: RunFolder,
    /// Resources still up after the teardown.
    pub(super) leftovers: Vec<Resource>,
}

type Deploying = JoinHandle<Result<Ready, DeployFailure>>;

/// The runtime and S3 clients the measurement uses.
struct Clients {
    runtime: aws_sdk_sagemakerruntime::Client,
    s3: aws_sdk_s3::Client,
    run_id: String,
}

impl Clients {
    /// The runtime and S3 clients of `target`, for the run `run_id`.
    async fn new(
        profile: &Profile,
        target: &SageMakerTarget,
        plan: &Plan,
        run_id: &str,
    ) -> Result<Clients, AppError> {
        let in_flight = plan.max_in_flight() as usize;
        let runtime = sagemaker::client(target, profile.timeout, in_flight).await?;
        let sdk = sagemaker::shared_config(target, profile.timeout, None).await?;
        let s3 = sagemaker::s3_async::s3_client(&sdk, target.endpoint_url.as_deref());
        let run_id = run_id.to_string();
        Ok(Clients {
            runtime,
            s3,
            run_id,
        })
    }
}

/// Where async inputs go: `target.input_location`, else under `provision.s3_prefix` in the
/// run's own folder (`<prefix>/<run id>/inputs/`), which the teardown empties.
fn input_template(target: &SageMakerTarget, provision: &Provision, run_id: &str) -> String {
    target.input_location.clone().unwrap_or_else(|| {
        let prefix = provision.s3_prefix.as_deref().unwrap_or("s3://loadtest");
        format!(
            "{}/inputs/{{bytes}}.bin",
            crate::provision::s3_objects::run_prefix(prefix, run_id)
        )
    })
}

/// Deletes the run's S3 objects (`<s3_prefix>/<run id>/…`: inputs, outputs, failures);
/// prints what it deleted, or the command that deletes what it could not.
async fn delete_run_objects(
    profile: &Profile,
    target: &SageMakerTarget,
    provision: &Provision,
    run_id: &str,
) {
    let Some(prefix) = &provision.s3_prefix else {
        return;
    };
    let Ok(sdk) = sagemaker::shared_config(target, profile.timeout, None).await else {
        return;
    };
    let s3 = sagemaker::s3_async::s3_client(&sdk, target.endpoint_url.as_deref());
    let command = crate::provision::s3_objects::delete_command(prefix, run_id);
    let objects = match crate::provision::s3_objects::list(&s3, prefix, Some(run_id)).await {
        Ok(objects) => objects,
        Err(e) => {
            eprintln!("warning: {e}; delete the run's objects with:\n  {command}");
            return;
        }
    };
    let left = crate::provision::s3_objects::delete(&s3, &objects).await;
    let under = crate::provision::s3_objects::run_prefix(prefix, run_id);
    eprintln!(
        "deleted {} S3 object(s) under {under}/",
        objects.len() - left.len()
    );
    if !left.is_empty() {
        eprintln!(
            "warning: {} S3 object(s) could not be deleted; delete them with:\n  {command}",
            left.len()
        );
    }
}

/// Deploys, measures and deletes each candidate in plan order; always tears down. A second
/// Ctrl-C (`hurry`) stops every wait (measuring, deploying, a delete's answer) but still
/// sends every delete; what may be left is then reported.
pub(super) async fn measure(
    args: &RunArgs,
    profile: &Profile,
    plan: &Plan,
    unfit: Vec<Unfit>,
    prices: &PriceTable,
    (cancel, hurry): (&watch::Receiver<bool>, &watch::Receiver<bool>),
) -> Result<Provisioned, AppError> {
    let (Target::Sagemaker(target), Some(provision)) = (&profile.target, &profile.provision) else {
        unreachable!("checked by the caller");
    };
    let sm = crate::provision::client::client(target, None).await?;
    let run_id = crate::provision::names::run_id(std::time::SystemTime::now());
    eprintln!(
        "run id {run_id}: every resource is tagged loadtest:run={run_id}; \
         `loadtest cleanup --run {run_id}` finds any left behind"
    );
    let provisioner = Provisioner::new(sm, &run_id);
    let mut folder = super::open_folder(args, profile, plan, None)?;
    folder.summary.unfit = unfit;
    let all = measure_all(
        profile,
        target,
        provision,
        plan,
        prices,
        cancel,
        &provisioner,
        &mut folder,
    );
    let measured = tokio::select! {
        m = all => m,
        () = second_ctrl_c(hurry) => Ok(()),
    };
    if *cancel.borrow() {
        eprintln!(
            "Interrupted: deleting what the run created (a second Ctrl-C stops waiting but still sends the deletes)…"
        );
    }
    let leftovers = tokio::select! {
        left = provisioner.teardown() => left,
        () = second_ctrl_c(hurry) => {
            eprintln!("Second Ctrl-C: not waiting any more; sending every delete once…");
            provisioner.teardown_hurried(HURRIED_WAIT).await
        }
    };
    delete_objects_unless_hurried(profile, target, provision, &run_id, hurry).await;
    if measured.is_err() {
        // The run stops with its error; what could not be deleted is said first.
        let commands: Vec<String> = leftovers
            .iter()
            .map(|r| r.delete_command(&target.region))
            .collect();
        super::report_leftovers(&commands);
    }
    measured?;
    Ok(Provisioned { folder, leftovers })
}

/// Deletes the run's S3 objects, unless a second Ctrl-C stops the wait (then says how).
async fn delete_objects_unless_hurried(
    profile: &Profile,
    target: &SageMakerTarget,
    provision: &Provision,
    run_id: &str,
    hurry: &watch::Receiver<bool>,
) {
    tokio::select! {
        () = delete_run_objects(profile, target, provision, run_id) => {}
        () = second_ctrl_c(hurry) => eprintln!(
            "not waiting for the S3 deletes; if any objects are left, delete them with:\n  {}",
            crate::provision::s3_objects::delete_command(
                provision.s3_prefix.as_deref().unwrap_or_default(),
                run_id
            )
        ),
    }
}

/// After a second Ctrl-C, how long the deletes of each kind may take to answer.
const HURRIED_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Resolves on the second Ctrl-C (never, if the channel closes without one).
async fn second_ctrl_c(hurry: &watch::Receiver<bool>) {
    let mut hurry = hurry.clone();
    if hurry.wait_for(|h| *h).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// The loop over candidates; those that could not be deployed go into the record.
#[allow(clippy::too_many_arguments)]
async fn measure_all(
    profile: &Profile,
    target: &SageMakerTarget,
    provision: &Provision,
    plan: &Plan,
    prices: &PriceTable,
    cancel: &watch::Receiver<bool>,
    provisioner: &Provisioner,
    folder: &mut RunFolder,
) -> Result<(), AppError> {
    let model = provisioner
        .ensure_model(&provision.model)
        .await
        .map_err(|e| AppError::Provisioning(e.to_string()))?;
    let clients = Clients::new(profile, target, plan, provisioner.run_id()).await?;
    let deployments = plan.deployments();
    let mut ahead: VecDeque<(Deployment, Deploying)> = VecDeque::new();
    let mut next = 0;
    let mut progress = Progress::new(plan, true);
    let mut stopped: Result<(), AppError> = Ok(());
    while next < deployments.len() || !ahead.is_empty() {
        while ahead.len() < provision.max_parallel as usize
            && next < deployments.len()
            && !*cancel.borrow()
        {
            let d = deployments[next].clone();
            let task = begin_deploy(provisioner, next, &model, &d, provision, cancel);
            ahead.push_back((d, task));
            next += 1;
        }
        let Some((deployment, task)) = ahead.pop_front() else {
            break;
        };
        let ready = match task.await {
            Ok(Ok(ready)) => ready,
            Ok(Err(DeployFailure::Cancelled)) | Err(_) => break,
            Ok(Err(failure)) if failure.is_fatal() => {
                stopped = Err(AppError::Provisioning(failure.to_string()));
                break;
            }
            Ok(Err(failure)) => {
                eprintln!("{deployment}: could not deploy: {failure}");
                let refused = not_deployed(deployment, provision, &failure);
                folder.summary.not_deployed.push(refused);
                continue;
            }
        };
        if *cancel.borrow() {
            break;
        }
        let measured = measure_one(
            profile,
            (target, provision),
            plan,
            prices,
            cancel,
            &clients,
            &deployment,
            &ready,
            folder,
            &mut progress,
        )
        .await;
        provisioner.delete_endpoint(&ready.name).await;
        if measured.is_err() || *cancel.borrow() {
            stopped = measured;
            break;
        }
    }
    progress.finish();
    for (_, task) in ahead {
        // Deployments begun ahead end (in service, failed or cancelled) before the
        // teardown, so it sees everything they created.
        let _ = task.await;
    }
    stopped
}

/// Starts deploying `deployment` (the `index`th of the plan) in a task of its own, so the
/// next ones deploy while the current one is measured.
fn begin_deploy(
    provisioner: &Provisioner,
    index: usize,
    model: &str,
    deployment: &Deployment,
    provision: &Provision,
    cancel: &watch::Receiver<bool>,
) -> Deploying {
    let (p, m, d, prov, c) = (
        provisioner.clone(),
        model.to_owned(),
        deployment.clone(),
        provision.clone(),
        cancel.clone(),
    );
    tokio::spawn(async move { p.deploy(index, &m, &d, &prov, c).await })
}

/// The record of a candidate that could not be deployed: what was asked for, and why.
fn not_deployed(deployment: Deployment, provision: &Provision, why: &DeployFailure) -> NotDeployed {
    let count = if deployment.instance_type().is_some() {
        provision.instance_count
    } else {
        provision.max_concurrency
    };
    let reason = match why {
        DeployFailure::Failed { reason } => format!("endpoint Failed: {reason}"),
        other => other.to_string(),
    };
    NotDeployed {
        deployment,
        count,
        reason,
    }
}

/// Probes the endpoint of one candidate and measures its cells (keeping their indexes).
#[allow(clippy::too_many_arguments)]
async fn measure_one(
    profile: &Profile,
    (target, provision): (&SageMakerTarget, &Provision),
    plan: &Plan,
    prices: &PriceTable,
    cancel: &watch::Receiver<bool>,
    clients: &Clients,
    deployment: &Deployment,
    ready: &Ready,
    folder: &mut RunFolder,
    progress: &mut Progress,
) -> Result<(), AppError> {
    eprintln!(
        "{deployment}: in service as {} after {:.1}s; measuring",
        ready.name,
        ready.took.as_secs_f64()
    );
    let is_async = deployment.hosting == Some(Hosting::Async);
    let mut settings = target.clone();
    if is_async {
        settings.mode = InvokeMode::Async;
    }
    let mut endpoint = SageMakerEndpoint::new(
        clients.runtime.clone(),
        &ready.name,
        &settings,
        &profile.payload.content_type,
        profile.timeout,
    );
    if is_async {
        let inputs = input_template(target, provision, &clients.run_id);
        endpoint = endpoint.with_s3(clients.s3.clone(), &inputs);
    }
    let endpoints: BTreeMap<Deployment, Arc<AnyEndpoint>> = [(
        deployment.clone(),
        Arc::new(AnyEndpoint::SageMaker(endpoint)),
    )]
    .into();
    let sub = Plan {
        cells: plan
            .cells
            .iter()
            .filter(|c| &c.deployment == deployment)
            .cloned()
            .collect(),
        searches: plan
            .searches
            .iter()
            .filter(|s| &s.deployment == deployment)
            .cloned()
            .collect(),
    };
    let first = build::probe(profile, &sub, &endpoints).await?;
    folder.summary.first_requests.extend(first);
    let ctx = Context {
        profile,
        endpoints: &endpoints,
        prices,
        cancel: cancel.clone(),
        clock: None,
    };
    run::run_plan(&sub, &ctx, folder, progress).await?;
    Ok(())
}
