//! Verdicts: for each matched cell and metric, the baseline and current figures, the change,
//! the test that says whether it is noise, and better / same / worse / missing.
//!
//! Rules (also printed in compare.md):
//! - p50, p99, throughput: the change is that of the run-level figure (the whole histogram,
//!   the whole window). The samples are the per-second values of *whole* seconds (a final
//!   partial second is dropped), pooled over repeats of a cell. With at least
//!   [`MIN_SAMPLES`] per side, a Mann–Whitney U test decides whether the shift is real:
//!   *worse* = past the threshold in the bad direction AND p < [`ALPHA`] with the per-second
//!   medians moving the same way; *better* likewise the other way; else *same*. A 99 %
//!   bootstrap interval of the change of per-second medians is shown alongside.
//!   With fewer samples the verdict is marked `low confidence` and needs twice the threshold.
//! - error rate: absolute difference past the threshold AND a two-proportion z-test p < ALPHA.
//! - TTFT, TPOT and ITL at p50 and p99 of streamed cells: as p50 and p99, from the token
//!   histograms and the per-second token series (the `tokens` module).
//! - sustainable rate and cost (from the stored recommendation, when both runs have one):
//!   single figures, judged on the threshold alone and marked so.

use super::matching::Pair;
use super::stats;
use crate::domain::thresholds::{Metric, Thresholds, Worse};
use crate::recommend::{Candidate, Recommendation};
use crate::results::{CellSummary, SecondStats};
use std::collections::BTreeMap;
use std::fmt;

/// Significance level: a difference is real only when p is below it.
pub const ALPHA: f64 = 0.01;

/// Per-second samples a side needs for the rank test (n = m = 5 can reach p < 0.01 exactly).
pub const MIN_SAMPLES: usize = 5;

/// Margin multiplier on the threshold when there are too few samples to test.
pub const LOW_CONFIDENCE_MARGIN: f64 = 2.0;

/// How one metric of one cell came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    /// Got better beyond the threshold, and not by chance.
    Better,
    /// Within the threshold, or not distinguishable from noise.
    Same,
    /// Got worse beyond the threshold, and not by chance: a regression.
    Worse,
    /// Measured in only one of the runs.
    Missing,
    /// Measured whole in at most one run: partial (cut short by Ctrl-C) in the other, so
    /// left out.
    Interrupted,
}

impl Verdict {
    /// `better`, `same`, `worse`, `missing`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Better => "better",
            Verdict::Same => "same",
            Verdict::Worse => "worse",
            Verdict::Missing => "missing",
            Verdict::Interrupted => "interrupted",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One line of the comparison: a metric of a cell (or of a recommendation candidate).
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The cell (`real-time ml.c5.xlarge 1KiB closed c=4`) or candidate label.
    pub cell: String,
    /// The metric.
    pub metric: Metric,
    /// Baseline figure (ms, req/s, fraction or USD), when measured.
    pub baseline: Option<f64>,
    /// Current figure, when measured.
    pub current: Option<f64>,
    /// Relative change (fraction of the baseline), or the absolute difference for error rate.
    pub change: Option<f64>,
    /// The verdict.
    pub verdict: Verdict,
    /// Which test decided, with its p-value or interval, or why none did.
    pub evidence: String,
    /// Too few samples to test: judged on a wider margin.
    pub low_confidence: bool,
}

/// Judges one pair of cells on p50, p99, throughput and error rate.
pub fn cell_rows(pair: &Pair<'_>, thresholds: &Thresholds) -> Vec<Row> {
    let label = pair.key.label();
    let metrics = [
        Metric::P50,
        Metric::P99,
        Metric::Throughput,
        Metric::ErrorRate,
    ];
    if pair.baseline.is_empty() || pair.current.is_empty() {
        let side = if pair.current.is_empty() {
            "not measured in the current run"
        } else {
            "not in the baseline"
        };
        return metrics.iter().map(|&m| missing(&label, m, side)).collect();
    }
    let (b, c) = (Side(&pair.baseline), Side(&pair.current));
    let seed = fnv(&label);
    vec![
        series_row(
            &label,
            Metric::P50,
            thresholds,
            (b.latency(0.5), c.latency(0.5)),
            (b.series(|s| s.p50_ms), c.series(|s| s.p50_ms)),
            seed,
        ),
        series_row(
            &label,
            Metric::P99,
            thresholds,
            (b.latency(0.99), c.latency(0.99)),
            (b.series(|s| s.p99_ms), c.series(|s| s.p99_ms)),
            seed ^ 1,
        ),
        series_row(
            &label,
            Metric::Throughput,
            thresholds,
            (Some(b.throughput()), Some(c.throughput())),
            (
                b.series(|s| Some(s.throughput_rps)),
                c.series(|s| Some(s.throughput_rps)),
            ),
            seed ^ 2,
        ),
        error_row(&label, thresholds, &b, &c),
    ]
}

