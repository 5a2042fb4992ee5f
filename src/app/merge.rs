//! `loadtest merge DIR...`: the run folders of a scaled-out run's shards merged into one run
//! folder, whose recommendation and reports are made by the same code as `loadtest run`'s,
//! from the merged record, as if one machine had run the plan.

use super::AppError;
use super::run::{exit_code, print_results, write_recommendation, write_reports};
use crate::cli::MergeArgs;
use crate::report::verdict::RunVerdict;
use crate::run::{self, RunFolder};
use crate::store::{files, record};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `loadtest merge`: checks the folders are the shards of one run, merges them, and writes
/// the merged run folder with every report; the exit code is the merged run's.
pub fn merge(args: &MergeArgs) -> Result<ExitCode, AppError> {
    let mut parts = Vec::with_capacity(args.dirs.len());
    for dir in &args.dirs {
        parts.push((dir.clone(), record::read(dir)?));
    }
    let merged = crate::store::merge::merge(parts).map_err(AppError::Shards)?;
    let profile = merged.profile.clone();
    let plan = merged.plan.clone();
    let prices =
        crate::recommend::advise::prices_for(&profile, &plan).map_err(AppError::Pricing)?;
    let dir = out_dir(args, &merged)?;
    let mut folder = RunFolder {
        dir,
        summary: merged,
    };
    let recommendation = run::advise(&profile, &prices, &folder.summary);
    folder.summary.recommendation.clone_from(&recommendation);
    run::write_files(&folder.dir, &folder.summary)?;
    if let Some(rec) = &recommendation {
        write_recommendation(&folder.dir, rec)?;
    }
    let verdict = RunVerdict::of(&folder.summary, None);
    write_reports(&folder, &verdict)?;
    if let Some(scale_out) = &folder.summary.scale_out {
        for (cell, shards) in &scale_out.missed {
            eprintln!("note: cell {cell} is left out: shards {shards:?} did not measure it");
        }
    }
    print_results(&profile, &plan, &folder, recommendation.as_ref())?;
    Ok(ExitCode::from(exit_code(verdict.outcome())))
}

/// `--out`, or `<name>-merged-<start>` beside the first shard folder (in name order).
fn out_dir(args: &MergeArgs, merged: &record::RunRecord) -> Result<PathBuf, AppError> {
    let fail = |path: &Path| {
        let path = path.to_path_buf();
        move |source| AppError::Write { path, source }
    };
    if let Some(out) = &args.out {
        std::fs::create_dir_all(out).map_err(fail(out))?;
        return Ok(out.clone());
    }
    let first = args
        .dirs
        .iter()
        .min()
        .map_or(Path::new("."), PathBuf::as_path);
    let parent = first.parent().unwrap_or(Path::new("."));
    let start = humantime::parse_rfc3339_weak(&merged.started_at)
        .unwrap_or(std::time::SystemTime::UNIX_EPOCH);
    let name = format!("{}-merged", merged.profile.name);
    files::create_run_dir(parent, &name, start).map_err(fail(parent))
}
