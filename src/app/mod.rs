//! One function per subcommand, wiring the stages: profile → plan → targets → engine →
//! results → report. Returns the exit code of DESIGN.md §8.

use crate::cli::{RunArgs, ValidateArgs};
use crate::endpoint::EndpointError;
use crate::endpoint::build;
use crate::endpoint::emulated::Unfit;
use crate::payload::PayloadError;
use crate::plan::{Plan, Variant};
use crate::profile::{self, Profile, ProfileError};
use crate::report::{Format, table};
use crate::results::CellSummary;
use crate::run::progress::Progress;
use crate::run::{self, Context, RunFolder};
use crate::store::files;
use crate::store::record::Summary;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;
use tokio::sync::watch;

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
    Targets(#[from] crate::endpoint::build::TargetsError),
    /// The run could not go on.
    #[error(transparent)]
    Run(#[from] crate::run::RunError),
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
            AppError::Run(crate::run::RunError::Payload(_)) => exit::USAGE,
            AppError::Targets(crate::endpoint::build::TargetsError::Payload(_)) => exit::USAGE,
            AppError::Report(e) if e.is_usage() => exit::USAGE,
            AppError::Compare(_) => exit::USAGE,
            AppError::Emulator(crate::emulator::EmulatorError::Deploy(_)) => exit::USAGE,
            _ => exit::TARGET,
        }
    }
}

/// `loadtest validate`: checks the profile and prints its plan.
pub fn validate(args: &ValidateArgs) -> Result<ExitCode, AppError> {
    let profile = profile::load(&args.profile)?;
    let plan = Plan::from_profile(&profile)?;
    let unfit = crate::endpoint::emulated::check(&profile, &plan)?;
    let plan = skip_unfit(plan, &unfit);
    crate::recommend::advise::prices_for(&profile, &plan).map_err(AppError::Pricing)?;
    let mut out = std::io::stdout().lock();
    ignore_broken_pipe(print_plan(
        &mut out,
        &args.profile,
        &plan,
        profile.sweep.strategy,
    ))?;
    Ok(ExitCode::from(exit::OK))
}

/// `loadtest run`: runs every cell, writing results as each one ends.
pub async fn run(args: &RunArgs) -> Result<ExitCode, AppError> {
    let mut profile = profile::load(&args.profile)?;
    if args.adaptive {
        make_adaptive(&mut profile, &args.profile)?;
    }
    let plan = Plan::from_profile(&profile)?;
    let unfit = crate::endpoint::emulated::check(&profile, &plan)?;
    let plan = skip_unfit(plan, &unfit);
    let prices =
        crate::recommend::advise::prices_for(&profile, &plan).map_err(AppError::Pricing)?;
    if args.dry_run {
        ignore_broken_pipe(print_plan(
            &mut std::io::stdout().lock(),
            &args.profile,
            &plan,
            profile.sweep.strategy,
        ))?;
        return Ok(ExitCode::from(exit::OK));
    }
    let cancel = cancel_on_ctrl_c();
    let deployed = crate::endpoint::emulated::start(&profile, &plan, args.time_scale).await?;
    let routes = deployed.as_ref().map(|d| d.routes.clone());
    let targets = build::build(&profile, &plan, routes).await?;
    let first_requests = build::probe(&profile, &plan, &targets).await?;
    let mut folder = open_run_folder(args, &profile, &plan)?;
    folder.summary.first_requests = first_requests;
    folder.summary.unfit = unfit;
    let mut progress = Progress::new(&plan, args.quiet);
    let ctx = Context {
        profile: &profile,
        targets: &targets,
        prices: &prices,
        cancel: cancel.clone(),
    };
    let outcome = run::run_plan(&plan, &ctx, &mut folder, &mut progress).await;
    progress.finish();
    if let Some(running) = deployed {
        running.stop().await;
    }
    outcome?;
    let recommendation = crate::recommend::advise::advise(&profile, &prices, &folder.summary);
    if let Some(scale) = emulated_time_scale(&profile, args) {
        eprintln!(
            "note: the emulator ran with time_scale {scale}: latencies, throughput and the costs \
             derived from them are those of a model {scale} times as slow as the one configured"
        );
    }
    if let Some(rec) = &recommendation {
        folder.summary.recommendation = serde_json::to_value(rec).ok();
        folder.write()?;
        write_recommendation(&folder.dir, rec)?;
    }
    let formats =
        crate::report::Formats::only(&[Format::Hgrm, Format::Md, Format::Html, Format::Junit]);
    crate::report::write_all(&folder.dir, &folder.summary, &formats).map_err(AppError::Report)?;
    let summary = &folder.summary;
    let mut stdout = std::io::stdout().lock();
    let printed = table::write(&summary.cells, &mut stdout).and_then(|()| match &recommendation {
        Some(rec) => writeln!(stdout)
            .and_then(|()| crate::report::recommendation::write_text(rec, &mut stdout)),
        None => Ok(()),
    });
    let load = load_line(&profile, &plan, summary);
    ignore_broken_pipe(
        printed.and_then(|()| writeln!(stdout, "\n{load}\nResults: {}", folder.dir.display())),
    )?;
    if summary.interrupted || *cancel.borrow() {
        eprintln!(
            "Interrupted: {} cells measured and saved in {}.",
            summary.cells.len(),
            folder.dir.display()
        );
        return Ok(ExitCode::from(exit::INTERRUPTED));
    }
    let accounting = accounting_exit(&summary.cells);
    if accounting != exit::OK {
        return Ok(ExitCode::from(accounting));
    }
    drop(stdout);
    let regressed = match &args.baseline {
        Some(baseline) => crate::compare::compare_runs(baseline, &folder.dir, &[], None)
            .map_err(AppError::Compare)?,
        None => false,
    };
    let sla_missed = recommendation.as_ref().is_some_and(|r| r.choice.is_none());
    if sla_missed {
        eprintln!("No candidate meets the SLA; see the nearest miss above.");
    }
    if args.save_baseline && !regressed {
        let out_root = args
            .out
            .clone()
            .unwrap_or_else(|| profile.report_dir.clone());
        let saved = crate::compare::save_baseline(&folder.dir, &out_root, &profile.name)
            .map_err(AppError::Compare)?;
        eprintln!("Saved as the baseline: {}", saved.display());
    } else if args.save_baseline {
        eprintln!(
            "Not saved as the baseline: this run regressed against {}.",
            args.baseline.as_deref().unwrap_or(Path::new("-")).display()
        );
    }
    Ok(ExitCode::from(if regressed || sla_missed {
        exit::FAILED_CHECK
    } else {
        exit::OK
    }))
}

