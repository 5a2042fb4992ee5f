//! Putting a candidate together: its cells by payload size, each size judged alone, the
//! workload combined ([`super::workload`]), then the fleet, the scaling policy and the month.

use super::capacity::Fleet;
use super::evidence::{dearer, first_request_ms};
use super::monthly::{self, MonthlyComparison};
use super::scaling::ScalingPolicy;
use super::workload::{self, SizeResult, weight_of};
use super::{Candidate, Context, Evidence, Verdict};
use crate::domain::{Hosting, Variant};
use crate::pricing::Usd;
use crate::results::CellSummary;
use std::collections::BTreeMap;

/// A candidate: hosting option and variant.
pub(super) type Key = (Option<Hosting>, Option<Variant>);

/// Cells by candidate (an instance type without a hosting option is real-time); and how
/// many cells name no instance type or serverless size (the unpriced target itself).
pub(super) fn group(cells: &[CellSummary]) -> (BTreeMap<Key, Vec<&CellSummary>>, usize) {
    let mut groups: BTreeMap<Key, Vec<&CellSummary>> = BTreeMap::new();
    let mut unattributed = 0;
    for cell in cells {
        let variant = cell.deployment.variant.clone();
        unattributed += usize::from(variant.is_none());
        groups
            .entry((cell.deployment.implied_hosting(), variant))
            .or_default()
            .push(cell);
    }
    (groups, unattributed)
}

impl Context<'_> {
    /// One candidate over all its cells: each payload size alone, then the workload.
    pub(super) fn judge(
        &self,
        hosting: Option<Hosting>,
        variant: Option<Variant>,
        cells: &[&CellSummary],
        evidence: &Evidence<'_>,
    ) -> Candidate {
        let mut by_size: BTreeMap<(u64, Option<String>), Vec<&CellSummary>> = BTreeMap::new();
        for c in cells {
            by_size
                .entry((c.payload_bytes, c.payload_file.clone()))
                .or_default()
                .push(c);
        }
        let mix = self.traffic.map_or(&[][..], |t| t.payload_mix.as_slice());
        let mut per_size: Vec<Candidate> = Vec::new();
        let mut sizes: Vec<SizeResult> = Vec::new();
        for ((bytes, file), size_cells) in by_size {
            let mut c = self.over_repeats(hosting, variant.clone(), bytes, &size_cells);
            c.payload_file = file;
            let pruned = evidence.pruned.iter().find(|p| {
                (Some(p.hosting), Some(&p.variant), p.payload_bytes)
                    == (hosting, variant.as_ref(), bytes)
            });
            if let (Some(p), None) = (pruned, &c.operating) {
                c.verdict = Verdict::Infeasible {
                    reasons: dearer(&c, &p.pruned),
                };
            }
            let weight = weight_of(mix, bytes, c.payload_file.as_deref());
            sizes.push(SizeResult::of(&c, &size_cells, weight));
            per_size.push(c);
        }
        let mut c = if per_size.len() == 1 && mix.is_empty() {
            per_size.pop().expect("one size")
        } else {
            self.combined(hosting, variant, cells, &sizes, &per_size)
        };
        c.cells = cells.len();
        c.workload = sizes;
        c.first_request_ms = first_request_ms(evidence.first_requests, hosting, c.variant.as_ref());
        self.gate_cold_start(&mut c);
        self.size_fleet(&mut c);
        c
    }

    /// A candidate of several payload sizes (or of a mix): reasons, operating point, cost.
    fn combined(
        &self,
        hosting: Option<Hosting>,
        variant: Option<Variant>,
        cells: &[&CellSummary],
        sizes: &[SizeResult],
        per_size: &[Candidate],
    ) -> Candidate {
        let mut reasons = workload::reasons(sizes);
        let operating = workload::operating(sizes, cells, self.sla.percentile);
        let mixed = sizes.iter().any(|s| s.weight.is_some());
        let largest = sizes.iter().map(|s| s.payload_bytes).max().unwrap_or(0);
        let cost_bytes = if mixed {
            let w: f64 = sizes
                .iter()
                .filter_map(|s| s.weight)
                .sum::<f64>()
                .max(1e-12);
            (sizes
                .iter()
                .map(|s| s.weight.unwrap_or(0.0) * s.payload_bytes as f64)
                .sum::<f64>()
                / w)
                .round() as u64
        } else {
            largest
        };
        let cost = match (hosting, &variant, &operating) {
            (Some(h), Some(v), Some(op)) if reasons.is_empty() || op.per_instance_rps > 0.0 => {
                self.cost(h, v, cost_bytes, op)
            }
            _ => None,
        };
        reasons.extend(self.concurrency_reason(cost.as_ref()));
        let binding = operating.as_ref().and_then(|op| {
            per_size
                .iter()
                .find(|c| c.operating.as_ref().map(|o| o.cell_index) == Some(op.cell_index))
        });
        let levels: Vec<(f64, &super::tokens::TokenFigures)> = sizes
            .iter()
            .zip(per_size)
            .filter(|(s, _)| s.weight.is_none_or(|w| w > 0.0))
            .filter_map(|(s, c)| Some((s.weight.unwrap_or(1.0), c.tokens.as_ref()?)))
            .collect();
        let tokens = super::tokens::combine(
            &levels,
            binding.and_then(|c| c.tokens.as_ref()),
            cost.as_ref(),
        );
        Candidate {
            cells: cells.len(),
            operating,
            cost,
            repeats: binding.and_then(|c| c.repeats.clone()),
            tokens,
            ..Candidate::new(hosting, variant, largest, workload::verdict(reasons))
        }
    }

    /// Capacity, fleet, scaling policy and month, from the operating point and the traffic.
    fn size_fleet(&self, c: &mut Candidate) {
        let Some(op) = &c.operating else {
            return;
        };
        let capacity = workload::capacity(&c.workload, op);
        if let (Some(t), Some(h)) = (self.traffic, c.hosting) {
            c.fleet = Fleet::at_peak(h, &capacity, t);
            c.scaling = c
                .fleet
                .as_ref()
                .map(|f| ScalingPolicy::of(&capacity, f, t.headroom));
            c.monthly = monthly::rates(c, &capacity).map(|r| monthly::month(r, &t.hours(), t));
        }
        c.capacity = Some(capacity);
    }
}

