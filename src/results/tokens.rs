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
    /// Per second of the cell's series: output tokens/s, TTFT, TPOT and ITL p50/p99, mean
    /// TPOT and ITL.
    pub series: Vec<TokenSecondStats>,
    /// The TTFT histogram of each second of `series` (1 significant digit, same encoding),
    /// so series of several machines merge exactly.
    pub series_histograms: Vec<String>,
    /// The TPOT histogram of each second of `series`, encoded and merged alike.
    pub series_tpot_histograms: Vec<String>,
    /// The ITL histogram of each second of `series`, encoded and merged alike.
    pub series_itl_histograms: Vec<String>,
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
    /// Median TPOT of those, ms.
    pub tpot_p50_ms: Option<f64>,
    /// 99th-percentile TPOT of those, ms.
    pub tpot_p99_ms: Option<f64>,
    /// Replies behind `tpot_mean_ms`.
    pub tpot_n: u64,
    /// Mean inter-token gap of the gaps that ended this second, ms.
    pub itl_mean_ms: Option<f64>,
    /// Median gap of those, ms.
    pub itl_p50_ms: Option<f64>,
    /// 99th-percentile gap of those, ms.
    pub itl_p99_ms: Option<f64>,
    /// Gaps behind `itl_mean_ms`.
    pub itl_n: u64,
}

/// A token series with the encoded histograms of its seconds, as [`TokenSummary`] keeps it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SeriesParts {
    /// The seconds.
    pub series: Vec<TokenSecondStats>,
    /// Each second's TTFT histogram.
    pub ttft: Vec<String>,
    /// Each second's TPOT histogram.
    pub tpot: Vec<String>,
    /// Each second's ITL histogram.
    pub itl: Vec<String>,
}

impl SeriesParts {
    /// Adds a second with its histograms.
    fn push(
        &mut self,
        stats: TokenSecondStats,
        [ttft, tpot, itl]: [&Histogram<impl hdrhistogram::Counter>; 3],
    ) {
        self.series.push(stats);
        self.ttft.push(histogram::encode(ttft));
        self.tpot.push(histogram::encode(tpot));
        self.itl.push(histogram::encode(itl));
    }
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
        let mut parts = SeriesParts::default();
        for (i, span, s) in seconds(t, secs) {
            parts.push(stats(i, span, &s), [&s.ttft, &s.tpot, &s.itl]);
        }
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
            series: parts.series,
            series_histograms: parts.ttft,
            series_tpot_histograms: parts.tpot,
            series_itl_histograms: parts.itl,
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
            let s = t.seconds.get(i).unwrap_or_default();
            (i as u32, if span > 0.0 { span } else { 1.0 }, s)
        })
}

fn mean_ms(sum_us: u64, n: u64) -> Option<f64> {
    (n > 0).then(|| round3(sum_us as f64 / n as f64 / 1000.0))
}

fn quantile_ms<T: hdrhistogram::Counter>(h: &Histogram<T>, q: f64) -> Option<f64> {
    (!h.is_empty()).then(|| round3(h.value_at_quantile(q) as f64 / 1000.0))
}

fn stats(second: u32, span: f64, s: &TokenSecond) -> TokenSecondStats {
    TokenSecondStats {
        second,
        span_s: round3(span),
        output_tokens: s.output_tokens,
        output_tokens_per_s: round3(s.output_tokens as f64 / span),
        ttft_p50_ms: quantile_ms(&s.ttft, 0.5),
        ttft_p99_ms: quantile_ms(&s.ttft, 0.99),
        tpot_mean_ms: mean_ms(s.tpot_sum_us, s.tpot_n),
        tpot_p50_ms: quantile_ms(&s.tpot, 0.5),
        tpot_p99_ms: quantile_ms(&s.tpot, 0.99),
        tpot_n: s.tpot_n,
        itl_mean_ms: mean_ms(s.itl_sum_us, s.itl_n),
        itl_p50_ms: quantile_ms(&s.itl, 0.5),
        itl_p99_ms: quantile_ms(&s.itl, 0.99),
        itl_n: s.itl_n,
    }
}

