//! Which runs can be compared, and which cells match.
//!
//! Cells match on (hosting, instance type, payload size, load level). Two runs are
//! *comparable* when everything that shapes their cells is equal: the tool (name, and version
//! within semver compatibility), the summary layout, the target kind, the sweep grid (every
//! `sweep` key but `seed`, `strategy` and `repeats`), the payload, the timeout and the SLA. Their canonical JSON is
//! hashed into the *comparability hash* printed with any mismatch. Everything else — the
//! emulated `[model]` (the system under test), target address and headers, faults, seeds,
//! traffic, prices, name, and the machine — may differ and is reported as a warning.

use crate::results::CellSummary;
use crate::store::record::{RunRecord, leaves};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The identity of a cell across runs.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct CellKey {
    /// Hosting label (`-` when none).
    pub hosting: String,
    /// Instance label (`-` when none).
    pub instance: String,
    /// Request body size.
    pub payload_bytes: u64,
    /// The payload file of a `source = "files"` level.
    pub payload_file: Option<String>,
    /// The load, as displayed (`closed c=4`, `open 50 rps poisson`).
    pub load: String,
}

impl CellKey {
    /// The key of a measured cell.
    pub fn of(cell: &CellSummary) -> CellKey {
        CellKey {
            hosting: cell.deployment.hosting_label().to_string(),
            instance: cell.deployment.variant_label(),
            payload_bytes: cell.payload_bytes,
            payload_file: cell.payload_file.clone(),
            load: cell.load.to_string(),
        }
    }

    /// `real-time ml.c5.xlarge 1KiB closed c=4`.
    pub fn label(&self) -> String {
        let size = crate::domain::units::format_size(self.payload_bytes);
        match &self.payload_file {
            Some(file) => format!(
                "{} {} {file} {size} {}",
                self.hosting, self.instance, self.load
            ),
            None => format!("{} {} {size} {}", self.hosting, self.instance, self.load),
        }
    }
}

/// A summary's cells by key; cells measured more than once (repeats) are kept together.
pub fn group(cells: &[CellSummary]) -> BTreeMap<CellKey, Vec<&CellSummary>> {
    let mut out: BTreeMap<CellKey, Vec<&CellSummary>> = BTreeMap::new();
    for cell in cells {
        out.entry(CellKey::of(cell)).or_default().push(cell);
    }
    out
}

/// One key of the union of two runs' cells, with what each side measured.
pub struct Pair<'a> {
    /// The cell.
    pub key: CellKey,
    /// Baseline measurements (empty when the baseline lacks the cell).
    pub baseline: Vec<&'a CellSummary>,
    /// Current measurements (empty when the current run lacks the cell).
    pub current: Vec<&'a CellSummary>,
}

/// Every cell of either run, in key order.
pub fn pair<'a>(baseline: &'a [CellSummary], current: &'a [CellSummary]) -> Vec<Pair<'a>> {
    let mut base = group(baseline);
    let mut cur = group(current);
    let mut keys: Vec<CellKey> = base.keys().chain(cur.keys()).cloned().collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .map(|key| Pair {
            baseline: base.remove(&key).unwrap_or_default(),
            current: cur.remove(&key).unwrap_or_default(),
            key,
        })
        .collect()
}

/// Profile keys that must be equal for cells to be comparable (dotted paths).
const COMPARABLE_KEYS: [&str; 5] = ["target.kind", "sweep", "payload", "timeout", "sla"];

/// Profile keys ignored inside [`COMPARABLE_KEYS`] subtrees: they do not shape a cell.
/// (`strategy` and `repeats` choose which cells run and how often; matching cells still
/// compare, repeats pooled.)
const IGNORED_KEYS: [&str; 3] = ["sweep.seed", "sweep.strategy", "sweep.repeats"];

/// What two runs' comparison found about their compatibility.
#[derive(Debug, Default, PartialEq)]
pub struct Compatibility {
    /// Differences that make cells incomparable (non-empty = usage error).
    pub errors: Vec<String>,
    /// Differences worth knowing that do not prevent comparing.
    pub warnings: Vec<String>,
}

/// Checks whether `current` can be judged against `baseline`.
pub fn compatibility(baseline: &RunRecord, current: &RunRecord) -> Compatibility {
    let mut out = Compatibility::default();
    if baseline.schema_version != current.schema_version {
        out.errors.push(format!(
            "summary.json schema version {} vs {}",
            baseline.schema_version, current.schema_version
        ));
    }
    check_tool(baseline, current, &mut out);
    let (lb, lc) = (leaves(&baseline.profile), leaves(&current.profile));
    let (hb, hc) = (comparable_hash(&lb), comparable_hash(&lc));
    let mut hard = Vec::new();
    let mut soft = Vec::new();
    diff(&lb, &lc, &mut |path, b, c| {
        let line = format!("{path}: {} vs {}", short(b), short(c));
        if is_comparable_key(path) {
            hard.push(line)
        } else {
            soft.push(line)
        }
    });
    if hb != hc || !hard.is_empty() {
        out.errors
            .push(format!("profile hash {hb:016x} vs {hc:016x}"));
        out.errors.extend(hard);
    }
    out.warnings
        .extend(soft.into_iter().map(|s| format!("profile differs: {s}")));
    check_environment(baseline, current, &mut out);
    for (side, s) in [("baseline", baseline), ("current", current)] {
        if !s.complete {
            out.warnings.push(format!(
                "the {side} run is incomplete: {} of {} cells{}",
                s.cells.len(),
                s.planned_cells,
                if s.interrupted { " (interrupted)" } else { "" }
            ));
        }
    }
    out
}

