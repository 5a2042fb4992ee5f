//! Drives an adaptive sweep: measures only the grid cells the recommendation needs, in the
//! order [`crate::adaptive`] asks, and prunes candidates that cannot beat the cheapest
//! feasible one found so far.

use super::{Context, RunError, RunFolder, load_seconds_of, met};
use crate::adaptive::{self, Ladder};
use crate::plan::Plan;
use crate::progress::Progress;
use crate::recommend::{self, Candidate, Prices, Pruned, Reason, Recommendation};
use crate::results::json::SearchSummary;
use crate::search::Found;

/// One candidate's ladder and what probing it cost.
struct Track {
    ladder: Ladder,
    load_seconds: f64,
    pruned: Option<Pruned>,
}

/// Runs the adaptive sweep of `plan`'s grid, saving after every cell; one search summary
/// per candidate records what was found and the load-seconds spent.
pub(super) async fn run(
    plan: &Plan,
    ctx: &Context<'_>,
    folder: &mut RunFolder,
    progress: &mut Progress,
) -> Result<(), RunError> {
    let sla = super::sla_or_none(ctx.profile);
    let mut tracks: Vec<Track> = adaptive::ladders(&plan.cells)
        .into_iter()
        .map(|ladder| Track {
            ladder,
            load_seconds: 0.0,
            pruned: None,
        })
        .collect();
    while !ctx.cancelled() {
        let rec = crate::advise::advise(ctx.profile, ctx.prices, &folder.summary.cells, &[]);
        if let Some(rec) = &rec {
            settle(&mut tracks, rec, ctx);
        }
        let Some((t, level)) = next_probe(&tracks, ctx) else {
            break;
        };
        let mut cell = tracks[t].ladder.cells[level].clone();
        cell.index = folder.summary.cells.len();
        let summary = super::probe(&cell, &sla, ctx, progress).await?;
        let track = &mut tracks[t];
        track.load_seconds += load_seconds_of(&cell, &summary);
        if !summary.interrupted {
            let passed = met(&summary, &sla);
            track.ladder.record(level, passed, summary.throughput_rps);
        }
        folder.save(summary)?;
    }
    folder.summary.searches = tracks.iter().map(search_summary).collect();
    Ok(())
}

/// The next cell to measure: every candidate's top level first, then the unfinished
/// candidate with the lowest cost floor (the most likely to win).
fn next_probe(tracks: &[Track], ctx: &Context<'_>) -> Option<(usize, usize)> {
    if let Some(t) = tracks.iter().position(|t| !t.ladder.started()) {
        return Some((t, tracks[t].ladder.next()?));
    }
    tracks
        .iter()
        .enumerate()
        .filter_map(|(t, track)| Some((t, track.ladder.next()?)))
        .min_by(|a, b| {
            let floor = |t: usize| floor(&tracks[t].ladder, ctx).unwrap_or(0.0);
            floor(a.0).total_cmp(&floor(b.0))
        })
}

/// Settles candidates no load can make feasible, and prunes those whose cost floor is over
/// the cheapest feasible candidate's cost.
fn settle(tracks: &mut [Track], rec: &Recommendation, ctx: &Context<'_>) {
    let best = rec.choice.map(|i| &rec.candidates[i]);
    for track in tracks.iter_mut() {
        if track.ladder.next().is_none() || !track.ladder.started() {
            continue;
        }
        if candidate_of(&track.ladder, rec).is_some_and(blocked_by_limit) {
            track.ladder.settle();
            continue;
        }
        let (Some(best), Some(floor)) = (best, floor(&track.ladder, ctx)) else {
            continue;
        };
        let best_cost = best
            .cost
            .as_ref()
            .map_or(f64::INFINITY, |c| c.per_million.0);
        if floor > best_cost {
            let (at, rps) = track.ladder.ceiling().expect("a floor needs a ceiling");
            track.pruned = Some(Pruned {
                at: *at,
                per_instance_rps: per_instance(rps, ctx),
                floor_per_million: floor,
                beaten_by: best.label(),
                beaten_per_million: best_cost,
            });
            track.ladder.settle();
        }
    }
}

/// The recommendation's candidate for this ladder, when it names hosting and instance.
fn candidate_of<'r>(ladder: &Ladder, rec: &'r Recommendation) -> Option<&'r Candidate> {
    let cell = &ladder.cells[0];
    let hosting = cell.variant.hosting?;
    let instance = cell.variant.instance.as_deref()?;
    rec.candidates.iter().find(|c| {
        c.hosting == hosting && c.instance_type == instance && c.payload_bytes == cell.payload_bytes
    })
}

/// Whether a candidate breaks a limit that no load level changes.
fn blocked_by_limit(c: &Candidate) -> bool {
    c.reasons().iter().any(|r| {
        matches!(
            r,
            Reason::PayloadOverLimit { .. }
                | Reason::UnknownServerlessMemory { .. }
                | Reason::NoPrice(_)
        )
    })
}

/// Throughput per instance of the endpoints the run measured.
fn per_instance(rps: f64, ctx: &Context<'_>) -> f64 {
    rps / f64::from(crate::advise::options(ctx.profile).instance_count.max(1))
}

/// The least this candidate could cost per million requests, from the throughput at its
/// lowest failing level; `None` before a failure, for serverless, or without a price.
fn floor(ladder: &Ladder, ctx: &Context<'_>) -> Option<f64> {
    let (_, rps) = ladder.ceiling()?;
    let variant = &ladder.cells[0].variant;
    let prices = Prices {
        table: ctx.prices,
        region: &ctx.profile.pricing.region,
    };
    recommend::cost_floor(
        prices,
        ctx.profile.traffic.as_ref(),
        variant.hosting?,
        variant.instance.as_deref()?,
        per_instance(rps, ctx),
    )
}

/// What probing one candidate found and cost.
fn search_summary(track: &Track) -> SearchSummary {
    let ladder = &track.ladder;
    let passed = ladder.passed().map(|c| c.load.level());
    let failed = ladder.ceiling().map(|(load, _)| load.level());
    let found = match (passed, failed) {
        (None, _) => Found::NothingPasses,
        (Some(p), None) => Found::AtLeast(p),
        (Some(passed), Some(failed)) => Found::Between { passed, failed },
    };
    let cell = &ladder.cells[0];
    SearchSummary {
        hosting: cell.variant.hosting,
        instance_type: cell.variant.instance.clone(),
        payload_bytes: cell.payload_bytes,
        found,
        probes: ladder.probes,
        load_seconds: crate::results::round3(track.load_seconds),
        pruned: track.pruned.clone(),
    }
}
