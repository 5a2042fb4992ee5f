//! Recommend: from measured cells, the SLA, the traffic and a price table, every candidate
//! (hosting option × instance type or serverless memory × payload size) with its verdict and
//! cost, the cheapest feasible one, and the cost–latency Pareto frontier. A pure function.
//!
//! Per candidate, the *operating point* is its SLA-passing cell (closed or open loop alike)
//! with the highest measured throughput; per-instance throughput = that / `instance_count`.
//! Costs follow [`cost`]; candidates are compared on [`Cost::per_million`], whose traffic
//! is given by the [`CostBasis`]:
//!
//! - `requests_per_day` known → the daily cost of that traffic, per million requests
//!   (real-time billed for its peak fleet all day; serverless, async and batch for what they use);
//! - else, with a peak → per million requests at peak;
//! - else → per million requests at one instance's capacity (no fleet sizing).
//!
//! The SLA applies to the online options alike (for async the measured latency includes
//! the queue); batch transform, which answers no live requests, is held to its error limit
//! and invocation timeout, and loses to any online option as offline only. With repeats of
//! the grid, each candidate stands at its worst pass ([`RepeatRange`]); pruned candidates, cold
//! starts and sizes the model does not fit come in as [`Evidence`].
//!
//! Cells that name no hosting option or instance type (a plain HTTP target) form one
//! *unpriced* candidate per payload size, the target itself: judged on the SLA like any
//! other, without a price, and ranked after the priced feasible ones. Cells cut short by
//! Ctrl-C (`interrupted`) are left out of the judging ([`Interruption`]).

pub mod advise;
mod assemble;
mod candidate;
pub mod capacity;
pub mod cost;
mod evidence;
pub mod frontier;
pub mod mix;
pub mod monthly;
pub mod reason;
mod repeats;
pub mod scaling;
pub mod sla;
pub mod token_sla;
pub mod tokens;
pub mod workload;

pub use capacity::{Capacity, Fleet};
pub use cost::{Billing, Cost};
pub use evidence::{Evidence, PrunedCandidate, cost_floor};
pub use monthly::{MonthlyComparison, MonthlyCost};
pub use reason::{Reason, Verdict};
pub use repeats::RepeatRange;
pub use scaling::ScalingPolicy;
pub use workload::SizeResult;

use evidence::{instance_cost, not_deployed_candidates, unfit_candidates};
use reason::{latency, limit_reasons, sla_reasons};

use crate::domain::Load;
use crate::domain::{Hosting, Variant};
use crate::domain::{Sla, Traffic};
use crate::pricing::PriceTable;
use crate::results::CellSummary;
use serde::{Deserialize, Serialize};
use sla::SlaVerdict;

/// What the measurements do not say about the endpoints they ran against.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Options {
    /// Instances behind each measured real-time/async/batch endpoint; measured throughput is
    /// divided by it to get per-instance throughput.
    pub instance_count: u32,
    /// Serverless MaxConcurrency the endpoint may use (SageMaker allows up to 200).
    pub max_concurrency: u32,
}

impl Default for Options {
    /// One instance per endpoint; MaxConcurrency 200.
    fn default() -> Options {
        Options {
            instance_count: 1,
            max_concurrency: *crate::domain::SERVERLESS_MAX_CONCURRENCY.end(),
        }
    }
}

/// What traffic [`Cost::per_million`] is computed at, so candidates compare.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CostBasis {
    /// The daily cost of `requests_per_day`, expressed per million requests.
    PerDay {
        /// Requests per day.
        requests_per_day: f64,
    },
    /// Per million requests while serving the peak.
    AtPeak {
        /// Peak requests per second.
        peak_rps: f64,
    },
    /// Per million requests with one instance busy at its sustainable throughput.
    AtCapacity,
    /// A month's cost of the traffic's hourly shape (see [`monthly`]), per million requests.
    Monthly {
        /// Requests a month under the shape.
        requests_per_month: f64,
    },
}

