//! Emulator time: one start instant for the timestamps it reports, and sleeps that are
//! unbiased on average despite tokio's 1 ms timer resolution.

use std::time::Duration;
use tokio::time::Instant;

/// Half of tokio's timer tick. Timer deadlines are rounded up to the next millisecond, so a
/// sleep aimed half a tick early ends, on average, at the intended instant.
const HALF_TICK: Duration = Duration::from_micros(500);

/// The emulator's start, shared by every endpoint; reported times are relative to it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clock {
    start: Instant,
}

impl Clock {
    /// A clock starting now.
    pub(crate) fn start() -> Clock {
        Clock {
            start: Instant::now(),
        }
    }

    /// Milliseconds from the start to `at` (wall clock).
    pub(crate) fn ms(&self, at: Instant) -> f64 {
        at.saturating_duration_since(self.start).as_secs_f64() * 1000.0
    }

    /// Microseconds from the start to `at`, for atomics.
    pub(crate) fn micros(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.start).as_micros()).unwrap_or(u64::MAX)
    }

    /// The instant `micros` after the start.
    pub(crate) fn instant(&self, micros: u64) -> Instant {
        self.start + Duration::from_micros(micros)
    }
}

/// Sleeps until about `deadline`: half a tick early, so the timer's round-up to the next
/// millisecond lands on the deadline on average. Deadlines within half a tick return at once.
pub(crate) async fn sleep_until(deadline: Instant) {
    let Some(aim) = deadline.checked_sub(HALF_TICK) else {
        return;
    };
    if aim > Instant::now() {
        tokio::time::sleep_until(aim).await;
    }
}

/// Milliseconds in a duration, as reported in headers and JSON.
pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn sleeps_aim_half_a_tick_early_and_the_timer_rounds_up_to_the_deadline() {
        let start = Instant::now();
        sleep_until(start + Duration::from_millis(10)).await;
        assert_eq!(start.elapsed(), Duration::from_millis(10));
        let again = Instant::now();
        sleep_until(again + Duration::from_micros(300)).await;
        assert_eq!(again.elapsed(), Duration::ZERO);
    }

    #[test]
    fn clock_converts_between_instants_and_offsets() {
        let clock = Clock::start();
        let later = clock.instant(2_500);
        assert_eq!(clock.micros(later), 2_500);
        assert!((clock.ms(later) - 2.5).abs() < 1e-9);
        assert_eq!(ms(Duration::from_micros(1_500)), 1.5);
    }
}
