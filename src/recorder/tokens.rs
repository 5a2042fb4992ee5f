//! Token timings of streamed replies, per shard: HdrHistograms (µs) of time to first token,
//! every inter-token gap and time per output token, token totals, and a compact per-second
//! series ([`TokenSecond`]). Allocated on a shard's first streamed reply, so the plain
//! request path never pays for them.

use super::series::Packed;
use super::{MAX_LATENCY_US, Recorder, latency_histogram, micros};
use crate::endpoint::stream::{TokenCount, Tokens};
use crate::sample::{Outcome, Sample};
use hdrhistogram::Histogram;
use std::time::Duration;
use tokio::time::Instant;

/// Per-second TTFT, TPOT and ITL histograms keep 1 significant digit (within ~6 %): about
/// 2 KiB each live, enough for a second's p50/p99 and exact merges, and ~90× smaller than a
/// cell's; packed (a few dozen bytes) once [`TOKEN_LIVE_SECONDS`] old.
pub fn second_ttft_histogram() -> Histogram<u32> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, TOKEN_DIGITS).expect("constant bounds are valid")
}

/// Significant digits of the per-second token histograms.
const TOKEN_DIGITS: u8 = 1;

/// Seconds of the token series whose histograms stay live. A reply is recorded when it ends,
/// into the seconds its first token and gaps came in, so these cover replies of a few seconds;
/// a longer one unpacks each older second it reaches once.
pub const TOKEN_LIVE_SECONDS: usize = 8;

/// Which of a second's histograms: TTFT, TPOT, ITL.
const TTFT: usize = 0;
const TPOT: usize = 1;
const ITL: usize = 2;

/// One second of a cell's streamed replies: counts and sums, and small TTFT, TPOT and ITL
/// histograms.
#[derive(Clone, Debug)]
pub struct TokenSecond {
    /// Output tokens that arrived in this second (a reply's tokens spread over its chunks).
    pub output_tokens: u64,
    /// TTFT (from the intended start, µs) of the replies whose first token came this second.
    pub ttft: Histogram<u32>,
    /// TPOT (µs) of the replies that completed this second.
    pub tpot: Histogram<u32>,
    /// The inter-token gaps (µs) that ended this second.
    pub itl: Histogram<u32>,
    /// Sum of TPOT (µs) of the replies that completed this second, and their number.
    pub tpot_sum_us: u64,
    /// Replies with a TPOT that completed this second.
    pub tpot_n: u64,
    /// Sum of the inter-token gaps (µs) that ended this second, and their number.
    pub itl_sum_us: u64,
    /// Inter-token gaps that ended this second.
    pub itl_n: u64,
}

impl Default for TokenSecond {
    fn default() -> TokenSecond {
        TokenSecond::of(
            TokenCounts::default(),
            [(); 3].map(|()| second_ttft_histogram()),
        )
    }
}

impl TokenSecond {
    fn of(c: TokenCounts, [ttft, tpot, itl]: [Histogram<u32>; 3]) -> TokenSecond {
        TokenSecond {
            output_tokens: c.output_tokens,
            ttft,
            tpot,
            itl,
            tpot_sum_us: c.tpot_sum_us,
            tpot_n: c.tpot_n,
            itl_sum_us: c.itl_sum_us,
            itl_n: c.itl_n,
        }
    }
}

/// The counts and sums of one second of the token series.
#[derive(Clone, Copy, Debug, Default)]
struct TokenCounts {
    output_tokens: u64,
    tpot_sum_us: u64,
    tpot_n: u64,
    itl_sum_us: u64,
    itl_n: u64,
}

/// A shard's per-second token series from the window's start: counts of every second, and
/// each second's TTFT, TPOT and ITL histograms, packed once [`TOKEN_LIVE_SECONDS`] old (as the
/// latency series is, [`super::series`]), so a long cell stays small.
#[derive(Clone, Debug, Default)]
pub struct TokenSeries {
    counts: Vec<TokenCounts>,
    histograms: Packed<3, TOKEN_DIGITS, TOKEN_LIVE_SECONDS>,
}