impl CostBasis {
    /// The basis the traffic allows.
    pub fn of(traffic: Option<&Traffic>) -> CostBasis {
        match traffic {
            Some(Traffic {
                hourly: Some(h), ..
            }) => CostBasis::Monthly {
                requests_per_month: h.iter().sum::<f64>()
                    * 3600.0
                    * crate::domain::traffic::HOURS_PER_MONTH
                    / 24.0,
            },
            Some(Traffic {
                requests_per_day: Some(n),
                ..
            }) => CostBasis::PerDay {
                requests_per_day: *n,
            },
            Some(t) => CostBasis::AtPeak {
                peak_rps: t.peak_rps,
            },
            None => CostBasis::AtCapacity,
        }
    }
}

/// Where a candidate runs best within the SLA: its SLA-passing cell of highest throughput.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OperatingPoint {
    /// The cell's position in the plan.
    pub cell_index: usize,
    /// The load of that cell.
    pub load: Load,
    /// Measured successful responses per second (per endpoint).
    pub throughput_rps: f64,
    /// Throughput per instance (measured / `instance_count`; serverless: per endpoint).
    pub per_instance_rps: f64,
    /// Latency at the SLA percentile, ms.
    pub latency_ms: f64,
    /// Mean response time, ms.
    pub mean_latency_ms: f64,
    /// Mean service time (from the actual send), ms.
    pub mean_service_ms: f64,
    /// Mean response body, bytes.
    pub response_bytes: f64,
    /// errors / requests.
    pub error_rate: f64,
    /// Fewer samples than the percentile needs (see [`crate::recommend::sla`]).
    pub low_confidence: bool,
}

/// One (hosting option, instance type or serverless memory) judged on the whole workload
/// (every swept payload size, or the `[traffic] payload_mix`), and what it would cost;
/// without a hosting option or variant, the target itself (unpriced).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// Hosting option; `None` for a target that names none.
    pub hosting: Option<Hosting>,
    /// Instance type or serverless memory size; `None` for a target that names none
    /// (then the candidate has no price).
    pub variant: Option<Variant>,
    /// The largest request body of its workload (what the hosting limits are checked on).
    pub payload_bytes: u64,
    /// The payload file of a `source = "files"` level, when it was judged on one alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_file: Option<String>,
    /// Cells measured for it.
    pub cells: usize,
    /// Its operating point over the workload (see [`workload`]), if every size has one.
    pub operating: Option<OperatingPoint>,
    /// How it did on each payload size alone.
    pub workload: Vec<SizeResult>,
    /// What one instance sustains under the workload; whether the sweep reached it.
    pub capacity: Option<Capacity>,
    /// Instances at peak (real-time, async), with the floor.
    pub fleet: Option<Fleet>,
    /// The autoscaling policy (real-time, async).
    pub scaling: Option<ScalingPolicy>,
    /// A month under the traffic's shape.
    pub monthly: Option<MonthlyCost>,
    /// Its cost at the operating point, when priced.
    pub cost: Option<Cost>,
    /// Feasible, or why not.
    pub verdict: Verdict,
    /// Position among feasible candidates, cheapest first (1 = the recommendation).
    pub rank: Option<usize>,
    /// On the cost–latency Pareto frontier of feasible candidates.
    pub on_frontier: bool,
    /// With `sweep.repeats` > 1: the range over the repeats. The candidate's own figures and
    /// verdict are those of its worst repeat (infeasible, else the dearest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeats: Option<RepeatRange>,
    /// Serverless: the run's first request to it, ms — its cold start when it was idle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_request_ms: Option<f64>,
    /// Streaming targets: TTFT, TPOT and $/million tokens at the operating point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<tokens::TokenFigures>,
}

impl Candidate {
    /// Whether it can be recommended.
    pub fn feasible(&self) -> bool {
        matches!(self.verdict, Verdict::Feasible)
    }

    /// Why not (empty when feasible).
    pub fn reasons(&self) -> &[Reason] {
        match &self.verdict {
            Verdict::Feasible => &[],
            Verdict::Infeasible { reasons } => reasons,
        }
    }

