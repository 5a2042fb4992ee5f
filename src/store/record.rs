//! `summary.json`, the typed run record: the profile as run, the plan, every cell with its
//! histograms, the searches and the evidence, and the recommendation. The runner writes it
//! (atomically, after every cell); `report`, `compare` and `merge` read it back with
//! [`read`], the one reader, which checks [`SCHEMA_VERSION`].

use crate::domain::{Deployment, FirstRequest, NotDeployed, Pruned, Unfit};
use crate::plan::Plan;
use crate::profile::Profile;
use crate::recommend::{PrunedCandidate, Recommendation};
use crate::results::CellSummary;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Version of the summary.json layout; bumped on incompatible changes.
/// 2: the profile, plan and recommendation are typed; variants are tagged.
pub const SCHEMA_VERSION: u32 = 2;

/// The whole summary.json document.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunRecord {
    /// Layout version: [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Tool name and version.
    pub tool: Tool,
    /// Profile path as given.
    pub profile_path: String,
    /// The validated profile, defaults filled in.
    pub profile: Profile,
    /// The cells and searches the run planned.
    pub plan: Plan,
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
    pub recommendation: Option<Recommendation>,
    /// What each SLA search found (search mode only).
    #[serde(default)]
    pub searches: Vec<SearchSummary>,
    /// The run's first request to each variant, timed.
    #[serde(default)]
    pub first_requests: Vec<FirstRequest>,
    /// Swept variants the model does not fit, skipped by the run.
    #[serde(default)]
    pub unfit: Vec<Unfit>,
    /// Candidates a provisioned run could not deploy (quota, capacity, a `Failed` endpoint).
    pub not_deployed: Vec<NotDeployed>,
    /// Scale-out: the generator shard that wrote this record, or the shards a merged record
    /// adds up; `None` for a run on one machine without `--start-at`.
    pub scale_out: Option<ScaleOut>,
}

/// A scaled-out run's identity: every shard of one run has the same `shards`, `start_at` and
/// `profile_hash`, and its own `shard`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScaleOut {
    /// Generator shards of the run (N).
    pub shards: u32,
    /// Which shard wrote this record (I, from 0); `None` in a merged record.
    pub shard: Option<u32>,
    /// The run's start instant (RFC 3339 UTC), from which every cell has its slot.
    pub start_at: String,
    /// Hash of the profile as run ([`profile_hash`]).
    pub profile_hash: String,
    /// Per shard: how late it began its first cell against that cell's slot on its own
    /// clock, ms (negative: early).
    pub clock_offset_ms: BTreeMap<u32, f64>,
    /// Cells skipped because the shard reached them after their slot had begun, with the
    /// shards that missed them.
    pub missed: BTreeMap<usize, Vec<u32>>,
}

/// A stable hash of the validated profile (FNV-1a 64 of its JSON form, in hex): shards of one
/// run hash the same.
pub fn profile_hash(profile: &Profile) -> String {
    let bytes = serde_json::to_vec(profile).unwrap_or_default();
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{hash:016x}")
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

impl RunRecord {
    /// A summary with no cells yet.
    pub fn start(
        profile: &Profile,
        profile_path: &str,
        plan: &Plan,
        started_at: String,
    ) -> RunRecord {
        RunRecord {
            schema_version: SCHEMA_VERSION,
            tool: Tool::current(),
            profile_path: profile_path.into(),
            profile: profile.clone(),
            plan: plan.clone(),
            environment: Environment::current(),
            ended_at: started_at.clone(),
            started_at,
            planned_cells: plan.cells.len(),
            complete: false,
            interrupted: false,
            cells: Vec::new(),
            recommendation: None,
            searches: Vec::new(),
            first_requests: Vec::new(),
            unfit: Vec::new(),
            not_deployed: Vec::new(),
            scale_out: None,
        }
    }
}

impl RunRecord {
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

/// Why a run record could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The file could not be read.
    #[error(
        "cannot read {path}: {source}; give a run folder written by `loadtest run`, or its summary.json"
    )]
    Read {
        /// The summary.json path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a run record of this tool.
    #[error("{path} is not a loadtest summary.json: {source}")]
    Parse {
        /// The summary.json path.
        path: PathBuf,
        /// Where and why parsing failed.
        source: serde_json::Error,
    },
    /// The file was written in another layout.
    #[error(
        "{path} has schema version {found} (written by loadtest {writer}); this loadtest reads version {expected}: read it with the loadtest that wrote it, or rerun the profile"
    )]
    Version {
        /// The summary.json path.
        path: PathBuf,
        /// The version in the file.
        found: u32,
        /// [`SCHEMA_VERSION`].
        expected: u32,
        /// The version of the tool that wrote it.
        writer: String,
    },
}

/// Reads a run record: `path` is a run folder or its summary.json. The schema version is
/// checked before the rest, so a record of another version says so rather than failing on
/// the first field that changed.
pub fn read(path: &Path) -> Result<RunRecord, RecordError> {
    let file = if path.is_dir() {
        path.join("summary.json")
    } else {
        path.to_path_buf()
    };
    let text = std::fs::read(&file).map_err(|source| RecordError::Read {
        path: file.clone(),
        source,
    })?;
    let parse_error = |source| RecordError::Parse {
        path: file.clone(),
        source,
    };
    let header: Header = serde_json::from_slice(&text).map_err(parse_error)?;
    if header.schema_version != SCHEMA_VERSION {
        return Err(RecordError::Version {
            path: file,
            found: header.schema_version,
            expected: SCHEMA_VERSION,
            writer: header.tool.map_or_else(|| "unknown".into(), |t| t.version),
        });
    }
    serde_json::from_slice(&text).map_err(parse_error)
}

/// Every leaf of a profile as it is stored: dotted path (`sweep.load.concurrency`) to its
/// JSON text (`[1,2,4]`; arrays are leaves). `compare` diffs two runs' profiles with it.
pub fn leaves(profile: &Profile) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Ok(value) = serde_json::to_value(profile) {
        flatten("", &value, &mut out);
    }
    out
}

fn flatten(path: &str, value: &serde_json::Value, out: &mut BTreeMap<String, String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, child) in map {
                let child_path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                flatten(&child_path, child, out);
            }
        }
        leaf => {
            out.insert(path.to_string(), leaf.to_string());
        }
    }
}

/// What every version of summary.json starts with.
#[derive(Deserialize)]
struct Header {
    schema_version: u32,
    tool: Option<Tool>,
}

#[cfg(test)]
impl RunRecord {
    /// A complete test run of `cells` under the profile `toml` (parsed as `profile_path`),
    /// on a fixed machine and date.
    pub(crate) fn for_tests(profile_path: &str, toml: &str, cells: Vec<CellSummary>) -> RunRecord {
        let profile = crate::profile::parse(toml, Path::new(profile_path))
            .unwrap_or_else(|e| panic!("test profile: {e}"));
        RunRecord {
            schema_version: SCHEMA_VERSION,
            tool: Tool::current(),
            profile_path: profile_path.into(),
            profile,
            plan: Plan {
                cells: Vec::new(),
                searches: Vec::new(),
            },
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
            not_deployed: Vec::new(),
            scale_out: None,
        }
    }
}
