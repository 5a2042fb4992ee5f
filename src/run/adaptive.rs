//! Drives adaptive probing (an adaptive sweep of a grid, or the SLA searches): measures the
//! cells [`crate::plan::ladder`] asks for, every candidate's first probe before any second, and
//! prunes candidates that cannot beat the cheapest feasible one found so far.

use super::{Context, RunError, RunFolder, met};
use crate::domain::Pruned;
use crate::plan::Plan;
use crate::plan::ladder::{self, Ladder};
use crate::recommend::{self, Candidate, Prices, Reason, Recommendation};
use crate::run::progress::Progress;
use crate::store::record::SearchSummary;

/// A candidate is pruned only when its cost floor is over the best cost by more than this
/// fraction: the throughput bound comes from one overloaded probe, which measurement noise
/// can put a little below what a lower load sustained.
const PRUNE_MARGIN: f64 = 0.10;

/// One candidate's ladder and what probing it cost.
struct Track {
    ladder: Ladder,
    load_seconds: f64,
    pruned: Option<Pruned>,
}

/// Probes the plan's searches, or else its grid adaptively, saving after every cell; one
/// search summary per candidate records what was found and the load-seconds spent.
pub(super) async fn run(
    plan: &Plan,
    ctx: &Context<'_>,
    folder: &mut RunFolder,
    progress: &mut Progress,
) -> Result<(), RunError> {
    let sla = super::sla_or_none(ctx.profile);
    let ladders = if plan.searches.is_empty() {
        ladder::ladders(&plan.cells)
    } else {
        plan.searches.iter().map(Ladder::range).collect()
    };
    let mut tracks: Vec<Track> = ladders
        .into_iter()
        .map(|ladder| Track {
            ladder,
            load_seconds: 0.0,
            pruned: None,
        })
        .collect();
    while !ctx.cancelled() {
        let rec = super::advise(ctx.profile, ctx.prices, &folder.summary);
        if let Some(rec) = &rec {
            settle(&mut tracks, rec, ctx);
        }
        let Some((t, mut cell)) = next_probe(&tracks, ctx) else {
            break;
        };
        cell.index = folder.summary.cells.len();
        let summary = super::probe(&cell, &sla, ctx, progress).await?;
        let track = &mut tracks[t];
        track.load_seconds += summary.load_seconds(cell.warmup);
        if !summary.interrupted {
            let passed = met(&summary, &sla);
            track
                .ladder
                .record(&cell.load, passed, summary.throughput_rps);
        }
        folder.summary.searches = tracks.iter().map(search_summary).collect();
        folder.save(summary)?;
    }
    folder.summary.searches = tracks.iter().map(search_summary).collect();
    Ok(())
}

/// The next cell to measure: every candidate's first probe, then the unfinished candidate
/// with the lowest cost floor (the most likely to win).
fn next_probe(tracks: &[Track], ctx: &Context<'_>) -> Option<(usize, crate::plan::Cell)> {
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

/// Settles candidates no load can make feasible, and prunes those (other than the cheapest
/// feasible candidate itself) whose cost floor is over its cost by the margin.
fn settle(tracks: &mut [Track], rec: &Recommendation, ctx: &Context<'_>) {
    let best = rec.choice.map(|i| &rec.candidates[i]);
    for track in tracks.iter_mut() {
        if track.ladder.next().is_none() || !track.ladder.started() {
            continue;
        }
        if candidate_of(&track.ladder, rec).is_some_and(|c| blocked_by_limit(c, &track.ladder)) {
            track.ladder.settle();
            continue;
        }
        let (Some(best), Some(floor)) = (best, floor(&track.ladder, ctx)) else {
            continue;
        };
        if candidate_of(&track.ladder, rec).is_some_and(|c| std::ptr::eq(c, best)) {
            continue;
        }
        let best_cost = best
            .cost
            .as_ref()
            .map_or(f64::INFINITY, |c| c.per_million.0);
        if floor > best_cost * (1.0 + PRUNE_MARGIN) {
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

/// The recommendation's candidate for this ladder (its hosting and variant: the candidate
/// covers every payload size), when it names hosting and instance.
fn candidate_of<'r>(ladder: &Ladder, rec: &'r Recommendation) -> Option<&'r Candidate> {
    let deployment = ladder.deployment();
    let hosting = deployment.hosting?;
    let variant = deployment.variant.as_ref()?;
    rec.candidates
        .iter()
        .find(|c| c.hosting == Some(hosting) && c.variant.as_ref() == Some(variant))
}

/// Whether a candidate breaks, at the ladder's payload size, a limit no load level changes.
fn blocked_by_limit(c: &Candidate, ladder: &Ladder) -> bool {
    let at_size = c
        .workload
        .iter()
        .find(|s| s.payload_bytes == ladder.payload_bytes())
        .map_or(c.reasons(), |s| s.reasons.as_slice());
    at_size.iter().any(|r| {
        matches!(
            r,
            Reason::PayloadOverLimit { .. }
                | Reason::UnknownServerlessMemory { .. }
                | Reason::NoPrice(_)
                | Reason::OfflineOnly
        )
    })
}

/// Throughput per instance of the endpoints the run measured.
fn per_instance(rps: f64, ctx: &Context<'_>) -> f64 {
    rps / f64::from(
        crate::recommend::advise::options(ctx.profile)
            .instance_count
            .max(1),
    )
}

/// The least this candidate could cost per million requests, from the throughput at its
/// lowest failing load; `None` before a failure, for serverless, or without a price.
fn floor(ladder: &Ladder, ctx: &Context<'_>) -> Option<f64> {
    let (_, rps) = ladder.ceiling()?;
    let variant = ladder.deployment();
    let prices = Prices {
        table: ctx.prices,
        region: &ctx.profile.pricing.region,
    };
    recommend::cost_floor(
        prices,
        ctx.profile.traffic.as_ref(),
        variant.hosting?,
        variant.instance_type()?,
        per_instance(rps, ctx),
    )
}

/// What probing one candidate found and cost.
fn search_summary(track: &Track) -> SearchSummary {
    SearchSummary {
        deployment: track.ladder.deployment().clone(),
        payload_bytes: track.ladder.payload_bytes(),
        found: track.ladder.found(),
        probes: track.ladder.probes,
        load_seconds: crate::domain::units::round3(track.load_seconds),
        pruned: track.pruned.clone(),
    }
}
