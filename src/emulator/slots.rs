//! Serverless capacity: the CPU share and speed of a slot by memory size, and which slots
//! are warm (a request that needs more slots than are warm pays a cold start).
//!
//! CPU share is a modelling assumption (AWS does not publish it): 0.5 vCPU per GB of
//! memory, so 1 GB ≈ 0.5 vCPU … 6 GB ≈ 3 vCPU. One request runs on a fraction of a core at
//! that fraction of the speed, and uses cores beyond the first at 50% efficiency
//! (intra-op parallelism), so 6 GB runs a request 2× as fast as 2 GB.

use std::sync::atomic::{AtomicU32, Ordering};

/// vCPU equivalents per GB (1024 MB) of serverless memory.
pub const VCPU_PER_GB: f64 = 0.5;

/// How much a core beyond the first speeds up a single request.
pub const EXTRA_CORE_EFFICIENCY: f64 = 0.5;

/// vCPU equivalents of a serverless memory size (0.5 at 1024 MB … 3 at 6144 MB).
pub fn vcpu_share(memory_mb: u32) -> f64 {
    f64::from(memory_mb) / 1024.0 * VCPU_PER_GB
}

/// Speed of one request on a serverless slot, relative to one `ml.m5` core.
pub fn slot_speed(memory_mb: u32) -> f64 {
    let share = vcpu_share(memory_mb);
    if share <= 1.0 {
        share
    } else {
        1.0 + EXTRA_CORE_EFFICIENCY * (share - 1.0)
    }
}

/// Counts slots in use and slots warm: a request that needs more slots than are warm pays
/// a cold start, and an idle endpoint loses all warm slots.
#[derive(Debug, Default)]
pub(crate) struct SlotTracker {
    in_use: AtomicU32,
    warm: AtomicU32,
}

impl SlotTracker {
    /// Takes a slot; returns true when it is cold. `idle_expired` means the endpoint has
    /// been idle past its threshold, so it scaled to zero.
    pub(crate) fn acquire(&self, idle_expired: bool) -> bool {
        let before = self.in_use.fetch_add(1, Ordering::AcqRel);
        if before == 0 && idle_expired {
            self.warm.store(0, Ordering::Release);
        }
        let in_use = before + 1;
        self.warm.fetch_max(in_use, Ordering::AcqRel) < in_use
    }

    /// Gives a slot back (it stays warm).
    pub(crate) fn release(&self) {
        self.in_use.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_share_grows_with_memory() {
        assert_eq!(vcpu_share(1024), 0.5);
        assert_eq!(vcpu_share(2048), 1.0);
        assert_eq!(vcpu_share(6144), 3.0);
        assert_eq!(slot_speed(1024), 0.5);
        assert_eq!(slot_speed(2048), 1.0);
        assert_eq!(slot_speed(4096), 1.5);
        assert_eq!(slot_speed(6144), 2.0);
    }

    #[test]
    fn each_concurrent_slot_warms_once_until_idle() {
        let slots = SlotTracker::default();
        assert!(slots.acquire(false), "first request is cold");
        assert!(slots.acquire(false), "second concurrent slot is cold");
        slots.release();
        slots.release();
        assert!(!slots.acquire(false), "warm slot reused");
        assert!(!slots.acquire(false), "second warm slot reused");
        assert!(slots.acquire(false), "third slot is new");
        for _ in 0..3 {
            slots.release();
        }
        assert!(slots.acquire(true), "idle endpoint scaled to zero");
    }
}
