//! `loadtest run`: measure every cell of the plan, write the run folder, then judge the run
//! (interrupted, accounting, baseline, SLA) into an exit code.

use super::{AppError, Checked, check_plan, exit, ignore_broken_pipe, print_plan};
use crate::cli::RunArgs;
use crate::domain::Unfit;
use crate::endpoint::build;
use crate::plan::Plan;
use crate::pricing::PriceTable;
use crate::profile::{self, Profile, ProfileError};
use crate::recommend::Recommendation;
use crate::report::{Format, table};
use crate::results::CellSummary;
use crate::run::progress::Progress;
use crate::run::{self, Context, RunFolder};
use crate::store::files;
use crate::store::record::RunRecord;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::SystemTime;
use tokio::sync::watch;

/// `loadtest run`: runs every cell, writing results as each one ends.
pub async fn run(args: &RunArgs) -> Result<ExitCode, AppError> {
    let mut profile = profile::load(&args.profile)?;
    if args.adaptive {
        make_adaptive(&mut profile, &args.profile)?;
    }
    let Checked {
        plan,
        unfit,
        prices,
    } = check_plan(&profile)?;
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
    let mut folder = measure(args, &profile, &plan, unfit, &prices, &cancel).await?;
    let recommendation = write_reports(args, &profile, &prices, &mut folder)?;
    print_results(&profile, &plan, &folder, recommendation.as_ref())?;
    if let Some(code) = stopped_short(&folder, &cancel) {
        return Ok(ExitCode::from(code));
    }
    let code = judge(args, &profile, &folder.dir, recommendation.as_ref())?;
    Ok(ExitCode::from(
        code.max(all_failed_exit(&folder.summary.cells)),
    ))
}

/// A run whose every cell failed every request measured nothing: exit 1, `[sla]` or not.
fn all_failed_exit(cells: &[CellSummary]) -> u8 {
    if cells.is_empty() || !cells.iter().all(CellSummary::all_failed) {
        return exit::OK;
    }
    eprintln!("Every request of every cell failed; see the errors under the table.");
    exit::FAILED_CHECK
}

/// Starts the emulator when the profile asks for it, reaches the targets, and measures the
/// plan into a new run folder; the emulator stops once the plan has run, whatever the outcome.
async fn measure(
    args: &RunArgs,
    profile: &Profile,
    plan: &Plan,
    unfit: Vec<Unfit>,
    prices: &PriceTable,
    cancel: &watch::Receiver<bool>,
) -> Result<RunFolder, AppError> {
    let deployed = crate::endpoint::emulated::start(profile, plan, args.time_scale).await?;
    let routes = deployed.as_ref().map(|d| d.routes.clone());
    let endpoints = build::build(profile, plan, routes).await?;
    let first_requests = build::probe(profile, plan, &endpoints).await?;
    let mut folder = open_run_folder(args, profile, plan)?;
    folder.summary.first_requests = first_requests;
    folder.summary.unfit = unfit;
    let mut progress = Progress::new(plan, args.quiet);
    let ctx = Context {
        profile,
        endpoints: &endpoints,
        prices,
        cancel: cancel.clone(),
    };
    let outcome = run::run_plan(plan, &ctx, &mut folder, &mut progress).await;
    progress.finish();
    if let Some(running) = deployed {
        running.stop().await;
    }
    outcome?;
    Ok(folder)
}

/// Recommends from the measured cells, then writes the recommendation and the reports into
/// the run folder.
fn write_reports(
    args: &RunArgs,
    profile: &Profile,
    prices: &PriceTable,
    folder: &mut RunFolder,
) -> Result<Option<Recommendation>, AppError> {
    let recommendation = run::advise(profile, prices, &folder.summary);
    if let Some(scale) = emulated_time_scale(profile, args) {
        eprintln!(
            "note: the emulator ran with time_scale {scale}: latencies, throughput and the costs \
             derived from them are those of a model {scale} times as slow as the one configured"
        );
    }
    if let Some(rec) = &recommendation {
        folder.summary.recommendation = Some(rec.clone());
        folder.write()?;
        write_recommendation(&folder.dir, rec)?;
    }
    let formats =
        crate::report::Formats::only(&[Format::Hgrm, Format::Md, Format::Html, Format::Junit]);
    crate::report::write_all(&folder.dir, &folder.summary, &formats).map_err(AppError::Report)?;
    Ok(recommendation)
}

/// Prints the results table, the recommendation, the load applied and the run folder.
fn print_results(
    profile: &Profile,
    plan: &Plan,
    folder: &RunFolder,
    recommendation: Option<&Recommendation>,
) -> Result<(), AppError> {
    let summary = &folder.summary;
    let mut stdout = std::io::stdout().lock();
    let printed = table::write(&summary.cells, &mut stdout).and_then(|()| match recommendation {
        Some(rec) => writeln!(stdout)
            .and_then(|()| crate::report::recommendation::write_text(rec, &mut stdout)),
        None => Ok(()),
    });
    let load = load_line(profile, plan, summary);
    ignore_broken_pipe(
        printed.and_then(|()| writeln!(stdout, "\n{load}\nResults: {}", folder.dir.display())),
    )
}

/// The exit code of a run that did not measure everything it should have: interrupted, or
/// with cells whose accounting does not balance.
fn stopped_short(folder: &RunFolder, cancel: &watch::Receiver<bool>) -> Option<u8> {
    let summary = &folder.summary;
    if summary.interrupted || *cancel.borrow() {
        eprintln!(
            "Interrupted: {} cells measured and saved in {}.",
            summary.cells.len(),
            folder.dir.display()
        );
        return Some(exit::INTERRUPTED);
    }
    let accounting = accounting_exit(&summary.cells);
    (accounting != exit::OK).then_some(accounting)
}

/// Checks the run against `--baseline` and the SLA, saves it with `--save-baseline` unless it
/// regressed, and returns the exit code.
fn judge(
    args: &RunArgs,
    profile: &Profile,
    run_dir: &Path,
    recommendation: Option<&Recommendation>,
) -> Result<u8, AppError> {
    let regressed = match &args.baseline {
        Some(baseline) => {
            crate::compare::compare_runs(baseline, run_dir, &[], None).map_err(AppError::Compare)?
        }
        None => false,
    };
    let sla_missed = recommendation.is_some_and(|r| r.choice.is_none());
    if sla_missed {
        eprintln!("No candidate meets the SLA; see the nearest miss above.");
    }
    if args.save_baseline && !regressed {
        let out_root = args
            .out
            .clone()
            .unwrap_or_else(|| profile.report_dir.clone());
        let saved = crate::compare::save_baseline(run_dir, &out_root, &profile.name)
            .map_err(AppError::Compare)?;
        eprintln!("Saved as the baseline: {}", saved.display());
    } else if args.save_baseline {
        eprintln!(
            "Not saved as the baseline: this run regressed against {}.",
            args.baseline.as_deref().unwrap_or(Path::new("-")).display()
        );
    }
    Ok(if regressed || sla_missed {
        exit::FAILED_CHECK
    } else {
        exit::OK
    })
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
    let summary = RunRecord::start(
        profile,
        &args.profile.display().to_string(),
        plan,
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

/// How much load the run applied; for an adaptive sweep, against the whole grid.
fn load_line(profile: &Profile, plan: &Plan, summary: &RunRecord) -> String {
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
