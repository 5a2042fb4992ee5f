//! What every reporter reads off a [`RunRecord`]: the profile's facts and SLA, cell labels,
//! per-cell file names and the decoded histograms. Reading only: nothing here computes stats.

use crate::domain::units::format_size;
use crate::domain::{Load, Sla};
use crate::recommend::sla::SlaFailure;
use crate::results::CellSummary;
use crate::results::histogram::{self, HistogramError};
use crate::store::record::RunRecord;
use hdrhistogram::Histogram;

/// `real-time ml.c5.xlarge`: names a series of cells that differ only in load.
pub fn variant_label(c: &CellSummary) -> String {
    let d = &c.deployment;
    match (d.hosting, &d.variant) {
        (None, None) => "target".to_string(),
        _ => format!("{} {}", d.hosting_label(), d.variant_label()),
    }
}

/// `#3 real-time ml.c5.xlarge 1KiB closed c=8`.
pub fn cell_label(c: &CellSummary) -> String {
    format!(
        "#{} {} {} {}",
        c.index,
        variant_label(c),
        c.payload_label(),
        c.load
    )
}

/// The load level as a number for ordering a series: concurrency or rate.
pub fn load_level(load: &Load) -> f64 {
    match *load {
        Load::Closed { concurrency } => f64::from(concurrency),
        Load::Open { rate, .. } => rate,
    }
}

/// `cell-03-real-time-ml.c5.xlarge-1KiB-closed-c8`: file stem of a cell's own files.
///
/// The index is zero-padded to the width of the largest index so files sort in plan order;
/// parts a cell does not have (hosting, instance on a plain HTTP target) are left out.
pub fn cell_file_stem(c: &CellSummary, index_width: usize) -> String {
    let load = match c.load {
        Load::Closed { concurrency } => format!("closed-c{concurrency}"),
        Load::Open { rate, .. } => format!("open-{rate}rps"),
    };
    let mut parts = vec![format!("cell-{:0index_width$}", c.index)];
    parts.extend(c.deployment.hosting.map(|h| h.as_str().to_string()));
    parts.extend(c.deployment.variant.as_ref().map(ToString::to_string));
    parts.push(format_size(c.payload_bytes));
    parts.push(load);
    parts
        .join("-")
        .chars()
        .map(|ch| {
            if ch.is_ascii_alphanumeric() || ".-_".contains(ch) {
                ch
            } else {
                '-'
            }
        })
        .collect()
}

/// Digits of the largest cell index, for [`cell_file_stem`].
pub fn index_width(summary: &RunRecord) -> usize {
    let largest = summary.cells.iter().map(|c| c.index).max().unwrap_or(0);
    largest
        .max(summary.planned_cells.saturating_sub(1))
        .to_string()
        .len()
}

/// The cell's response-time histogram (µs).
pub fn response_histogram(c: &CellSummary) -> Result<Histogram<u64>, HistogramError> {
    histogram::decode(&c.histogram)
}

/// Microseconds as milliseconds.
pub fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// Flags a reader must not miss: drops, late sends, cancellations, a broken invariant.
pub fn notes(c: &CellSummary) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(ms) = c.poll_granularity_ms {
        notes.push(format!(
            "latency to the output object, seen ≤ {ms:.0} ms late (polled)"
        ));
    }
    if c.dropped > 0 {
        notes.push(format!("{} dropped (generator-bound)", c.dropped));
    }
    if !c.generator_bound_shards.is_empty() {
        let shards: Vec<String> = c
            .generator_bound_shards
            .iter()
            .map(u32::to_string)
            .collect();
        notes.push(format!("generator-bound on shards {}", shards.join(", ")));
    }
    if c.saturated {
        notes.push("saturated: load exceeds capacity".into());
    }
    if c.late > 0 {
        notes.push(format!("{} sent late", c.late));
    }
    if c.late_ok > 0 {
        notes.push(format!("{} answered after the window", c.late_ok));
    }
    if let Some(why) = &c.littles_law {
        notes.push(why.clone());
    }
    if c.cold_starts > 0 {
        notes.push(format!("{} cold starts", c.cold_starts));
    }
    if c.retries + c.warmup_retries + c.probe_retries > 0 {
        notes.push(format!(
            "{} retries (warmup {}, probe {})",
            c.retries, c.warmup_retries, c.probe_retries
        ));
    }
    if c.cancelled > 0 {
        notes.push(format!("{} cancelled", c.cancelled));
    }
    if !c.accounting_ok {
        notes.push("accounting mismatch".into());
    }
    if c.interrupted {
        notes.push("interrupted".into());
    }
    notes
}

