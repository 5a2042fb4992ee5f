//! Repeats of the grid: each candidate judged on every pass alone, its worst pass standing
//! for it, and the range over the passes.

use super::{Candidate, Context};
use crate::domain::{Hosting, Variant};
use crate::results::CellSummary;
use serde::{Deserialize, Serialize};

/// How a candidate's figures varied from one repeat of the grid to the next.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RepeatRange {
    /// Repeats measured.
    pub repeats: u32,
    /// Repeats in which it was feasible.
    pub feasible: u32,
    /// Lowest and highest throughput per instance at the operating point.
    pub per_instance_rps: Option<[f64; 2]>,
    /// Lowest and highest SLA-percentile latency at the operating point, ms.
    pub latency_ms: Option<[f64; 2]>,
    /// Lowest and highest cost per million requests.
    pub per_million: Option<[f64; 2]>,
}

impl RepeatRange {
    /// The range over one candidate's per-repeat evaluations.
    fn of(per_repeat: &[Candidate]) -> RepeatRange {
        let ops = || per_repeat.iter().filter_map(|c| c.operating.as_ref());
        RepeatRange {
            repeats: per_repeat.len() as u32,
            feasible: per_repeat.iter().filter(|c| c.feasible()).count() as u32,
            per_instance_rps: min_max(ops().map(|o| o.per_instance_rps)),
            latency_ms: min_max(ops().map(|o| o.latency_ms)),
            per_million: min_max(
                per_repeat
                    .iter()
                    .filter_map(|c| c.cost.as_ref().map(|k| k.per_million.0)),
            ),
        }
    }
}

/// `[lowest, highest]` of the values, or `None` without any.
fn min_max(values: impl Iterator<Item = f64>) -> Option<[f64; 2]> {
    values.fold(None, |acc, v| match acc {
        None => Some([v, v]),
        Some([lo, hi]) => Some([lo.min(v), hi.max(v)]),
    })
}

impl Context<'_> {
    /// The candidate judged on each repeat of the grid alone; its worst repeat stands for
    /// it, with the range over all of them.
    pub(super) fn over_repeats(
        &self,
        hosting: Option<Hosting>,
        variant: Option<Variant>,
        payload_bytes: u64,
        cells: &[&CellSummary],
    ) -> Candidate {
        let repeats: std::collections::BTreeSet<u32> = cells.iter().map(|c| c.repeat).collect();
        if repeats.len() <= 1 {
            return self.candidate(hosting, variant, payload_bytes, cells);
        }
        let per_repeat: Vec<Candidate> = repeats
            .iter()
            .map(|&r| {
                let cells: Vec<&CellSummary> =
                    cells.iter().copied().filter(|c| c.repeat == r).collect();
                self.candidate(hosting, variant.clone(), payload_bytes, &cells)
            })
            .collect();
        let range = RepeatRange::of(&per_repeat);
        let worst = per_repeat.into_iter().max_by(|a, b| {
            (!a.feasible())
                .cmp(&!b.feasible())
                .then(a.ranking_cost().total_cmp(&b.ranking_cost()))
                .then(a.sla_latency().total_cmp(&b.sla_latency()))
        });
        let mut worst = worst.expect("at least two repeats");
        worst.cells = cells.len();
        worst.repeats = Some(range);
        worst
    }
}