    /// `real-time ml.c5.xlarge`; `target` for the target itself.
    pub fn label(&self) -> String {
        match (self.hosting, &self.variant) {
            (Some(h), Some(v)) => format!("{h} {v}"),
            (Some(h), None) => h.to_string(),
            (None, Some(v)) => v.to_string(),
            (None, None) => "target".into(),
        }
    }

    /// Hosting label for tables: `-` when none.
    pub fn hosting_label(&self) -> &str {
        self.hosting.map_or("-", Hosting::as_str)
    }

    /// Variant label for tables: `-` when none.
    pub fn variant_label(&self) -> String {
        self.variant
            .as_ref()
            .map_or_else(|| "-".to_string(), Variant::to_string)
    }

    /// Whether it names no instance type or serverless size, so it has no price.
    pub fn unpriced(&self) -> bool {
        self.variant.is_none()
    }

    fn ranking_cost(&self) -> f64 {
        // Streamed candidates of different generation lengths compare per output token.
        if let Some(usd) = self.tokens.as_ref().and_then(|t| t.per_million_output) {
            return usd.0;
        }
        self.cost
            .as_ref()
            .map_or(f64::INFINITY, |c| c.per_million.0)
    }

    fn sla_latency(&self) -> f64 {
        self.operating
            .as_ref()
            .map_or(f64::INFINITY, |o| o.latency_ms)
    }
}

/// The nearest candidate when nothing is feasible.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NearestMiss {
    /// Index into [`Recommendation::candidates`].
    pub candidate: usize,
    /// What it missed by, in words.
    pub explanation: String,
}

/// Every candidate ranked, the choice, and the frontier (as `on_frontier` marks).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    /// The SLA judged against.
    pub sla: Sla,
    /// The traffic sized for, when given.
    pub traffic: Option<Traffic>,
    /// Price region.
    pub region: String,
    /// `as_of` dates of the region's prices.
    pub prices_as_of: Vec<String>,
    /// What `per_million` means.
    pub basis: CostBasis,
    /// Assumptions about the measured endpoints.
    pub options: Options,
    /// Feasible candidates cheapest first, then infeasible ones nearest first.
    pub candidates: Vec<Candidate>,
    /// Index of the recommended candidate (the cheapest feasible), if any.
    pub choice: Option<usize>,
    /// When nothing is feasible: the closest candidate and why.
    pub nearest_miss: Option<NearestMiss>,
    /// Cells without a hosting option or instance type (plain HTTP targets): judged as the
    /// unpriced candidate(s) of the target itself.
    pub unattributed_cells: usize,
    /// When the run was interrupted: how far it got; its partial cells are left out.
    pub interrupted: Option<Interruption>,
    /// Each hosting option's month under the traffic's shape, when traffic is given.
    pub monthly: Option<MonthlyComparison>,
}

/// How far an interrupted run got.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interruption {
    /// Cells measured, the partial ones included.
    pub measured: usize,
    /// Cells the plan had.
    pub planned: usize,
    /// Plan indices of the cells cut short: never judged.
    pub partial: Vec<usize>,
}

impl Interruption {
    /// How far a run got, when it was interrupted (`run_interrupted`, or any cell cut short).
    pub fn of(
        cells: &[CellSummary],
        planned: usize,
        run_interrupted: bool,
    ) -> Option<Interruption> {
        let partial: Vec<usize> = cells
            .iter()
            .filter(|c| c.interrupted)
            .map(|c| c.index)
            .collect();
        (run_interrupted || !partial.is_empty()).then(|| Interruption {
            measured: cells.len(),
            planned: planned.max(cells.len()),
            partial,
        })
    }
}

impl std::fmt::Display for Interruption {
    /// `interrupted: 2 of 6 cells, the last one partial`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "interrupted: {} of {} cells",
            self.measured, self.planned
        )?;
        match self.partial.len() {
            0 => Ok(()),
            1 => f.write_str(", the last one partial"),
            n => write!(f, ", {n} of them partial"),
        }
    }
}