fn check_tool(baseline: &RunRecord, current: &RunRecord, out: &mut Compatibility) {
    let (b, c) = (&baseline.tool, &current.tool);
    if b.name != c.name {
        out.errors.push(format!("tool {} vs {}", b.name, c.name));
    } else if semver_line(&b.version) != semver_line(&c.version) {
        out.errors.push(format!(
            "tool version {} vs {} (measurements may differ between release lines)",
            b.version, c.version
        ));
    } else if b.version != c.version {
        out.warnings
            .push(format!("tool version {} vs {}", b.version, c.version));
    }
}

/// The compatible release line: `1` for 1.4.2, `0.3` for 0.3.1.
fn semver_line(version: &str) -> String {
    let mut parts = version.split('.');
    let major = parts.next().unwrap_or("");
    match major {
        "0" => format!("0.{}", parts.next().unwrap_or("")),
        _ => major.to_string(),
    }
}

fn check_environment(baseline: &RunRecord, current: &RunRecord, out: &mut Compatibility) {
    let (b, c) = (&baseline.environment, &current.environment);
    if (b.os.as_str(), b.arch.as_str(), b.cpus) != (c.os.as_str(), c.arch.as_str(), c.cpus) {
        out.warnings.push(format!(
            "load generated on different machines: {}/{} {} CPUs vs {}/{} {} CPUs",
            b.os, b.arch, b.cpus, c.os, c.arch, c.cpus
        ));
    }
}

fn is_comparable_key(path: &str) -> bool {
    let under = |k: &str| {
        path == k || path.starts_with(&format!("{k}.")) || path.starts_with(&format!("{k}["))
    };
    COMPARABLE_KEYS.iter().any(|k| under(k)) && !IGNORED_KEYS.iter().any(|k| under(k))
}

/// FNV-1a of the comparable leaves of a profile (dotted path = value, in path order).
pub fn comparable_hash(leaves: &BTreeMap<String, String>) -> u64 {
    let mut text = String::new();
    for (path, value) in leaves.iter().filter(|(p, _)| is_comparable_key(p)) {
        let _ = writeln!(text, "{path}={value}");
    }
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Calls `found(path, baseline, current)` for every leaf that differs (`null` when absent).
fn diff(
    b: &BTreeMap<String, String>,
    c: &BTreeMap<String, String>,
    found: &mut dyn FnMut(&str, &str, &str),
) {
    let null = "null".to_string();
    let mut paths: Vec<&String> = b.keys().chain(c.keys()).collect();
    paths.sort();
    paths.dedup();
    for path in paths {
        let (vb, vc) = (b.get(path).unwrap_or(&null), c.get(path).unwrap_or(&null));
        if vb != vc {
            found(path, vb, vc);
        }
    }
}

fn short(text: &str) -> String {
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparable_keys_cover_subtrees_but_not_seeds_or_models() {
        assert!(is_comparable_key("sweep.load.concurrency"));
        assert!(is_comparable_key("target.kind"));
        assert!(is_comparable_key("sla"));
        assert!(!is_comparable_key("sweep.seed"));
        assert!(!is_comparable_key("sweep.strategy"));
        assert!(!is_comparable_key("sweep.repeats"));
        assert!(!is_comparable_key("target.model.base_ms"));
        assert!(!is_comparable_key("traffic.peak_rps"));
        assert!(!is_comparable_key("sweepstake"));
    }

    fn leaves_of(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(p, v)| (p.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn hash_ignores_seed_model_strategy_and_repeats() {
        let a = leaves_of(&[
            ("target.kind", "\"emulator\""),
            ("target.model.base_ms", "1"),
            ("sweep.seed", "1"),
            ("sweep.load.concurrency", "[4]"),
        ]);
        let mut b = a.clone();
        b.insert("target.model.base_ms".into(), "2".into());
        b.insert("sweep.seed".into(), "9".into());
        b.insert("sweep.repeats".into(), "3".into());
        b.insert("sweep.strategy".into(), "\"adaptive\"".into());
        assert_eq!(comparable_hash(&a), comparable_hash(&b));
        let mut c = a.clone();
        c.insert("target.kind".into(), "\"http\"".into());
        assert_ne!(comparable_hash(&a), comparable_hash(&c));
    }

    #[test]
    fn diff_names_leaf_paths() {
        let mut found = Vec::new();
        diff(
            &leaves_of(&[("a.b", "[1]"), ("a.c", "2")]),
            &leaves_of(&[("a.b", "[2]"), ("a.c", "2"), ("a.d", "1")]),
            &mut |p, _, _| found.push(p.to_string()),
        );
        assert_eq!(found, ["a.b", "a.d"]);
        assert_eq!(semver_line("0.3.1"), "0.3");
        assert_eq!(semver_line("1.4.2"), "1");
    }
}
