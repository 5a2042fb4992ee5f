//! Runs one cell of the plan against a target: closed or open loop, warmup, drain.
//!
//! The load is split over a few shards (tasks); each owns its recorder, and the recorders
//! are merged when the cell ends.

pub mod live;
pub mod pacer;
pub mod shard;

use crate::domain::Load;
use crate::endpoint::Endpoint;
use crate::payload::Bodies;
use crate::plan::Cell;
use crate::recorder::Recorder;
use live::{EarlyStop, LiveStats};
use pacer::Pacer;
use shard::{Issue, Stop, Window};
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
    /// Whether the cell stopped before its duration because its SLA was clearly broken.
    pub stopped_early: bool,
    /// Production variant names by id, as the target interned them.
    pub variant_names: Vec<String>,
    /// Attempts the client retried during the cell (SDK retries, when enabled).
    pub retries: u64,
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

/// How a cell runs, beyond the cell itself.
#[derive(Clone, Debug, Default)]
pub struct CellOptions {
    /// Seed of Poisson arrivals.
    pub seed: u64,
    /// Live counters for progress and early stops (fresh per cell).
    pub live: Arc<LiveStats>,
    /// Stop as soon as the SLA is clearly broken (search probes).
    pub early_stop: Option<EarlyStop>,
}

impl CellOptions {
    /// Options with this seed, fresh live counters and no early stop.
    pub fn seeded(seed: u64) -> CellOptions {
        CellOptions {
            seed,
            ..CellOptions::default()
        }
    }
}

/// Runs `cell` against `target`; `cancel` turning true stops it early (Ctrl-C).
pub async fn run_cell<T: Endpoint>(
    cell: &Cell,
    target: Arc<T>,
    bodies: Arc<Bodies>,
    options: &CellOptions,
    cancel: watch::Receiver<bool>,
) -> CellResult {
    let shards = shard_count(&cell.load);
    let retries_before = target.retries();
    let start = Instant::now();
    let window = Window {
        start,
        measure_from: start + cell.warmup,
        end: start + cell.warmup + cell.duration,
        drain: cell.timeout + Duration::from_millis(100),
    };
    let initial = if *cancel.borrow() {
        Stop::Abort
    } else {
        Stop::Running
    };
    let (stop_tx, stop) = watch::channel(initial);
    let monitor = tokio::spawn(watch_for_stop(cancel.clone(), stop_tx, options.clone()));
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..shards {
        let issue = issue_for(cell, shards, index, options.seed);
        let (target, bodies, stop, live) = (
            target.clone(),
            bodies.clone(),
            stop.clone(),
            options.live.clone(),
        );
        tasks.spawn(async move {
            shard::run(
                &*target,
                &bodies,
                issue,
                window,
                index as usize,
                stop,
                &live,
            )
            .await
        });
    }
    let mut merged = Recorder::new(window.measure_from);
    while let Some(joined) = tasks.join_next().await {
        // A shard only panics on a bug; its measurements are lost and the accounting shows it.
        if let Ok(recorder) = joined {
            merged.merge(&recorder);
        }
    }
    monitor.abort();
    let interrupted = *cancel.borrow();
    let (stopped_early, stopped) = match *stop.borrow() {
        Stop::Drain(at) if !interrupted => (true, at.min(window.end)),
        _ => (false, Instant::now().min(window.end)),
    };
    CellResult {
        cell: cell.clone(),
        recorder: merged,
        elapsed: stopped.saturating_duration_since(window.measure_from),
        interrupted,
        stopped_early,
        variant_names: target.variant_names(),
        retries: target.retries().saturating_sub(retries_before),
    }
}

/// What shard `index` of `shards` sends.
fn issue_for(cell: &Cell, shards: u32, index: u32, seed: u64) -> Issue {
    match cell.load {
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
    }
}

/// Tells the shards to abort on Ctrl-C, or to drain when the SLA is clearly broken (and
/// still to abort on a later Ctrl-C).
async fn watch_for_stop(
    mut cancel: watch::Receiver<bool>,
    stop: watch::Sender<Stop>,
    options: CellOptions,
) {
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let mut draining = false;
    loop {
        tokio::select! {
            changed = cancel.changed() => {
                if changed.is_err() || *cancel.borrow() {
                    let _ = stop.send(Stop::Abort);
                    return;
                }
            }
            _ = tick.tick(), if !draining => {
                if options.early_stop.is_some_and(|e| e.broken(&options.live)) {
                    draining = true;
                    let _ = stop.send(Stop::Drain(Instant::now()));
                }
            }
        }
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
