//! What a cell's streamed replies measured ([`TokenSummary`]): time to first token (TTFT),
//! inter-token latency (ITL, every gap), time per output token (TPOT), token totals and
//! rates, with the three histograms stored like the latency one so `compare`, `merge` and
//! reports read them back.

use super::Percentiles;
use super::histogram;
use crate::domain::Quantile;
use crate::domain::units::round3;
use crate::recorder::tokens::TokenRecorder;
use serde::{Deserialize, Serialize};

/// Where a cell's token counts came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CountedFrom {
    /// Every reply's `usage`.
    Usage,
    /// Counted from the stream (one token per chunk with text).
    Stream,
    /// Body chunks of a plain chunked reply.
    Chunks,
    /// Some replies one way, some another.
    Mixed,
}

/// Token figures of one cell of a streaming target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TokenSummary {
    /// Streamed replies measured.
    pub replies: u64,
    /// Output tokens of the replies completed inside the window.
    pub output_tokens: u64,
    /// Input tokens, summed over replies whose server said (`usage`); 0 when none did.
    pub input_tokens: u64,
    /// Where the counts came from.
    pub counted_from: CountedFrom,
    /// Output tokens completed inside the window per second of it.
    pub output_tokens_per_s: f64,
    /// Input + output tokens per second (input when the server said).
    pub total_tokens_per_s: f64,
    /// Mean over replies of output tokens per second of each reply's end-to-end time.
    pub mean_request_tokens_per_s: f64,
    /// Mean output tokens per reply.
    pub mean_output_tokens: f64,
    /// Mean input tokens per reply (0 when the server never said).
    pub mean_input_tokens: f64,
    /// Time to first token, from the intended start.
    pub ttft: Option<Percentiles>,
    /// Inter-token latency: every gap between tokens.
    pub itl: Option<Percentiles>,
    /// Time per output token after the first.
    pub tpot: Option<Percentiles>,
    /// TTFT histogram (µs), HdrHistogram V2 deflate, base64.
    pub ttft_histogram: String,
    /// ITL histogram (µs), same encoding.
    pub itl_histogram: String,
    /// TPOT histogram (µs), same encoding.
    pub tpot_histogram: String,
}

impl TokenSummary {
    /// Summarises a cell's token recorder over `secs` of measured window.
    pub fn of(t: &TokenRecorder, secs: f64) -> TokenSummary {
        let counted_from = match (t.from_usage, t.from_stream, t.from_chunks) {
            (_, 0, 0) => CountedFrom::Usage,
            (0, _, 0) => CountedFrom::Stream,
            (0, 0, _) => CountedFrom::Chunks,
            _ => CountedFrom::Mixed,
        };
        let n = t.replies.max(1) as f64;
        let in_window_input = if t.output_tokens == 0 {
            0.0
        } else {
            t.input_tokens as f64 * t.output_tokens_in_window as f64 / t.output_tokens as f64
        };
        TokenSummary {
            replies: t.replies,
            output_tokens: t.output_tokens_in_window,
            input_tokens: t.input_tokens,
            counted_from,
            output_tokens_per_s: round3(t.output_tokens_in_window as f64 / secs),
            total_tokens_per_s: round3((t.output_tokens_in_window as f64 + in_window_input) / secs),
            mean_request_tokens_per_s: round3(t.tokens_per_s_sum / n),
            mean_output_tokens: round3(t.output_tokens as f64 / n),
            mean_input_tokens: round3(t.input_tokens as f64 / n),
            ttft: Percentiles::of(&t.ttft),
            itl: Percentiles::of(&t.itl),
            tpot: Percentiles::of(&t.tpot),
            ttft_histogram: histogram::encode(&t.ttft),
            itl_histogram: histogram::encode(&t.itl),
            tpot_histogram: histogram::encode(&t.tpot),
        }
    }

    /// TTFT at an SLA percentile, ms, from the stored histogram.
    pub fn ttft_at(&self, q: Quantile) -> Option<f64> {
        at(&self.ttft_histogram, q)
    }

    /// TPOT at an SLA percentile, ms, from the stored histogram.
    pub fn tpot_at(&self, q: Quantile) -> Option<f64> {
        at(&self.tpot_histogram, q)
    }

    /// Input tokens per output token (0 when the server never said).
    pub fn input_per_output(&self) -> f64 {
        if self.mean_output_tokens > 0.0 {
            self.mean_input_tokens / self.mean_output_tokens
        } else {
            0.0
        }
    }
}

fn at(encoded: &str, q: Quantile) -> Option<f64> {
    let h = histogram::decode(encoded).ok()?;
    (!h.is_empty()).then(|| round3(h.value_at_quantile(q.fraction()) as f64 / 1000.0))
}