impl TokenSeries {
    /// Seconds in the series.
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    /// Whether no second has been recorded.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Second `i`, its histograms unpacked; `None` past the end.
    pub fn get(&self, i: usize) -> Option<TokenSecond> {
        let counts = *self.counts.get(i)?;
        Some(TokenSecond::of(counts, self.histograms.get(i)))
    }

    /// Bytes the series holds beyond its own struct (for the memory tests).
    pub fn heap_bytes(&self) -> usize {
        self.histograms.heap_bytes() + self.counts.capacity() * size_of::<TokenCounts>()
    }

    /// Adds another shard's series second by second.
    pub fn merge(&mut self, o: &TokenSeries) {
        if self.counts.len() < o.counts.len() {
            self.counts.resize(o.counts.len(), TokenCounts::default());
        }
        for (mine, theirs) in self.counts.iter_mut().zip(&o.counts) {
            mine.output_tokens += theirs.output_tokens;
            mine.tpot_sum_us += theirs.tpot_sum_us;
            mine.tpot_n += theirs.tpot_n;
            mine.itl_sum_us += theirs.itl_sum_us;
            mine.itl_n += theirs.itl_n;
        }
        self.histograms.merge(&o.histograms);
    }

    /// The counts of `second`, the series extended to hold it.
    fn counts_mut(&mut self, second: usize) -> &mut TokenCounts {
        if self.counts.len() <= second {
            self.counts.resize(second + 1, TokenCounts::default());
        }
        self.histograms.reach(second);
        &mut self.counts[second]
    }

    /// Records `us` into histogram `which` of `second`.
    fn record(&mut self, second: usize, which: usize, us: u64) {
        self.counts_mut(second);
        // Values are clamped into the bounds, so recording cannot fail.
        self.histograms.with(second, |h| {
            let _ = h[which].record(us);
        });
    }

    /// Records gaps that all ended in `second` (its histogram touched once).
    fn record_gaps(&mut self, second: usize, gaps_us: &[u32]) {
        if gaps_us.is_empty() {
            return;
        }
        self.counts_mut(second);
        self.histograms.with(second, |h| {
            for &gap in gaps_us {
                let _ = h[ITL].record(u64::from(gap).max(1));
            }
        });
    }
}

/// What one shard's streamed replies measured.
#[derive(Clone, Debug)]
pub struct TokenRecorder {
    /// Time to first token, from the intended start (open loop corrected), µs.
    pub ttft: Histogram<u64>,
    /// Every gap between successive tokens, µs.
    pub itl: Histogram<u64>,
    /// Time per output token after the first, µs.
    pub tpot: Histogram<u64>,
    /// Streamed replies recorded (successes of the measured window, late ones included).
    pub replies: u64,
    /// Output tokens of the replies completed inside the window (throughput).
    pub output_tokens_in_window: u64,
    /// Output tokens of every recorded reply.
    pub output_tokens: u64,
    /// Input tokens of the replies whose server said (`usage`).
    pub input_tokens: u64,
    /// Replies counted by the server's `usage`.
    pub from_usage: u64,
    /// Replies counted from the stream (chunks with text).
    pub from_stream: u64,
    /// Replies counted as body chunks (plain chunked HTTP).
    pub from_chunks: u64,
    /// Sum over replies of output tokens per second of end-to-end time, for the mean.
    pub tokens_per_s_sum: f64,
    /// Per-second series from the window's start, by when tokens arrived.
    pub seconds: TokenSeries,
}

impl Default for TokenRecorder {
    fn default() -> TokenRecorder {
        TokenRecorder {
            ttft: latency_histogram(),
            itl: latency_histogram(),
            tpot: latency_histogram(),
            replies: 0,
            output_tokens_in_window: 0,
            output_tokens: 0,
            input_tokens: 0,
            from_usage: 0,
            from_stream: 0,
            from_chunks: 0,
            tokens_per_s_sum: 0.0,
            seconds: TokenSeries::default(),
        }
    }
}

