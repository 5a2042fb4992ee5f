//! What a cell's streamed replies measured ([`TokenSummary`]): time to first token (TTFT),
//! inter-token latency (ITL, every gap), time per output token (TPOT), token totals and
//! rates, with the three histograms stored like the latency one so `compare`, `merge` and
//! reports read them back; and the per-second token series ([`TokenSecondStats`]), merged
//! across generator shards by [`merge_series`].

use super::Percentiles;
use super::histogram;
use crate::domain::Quantile;
use crate::domain::units::round3;
use crate::recorder::tokens::{TokenRecorder, TokenSecond, second_ttft_histogram};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
    /// Per second of the cell's series: output tokens/s, TTFT p50/p99, mean TPOT and ITL.
    pub series: Vec<TokenSecondStats>,
    /// The TTFT histogram of each second of `series` (1 significant digit, same encoding),
    /// so series of several machines merge exactly.
    pub series_histograms: Vec<String>,
}

/// One second of a streamed cell (the same seconds as the cell's latency series).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TokenSecondStats {
    /// Seconds since measurement started.
    pub second: u32,
    /// Length of the window this second covers, s.
    pub span_s: f64,
    /// Output tokens that arrived in this second.
    pub output_tokens: u64,
    /// Output tokens per second of the span.
    pub output_tokens_per_s: f64,
    /// Median TTFT of the replies whose first token came this second, ms.
    pub ttft_p50_ms: Option<f64>,
    /// 99th-percentile TTFT of those, ms.
    pub ttft_p99_ms: Option<f64>,
    /// Mean TPOT of the replies that completed this second, ms.
    pub tpot_mean_ms: Option<f64>,
    /// Replies behind `tpot_mean_ms`.
    pub tpot_n: u64,
    /// Mean inter-token gap of the gaps that ended this second, ms.
    pub itl_mean_ms: Option<f64>,
    /// Gaps behind `itl_mean_ms`.
    pub itl_n: u64,
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
            series: seconds(t, secs)
                .map(|(i, span, s)| stats(i, span, s))
                .collect(),
            series_histograms: seconds(t, secs)
                .map(|(_, _, s)| histogram::encode(&s.ttft))
                .collect(),
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

/// The seconds of the token series over `elapsed_s`, as the latency series keeps them (a
/// partial last second shorter than half a second left out), with their spans; seconds
/// without tokens are empty.
fn seconds(t: &TokenRecorder, elapsed_s: f64) -> impl Iterator<Item = (u32, f64, TokenSecond)> {
    let whole = (elapsed_s.ceil() as usize).max(1);
    (0..whole)
        .map(move |i| (i, (elapsed_s - i as f64).clamp(0.0, 1.0)))
        .filter(|(i, span)| *i == 0 || *span >= 0.5)
        .map(|(i, span)| {
            let s = t.seconds.get(i).cloned().unwrap_or_default();
            (i as u32, if span > 0.0 { span } else { 1.0 }, s)
        })
}

fn mean_ms(sum_us: u64, n: u64) -> Option<f64> {
    (n > 0).then(|| round3(sum_us as f64 / n as f64 / 1000.0))
}

fn quantile_ms<T: hdrhistogram::Counter>(h: &Histogram<T>, q: f64) -> Option<f64> {
    (!h.is_empty()).then(|| round3(h.value_at_quantile(q) as f64 / 1000.0))
}

fn stats(second: u32, span: f64, s: TokenSecond) -> TokenSecondStats {
    TokenSecondStats {
        second,
        span_s: round3(span),
        output_tokens: s.output_tokens,
        output_tokens_per_s: round3(s.output_tokens as f64 / span),
        ttft_p50_ms: quantile_ms(&s.ttft, 0.5),
        ttft_p99_ms: quantile_ms(&s.ttft, 0.99),
        tpot_mean_ms: mean_ms(s.tpot_sum_us, s.tpot_n),
        tpot_n: s.tpot_n,
        itl_mean_ms: mean_ms(s.itl_sum_us, s.itl_n),
        itl_n: s.itl_n,
    }
}

/// The token series of several generator shards on one clock, second by second: tokens
/// summed, TTFT histograms added, mean TPOT and ITL weighted by their counts.
pub fn merge_series(
    parts: &[&TokenSummary],
) -> Result<(Vec<TokenSecondStats>, Vec<String>), histogram::HistogramError> {
    struct Acc {
        span: f64,
        tokens: u64,
        ttft: Histogram<u64>,
        tpot: (f64, u64),
        itl: (f64, u64),
    }
    let mut seconds: BTreeMap<u32, Acc> = BTreeMap::new();
    for t in parts {
        for (i, s) in t.series.iter().enumerate() {
            let acc = seconds.entry(s.second).or_insert_with(|| Acc {
                span: 0.0,
                tokens: 0,
                ttft: Histogram::new_from(&second_ttft_histogram()),
                tpot: (0.0, 0),
                itl: (0.0, 0),
            });
            acc.span = acc.span.max(s.span_s);
            acc.tokens += s.output_tokens;
            if let Some(text) = t.series_histograms.get(i) {
                // A 1-digit histogram of the same bounds: adding cannot fail.
                let _ = acc.ttft.add(&histogram::decode(text)?);
            }
            acc.tpot.0 += s.tpot_mean_ms.unwrap_or(0.0) * s.tpot_n as f64;
            acc.tpot.1 += s.tpot_n;
            acc.itl.0 += s.itl_mean_ms.unwrap_or(0.0) * s.itl_n as f64;
            acc.itl.1 += s.itl_n;
        }
    }
    let weighted = |(sum, n): (f64, u64)| (n > 0).then(|| round3(sum / n as f64));
    Ok(seconds
        .into_iter()
        .map(|(second, a)| {
            let span = if a.span > 0.0 { a.span } else { 1.0 };
            let stats = TokenSecondStats {
                second,
                span_s: a.span,
                output_tokens: a.tokens,
                output_tokens_per_s: round3(a.tokens as f64 / span),
                ttft_p50_ms: quantile_ms(&a.ttft, 0.5),
                ttft_p99_ms: quantile_ms(&a.ttft, 0.99),
                tpot_mean_ms: weighted(a.tpot),
                tpot_n: a.tpot.1,
                itl_mean_ms: weighted(a.itl),
                itl_n: a.itl.1,
            };
            (stats, histogram::encode(&a.ttft))
        })
        .unzip())
}

fn at(encoded: &str, q: Quantile) -> Option<f64> {
    let h = histogram::decode(encoded).ok()?;
    (!h.is_empty()).then(|| round3(h.value_at_quantile(q.fraction()) as f64 / 1000.0))
}