/// Rows for a cell left out because it is partial (interrupted) on `side`.
pub fn interrupted_rows(label: &str, side: &str) -> Vec<Row> {
    [
        Metric::P50,
        Metric::P99,
        Metric::Throughput,
        Metric::ErrorRate,
    ]
    .iter()
    .map(|&m| Row {
        verdict: Verdict::Interrupted,
        ..missing(
            label,
            m,
            &format!("partial (interrupted) in the {side}: left out"),
        )
    })
    .collect()
}

/// A row for a metric measured on one side only.
pub(super) fn missing(label: &str, metric: Metric, why: &str) -> Row {
    Row {
        cell: label.to_string(),
        metric,
        baseline: None,
        current: None,
        change: None,
        verdict: Verdict::Missing,
        evidence: why.to_string(),
        low_confidence: false,
    }
}

/// The measurements of one side of a cell (several when the cell was repeated).
struct Side<'a>(&'a [&'a CellSummary]);

impl Side<'_> {
    /// Per-second values of whole seconds, pooled over repeats.
    fn series(&self, f: impl Fn(&SecondStats) -> Option<f64>) -> Vec<f64> {
        self.0
            .iter()
            .flat_map(|c| {
                let whole = c.duration_s.floor() as u32;
                c.series.iter().filter(move |s| s.second < whole)
            })
            .filter_map(f)
            .collect()
    }

    /// A latency quantile of the merged histograms, ms.
    fn latency(&self, q: f64) -> Option<f64> {
        let texts = self.0.iter().map(|cell| cell.histogram.as_str());
        crate::results::histogram::merged_quantile_ms(texts, q)
    }

    fn throughput(&self) -> f64 {
        let ok: u64 = self.0.iter().map(|c| c.ok).sum();
        let secs: f64 = self.0.iter().map(|c| c.duration_s).sum();
        if secs > 0.0 { ok as f64 / secs } else { 0.0 }
    }

    fn errors(&self) -> (u64, u64) {
        (
            self.0.iter().map(|c| c.errors).sum(),
            self.0.iter().map(|c| c.requests).sum(),
        )
    }
}

/// The relative change of `cur` from `base`.
fn relative(base: f64, cur: f64) -> f64 {
    if base == 0.0 {
        return if cur == 0.0 {
            0.0
        } else {
            f64::INFINITY.copysign(cur)
        };
    }
    cur / base - 1.0
}

/// How far in the bad direction a change is (negative = better).
fn badness(metric: Metric, change: f64) -> f64 {
    match metric.worse() {
        Worse::Up => change,
        Worse::Down => -change,
    }
}

/// A metric judged on its run-level figures and per-second samples.
pub(super) fn series_row(
    label: &str,
    metric: Metric,
    t: &Thresholds,
    figures: (Option<f64>, Option<f64>),
    samples: (Vec<f64>, Vec<f64>),
    seed: u64,
) -> Row {
    let (base, cur) = figures;
    let mut row = Row {
        cell: label.to_string(),
        metric,
        baseline: base,
        current: cur,
        change: None,
        verdict: Verdict::Same,
        evidence: String::new(),
        low_confidence: false,
    };
    let (Some(b), Some(c)) = (base, cur) else {
        row.evidence = "no successful requests on one side: see throughput and error rate".into();
        return row;
    };
    let change = relative(b, c);
    row.change = Some(change);
    let bad = badness(metric, change);
    let limit = t.get(metric);
    let (sb, sc) = samples;
    if sb.len() < MIN_SAMPLES || sc.len() < MIN_SAMPLES {
        row.low_confidence = true;
        row.evidence = format!(
            "too few per-second samples ({} vs {}, need {MIN_SAMPLES}): threshold ×{LOW_CONFIDENCE_MARGIN} only",
            sb.len(),
            sc.len()
        );
        row.verdict = by_threshold(bad, limit * LOW_CONFIDENCE_MARGIN);
        return row;
    }
    let Some(test) = stats::mann_whitney(&sc, &sb) else {
        return row;
    };
    let shift = badness(
        metric,
        stats::median(&sc).unwrap_or(0.0) - stats::median(&sb).unwrap_or(0.0),
    );
    let significant = test.p < ALPHA;
    row.verdict = match by_threshold(bad, limit) {
        Verdict::Worse if significant && shift > 0.0 => Verdict::Worse,
        Verdict::Better if significant && shift < 0.0 => Verdict::Better,
        _ => Verdict::Same,
    };
    row.evidence = format!(
        "Mann–Whitney U={} p={} ({}, {} vs {} s){}",
        test.u,
        format_p(test.p),
        if test.exact {
            "exact"
        } else {
            "normal approx."
        },
        sb.len(),
        sc.len(),
        interval(&sb, &sc, seed)
    );
    row
}