/// Where prices come from.
#[derive(Clone, Copy, Debug)]
pub struct Prices<'a> {
    /// The table.
    pub table: &'a PriceTable,
    /// The region to look up.
    pub region: &'a str,
}

/// Ranks every candidate of `cells` against `sla`, sized for `traffic` when given.
pub fn recommend(
    cells: &[CellSummary],
    sla: &Sla,
    traffic: Option<&Traffic>,
    prices: Prices<'_>,
    options: &Options,
) -> Recommendation {
    recommend_with(cells, sla, traffic, prices, options, &Evidence::default())
}

/// [`recommend`] with more evidence: pruned candidates without a passing load are rejected
/// as dearer rather than as missing the SLA (their lower loads were never measured); a
/// serverless candidate's first request is reported as its cold start, and with
/// intermittent traffic it must meet the SLA latency.
pub fn recommend_with(
    cells: &[CellSummary],
    sla: &Sla,
    traffic: Option<&Traffic>,
    prices: Prices<'_>,
    options: &Options,
    evidence: &Evidence<'_>,
) -> Recommendation {
    let interrupted = Interruption::of(cells, evidence.planned_cells, evidence.interrupted);
    let whole: Vec<CellSummary> = cells.iter().filter(|c| !c.interrupted).cloned().collect();
    let cells = whole.as_slice();
    let (groups, unattributed_cells) = assemble::group(cells);
    let ctx = Context {
        sla,
        online: groups.keys().any(|(h, _)| *h != Some(Hosting::Batch)),
        traffic,
        prices,
        options,
    };
    let mut candidates: Vec<Candidate> = groups
        .into_iter()
        .map(|((hosting, variant), cells)| ctx.judge(hosting, variant, &cells, evidence))
        .collect();
    candidates.extend(unfit_candidates(cells, evidence.unfit));
    candidates.extend(not_deployed_candidates(cells, evidence.not_deployed));
    let basis = CostBasis::of(traffic);
    if let CostBasis::Monthly { requests_per_month } = basis {
        assemble::rank_by_month(&mut candidates, requests_per_month);
    }
    frontier::rank(&mut candidates);
    let choice = candidates.first().filter(|c| c.feasible()).map(|_| 0);
    Recommendation {
        sla: *sla,
        traffic: traffic.cloned(),
        region: prices.region.to_string(),
        prices_as_of: prices.table.as_of_dates(Some(prices.region)),
        basis,
        options: *options,
        nearest_miss: frontier::nearest_miss(&candidates),
        monthly: traffic.map(|t| assemble::monthly_comparison(&candidates, t)),
        candidates,
        choice,
        unattributed_cells,
        interrupted,
    }
}

/// The inputs every candidate is judged with.
struct Context<'a> {
    sla: &'a Sla,
    /// Whether any online option (real-time, serverless, async) is a candidate: then batch
    /// transform, which answers no live requests, cannot be the answer.
    online: bool,
    traffic: Option<&'a Traffic>,
    prices: Prices<'a>,
    options: &'a Options,
}

