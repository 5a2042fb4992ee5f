//! The swept payload sizes are the workload, not a choice: a candidate (hosting option ×
//! variant) is judged on every size at once.
//!
//! Each size is first judged alone (its operating point, reasons and repeats, as a
//! single-size candidate). Then:
//!
//! - **without a mix**, the candidate is feasible when every swept size is; its capacity is
//!   the lowest of the sizes' (traffic may be all of the slowest size) and its latency the
//!   highest;
//! - **with `[traffic] payload_mix`**, only the sizes of the mix must be feasible; capacity
//!   is `1 / Σ(wᵢ / rpsᵢ)` and the SLA percentile is read off the per-size histograms
//!   weighted by the mix ([`super::mix`]); error rate and mean times are weighted means.
//!
//! Reasons of a size are kept under that size ([`Reason::AtPayload`]); reasons every size
//! shares (no price, offline only) are said once.

use super::capacity::{Capacity, is_top, next_load};
use super::mix::{mix_capacity, mix_percentile};
use super::{Candidate, OperatingPoint, Reason, Verdict};
use crate::domain::traffic::MixShare;
use crate::domain::units::format_size;
use crate::domain::{Load, Quantile};
use crate::results::CellSummary;
use serde::{Deserialize, Serialize};

/// How a candidate does on one payload size alone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SizeResult {
    /// Request body size.
    pub payload_bytes: u64,
    /// The payload file of a `source = "files"` level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_file: Option<String>,
    /// Its share in `[traffic] payload_mix`, when there is a mix.
    pub weight: Option<f64>,
    /// Cells measured at this size.
    pub cells: usize,
    /// Its best SLA-passing cell, if any.
    pub operating: Option<OperatingPoint>,
    /// The highest load measured at this size.
    pub top_load: Option<Load>,
    /// Why it fails alone (empty when it passes).
    pub reasons: Vec<Reason>,
}

impl SizeResult {
    /// `1KiB`, or `rows.json 1KiB` for a file.
    pub fn label(&self) -> String {
        match &self.payload_file {
            Some(f) => format!("{f} {}", format_size(self.payload_bytes)),
            None => format_size(self.payload_bytes),
        }
    }

    /// Whether its operating point is the highest load measured.
    pub fn at_top(&self) -> bool {
        match (&self.operating, &self.top_load) {
            (Some(op), Some(top)) => is_top(&op.load, std::iter::once(*top)),
            _ => false,
        }
    }

    /// The result of a single-size candidate over `cells`.
    pub(super) fn of(c: &Candidate, cells: &[&CellSummary], weight: Option<f64>) -> SizeResult {
        let top_load = cells
            .iter()
            .map(|c| c.load)
            .max_by(|a, b| a.level().total_cmp(&b.level()));
        SizeResult {
            payload_bytes: c.payload_bytes,
            payload_file: c.payload_file.clone(),
            weight,
            cells: c.cells,
            operating: c.operating.clone(),
            top_load,
            reasons: c.reasons().to_vec(),
        }
    }
}

/// The weight of the level of `bytes` (and `file`) in `mix`; `None` without a mix.
pub(super) fn weight_of(mix: &[MixShare], bytes: u64, file: Option<&str>) -> Option<f64> {
    (!mix.is_empty()).then(|| {
        mix.iter()
            .filter(|s| s.weights(bytes, file))
            .map(|s| s.weight)
            .sum()
    })
}

/// The sizes that must hold: the mix's (weight > 0), else all.
fn relevant(sizes: &[SizeResult]) -> Vec<&SizeResult> {
    sizes
        .iter()
        .filter(|s| s.weight.is_none_or(|w| w > 0.0))
        .collect()
}

