//! What a run knows besides its cells: candidates an adaptive sweep pruned, the first request
//! to each variant (a serverless cold start), and variants the model does not fit.

use super::reason::{Reason, Verdict, limit_reasons};
use super::{Candidate, Context, Cost, Prices, cost};
use crate::domain::{FirstRequest, Hosting, InstanceType, Pruned, Traffic, Unfit, Variant};
use crate::results::CellSummary;
use serde::{Deserialize, Serialize};

/// What a run knows besides its cells.
#[derive(Clone, Copy, Debug, Default)]
pub struct Evidence<'a> {
    /// Candidates an adaptive sweep or search stopped probing.
    pub pruned: &'a [PrunedCandidate],
    /// The first request to each variant (serverless: its cold start).
    pub first_requests: &'a [FirstRequest],
    /// Variants the model does not fit, never measured.
    pub unfit: &'a [Unfit],
    /// Cells the plan had (for "N of M cells" when the run was interrupted).
    pub planned_cells: usize,
    /// Whether the run was stopped by Ctrl-C.
    pub interrupted: bool,
}

/// A candidate an adaptive sweep stopped probing, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PrunedCandidate {
    /// Hosting option.
    pub hosting: Hosting,
    /// Instance type or serverless memory size.
    pub variant: Variant,
    /// Request body size.
    pub payload_bytes: u64,
    /// Why it was not probed further.
    pub pruned: Pruned,
}

/// Candidates for variants the model does not fit, judged on the largest payload size the
/// run measured.
pub(super) fn unfit_candidates(cells: &[CellSummary], unfit: &[Unfit]) -> Vec<Candidate> {
    let sizes: std::collections::BTreeSet<u64> = cells
        .iter()
        .map(|c| c.payload_bytes)
        .max()
        .into_iter()
        .collect();
    let mut out = Vec::new();
    for u in unfit {
        let (Some(hosting), Some(variant)) = (u.deployment.hosting, &u.deployment.variant) else {
            continue;
        };
        for &payload_bytes in &sizes {
            let mut reasons = limit_reasons(Some(hosting), Some(variant), payload_bytes);
            reasons.push(Reason::ModelTooLarge {
                model_mb: u.model_mb,
                available_mb: u.available_mb,
            });
            out.push(Candidate {
                hosting: Some(hosting),
                variant: Some(variant.clone()),
                payload_bytes,
                payload_file: None,
                cells: 0,
                operating: None,
                cost: None,
                verdict: Verdict::Infeasible { reasons },
                rank: None,
                on_frontier: false,
                repeats: None,
                first_request_ms: None,
                workload: Vec::new(),
                capacity: None,
                fleet: None,
                scaling: None,
                monthly: None,
                tokens: None,
            });
        }
    }
    out
}

/// A serverless variant's first request, ms (its cold start when it was idle).
pub(super) fn first_request_ms(
    first: &[FirstRequest],
    hosting: Option<Hosting>,
    variant: Option<&Variant>,
) -> Option<f64> {
    if hosting != Some(Hosting::Serverless) {
        return None;
    }
    first
        .iter()
        .find(|f| f.deployment.hosting == hosting && f.deployment.variant.as_ref() == variant)
        .map(|f| f.ms)
}

/// A pruned candidate's reasons: the limits no load changes, then [`Reason::Dearer`].
pub(super) fn dearer(c: &Candidate, pruned: &Pruned) -> Vec<Reason> {
    let mut reasons = limit_reasons(c.hosting, c.variant.as_ref(), c.payload_bytes);
    reasons.push(Reason::Dearer(pruned.clone()));
    reasons
}

/// The least an instance-billed candidate (real-time, async, batch) can cost per million
/// requests if each instance sustains at most `per_instance_rps`; `None` for serverless
/// (billed per use, not by throughput) or without a price.
pub fn cost_floor(
    prices: Prices<'_>,
    traffic: Option<&Traffic>,
    hosting: Hosting,
    instance_type: &InstanceType,
    per_instance_rps: f64,
) -> Option<f64> {
    let cost = instance_cost(prices, hosting, instance_type, per_instance_rps, traffic)?;
    Some(cost.per_million.0)
}

/// What an instance-billed option costs when each instance sustains `per_instance_rps`:
/// real-time for its fleet all day, async and batch while busy; `None` for serverless or
/// without a price.
pub(super) fn instance_cost(
    prices: Prices<'_>,
    hosting: Hosting,
    instance_type: &InstanceType,
    per_instance_rps: f64,
    traffic: Option<&Traffic>,
) -> Option<Cost> {
    let row = prices
        .table
        .instance_hourly(prices.region, hosting, instance_type)?;
    match hosting {
        Hosting::Serverless => None,
        Hosting::RealTime => Some(cost::always_on(row.usd, per_instance_rps, traffic)),
        Hosting::Async | Hosting::Batch => {
            let floor = traffic.map_or(0, |t| t.min_instances(hosting));
            Some(cost::while_busy(row.usd, per_instance_rps, traffic, floor))
        }
    }
}

impl Context<'_> {
    /// With intermittent traffic, a serverless cold start longer than the SLA latency makes
    /// the candidate infeasible: idle gaps send live requests to cold capacity.
    pub(super) fn gate_cold_start(&self, c: &mut Candidate) {
        let intermittent = self.traffic.is_some_and(|t| t.intermittent);
        let Some(ms) = c
            .first_request_ms
            .filter(|ms| intermittent && *ms > self.sla.latency_ms)
        else {
            return;
        };
        let reason = Reason::ColdStartOverLimit {
            first_request_ms: ms,
            limit_ms: self.sla.latency_ms,
        };
        match &mut c.verdict {
            Verdict::Feasible => {
                c.verdict = Verdict::Infeasible {
                    reasons: vec![reason],
                }
            }
            Verdict::Infeasible { reasons } => reasons.push(reason),
        }
    }
}
