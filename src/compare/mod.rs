//! Baseline vs current: match the cells of two runs, judge each metric with a threshold and a
//! statistical test, and report better / same / worse / missing (`loadtest compare`, and
//! `loadtest run --baseline`).
//!
//! - [`matching`]: which runs are comparable, which cells match;
//! - [`stats`]: Mann–Whitney U, two-proportion z-test, bootstrap interval;
//! - [`judge`]: the verdict rules; [`tokens`]: TTFT, TPOT and ITL of streamed cells;
//! - [`crate::domain::thresholds`]: `[regression]` in profiles and `--threshold` overrides;
//! - [`render`]: the printed table, `compare.md` and `compare-junit.xml`.

pub mod judge;
pub mod matching;
pub mod render;
pub mod stats;
pub mod tokens;

pub use judge::{Row, Verdict};

use crate::domain::thresholds::{ThresholdError, Thresholds};
pub use crate::report::verdict::Baseline;

use crate::store::files::write_atomic;
use crate::store::record::{self, RunRecord};
use std::io::Write;
use std::path::{Path, PathBuf};

/// File name of the Markdown comparison written to the output folder.
pub const MARKDOWN_FILE: &str = "compare.md";
/// File name of the JUnit comparison written to the output folder.
pub const JUNIT_FILE: &str = "compare-junit.xml";

/// Why two runs could not be compared (every variant is a usage error: exit 2).
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    /// A run folder or summary.json could not be read, or is of another version.
    #[error(transparent)]
    Record(#[from] crate::store::record::RecordError),
    /// The runs measured different things.
    #[error(
        "the runs cannot be compared; they differ in:\n  {}\nCompare runs of the same profile grid (the emulated model, seeds and target address may differ).",
        .differences.join("\n  ")
    )]
    Incompatible {
        /// Each difference, naming what differs and both values.
        differences: Vec<String>,
    },
    /// A `--threshold` could not be read.
    #[error(transparent)]
    Threshold(#[from] ThresholdError),
    /// The runs share no cell.
    #[error(
        "no cell of the current run matches a cell of the baseline; compare runs of the same profile"
    )]
    NothingInCommon,
    /// compare.md, compare-junit.xml or a baseline copy could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// The whole comparison of two runs.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// Where the baseline came from.
    pub baseline: String,
    /// Where the current run came from.
    pub current: String,
    /// The thresholds applied.
    pub thresholds: Thresholds,
    /// Differences between the runs that did not prevent comparing.
    pub warnings: Vec<String>,
    /// One row per metric per cell (then per recommendation candidate).
    pub rows: Vec<Row>,
    /// Cells measured whole in both runs: judged.
    pub comparable_cells: usize,
}

impl Comparison {
    /// Whether any metric got worse.
    pub fn regressed(&self) -> bool {
        self.rows.iter().any(|r| r.verdict == Verdict::Worse)
    }

    /// Rows with this verdict.
    pub fn count(&self, verdict: Verdict) -> usize {
        self.rows.iter().filter(|r| r.verdict == verdict).count()
    }

    /// Regressed, or not; or nothing to judge when every shared cell is partial in a run.
    pub fn outcome(&self) -> Baseline {
        if self.regressed() {
            Baseline::Regressed
        } else if self.comparable_cells == 0 {
            Baseline::NothingComparable
        } else {
            Baseline::NoRegression
        }
    }
}

/// Judges `current` against `baseline` (pure: no files).
pub fn compare(
    baseline: &RunRecord,
    current: &RunRecord,
    thresholds: Thresholds,
) -> Result<Comparison, CompareError> {
    let compat = matching::compatibility(baseline, current);
    if !compat.errors.is_empty() {
        return Err(CompareError::Incompatible {
            differences: compat.errors,
        });
    }
    let mut warnings = compat.warnings;
    let pairs = matching::pair(&baseline.cells, &current.cells);
    if !pairs
        .iter()
        .any(|p| !p.baseline.is_empty() && !p.current.is_empty())
    {
        return Err(CompareError::NothingInCommon);
    }
    let (mut rows, comparable_cells) = whole_cell_rows(pairs, &thresholds);
    let interrupted = baseline.interrupted || current.interrupted;
    match (&baseline.recommendation, &current.recommendation) {
        _ if interrupted => warnings.push(
            "sustainable rate and cost not compared: a run was interrupted, so its recommendation rests on part of the grid".into(),
        ),
        (Some(b), Some(c)) => rows.extend(judge::recommendation_rows(b, c, &thresholds)),
        (None, None) => {}
        (b, c) => warnings.push(format!(
            "sustainable rate and cost not compared: recommendation {} in the baseline, {} in the current run",
            presence(b.is_some()),
            presence(c.is_some())
        )),
    }
    Ok(Comparison {
        baseline: String::new(),
        current: String::new(),
        thresholds,
        warnings,
        rows,
        comparable_cells,
    })
}