impl TokenRecorder {
    /// Adds another shard's token measurements.
    pub fn merge(&mut self, o: &TokenRecorder) {
        // Same bounds everywhere, so adding cannot fail.
        let _ = self.ttft.add(&o.ttft);
        let _ = self.itl.add(&o.itl);
        let _ = self.tpot.add(&o.tpot);
        self.replies += o.replies;
        self.output_tokens_in_window += o.output_tokens_in_window;
        self.output_tokens += o.output_tokens;
        self.input_tokens += o.input_tokens;
        self.from_usage += o.from_usage;
        self.from_stream += o.from_stream;
        self.from_chunks += o.from_chunks;
        self.tokens_per_s_sum += o.tokens_per_s_sum;
        self.seconds.merge(&o.seconds);
    }

    /// Spreads a reply's tokens, TTFT, gaps and TPOT over the seconds they happened in.
    fn record_seconds(&mut self, s: &Sample, t: &Tokens, window_start: Instant, ttft_us: u64) {
        let second_of = |at: Instant| at.saturating_duration_since(window_start).as_secs() as usize;
        let series = &mut self.seconds;
        let first = s.start + t.first_token;
        let first_second = second_of(first);
        series.record(first_second, TTFT, ttft_us);
        let chunks = t.gaps_us.len() as u64 + 1;
        let out = u64::from(t.output_tokens);
        // Chunk k carries its share of the reply's tokens (usage may count several a chunk).
        let share = |k: u64| out * (k + 1) / chunks - out * k / chunks;
        series.counts_mut(first_second).output_tokens += share(0);
        // A second's gaps are consecutive: each run goes into its second's histogram at once.
        let (mut at, mut run, mut run_second) = (first, 0, first_second);
        for (k, &gap) in t.gaps_us.iter().enumerate() {
            at += Duration::from_micros(u64::from(gap));
            let second = second_of(at);
            if second != run_second {
                series.record_gaps(run_second, &t.gaps_us[run..k]);
                (run, run_second) = (k, second);
            }
            let counts = series.counts_mut(second);
            counts.output_tokens += share(k as u64 + 1);
            counts.itl_sum_us += u64::from(gap);
            counts.itl_n += 1;
        }
        series.record_gaps(run_second, &t.gaps_us[run..]);
        if let Some(tpot) = t.tpot() {
            let end = second_of(s.end);
            series.record(end, TPOT, micros(tpot.max(Duration::from_micros(1))));
            let counts = series.counts_mut(end);
            counts.tpot_sum_us += tpot.as_micros() as u64;
            counts.tpot_n += 1;
        }
    }

    fn record(&mut self, s: &Sample, t: &Tokens, in_window: bool, window_start: Instant) {
        let queued = s.send_slip();
        let ttft_us = micros(queued + t.first_token);
        let _ = self.ttft.record(ttft_us);
        for &gap in &t.gaps_us {
            let _ = self.itl.record(u64::from(gap).max(1));
        }
        if let Some(tpot) = t.tpot() {
            let _ = self.tpot.record(micros(tpot.max(Duration::from_micros(1))));
        }
        self.record_seconds(s, t, window_start, ttft_us);
        self.replies += 1;
        let out = u64::from(t.output_tokens);
        self.output_tokens += out;
        if in_window {
            self.output_tokens_in_window += out;
        }
        self.input_tokens += u64::from(t.input_tokens.unwrap_or(0));
        match t.counted {
            TokenCount::Usage => self.from_usage += 1,
            TokenCount::Stream => self.from_stream += 1,
            TokenCount::Chunks => self.from_chunks += 1,
        }
        let e2e = s.response_time().as_secs_f64();
        if e2e > 0.0 {
            self.tokens_per_s_sum += out as f64 / e2e;
        }
    }
}

impl Recorder {
    /// Records a streamed reply's token timings, when `s` is a success of the measured
    /// window (its count is [`Recorder::record`]'s).
    pub fn record_tokens(&mut self, s: &Sample, tokens: Option<&Tokens>) {
        let Some(t) = tokens else {
            return;
        };
        if s.outcome != Outcome::Ok || !self.measures(s.intended_start) {
            return;
        }
        let in_window = !self.is_late(s.end);
        let window_start = self.window_start;
        self.tokens
            .get_or_insert_with(Box::default)
            .record(s, t, in_window, window_start);
    }
}