/// With an hourly shape: each candidate's $/M is its month per million requests of the month.
pub(super) fn rank_by_month(candidates: &mut [Candidate], requests_per_month: f64) {
    for c in candidates {
        let (Some(cost), Some(m)) = (c.cost.as_mut(), &c.monthly) else {
            continue;
        };
        if requests_per_month > 0.0 {
            cost.per_million = Usd(m.usd.0 / requests_per_month * 1e6);
        }
        cost.per_day = Some(Usd(m.usd.0 * 24.0 / crate::domain::traffic::HOURS_PER_MONTH));
    }
}

/// Each hosting option's cheapest candidate under the shape, compared by the month: the
/// feasible ones, and those only over serverless MaxConcurrency (they serve a smaller scale).
pub(super) fn monthly_comparison(
    candidates: &[Candidate],
    traffic: &crate::domain::Traffic,
) -> MonthlyComparison {
    let mut best: BTreeMap<Hosting, (monthly::Offer, f64)> = BTreeMap::new();
    for (i, c) in candidates.iter().enumerate() {
        let (Some(h), Some(capacity), Some(m)) = (c.hosting, &c.capacity, &c.monthly) else {
            continue;
        };
        let max_scale = c.reasons().iter().try_fold(f64::INFINITY, |k, r| match r {
            super::Reason::ConcurrencyOverLimit { needed, limit } => {
                Some(k.min(f64::from(*limit) / needed))
            }
            _ => None,
        });
        let (Some(max_scale), Some(rates)) = (max_scale, monthly::rates(c, capacity)) else {
            continue;
        };
        let usd = if max_scale >= 1.0 {
            m.usd.0
        } else {
            f64::INFINITY
        };
        if best.get(&h).is_none_or(|b| usd < b.1) {
            let offer = monthly::Offer {
                candidate: i,
                label: c.label(),
                rates,
                max_scale,
            };
            best.insert(h, (offer, usd));
        }
    }
    let offers: Vec<monthly::Offer> = best.into_values().map(|(o, _)| o).collect();
    monthly::compare(&offers, traffic)
}
