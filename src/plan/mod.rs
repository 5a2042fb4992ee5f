//! Profile → Plan: the cells of the sweep, in the order they run, and the state machines
//! that choose cells as results come in ([`ladder`] for adaptive sweeps, [`search`] for
//! search mode).

pub mod ladder;
pub mod scale_out;
pub mod search;

use crate::domain::Load;
use crate::domain::{Deployment, Hosting, Variant};
use crate::payload::{self, PayloadError};
use crate::plan::search::Search;
use crate::profile::{LoadSweep, Profile, SearchSpace};
use serde::{Deserialize, Serialize};

use std::time::Duration;

/// One point of the sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    /// Position in the plan, from 0.
    pub index: usize,
    /// Hosting option and variant.
    pub deployment: Deployment,
    /// Request body size in bytes.
    pub payload_bytes: u64,
    /// The request file of a `files` payload level; none for sized payloads.
    pub payload_file: Option<PayloadFile>,
    /// Load applied.
    pub load: Load,
    /// Measured time.
    #[serde(with = "crate::domain::units::serde_duration")]
    pub duration: Duration,
    /// Unrecorded time before measuring.
    #[serde(with = "crate::domain::units::serde_duration")]
    pub warmup: Duration,
    /// Per-request timeout; also the longest drain at the end.
    #[serde(with = "crate::domain::units::serde_duration")]
    pub timeout: Duration,
    /// Which pass over the grid this cell belongs to, from 1 (`sweep.repeats`).
    pub repeat: u32,
}

/// One file of a `[payload] source = "files"` sweep: one payload level.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayloadFile {
    /// Its place in `[payload] paths`, from 0.
    pub index: usize,
    /// Its file name, which labels the level in results and reports.
    pub name: String,
}

/// Time allowed for a drain (in-flight requests answering after warmup or measurement,
/// and the cell's bookkeeping), at most the request timeout. Calibrated on the quickstart
/// (debug build, 2 shared cores): 32 cells of 1.75 s took 90 s of wall time against 56 s
/// of load and a 6 s serverless cold start, 0.89 s a cell, about 0.4 s per drain.
pub const DRAIN_ALLOWANCE: Duration = Duration::from_millis(400);

/// The drain allowance for requests of `timeout`.
pub fn drain_allowance(timeout: Duration) -> Duration {
    DRAIN_ALLOWANCE.min(timeout)
}

impl Cell {
    /// Wall time the cell takes: warmup, measurement, and a drain after each.
    pub fn estimated_duration(&self) -> Duration {
        let drains = if self.warmup.is_zero() { 1 } else { 2 };
        self.warmup + self.duration + drains * drain_allowance(self.timeout)
    }

    /// The payload level as printed: the size, after the file's name for a `files` level.
    pub fn payload_label(&self) -> String {
        let size = crate::domain::units::format_size(self.payload_bytes);
        match &self.payload_file {
            Some(file) => format!("{} {size}", file.name),
            None => size,
        }
    }
}

/// One SLA search: the load levels of one variant and payload size are probed in turn.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchTask {
    /// Hosting option and variant.
    pub deployment: Deployment,
    /// Request body size in bytes.
    pub payload_bytes: u64,
    /// The request file of a `files` payload level; none for sized payloads.
    pub payload_file: Option<PayloadFile>,
    /// The levels that may be probed.
    pub space: SearchSpace,
    /// Longest measured time per probe (a clearly failing probe stops sooner).
    #[serde(with = "crate::domain::units::serde_duration")]
    pub duration: Duration,
    /// Unrecorded time before each probe.
    #[serde(with = "crate::domain::units::serde_duration")]
    pub warmup: Duration,
    /// Per-request timeout.
    #[serde(with = "crate::domain::units::serde_duration")]
    pub timeout: Duration,
}

