//! Live figures of the running cell, read while it runs: progress lines and early stops.
//!
//! Shards add to shared atomics (no locks); a coarse log-scale latency histogram gives
//! approximate percentiles (within ~10 %) without touching the exact per-shard HdrHistograms.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Buckets per doubling of latency: resolution of 2^(1/8) ≈ 9 %.
const PER_OCTAVE: f64 = 8.0;
/// Buckets cover 1 µs to 2^32 µs (~71 minutes).
const BUCKETS: usize = 32 * 8 + 1;

/// Counters of the running cell's measured window.
#[derive(Debug)]
pub struct LiveStats {
    ok: AtomicU64,
    errors: AtomicU64,
    buckets: Box<[AtomicU64]>,
    /// Streaming: time to first token, same buckets.
    ttft: Box<[AtomicU64]>,
    /// Streaming: time per output token, same buckets.
    tpot: Box<[AtomicU64]>,
}

fn buckets() -> Box<[AtomicU64]> {
    (0..BUCKETS).map(|_| AtomicU64::new(0)).collect()
}

impl Default for LiveStats {
    fn default() -> LiveStats {
        LiveStats {
            ok: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            buckets: buckets(),
            ttft: buckets(),
            tpot: buckets(),
        }
    }
}

/// A copy of the live counters at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Snapshot {
    /// Successful responses so far.
    pub ok: u64,
    /// Failures so far.
    pub errors: u64,
    /// Approximate median response time, ms.
    pub p50_ms: Option<f64>,
    /// Approximate 99th percentile, ms.
    pub p99_ms: Option<f64>,
}

fn bucket_of(latency: Duration) -> usize {
    let us = latency.as_micros().max(1) as f64;
    ((us.log2() * PER_OCTAVE).round() as usize).min(BUCKETS - 1)
}

/// Approximate value at `quantile` of bucket counts.
fn quantile_of(buckets: &[AtomicU64], quantile: f64) -> Option<f64> {
    let counts: Vec<u64> = buckets.iter().map(|b| b.load(Relaxed)).collect();
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return None;
    }
    let rank = (quantile * total as f64).ceil().max(1.0) as u64;
    let mut seen = 0;
    for (i, n) in counts.iter().enumerate() {
        seen += n;
        if seen >= rank {
            return Some(bucket_ms(i));
        }
    }
    Some(bucket_ms(BUCKETS - 1))
}

fn bucket_ms(index: usize) -> f64 {
    2f64.powf(index as f64 / PER_OCTAVE) / 1000.0
}

impl LiveStats {
    /// Counts a successful response of `latency`.
    pub fn ok(&self, latency: Duration) {
        self.ok.fetch_add(1, Relaxed);
        self.buckets[bucket_of(latency)].fetch_add(1, Relaxed);
    }

    /// Counts a failure.
    pub fn error(&self) {
        self.errors.fetch_add(1, Relaxed);
    }

    /// Counts a streamed reply's time to first token and time per output token.
    pub fn tokens(&self, ttft: Duration, tpot: Option<Duration>) {
        self.ttft[bucket_of(ttft)].fetch_add(1, Relaxed);
        if let Some(tpot) = tpot {
            self.tpot[bucket_of(tpot)].fetch_add(1, Relaxed);
        }
    }

    /// Approximate latency at `quantile` (0..1) of the successful responses so far.
    pub fn quantile_ms(&self, quantile: f64) -> Option<f64> {
        quantile_of(&self.buckets, quantile)
    }

    /// Approximate TTFT at `quantile` of the streamed replies so far.
    pub fn ttft_ms(&self, quantile: f64) -> Option<f64> {
        quantile_of(&self.ttft, quantile)
    }

    /// Approximate TPOT at `quantile` of the streamed replies so far.
    pub fn tpot_ms(&self, quantile: f64) -> Option<f64> {
        quantile_of(&self.tpot, quantile)
    }

    /// The counters now.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            ok: self.ok.load(Relaxed),
            errors: self.errors.load(Relaxed),
            p50_ms: self.quantile_ms(0.5),
            p99_ms: self.quantile_ms(0.99),
        }
    }
}

