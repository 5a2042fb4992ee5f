//! `loadtest run`: measure every cell of the plan, write the run folder, then judge the run
//! (interrupted, accounting, baseline, SLA) into one [`RunVerdict`], which both junit.xml and
//! the exit code come from.

use super::{AppError, Checked, check_plan, exit, ignore_broken_pipe, out_root, print_plan};
use crate::cli::RunArgs;
use crate::domain::Unfit;
use crate::endpoint::build;
use crate::plan::Plan;
use crate::pricing::PriceTable;
use crate::profile::{self, Profile, ProfileError};
use crate::recommend::Recommendation;
use crate::report::verdict::{Baseline, Outcome, RunVerdict};
use crate::report::{Format, table};
use crate::run::clock::Clock;
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
    let clock = super::shard::clock(args, &profile, &plan)?;
    if args.dry_run {
        ignore_broken_pipe(print_plan(
            &mut std::io::stdout().lock(),
            &args.profile,
            &profile,
            &plan,
        ))?;
        super::guard::print_cost_plan(&profile, &plan, &prices)?;
        return Ok(ExitCode::from(exit::OK));
    }
    super::guard::cost_guard(args, &profile, &plan, &prices)?;
    super::guard::async_needs_s3(&args.profile, &profile)?;
    check_out_root(&out_root(args, &profile))?;
    let (cancel, hurry) = cancel_on_ctrl_c();
    let (mut folder, leftovers) = if profile.provision.is_some() {
        let interrupts = (&cancel, &hurry);
        super::guard::measure(args, &profile, &plan, unfit, &prices, interrupts).await?
    } else {
        (
            measure(args, &profile, &plan, unfit, &prices, clock, &cancel).await?,
            Vec::new(),
        )
    };
    folder.summary.interrupted |= *cancel.borrow();
    let recommendation = recommend_into(args, &profile, &prices, &mut folder)?;
    let baseline = check_baseline(args, &folder)?;
    let verdict = RunVerdict::of(&folder.summary, baseline);
    write_reports(&folder, &verdict)?;
    print_results(&profile, &plan, &folder, recommendation.as_ref())?;
    let code = conclude(args, &profile, &folder, &verdict)?;
    super::report_leftovers(&leftovers);
    if !leftovers.is_empty() {
        return Ok(ExitCode::from(exit::TARGET));
    }
    Ok(ExitCode::from(code))
}

/// Starts the emulator when the profile asks for it, reaches the targets, and measures the
/// plan into a new run folder; the emulator stops once the plan has run, whatever the outcome.
async fn measure(
    args: &RunArgs,
    profile: &Profile,
    plan: &Plan,
    unfit: Vec<Unfit>,
    prices: &PriceTable,
    clock: Option<Clock>,
    cancel: &watch::Receiver<bool>,
) -> Result<RunFolder, AppError> {
    let deployed = crate::endpoint::emulated::start(profile, plan, args.time_scale).await?;
    let routes = deployed.as_ref().map(|d| d.routes.clone());
    let endpoints = build::build(profile, plan, routes).await?;
    let first_requests = build::probe(profile, plan, &endpoints).await?;
    let mut folder = super::open_folder(args, profile, plan, clock.as_ref())?;
    folder.summary.first_requests = first_requests;
    folder.summary.unfit = unfit;
    let mut progress = Progress::new(plan, args.quiet);
    let ctx = Context {
        profile,
        endpoints: &endpoints,
        prices,
        cancel: cancel.clone(),
        clock,
    };
    let outcome = run::run_plan(plan, &ctx, &mut folder, &mut progress).await;
    progress.finish();
    if let Some(running) = deployed {
        running.stop().await;
    }
    outcome?;
    Ok(folder)
}

/// Recommends from the measured cells (never from a partial one), then writes the
/// recommendation into the run folder (summary.json and recommendation.md).
fn recommend_into(
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
    folder.summary.recommendation.clone_from(&recommendation);
    folder.write()?;
    if let Some(rec) = &recommendation {
        write_recommendation(&folder.dir, rec)?;
    }
    Ok(recommendation)
}

/// Writes the reports into the run folder; junit.xml renders `verdict`, the exit code's.
pub(super) fn write_reports(folder: &RunFolder, verdict: &RunVerdict) -> Result<(), AppError> {
    let formats = crate::report::Formats::only(&[Format::Hgrm, Format::Md, Format::Html]);
    crate::report::write_all(&folder.dir, &folder.summary, &formats).map_err(AppError::Report)?;
    let path = folder.dir.join("junit.xml");
    files::write_atomic(&path, |w| {
        crate::report::junit::write_verdict(&folder.summary, verdict, w)
    })
    .map_err(|source| AppError::Write { path, source })
}