/// The token series of several generator shards on one clock, second by second: tokens
/// summed, TTFT, TPOT and ITL histograms added, mean TPOT and ITL weighted by their counts.
pub fn merge_series(parts: &[&TokenSummary]) -> Result<SeriesParts, histogram::HistogramError> {
    struct Acc {
        span: f64,
        tokens: u64,
        /// TTFT, TPOT and ITL.
        histograms: [Histogram<u64>; 3],
        tpot: (f64, u64),
        itl: (f64, u64),
    }
    let mut seconds: BTreeMap<u32, Acc> = BTreeMap::new();
    for t in parts {
        let stored = [
            &t.series_histograms,
            &t.series_tpot_histograms,
            &t.series_itl_histograms,
        ];
        for (i, s) in t.series.iter().enumerate() {
            let acc = seconds.entry(s.second).or_insert_with(|| Acc {
                span: 0.0,
                tokens: 0,
                histograms: [(); 3].map(|()| Histogram::new_from(&second_ttft_histogram())),
                tpot: (0.0, 0),
                itl: (0.0, 0),
            });
            acc.span = acc.span.max(s.span_s);
            acc.tokens += s.output_tokens;
            for (h, texts) in acc.histograms.iter_mut().zip(stored) {
                if let Some(text) = texts.get(i) {
                    // A 1-digit histogram of the same bounds: adding cannot fail.
                    let _ = h.add(&histogram::decode(text)?);
                }
            }
            acc.tpot.0 += s.tpot_mean_ms.unwrap_or(0.0) * s.tpot_n as f64;
            acc.tpot.1 += s.tpot_n;
            acc.itl.0 += s.itl_mean_ms.unwrap_or(0.0) * s.itl_n as f64;
            acc.itl.1 += s.itl_n;
        }
    }
    let weighted = |(sum, n): (f64, u64)| (n > 0).then(|| round3(sum / n as f64));
    let mut merged = SeriesParts::default();
    for (second, a) in seconds {
        let span = if a.span > 0.0 { a.span } else { 1.0 };
        let [ttft, tpot, itl] = &a.histograms;
        let stats = TokenSecondStats {
            second,
            span_s: a.span,
            output_tokens: a.tokens,
            output_tokens_per_s: round3(a.tokens as f64 / span),
            ttft_p50_ms: quantile_ms(ttft, 0.5),
            ttft_p99_ms: quantile_ms(ttft, 0.99),
            tpot_mean_ms: weighted(a.tpot),
            tpot_p50_ms: quantile_ms(tpot, 0.5),
            tpot_p99_ms: quantile_ms(tpot, 0.99),
            tpot_n: a.tpot.1,
            itl_mean_ms: weighted(a.itl),
            itl_p50_ms: quantile_ms(itl, 0.5),
            itl_p99_ms: quantile_ms(itl, 0.99),
            itl_n: a.itl.1,
        };
        merged.push(stats, [ttft, tpot, itl]);
    }
    Ok(merged)
}

