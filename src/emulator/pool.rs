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

    /// Books the worker that frees up first for `cost`, starting at `start_at(free)` (the
    /// caller applies its arrival time, cold starts and stalls). Returns the start.
    pub(crate) fn book(
        &self,
        start_at: impl FnOnce(Instant) -> Instant,
        cost: Duration,
    ) -> Instant {
        let mut free_at = self.free_at.lock().unwrap_or_else(PoisonError::into_inner);
        let free = free_at.pop().map_or_else(Instant::now, |Reverse(t)| t);
        let start = start_at(free);
        free_at.push(Reverse(start + cost));
        start
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
        let starts: Vec<_> = (0..3)
            .map(|_| pool.book(|free| free.max(t0), ms(10)))
            .collect();
        assert_eq!(starts[0], starts[1]);
        assert_eq!(starts[2], starts[0] + ms(10));
        // A late arrival starts on arrival when a worker is already free.
        let late = t0 + ms(50);
        assert_eq!(pool.book(|free| free.max(late), ms(1)), late);
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
