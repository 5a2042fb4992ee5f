//! Fault injection: the per-request draw (reset, injected error, latency spike) and the
//! stall window, both from an endpoint's [`Faults`].

use super::config::{Faults, InjectedError};
use rand::{Rng, RngExt};
use std::time::Duration;
use tokio::time::Instant;

/// What the faults decided for one request.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Draw {
    /// Close the connection without an answer.
    pub(crate) reset: bool,
    /// Answer with this error instead of serving.
    pub(crate) error: Option<InjectedError>,
    /// Extra service time in model milliseconds.
    pub(crate) spike_ms: f64,
    /// An LLM stream fails half way through its tokens.
    pub(crate) stream_error: bool,
}

/// Draws the faults of one request; no random draws at all when faults are off.
pub(crate) fn draw<R: Rng + ?Sized>(faults: &Faults, rng: &mut R) -> Draw {
    if faults.is_off() {
        return Draw::default();
    }
    let mut hit = |rate: f64| rate > 0.0 && rng.random_bool(rate.clamp(0.0, 1.0));
    Draw {
        reset: hit(faults.reset_rate),
        error: hit(faults.error_rate).then_some(faults.error_type),
        spike_ms: if hit(faults.spike_rate) {
            faults.spike_ms
        } else {
            0.0
        },
        stream_error: hit(faults.stream_error_rate),
    }
}

/// A window (wall clock, relative to the endpoint's first request) in which nothing is served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stall {
    /// Start, after the first request.
    pub(crate) at: Duration,
    /// Length.
    pub(crate) length: Duration,
}

impl Stall {
    /// The end of the stall when `now` falls inside it, given the first request's instant.
    pub(crate) fn blocked_until(&self, first_request: Instant, now: Instant) -> Option<Instant> {
        let start = first_request + self.at;
        let end = start + self.length;
        (now >= start && now < end).then_some(end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{SeedableRng, rngs::SmallRng};

    #[test]
    fn rates_of_zero_and_one_are_exact() {
        let mut rng = SmallRng::seed_from_u64(1);
        assert_eq!(draw(&Faults::default(), &mut rng), Draw::default());
        let always = Faults {
            reset_rate: 1.0,
            error_rate: 1.0,
            spike_rate: 1.0,
            spike_ms: 5.0,
            stream_error_rate: 1.0,
            ..Faults::default()
        };
        let d = draw(&always, &mut rng);
        assert!(d.reset);
        assert!(d.stream_error);
        assert_eq!(d.error, Some(InjectedError::InternalFailure));
        assert_eq!(d.spike_ms, 5.0);
    }

    #[test]
    fn error_rate_is_honoured_on_average() {
        let mut rng = SmallRng::seed_from_u64(2);
        let faults = Faults {
            error_rate: 0.2,
            ..Faults::default()
        };
        let n = 20_000;
        let errors = (0..n)
            .filter(|_| draw(&faults, &mut rng).error.is_some())
            .count();
        let rate = errors as f64 / f64::from(n);
        assert!((rate - 0.2).abs() < 0.01, "{rate}");
    }

    #[test]
    fn stall_window_is_half_open() {
        let first = Instant::now();
        let stall = Stall {
            at: Duration::from_secs(1),
            length: Duration::from_secs(2),
        };
        assert_eq!(stall.blocked_until(first, first), None);
        let end = first + Duration::from_secs(3);
        assert_eq!(
            stall.blocked_until(first, first + Duration::from_secs(1)),
            Some(end)
        );
        assert_eq!(stall.blocked_until(first, end), None);
    }
}
