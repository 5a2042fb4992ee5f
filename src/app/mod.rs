//! One function per subcommand, wiring the stages: profile → plan → endpoints → engine →
//! results → report. Returns the exit code of DESIGN.md §8.
//!
//! Each subcommand has its own file; this one holds what they share: the exit codes, the
//! error type, the checked plan and its printout.

mod cleanup;
mod compare;
mod emulate;
mod guard;
mod merge;
mod prices;
#[cfg(feature = "provision")]
mod provisioned;
mod report;
mod run;
mod shard;
mod validate;

pub use cleanup::cleanup;
pub use compare::compare;
pub use emulate::emulate;
pub use merge::merge;
pub use prices::prices;
pub use report::report;
pub use run::run;
pub use validate::validate;

use crate::domain::{Deployment, Unfit};
use crate::endpoint::EndpointError;
use crate::payload::PayloadError;
use crate::plan::Plan;
use crate::pricing::PriceTable;
use crate::profile::{self, Profile, ProfileError};
use crate::run::RunFolder;
use crate::store::files;
use crate::store::record::RunRecord;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Exit codes of DESIGN.md §8.
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// Ran, but the SLA or a regression check failed.
    pub const FAILED_CHECK: u8 = 1;
    /// Usage or profile error.
    pub const USAGE: u8 = 2;
    /// Target unreachable or run aborted.
    pub const TARGET: u8 = 3;
    /// Stopped by Ctrl-C (128 + SIGINT).
    pub const INTERRUPTED: u8 = 130;
}

/// Why a command could not finish.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The profile is unreadable or invalid.
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// Request bodies could not be built.
    #[error(transparent)]
    Payload(#[from] PayloadError),
    /// The target cannot be used.
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
    /// The emulator could not start its endpoints.
    #[error(transparent)]
    Emulator(#[from] crate::emulator::EmulatorError),
    /// Two runs could not be compared.
    #[error(transparent)]
    Compare(crate::compare::CompareError),
    /// Reports could not be made.
    #[error(transparent)]
    Report(crate::report::ReportError),
    /// The price table could not be read.
    #[error(transparent)]
    Pricing(crate::pricing::PricingError),
    /// Targets could not be set up or reached.
    #[error(transparent)]
    Targets(#[from] crate::endpoint::build::BuildError),
    /// The run could not go on.
    #[error(transparent)]
    Run(#[from] crate::run::RunError),
    /// The output folder cannot be created or written (checked before any load).
    #[error(
        "cannot write run folders into {path}: {source}; set `[report] dir` or `--out` to a folder you can write"
    )]
    OutputDir {
        /// The output folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The command line asks for something that cannot be done; the message says why.
    #[error("{0}")]
    Usage(String),
    /// Run folders are not the shards of one run.
    #[error(transparent)]
    Shards(crate::store::merge::ShardsError),
    /// A run record could not be read.
    #[error(transparent)]
    Record(#[from] crate::store::record::RecordError),
    /// A `[provision]` profile on a build without provisioning.
    #[error(
        "{} has a [provision] section, and this build of loadtest cannot provision; build and run it with:\n  {} {}",
        path.display(),
        crate::provision::BUILD_COMMAND,
        path.display()
    )]
    NotBuilt {
        /// The profile.
        path: PathBuf,
    },
    /// An async SageMaker target on a build without the S3 SDK: completions could not be seen.
    #[error(
        "{}: `target.mode = \"async\"` on a sagemaker target sees each completion as an object in S3, and this build of loadtest has no S3 client; nothing was sent. Build and run it with:\n  {} {}",
        path.display(),
        crate::provision::BUILD_COMMAND,
        path.display()
    )]
    AsyncNotBuilt {
        /// The profile.
        path: PathBuf,
    },
    /// The cost plan was not accepted; nothing was created.
    #[error(
        "nothing was created: the plan above needs your consent; rerun with --yes, or set `confirm = true` in [provision]"
    )]
    NotConfirmed,
    /// Provisioning stopped the run (permissions, an unreachable control plane, …); what
    /// was created has been deleted.
    #[error("{0}")]
    Provisioning(String),
    /// Results could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl AppError {
    /// The exit code this error maps to.
    pub fn exit_code(&self) -> u8 {
        match self {
            AppError::Profile(_) | AppError::Payload(_) | AppError::Pricing(_) => exit::USAGE,
            AppError::OutputDir { .. } | AppError::Usage(_) | AppError::Record(_) => exit::USAGE,
            AppError::Shards(_) | AppError::NotBuilt { .. } | AppError::NotConfirmed => exit::USAGE,
            AppError::AsyncNotBuilt { .. } => exit::USAGE,
            AppError::Run(crate::run::RunError::Payload(_)) => exit::USAGE,
            AppError::Targets(crate::endpoint::build::BuildError::Payload(_)) => exit::USAGE,
            AppError::Report(e) if e.is_usage() => exit::USAGE,
            AppError::Compare(_) => exit::USAGE,
            AppError::Emulator(crate::emulator::EmulatorError::Deploy(_)) => exit::USAGE,
            _ => exit::TARGET,
        }
    }
}

/// A profile's plan, without the variants the model does not fit, and its prices.
struct Checked {
    /// The cells to measure.
    plan: Plan,
    /// The variants dropped from the plan.
    unfit: Vec<Unfit>,
    /// The price table, checked to cover the plan when there is an SLA.
    prices: PriceTable,
}