/// When a cell may stop before its duration because its SLA is clearly broken.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EarlyStop {
    /// The SLA percentile as a quantile (0.99 for p99).
    pub quantile: f64,
    /// Stop when that percentile passes this many milliseconds…
    pub latency_ms: f64,
    /// …or the error rate passes this fraction…
    pub error_rate: f64,
    /// …or the TTFT at the percentile passes this many milliseconds…
    pub ttft_ms: Option<f64>,
    /// …or the TPOT at the percentile passes this many milliseconds…
    pub tpot_ms: Option<f64>,
    /// …once at least this many requests have completed.
    pub min_requests: u64,
}

impl EarlyStop {
    /// Whether `live` shows the SLA clearly broken.
    pub fn broken(&self, live: &LiveStats) -> bool {
        let s = live.snapshot();
        let done = s.ok + s.errors;
        if done < self.min_requests {
            return false;
        }
        let errors_broken = s.errors as f64 / done as f64 > self.error_rate;
        let latency_broken = live
            .quantile_ms(self.quantile)
            .is_some_and(|ms| ms > self.latency_ms);
        let over = |limit: Option<f64>, at: Option<f64>| limit.zip(at).is_some_and(|(l, m)| m > l);
        let tokens_broken = over(self.ttft_ms, live.ttft_ms(self.quantile))
            || over(self.tpot_ms, live.tpot_ms(self.quantile));
        errors_broken || latency_broken || tokens_broken
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_within_ten_percent() {
        let live = LiveStats::default();
        for ms in 1..=1000u64 {
            live.ok(Duration::from_millis(ms));
        }
        let p50 = live.quantile_ms(0.5).unwrap();
        let p99 = live.quantile_ms(0.99).unwrap();
        assert!((p50 - 500.0).abs() / 500.0 < 0.1, "p50 {p50}");
        assert!((p99 - 990.0).abs() / 990.0 < 0.1, "p99 {p99}");
        assert_eq!(live.snapshot().ok, 1000);
    }

    #[test]
    fn early_stop_waits_for_enough_requests_then_judges() {
        let live = LiveStats::default();
        let stop = EarlyStop {
            quantile: 0.99,
            latency_ms: 100.0,
            error_rate: 0.1,
            ttft_ms: None,
            tpot_ms: None,
            min_requests: 10,
        };
        for _ in 0..5 {
            live.ok(Duration::from_millis(500));
        }
        assert!(!stop.broken(&live), "too few requests to judge");
        for _ in 0..5 {
            live.ok(Duration::from_millis(500));
        }
        assert!(stop.broken(&live));
        let healthy = LiveStats::default();
        for _ in 0..100 {
            healthy.ok(Duration::from_millis(20));
        }
        assert!(!stop.broken(&healthy));
        for _ in 0..20 {
            healthy.error();
        }
        assert!(stop.broken(&healthy), "errors past the limit");
    }

    #[test]
    fn early_stop_judges_ttft_and_tpot_when_the_sla_limits_them() {
        let stop = EarlyStop {
            quantile: 0.99,
            latency_ms: 10_000.0,
            error_rate: 0.1,
            ttft_ms: Some(200.0),
            tpot_ms: Some(50.0),
            min_requests: 10,
        };
        let slow_first = LiveStats::default();
        let fine = LiveStats::default();
        let slow_steps = LiveStats::default();
        for _ in 0..10 {
            for live in [&slow_first, &fine, &slow_steps] {
                live.ok(Duration::from_millis(1_000));
            }
            slow_first.tokens(Duration::from_millis(900), Some(Duration::from_millis(10)));
            fine.tokens(Duration::from_millis(100), Some(Duration::from_millis(10)));
            slow_steps.tokens(Duration::from_millis(100), Some(Duration::from_millis(90)));
        }
        assert!(stop.broken(&slow_first), "TTFT 900 ms over 200");
        assert!(!stop.broken(&fine));
        assert!(stop.broken(&slow_steps), "TPOT 90 ms over 50");
    }
}
