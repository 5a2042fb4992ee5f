//! `loadtest run --shard I/N --start-at T`: which generator shard this process is, checked
//! against the plan (grid runs only), and the identity its run record carries.

use super::AppError;
use crate::cli::RunArgs;
use crate::plan::Plan;
use crate::plan::scale_out::GeneratorShard;
use crate::profile::{Profile, Strategy};
use crate::run::clock::Clock;
use crate::store::files;
use crate::store::record::{ScaleOut, profile_hash};
use std::time::SystemTime;

/// The environment variable an Indexed Job sets to the pod's index.
pub const JOB_COMPLETION_INDEX: &str = "JOB_COMPLETION_INDEX";

/// The shard and clock `args` ask for; `None` without `--shard`, `--shards` or `--start-at`.
pub(super) fn clock(
    args: &RunArgs,
    profile: &Profile,
    plan: &Plan,
) -> Result<Option<Clock>, AppError> {
    let generator = match (args.shard, args.shards) {
        (Some(shard), _) => Some(shard),
        (None, Some(count)) => Some(from_job_index(count)?),
        (None, None) => None,
    };
    let Some(start_at) = &args.start_at else {
        return match generator {
            Some(g) => Err(AppError::Usage(format!(
                "shard {g} needs `--start-at <RFC 3339 time>`, the same for every shard, so all \
                 shards run each cell in the same slot"
            ))),
            None => Ok(None),
        };
    };
    let start_at = parse_start(start_at)?;
    let generator = generator.unwrap_or(GeneratorShard::WHOLE);
    if generator.count > 1 && matches!(profile.target, crate::profile::Target::Emulator(_)) {
        eprintln!(
            "warning: target.kind = \"emulator\" starts an emulator inside each shard, so the \
             shards load different targets; point the shards at one `loadtest emulate` instead"
        );
    }
    if let Some(why) = not_a_grid(profile, plan) {
        return Err(AppError::Usage(format!(
            "`--shard`/`--start-at` run grids only: {why}; shards cannot follow one another's \
             results, so run this profile on one machine or make it a grid"
        )));
    }
    Ok(Some(Clock {
        generator,
        start_at,
    }))
}

/// The identity a shard's run record carries.
pub(super) fn identity(clock: &Clock, profile: &Profile) -> ScaleOut {
    ScaleOut {
        shards: clock.generator.count,
        shard: Some(clock.generator.index),
        start_at: files::rfc3339(clock.start_at),
        profile_hash: profile_hash(profile),
        clock_offset_ms: Default::default(),
        missed: Default::default(),
    }
}

/// Shard `JOB_COMPLETION_INDEX` of `count`.
fn from_job_index(count: u32) -> Result<GeneratorShard, AppError> {
    let index = std::env::var(JOB_COMPLETION_INDEX).map_err(|_| {
        AppError::Usage(format!(
            "`--shards {count}` reads this shard's index from {JOB_COMPLETION_INDEX}, which is \
             not set: run it in a Kubernetes Indexed Job, or give `--shard I/{count}`"
        ))
    })?;
    let parsed = index.trim().parse::<u32>().map_err(|_| {
        AppError::Usage(format!(
            "{JOB_COMPLETION_INDEX}={index} is not a shard index (a number from 0)"
        ))
    })?;
    GeneratorShard::new(parsed, count).map_err(|e| AppError::Usage(e.to_string()))
}

/// `--start-at`, in RFC 3339 (`2026-12-01T12:00:00Z`).
fn parse_start(text: &str) -> Result<SystemTime, AppError> {
    humantime::parse_rfc3339_weak(text.trim()).map_err(|e| {
        AppError::Usage(format!(
            "`--start-at {text}` is not an RFC 3339 time ({e}): write e.g. 2026-12-01T12:00:00Z"
        ))
    })
}

/// Why the plan is not a grid of fixed cells, if it is not.
fn not_a_grid(profile: &Profile, plan: &Plan) -> Option<&'static str> {
    if !plan.searches.is_empty() {
        Some("search mode chooses each probe from the last one's result")
    } else if profile.sweep.strategy == Strategy::Adaptive {
        Some("an adaptive sweep chooses cells from the results so far")
    } else if profile.sweep.repeats > 1 {
        Some("repeats are not supported with shards (set `repeats = 1`)")
    } else {
        None
    }
}
