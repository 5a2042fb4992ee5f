//! Per-shard measurement: response- and service-time HdrHistograms, outcome counts and a
//! per-second series. Each shard owns one [`Recorder`]; shards merge when the cell ends.

pub mod failures;
pub mod series;
pub mod tokens;

use crate::sample::{ErrorKind, Failure, Outcome, Sample};
use failures::FailureLog;
use hdrhistogram::Histogram;
use series::Series;
use std::time::Duration;
use tokio::time::Instant;

/// Highest latency a histogram can hold: one hour, in microseconds.
pub const MAX_LATENCY_US: u64 = 3_600_000_000;

/// A send that started more than this after its intended time counts as late.
pub const LATE_AFTER: Duration = Duration::from_millis(1);

/// A latency histogram in microseconds with 3 significant digits.
pub fn latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("constant bounds are valid")
}

/// Outcome tallies of one cell (or one shard of it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Requests handed to the target in the measured window.
    pub sent: u64,
    /// 2xx answers that completed inside the window.
    pub ok: u64,
    /// 2xx answers to requests sent in the window that completed after it closed: not in
    /// `ok` nor in throughput.
    pub late_ok: u64,
    /// Failures (in `errors`) that completed after the window closed.
    pub late_errors: u64,
    /// Measured requests that met a cold start (when the target says so).
    pub cold_starts: u64,
    /// Failures, indexed by [`ErrorKind::index`].
    pub errors: [u64; ErrorKind::ALL.len()],
    /// Sent but unanswered when the cell stopped.
    pub cancelled: u64,
    /// Open-loop arrivals not sent because `max_in_flight` was reached.
    pub dropped: u64,
    /// Sends that started more than [`LATE_AFTER`] after their intended time.
    pub late: u64,
    /// Requests sent during warmup (not recorded).
    pub warmup: u64,
}

impl Counts {
    /// Total failures of every class.
    pub fn error_total(&self) -> u64 {
        self.errors.iter().sum()
    }

    /// Whether every sent request is accounted for: sent = ok + late_ok + errors + cancelled.
    pub fn balanced(&self) -> bool {
        self.sent == self.ok + self.late_ok + self.error_total() + self.cancelled
            && self.late_errors <= self.error_total()
    }

    /// Answers (successful or not) that completed inside the window.
    pub fn completed_in_window(&self) -> u64 {
        self.ok + self.error_total() - self.late_errors.min(self.error_total())
    }

    fn add(&mut self, o: &Counts) {
        self.sent += o.sent;
        self.ok += o.ok;
        self.late_ok += o.late_ok;
        self.late_errors += o.late_errors;
        self.cold_starts += o.cold_starts;
        for (a, b) in self.errors.iter_mut().zip(o.errors) {
            *a += b;
        }
        self.cancelled += o.cancelled;
        self.dropped += o.dropped;
        self.late += o.late;
        self.warmup += o.warmup;
    }
}

/// One second of the measured window, as [`Series`] gives it back.
#[derive(Clone, Debug)]
pub struct Second {
    /// Successful responses completed in this second.
    pub ok: u64,
    /// Failures completed in this second.
    pub errors: u64,
    /// Response times of the successful ones.
    pub latency: Histogram<u32>,
}

/// Everything one shard measured in one cell.
#[derive(Clone, Debug)]
pub struct Recorder {
    /// When measurement started (end of warmup).
    window_start: Instant,
    /// When the window closed (or will): answers after it are late. `None`: never closes.
    window_end: Option<Instant>,
    /// Response time (from the intended start) of successful requests, µs.
    pub response: Histogram<u64>,
    /// Service time (from the actual send) of successful requests, µs.
    pub service: Histogram<u64>,
    /// Outcome tallies.
    pub counts: Counts,
    /// Per-second series, by completion time.
    pub seconds: Series,
    /// Sum of send slips, µs, for the mean.
    pub slip_total_us: u64,
    /// Largest send slip, µs.
    pub slip_max_us: u64,
    /// Request bytes sent.
    pub bytes_out: u64,
    /// Response bytes received.
    pub bytes_in: u64,
    /// Successful responses per production variant id.
    pub variants: Vec<u64>,
    /// Statuses and first messages of the measured failures, by class.
    pub failures: FailureLog,
    /// Token timings of streamed replies; `None` until a shard records one.
    pub tokens: Option<Box<tokens::TokenRecorder>>,
}

