//! Why a candidate cannot be recommended: the limits no load level changes (payload,
//! serverless memory name) and the SLA failures of its cells, each with the nearest value seen.

use crate::domain::Load;
use crate::domain::{Hosting, Pruned, Variant};
use crate::domain::{Quantile, Sla};
use crate::pricing::MissingPrice;
use crate::recommend::sla::{SlaFailure, SlaVerdict};
use crate::results::CellSummary;
use serde::{Deserialize, Serialize};

/// Why a candidate cannot be recommended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// The payload is over the hosting option's limit.
    #[error("payload {} over the {} limit of {hosting}", crate::domain::units::format_size(*payload_bytes), crate::domain::units::format_size(*limit_bytes))]
    PayloadOverLimit {
        /// The hosting option.
        hosting: Hosting,
        /// Request body size.
        payload_bytes: u64,
        /// The option's limit.
        limit_bytes: u64,
    },
    /// A serverless variant whose name is not `serverless-<MB>`.
    #[error("`{name}` is not `serverless-<MB>`")]
    UnknownServerlessMemory {
        /// The variant name.
        name: String,
    },
    /// The price table has no row for it.
    #[error("{0}")]
    NoPrice(MissingPrice),
    /// The SLA percentile is over the limit at some loads (and no load passed).
    #[error(
        "{percentile} over {limit_ms} ms at {loads_over} of {loads} loads; lowest {lowest_ms} ms at {at}"
    )]
    LatencyOverLimit {
        /// The SLA percentile.
        percentile: Quantile,
        /// The limit, ms.
        limit_ms: f64,
        /// The lowest percentile latency among those loads, ms.
        lowest_ms: f64,
        /// The load where it was seen.
        at: Load,
        /// Loads over the limit.
        loads_over: usize,
        /// Loads measured.
        loads: usize,
    },
    /// The error rate is over the limit at some loads (and no load passed).
    #[error("error rate over {:.3}% at {loads_over} of {loads} loads; lowest {:.3}% at {at}{}", limit * 100.0, lowest_rate * 100.0, mostly.map(|k| format!(", mostly {k}")).unwrap_or_default())]
    ErrorsOverLimit {
        /// The limit.
        limit: f64,
        /// The most frequent error class at that load (e.g. `timeout`, `throttled`).
        #[serde(default)]
        mostly: Option<crate::sample::ErrorKind>,
        /// The lowest error rate among those loads.
        lowest_rate: f64,
        /// The load where it was seen.
        at: Load,
        /// Loads over the limit.
        loads_over: usize,
        /// Loads measured.
        loads: usize,
    },
    /// A token limit (TTFT, TPOT) missed at every load, with the nearest value.
    #[error("{0}")]
    Tokens(crate::recommend::token_sla::TokenReason),
    /// Loads without a single successful response.
    #[error("no successful responses at {loads_without} of {loads} loads")]
    NoSuccessfulResponses {
        /// Loads without one.
        loads_without: usize,
        /// Loads measured.
        loads: usize,
    },
    /// Loads whose histogram could not be read.
    #[error("latency unreadable at {loads_unknown} of {loads} loads; rerun them")]
    LatencyUnknown {
        /// Loads affected.
        loads_unknown: usize,
        /// Loads measured.
        loads: usize,
    },
    /// Loads the generator could not apply (open loop dropped arrivals).
    #[error(
        "generator-bound at {loads_dropping} of {loads} loads; raise `max_in_flight` or lower the rate"
    )]
    GeneratorBound {
        /// Loads with drops.
        loads_dropping: usize,
        /// Loads measured.
        loads: usize,
    },
    /// Open-loop loads whose completions fell behind their arrivals.
    #[error("saturated at {loads_saturated} of {loads} loads: the load exceeds capacity")]
    Saturated {
        /// Loads saturated.
        loads_saturated: usize,
        /// Loads measured.
        loads: usize,
    },
    /// An adaptive sweep stopped probing it: even its throughput at a load that missed the
    /// SLA would cost more than a feasible candidate already found.
    #[error(
        "not probed below {}: at most {:.1} rps/inst there, so at least ${:.4}/M, dearer than {} at ${:.4}/M", .0.at, .0.per_instance_rps, .0.floor_per_million, .0.beaten_by, .0.beaten_per_million
    )]
    Dearer(Pruned),
    /// Batch transform among online options: a transform job answers no live requests.
    #[error(
        "offline only: a batch transform job answers no live requests (sweep batch alone to rank it for datasets)"
    )]
    OfflineOnly,
    /// Intermittent traffic meets serverless cold starts, and one is over the SLA latency.
    #[error(
        "cold start {first_request_ms:.0} ms (the first request) over the {limit_ms} ms limit, and traffic is intermittent"
    )]
    ColdStartOverLimit {
        /// The first request's response time, ms.
        first_request_ms: f64,
        /// The SLA latency limit, ms.
        limit_ms: f64,
    },
    /// The model does not fit the instance's, accelerator's or serverless size's memory.
    #[error("the model needs {model_mb} MB of memory and this has {available_mb} MB; not measured")]
    ModelTooLarge {
        /// Memory the model needs, MB.
        model_mb: u32,
        /// Memory available, MB.
        available_mb: u32,
    },
    /// A provisioned run could not deploy it: a quota or capacity refusal, or an endpoint
    /// that reached `Failed`; never measured.
    #[error("could not deploy: {reason}")]
    CouldNotDeploy {
        /// Instances asked for, or serverless MaxConcurrency.
        count: u32,
        /// The control plane's error code and message, or the endpoint's `FailureReason`.
        reason: String,
    },
    /// One payload size of the workload fails: its own reasons.
    #[error("at {payload}: {}", join(reasons))]
    AtPayload {
        /// The size (`64KiB`, or `rows.json 1KiB`).
        payload: String,
        /// Why that size fails.
        reasons: Vec<Reason>,
    },
    /// Serverless concurrency at peak (Little's law) over MaxConcurrency.
    #[error("{needed:.1} requests in flight at peak, over MaxConcurrency {limit}")]
    ConcurrencyOverLimit {
        /// Peak rps × mean latency.
        needed: f64,
        /// MaxConcurrency.
        limit: u32,
    },
}

