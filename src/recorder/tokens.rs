//! Token timings of streamed replies, per shard: HdrHistograms (µs) of time to first token,
//! every inter-token gap and time per output token, and token totals. Allocated on a shard's
//! first streamed reply, so the plain request path never pays for them.

use super::{Recorder, latency_histogram, micros};
use crate::endpoint::stream::{TokenCount, Tokens};
use crate::sample::{Outcome, Sample};
use hdrhistogram::Histogram;
use std::time::Duration;

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
    }

    fn record(&mut self, s: &Sample, t: &Tokens, in_window: bool) {
        let queued = s.send_slip();
        let _ = self.ttft.record(micros(queued + t.first_token));
        for &gap in &t.gaps_us {
            let _ = self.itl.record(u64::from(gap).max(1));
        }
        if let Some(tpot) = t.tpot() {
            let _ = self.tpot.record(micros(tpot.max(Duration::from_micros(1))));
        }
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
        self.tokens
            .get_or_insert_with(Box::default)
            .record(s, t, in_window);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::time::Instant;

    #[test]
    fn ttft_counts_the_send_slip_and_every_gap_is_kept() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let sample = Sample {
            intended_start: t0,
            start: t0 + ms(5),
            end: t0 + ms(105),
            outcome: Outcome::Ok,
            bytes_out: 1,
            bytes_in: 1,
            variant: None,
            cold_start: false,
        };
        let tokens = Tokens {
            first_token: ms(20),
            last_token: ms(80),
            gaps_us: vec![30_000, 30_000],
            output_tokens: 3,
            input_tokens: Some(9),
            counted: TokenCount::Usage,
        };
        let mut r = Recorder::new(t0);
        r.record(&sample);
        r.record_tokens(&sample, Some(&tokens));
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
}
