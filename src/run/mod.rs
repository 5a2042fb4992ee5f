//! Drives a plan: the grid's cells in order, or an SLA search per variant and payload size,
//! saving the run folder after every cell so an interrupted run keeps what it measured.

mod adaptive;
pub mod clock;
pub mod progress;

use crate::domain::{Deployment, Load, Sla};
use crate::endpoint::AnyEndpoint;
use crate::endpoint::Endpoint as _;
use crate::engine::live::{EarlyStop, LiveStats};
use crate::engine::{self, CellOptions};
use crate::payload::{self, PayloadError};
use crate::plan::{Cell, Plan, scale_out};
use crate::pricing::PriceTable;
use crate::profile::{Profile, Strategy};
use crate::recommend::{Evidence, Recommendation};
use crate::results::{CellSummary, Phase};
use crate::run::progress::Progress;
use crate::store::csv as results_csv;
use crate::store::files::{self, write_atomic};
use crate::store::record::RunRecord;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::sync::watch;

/// The recommendation from what the run folder's record holds so far: its cells, the
/// candidates its searches pruned, each variant's first request and the sizes the model
/// does not fit.
pub fn advise(
    profile: &Profile,
    prices: &PriceTable,
    summary: &RunRecord,
) -> Option<Recommendation> {
    let pruned = summary.pruned_candidates();
    let evidence = Evidence {
        pruned: &pruned,
        first_requests: &summary.first_requests,
        unfit: &summary.unfit,
        not_deployed: &summary.not_deployed,
        planned_cells: summary.planned_cells,
        interrupted: summary.interrupted,
    };
    crate::recommend::advise::advise(profile, prices, &summary.cells, &evidence)
}

/// Why a run could not go on.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Request bodies could not be built.
    #[error(transparent)]
    Payload(#[from] PayloadError),
    /// The run folder could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// What every cell of a run shares: read-only.
pub struct Context<'a> {
    /// The validated profile.
    pub profile: &'a Profile,
    /// The endpoint of each deployment.
    pub endpoints: &'a BTreeMap<Deployment, Arc<AnyEndpoint>>,
    /// Prices, for the adaptive sweep's choices.
    pub prices: &'a PriceTable,
    /// Turns true on Ctrl-C.
    pub cancel: watch::Receiver<bool>,
    /// Scale-out: this process's generator shard and the run's start instant (grid runs
    /// only); `None` runs every cell whole, at once.
    pub clock: Option<clock::Clock>,
}

impl Context<'_> {
    fn cancelled(&self) -> bool {
        *self.cancel.borrow()
    }
}

/// The run folder and the summary it holds.
pub struct RunFolder {
    /// The folder.
    pub dir: PathBuf,
    /// Everything measured so far.
    pub summary: RunRecord,
}

impl RunFolder {
    /// Adds a measured cell and rewrites results.csv and summary.json.
    pub fn save(&mut self, cell: CellSummary) -> Result<(), RunError> {
        self.summary.interrupted |= cell.interrupted;
        self.summary.cells.push(cell);
        self.write()
    }

    /// Rewrites results.csv and summary.json atomically.
    pub fn write(&mut self) -> Result<(), RunError> {
        self.summary.ended_at = files::rfc3339(SystemTime::now());
        write_files(&self.dir, &self.summary)
    }
}

/// Writes results.csv (when there are cells) and summary.json into `dir`, atomically.
pub fn write_files(dir: &Path, summary: &RunRecord) -> Result<(), RunError> {
    let csv_path = dir.join("results.csv");
    let json_path = dir.join("summary.json");
    let fail = |path: &Path| {
        let path = path.to_path_buf();
        move |source| RunError::Write { path, source }
    };
    if !summary.cells.is_empty() {
        write_atomic(&csv_path, |w| {
            results_csv::write(&summary.cells, w).map_err(std::io::Error::other)
        })
        .map_err(fail(&csv_path))?;
    }
    write_atomic(&json_path, |w| {
        serde_json::to_writer_pretty(&mut *w, summary).map_err(std::io::Error::other)
    })
    .map_err(fail(&json_path))
}

/// Runs every cell and search of `plan`, saving after each cell. Stops early on Ctrl-C.
pub async fn run_plan(
    plan: &Plan,
    ctx: &Context<'_>,
    folder: &mut RunFolder,
    progress: &mut Progress,
) -> Result<(), RunError> {
    if ctx.profile.sweep.strategy == Strategy::Adaptive || !plan.searches.is_empty() {
        adaptive::run(plan, ctx, folder, progress).await?;
    } else if let Some(clock) = ctx.clock {
        run_on_clock(plan, &clock, ctx, folder, progress).await?;
    } else {
        for cell in &plan.cells {
            if ctx.cancelled() {
                break;
            }
            folder.save(measure(cell, Phase::Grid, None, ctx, progress).await?)?;
        }
    }
    let missed = folder
        .summary
        .scale_out
        .as_ref()
        .is_some_and(|s| !s.missed.is_empty());
    folder.summary.complete = !ctx.cancelled() && !folder.summary.interrupted && !missed;
    folder.write()
}

