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