/// Writes recommendation.md into the run folder.
fn write_recommendation(
    dir: &Path,
    rec: &crate::recommend::Recommendation,
) -> Result<(), AppError> {
    let path = dir.join("recommendation.md");
    files::write_atomic(&path, |w| {
        crate::report::recommendation::write_markdown(rec, w)
    })
    .map_err(|source| AppError::Write { path, source })
}

/// The emulator's time scale when it is not 1 (figures then describe a scaled model).
fn emulated_time_scale(profile: &Profile, args: &RunArgs) -> Option<f64> {
    let crate::profile::Target::Emulator(emu) = &profile.target else {
        return None;
    };
    let scale = args.time_scale.unwrap_or(emu.model.time_scale);
    (scale != 1.0).then_some(scale)
}

/// A channel that turns true on Ctrl-C.
fn cancel_on_ctrl_c() -> watch::Receiver<bool> {
    let (cancel_tx, cancel) = watch::channel(false);
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = cancel_tx.send(true);
            // Keep the sender alive so receivers see `true`, not a closed channel.
            std::future::pending::<()>().await;
        }
    });
    cancel
}

/// Creates `<report dir>/<name>-<UTC>/` and writes an empty summary into it.
fn open_run_folder(args: &RunArgs, profile: &Profile, plan: &Plan) -> Result<RunFolder, AppError> {
    let out_root = args
        .out
        .clone()
        .unwrap_or_else(|| profile.report_dir.clone());
    let started = SystemTime::now();
    let dir = files::create_run_dir(&out_root, &profile.name, started).map_err(|source| {
        AppError::Write {
            path: out_root.clone(),
            source,
        }
    })?;
    let summary = Summary::start(
        profile,
        &args.profile.display().to_string(),
        plan.cells.len(),
        files::rfc3339(started),
    );
    let mut folder = RunFolder { dir, summary };
    folder.write()?;
    Ok(folder)
}

/// A cell whose accounting does not balance means lost measurements: report it as aborted.
fn accounting_exit(cells: &[CellSummary]) -> u8 {
    let broken: Vec<usize> = cells
        .iter()
        .filter(|c| !c.accounting_ok)
        .map(|c| c.index)
        .collect();
    if broken.is_empty() {
        return exit::OK;
    }
    eprintln!(
        "error: accounting does not balance (sent ≠ ok + errors + cancelled) in cells {broken:?}"
    );
    exit::TARGET
}