/// The note of a cell whose every request failed, shown in bold by every reporter.
pub const ALL_FAILED: &str = "every request failed";

/// A cell's notes on one line, each escaped by `escape`; a cell whose every request failed
/// says so first, marked by `strong` (the HTML and Markdown reports' notes column).
pub fn notes_line(
    c: &CellSummary,
    escape: impl Fn(&str) -> String,
    strong: impl Fn(&str) -> String,
) -> String {
    let notes = escape(&notes(c).join("; "));
    match (c.all_failed(), notes.is_empty()) {
        (true, true) => strong(ALL_FAILED),
        (true, false) => format!("{}; {notes}", strong(ALL_FAILED)),
        (false, _) => notes,
    }
}

/// What one error class of a cell said, as the reports show it.
#[derive(Clone, Debug, PartialEq)]
pub struct ErrorLine {
    /// `http_4xx`.
    pub kind: String,
    /// Failures of the class.
    pub count: u64,
    /// `HTTP 422 ×100, HTTP 415 ×20`; empty when the failures had no answer.
    pub statuses: String,
    /// The first distinct messages (answer excerpts), as stored.
    pub messages: Vec<String>,
}

/// The error classes of a cell with their statuses and first messages, most frequent first.
pub fn error_lines(c: &CellSummary) -> Vec<ErrorLine> {
    let mut lines: Vec<ErrorLine> = c
        .errors_by_kind
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(kind, n)| {
            let detail = c.error_details.get(kind);
            let statuses = detail.map_or_else(String::new, |d| {
                d.statuses
                    .iter()
                    .map(|(s, n)| format!("HTTP {s} ×{n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            });
            ErrorLine {
                kind: kind.to_string(),
                count: *n,
                statuses,
                messages: detail.map(|d| d.messages.clone()).unwrap_or_default(),
            }
        })
        .collect();
    lines.sort_by_key(|l| std::cmp::Reverse(l.count));
    lines
}

/// One pass/fail check of a cell, as JUnit and the tables show it.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    /// `p99 latency`, `error rate`, `accounting`.
    pub name: String,
    /// What was measured, with units.
    pub measured: String,
    /// What was allowed, with units.
    pub allowed: String,
    /// Whether the measured value is within the allowed one.
    pub passed: bool,
}

/// The SLA checks of a cell — the SLA percentile's latency, and the error rate — as
/// [`crate::recommend::sla::check`] judges them (a generator-bound cell fails its latency check).
pub fn sla_checks(sla: &Sla, c: &CellSummary) -> [Check; 2] {
    let verdict = crate::recommend::sla::check(c, sla);
    let (latency_failures, error_failures): (Vec<&SlaFailure>, Vec<&SlaFailure>) = verdict
        .failures
        .iter()
        .partition(|f| !matches!(f, SlaFailure::ErrorsOverLimit { .. }));
    let mut measured = match verdict.latency_ms {
        Some(ms) => format!("{ms} ms"),
        None => "no latency".into(),
    };
    for f in &latency_failures {
        if !matches!(f, SlaFailure::LatencyOverLimit { .. }) {
            measured.push_str(&format!("; {f}"));
        }
    }
    if verdict.low_confidence() {
        measured.push_str(&format!(
            " (low confidence: {} of the {} samples {} needs)",
            verdict.samples, verdict.min_samples, sla.percentile
        ));
    }
    [
        Check {
            name: format!("{} latency", sla.percentile),
            measured,
            allowed: format!("{} ms", sla.latency_ms),
            passed: latency_failures.is_empty(),
        },
        Check {
            name: "error rate".into(),
            measured: format!(
                "{:.4}% ({} of {})",
                c.error_rate * 100.0,
                c.errors,
                c.requests
            ),
            allowed: format!("{:.4}%", sla.max_error_rate * 100.0),
            passed: error_failures.is_empty(),
        },
    ]
}

/// The accounting invariant of a cell: sent = ok + errors + cancelled.
pub fn accounting_check(c: &CellSummary) -> Check {
    Check {
        name: "accounting".into(),
        measured: format!(
            "sent {} vs ok {} + errors {} + cancelled {}",
            c.requests, c.ok, c.errors, c.cancelled
        ),
        allowed: "sent = ok + errors + cancelled".into(),
        passed: c.accounting_ok,
    }
}

/// The run's facts shown at the top of every report: where, what, when, how complete.
pub fn facts(summary: &RunRecord, sla: Option<&Sla>) -> Vec<(&'static str, String)> {
    let env = &summary.environment;
    let state = match (summary.complete, summary.interrupted) {
        (true, _) => "complete",
        (false, true) => "interrupted (Ctrl-C)",
        (false, false) => "incomplete",
    };
    vec![
        ("Profile", summary.profile_path.clone()),
        ("Target", summary.profile.target.kind().to_string()),
        (
            "SLA",
            sla.map_or_else(|| "none given".to_string(), Sla::describe),
        ),
        ("Started", summary.started_at.clone()),
        ("Ended", summary.ended_at.clone()),
        (
            "Cells",
            format!(
                "{} of {} planned, {state}",
                summary.cells.len(),
                summary.planned_cells
            ),
        ),
        (
            "Load generator",
            format!("{} {}, {} CPUs", env.os, env.arch, env.cpus),
        ),
        (
            "Tool",
            format!("{} {}", summary.tool.name, summary.tool.version),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Hosting;

    fn cell(index: usize, load: Load) -> CellSummary {
        let mut c = crate::report::test_support::cell(index, 4, 5.0, 0);
        c.load = load;
        c
    }

    #[test]
    fn file_stems_sort_and_are_safe() {
        let mut c = cell(3, Load::Closed { concurrency: 8 });
        assert_eq!(
            cell_file_stem(&c, 2),
            "cell-03-real-time-ml.c5.xlarge-1KiB-closed-c8"
        );
        c.deployment.hosting = None;
        c.deployment.variant = Some(crate::domain::Variant::instance("a b/c"));
        assert_eq!(cell_file_stem(&c, 1), "cell-3-a-b-c-1KiB-closed-c8");
        c.deployment.hosting = Some(Hosting::Serverless);
        c.deployment.variant = None;
        c.load = Load::Open {
            rate: 12.5,
            arrivals: crate::domain::Arrivals::Constant,
            max_in_flight: 10,
        };
        assert_eq!(cell_file_stem(&c, 1), "cell-3-serverless-1KiB-open-12.5rps");
    }

    #[test]
    fn sla_is_read_from_the_profile() {
        let s = crate::report::test_support::summary(true);
        let sla = s.profile.sla.unwrap();
        assert_eq!(sla.percentile, crate::domain::Quantile::P99);
        assert_eq!(sla.describe(), "p99 ≤ 50 ms, errors ≤ 1%");
        assert!(
            crate::report::test_support::summary(false)
                .profile
                .sla
                .is_none()
        );
    }

    #[test]
    fn an_async_cell_shows_its_poll_granularity_beside_the_latency() {
        let mut c = cell(0, Load::Closed { concurrency: 2 });
        assert!(notes(&c).iter().all(|n| !n.contains("polled")));
        c.poll_granularity_ms = Some(200.0);
        assert_eq!(
            notes(&c)[0],
            "latency to the output object, seen ≤ 200 ms late (polled)"
        );
    }

    #[test]
    fn generator_bound_shards_are_named_in_the_notes() {
        let mut c = cell(0, Load::Closed { concurrency: 4 });
        assert!(!notes(&c).iter().any(|n| n.contains("shards")));
        c.generator_bound_shards = vec![0, 2];
        assert!(notes(&c).contains(&"generator-bound on shards 0, 2".to_string()));
    }
}
