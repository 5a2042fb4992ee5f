//! The recommendation in tokens: what a candidate's operating point costs per million
//! output tokens and per million input + output tokens, with its TTFT and TPOT.
//!
//! Cost method: a candidate's `$/million requests` (at its traffic basis) divided by the mean
//! output tokens per request at its operating point gives `$/million output tokens`; divided
//! by mean input + output tokens, `$/million tokens` (only when the server reported input
//! tokens).

use super::OperatingPoint;
use super::cost::Cost;
use crate::domain::Quantile;
use crate::pricing::Usd;
use crate::results::CellSummary;
use serde::{Deserialize, Serialize};

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

/// The token figures of a candidate over several payload levels (prompt lengths): TTFT and
/// TPOT of the worst level (as latency is), means of tokens per request weighted by the mix
/// (equal weights without one), throughput of the level that binds, and the costs from the
/// combined `$/million requests`. `None` when no level streamed.
pub(super) fn combine(
    levels: &[(f64, &TokenFigures)],
    binding: Option<&TokenFigures>,
    cost: Option<&Cost>,
) -> Option<TokenFigures> {
    let weight: f64 = levels.iter().map(|(w, _)| w).sum();
    if levels.is_empty() || weight <= 0.0 {
        return None;
    }
    let mean =
        |f: fn(&TokenFigures) -> f64| levels.iter().map(|(w, t)| w * f(t)).sum::<f64>() / weight;
    let worst = |f: fn(&TokenFigures) -> Option<f64>| {
        levels.iter().filter_map(|(_, t)| f(t)).reduce(f64::max)
    };
    let mean_output_tokens = mean(|t| t.mean_output_tokens);
    let mean_input_tokens = mean(|t| t.mean_input_tokens);
    let per = |tokens: f64| {
        cost.filter(|_| tokens > 0.0)
            .map(|c| Usd(c.per_million.value() / tokens))
    };
    Some(TokenFigures {
        ttft_ms: worst(|t| t.ttft_ms),
        tpot_ms: worst(|t| t.tpot_ms),
        itl_mean_ms: worst(|t| t.itl_mean_ms),
        output_tokens_per_s: binding.map_or(0.0, |t| t.output_tokens_per_s),
        mean_output_tokens,
        mean_input_tokens,
        per_million_output: per(mean_output_tokens),
        per_million_tokens: per(mean_input_tokens + mean_output_tokens)
            .filter(|_| mean_input_tokens > 0.0),
    })
}