/// `loadtest emulate`: serves emulated endpoints until Ctrl-C.
pub async fn emulate(args: &crate::cli::EmulateArgs) -> Result<ExitCode, AppError> {
    use crate::emulator::EmulatorFile;
    let mut endpoints = match &args.config {
        Some(path) => EmulatorFile::load(path)?,
        None => EmulatorFile::default_endpoints(),
    };
    if let Some(scale) = args.time_scale {
        for spec in &mut endpoints {
            spec.model = spec.model.clone().with_time_scale(scale);
        }
    }
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    crate::emulator::run_standalone(args.listen, endpoints, shutdown).await?;
    Ok(ExitCode::from(exit::OK))
}

/// `loadtest report`: rebuilds a run folder's reports from its summary.json.
pub fn report(args: &crate::cli::ReportArgs) -> Result<ExitCode, AppError> {
    let formats = crate::report::Formats::parse(&args.format).map_err(AppError::Report)?;
    crate::report::rebuild(&args.run_dir, &formats).map_err(AppError::Report)?;
    Ok(ExitCode::from(exit::OK))
}

/// `loadtest prices`: prints the price table and its date.
pub fn prices(args: &crate::cli::PricesArgs) -> Result<ExitCode, AppError> {
    crate::pricing::cli_prices(args.file.as_deref(), args.region.as_deref())
        .map_err(AppError::Pricing)?;
    Ok(ExitCode::from(exit::OK))
}

/// Drops the variants the model does not fit from the plan, saying so.
fn skip_unfit(plan: Plan, unfit: &[Unfit]) -> Plan {
    for u in unfit {
        eprintln!(
            "note: {} {} is skipped: the model needs {} MB and it has {} MB; \
             the recommendation lists it as too small",
            u.hosting, u.instance_type, u.model_mb, u.available_mb
        );
    }
    let skipped: Vec<Variant> = unfit
        .iter()
        .map(|u| Variant {
            hosting: Some(u.hosting),
            instance: Some(u.instance_type.clone()),
        })
        .collect();
    plan.without(&skipped)
}

/// How much load the run applied; for an adaptive sweep, against the whole grid.
fn load_line(profile: &Profile, plan: &Plan, summary: &Summary) -> String {
    let warmup = profile.sweep.warmup;
    let applied: f64 = summary.cells.iter().map(|c| c.load_seconds(warmup)).sum();
    let cells = summary.cells.len();
    let mut line = format!("Load: {applied:.1} load-seconds in {cells} cells");
    if profile.sweep.strategy == profile::Strategy::Adaptive && !plan.cells.is_empty() {
        let grid = plan.load_seconds();
        line.push_str(&format!(
            " (adaptive; the whole grid: {grid:.1} load-seconds in {} cells, so {:.0}% of it)",
            plan.cells.len(),
            100.0 * applied / grid
        ));
    }
    line
}

/// `--adaptive`: switches the sweep to the adaptive strategy, when it can apply.
fn make_adaptive(profile: &mut Profile, path: &Path) -> Result<(), ProfileError> {
    if let Some((message, fix)) = profile::validate::adaptive_blocker(&profile.sweep, profile.sla) {
        return Err(ProfileError::Invalid {
            path: path.to_path_buf(),
            problems: vec![profile::Problem {
                line_col: None,
                key: "--adaptive".into(),
                message: message.into(),
                fix: Some(fix.into()),
            }],
        });
    }
    profile.sweep.strategy = profile::Strategy::Adaptive;
    Ok(())
}

/// Prints the cells of a plan, one line each.
fn print_plan(
    out: &mut dyn Write,
    path: &Path,
    plan: &Plan,
    strategy: profile::Strategy,
) -> std::io::Result<()> {
    let adaptive = if strategy == profile::Strategy::Adaptive {
        " at most (adaptive: each candidate's top load first, then only what the answer needs)"
    } else {
        ""
    };
    writeln!(
        out,
        "{} is valid: {} cells, about {} of load{adaptive}.",
        path.display(),
        plan.cells.len(),
        humantime::format_duration(plan.estimated_duration())
    )?;
    for cell in &plan.cells {
        writeln!(
            out,
            "  {:>3}  {:<10} {:<16} {:>8}  {}",
            cell.index,
            cell.variant.hosting_label(),
            cell.variant.instance_label(),
            crate::domain::units::format_size(cell.payload_bytes),
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

/// `loadtest compare`: judges a run against a baseline; exit 1 on a regression.
pub fn compare(args: &crate::cli::CompareArgs) -> Result<ExitCode, AppError> {
    let regressed = crate::compare::compare_runs(
        &args.baseline,
        &args.current,
        &args.thresholds,
        args.out.as_deref(),
    )
    .map_err(AppError::Compare)?;
    Ok(ExitCode::from(if regressed {
        exit::FAILED_CHECK
    } else {
        exit::OK
    }))
}
