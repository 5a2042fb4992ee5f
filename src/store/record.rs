//! `summary.json`: the run's profile, environment, times and every cell with its histograms,
//! so reports and comparisons can be made from the run folder alone.

use crate::domain::{Deployment, FirstRequest, Pruned, Unfit};
use crate::profile::Profile;
use crate::recommend::PrunedCandidate;
use crate::results::CellSummary;
use serde::{Deserialize, Serialize};

/// Version of the summary.json layout; bumped on incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

/// The whole summary.json document.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Summary {
    /// Layout version: [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Tool name and version.
    pub tool: Tool,
    /// Profile path as given.
    pub profile_path: String,
    /// The validated profile, defaults filled in.
    pub profile: serde_json::Value,
    /// Where the run happened.
    pub environment: Environment,
    /// RFC 3339 UTC start time.
    pub started_at: String,
    /// RFC 3339 UTC end time (of the last cell written).
    pub ended_at: String,
    /// Cells in the plan.
    pub planned_cells: usize,
    /// Whether every planned cell ran to its end.
    pub complete: bool,
    /// Whether Ctrl-C stopped the run.
    pub interrupted: bool,
    /// Every cell measured so far.
    pub cells: Vec<CellSummary>,
    /// The recommendation made from the cells, when the run made one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recommendation: Option<serde_json::Value>,
    /// What each SLA search found (search mode only).
    #[serde(default)]
    pub searches: Vec<SearchSummary>,
    /// The run's first request to each variant, timed.
    #[serde(default)]
    pub first_requests: Vec<FirstRequest>,
    /// Swept variants the model does not fit, skipped by the run.
    #[serde(default)]
    pub unfit: Vec<Unfit>,
}

/// The outcome of one SLA search.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchSummary {
    /// Hosting option and variant.
    pub deployment: Deployment,
    /// Request body size.
    pub payload_bytes: u64,
    /// The sustainable load level found.
    pub found: crate::plan::search::Found,
    /// Probes run.
    pub probes: u32,
    /// Seconds of load the search applied (warmup + measured, early stops included).
    pub load_seconds: f64,
    /// Why an adaptive sweep stopped probing this candidate before its answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pruned: Option<Pruned>,
}

/// Which tool wrote the file.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Tool {
    /// `loadtest`.
    pub name: String,
    /// Crate version.
    pub version: String,
}

impl Tool {
    /// This build.
    pub fn current() -> Tool {
        Tool {
            name: env!("CARGO_PKG_NAME").into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

/// The machine that generated the load.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Environment {
    /// Operating system.
    pub os: String,
    /// CPU architecture.
    pub arch: String,
    /// Logical CPUs available.
    pub cpus: usize,
}

impl Environment {
    /// This machine.
    pub fn current() -> Environment {
        Environment {
            os: std::env::consts::OS.into(),
            arch: std::env::consts::ARCH.into(),
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

impl Summary {
    /// A summary with no cells yet.
    pub fn start(
        profile: &Profile,
        profile_path: &str,
        planned_cells: usize,
        started_at: String,
    ) -> Summary {
        Summary {
            schema_version: SCHEMA_VERSION,
            tool: Tool::current(),
            profile_path: profile_path.into(),
            profile: serde_json::to_value(profile).unwrap_or(serde_json::Value::Null),
            environment: Environment::current(),
            ended_at: started_at.clone(),
            started_at,
            planned_cells,
            complete: false,
            interrupted: false,
            cells: Vec::new(),
            recommendation: None,
            searches: Vec::new(),
            first_requests: Vec::new(),
            unfit: Vec::new(),
        }
    }
}

impl Summary {
    /// The candidates the run's searches stopped probing, and why.
    pub fn pruned_candidates(&self) -> Vec<PrunedCandidate> {
        self.searches
            .iter()
            .filter_map(|s| {
                Some(PrunedCandidate {
                    hosting: s.deployment.hosting?,
                    variant: s.deployment.variant.clone()?,
                    payload_bytes: s.payload_bytes,
                    pruned: s.pruned.clone()?,
                })
            })
            .collect()
    }
}

/// Reads a summary.json.
pub fn read(input: impl std::io::Read) -> Result<Summary, serde_json::Error> {
    serde_json::from_reader(input)
}

#[cfg(test)]
impl Summary {
    /// A complete test run of `cells` under `profile`, on a fixed machine and date.
    pub(crate) fn for_tests(
        profile_path: &str,
        profile: serde_json::Value,
        cells: Vec<CellSummary>,
    ) -> Summary {
        Summary {
            schema_version: SCHEMA_VERSION,
            tool: Tool::current(),
            profile_path: profile_path.into(),
            profile,
            environment: Environment {
                os: "linux".into(),
                arch: "x86_64".into(),
                cpus: 2,
            },
            started_at: "2026-11-28T12:00:00Z".into(),
            ended_at: "2026-11-28T12:00:10Z".into(),
            planned_cells: cells.len(),
            complete: true,
            interrupted: false,
            cells,
            recommendation: None,
            searches: Vec::new(),
            first_requests: Vec::new(),
            unfit: Vec::new(),
        }
    }
}