fn micros(d: Duration) -> u64 {
    (d.as_micros() as u64).clamp(1, MAX_LATENCY_US)
}

impl Recorder {
    /// An empty recorder for a window starting at `window_start` that never closes.
    pub fn new(window_start: Instant) -> Recorder {
        Recorder {
            window_start,
            window_end: None,
            response: latency_histogram(),
            service: latency_histogram(),
            counts: Counts::default(),
            seconds: Series::default(),
            slip_total_us: 0,
            slip_max_us: 0,
            bytes_out: 0,
            bytes_in: 0,
            variants: Vec::new(),
            failures: FailureLog::default(),
            tokens: None,
        }
    }

    /// Keeps the status and message of a failed request intended at `intended`, when it
    /// belongs to the measured window (its count is [`Recorder::record`]'s).
    pub fn record_failure(&mut self, intended: Instant, f: &Failure) {
        if self.measures(intended) {
            self.failures.record(f);
        }
    }

    /// An empty recorder for the window `[start, end)`.
    pub fn window(start: Instant, end: Instant) -> Recorder {
        Recorder {
            window_end: Some(end),
            ..Recorder::new(start)
        }
    }

    /// Closes the window earlier, at `at` (a cell stopped early); never later.
    pub fn close_at(&mut self, at: Instant) {
        self.window_end = Some(self.window_end.map_or(at, |end| end.min(at)));
    }

    /// Whether an answer at `end` came after the window closed.
    fn is_late(&self, end: Instant) -> bool {
        self.window_end.is_some_and(|close| end > close)
    }

    /// Whether a request intended at `t` belongs to the measured window.
    pub fn measures(&self, intended: Instant) -> bool {
        intended >= self.window_start
    }

    /// Records one finished request; warmup requests are only counted as such.
    pub fn record(&mut self, s: &Sample) {
        if !self.measures(s.intended_start) {
            if s.outcome != Outcome::Dropped {
                self.counts.warmup += 1;
            }
            return;
        }
        if s.outcome == Outcome::Dropped {
            self.counts.dropped += 1;
            return;
        }
        self.counts.sent += 1;
        let slip = s.send_slip().as_micros() as u64;
        self.slip_total_us += slip;
        self.slip_max_us = self.slip_max_us.max(slip);
        if s.send_slip() > LATE_AFTER {
            self.counts.late += 1;
        }
        self.bytes_out += s.bytes_out;
        self.counts.cold_starts += u64::from(s.cold_start);
        let late = self.is_late(s.end);
        match s.outcome {
            Outcome::Ok => {
                let response = micros(s.response_time());
                // Late answers describe requests of the window (latency) but not its
                // throughput, nor any second of its series.
                if late {
                    self.counts.late_ok += 1;
                } else {
                    let second = self.second_of(s.end);
                    self.seconds.record_ok(second, response);
                    self.counts.ok += 1;
                    if let Some(id) = s.variant {
                        self.count_variant(id);
                    }
                }
                self.bytes_in += s.bytes_in;
                // Values are clamped into the histogram's bounds, so recording cannot fail.
                let _ = self.response.record(response);
                let _ = self.service.record(micros(s.service_time()));
            }
            Outcome::Error(kind) => {
                if late {
                    self.counts.late_errors += 1;
                } else {
                    let second = self.second_of(s.end);
                    self.seconds.record_error(second);
                }
                self.counts.errors[kind.index()] += 1;
            }
            Outcome::Cancelled => self.counts.cancelled += 1,
            Outcome::Dropped => {}
        }
    }

