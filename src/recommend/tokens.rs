//! The SLA and the recommendation in tokens: TTFT and TPOT limits at the SLA percentile
//! (a cell passes only when both hold, beside latency and errors, so a candidate is sized on
//! the highest load that meets all of them), and what a candidate's operating point costs
//! per million output tokens and per million input + output tokens.
//!
//! Cost method: a candidate's `$/million requests` (the ranking figure, at its traffic
//! basis) divided by the mean output tokens per request at its operating point gives
//! `$/million output tokens`; divided by mean input + output tokens, `$/million tokens`
//! (only when the server reported input tokens).

use super::OperatingPoint;
use super::cost::Cost;
use super::reason::Reason;
use super::sla::{SlaFailure, SlaVerdict};
use crate::domain::{Load, Quantile, Sla};
use crate::pricing::Usd;
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

/// A candidate's figures in tokens at its operating point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TokenFigures {
    /// TTFT at the SLA percentile, ms.
    pub ttft_ms: Option<f64>,
    /// TPOT at the SLA percentile, ms.
    pub tpot_ms: Option<f64>,
    /// Mean inter-token gap, ms.
    pub itl_mean_ms: Option<f64>,
    /// Output tokens per second (per endpoint).
    pub output_tokens_per_s: f64,
    /// Mean output tokens per request.
    pub mean_output_tokens: f64,
    /// Mean input tokens per request (0 when the server never said).
    pub mean_input_tokens: f64,
    /// Dollars per million output tokens, when priced.
    pub per_million_output: Option<Usd>,
    /// Dollars per million input + output tokens, when priced and input tokens are known.
    pub per_million_tokens: Option<Usd>,
}

/// The token limits a cell breaks, pushed after the latency and error checks.
pub(super) fn failures(cell: &CellSummary, sla: &Sla, out: &mut Vec<SlaFailure>) {
    if !sla.has_token_limits() || cell.ok == 0 {
        return;
    }
    let Some(t) = &cell.tokens else {
        out.push(SlaFailure::NoTokenTimings);
        return;
    };
    let limits = [
        (TokenMetric::Ttft, sla.ttft_ms, t.ttft_at(sla.percentile)),
        (TokenMetric::Tpot, sla.tpot_ms, t.tpot_at(sla.percentile)),
    ];
    for (metric, limit, measured) in limits {
        let Some(limit_ms) = limit else { continue };
        match measured {
            Some(ms) if ms > limit_ms => out.push(SlaFailure::TokenTimeOverLimit {
                metric,
                percentile: sla.percentile,
                measured_ms: ms,
                limit_ms,
            }),
            Some(_) => {}
            // A one-token reply has no TPOT: nothing to judge.
            None if metric == TokenMetric::Tpot => {}
            None => out.push(SlaFailure::NoTokenTimings),
        }
    }
}

/// Why no cell passed, for the token limits: one reason per metric with the lowest value.
pub(super) fn reasons(sla: &Sla, cells: &[&CellSummary], verdicts: &[SlaVerdict]) -> Vec<Reason> {
    let mut out = Vec::new();
    let loads = cells.len();
    for metric in [TokenMetric::Ttft, TokenMetric::Tpot] {
        let over: Vec<(f64, Load)> = verdicts
            .iter()
            .zip(cells)
            .filter_map(|(v, c)| {
                v.failures.iter().find_map(|f| match f {
                    SlaFailure::TokenTimeOverLimit {
                        metric: m,
                        measured_ms,
                        ..
                    } if *m == metric => Some((*measured_ms, c.load)),
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
            out.push(Reason::TokenTimeOverLimit {
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
    let missing = verdicts
        .iter()
        .filter(|v| v.failures.contains(&SlaFailure::NoTokenTimings))
        .count();
    if missing > 0 {
        out.push(Reason::NoTokenTimings {
            loads_without: missing,
            loads,
        });
    }
    out
}

/// The candidate's token figures at its operating point; `None` without a streamed one.
pub(super) fn figures(
    percentile: Quantile,
    cells: &[&CellSummary],
    operating: Option<&OperatingPoint>,
    cost: Option<&Cost>,
) -> Option<TokenFigures> {
    let op = operating?;
    let cell = cells.iter().find(|c| c.index == op.cell_index)?;
    let t = cell.tokens.as_ref()?;
    let per = |tokens: f64| {
        cost.filter(|_| tokens > 0.0)
            .map(|c| Usd(c.per_million.value() / tokens))
    };
    let total = t.mean_input_tokens + t.mean_output_tokens;
    Some(TokenFigures {
        ttft_ms: t.ttft_at(percentile),
        tpot_ms: t.tpot_at(percentile),
        itl_mean_ms: t.itl.map(|p| p.mean_ms),
        output_tokens_per_s: t.output_tokens_per_s,
        mean_output_tokens: t.mean_output_tokens,
        mean_input_tokens: t.mean_input_tokens,
        per_million_output: per(t.mean_output_tokens),
        per_million_tokens: per(total).filter(|_| t.mean_input_tokens > 0.0),
    })
}