/// Runs the grid's cells each in its slot on the shared clock; a cell reached after its slot
/// began is recorded as missed in the run's scale-out identity.
async fn run_on_clock(
    plan: &Plan,
    clock: &clock::Clock,
    ctx: &Context<'_>,
    folder: &mut RunFolder,
    progress: &mut Progress,
) -> Result<(), RunError> {
    let shard = clock.generator;
    for (cell, (offset, _)) in plan.cells.iter().zip(scale_out::slots(plan)) {
        if ctx.cancelled() {
            break;
        }
        let late_ms = match clock.reach(offset, &ctx.cancel).await {
            clock::Slot::Cancelled => break,
            clock::Slot::Missed { late } => {
                eprintln!(
                    "note: shard {shard} missed cell {}: its slot began {} ago; the other shards ran it",
                    cell.index,
                    humantime::format_duration(Duration::from_millis(late.as_millis() as u64))
                );
                if let Some(s) = folder.summary.scale_out.as_mut() {
                    s.missed.insert(cell.index, vec![shard.index]);
                }
                folder.summary.complete = false;
                folder.write()?;
                continue;
            }
            clock::Slot::Start { late_ms } => late_ms,
        };
        if let Some(s) = folder.summary.scale_out.as_mut() {
            s.clock_offset_ms.entry(shard.index).or_insert(late_ms);
        }
        folder.save(measure(cell, Phase::Grid, None, ctx, progress).await?)?;
    }
    Ok(())
}

/// Runs one cell, showing its progress, and summarises it.
async fn measure(
    cell: &Cell,
    phase: Phase,
    early_stop: Option<EarlyStop>,
    ctx: &Context<'_>,
    progress: &mut Progress,
) -> Result<CellSummary, RunError> {
    let live = Arc::new(LiveStats::default());
    progress.start_cell(cell, &live);
    let seed = ctx.profile.sweep.seed ^ cell.index as u64;
    let bodies = Arc::new(payload::build_level(
        &ctx.profile.payload.source,
        cell.payload_bytes,
        cell.payload_file.as_ref().map(|f| f.index),
        seed,
    )?);
    let endpoint = ctx.endpoints[&cell.deployment].clone();
    let generator = ctx.clock.map(|c| c.generator).unwrap_or_default();
    let local = generator.local_load(cell.load);
    if local == (Load::Closed { concurrency: 0 }) {
        eprintln!(
            "note: shard {generator} has no worker of cell {} ({}): it sends nothing in this cell",
            cell.index, cell.load
        );
    }
    let options = CellOptions {
        seed,
        early_stop,
        live,
        generator,
    };
    let poll_granularity = endpoint.poll_granularity();
    let mut result = engine::run_cell(cell, endpoint, bodies, &options, ctx.cancel.clone()).await;
    // A shard's record shows the load it applied; `merge` restores the cell's whole load.
    result.cell.load = local;
    let mut summary = CellSummary::from_result(&result);
    summary.phase = phase;
    summary.poll_granularity_ms = poll_granularity.map(|g| g.as_secs_f64() * 1000.0);
    progress.finish_cell(&summary);
    Ok(summary)
}

/// Stops a probe of `cell` once the SLA of its hosting option is clearly broken: the
/// percentile at twice the limit, or ten times the allowed error rate (at least 1 %), after
/// enough responses to tell.
fn early_stop_of(cell: &Cell, sla: &Sla) -> EarlyStop {
    let sla = crate::recommend::sla::for_hosting(sla, cell.deployment.hosting);
    EarlyStop {
        quantile: sla.percentile.fraction(),
        latency_ms: sla.latency_ms * 2.0,
        error_rate: (sla.max_error_rate * 10.0).max(0.01),
        ttft_ms: sla.ttft_ms.map(|l| l * 2.0),
        tpot_ms: sla.tpot_ms.map(|l| l * 2.0),
        // Streamed replies take 100 ms or more each: judge sooner.
        min_requests: if sla.has_token_limits() { 20 } else { 100 },
    }
}

/// The profile's SLA, or one every cell meets.
fn sla_or_none(profile: &Profile) -> Sla {
    profile.sla.unwrap_or(Sla {
        percentile: crate::domain::Quantile::P99,
        latency_ms: f64::INFINITY,
        max_error_rate: 1.0,
        ttft_ms: None,
        tpot_ms: None,
    })
}

/// Whether a probe met the SLA of its hosting option (a probe stopped early did not).
fn met(summary: &CellSummary, sla: &Sla) -> bool {
    let sla = crate::recommend::sla::for_hosting(sla, summary.deployment.hosting);
    crate::recommend::sla::check(summary, &sla).passed() && !summary.stopped_early
}

/// Measures one search probe, stopping early when its SLA is clearly broken.
async fn probe(
    cell: &Cell,
    sla: &Sla,
    ctx: &Context<'_>,
    progress: &mut Progress,
) -> Result<CellSummary, RunError> {
    let stop = early_stop_of(cell, sla);
    measure(cell, Phase::Search, Some(stop), ctx, progress).await
}