/// Rows of every pair, partial (interrupted) cells left out and listed as `interrupted`;
/// and how many cells were whole in both runs.
fn whole_cell_rows(pairs: Vec<matching::Pair<'_>>, thresholds: &Thresholds) -> (Vec<Row>, usize) {
    let mut rows = Vec::new();
    let mut comparable = 0;
    for mut p in pairs {
        let partial = |cells: &[&crate::results::CellSummary]| cells.iter().any(|c| c.interrupted);
        let (b_partial, c_partial) = (partial(&p.baseline), partial(&p.current));
        p.baseline.retain(|c| !c.interrupted);
        p.current.retain(|c| !c.interrupted);
        let side = match (p.baseline.is_empty(), p.current.is_empty()) {
            (true, _) if b_partial => Some("baseline"),
            (_, true) if c_partial => Some("current run"),
            _ => None,
        };
        match side {
            Some(side) => rows.extend(judge::interrupted_rows(&p.key.label(), side)),
            None => {
                comparable += usize::from(!p.baseline.is_empty() && !p.current.is_empty());
                rows.extend(judge::cell_rows(&p, thresholds));
                rows.extend(tokens::token_rows(&p, thresholds));
            }
        }
    }
    (rows, comparable)
}

fn presence(present: bool) -> &'static str {
    if present { "present" } else { "absent" }
}

/// Reads a run folder's summary.json, or the given summary.json, and where it was.
pub fn read_summary(path: &Path) -> Result<(RunRecord, PathBuf), CompareError> {
    let summary = record::read(path)?;
    let file = if path.is_dir() {
        path.join("summary.json")
    } else {
        path.to_path_buf()
    };
    Ok((summary, file))
}

/// Compares two runs (folders or summary.json files), prints the table, writes compare.md and
/// compare-junit.xml to `out` (default: the current run's folder), and returns the outcome
/// (which compare-junit.xml's failures agree with).
///
/// Thresholds: the current run's `[regression]` (else the baseline's, else the defaults),
/// then `overrides` (`METRIC=LIMIT`) in order.
pub fn compare_runs(
    baseline: &Path,
    current: &Path,
    overrides: &[String],
    out: Option<&Path>,
) -> Result<Baseline, CompareError> {
    Thresholds::default().with_overrides(overrides)?;
    let (base, _) = read_summary(baseline)?;
    let (cur, cur_file) = read_summary(current)?;
    let from_profile = cur
        .profile
        .regression
        .or(base.profile.regression)
        .unwrap_or_default();
    let thresholds = from_profile.with_overrides(overrides)?;
    let mut comparison = compare(&base, &cur, thresholds)?;
    comparison.baseline = baseline.display().to_string();
    comparison.current = current.display().to_string();
    let out_dir = match out {
        Some(dir) => dir.to_path_buf(),
        None => cur_file.parent().map(Path::to_path_buf).unwrap_or_default(),
    };
    let written = write_reports(&comparison, &out_dir)?;
    print(&comparison, &written);
    Ok(comparison.outcome())
}

/// Writes compare.md and compare-junit.xml into `dir`; returns their paths.
pub fn write_reports(comparison: &Comparison, dir: &Path) -> Result<Vec<PathBuf>, CompareError> {
    std::fs::create_dir_all(dir).map_err(|source| CompareError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let md = dir.join(MARKDOWN_FILE);
    write_atomic(&md, |w| render::markdown(comparison, w)).map_err(|source| {
        CompareError::Write {
            path: md.clone(),
            source,
        }
    })?;
    let junit = dir.join(JUNIT_FILE);
    write_atomic(&junit, |w| render::junit(comparison, w)).map_err(|source| {
        CompareError::Write {
            path: junit.clone(),
            source,
        }
    })?;
    Ok(vec![md, junit])
}

/// Warnings to stderr; the table and the verdict to stdout (a closed stdout is not an error).
fn print(comparison: &Comparison, written: &[PathBuf]) {
    for w in &comparison.warnings {
        eprintln!("warning: {w}");
    }
    let mut stdout = std::io::stdout().lock();
    let result = render::table(comparison, &mut stdout).and_then(|()| {
        let files: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
        writeln!(stdout, "Written: {}", files.join(", "))
    });
    if let Err(e) = result
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("warning: cannot print the comparison: {e}");
    }
}

/// Files of a run folder that belong to a comparison, not to the run: not copied to baselines.
const NOT_BASELINE: [&str; 2] = [MARKDOWN_FILE, JUNIT_FILE];

/// Copies `run_dir` to `<report_dir>/baseline-<name>/`, replacing an older copy: the copy is
/// made in a hidden sibling, then renamed into place, so a reader sees the old or the new
/// baseline whole, never a half-copied one. Returns the baseline folder.
pub fn save_baseline(
    run_dir: &Path,
    report_dir: &Path,
    name: &str,
) -> Result<PathBuf, CompareError> {
    read_summary(run_dir)?;
    let target = report_dir.join(format!("baseline-{name}"));
    let write_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| CompareError::Write { path, source }
    };
    if same_dir(run_dir, &target) {
        return Ok(target);
    }
    std::fs::create_dir_all(report_dir).map_err(write_err(report_dir))?;
    let tmp = report_dir.join(format!(".baseline-{name}.tmp-{}", std::process::id()));
    let old = report_dir.join(format!(".baseline-{name}.old-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    copy_dir(run_dir, &tmp).map_err(write_err(&tmp))?;
    let had_old = target.exists();
    if had_old {
        std::fs::rename(&target, &old).map_err(write_err(&target))?;
    }
    if let Err(source) = std::fs::rename(&tmp, &target) {
        if had_old {
            let _ = std::fs::rename(&old, &target);
        }
        return Err(CompareError::Write {
            path: target,
            source,
        });
    }
    if had_old {
        let _ = std::fs::remove_dir_all(&old);
    }
    Ok(target)
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if NOT_BASELINE.iter().any(|n| name == *n) {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        if entry.file_type()?.is_dir() {
            copy_dir(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
