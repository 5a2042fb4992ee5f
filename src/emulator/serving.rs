//! What serving one request waits on and yields, shared by an endpoint and its accelerator
//! workers: the [`Gate`] (scale-from-zero and stalls), the request's [`Timing`], and why an
//! admitted request was not served ([`ServeError`]).

use super::clock::Clock;
use super::faults::Stall;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::Instant;

const NOT_YET: u64 = u64::MAX;

/// Why an admitted request was not served.
#[derive(Clone, Copy, Debug)]
pub(crate) enum ServeError {
    /// Processing exceeded the hosting option's limit.
    TimedOut(Timing),
    /// The emulator is shutting down.
    ShuttingDown,
}

/// When an admitted request arrived, started and completed (wall clock).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Timing {
    pub(crate) arrived: Instant,
    pub(crate) started: Instant,
    pub(crate) completed: Instant,
    pub(crate) cold_start: Duration,
}

impl Timing {
    /// Time spent waiting for a worker (and for stalls or a scale-from-zero).
    pub(crate) fn queue(&self) -> Duration {
        self.started.saturating_duration_since(self.arrived)
    }

    /// Time a worker spent on the request, including a serverless cold start.
    pub(crate) fn service(&self) -> Duration {
        self.completed.saturating_duration_since(self.started)
    }
}

/// Serving conditions shared with accelerator workers: scale-from-zero and stalls.
pub(crate) struct Gate {
    clock: Clock,
    ready_at_us: AtomicU64,
    last_activity_us: AtomicU64,
    first_request_us: AtomicU64,
    stall: Option<Stall>,
}

impl Gate {
    /// A gate that is open now, closed during `stall` (if any) once requests arrive.
    pub(crate) fn new(clock: Clock, stall: Option<Stall>) -> Gate {
        let now = clock.micros(Instant::now());
        Gate {
            clock,
            ready_at_us: AtomicU64::new(0),
            last_activity_us: AtomicU64::new(now),
            first_request_us: AtomicU64::new(NOT_YET),
            stall,
        }
    }

    /// The emulator's clock.
    pub(crate) fn clock(&self) -> Clock {
        self.clock
    }

    /// Records an arrival; returns how long the endpoint had been idle.
    pub(crate) fn note_arrival(&self, now: Instant) -> Duration {
        let us = self.clock.micros(now);
        if self.stall.is_some() {
            let _ = self.first_request_us.compare_exchange(
                NOT_YET,
                us,
                Ordering::AcqRel,
                Ordering::Acquire,
            );
        }
        let last = self.last_activity_us.swap(us, Ordering::AcqRel);
        Duration::from_micros(us.saturating_sub(last))
    }

    /// Records that a request finished.
    pub(crate) fn note_done(&self, now: Instant) {
        self.last_activity_us
            .fetch_max(self.clock.micros(now), Ordering::AcqRel);
    }

    /// Nothing is served until `cold` from now (scale from zero).
    pub(crate) fn start_cold(&self, now: Instant, cold: Duration) {
        let ready = self.clock.micros(now + cold);
        self.ready_at_us.fetch_max(ready, Ordering::AcqRel);
    }

    /// The first instant from `t` at which the endpoint serves: after a scale-from-zero
    /// and outside a stall.
    pub(crate) fn serving_from(&self, t: Instant) -> Instant {
        let ready = t.max(self.clock.instant(self.ready_at_us.load(Ordering::Acquire)));
        let first = self.first_request_us.load(Ordering::Acquire);
        match &self.stall {
            Some(stall) if first != NOT_YET => stall
                .blocked_until(self.clock.instant(first), ready)
                .unwrap_or(ready),
            _ => ready,
        }
    }
}