fn interval(base: &[f64], cur: &[f64], seed: u64) -> String {
    let level = 1.0 - ALPHA;
    match stats::bootstrap_change(base, cur, level, seed) {
        Some((lo, hi)) => format!(
            "; {:.0}% CI of median change [{}, {}]",
            level * 100.0,
            pct(lo),
            pct(hi)
        ),
        None => String::new(),
    }
}

/// Worse past `limit`, better past `-limit`, else same.
fn by_threshold(bad: f64, limit: f64) -> Verdict {
    if bad > limit {
        Verdict::Worse
    } else if bad < -limit {
        Verdict::Better
    } else {
        Verdict::Same
    }
}

fn error_row(label: &str, t: &Thresholds, b: &Side<'_>, c: &Side<'_>) -> Row {
    let ((eb, nb), (ec, nc)) = (b.errors(), c.errors());
    let rate = |e: u64, n: u64| if n == 0 { 0.0 } else { e as f64 / n as f64 };
    let (rb, rc) = (rate(eb, nb), rate(ec, nc));
    let diff = rc - rb;
    let p = stats::two_proportion_p(eb, nb, ec, nc);
    let verdict = match by_threshold(diff, t.error_rate) {
        v @ (Verdict::Worse | Verdict::Better) if p < ALPHA => v,
        _ => Verdict::Same,
    };
    Row {
        cell: label.to_string(),
        metric: Metric::ErrorRate,
        baseline: Some(rb),
        current: Some(rc),
        change: Some(diff),
        verdict,
        evidence: format!(
            "two-proportion z-test p={} ({eb}/{nb} vs {ec}/{nc} failed)",
            format_p(p)
        ),
        low_confidence: false,
    }
}

/// Sustainable rate and cost per candidate, and the cost of the recommended choice.
pub fn recommendation_rows(
    base: &Recommendation,
    cur: &Recommendation,
    t: &Thresholds,
) -> Vec<Row> {
    let key = |c: &Candidate| {
        (
            c.hosting_label().to_string(),
            c.variant_label(),
            c.payload_bytes,
        )
    };
    let mut union: BTreeMap<_, (Option<&Candidate>, Option<&Candidate>)> = BTreeMap::new();
    for c in &base.candidates {
        union.entry(key(c)).or_default().0 = Some(c);
    }
    for c in &cur.candidates {
        union.entry(key(c)).or_default().1 = Some(c);
    }
    let mut rows = Vec::new();
    for (b, c) in union.values() {
        let label = b.or(*c).map(Candidate::label).unwrap_or_default();
        let (Some(b), Some(c)) = (b, c) else {
            let why = if c.is_none() {
                "not a candidate in the current run"
            } else {
                "not a candidate in the baseline"
            };
            rows.push(missing(&label, Metric::SustainableRate, why));
            continue;
        };
        let rate = |x: &Candidate| Some(x.operating.as_ref().map_or(0.0, |o| o.per_instance_rps));
        let cost = |x: &Candidate| x.cost.as_ref().map(|k| k.per_million.value());
        rows.push(single_row(
            &label,
            Metric::SustainableRate,
            t,
            rate(b),
            rate(c),
        ));
        if !(b.unpriced() && c.unpriced()) {
            rows.push(single_row(&label, Metric::Cost, t, cost(b), cost(c)));
        }
    }
    if let (Some(b), Some(c)) = (chosen(base), chosen(cur))
        && !(b.unpriced() && c.unpriced())
    {
        let label = match (b.label(), c.label()) {
            (lb, lc) if lb == lc => format!("recommended: {lb}"),
            (lb, lc) => format!("recommended: {lb} → {lc}"),
        };
        let cost = |x: &Candidate| x.cost.as_ref().map(|k| k.per_million.value());
        rows.push(single_row(&label, Metric::Cost, t, cost(b), cost(c)));
    }
    rows
}

fn single_row(
    label: &str,
    metric: Metric,
    t: &Thresholds,
    base: Option<f64>,
    cur: Option<f64>,
) -> Row {
    let (verdict, change) = match (base, cur) {
        (Some(b), Some(c)) => {
            let change = relative(b, c);
            (
                by_threshold(badness(metric, change), t.get(metric)),
                Some(change),
            )
        }
        _ => (Verdict::Missing, None),
    };
    Row {
        cell: label.to_string(),
        metric,
        baseline: base,
        current: cur,
        change,
        verdict,
        evidence: "single figure: threshold only, no test".into(),
        low_confidence: false,
    }
}

/// `+12.3%`.
pub fn pct(fraction: f64) -> String {
    format!("{:+.1}%", fraction * 100.0)
}

/// A p-value with enough digits to read near [`ALPHA`].
pub fn format_p(p: f64) -> String {
    if p < 1e-4 {
        format!("{p:.1e}")
    } else {
        format!("{p:.4}")
    }
}

/// The FNV-1a hash of a label: the seed of its bootstrap intervals.
pub(super) fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn chosen(r: &Recommendation) -> Option<&Candidate> {
    r.choice.and_then(|i| r.candidates.get(i))
}