impl SearchTask {
    /// The cell that probes `level` (a rate, or a concurrency).
    pub fn probe(&self, index: usize, level: f64) -> Cell {
        let load = match self.space {
            SearchSpace::Rate {
                arrivals,
                max_in_flight,
                ..
            } => Load::Open {
                rate: level,
                arrivals,
                max_in_flight,
            },
            SearchSpace::Concurrency { .. } => Load::Closed {
                concurrency: level.round().max(1.0) as u32,
            },
        };
        Cell {
            index,
            deployment: self.deployment.clone(),
            payload_bytes: self.payload_bytes,
            payload_file: self.payload_file.clone(),
            load,
            duration: self.duration,
            warmup: self.warmup,
            timeout: self.timeout,
            repeat: 1,
        }
    }

    /// A fresh search over this task's levels.
    pub fn search(&self) -> Search {
        match self.space {
            SearchSpace::Rate { min, max, .. } => Search::new(min, max, false),
            SearchSpace::Concurrency { min, max } => {
                Search::new(f64::from(min), f64::from(max), true)
            }
        }
    }

    /// Probes a search needs at most: the top, ramp doublings, bisections to the tolerance.
    pub fn max_probes(&self) -> u32 {
        let (min, max) = match self.space {
            SearchSpace::Rate { min, max, .. } => (min, max),
            SearchSpace::Concurrency { min, max } => (f64::from(min), f64::from(max)),
        };
        let ramp = (max / min).log2().ceil().max(0.0) as u32 + 1;
        let bisect = (1.0 / crate::plan::search::BRACKET_TOLERANCE).log2().ceil() as u32;
        1 + ramp + bisect
    }
}

/// Every cell of a run, in order, or the searches that will choose their cells.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The cells of a grid sweep.
    pub cells: Vec<Cell>,
    /// The searches of a search sweep (then `cells` is empty).
    pub searches: Vec<SearchTask>,
}

impl Plan {
    /// Expands a profile: variants × payload sizes × load steps.
    pub fn from_profile(profile: &Profile) -> Result<Plan, PayloadError> {
        let sizes =
            payload::effective_sizes(&profile.payload.source, &profile.sweep.payload_sizes)?;
        let mut cells = Vec::new();
        let mut searches = Vec::new();
        for deployment in deployments(profile) {
            for (level, &payload_bytes) in sizes.iter().enumerate() {
                let payload_file = payload::file_label(&profile.payload.source, level)
                    .map(|name| PayloadFile { index: level, name });
                if let LoadSweep::Search { space } = profile.sweep.load {
                    searches.push(SearchTask {
                        deployment: deployment.clone(),
                        payload_bytes,
                        payload_file: payload_file.clone(),
                        space,
                        duration: profile.sweep.duration,
                        warmup: profile.sweep.warmup,
                        timeout: profile.timeout,
                    });
                }
                for load in loads(&profile.sweep.load) {
                    cells.push(Cell {
                        index: cells.len(),
                        deployment: deployment.clone(),
                        payload_bytes,
                        payload_file: payload_file.clone(),
                        load,
                        duration: profile.sweep.duration,
                        warmup: profile.sweep.warmup,
                        timeout: profile.timeout,
                        repeat: 1,
                    });
                }
            }
        }
        let pass = cells.clone();
        for repeat in 2..=profile.sweep.repeats {
            for cell in &pass {
                cells.push(Cell {
                    index: cells.len(),
                    repeat,
                    ..cell.clone()
                });
            }
        }
        Ok(Plan { cells, searches })
    }

    /// Wall time the plan takes: each cell's warmup, measurement and the two drains after
    /// them ([`DRAIN_ALLOWANCE`] each, at most the timeout); searches: every probe at full
    /// length, though clearly failing probes stop sooner. Start-up (deploying, cold starts)
    /// is the caller's to add.
    pub fn estimated_duration(&self) -> Duration {
        let grid: Duration = self.cells.iter().map(Cell::estimated_duration).sum();
        let search: Duration = self
            .searches
            .iter()
            .map(|s| (s.warmup + s.duration + 2 * drain_allowance(s.timeout)) * s.max_probes())
            .sum();
        grid + search
    }

    /// The most requests any cell or probe may have in flight: the connection pool's size.
    pub fn max_in_flight(&self) -> u32 {
        let grid = self.cells.iter().map(|c| c.load.max_in_flight());
        let search = self.searches.iter().map(|s| match s.space {
            SearchSpace::Rate { max_in_flight, .. } => max_in_flight,
            SearchSpace::Concurrency { max, .. } => max,
        });
        grid.chain(search).max().unwrap_or(1)
    }