/// Reasons of the sizes that must hold: shared ones once, the rest under their size; a
/// single-size workload keeps its reasons as they are. Concurrency is judged on the whole.
pub(super) fn reasons(sizes: &[SizeResult]) -> Vec<Reason> {
    let keep = |r: &&Reason| !matches!(r, Reason::ConcurrencyOverLimit { .. });
    let must = relevant(sizes);
    if sizes.len() == 1 {
        return must
            .iter()
            .flat_map(|s| s.reasons.iter().filter(keep).cloned())
            .collect();
    }
    let shared: Vec<Reason> = must
        .first()
        .map(|s| {
            s.reasons
                .iter()
                .filter(keep)
                .filter(|r| must.iter().all(|o| o.reasons.contains(r)))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let mut out = shared.clone();
    for s in must {
        let own: Vec<Reason> = s
            .reasons
            .iter()
            .filter(keep)
            .filter(|r| !shared.contains(r))
            .cloned()
            .collect();
        if !own.is_empty() {
            out.push(Reason::AtPayload {
                payload: s.label(),
                reasons: own,
            });
        }
    }
    out
}

/// The candidate's operating point over the workload, when every size that must hold has
/// one; the cells give the histograms a mix is read from.
pub(super) fn operating(
    sizes: &[SizeResult],
    cells: &[&CellSummary],
    percentile: Quantile,
) -> Option<OperatingPoint> {
    let must = relevant(sizes);
    let ops: Vec<(f64, &OperatingPoint)> = must
        .iter()
        .map(|s| Some((s.weight.unwrap_or(1.0), s.operating.as_ref()?)))
        .collect::<Option<_>>()?;
    if sizes.iter().all(|s| s.weight.is_none()) {
        return Some(worst_of(&ops));
    }
    let share = |f: fn(&OperatingPoint) -> f64| -> Vec<(f64, f64)> {
        ops.iter().map(|(w, o)| (*w, f(o))).collect()
    };
    let mean = |f: fn(&OperatingPoint) -> f64| -> f64 {
        let total: f64 = ops.iter().map(|(w, _)| w).sum();
        ops.iter().map(|(w, o)| w * f(o)).sum::<f64>() / total
    };
    let histograms: Vec<(f64, hdrhistogram::Histogram<u64>)> = ops
        .iter()
        .filter_map(|(w, o)| {
            let cell = cells.iter().find(|c| c.index == o.cell_index)?;
            Some((*w, crate::results::histogram::decode(&cell.histogram).ok()?))
        })
        .collect();
    let parts: Vec<(f64, &hdrhistogram::Histogram<u64>)> =
        histograms.iter().map(|(w, h)| (*w, h)).collect();
    let latency_ms = if parts.len() == ops.len() {
        mix_percentile(&parts, percentile).map(crate::domain::units::round3)
    } else {
        None
    };
    // The size that takes most of an instance's time (largest wᵢ / rpsᵢ) names the load.
    let (_, busiest) = ops
        .iter()
        .max_by(|a, b| (a.0 / a.1.per_instance_rps).total_cmp(&(b.0 / b.1.per_instance_rps)))?;
    Some(OperatingPoint {
        throughput_rps: mix_capacity(&share(|o| o.throughput_rps)),
        per_instance_rps: mix_capacity(&share(|o| o.per_instance_rps)),
        latency_ms: latency_ms.unwrap_or_else(|| worst_of(&ops).latency_ms),
        mean_latency_ms: mean(|o| o.mean_latency_ms),
        mean_service_ms: mean(|o| o.mean_service_ms),
        response_bytes: mean(|o| o.response_bytes),
        error_rate: mean(|o| o.error_rate),
        low_confidence: ops.iter().any(|(_, o)| o.low_confidence),
        ..(*busiest).clone()
    })
}

/// Without a mix: the slowest size's point, with the worst latency, times and error rate.
fn worst_of(ops: &[(f64, &OperatingPoint)]) -> OperatingPoint {
    let max = |f: fn(&OperatingPoint) -> f64| ops.iter().map(|(_, o)| f(o)).fold(0.0, f64::max);
    let (_, slowest) = ops
        .iter()
        .min_by(|a, b| a.1.per_instance_rps.total_cmp(&b.1.per_instance_rps))
        .expect("at least one size");
    OperatingPoint {
        latency_ms: max(|o| o.latency_ms),
        mean_latency_ms: max(|o| o.mean_latency_ms),
        mean_service_ms: max(|o| o.mean_service_ms),
        response_bytes: max(|o| o.response_bytes),
        error_rate: max(|o| o.error_rate),
        low_confidence: ops.iter().any(|(_, o)| o.low_confidence),
        ..(*slowest).clone()
    }
}

/// The capacity of `op` and whether a binding size stood at the sweep's top: without a mix
/// the slowest size binds; with one, every size of the mix does.
pub(super) fn capacity(sizes: &[SizeResult], op: &OperatingPoint) -> Capacity {
    let must = relevant(sizes);
    let mixed = sizes.iter().any(|s| s.weight.is_some());
    let binding: Vec<&&SizeResult> = must
        .iter()
        .filter(|s| mixed || s.operating.as_ref().map(|o| o.cell_index) == Some(op.cell_index))
        .collect();
    let top = binding.iter().find(|s| s.at_top());
    Capacity {
        per_instance_rps: op.per_instance_rps,
        at_least: top.is_some(),
        add_load: top.and_then(|s| s.top_load.as_ref()).map(next_load),
    }
}

/// The verdict of `reasons`.
pub(super) fn verdict(reasons: Vec<Reason>) -> Verdict {
    if reasons.is_empty() {
        Verdict::Feasible
    } else {
        Verdict::Infeasible { reasons }
    }
}