/// Streamed replies for tests of the token figures (here and in `results`).
#[cfg(test)]
pub(crate) mod fixture {
    use super::*;
    use tokio::time::Instant;

    /// A streamed success (ms from `t0`: intended start, send, end) whose first token came
    /// `first_ms` after the send and each further chunk one of `gaps_ms` after the last;
    /// `output` tokens (and `input`, when given) by the server's `usage`.
    pub(crate) fn reply(
        t0: Instant,
        [intended, start, end]: [u64; 3],
        first_ms: u64,
        gaps_ms: &[u32],
        output: u32,
        input: Option<u32>,
    ) -> (Sample, Tokens) {
        let ms = Duration::from_millis;
        let sample = Sample {
            intended_start: t0 + ms(intended),
            start: t0 + ms(start),
            end: t0 + ms(end),
            outcome: Outcome::Ok,
            bytes_out: 1,
            bytes_in: 1,
            variant: None,
            cold_start: false,
        };
        let tokens = Tokens {
            first_token: ms(first_ms),
            last_token: ms(first_ms + u64::from(gaps_ms.iter().sum::<u32>())),
            gaps_us: gaps_ms.iter().map(|g| g * 1000).collect(),
            output_tokens: output,
            input_tokens: input,
            counted: TokenCount::Usage,
        };
        (sample, tokens)
    }
}

#[cfg(test)]
mod tests {
    use super::fixture::reply;
    use super::*;
    use tokio::time::Instant;

    /// A recorder from `t0` that recorded `reply`.
    fn recorded(t0: Instant, (sample, tokens): &(Sample, Tokens)) -> Recorder {
        let mut r = Recorder::new(t0);
        r.record(sample);
        r.record_tokens(sample, Some(tokens));
        r
    }

    #[test]
    fn ttft_counts_the_send_slip_and_every_gap_is_kept() {
        let t0 = Instant::now();
        let r = recorded(t0, &reply(t0, [0, 5, 105], 20, &[30, 30], 3, Some(9)));
        let t = r.tokens.as_ref().unwrap();
        assert_eq!(
            t.ttft.max() / 1000,
            25,
            "5 ms late + 20 ms to the first token"
        );
        assert_eq!(t.itl.len(), 2);
        assert_eq!(t.tpot.max() / 1000, 30, "(80 − 20) / (3 − 1)");
        assert_eq!((t.output_tokens, t.input_tokens, t.from_usage), (3, 9, 1));
        let mut other = Recorder::new(t0);
        other.merge(&r);
        other.merge(&r);
        assert_eq!(other.tokens.as_ref().unwrap().itl.len(), 4);
    }

    #[test]
    fn seconds_get_the_tokens_ttft_gaps_and_tpot_when_they_happen() {
        let t0 = Instant::now();
        // First token at 950 ms (second 0), then chunks at 1,050 and 1,150 ms (second 1);
        // six tokens by `usage`, two a chunk.
        let r = recorded(t0, &reply(t0, [890, 900, 1_200], 50, &[100, 100], 6, None));
        let t = r.tokens.as_ref().unwrap();
        assert_eq!(t.seconds.len(), 2);
        let (s0, s1) = (&t.seconds.get(0).unwrap(), &t.seconds.get(1).unwrap());
        assert_eq!((s0.output_tokens, s1.output_tokens), (2, 4));
        assert_eq!((s0.ttft.len(), s1.ttft.len()), (1, 0));
        assert!(
            s0.ttft.equivalent(s0.ttft.max(), 60_000),
            "10 ms late + 50 ms"
        );
        assert_eq!((s0.itl_n, s1.itl_n, s1.itl_sum_us), (0, 2, 200_000));
        assert_eq!((s1.tpot_n, s1.tpot_sum_us), (1, 40_000), "(250 − 50) / 5");
        let mut other = Recorder::new(t0);
        other.merge(&r);
        other.merge(&r);
        let merged = &other.tokens.as_ref().unwrap().seconds;
        let (m0, m1) = (merged.get(0).unwrap(), merged.get(1).unwrap());
        assert_eq!((m0.ttft.len(), m1.output_tokens), (2, 8));
    }
}