fn at(encoded: &str, q: Quantile) -> Option<f64> {
    let h = histogram::decode(encoded).ok()?;
    (!h.is_empty()).then(|| round3(h.value_at_quantile(q.fraction()) as f64 / 1000.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoint::stream::{TokenCount, Tokens};
    use crate::recorder::Recorder;
    use crate::recorder::tokens::fixture;
    use crate::sample::Sample;
    use tokio::time::Instant;

    /// A reply sent at `start_ms` whose first token came 10 ms later, then `gaps_ms`,
    /// counted from the stream.
    fn reply(t0: Instant, start_ms: u64, gaps_ms: &[u32]) -> (Sample, Tokens) {
        let span: u64 = gaps_ms.iter().map(|g| u64::from(*g)).sum();
        let times = [start_ms, start_ms, start_ms + 10 + span];
        let output = gaps_ms.len() as u32 + 1;
        let (sample, mut tokens) = fixture::reply(t0, times, 10, gaps_ms, output, None);
        tokens.counted = TokenCount::Stream;
        (sample, tokens)
    }

    fn record(r: &mut Recorder, (sample, tokens): (Sample, Tokens)) {
        r.record(&sample);
        r.record_tokens(&sample, Some(&tokens));
    }

    /// In second 0, 97 gaps of 2 ms and 3 of 200 ms: the mean is 7.9 ms, the p99 200 ms.
    fn long_gaps_among_short(r: &mut Recorder, t0: Instant) {
        let mut gaps = vec![2; 97];
        gaps.extend([200, 200, 200]);
        record(r, reply(t0, 0, &gaps));
    }

    #[test]
    fn a_second_keeps_its_itl_and_tpot_percentiles_beside_the_means() {
        let t0 = Instant::now();
        let mut r = Recorder::new(t0);
        long_gaps_among_short(&mut r, t0);
        // A second reply ending in second 0: TPOT 2 ms beside the first's (794 / 100).
        record(&mut r, reply(t0, 0, &[2; 50]));
        let t = TokenSummary::of(r.tokens.as_ref().unwrap(), 2.0);
        let s = &t.series[0];
        assert_eq!(s.itl_n, 150);
        assert!((5.0..6.0).contains(&s.itl_mean_ms.unwrap()), "{s:?}");
        let (p50, p99) = (s.itl_p50_ms.unwrap(), s.itl_p99_ms.unwrap());
        assert!((1.9..=2.2).contains(&p50), "{s:?}");
        assert!(
            (190.0..=215.0).contains(&p99),
            "the long gaps, not the mean: {s:?}"
        );
        let (tp50, tp99) = (s.tpot_p50_ms.unwrap(), s.tpot_p99_ms.unwrap());
        assert!(tp50 < 2.2 && (7.5..=8.5).contains(&tp99), "{s:?}");
        assert_eq!(t.series_itl_histograms.len(), t.series.len());
        let second = histogram::decode(&t.series_itl_histograms[0]).unwrap();
        assert_eq!(second.len(), 150);
        assert_eq!(
            histogram::decode(&t.series_tpot_histograms[0])
                .unwrap()
                .len(),
            2
        );
        assert!(t.series[1].itl_p99_ms.is_none(), "nothing in second 1");
    }

    #[test]
    fn per_second_percentiles_merge_across_shards_and_generators_exactly() {
        let t0 = Instant::now();
        let (mut a, mut b, mut both) = (Recorder::new(t0), Recorder::new(t0), Recorder::new(t0));
        long_gaps_among_short(&mut a, t0);
        record(&mut b, reply(t0, 1_000, &[3; 300]));
        long_gaps_among_short(&mut both, t0);
        record(&mut both, reply(t0, 1_000, &[3; 300]));
        let one = TokenSummary::of(both.tokens.as_ref().unwrap(), 3.0);
        let mut shards = Recorder::new(t0);
        shards.merge(&a);
        shards.merge(&b);
        let merged = TokenSummary::of(shards.tokens.as_ref().unwrap(), 3.0);
        assert_eq!(merged.series, one.series, "engine shards");
        let parts = [
            TokenSummary::of(a.tokens.as_ref().unwrap(), 3.0),
            TokenSummary::of(b.tokens.as_ref().unwrap(), 3.0),
        ];
        let generators = merge_series(&[&parts[0], &parts[1]]).unwrap();
        assert_eq!(generators.series, one.series, "generator shards");
        assert_eq!(generators.itl, one.series_itl_histograms);
        assert_eq!(generators.tpot, one.series_tpot_histograms);
        assert!(one.series[0].itl_p99_ms.unwrap() > 150.0);
        assert!(one.series[1].itl_p99_ms.unwrap() < 3.5);
    }

    #[test]
    fn a_long_token_series_stays_small() {
        let t0 = Instant::now();
        let mut r = Recorder::new(t0);
        let gaps: Vec<u32> = (0..40).map(|i| 5 + i % 7).collect();
        for second in 0..600u64 {
            for j in 0..4 {
                record(&mut r, reply(t0, second * 1_000 + j * 100, &gaps));
            }
        }
        let t = r.tokens.as_ref().unwrap();
        assert_eq!(t.seconds.len(), 600);
        // Live, 600 seconds would hold 1,800 histograms of ~2 KiB (3.5 MiB).
        let bytes = t.seconds.heap_bytes();
        assert!(bytes < 400 * 1024, "{bytes} bytes for 600 seconds");
    }
}
