//! CPU workers of one instance (or the slots of a serverless endpoint). A `Semaphore` is the
//! worker limit; a ledger of when each worker is next free (simulated time) decides when a
//! request starts. A request books the worker that frees up first as soon as it holds a
//! permit, so the emulator's own scheduling delays (a task woken late) shift answers but
//! never the simulated queue: start times follow the exact FIFO c-server recursion.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::{AcquireError, OwnedSemaphorePermit, Semaphore, TryAcquireError};
use tokio::time::Instant;

/// A pool of identical workers.
pub(crate) struct CorePool {
    permits: Arc<Semaphore>,
    free_at: Mutex<BinaryHeap<Reverse<Instant>>>,
    /// Relative speed of one worker.
    pub(crate) speed: f64,
}

impl CorePool {
    /// `workers` workers of relative `speed`, all free from now.
    pub(crate) fn new(workers: usize, speed: f64) -> CorePool {
        let now = Instant::now();
        CorePool {
            permits: Arc::new(Semaphore::new(workers)),
            free_at: Mutex::new((0..workers).map(|_| Reverse(now)).collect()),
            speed,
        }
    }

    /// Waits (FIFO) for a worker.
    pub(crate) async fn acquire(&self) -> Result<OwnedSemaphorePermit, AcquireError> {
        Arc::clone(&self.permits).acquire_owned().await
    }

    /// A worker if one is free now.
    pub(crate) fn try_acquire(&self) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        Arc::clone(&self.permits).try_acquire_owned()
    }

    /// Books the worker that frees up first for `cost`. The arrival is stamped under the
    /// ledger's lock, so bookings follow arrival order exactly; the request starts at
    /// `start_at(arrival, free)` (the caller applies cold starts and stalls). Returns
    /// (arrival, start).
    pub(crate) fn book(
        &self,
        start_at: impl FnOnce(Instant, Instant) -> Instant,
        cost: Duration,
    ) -> (Instant, Instant) {
        let mut free_at = self.free_at.lock().unwrap_or_else(PoisonError::into_inner);
        let arrived = Instant::now();
        let free = free_at.pop().map_or(arrived, |Reverse(t)| t);
        let start = start_at(arrived, free);
        free_at.push(Reverse(start + cost));
        (arrived, start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bookings_follow_the_c_server_recursion() {
        let pool = CorePool::new(2, 1.0);
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        // Three arrivals at t0 needing 10 ms each on 2 workers: starts 0, 0, 10 ms.
        let at_t0 = |_, free: Instant| free.max(t0);
        let starts: Vec<_> = (0..3).map(|_| pool.book(at_t0, ms(10)).1).collect();
        assert_eq!(starts[0], starts[1]);
        assert_eq!(starts[2], starts[0] + ms(10));
        // A late arrival starts on arrival when a worker is already free.
        let late = t0 + ms(50);
        assert_eq!(pool.book(|_, free| free.max(late), ms(1)).1, late);
        // The arrival is stamped at booking time.
        let (arrived, start) = pool.book(|arrived, free| arrived.max(free), ms(1));
        assert!(start >= arrived);
    }

    #[tokio::test]
    async fn the_semaphore_limits_concurrent_workers() {
        let pool = CorePool::new(1, 1.0);
        let held = pool.acquire().await.expect("worker");
        assert!(pool.try_acquire().is_err());
        drop(held);
        assert!(pool.try_acquire().is_ok());
    }
}