    /// Load-seconds the plan applies at most: measured plus warmup time of every cell.
    pub fn load_seconds(&self) -> f64 {
        let grid: Duration = self.cells.iter().map(|c| c.warmup + c.duration).sum();
        let search: Duration = self
            .searches
            .iter()
            .map(|s| (s.warmup + s.duration) * s.max_probes())
            .sum();
        (grid + search).as_secs_f64()
    }

    /// The plan without the cells and searches of `skipped` deployments.
    pub fn without(mut self, skipped: &[Deployment]) -> Plan {
        self.cells.retain(|c| !skipped.contains(&c.deployment));
        self.searches.retain(|s| !skipped.contains(&s.deployment));
        for (index, cell) in self.cells.iter_mut().enumerate() {
            cell.index = index;
        }
        self
    }

    /// The distinct deployments, in plan order.
    pub fn deployments(&self) -> Vec<Deployment> {
        let mut out: Vec<Deployment> = Vec::new();
        let all = self
            .cells
            .iter()
            .map(|c| &c.deployment)
            .chain(self.searches.iter().map(|s| &s.deployment));
        for v in all {
            if !out.contains(v) {
                out.push(v.clone());
            }
        }
        out
    }
}

fn deployments(profile: &Profile) -> Vec<Deployment> {
    let sweep = &profile.sweep;
    let instances = || -> Vec<Option<Variant>> {
        if sweep.instance_types.is_empty() {
            vec![None]
        } else {
            sweep
                .instance_types
                .iter()
                .map(|t| Some(Variant::instance(t.as_str())))
                .collect()
        }
    };
    if sweep.hosting.is_empty() {
        return instances()
            .into_iter()
            .map(|variant| Deployment {
                hosting: None,
                variant,
            })
            .collect();
    }
    let mut out = Vec::new();
    for &hosting in &sweep.hosting {
        let variants = match hosting {
            Hosting::Serverless => sweep
                .serverless_memory_mb
                .iter()
                .map(|&memory_mb| Some(Variant::Serverless { memory_mb }))
                .collect(),
            _ => instances(),
        };
        out.extend(variants.into_iter().map(|variant| Deployment {
            hosting: Some(hosting),
            variant,
        }));
    }
    out
}

fn loads(sweep: &LoadSweep) -> Vec<Load> {
    match sweep {
        LoadSweep::Closed { concurrency } => concurrency
            .iter()
            .map(|&concurrency| Load::Closed { concurrency })
            .collect(),
        LoadSweep::Open {
            rates,
            arrivals,
            max_in_flight,
        } => rates
            .iter()
            .map(|&rate| Load::Open {
                rate,
                arrivals: *arrivals,
                max_in_flight: *max_in_flight,
            })
            .collect(),
        LoadSweep::Search { .. } => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_estimate_counts_warmups_measurements_and_drains() {
        let profile = crate::profile::parse(
            r#"
name = "estimate"
[target]
kind = "http"
url = "http://127.0.0.1:9/invocations"
timeout = "10s"
[sweep]
payload_sizes = ["1KiB", "16KiB"]
load = { mode = "closed", concurrency = [1, 4] }
duration = "1500ms"
warmup = "250ms"
"#,
            std::path::Path::new("p.toml"),
        )
        .unwrap();
        let plan = Plan::from_profile(&profile).unwrap();
        // 4 cells × (0.25 + 1.5 + 2 drains × 0.4) s = 4 × 2.55 = 10.2 s; load alone 7 s.
        assert_eq!(plan.estimated_duration(), Duration::from_millis(10_200));
        assert!((plan.load_seconds() - 7.0).abs() < 1e-9);
        // A drain never waits longer than the timeout; no warmup, one drain.
        let mut cell = plan.cells[0].clone();
        (cell.warmup, cell.timeout) = (Duration::ZERO, Duration::from_millis(100));
        assert_eq!(cell.estimated_duration(), Duration::from_millis(1600));
    }
}
