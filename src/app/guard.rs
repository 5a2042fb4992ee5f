//! The `[provision]` side of `loadtest run`: the cost guard (the plan printed before
//! anything is created, then `--yes`, `confirm = true` or a "y" on a terminal), the build
//! without provisioning (exit 2 with the command that builds it), and the leftovers report.

use super::AppError;
use crate::cli::RunArgs;
use crate::domain::Unfit;
use crate::plan::Plan;
use crate::pricing::PriceTable;
use crate::profile::{Profile, Provision};
use crate::provision::cost::CostPlan;
use crate::run::RunFolder;
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use tokio::sync::watch;

/// The cost plan of a provisioned profile.
fn cost_plan(
    profile: &Profile,
    provision: &Provision,
    plan: &Plan,
    prices: &PriceTable,
) -> CostPlan {
    CostPlan::new(plan, provision, prices, &profile.pricing.region)
}

/// `--dry-run` of a provisioned profile: the cost plan after the cells.
pub(super) fn print_cost_plan(
    profile: &Profile,
    plan: &Plan,
    prices: &PriceTable,
) -> Result<(), AppError> {
    let Some(provision) = &profile.provision else {
        return Ok(());
    };
    let mut out = std::io::stdout().lock();
    super::ignore_broken_pipe(cost_plan(profile, provision, plan, prices).write(&mut out))
}

/// Before anything is created: this build can provision, the plan is printed, and it is
/// accepted (`--yes`, `confirm = true`, or "y" typed on a terminal); otherwise exit 2.
pub(super) fn cost_guard(
    args: &RunArgs,
    profile: &Profile,
    plan: &Plan,
    prices: &PriceTable,
) -> Result<(), AppError> {
    let Some(provision) = &profile.provision else {
        return Ok(());
    };
    if !crate::provision::ENABLED {
        return Err(AppError::NotBuilt {
            path: args.profile.clone(),
        });
    }
    print_cost_plan(profile, plan, prices)?;
    if args.yes || provision.confirm {
        return Ok(());
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() || !std::io::stderr().is_terminal() {
        return Err(AppError::NotConfirmed);
    }
    eprint!("Create these endpoints? [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    let _ = stdin.lock().read_line(&mut answer);
    if matches!(answer.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        Err(AppError::NotConfirmed)
    }
}

/// A `kind = "sagemaker"` async target needs the S3 SDK to see completions: without the
/// `provision` feature the run stops (exit 2) before anything is sent, and `validate` of the
/// profile at `path` refuses it the same way.
pub(super) fn async_needs_s3(path: &Path, profile: &Profile) -> Result<(), AppError> {
    let crate::profile::Target::Sagemaker(target) = &profile.target else {
        return Ok(());
    };
    let is_async = target.mode == crate::profile::InvokeMode::Async;
    if is_async && !crate::provision::ENABLED {
        return Err(AppError::AsyncNotBuilt {
            path: path.to_path_buf(),
        });
    }
    Ok(())
}

/// Deploys, measures and tears down each candidate; returns the run folder and the delete
/// commands of whatever is still up.
#[cfg(feature = "provision")]
pub(super) async fn measure(
    args: &RunArgs,
    profile: &Profile,
    plan: &Plan,
    unfit: Vec<Unfit>,
    prices: &PriceTable,
    interrupts: (&watch::Receiver<bool>, &watch::Receiver<bool>),
) -> Result<(RunFolder, Vec<String>), AppError> {
    let done = super::provisioned::measure(args, profile, plan, unfit, prices, interrupts).await?;
    for n in &done.folder.summary.not_deployed {
        eprintln!(
            "note: {} could not deploy: {}; listed in the recommendation, not measured",
            n.deployment, n.reason
        );
    }
    let region = match &profile.target {
        crate::profile::Target::Sagemaker(t) => t.region.clone(),
        _ => String::new(),
    };
    let commands = done
        .leftovers
        .iter()
        .map(|r| r.delete_command(&region))
        .collect();
    Ok((done.folder, commands))
}

/// Without the `provision` feature: the command that builds it (exit 2).
#[cfg(not(feature = "provision"))]
pub(super) async fn measure(
    args: &RunArgs,
    _profile: &Profile,
    _plan: &Plan,
    _unfit: Vec<Unfit>,
    _prices: &PriceTable,
    _interrupts: (&watch::Receiver<bool>, &watch::Receiver<bool>),
) -> Result<(RunFolder, Vec<String>), AppError> {
    Err(AppError::NotBuilt {
        path: args.profile.clone(),
    })
}
