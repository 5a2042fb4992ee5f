//! Profile → Plan: the cells of the sweep, in the order they run.

use crate::hosting::Hosting;
use crate::payload::{self, PayloadError};
use crate::profile::{Arrivals, LoadSweep, Profile};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// What one cell runs against: a hosting option and instance type (or serverless size).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Variant {
    /// Hosting option, when the target has one.
    pub hosting: Option<Hosting>,
    /// Instance type, `serverless-<MB>`, or `None` for a plain HTTP target.
    pub instance: Option<String>,
}

impl Variant {
    /// Hosting label for tables and CSV: `-` when not given.
    pub fn hosting_label(&self) -> &str {
        self.hosting.map_or("-", Hosting::as_str)
    }

    /// Instance label for tables and CSV: `-` when not given.
    pub fn instance_label(&self) -> &str {
        self.instance.as_deref().unwrap_or("-")
    }
}

/// The load applied during one cell.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum Load {
    /// `concurrency` workers, each sending when its previous request ends.
    Closed {
        /// Number of workers.
        concurrency: u32,
    },
    /// Requests at scheduled times.
    Open {
        /// Requests per second.
        rate: f64,
        /// Spacing of arrivals.
        arrivals: Arrivals,
        /// Most requests in flight; later arrivals are dropped and counted.
        max_in_flight: u32,
    },
}

impl Load {
    /// `closed` or `open`, as in the CSV.
    pub fn mode(&self) -> &'static str {
        match self {
            Load::Closed { .. } => "closed",
            Load::Open { .. } => "open",
        }
    }

    /// The most requests this load can have in flight.
    pub fn max_in_flight(&self) -> u32 {
        match *self {
            Load::Closed { concurrency } => concurrency,
            Load::Open { max_in_flight, .. } => max_in_flight,
        }
    }
}

impl fmt::Display for Load {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Load::Closed { concurrency } => write!(f, "closed c={concurrency}"),
            Load::Open { rate, arrivals, .. } => write!(f, "open {rate} rps {arrivals}"),
        }
    }
}

/// One point of the sweep.
#[derive(Clone, Debug, Serialize)]
pub struct Cell {
    /// Position in the plan, from 0.
    pub index: usize,
    /// Hosting option and instance.
    pub variant: Variant,
    /// Request body size in bytes.
    pub payload_bytes: u64,
    /// Load applied.
    pub load: Load,
    /// Measured time.
    #[serde(with = "crate::profile::units::serde_duration")]
    pub duration: Duration,
    /// Unrecorded time before measuring.
    #[serde(with = "crate::profile::units::serde_duration")]
    pub warmup: Duration,
    /// Per-request timeout; also the longest drain at the end.
    #[serde(with = "crate::profile::units::serde_duration")]
    pub timeout: Duration,
}

/// Every cell of a run, in order.
#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    /// The cells.
    pub cells: Vec<Cell>,
}

impl Plan {
    /// Expands a profile: variants × payload sizes × load steps.
    pub fn from_profile(profile: &Profile) -> Result<Plan, PayloadError> {
        let sizes = payload::effective_sizes(&profile.payload.source, &profile.sweep.payload_sizes)?;
        let mut cells = Vec::new();
        for variant in variants(profile) {
            for &payload_bytes in &sizes {
                for load in loads(&profile.sweep.load) {
                    cells.push(Cell {
                        index: cells.len(),
                        variant: variant.clone(),
                        payload_bytes,
                        load,
                        duration: profile.sweep.duration,
                        warmup: profile.sweep.warmup,
                        timeout: profile.timeout,
                    });
                }
            }
        }
        Ok(Plan { cells })
    }

    /// Wall time the plan needs, not counting drains.
    pub fn estimated_duration(&self) -> Duration {
        self.cells.iter().map(|c| c.warmup + c.duration).sum()
    }

    /// The distinct variants, in plan order.
    pub fn variants(&self) -> Vec<Variant> {
        let mut out: Vec<Variant> = Vec::new();
        for c in &self.cells {
            if !out.contains(&c.variant) {
                out.push(c.variant.clone());
            }
        }
        out
    }
}

fn variants(profile: &Profile) -> Vec<Variant> {
    let sweep = &profile.sweep;
    let instances = |list: &[String]| -> Vec<Option<String>> {
        if list.is_empty() {
            vec![None]
        } else {
            list.iter().cloned().map(Some).collect()
        }
    };
    if sweep.hosting.is_empty() {
        return instances(&sweep.instance_types)
            .into_iter()
            .map(|instance| Variant { hosting: None, instance })
            .collect();
    }
    let mut out = Vec::new();
    for &hosting in &sweep.hosting {
        let names = match hosting {
            Hosting::Serverless => sweep
                .serverless_memory_mb
                .iter()
                .map(|mb| Some(format!("serverless-{mb}")))
                .collect(),
            _ => instances(&sweep.instance_types),
        };
        out.extend(names.into_iter().map(|instance| Variant {
            hosting: Some(hosting),
            instance,
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
    }
}