/// Expands the profile into its plan, drops what the model does not fit and loads the prices.
fn check_plan(profile: &Profile) -> Result<Checked, AppError> {
    for warning in profile.warnings() {
        eprintln!("warning: {warning}");
    }
    let plan = Plan::from_profile(profile)?;
    let unfit = crate::endpoint::emulated::check(profile, &plan)?;
    let plan = skip_unfit(plan, &unfit);
    let prices = crate::recommend::advise::prices_for(profile, &plan).map_err(AppError::Pricing)?;
    Ok(Checked {
        plan,
        unfit,
        prices,
    })
}

/// Drops the variants the model does not fit from the plan, saying so.
fn skip_unfit(plan: Plan, unfit: &[Unfit]) -> Plan {
    for u in unfit {
        eprintln!(
            "note: {} is skipped: the model needs {} MB and it has {} MB; \
             the recommendation lists it as too small",
            u.deployment, u.model_mb, u.available_mb
        );
    }
    let skipped: Vec<Deployment> = unfit.iter().map(|u| u.deployment.clone()).collect();
    plan.without(&skipped)
}

/// Start-up time the plan estimate leaves out: on the emulator, each serverless variant's
/// cold start, which the first request meets.
fn startup_estimate(profile: &Profile, plan: &Plan) -> std::time::Duration {
    let profile::Target::Emulator(emu) = &profile.target else {
        return std::time::Duration::ZERO;
    };
    let serverless = plan
        .deployments()
        .iter()
        .filter(|d| d.hosting == Some(crate::domain::Hosting::Serverless))
        .count() as u32;
    emu.model.cold_start.mul_f64(emu.model.time_scale.max(0.0)) * serverless
}

/// Prints the cells of a plan, one line each, and the wall time it will take.
fn print_plan(
    out: &mut dyn Write,
    path: &Path,
    profile: &Profile,
    plan: &Plan,
) -> std::io::Result<()> {
    let strategy = profile.sweep.strategy;
    let adaptive = if strategy == profile::Strategy::Adaptive {
        " at most (adaptive: each candidate's top load first, then only what the answer needs)"
    } else {
        ""
    };
    let startup = startup_estimate(profile, plan);
    let wall = plan.estimated_duration() + startup;
    let whole_seconds = |d: std::time::Duration| {
        humantime::format_duration(std::time::Duration::from_secs(
            d.as_secs_f64().round() as u64
        ))
    };
    writeln!(
        out,
        "{} is valid: {} cells, {:.1} load-seconds; the run takes about {}{adaptive} \
         (warmups, measurements, drains{}).",
        path.display(),
        plan.cells.len(),
        plan.load_seconds(),
        whole_seconds(wall),
        if startup.is_zero() {
            String::new()
        } else {
            format!(" and {} of emulated cold starts", whole_seconds(startup))
        }
    )?;
    for cell in &plan.cells {
        writeln!(
            out,
            "  {:>3}  {:<10} {:<16} {:>8}  {}",
            cell.index,
            cell.deployment.hosting_label(),
            cell.deployment.variant_label(),
            cell.payload_label(),
            cell.load
        )?;
    }
    Ok(())
}

/// A closed stdout (`loadtest ... | head`) is not an error; anything else is.
fn ignore_broken_pipe(result: std::io::Result<()>) -> Result<(), AppError> {
    match result {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(AppError::Write {
            path: PathBuf::from("<stdout>"),
            source: e,
        }),
        _ => Ok(()),
    }
}

/// The folder that receives run folders: `--out`, else `[report] dir`.
fn out_root(args: &crate::cli::RunArgs, profile: &Profile) -> PathBuf {
    args.out
        .clone()
        .unwrap_or_else(|| profile.report_dir.clone())
}

/// Creates `<report dir>/<name>-<UTC>/` and writes an empty summary into it.
/// A shard's folder is `<name>-shard<I>of<N>-<start>/`, so shards sharing a volume do not
/// collide.
fn open_folder(
    args: &crate::cli::RunArgs,
    profile: &Profile,
    plan: &Plan,
    clock: Option<&crate::run::clock::Clock>,
) -> Result<RunFolder, AppError> {
    let out_root = out_root(args, profile);
    let started = SystemTime::now();
    let (name, stamp) = match clock {
        Some(c) => (
            format!(
                "{}-shard{}of{}",
                profile.name, c.generator.index, c.generator.count
            ),
            c.start_at,
        ),
        None => (profile.name.clone(), started),
    };
    let dir = files::create_run_dir(&out_root, &name, stamp).map_err(|source| AppError::Write {
        path: out_root.clone(),
        source,
    })?;
    let summary = RunRecord::start(
        profile,
        &args.profile.display().to_string(),
        plan,
        files::rfc3339(started),
    );
    let mut folder = RunFolder { dir, summary };
    folder.summary.scale_out = clock.map(|c| shard::identity(c, profile));
    folder.write()?;
    Ok(folder)
}

/// Prints what could not be deleted, with the command that deletes each.
fn report_leftovers(commands: &[String]) {
    if commands.is_empty() {
        return;
    }
    eprintln!(
        "error: {} resource(s) could not be deleted and may be billing; delete them with:",
        commands.len()
    );
    for c in commands {
        eprintln!("  {c}");
    }
}