    /// Counts one in-window success of production variant `id`.
    fn count_variant(&mut self, id: u16) {
        let id = usize::from(id);
        if self.variants.len() <= id {
            self.variants.resize(id + 1, 0);
        }
        self.variants[id] += 1;
    }

    /// Counts `n` measured requests still in flight when the cell stopped.
    pub fn cancel_in_flight(&mut self, n: u64) {
        self.counts.sent += n;
        self.counts.cancelled += n;
    }

    /// The second of the series an answer at `end` belongs to.
    fn second_of(&self, end: Instant) -> usize {
        end.saturating_duration_since(self.window_start).as_secs() as usize
    }

    /// Adds another shard's measurements into this one.
    pub fn merge(&mut self, other: &Recorder) {
        // Both histograms share the same bounds, so adding cannot fail.
        let _ = self.response.add(&other.response);
        let _ = self.service.add(&other.service);
        self.counts.add(&other.counts);
        self.seconds.merge(&other.seconds);
        self.slip_total_us += other.slip_total_us;
        self.slip_max_us = self.slip_max_us.max(other.slip_max_us);
        self.bytes_out += other.bytes_out;
        self.bytes_in += other.bytes_in;
        if self.variants.len() < other.variants.len() {
            self.variants.resize(other.variants.len(), 0);
        }
        for (mine, theirs) in self.variants.iter_mut().zip(&other.variants) {
            *mine += theirs;
        }
        self.failures.merge(&other.failures);
        if let Some(theirs) = &other.tokens {
            self.tokens.get_or_insert_with(Box::default).merge(theirs);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(start: Instant, at_ms: u64, took_ms: u64, outcome: Outcome) -> Sample {
        let intended = start + Duration::from_millis(at_ms);
        Sample {
            intended_start: intended,
            start: intended,
            end: intended + Duration::from_millis(took_ms),
            outcome,
            bytes_out: 10,
            bytes_in: 5,
            variant: None,
            cold_start: false,
        }
    }

    #[test]
    fn warmup_is_counted_apart_and_window_is_recorded() {
        let t0 = Instant::now();
        let window = t0 + Duration::from_secs(1);
        let mut r = Recorder::new(window);
        r.record(&sample(t0, 10, 5, Outcome::Ok));
        r.record(&sample(t0, 1_100, 20, Outcome::Ok));
        r.record(&sample(t0, 1_200, 20, Outcome::Error(ErrorKind::Http5xx)));
        assert_eq!(r.counts.warmup, 1);
        assert_eq!(r.counts.sent, 2);
        assert_eq!(r.counts.ok, 1);
        assert_eq!(r.counts.errors[ErrorKind::Http5xx.index()], 1);
        assert_eq!(r.response.len(), 1);
        assert!(r.counts.balanced());
    }

    #[test]
    fn merge_adds_histograms_counts_and_series() {
        let t0 = Instant::now();
        let mut a = Recorder::new(t0);
        let mut b = Recorder::new(t0);
        a.record(&sample(t0, 0, 10, Outcome::Ok));
        b.record(&sample(t0, 1_500, 30, Outcome::Ok));
        b.cancel_in_flight(2);
        a.merge(&b);
        assert_eq!(a.response.len(), 2);
        assert_eq!(a.counts.sent, 4);
        assert_eq!(a.counts.cancelled, 2);
        assert_eq!(a.seconds.len(), 2);
        assert_eq!(a.seconds[1].ok, 1);
        assert!(a.counts.balanced());
    }

    #[test]
    fn dropped_arrivals_are_not_sent() {
        let t0 = Instant::now();
        let mut r = Recorder::new(t0);
        r.record(&sample(t0, 5, 0, Outcome::Dropped));
        assert_eq!(r.counts.dropped, 1);
        assert_eq!(r.counts.sent, 0);
        assert!(r.counts.balanced());
    }
}