impl Context<'_> {
    fn candidate(
        &self,
        hosting: Option<Hosting>,
        variant: Option<Variant>,
        payload_bytes: u64,
        cells: &[&CellSummary],
    ) -> Candidate {
        let mut reasons = limit_reasons(hosting, variant.as_ref(), payload_bytes);
        if let (Some(h), Some(v)) = (hosting, &variant) {
            let missing = self.prices.table.missing(self.prices.region, h, v);
            reasons.extend(missing.into_iter().map(Reason::NoPrice));
        }
        let sla = sla::for_hosting(self.sla, hosting);
        let verdicts: Vec<SlaVerdict> = cells.iter().map(|c| sla::check(c, &sla)).collect();
        let operating = self.operating_point(hosting, cells, &verdicts);
        if operating.is_none() {
            reasons.extend(sla_reasons(&sla, cells, &verdicts));
        }
        if hosting == Some(Hosting::Batch) && self.online {
            reasons.push(Reason::OfflineOnly);
        }
        let cost = match (hosting, &variant, &operating) {
            (Some(h), Some(v), Some(op)) => self.cost(h, v, payload_bytes, op),
            _ => None,
        };
        reasons.extend(self.concurrency_reason(cost.as_ref()));
        let token_figures =
            tokens::figures(sla.percentile, cells, operating.as_ref(), cost.as_ref());
        let verdict = if reasons.is_empty() {
            Verdict::Feasible
        } else {
            Verdict::Infeasible { reasons }
        };
        Candidate {
            cells: cells.len(),
            operating,
            cost,
            tokens: token_figures,
            ..Candidate::new(hosting, variant, payload_bytes, verdict)
        }
    }

    /// The SLA-passing cell of highest throughput (ties: lower latency).
    fn operating_point(
        &self,
        hosting: Option<Hosting>,
        cells: &[&CellSummary],
        verdicts: &[SlaVerdict],
    ) -> Option<OperatingPoint> {
        let (cell, verdict) = cells
            .iter()
            .zip(verdicts)
            .filter(|(c, v)| v.passed() && c.throughput_rps > 0.0)
            .max_by(|(a, va), (b, vb)| {
                a.throughput_rps
                    .total_cmp(&b.throughput_rps)
                    .then_with(|| latency(vb).total_cmp(&latency(va)))
            })?;
        let per_endpoint = hosting == Some(Hosting::Serverless);
        let instances = if per_endpoint {
            1
        } else {
            self.options.instance_count.max(1)
        };
        let mean_latency_ms = cell.latency.map_or(0.0, |l| l.mean_ms);
        Some(OperatingPoint {
            cell_index: cell.index,
            load: cell.load,
            throughput_rps: cell.throughput_rps,
            per_instance_rps: cell.throughput_rps / f64::from(instances),
            latency_ms: latency(verdict),
            mean_latency_ms,
            mean_service_ms: cell.service.map_or(mean_latency_ms, |s| s.mean_ms),
            response_bytes: cell.bytes_in as f64 / cell.requests.max(1) as f64,
            error_rate: cell.error_rate,
            low_confidence: verdict.low_confidence(),
        })
    }

    /// The candidate's cost at its operating point; `None` without a price.
    pub(super) fn cost(
        &self,
        hosting: Hosting,
        variant: &Variant,
        payload_bytes: u64,
        op: &OperatingPoint,
    ) -> Option<Cost> {
        let table = self.prices.table;
        let region = self.prices.region;
        match (hosting, variant) {
            (Hosting::Serverless, &Variant::Serverless { memory_mb }) => {
                let p = table.serverless(region)?;
                let per_request = cost::serverless_per_request(
                    &p,
                    memory_mb,
                    op.mean_service_ms,
                    payload_bytes as f64,
                    op.response_bytes,
                );
                Some(cost::per_use(
                    memory_mb,
                    per_request,
                    op.mean_latency_ms,
                    self.traffic,
                ))
            }
            (Hosting::Serverless, Variant::Instance(_)) => None,
            (_, Variant::Serverless { .. }) => None,
            (_, Variant::Instance(instance_type)) => instance_cost(
                self.prices,
                hosting,
                instance_type,
                op.per_instance_rps,
                self.traffic,
            ),
        }
    }

    pub(super) fn concurrency_reason(&self, cost: Option<&Cost>) -> Option<Reason> {
        let Some(Billing::PerUse {
            concurrency_at_peak: Some(needed),
            ..
        }) = cost.map(|c| &c.billing)
        else {
            return None;
        };
        (*needed > f64::from(self.options.max_concurrency)).then_some(
            Reason::ConcurrencyOverLimit {
                needed: *needed,
                limit: self.options.max_concurrency,
            },
        )
    }
}

#[cfg(test)]
mod target_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tokens_tests;
#[cfg(test)]
mod workload_tests;