impl Reason {
    /// measured / limit for reasons more load tuning could approach; infinite for the others.
    pub fn miss_ratio(&self) -> f64 {
        match self {
            Reason::LatencyOverLimit {
                lowest_ms,
                limit_ms,
                ..
            } => lowest_ms / limit_ms,
            Reason::ErrorsOverLimit {
                lowest_rate, limit, ..
            } if *limit > 0.0 => lowest_rate / limit,
            Reason::ConcurrencyOverLimit { needed, limit } => needed / f64::from(*limit),
            Reason::AtPayload { reasons, .. } => {
                reasons.iter().map(Reason::miss_ratio).fold(0.0, f64::max)
            }
            Reason::Tokens(t) => t.miss_ratio(),
            _ => f64::INFINITY,
        }
    }
}

/// `a; b`: reasons in one line.
fn join(reasons: &[Reason]) -> String {
    let words: Vec<String> = reasons.iter().map(ToString::to_string).collect();
    words.join("; ")
}

/// Whether a candidate can be recommended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// Meets the SLA within every limit, and has a price (or names no instance type or
    /// serverless size to price: the target itself).
    Feasible,
    /// Every reason it cannot be recommended.
    Infeasible {
        /// At least one reason.
        reasons: Vec<Reason>,
    },
}

pub(super) fn latency(v: &SlaVerdict) -> f64 {
    v.latency_ms.unwrap_or(f64::INFINITY)
}

/// Limits of the hosting option that no load level changes.
pub(super) fn limit_reasons(
    hosting: Option<Hosting>,
    variant: Option<&Variant>,
    payload_bytes: u64,
) -> Vec<Reason> {
    let mut reasons = Vec::new();
    let Some(hosting) = hosting else {
        return reasons;
    };
    if payload_bytes > hosting.max_payload_bytes() {
        reasons.push(Reason::PayloadOverLimit {
            hosting,
            payload_bytes,
            limit_bytes: hosting.max_payload_bytes(),
        });
    }
    if let Some(variant) = variant
        && hosting == Hosting::Serverless
        && variant.serverless_memory_mb().is_none()
    {
        reasons.push(Reason::UnknownServerlessMemory {
            name: variant.to_string(),
        });
    }
    reasons
}

