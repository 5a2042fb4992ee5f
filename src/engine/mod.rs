//! Runs one cell of the plan against a target: closed or open loop, warmup, drain.
//!
//! The load is split over a few shards (tasks); each owns its recorder, and the recorders
//! are merged when the cell ends.

pub mod pacer;
pub mod shard;

use crate::endpoint::Target;
use crate::payload::Bodies;
use crate::plan::{Cell, Load};
use crate::recorder::Recorder;
use pacer::Pacer;
use shard::{Issue, Window};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// What one cell measured.
#[derive(Clone, Debug)]
pub struct CellResult {
    /// The cell that ran.
    pub cell: Cell,
    /// Merged measurements of every shard.
    pub recorder: Recorder,
    /// Measured window actually run (shorter when interrupted).
    pub elapsed: Duration,
    /// Whether Ctrl-C stopped the cell early.
    pub interrupted: bool,
    /// Production variant names by id, as the target interned them.
    pub variant_names: Vec<String>,
}

/// Shards per cell: enough to use every core, never more than the load needs.
fn shard_count(load: &Load) -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get() as u32);
    match *load {
        Load::Closed { concurrency } => concurrency.clamp(1, cores * 2),
        Load::Open { max_in_flight, .. } => max_in_flight.clamp(1, cores * 2),
    }
}

/// Splits `total` into `parts` near-equal shares, larger ones first.
fn share(total: u32, parts: u32, index: u32) -> u32 {
    total / parts + u32::from(index < total % parts)
}

/// Runs `cell` against `target`; `cancel` turning true stops it early (Ctrl-C).
pub async fn run_cell<T: Target>(
    cell: &Cell,
    target: Arc<T>,
    bodies: Arc<Bodies>,
    seed: u64,
    cancel: watch::Receiver<bool>,
) -> CellResult {
    let shards = shard_count(&cell.load);
    let start = Instant::now();
    let window = Window {
        start,
        measure_from: start + cell.warmup,
        end: start + cell.warmup + cell.duration,
        drain: cell.timeout + Duration::from_millis(100),
    };
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..shards {
        let issue = match cell.load {
            Load::Closed { concurrency } => Issue::Closed {
                workers: share(concurrency, shards, index),
            },
            Load::Open {
                rate,
                arrivals,
                max_in_flight,
            } => Issue::Open {
                pacer: Pacer::new(arrivals, rate, index, shards, seed),
                max_in_flight: share(max_in_flight, shards, index) as usize,
                give_up_after: cell.timeout,
            },
        };
        let (target, bodies, cancel) = (target.clone(), bodies.clone(), cancel.clone());
        tasks.spawn(async move {
            shard::run(&*target, &bodies, issue, window, index as usize, cancel).await
        });
    }
    let mut merged = Recorder::new(window.measure_from);
    while let Some(joined) = tasks.join_next().await {
        // A shard only panics on a bug; its measurements are lost but the run goes on.
        if let Ok(recorder) = joined {
            merged.merge(&recorder);
        }
    }
    let interrupted = *cancel.borrow();
    let stopped = Instant::now().min(window.end);
    CellResult {
        cell: cell.clone(),
        recorder: merged,
        elapsed: stopped.saturating_duration_since(window.measure_from),
        interrupted,
        variant_names: target.variant_names(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up() {
        for total in [1, 7, 64, 1000] {
            for parts in 1..=8 {
                let sum: u32 = (0..parts).map(|i| share(total, parts, i)).sum();
                assert_eq!(sum, total);
            }
        }
    }
}
