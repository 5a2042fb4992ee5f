//! Runs one cell of the plan against a target: closed or open loop, warmup, drain.
//!
//! The load is split over a few shards (tasks); each owns its recorder, and the recorders
//! are merged when the cell ends.

pub mod answers;
pub mod live;
pub mod pacer;
pub mod shard;
pub mod slots;
pub mod timer;
mod tokens;

use crate::domain::Load;
use crate::endpoint::Endpoint;
use crate::payload::Bodies;
use crate::plan::Cell;
use crate::plan::scale_out::GeneratorShard;
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
    /// Attempts the client retried (SDK retries, when enabled), by phase.
    pub retries: Retries,
}

/// Retries the client made around one cell: attempts the server received are requests +
/// retries, phase by phase.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Retries {
    /// Retries of the requests sent in the measured window (until they were answered).
    pub measured: u64,
    /// Retries of warmup requests.
    pub warmup: u64,
    /// Retries made before the cell: the probe's, for the first cell of an endpoint.
    pub before: u64,
    /// Most retries the client makes per request.
    pub max_per_request: u32,
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
    /// The generator shard this process is of a scaled-out run: it sends only its share.
    pub generator: GeneratorShard,
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
///
/// Warmup runs first as a phase of its own, and every warmup request is answered (or times
/// out) before the measured window opens, so no warmup request holds a worker inside the
/// window: measured throughput and latency describe the same requests.
pub async fn run_cell<T: Endpoint>(
    cell: &Cell,
    target: Arc<T>,
    bodies: Arc<Bodies>,
    options: &CellOptions,
    cancel: watch::Receiver<bool>,
) -> CellResult {
    let probe_retries = target.take_retries();
    if matches!(cell.load, Load::Open { .. }) {
        // Once per process, before any window opens (it may wait a few milliseconds).
        crate::endpoint::harvest::prepare();
    }
    let drain = cell.timeout + Duration::from_millis(100);
    let initial = if *cancel.borrow() {
        Stop::Abort
    } else {
        Stop::Running
    };
    let (stop_tx, stop) = watch::channel(initial);
    let monitor = tokio::spawn(watch_for_stop(cancel.clone(), stop_tx, options.clone()));
    let phase = Phase {
        cell,
        target: &target,
        bodies: &bodies,
        options,
        stop: &stop,
    };
    let mut warmup = None;
    if !cell.warmup.is_zero() {
        let start = Instant::now();
        let end = start + cell.warmup;
        let window = Window {
            start,
            measure_from: end,
            end,
            drain,
        };
        warmup = Some(phase.run(window, options.seed ^ WARMUP_SEED).await);
    }
    let warmup_retries = target.take_retries();
    let start = Instant::now();
    let window = Window {
        start,
        measure_from: start,
        end: start + cell.duration,
        drain,
    };
    let mut merged = phase.run(window, options.seed).await;
    if let Some(w) = &warmup {
        merged.merge(w);
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
        retries: Retries {
            measured: target.take_retries(),
            warmup: warmup_retries,
            before: probe_retries,
            max_per_request: target.max_retries(),
        },
    }
}

/// Mixed into the seed of warmup arrivals, so warmup and window draw different schedules.
const WARMUP_SEED: u64 = 0x5741_524d;

/// What every phase of a cell (warmup, measured window) shares.
struct Phase<'a, T> {
    cell: &'a Cell,
    target: &'a Arc<T>,
    bodies: &'a Arc<Bodies>,
    options: &'a CellOptions,
    stop: &'a watch::Receiver<Stop>,
}

impl<T: Endpoint> Phase<'_, T> {
    /// Runs every shard over `window` and merges their recorders.
    async fn run(&self, window: Window, seed: u64) -> Recorder {
        let generator = self.options.generator;
        let shards = shard_count(&generator.local_load(self.cell.load));
        let mut tasks = tokio::task::JoinSet::new();
        for index in 0..shards {
            let issue = issue_for(self.cell, generator, shards, index, seed);
            let (target, bodies, stop, live) = (
                self.target.clone(),
                self.bodies.clone(),
                self.stop.clone(),
                self.options.live.clone(),
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
            // A shard only panics on a bug; its measurements are lost and the accounting
            // shows it.
            if let Ok(recorder) = joined {
                merged.merge(&recorder);
            }
        }
        merged
    }
}

/// What shard `index` of `shards` sends: its part of the generator shard's share (the
/// whole cell on one machine).
fn issue_for(cell: &Cell, generator: GeneratorShard, shards: u32, index: u32, seed: u64) -> Issue {
    match generator.local_load(cell.load) {
        Load::Closed { concurrency } => Issue::Closed {
            workers: share(concurrency, shards, index),
        },
        Load::Open {
            arrivals,
            max_in_flight,
            ..
        } => {
            // The lane picks this shard's arrivals out of the whole cell's schedule.
            let (lane, lanes) = generator.lane(index, shards);
            Issue::Open {
                pacer: Pacer::new(arrivals, cell.load.level(), lane, lanes, seed),
                max_in_flight: share(max_in_flight, shards, index) as usize,
                give_up_after: cell.timeout,
            }
        }
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
    let mut ticks = 0u32;
    loop {
        tokio::select! {
            changed = cancel.changed() => {
                if changed.is_err() || *cancel.borrow() {
                    let _ = stop.send(Stop::Abort);
                    return;
                }
            }
            _ = tick.tick(), if !draining => {
                ticks = ticks.wrapping_add(1);
                if ticks.is_multiple_of(RELEASE_EVERY_TICKS) {
                    release_freed_memory();
                }
                if options.early_stop.is_some_and(|e| e.broken(&options.live)) {
                    draining = true;
                    let _ = stop.send(Stop::Drain(Instant::now()));
                }
            }
        }
    }
}

/// Ticks of the stop monitor (100 ms) between two [`release_freed_memory`] calls: 5 s.
const RELEASE_EVERY_TICKS: u32 = 50;

/// Hands the heap pages freed since the last call back to the system. glibc keeps them
/// resident otherwise, so a burst's connections and buffers (a stalled target, a slow
/// second) would hold a long cell's RSS at its peak for the rest of the run; this way RSS
/// follows what the cell holds now. One call costs a walk of the free lists, every 5 s.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only gives free heap pages back to the system.
    unsafe {
        libc::malloc_trim(0);
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
