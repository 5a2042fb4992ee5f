//! The SLA in tokens: TTFT and TPOT limits at the SLA percentile. A cell passes only when
//! both hold, beside latency and errors, so a candidate is sized on the highest load that
//! meets all of them; [`reasons`] says why no load of a candidate did, with the nearest value.

use crate::domain::{Load, Quantile, Sla};
use crate::results::CellSummary;
use serde::{Deserialize, Serialize};

/// Which token timing a limit is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenMetric {
    /// Time to first token.
    Ttft,
    /// Time per output token after the first.
    Tpot,
}

impl std::fmt::Display for TokenMetric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TokenMetric::Ttft => "TTFT",
            TokenMetric::Tpot => "TPOT",
        })
    }
}

/// A token limit one cell breaks.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "token", rename_all = "snake_case")]
pub enum TokenMiss {
    /// TTFT or TPOT at the percentile is over its limit.
    #[error("{metric} {percentile} {measured_ms} ms over the {limit_ms} ms limit")]
    OverLimit {
        /// Which timing.
        metric: TokenMetric,
        /// The SLA percentile.
        percentile: Quantile,
        /// Measured at it, ms.
        measured_ms: f64,
        /// The limit, ms.
        limit_ms: f64,
    },
    /// The SLA limits TTFT or TPOT and the cell has no token timings.
    #[error(
        "no token timings: the target does not stream, so ttft_ms and tpot_ms cannot be judged"
    )]
    NoTimings,
}

/// Why no load of a candidate met the token limits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "token", rename_all = "snake_case")]
pub enum TokenReason {
    /// A token timing is over its limit at some loads (and no load passed).
    #[error(
        "{metric} {percentile} over {limit_ms} ms at {loads_over} of {loads} loads; lowest {lowest_ms} ms at {at}"
    )]
    OverLimit {
        /// Which timing.
        metric: TokenMetric,
        /// The SLA percentile.
        percentile: Quantile,
        /// The limit, ms.
        limit_ms: f64,
        /// The lowest value among those loads, ms.
        lowest_ms: f64,
        /// The load where it was seen.
        at: Load,
        /// Loads over the limit.
        loads_over: usize,
        /// Loads measured.
        loads: usize,
    },
    /// Loads without token timings (the target did not stream).
    #[error("no token timings at {loads_without} of {loads} loads: the target does not stream")]
    NoTimings {
        /// Loads without them.
        loads_without: usize,
        /// Loads measured.
        loads: usize,
    },
}

impl TokenReason {
    /// measured / limit, as for the latency reason; infinite without timings.
    pub fn miss_ratio(&self) -> f64 {
        match self {
            TokenReason::OverLimit {
                lowest_ms,
                limit_ms,
                ..
            } => lowest_ms / limit_ms,
            TokenReason::NoTimings { .. } => f64::INFINITY,
        }
    }
}

/// The token limits a cell breaks (none when the SLA sets none or nothing succeeded).
pub fn check(cell: &CellSummary, sla: &Sla) -> Vec<TokenMiss> {
    let mut out = Vec::new();
    if !sla.has_token_limits() || cell.ok == 0 {
        return out;
    }
    let Some(t) = &cell.tokens else {
        out.push(TokenMiss::NoTimings);
        return out;
    };
    let limits = [
        (TokenMetric::Ttft, sla.ttft_ms, t.ttft_at(sla.percentile)),
        (TokenMetric::Tpot, sla.tpot_ms, t.tpot_at(sla.percentile)),
    ];
    for (metric, limit, measured) in limits {
        let Some(limit_ms) = limit else { continue };
        match measured {
            Some(ms) if ms > limit_ms => out.push(TokenMiss::OverLimit {
                metric,
                percentile: sla.percentile,
                measured_ms: ms,
                limit_ms,
            }),
            Some(_) => {}
            // A one-token reply has no TPOT: nothing to judge.
            None if metric == TokenMetric::Tpot => {}
            None => out.push(TokenMiss::NoTimings),
        }
    }
    out
}

/// Why no load passed, for the token limits: one reason per metric with its lowest value,
/// from each load's misses.
pub fn reasons(sla: &Sla, per_load: &[(Load, Vec<TokenMiss>)]) -> Vec<TokenReason> {
    let mut out = Vec::new();
    let loads = per_load.len();
    for metric in [TokenMetric::Ttft, TokenMetric::Tpot] {
        let over: Vec<(f64, Load)> = per_load
            .iter()
            .filter_map(|(load, misses)| {
                misses.iter().find_map(|m| match m {
                    TokenMiss::OverLimit {
                        metric: mm,
                        measured_ms,
                        ..
                    } if *mm == metric => Some((*measured_ms, *load)),
                    _ => None,
                })
            })
            .collect();
        let limit = match metric {
            TokenMetric::Ttft => sla.ttft_ms,
            TokenMetric::Tpot => sla.tpot_ms,
        };
        let best = over.iter().min_by(|a, b| a.0.total_cmp(&b.0));
        if let (Some(&(lowest_ms, at)), Some(limit_ms)) = (best, limit) {
            out.push(TokenReason::OverLimit {
                metric,
                percentile: sla.percentile,
                limit_ms,
                lowest_ms,
                at,
                loads_over: over.len(),
                loads,
            });
        }
    }
    let missing = per_load
        .iter()
        .filter(|(_, m)| m.contains(&TokenMiss::NoTimings))
        .count();
    if missing > 0 {
        out.push(TokenReason::NoTimings {
            loads_without: missing,
            loads,
        });
    }
    out
}
