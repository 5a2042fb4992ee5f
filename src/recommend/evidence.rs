//! What a run knows besides its cells: candidates an adaptive sweep pruned, the first request
//! to each variant (a serverless cold start), variants the model does not fit, and candidates
//! a provisioned run could not deploy.

use super::reason::{Reason, Verdict, limit_reasons};
use super::{Candidate, Context, Cost, Prices, cost};
use crate::domain::{
    FirstRequest, Hosting, InstanceType, NotDeployed, Pruned, Traffic, Unfit, Variant,
};
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
    /// Candidates a provisioned run could not deploy, never measured.
    pub not_deployed: &'a [NotDeployed],
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
    unfit
        .iter()
        .filter_map(|u| {
            let reason = Reason::ModelTooLarge {
                model_mb: u.model_mb,
                available_mb: u.available_mb,
            };
            unmeasured(cells, &u.deployment, reason)
        })
        .flatten()
        .collect()
}

/// Candidates a provisioned run could not deploy, listed as losing with the control plane's
/// reason (on the largest payload size the run measured, or the smallest size when it
/// measured none).
pub(super) fn not_deployed_candidates(
    cells: &[CellSummary],
    not_deployed: &[NotDeployed],
) -> Vec<Candidate> {
    not_deployed
        .iter()
        .filter_map(|n| {
            let reason = Reason::CouldNotDeploy {
                count: n.count,
                reason: n.reason.clone(),
            };
            unmeasured(cells, &n.deployment, reason)
        })
        .flatten()
        .collect()
}

/// A candidate per payload size (the largest measured; none measured: size 0) for a
/// deployment never measured, infeasible for the limits it breaks and `reason`.
fn unmeasured(
    cells: &[CellSummary],
    deployment: &crate::domain::Deployment,
    reason: Reason,
) -> Option<Vec<Candidate>> {
    let (Some(hosting), Some(variant)) = (deployment.hosting, &deployment.variant) else {
        return None;
    };
    let largest = cells.iter().map(|c| c.payload_bytes).max();
    let sizes: Vec<u64> = largest.into_iter().collect();
    let sizes = if sizes.is_empty() { vec![0] } else { sizes };
    let out = sizes
        .into_iter()
        .map(|payload_bytes| {
            let mut reasons = limit_reasons(Some(hosting), Some(variant), payload_bytes);
            reasons.push(reason.clone());
            Candidate::new(
                Some(hosting),
                Some(variant.clone()),
                payload_bytes,
                Verdict::Infeasible { reasons },
            )
        })
        .collect();
    Some(out)
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

#[cfg(test)]
mod tests {
    use super::super::tests::cell;
    use super::*;
    use crate::domain::{Deployment, Sla};
    use crate::pricing::PriceTable;

    /// A measured c5.xlarge and a c5.4xlarge refused for its quota: the refused one is a
    /// losing candidate with the control plane's reason, and the measured one is chosen.
    #[test]
    fn a_candidate_that_could_not_deploy_loses_with_its_reason() {
        let cells = [cell(Hosting::RealTime, "ml.c5.xlarge", 4, 20.0, 100.0)];
        let refused = [NotDeployed {
            deployment: Deployment::new(Hosting::RealTime, Variant::instance("ml.c5.4xlarge")),
            count: 1,
            reason: "ResourceLimitExceeded: quota 0".into(),
        }];
        let evidence = super::super::Evidence {
            not_deployed: &refused,
            ..Default::default()
        };
        let table = PriceTable::embedded();
        let prices = Prices {
            table: &table,
            region: "us-east-1",
        };
        let sla = Sla {
            percentile: crate::domain::Quantile::P99,
            latency_ms: 100.0,
            max_error_rate: 0.01,
            ttft_ms: None,
            tpot_ms: None,
        };
        let r = super::super::recommend_with(
            &cells,
            &sla,
            None,
            prices,
            &Default::default(),
            &evidence,
        );
        assert_eq!(r.candidates.len(), 2, "{:?}", r.candidates);
        let chosen = &r.candidates[r.choice.expect("a choice")];
        assert_eq!(chosen.variant, Some(Variant::instance("ml.c5.xlarge")));
        let lost = r
            .candidates
            .iter()
            .find(|c| c.variant == Some(Variant::instance("ml.c5.4xlarge")))
            .expect("listed");
        assert!(!lost.feasible());
        let why: Vec<String> = lost.reasons().iter().map(ToString::to_string).collect();
        assert_eq!(why, ["could not deploy: ResourceLimitExceeded: quota 0"]);
        assert_eq!(lost.payload_bytes, cells[0].payload_bytes);
    }
}