/// Prints the results table, the recommendation, the load applied and the run folder.
pub(super) fn print_results(
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

/// With `--baseline`, and when the run was not interrupted: the comparison's outcome.
fn check_baseline(
    args: &RunArgs,
    folder: &RunFolder,
) -> Result<Option<(String, Baseline)>, AppError> {
    let Some(baseline) = &args.baseline else {
        return Ok(None);
    };
    if folder.summary.interrupted {
        return Ok(None);
    }
    let outcome = crate::compare::compare_runs(baseline, &folder.dir, &[], None)
        .map_err(AppError::Compare)?;
    Ok(Some((baseline.display().to_string(), outcome)))
}

/// Says what the verdict means, saves the run with `--save-baseline` unless it regressed or
/// stopped short, and returns the exit code.
fn conclude(
    args: &RunArgs,
    profile: &Profile,
    folder: &RunFolder,
    verdict: &RunVerdict,
) -> Result<u8, AppError> {
    let outcome = verdict.outcome();
    match outcome {
        Outcome::Interrupted => {
            let stop = verdict.interrupted.as_ref().map(ToString::to_string);
            eprintln!(
                "Interrupted: {}; measured cells saved in {}.",
                stop.unwrap_or_default().trim_start_matches("interrupted: "),
                folder.dir.display()
            );
        }
        Outcome::Aborted => eprintln!(
            "error: accounting does not balance (sent ≠ ok + errors + cancelled) in cells {:?}",
            verdict.unbalanced
        ),
        Outcome::Unusable => eprintln!(
            "error: nothing to compare with the baseline: every cell it shares with this run is partial (interrupted) there"
        ),
        Outcome::Failed if verdict.all_failed => {
            eprintln!("Every request of every cell failed; see the errors under the table.");
        }
        Outcome::Failed if verdict.sla_missed() => {
            eprintln!("No candidate meets the SLA; see the nearest miss above.");
        }
        Outcome::Failed | Outcome::Passed => {}
    }
    let regressed = matches!(verdict.baseline, Some((_, Baseline::Regressed)));
    let stopped = matches!(
        outcome,
        Outcome::Interrupted | Outcome::Aborted | Outcome::Unusable
    );
    if args.save_baseline && !regressed && !stopped {
        let out_root = args
            .out
            .clone()
            .unwrap_or_else(|| profile.report_dir.clone());
        let saved = crate::compare::save_baseline(&folder.dir, &out_root, &profile.name)
            .map_err(AppError::Compare)?;
        eprintln!("Saved as the baseline: {}", saved.display());
    } else if args.save_baseline && regressed {
        eprintln!(
            "Not saved as the baseline: this run regressed against {}.",
            args.baseline.as_deref().unwrap_or(Path::new("-")).display()
        );
    } else if args.save_baseline {
        eprintln!("Not saved as the baseline: the run did not finish cleanly.");
    }
    Ok(exit_code(outcome))
}

/// The exit code of a run's outcome.
pub(super) fn exit_code(outcome: Outcome) -> u8 {
    match outcome {
        Outcome::Passed => exit::OK,
        Outcome::Failed => exit::FAILED_CHECK,
        Outcome::Unusable => exit::USAGE,
        Outcome::Aborted => exit::TARGET,
        Outcome::Interrupted => exit::INTERRUPTED,
    }
}

/// Writes recommendation.md into the run folder.
pub(super) fn write_recommendation(
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

/// Channels that turn true on the first Ctrl-C (stop measuring, tear down) and on a second
/// one (stop waiting; a provisioned run still sends every delete).
fn cancel_on_ctrl_c() -> (watch::Receiver<bool>, watch::Receiver<bool>) {
    let (cancel_tx, cancel) = watch::channel(false);
    let (hurry_tx, hurry) = watch::channel(false);
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = cancel_tx.send(true);
            if tokio::signal::ctrl_c().await.is_ok() {
                let _ = hurry_tx.send(true);
            }
            // Keep the senders alive so receivers see `true`, not a closed channel.
            std::future::pending::<()>().await;
        }
    });
    (cancel, hurry)
}

/// Before any load: the output folder exists (or can be made) and takes a file, so a run
/// cannot measure for minutes and then fail to save. Folders made for the check are removed
/// again: a run that never starts leaves nothing behind.
fn check_out_root(root: &Path) -> Result<(), AppError> {
    let unusable = |source| AppError::OutputDir {
        path: root.to_path_buf(),
        source,
    };
    let missing: Vec<&Path> = root.ancestors().take_while(|a| !a.exists()).collect();
    let checked = std::fs::create_dir_all(root).and_then(|()| {
        // Shards in containers share a volume and often a process id (1): the clock tells
        // their checks apart.
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let probe = root.join(format!(
            ".loadtest-write-check-{}-{nanos}",
            std::process::id()
        ));
        std::fs::write(&probe, b"")?;
        std::fs::remove_file(&probe)
    });
    for dir in missing.iter().filter(|d| !d.as_os_str().is_empty()) {
        let _ = std::fs::remove_dir(dir);
    }
    checked.map_err(unusable)
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