/// Why no cell of a candidate passed: one reason per kind of failure, with the nearest value.
pub(super) fn sla_reasons(
    sla: &Sla,
    cells: &[&CellSummary],
    verdicts: &[SlaVerdict],
) -> Vec<Reason> {
    let loads = cells.len();
    let failing = |pred: fn(&SlaFailure) -> bool| -> Vec<usize> {
        (0..loads)
            .filter(|&i| verdicts[i].failures.iter().any(pred))
            .collect()
    };
    let mut reasons = Vec::new();
    let without = failing(|f| matches!(f, SlaFailure::NoSuccessfulResponses));
    if !without.is_empty() {
        reasons.push(Reason::NoSuccessfulResponses {
            loads_without: without.len(),
            loads,
        });
    }
    let slow = failing(|f| matches!(f, SlaFailure::LatencyOverLimit { .. }));
    if let Some(&best) = slow
        .iter()
        .min_by(|&&a, &&b| latency(&verdicts[a]).total_cmp(&latency(&verdicts[b])))
    {
        reasons.push(Reason::LatencyOverLimit {
            percentile: sla.percentile,
            limit_ms: sla.latency_ms,
            lowest_ms: latency(&verdicts[best]),
            at: cells[best].load,
            loads_over: slow.len(),
            loads,
        });
    }
    let erring = failing(|f| matches!(f, SlaFailure::ErrorsOverLimit { .. }));
    reasons.extend(errors_reason(sla, cells, &erring));
    let unknown = failing(|f| matches!(f, SlaFailure::LatencyUnknown));
    if !unknown.is_empty() {
        reasons.push(Reason::LatencyUnknown {
            loads_unknown: unknown.len(),
            loads,
        });
    }
    let dropping = failing(|f| matches!(f, SlaFailure::GeneratorBound { .. }));
    if !dropping.is_empty() {
        reasons.push(Reason::GeneratorBound {
            loads_dropping: dropping.len(),
            loads,
        });
    }
    let saturated = failing(|f| matches!(f, SlaFailure::Saturated { .. }));
    if !saturated.is_empty() {
        reasons.push(Reason::Saturated {
            loads_saturated: saturated.len(),
            loads,
        });
    }
    reasons.extend(token_reasons(sla, cells, verdicts));
    if reasons.is_empty() {
        // Every cell passed but none had throughput: report it as nothing answered.
        reasons.push(Reason::NoSuccessfulResponses {
            loads_without: loads,
            loads,
        });
    }
    reasons
}

/// Why the loads at indices `erring` failed on errors: the one with the fewest, and the
/// kind of error it had most.
fn errors_reason(sla: &Sla, cells: &[&CellSummary], erring: &[usize]) -> Option<Reason> {
    let best = *erring
        .iter()
        .min_by(|&&a, &&b| cells[a].error_rate.total_cmp(&cells[b].error_rate))?;
    let mostly = cells[best]
        .errors_by_kind
        .iter()
        .filter(|(_, n)| **n > 0)
        .max_by_key(|(_, n)| **n)
        .map(|(k, _)| *k);
    Some(Reason::ErrorsOverLimit {
        mostly,
        limit: sla.max_error_rate,
        lowest_rate: cells[best].error_rate,
        at: cells[best].load,
        loads_over: erring.len(),
        loads: cells.len(),
    })
}

/// The token-limit reasons (TTFT, TPOT) of a candidate no load of which passed.
fn token_reasons(sla: &Sla, cells: &[&CellSummary], verdicts: &[SlaVerdict]) -> Vec<Reason> {
    let per_load: Vec<_> = cells
        .iter()
        .zip(verdicts)
        .map(|(c, v)| {
            let misses = v.failures.iter().filter_map(|f| match f {
                SlaFailure::Tokens(m) => Some(*m),
                _ => None,
            });
            (c.load, misses.collect())
        })
        .collect();
    let reasons = super::token_sla::reasons(sla, &per_load);
    reasons.into_iter().map(Reason::Tokens).collect()
}
