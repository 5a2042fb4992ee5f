//! Checks of one cell's measurements against queueing facts: an open loop whose completions
//! fall behind its arrivals is saturated; a closed loop obeys Little's law (L = λW).

use crate::domain::Load;
use crate::recorder::Counts;

/// An open-loop cell is saturated when fewer than this share of its arrivals completed
/// inside the window.
pub const SATURATED_BELOW: f64 = 0.95;

/// A closed-loop cell's throughput × mean response time may differ from its concurrency by
/// this share before it is flagged.
pub const LITTLE_TOLERANCE: f64 = 0.10;

/// Whether an open-loop cell's achieved completion rate fell below 95% of its arrival rate.
///
/// The arrival rate is the arrivals scheduled in the window (sent + dropped) over its length
/// `secs`, so a Poisson schedule's randomness does not count against the target. No answer
/// can complete before the fastest one took (`fastest_s`, the least response time), so
/// completions are counted per second of the window after that; otherwise a cell whose
/// latency is a sizeable share of its duration would read as saturated just for the
/// requests still in flight at its end. A cell whose fastest answer took half the window or
/// more is too short to judge (`false`).
pub fn saturated(load: &Load, counts: &Counts, secs: f64, fastest_s: f64) -> bool {
    let arrivals = counts.sent + counts.dropped;
    let serving = secs - fastest_s;
    if !matches!(load, Load::Open { .. }) || arrivals == 0 || serving <= secs * 0.5 {
        return false;
    }
    let completion_rate = counts.completed_in_window() as f64 / serving;
    completion_rate < SATURATED_BELOW * arrivals as f64 / secs
}

/// For a closed loop: `None` when throughput × mean response time is within 10% of the
/// concurrency (or there is nothing to check); otherwise why not.
pub fn littles_law(
    load: &Load,
    counts: &Counts,
    mean_ms: Option<f64>,
    secs: f64,
) -> Option<String> {
    let Load::Closed { concurrency } = *load else {
        return None;
    };
    let mean_s = mean_ms? / 1000.0;
    if secs <= 0.0 || counts.completed_in_window() == 0 {
        return None;
    }
    let rate = counts.completed_in_window() as f64 / secs;
    let busy = rate * mean_s;
    let c = f64::from(concurrency);
    let off = busy / c - 1.0;
    if off.abs() <= LITTLE_TOLERANCE {
        return None;
    }
    let why = if off < 0.0 {
        "workers spent time outside measured answers (client overhead, errors answered at \
         another speed, or requests from before the window)"
    } else {
        "more time in answers than workers had (answers from outside the window counted in \
         it, or latency measured from before the send)"
    };
    Some(format!(
        "Little's law: {rate:.1} req/s × {:.1} ms = {busy:.2} in flight, {:.0}% {} c={concurrency}: {why}",
        mean_s * 1000.0,
        off.abs() * 100.0,
        if off < 0.0 { "below" } else { "above" },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Arrivals;

    fn counts(sent: u64, ok: u64) -> Counts {
        Counts {
            sent,
            ok,
            late_ok: sent - ok,
            ..Counts::default()
        }
    }

    #[test]
    fn open_loop_behind_its_arrivals_is_saturated() {
        let open = Load::Open {
            rate: 100.0,
            arrivals: Arrivals::Constant,
            max_in_flight: 1000,
        };
        assert!(saturated(&open, &counts(1000, 380), 10.0, 0.02));
        assert!(!saturated(&open, &counts(1000, 990), 10.0, 0.02));
        // 40 req/s at 70 ms over 0.8 s: 3 of 32 still in flight at the end is not saturation.
        assert!(!saturated(&open, &counts(32, 29), 0.8, 0.065));
        assert!(
            !saturated(&open, &counts(1000, 380), 10.0, 6.0),
            "too short to judge"
        );
        let closed = Load::Closed { concurrency: 4 };
        assert!(!saturated(&closed, &counts(1000, 380), 10.0, 0.02));
    }

    #[test]
    fn closed_loop_is_flagged_off_littles_law() {
        let c4 = Load::Closed { concurrency: 4 };
        // 4 workers at 10 ms: 400 req/s over 10 s.
        assert_eq!(
            littles_law(&c4, &counts(4000, 4000), Some(10.0), 10.0),
            None
        );
        // 14 req/s at 70 ms is 0.98 in flight, not 4.
        let why = littles_law(&c4, &counts(140, 140), Some(70.0), 10.0).unwrap();
        assert!(why.contains("below c=4"), "{why}");
        assert_eq!(littles_law(&c4, &counts(0, 0), None, 10.0), None);
    }
}
